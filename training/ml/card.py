"""A model card: plain facts about one version in, a card dict out, rendered as Markdown or HTML.

No Django and no MLflow here: the service (``training.services.cards``) gathers the facts
(slices, features, the holdout evaluation, drift, decisions) and this module shapes and
renders them. Every string that reaches the HTML goes through ``html.escape``: reasons and
trigger labels come from users and the API.

``holdout_evaluation`` is the one expensive step (game-level bootstrap intervals and the
calibration per shot family); its result is plain JSON, stored with the card, so a refresh
after a promotion decision re-renders without predicting the holdout again.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from training.ml.bootstrap import score_interval
from training.ml.evaluate import expected_calibration_error
from training.ml.features import LABEL_COLUMN, shot_families

CARD_SCHEMA = 1
CONFIDENCE = 0.95
RESAMPLES = 1000
METRICS = (("log_loss", "Log loss", "lower is better"), ("brier", "Brier score", "lower is better"),
           ("roc_auc", "ROC AUC", "higher is better"), ("accuracy", "Accuracy", "at p >= 0.5"))  # fmt: skip
# The model's own families (training.ml.features.FAMILIES[1:]) and the 2PT/3PT split.
RANGE_FAMILIES = ("close 2PT (< 10 ft)", "mid-range 2PT", "3PT")
POOR_ECE = 0.05  # a family whose calibration error is above this is named in the known limits
SMALL_HOLDOUT_GAMES = 30
SMALL_FAMILY_SHOTS = 200
WIDE_INTERVAL = {"log_loss": 0.05, "brier": 0.02, "roc_auc": 0.08, "accuracy": 0.08}


# --- the one expensive step ----------------------------------------------------------------------


def _family_row(group: str, family: str, y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    return {"group": group, "family": family, "shots": len(y),
            "predicted": round(float(p.mean()), 4), "observed": round(float(y.mean()), 4),
            "ece": round(expected_calibration_error(y_true=y, proba=p), 4)}  # fmt: skip


def calibration_by_family(*, frame: pd.DataFrame, proba: Any) -> list[dict[str, Any]]:
    """Mean predicted vs observed make rate and ECE per shot type (2PT/3PT) and per range family."""
    y = frame[LABEL_COLUMN].to_numpy(dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    rows = []
    shot_type = frame["shot_type"].astype(str).to_numpy()
    for kind in ("2PT", "3PT"):
        chosen = shot_type == kind
        if chosen.any():
            rows.append(_family_row("shot type", kind, y[chosen], p[chosen]))
    families = shot_families(shot_type=frame["shot_type"].to_numpy(), distance_ft=frame["distance_ft"].to_numpy())
    for index, name in enumerate(RANGE_FAMILIES):
        chosen = families == index
        if chosen.any():
            rows.append(_family_row("range", name, y[chosen], p[chosen]))
    return rows


def holdout_evaluation(*, frame: pd.DataFrame, proba: Any, resamples: int = RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Scores with game-level bootstrap intervals and calibration by family, on one holdout (plain JSON)."""
    y = frame[LABEL_COLUMN].to_numpy(dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    if len(y) != len(p):
        raise ValueError(f"{len(y)} holdout shots but {len(p)} probabilities")
    games = frame["game_id"].astype(str).to_numpy()
    dates = pd.to_datetime(frame["game_date"]) if len(frame) else None
    scores = []
    for metric, _label, _note in METRICS:
        interval = score_interval(metric=metric, y_true=y, proba=p, game_ids=games, confidence=CONFIDENCE,
                                  resamples=resamples, seed=seed)
        scores.append({"metric": metric, "estimate": _finite(interval.estimate), "low": _finite(interval.low),
                       "high": _finite(interval.high), "resamples": interval.resamples})
    return {
        "rows": len(y), "games": len(np.unique(games)), "confidence": CONFIDENCE,
        "first_date": str(dates.min().date()) if dates is not None else None,
        "last_date": str(dates.max().date()) if dates is not None else None,
        "made_rate": _finite(float(y.mean())) if len(y) else None,
        "scores": scores, "calibration": calibration_by_family(frame=frame, proba=p) if len(y) else [],
    }  # fmt: skip


def _finite(value: float) -> float | None:
    return round(float(value), 5) if value is not None and math.isfinite(value) else None


# --- the card --------------------------------------------------------------------------------------


def known_limits(*, slices: Sequence[Mapping[str, Any]], seasons: Sequence[str], evaluation: Mapping[str, Any] | None,
                 walkforward: Mapping[str, Any] | None, drift: Mapping[str, Any] | None) -> list[str]:
    """What the card's own numbers say the model cannot claim (each limit is derived from a fact above it)."""
    limits = []
    if seasons:
        limits.append(f"Trained and scored on seasons {', '.join(seasons)} only: other seasons (rule or style "
                      "changes, other leagues) are not covered by these numbers.")
    else:
        limits.append("The seasons behind the training data were not recorded.")
    if evaluation is None:
        limits.append("No holdout evaluation with intervals: the scores above cannot be given an uncertainty.")
    else:
        games = int(evaluation.get("games") or 0)
        if games < SMALL_HOLDOUT_GAMES:
            limits.append(f"Small holdout: {games} games, so the intervals are wide and a small difference between "
                          "versions means little.")
        for score in evaluation.get("scores") or []:
            low, high, width = score.get("low"), score.get("high"), WIDE_INTERVAL.get(score.get("metric", ""))
            if low is not None and high is not None and width is not None and high - low > width:
                limits.append(f"The {_metric_label(score['metric'])} interval is wide ({low:.3f} to {high:.3f}).")
        for row in evaluation.get("calibration") or []:
            if row.get("ece") is not None and row["ece"] > POOR_ECE:
                limits.append(f"Calibration is poor on {row['family']} shots (ECE {row['ece']:.3f}: predicted "
                              f"{row['predicted']:.1%} vs observed {row['observed']:.1%}).")
            elif row.get("shots", 0) < SMALL_FAMILY_SHOTS:
                limits.append(f"Few {row['family']} shots in the holdout ({row['shots']}): their calibration is "
                              "uncertain.")
    if not walkforward:
        limits.append("No walk-forward evaluation: stability over successive periods has not been measured.")
    if drift and drift.get("dataset_drift"):
        columns = ", ".join(drift.get("drifted_columns") or []) or "several inputs"
        limits.append(f"The data had drifted from the previous champion's training data ({columns}).")
    limits.append("Probabilities describe shots like those in the warehouse (synthetic or imported play-by-play); "
                  "they are not betting advice and carry no guarantee on other data.")
    return list(dict.fromkeys(limits))  # 3PT is a family in both groupings: say it once


def _metric_label(metric: str) -> str:
    return next((label for key, label, _ in METRICS if key == metric), metric)


def card_build(
    *,
    version: int,
    algorithm: str,
    generated_at: dt.datetime,
    run_id: str = "",
    source: str = "",
    fingerprint: str = "",
    slices: Sequence[Mapping[str, Any]] = (),
    seasons: Sequence[str] = (),
    features: Sequence[str] = (),
    stored_scores: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    walkforward: Mapping[str, Any] | None = None,
    drift: Mapping[str, Any] | None = None,
    promotions: Sequence[Mapping[str, Any]] = (),
    is_champion: bool = False,
) -> dict[str, Any]:
    """The card as plain JSON: every section present, ``None`` or empty when its facts are missing."""
    firsts = [s["first_date"] for s in slices if s.get("first_date")]
    lasts = [s["last_date"] for s in slices if s.get("last_date")]
    return {
        "schema": CARD_SCHEMA,
        "version": int(version),
        "algorithm": algorithm,
        "is_champion": bool(is_champion),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "run_id": run_id,
        "data": {"source": source, "fingerprint": fingerprint, "seasons": list(seasons),
                 "window": [min(firsts), max(lasts)] if firsts and lasts else None,
                 "slices": [dict(s) for s in slices]},
        "features": list(features),
        "stored_scores": {k: v for k, v in (stored_scores or {}).items() if isinstance(v, (int, float))},
        "holdout": dict(evaluation) if evaluation else None,
        "walkforward": dict(walkforward) if walkforward else None,
        "drift": dict(drift) if drift else None,
        "promotions": [dict(p) for p in promotions],
        "limits": known_limits(slices=slices, seasons=seasons, evaluation=evaluation, walkforward=walkforward,
                               drift=drift),
    }  # fmt: skip


# --- renderings ------------------------------------------------------------------------------------


def _num(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and math.isfinite(value) else "—"


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) and math.isfinite(value) else "—"


def _int(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "—"


def _decision_outcome(p: Mapping[str, Any]) -> str:
    if p.get("role") == "replaced":
        return f"replaced as champion by v{p.get('other_version')}" if p.get("promoted") else (
            f"kept as champion against v{p.get('other_version')}")
    if p.get("promoted"):
        return "promoted" + (f" over v{p['other_version']}" if p.get("other_version") else " (first champion)")
    return "not promoted" + (f" (v{p['other_version']} stayed champion)" if p.get("other_version") else "")


def _gain(p: Mapping[str, Any]) -> str:
    if p.get("gain_low") is None or p.get("gain_high") is None:
        return ""
    confidence = p.get("confidence")
    level = f"{confidence:.0%} " if isinstance(confidence, (int, float)) else ""
    return f"gain {level}interval {_num(p['gain_low'])} to {_num(p['gain_high'])}"


def _walkforward_lines(walkforward: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of a walk-forward summary, whatever its exact shape (numbers and short text)."""
    lines = []
    for key, value in walkforward.items():
        if isinstance(value, (bool, str)):
            lines.append((key.replace("_", " "), str(value)))
        elif isinstance(value, (int, float)):
            lines.append((key.replace("_", " "), _num(value) if isinstance(value, float) else _int(value)))
        elif isinstance(value, Sequence):
            lines.append((key.replace("_", " "), f"{len(value)} entries"))
    return lines


def card_sections(card: Mapping[str, Any]) -> dict[str, Any]:
    """Rows for both renderings (and the portal page): every number formatted once, here."""
    data = card["data"]
    holdout = card.get("holdout")
    scores = []
    if holdout:
        for score in holdout.get("scores") or []:
            label = _metric_label(score["metric"])
            note = next((n for k, _, n in METRICS if k == score["metric"]), "")
            scores.append({"label": label, "note": note, "estimate": _num(score.get("estimate")),
                           "interval": f"{_num(score.get('low'))} to {_num(score.get('high'))}"})
    decisions = [{
        "when": str(p.get("when", ""))[:16].replace("T", " "), "kind": p.get("kind", ""),
        "outcome": _decision_outcome(p), "reason": p.get("reason", ""), "by": p.get("triggered_by", ""),
        "scores": (f"{p['metric']}: {_num(p.get('challenger_score'))}"
                   + (f" vs {_num(p.get('champion_score'))}" if p.get("champion_score") is not None else "")
                   if p.get("metric") else ""),
        "gain": _gain(p),
    } for p in card.get("promotions") or []]  # fmt: skip
    drift = card.get("drift")
    return {
        "title": f"Model card: v{card['version']} ({card['algorithm']})",
        "window": " to ".join(data["window"]) if data.get("window") else "not recorded",
        "slices": [{"name": s.get("name", ""), "rows": _int(s.get("rows")),
                    "dates": f"{s.get('first_date') or '—'} to {s.get('last_date') or '—'}"}
                   for s in data.get("slices") or []],
        "scores": scores,
        "holdout": holdout,
        "calibration": [{**row, "predicted_fmt": _pct(row.get("predicted")), "observed_fmt": _pct(row.get("observed")),
                         "ece_fmt": _num(row.get("ece"), 3), "shots_fmt": _int(row.get("shots"))}
                        for row in (holdout or {}).get("calibration") or []],
        "walkforward": _walkforward_lines(card["walkforward"]) if card.get("walkforward") else [],
        "drift": None if not drift else {
            "share": _pct(drift.get("share_drifted")), "dataset_drift": "yes" if drift.get("dataset_drift") else "no",
            "target_drift": {True: "yes", False: "no"}.get(drift.get("target_drift"), "not measured"),
            "columns": ", ".join(drift.get("drifted_columns") or []) or "none",
            "reference": drift.get("reference") or {}, "current": drift.get("current") or {},
            "against": drift.get("against_version"),
        },
        "decisions": decisions,
    }


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell or line (pipes and newlines would break the layout)."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def card_markdown(card: Mapping[str, Any]) -> str:
    s = card_sections(card)
    data = card["data"]
    out = [f"# {_md(s['title'])}", ""]
    out.append(f"Generated {_md(card['generated_at'])}" + (f" · MLflow run `{_md(card['run_id'])}`" if card.get("run_id") else "")
               + (" · **current champion**" if card.get("is_champion") else ""))
    out += ["", "## Data", ""]
    out.append(f"- Window: {_md(s['window'])}")
    out.append(f"- Seasons: {_md(', '.join(data.get('seasons') or []) or 'not recorded')}")
    if data.get("source"):
        out.append(f"- Source: {_md(data['source'])}")
    if data.get("fingerprint"):
        out.append(f"- Fingerprint: `{_md(data['fingerprint'])}`")
    if s["slices"]:
        out += ["", "| Slice | Shots | Dates |", "|---|---:|---|"]
        out += [f"| {_md(r['name'])} | {r['rows']} | {_md(r['dates'])} |" for r in s["slices"]]
    out += ["", "## Features", ""]
    out.append(f"{len(card['features'])} model inputs: " + ", ".join(f"`{_md(f)}`" for f in card["features"])
               if card["features"] else "Not recorded.")
    out += ["", "## Holdout scores", ""]
    holdout = s["holdout"]
    if holdout:
        out.append(f"{_int(holdout.get('rows'))} shots in {_int(holdout.get('games'))} games "
                   f"({_md(holdout.get('first_date'))} to {_md(holdout.get('last_date'))}); "
                   f"{holdout.get('confidence', CONFIDENCE):.0%} intervals from a bootstrap over games.")
        out += ["", "| Metric | Score | Interval | |", "|---|---:|---|---|"]
        out += [f"| {r['label']} | {r['estimate']} | {r['interval']} | {r['note']} |" for r in s["scores"]]
    else:
        out.append("Not available: the holdout could not be scored for this card.")
    out += ["", "## Calibration by shot family", ""]
    if s["calibration"]:
        out += ["| Group | Family | Shots | Predicted | Observed | ECE |", "|---|---|---:|---:|---:|---:|"]
        out += [f"| {_md(r['group'])} | {_md(r['family'])} | {r['shots_fmt']} | {r['predicted_fmt']} | "
                f"{r['observed_fmt']} | {r['ece_fmt']} |" for r in s["calibration"]]
    else:
        out.append("Not available.")
    out += ["", "## Walk-forward evaluation", ""]
    out += [f"- {_md(k)}: {_md(v)}" for k, v in s["walkforward"]] or ["Not run for this version."]
    out += ["", "## Drift against the previous champion", ""]
    drift = s["drift"]
    if drift:
        against = f" (v{drift['against']})" if drift.get("against") else ""
        out.append(f"- Compared with the previous champion's training data{_md(against)}: {drift['share']} of inputs "
                   f"drifted; dataset drift {drift['dataset_drift']}; target drift {drift['target_drift']}")
        out.append(f"- Drifted inputs: {_md(drift['columns'])}")
        out.append(f"- Reference {_int(drift['reference'].get('rows'))} shots, current "
                   f"{_int(drift['current'].get('rows'))} shots")
    else:
        out.append("No drift report: there was no previous champion, or no new data to compare.")
    out += ["", "## Promotion history", ""]
    if s["decisions"]:
        out += ["| When | Kind | Outcome | Scores | Reason | By |", "|---|---|---|---|---|---|"]
        out += [f"| {_md(d['when'])} | {_md(d['kind'])} | {_md(d['outcome'])} | "
                f"{_md('; '.join(x for x in (d['scores'], d['gain']) if x))} | {_md(d['reason'])} | {_md(d['by'])} |"
                for d in s["decisions"]]
    else:
        out.append("No promotion decision about this version yet.")
    out += ["", "## Known limits", ""]
    out += [f"- {_md(limit)}" for limit in card["limits"]]
    return "\n".join(out) + "\n"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    def cell(tag: str, i: int, value: Any) -> str:
        return f'<{tag} class="num">{_e(value)}</{tag}>' if i in numeric else f"<{tag}>{_e(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
          "table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;"
          "text-align:left;vertical-align:top}.num{text-align:right}code{background:#f3f4f6;padding:0 .2rem}"
          ".muted{color:#57606a}")  # fmt: skip


def card_html(card: Mapping[str, Any]) -> str:
    """A standalone HTML document (every value escaped)."""
    s = card_sections(card)
    data = card["data"]
    parts = [f"<h1>{_e(s['title'])}</h1>",
             f"<p class=\"muted\">Generated {_e(card['generated_at'])}"
             + (f" · MLflow run <code>{_e(card['run_id'])}</code>" if card.get("run_id") else "")
             + (" · <strong>current champion</strong>" if card.get("is_champion") else "") + "</p>",
             "<h2>Data</h2><ul>",
             f"<li>Window: {_e(s['window'])}</li>",
             f"<li>Seasons: {_e(', '.join(data.get('seasons') or []) or 'not recorded')}</li>"]  # fmt: skip
    if data.get("source"):
        parts.append(f"<li>Source: {_e(data['source'])}</li>")
    if data.get("fingerprint"):
        parts.append(f"<li>Fingerprint: <code>{_e(data['fingerprint'])}</code></li>")
    parts.append("</ul>")
    if s["slices"]:
        parts.append(_table(("Slice", "Shots", "Dates"), [(r["name"], r["rows"], r["dates"]) for r in s["slices"]], (1,)))
    parts.append("<h2>Features</h2>")
    parts.append(f"<p>{len(card['features'])} model inputs: " + ", ".join(f"<code>{_e(f)}</code>" for f in card["features"])
                 + "</p>" if card["features"] else "<p>Not recorded.</p>")
    parts.append("<h2>Holdout scores</h2>")
    holdout = s["holdout"]
    if holdout:
        parts.append(f"<p>{_e(_int(holdout.get('rows')))} shots in {_e(_int(holdout.get('games')))} games "
                     f"({_e(holdout.get('first_date'))} to {_e(holdout.get('last_date'))}); "
                     f"{_e(format(holdout.get('confidence', CONFIDENCE), '.0%'))} intervals from a bootstrap over games.</p>")
        parts.append(_table(("Metric", "Score", "Interval", ""),
                            [(r["label"], r["estimate"], r["interval"], r["note"]) for r in s["scores"]], (1,)))
    else:
        parts.append("<p>Not available: the holdout could not be scored for this card.</p>")
    parts.append("<h2>Calibration by shot family</h2>")
    parts.append(_table(("Group", "Family", "Shots", "Predicted", "Observed", "ECE"),
                        [(r["group"], r["family"], r["shots_fmt"], r["predicted_fmt"], r["observed_fmt"], r["ece_fmt"])
                         for r in s["calibration"]], (2, 3, 4, 5)) if s["calibration"] else "<p>Not available.</p>")
    parts.append("<h2>Walk-forward evaluation</h2>")
    parts.append("<ul>" + "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in s["walkforward"]) + "</ul>"
                 if s["walkforward"] else "<p>Not run for this version.</p>")
    parts.append("<h2>Drift against the previous champion</h2>")
    drift = s["drift"]
    if drift:
        against = f" (v{drift['against']})" if drift.get("against") else ""
        parts.append(f"<ul><li>Compared with the previous champion's training data{_e(against)}: {_e(drift['share'])} "
                     f"of inputs drifted; dataset drift {_e(drift['dataset_drift'])}; target drift "
                     f"{_e(drift['target_drift'])}</li><li>Drifted inputs: {_e(drift['columns'])}</li>"
                     f"<li>Reference {_e(_int(drift['reference'].get('rows')))} shots, current "
                     f"{_e(_int(drift['current'].get('rows')))} shots</li></ul>")
    else:
        parts.append("<p>No drift report: there was no previous champion, or no new data to compare.</p>")
    parts.append("<h2>Promotion history</h2>")
    parts.append(_table(("When", "Kind", "Outcome", "Scores", "Reason", "By"),
                        [(d["when"], d["kind"], d["outcome"], "; ".join(x for x in (d["scores"], d["gain"]) if x),
                          d["reason"], d["by"]) for d in s["decisions"]])
                 if s["decisions"] else "<p>No promotion decision about this version yet.</p>")
    parts.append("<h2>Known limits</h2><ul>" + "".join(f"<li>{_e(limit)}</li>" for limit in card["limits"]) + "</ul>")
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(s['title'])}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
