"""Evidently drift reports: stored as MLflow artifacts (HTML and JSON) and as DriftReport rows; and the
drift story the model page tells (which inputs drifted since the champion's window, the champion's
calibration per shot family on the newest settled shots), computed by Celery and stored."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from parivision import figures, mongo
from training.models import DriftReport, ModelVersion, PipelineRun
from training.registry import get_registry
from training.services import data
from training.services.promotion import champion_version
from training.services.recalibration import newest_settled_date

if TYPE_CHECKING:
    from training.ml.drift import DriftReport as DriftResult

logger = logging.getLogger(__name__)
HTML_ARTIFACT = "drift/report.html"
JSON_ARTIFACT = "drift/report.json"


def drift_report_save(
    *, report: DriftResult, reference: pd.DataFrame, current: pd.DataFrame, pipeline_run: PipelineRun | None
) -> DriftReport:
    import mlflow

    registry = get_registry()
    with registry._pointed_at(), mlflow.start_run(experiment_id=registry.experiment_id(), run_name="drift-report") as run:
        mlflow.set_tags({"kind": "drift", **({"pipeline_run": str(pipeline_run.pk)} if pipeline_run else {})})
        mlflow.log_metrics(
            {
                "drift_share": report.share_drifted,
                "dataset_drift": float(report.dataset_drift),
                "reference_rows": float(report.reference_rows),
                "current_rows": float(report.current_rows),
            }
        )
        mlflow.log_dict(report.json or report.summary(), JSON_ARTIFACT)
        if report.html:
            mlflow.log_text(report.html, HTML_ARTIFACT)
        run_id = run.info.run_id
    return DriftReport.objects.create(
        pipeline_run=pipeline_run,
        reference=data.describe_span(reference),
        current=data.describe_span(current),
        share_drifted=report.share_drifted,
        dataset_drift=report.dataset_drift,
        target_drift=report.target_drift,
        columns=report.columns,
        mlflow_run_id=run_id,
        html_artifact=HTML_ARTIFACT if report.html else "",
        json_artifact=JSON_ARTIFACT,
    )


def champion_seen_until(champion: ModelVersion | None) -> pd.Timestamp | None:
    """The last game date the champion's pipeline run saw (training data and holdout)."""
    if champion is None:
        return None
    last = ((champion.data or {}).get("holdout") or {}).get("last_date")
    if last:
        return pd.Timestamp(last)
    return pd.Timestamp(champion.trained_until.replace(tzinfo=None)) if champion.trained_until else None


def drift_report_for_champion() -> DriftReport:
    """Compare the champion's training data with every shot since its run."""
    version = champion_version()
    champion = ModelVersion.objects.filter(version=version).first() if version is not None else None
    span = ((champion.data or {}).get("train") or {}) if champion else {}
    seen_until = champion_seen_until(champion)
    if champion is None or seen_until is None or not span.get("first_date"):
        raise ValueError("there is no champion (with a recorded training span) to compare against")
    frame = data.shots_frame(seasons=span.get("seasons"))
    dates = frame["game_date"]
    reference = frame.loc[(dates >= pd.Timestamp(span["first_date"])) & (dates <= pd.Timestamp(span["last_date"]))]
    current = data.shots_frame(since=seen_until.to_pydatetime())
    if current.empty:
        raise ValueError(f"no shots since the champion's run (games up to {seen_until.date()})")
    from training.ml.drift import drift_report_build

    return drift_report_save(
        report=drift_report_build(reference=reference, current=current), reference=reference, current=current, pipeline_run=None
    )


def drift_artifact_text(report: DriftReport, artifact: str) -> str:
    """The stored HTML or JSON of a report, read back from MLflow's artifact store."""
    registry = get_registry()
    with tempfile.TemporaryDirectory() as folder:
        path = registry.client.download_artifacts(report.mlflow_run_id, artifact, folder)
        return Path(path).read_text()


# --- the story: computed by Celery (``training.refresh_drift_story``), stored, read by the model page --

