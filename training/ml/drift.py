"""Data and target drift between a reference window (what the model learnt on) and a current one.

Evidently does the statistics; this module picks the model's inputs, makes the frames
safe for it (strings for categories so a new category is just another value, bounded
samples so a season-long reference stays fast) and reads back the per-column verdicts
Evidently itself reached.  Evidently is imported lazily: it is heavy, and importing
this module must stay cheap for the web process.

The story the model page tells is built here too, from plain frames and probabilities:
``drift_inputs`` (every input's verdict, the drifted ones first, with reference vs current numbers),
``shots_headline`` (a window at a glance) and ``calibration_by_family`` / ``calibration_story``
(how the champion's probabilities hold per shot family, from each source of probabilities).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.ml.features import LABEL_COLUMN, shot_families

NUMERICAL_COLUMNS = ("distance_ft", "x_ft", "y_ft", "seconds_left", "period")
CATEGORICAL_COLUMNS = (
    "action_type",
    "shot_type",
    "zone_basic",
    "zone_area",
    "zone_range",
    "position",
    "is_home",
    "season_type",
)
MISSING = "(missing)"
DRIFT_SHARE = 0.5  # Evidently's default: the dataset drifts when half the columns do
MAX_ROWS = 20_000  # per side; enough for stable distance-based tests, bounded memory and time


@dataclass(frozen=True)
class DriftReport:
    share_drifted: float  # share of the input columns that drifted
    dataset_drift: bool
    drifted_columns: list[str]
    columns: dict[str, dict[str, Any]]  # per column: method, score, threshold, drifted
    target_drift: bool | None  # None when either side has no label
    reference_rows: int
    current_rows: int
    json: dict[str, Any] = field(repr=False, default_factory=dict)
    html: str = field(repr=False, default="")

    def summary(self) -> dict[str, Any]:
        """Everything but the HTML and raw JSON: small enough for a database row or MLflow params."""
        return {
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
            "drifted_columns": self.drifted_columns,
            "target_drift": self.target_drift,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": self.columns,
        }


def _prepare(frame: pd.DataFrame, *, numerical: Sequence[str], categorical: Sequence[str], target: str | None,
             max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    out = pd.DataFrame(index=range(len(frame)))
    for column in numerical:
        values = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
        out[column] = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    for column in categorical:
        values = frame[column] if column in frame else pd.Series(None, index=frame.index, dtype=object)
        # Strings with an explicit "missing" value: unseen categories and NAs become ordinary values
        # instead of dtype surprises inside the chi-square / Jensen-Shannon code.
        out[column] = [MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                       for v in values.to_numpy()]
    if target is not None:
        out[target] = frame[target].astype(np.int64).astype(str).to_numpy()
    return out


def _import_evidently() -> Any:
    # Imported on first use: Evidently is heavy and only the pipeline needs it.
    import evidently

    return evidently


def drift_report_build(
    *,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: Sequence[str] = NUMERICAL_COLUMNS,
    categorical: Sequence[str] = CATEGORICAL_COLUMNS,
    target: str | None = LABEL_COLUMN,
    drift_share: float = DRIFT_SHARE,
    max_rows: int = MAX_ROWS,
    seed: int = 7,
    with_html: bool = True,
) -> DriftReport:
    """Evidently data drift on the model inputs, plus target drift on ``made`` when both sides have it."""
    if reference.empty or current.empty:
        raise ValueError(f"drift needs rows on both sides (reference {len(reference)}, current {len(current)})")
    evidently = _import_evidently()
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    with_target = target is not None and target in reference and target in current
    options: dict[str, Any] = {"numerical": numerical, "categorical": categorical, "max_rows": max_rows, "seed": seed,
               "target": target if with_target else None}
    reference_data = _prepare(reference, **options)
    current_data = _prepare(current, **options)
    feature_columns = [*numerical, *categorical]
    definition = evidently.DataDefinition(
        numerical_columns=list(numerical),
        categorical_columns=[*categorical, *([target] if with_target else [])],
    )
    metrics: list[Any] = [DataDriftPreset(columns=feature_columns, drift_share=drift_share)]
    if with_target:
        metrics.append(ValueDrift(column=target))
    report = evidently.Report(metrics, include_tests=True)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # A category present on one side only makes scipy divide by zero; the verdict is still right.
        warnings.simplefilter("ignore", RuntimeWarning)
        snapshot = report.run(
            current_data=evidently.Dataset.from_pandas(current_data, data_definition=definition),
            reference_data=evidently.Dataset.from_pandas(reference_data, data_definition=definition),
        )
    document = json.loads(snapshot.json())
    columns = _column_verdicts(document)
    drifted = [c for c in feature_columns if columns.get(c, {}).get("drifted")]
    share = len(drifted) / len(feature_columns) if feature_columns else 0.0
    return DriftReport(
        share_drifted=share,
        dataset_drift=share >= drift_share,
        drifted_columns=drifted,
        columns={c: columns[c] for c in feature_columns if c in columns},
        target_drift=columns[target]["drifted"] if with_target and target in columns else None,
        reference_rows=len(reference),
        current_rows=len(current),
        json=document,
        html=snapshot.get_html_str(as_iframe=False) if with_html else "",
    )


def _column_verdicts(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per column: Evidently's method, score and threshold, and its pass/fail test as ``drifted``."""
    verdicts: dict[str, dict[str, Any]] = {}
    by_metric: dict[str, str] = {}
    for metric in document.get("metrics", []):
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        column = config["column"]
        by_metric[metric["id"]] = column
        method = str(config.get("method"))
        score, threshold = float(metric["value"]), float(config.get("threshold"))
        # Fallback rule if no test came back: p-values drift when small, distances when large.
        drifted = score < threshold if "p_value" in method else score >= threshold
        verdicts[column] = {"method": method, "score": score, "threshold": threshold, "drifted": bool(drifted)}
    for test in document.get("tests", []):
        column = by_metric.get(str(test.get("metric_config", {}).get("metric_id", "")))
        if column is None:
            name = str(test.get("name", ""))
            column = name.removeprefix("Value Drift for column ") if name.startswith("Value Drift for column ") else None
        if column in verdicts:
            verdicts[column]["drifted"] = test.get("status") == "FAIL"
    return verdicts


# --- the story: which inputs moved, and how well the champion's probabilities hold on new shots -------

SUMMARY_CATEGORIES = 5  # categories shown per categorical input: those whose share moved the most
CALIBRATION_BINS = 10
LOG_LOSS_EPS = 1e-15
# The families a calibration is reported for: the shot types, then the model's own range families
# (training.ml.features.FAMILIES[1:]; its "three" is the 3PT row, so it is not repeated).
SHOT_TYPE_FAMILIES = ("2PT", "3PT")
RANGE_FAMILIES = ("close 2PT (< 10 ft)", "mid-range 2PT")


def drift_severity(*, method: str, score: float, threshold: float) -> float:
    """How far past its threshold a column's statistic is, on one scale for every method: 1 at the
    threshold, above 1 when drifted. A p-value drifts when small (``log p / log threshold``), a distance
    when large (``score / threshold``)."""
    if not (np.isfinite(score) and np.isfinite(threshold)) or threshold <= 0:
        return 0.0
    if "p_value" in method:
        if threshold >= 1:
            return 0.0
        return float(np.log(max(score, 1e-300)) / np.log(threshold))
    return float(score / threshold)


def _finite(value: Any, digits: int = 4) -> float | None:
    return round(float(value), digits) if value is not None and np.isfinite(value) else None


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(np.float64)


def _categories(values: pd.Series) -> pd.Series:
    return pd.Series([MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                      for v in values.to_numpy()], dtype=object)


def column_comparison(*, reference: pd.Series, current: pd.Series, kind: str,
                      top: int = SUMMARY_CATEGORIES) -> dict[str, Any]:
    """Reference vs current in plain numbers: mean, median and the 10th/90th percentiles of a numerical
    input; the shares of the ``top`` categories whose share moved the most for a categorical one."""
    if kind == "numerical":
        sides = {}
        for side, values in (("reference", _numbers(reference)), ("current", _numbers(current))):
            known = values[np.isfinite(values)]
            sides[side] = {
                "mean": _finite(known.mean()) if len(known) else None,
                "median": _finite(np.median(known)) if len(known) else None,
                "p10": _finite(np.percentile(known, 10)) if len(known) else None,
                "p90": _finite(np.percentile(known, 90)) if len(known) else None,
                "missing": _finite(1 - len(known) / len(values)) if len(values) else None,
            }
        return {"kind": kind, **sides}
    before = _categories(reference).value_counts(normalize=True)
    after = _categories(current).value_counts(normalize=True)
    shares = pd.DataFrame({"reference": before, "current": after}).fillna(0.0)
    shares["change"] = shares["current"] - shares["reference"]
    moved = shares.reindex(shares["change"].abs().sort_values(ascending=False, kind="stable").index).head(top)
    return {"kind": kind, "categories": [
        {"value": str(name), "reference": _finite(row["reference"]), "current": _finite(row["current"]),
         "change": _finite(row["change"])}
        for name, row in moved.iterrows()
    ]}  # fmt: skip


def drift_inputs(
    *,
    report: DriftReport,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: Sequence[str] = NUMERICAL_COLUMNS,
    categorical: Sequence[str] = CATEGORICAL_COLUMNS,
) -> list[dict[str, Any]]:
    """Every input with Evidently's verdict, the drifted ones first (the furthest past their threshold
    first), each with its reference vs current comparison (``column_comparison``)."""
    rows = []
    for kind, names in (("numerical", numerical), ("categorical", categorical)):
        for column in names:
            verdict = report.columns.get(column)
            if verdict is None:
                continue
            empty = pd.Series([], dtype=object)
            rows.append({
                "column": column, "kind": kind, "method": verdict["method"], "score": _finite(verdict["score"], 6),
                "threshold": _finite(verdict["threshold"], 6), "drifted": bool(verdict["drifted"]),
                "severity": _finite(drift_severity(method=verdict["method"], score=verdict["score"],
                                                   threshold=verdict["threshold"]), 3),
                "comparison": column_comparison(reference=reference.get(column, empty),
                                                current=current.get(column, empty), kind=kind),
            })  # fmt: skip
    rows.sort(key=lambda row: (not row["drifted"], -(row["severity"] or 0.0)))
    return rows