STORY_KEY = "drift-story"  # the stored document (parivision.figures), replaced whole at each computation
STORY_STATUS = "drift-story"
STORY_SCHEMA = 1
STORY_PENDING_KEY = "training:drift-story-pending"
STORY_AFTER_SHOTS_SECONDS = 3_600
LOG_LIMIT = 200_000  # newest settled live forecasts read from the prediction log
_JOIN_CHUNK = 1_000
SOURCES = {
    "log": "the prediction log: the champion's forecasts as served, logged before the outcome was known, "
           "joined to the outcomes",
    "replay": "the champion re-predicted on the settled warehouse shots with serving's feature code"
              " and, when RECALIBRATION_ENABLED, the in-season correction fitted on earlier dates only",
}


def drift_story_stored() -> dict[str, Any] | None:
    """The stored story (what the page and the API show), or None before the first computation."""
    return figures.figure_get(key=STORY_KEY)


def drift_story_status() -> figures.FigureStatus:
    return figures.status_of(name=STORY_STATUS)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _story_fingerprint(champion: ModelVersion | None) -> dict[str, Any]:
    """What the story depends on, in a few cheap reads: the champion and its window, the shots after its
    run, its settled live forecasts and the settings. An unchanged fingerprint means nothing to recompute."""
    from predictions.log import LIVE_SETTLED, settled_count
    from training.services.recalibration import recalibration_config

    settings_used = {"window_days": settings.DRIFT_WINDOW_DAYS, "min_logged": settings.DRIFT_LIVE_MIN_PREDICTIONS,
                     "recalibration": settings.RECALIBRATION_ENABLED and str(recalibration_config())}  # fmt: skip
    if champion is None:
        return {"schema": STORY_SCHEMA, "champion": None, "settings": settings_used}
    seen_until = champion_seen_until(champion)
    shots = mongo.warehouse_collection(mongo.SHOTS)
    after = {"game_date": {"$gt": seen_until.to_pydatetime()}} if seen_until is not None else {}
    newest = newest_settled_date()
    live = {**LIVE_SETTLED, "version": str(champion.version)}
    return {
        "schema": STORY_SCHEMA, "champion": champion.version, "train": (champion.data or {}).get("train"),
        "seen_until": str(seen_until.date()) if seen_until is not None else None,
        "newest": str(newest) if newest else None, "shots_after": shots.count_documents(after),
        "live_forecasts": settled_count(mongo.warehouse_collection(mongo.PREDICTIONS), live),
        "settings": settings_used,
    }  # fmt: skip


def _reference_frame(span: dict[str, Any]) -> pd.DataFrame:
    """The champion's training window (train and validation dates, as its pipeline run recorded them)."""
    from training.ml.drift import CATEGORICAL_COLUMNS, NUMERICAL_COLUMNS

    columns = list(dict.fromkeys(["game_date", "season", *NUMERICAL_COLUMNS, *CATEGORICAL_COLUMNS, "made"]))
    first, last = dt.date.fromisoformat(span["first_date"]), dt.date.fromisoformat(span["last_date"])
    return data.shots_frame(columns=columns, query={"game_date": {"$gte": _midnight(first), "$lte": _midnight(last)}})


def logged_forecasts(*, version: int, first: dt.date, last: dt.date, limit: int = LOG_LIMIT) -> pd.DataFrame:
    """The champion's live forecasts (made before the outcome entered the platform; not its shadow
    period's) of shots dated ``first``..``last``, with the probability served, the outcome and the
    shot's family fields (``p``, ``made``, ``shot_type``, ``distance_ft``, ``game_date``)."""
    from predictions.log import LIVE_SETTLED
    from predictions.selectors import latest_settled
    from predictions.shadow import ROLE as SHADOW_ROLE

    collection = mongo.warehouse_collection(mongo.PREDICTIONS)
    query = {**LIVE_SETTLED, "version": str(version)}
    docs = [row for row in latest_settled(collection, query, live=True, limit=limit)
            if row.role != SHADOW_ROLE and row.key]
    columns = ["p", "made", "shot_type", "distance_ft", "game_date"]
    keys = list({str(doc.key) for doc in docs})
    shots: dict[str, dict[str, Any]] = {}
    window = {"$gte": _midnight(first), "$lte": _midnight(last)}
    for start in range(0, len(keys), _JOIN_CHUNK):
        found = mongo.warehouse_collection(mongo.SHOTS).find(
            {"_id": {"$in": keys[start:start + _JOIN_CHUNK]}, "game_date": window},
            {"shot_type": 1, "distance_ft": 1, "game_date": 1},
        )
        shots.update({str(shot["_id"]): shot for shot in found})
    rows = [{"p": doc.p, "made": bool(doc.made), **{k: shots[str(doc.key)].get(k) for k in columns[2:]}}
            for doc in docs if str(doc.key) in shots]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _replayed_calibration(*, version: int, settled: pd.DataFrame) -> list[dict[str, Any]]:
    """The champion's calibration per family on ``settled``, priced as serving prices (the in-season
    correction of each date fitted on earlier dates only), with the model's own figures beside it."""
    from backtests import selectors as shots_selectors
    from training.ml.drift import calibration_by_family
    from training.services.figures import model_load_for_figures
    from training.services.recalibration import recalibration_config

    model = model_load_for_figures(version=version)
    history = shots_selectors.player_history(settled)
    uncorrected = shots_selectors.shots_probabilities(model=model, frame=settled, history=history, recalibrated=False)
    if not settings.RECALIBRATION_ENABLED:
        return calibration_by_family(frame=settled, proba=uncorrected)
    served = shots_selectors.shots_probabilities_inseason(model=model, frame=settled, history=history,
                                                          config=recalibration_config())
    rows = calibration_by_family(frame=settled, proba=served)
    without = {row["family"]: row for row in calibration_by_family(frame=settled, proba=uncorrected)}
    for row in rows:
        own = without.get(row["family"], {})
        row["uncorrected"] = {k: own.get(k) for k in ("predicted", "gap", "ece", "log_loss")}
    return rows