def shots_headline(frame: pd.DataFrame) -> dict[str, Any]:
    """What a window of shots looks like at a glance: rows, dates, 3PT share, mean distance, make rate."""
    if frame.empty:
        return {"rows": 0}
    distance = _numbers(frame["distance_ft"]) if "distance_ft" in frame else np.array([])
    known = distance[np.isfinite(distance)]
    return {
        "rows": len(frame),
        "first_date": str(pd.Timestamp(frame["game_date"].min()).date()),
        "last_date": str(pd.Timestamp(frame["game_date"].max()).date()),
        "three_share": _finite((frame["shot_type"].astype(str) == "3PT").mean()) if "shot_type" in frame else None,
        "mean_distance_ft": _finite(known.mean(), 2) if len(known) else None,
        "made_rate": _finite(frame[LABEL_COLUMN].astype(float).mean()) if LABEL_COLUMN in frame else None,
    }  # fmt: skip


def calibration_figures(*, y_true: Any, proba: Any, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """n, mean predicted vs observed make rate and their gap (predicted - observed: negative is
    under-predicted), ECE, log loss and the reliability curve of one set of probabilities."""
    from training.ml.evaluate import expected_calibration_error
    from training.ml.figures import calibration_bins

    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    if len(y) != len(p):
        raise ValueError(f"{len(y)} outcomes but {len(p)} probabilities")
    if len(y) == 0:
        return {"n": 0}
    clipped = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    log_loss = -float(np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    predicted, observed = float(p.mean()), float(y.mean())
    return {
        "n": len(y), "predicted": _finite(predicted), "observed": _finite(observed),
        "gap": _finite(predicted - observed), "ece": _finite(expected_calibration_error(y_true=y, proba=p, bins=bins)),
        "log_loss": _finite(log_loss), "curve": calibration_bins(y_true=y, proba=p, bins=bins),
    }  # fmt: skip


def family_masks(frame: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    """(group, family, rows) for 2PT and 3PT, then the close and mid-range twos of the model's families."""
    shot_type = frame["shot_type"].astype(str).to_numpy()
    families = shot_families(shot_type=frame["shot_type"].to_numpy(), distance_ft=frame["distance_ft"].to_numpy())
    masks = [("shot type", name, shot_type == name) for name in SHOT_TYPE_FAMILIES]
    masks += [("range", name, families == index) for index, name in enumerate(RANGE_FAMILIES)]
    return masks


def calibration_by_family(*, frame: pd.DataFrame, proba: Any, bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """``calibration_figures`` for every shot (family "all") and per family that holds shots.
    ``frame`` needs ``shot_type``, ``distance_ft`` and the outcome ``made``; ``proba`` one per row."""
    p = np.asarray(proba, dtype=np.float64)
    if len(p) != len(frame):
        raise ValueError(f"{len(frame)} shots but {len(p)} probabilities")
    if frame.empty:
        return []
    y = frame[LABEL_COLUMN].astype(float).to_numpy()
    rows = [{"group": "all", "family": "all", **calibration_figures(y_true=y, proba=p, bins=bins)}]
    for group, family, chosen in family_masks(frame):
        if chosen.any():
            rows.append({"group": group, "family": family,
                         **calibration_figures(y_true=y[chosen], proba=p[chosen], bins=bins)})
    return rows


def calibration_story(
    *, logged: list[dict[str, Any]], replayed: list[dict[str, Any]], min_logged: int
) -> list[dict[str, Any]]:
    """One entry per family with both sources side by side and the one to read first: the forecasts
    logged before the outcome was known (``log``) when the family has at least ``min_logged`` of them,
    else the champion's probabilities replayed on the settled shots (``replay``)."""
    by_source = {"log": {r["family"]: r for r in logged}, "replay": {r["family"]: r for r in replayed}}
    families = list(dict.fromkeys([*(r["family"] for r in replayed), *(r["family"] for r in logged)]))
    entries = []
    for family in families:
        log, replay = by_source["log"].get(family), by_source["replay"].get(family)
        group = (replay or log or {}).get("group", "")
        strip = ("group", "family")
        entries.append({
            "family": family, "group": group,
            "preferred": "log" if log is not None and log.get("n", 0) >= min_logged else "replay" if replay else "log",
            "log": {k: v for k, v in log.items() if k not in strip} if log else None,
            "replay": {k: v for k, v in replay.items() if k not in strip} if replay else None,
        })  # fmt: skip
    return entries