def drift_story_compute(*, fingerprint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Which inputs drifted between the champion's training window and the newest shots, and how the
    champion's probabilities hold per shot family on the settled ones; stored under ``drift-story``.

    The newest shots: the last ``DRIFT_WINDOW_DAYS`` game days up to the newest settled shot, never a
    day the champion's run saw (its training data or its holdout). Without a champion, a recorded
    window or newer shots, the stored document says so (``state``) and carries no figures."""
    from backtests import selectors as shots_selectors
    from predictions.selectors import champion_version_row
    from training.ml.drift import (
        calibration_by_family,
        calibration_story,
        drift_inputs,
        drift_report_build,
        shots_headline,
    )
    from training.services.recalibration import SETTLED

    champion = champion_version_row()
    document: dict[str, Any] = {
        "schema": STORY_SCHEMA, "computed_at": timezone.now().isoformat(),
        "fingerprint": fingerprint if fingerprint is not None else _story_fingerprint(champion),
        "window_days": settings.DRIFT_WINDOW_DAYS, "champion": None, "sources": SOURCES,
    }  # fmt: skip

    def store(state: str, message: str = "") -> dict[str, Any]:
        document.update(state=state, message=message)
        figures.figure_put(key=STORY_KEY, value=document)
        return document

    if champion is None:
        return store("no_champion", "There is no champion yet: the story starts once a version is promoted.")
    document["champion"] = {"version": champion.version, "algorithm": champion.algorithm}
    span = (champion.data or {}).get("train") or {}
    seen_until = champion_seen_until(champion)
    if not span.get("first_date") or not span.get("last_date") or seen_until is None:
        return store("no_window", f"v{champion.version}'s pipeline run did not record its training window, so "
                                  "there is nothing to compare the newest shots with.")
    newest = newest_settled_date()
    if newest is None or pd.Timestamp(newest) <= seen_until:
        return store("no_new_shots", f"No settled shot after v{champion.version}'s window yet (its run saw games up "
                                     f"to {seen_until.date()}): the story starts with the first newer game.")
    first = max(seen_until.date() + dt.timedelta(days=1), newest - dt.timedelta(days=settings.DRIFT_WINDOW_DAYS - 1))
    reference = _reference_frame(span)
    current = shots_selectors.shots_query({**SETTLED, "game_date": {"$gte": _midnight(first), "$lte": _midnight(newest)}})
    document["reference"] = {**shots_headline(reference), "seasons": sorted(str(s) for s in reference["season"].dropna().unique())}
    document["current"] = {**shots_headline(current), "seasons": sorted(str(s) for s in current["season"].dropna().unique())}
    if reference.empty:
        return store("no_window", f"v{champion.version}'s training games ({span['first_date']} to {span['last_date']}) "
                                  "are not in the warehouse any more.")
    report = drift_report_build(reference=reference, current=current, with_html=False)
    document["drift"] = {"share_drifted": report.share_drifted, "dataset_drift": report.dataset_drift,
                         "target_drift": report.target_drift, "drifted_columns": report.drifted_columns}  # fmt: skip
    document["inputs"] = drift_inputs(report=report, reference=reference, current=current)
    logged = logged_forecasts(version=champion.version, first=first, last=newest)
    document["calibration"] = {
        "families": calibration_story(
            logged=calibration_by_family(frame=logged, proba=logged["p"].to_numpy()) if len(logged) else [],
            replayed=_replayed_calibration(version=champion.version, settled=current),
            min_logged=settings.DRIFT_LIVE_MIN_PREDICTIONS,
        ),
        "logged_forecasts": len(logged), "settled_shots": len(current), "min_logged": settings.DRIFT_LIVE_MIN_PREDICTIONS,
        "recalibration": settings.RECALIBRATION_ENABLED,
    }  # fmt: skip
    return store("ready")


def drift_story_refresh(*, force: bool = False) -> dict[str, Any]:
    """Recompute the story when what it depends on changed since the stored one (or ``force``);
    records the figure status the page reads ("being computed", "failed")."""
    from predictions.selectors import champion_version_row

    fingerprint = _story_fingerprint(champion_version_row())
    stored = drift_story_stored()
    if not force and stored is not None and stored.get("fingerprint") == fingerprint:
        figures.status_set(name=STORY_STATUS, state=figures.DONE)
        return {"computed": False, "state": stored.get("state"), "reason": "nothing changed since the stored story"}
    figures.status_set(name=STORY_STATUS, state=figures.RUNNING)
    try:
        document = drift_story_compute(fingerprint=fingerprint)
    except Exception as error:
        figures.status_set(name=STORY_STATUS, state=figures.FAILED, message=f"{type(error).__name__}: {error}")
        raise
    figures.status_set(name=STORY_STATUS, state=figures.DONE)
    drifted = (document.get("drift") or {}).get("drifted_columns") or []
    return {"computed": True, "state": document["state"], "drifted": drifted}


def drift_story_enqueue(*, countdown: int = 0, force: bool = False) -> None:
    """Queue a refresh (the page says "being computed" until it is stored)."""
    from training.tasks import refresh_drift_story

    figures.status_set(name=STORY_STATUS, state=figures.QUEUED)
    refresh_drift_story.apply_async(kwargs={"force": force}, countdown=countdown)


def drift_story_after_new_shots() -> None:
    """New shots reached the warehouse: a refresh ``FIGURES_REFRESH_DELAY_SECONDS`` later, at most one per
    ``STORY_AFTER_SHOTS_SECONDS`` (a live feed transforms every minute, and the story reads the champion's
    whole window). A cache call per transform; never fails the ingestion."""
    try:
        pending = max(settings.FIGURES_REFRESH_DELAY_SECONDS + 60, STORY_AFTER_SHOTS_SECONDS)
        if cache.add(STORY_PENDING_KEY, 1, timeout=pending):
            drift_story_enqueue(countdown=settings.FIGURES_REFRESH_DELAY_SECONDS)
    except Exception:
        logger.exception("could not queue the drift story after new shots")
