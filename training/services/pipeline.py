"""The ML pipeline: drift → train both challengers → evaluate → promote, recorded at each step.

``pipeline_enqueue`` creates a run and hands it to the ``ml`` queue; ``pipeline_execute``
does the work (in the Celery task, or in ``manage.py train``). A run claims itself with a
conditional update, so a redelivered task never runs the same pipeline twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from parivision.errors import ApplicationError
from training import metrics
from training.ml.bootstrap import paired_gain
from training.ml.drift import drift_report_build
from training.ml.pipeline import ChallengerRound, challengers_round, model_rescore
from training.ml.promotion import HIGHER_IS_BETTER, promotion_decide
from training.ml.split import shots_split_by_date
from training.models import DriftReport, ModelVersion, PipelineRun, PromotionDecision
from training.registry import get_registry
from training.services import data
from training.services.cards import cards_after_round
from training.services.drift import champion_seen_until, drift_report_save
from training.services.promotion import champion_version, decision_record

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]


def pipeline_enqueue(*, trigger: str, force: bool = False, user: Any = None) -> PipelineRun:
    """Create a queued run and send it to the ``ml`` queue once the transaction commits."""
    from training.tasks import run_ml_pipeline

    label = f"{trigger} ({user.get_username()})" if getattr(user, "pk", None) else trigger
    run = PipelineRun.objects.create(trigger=label[:200], forced=force)
    transaction.on_commit(lambda: run_ml_pipeline.delay(pipeline_run_id=run.pk))
    return run


def _claim(run: PipelineRun, task_id: str) -> bool:
    """Take a queued run (once). Refuses while another run is in its time limit."""
    busy_since = timezone.now() - timedelta(seconds=settings.ML_PIPELINE_TIME_LIMIT)
    other = PipelineRun.objects.filter(status=PipelineRun.Status.RUNNING, started_at__gt=busy_since).exclude(pk=run.pk)
    if other.exists():
        PipelineRun.objects.filter(pk=run.pk, status=PipelineRun.Status.QUEUED).update(
            status=PipelineRun.Status.SKIPPED,
            finished_at=timezone.now(),
            message=f"skipped: pipeline run #{other.first().pk} is still running",  # type: ignore[union-attr]
        )
        return False
    return bool(
        PipelineRun.objects.filter(pk=run.pk, status=PipelineRun.Status.QUEUED).update(
            status=PipelineRun.Status.RUNNING, started_at=timezone.now(), task_id=task_id
        )
    )


def pipeline_execute(*, pipeline_run_id: int, task_id: str = "", progress: Progress | None = None) -> PipelineRun:
    run = PipelineRun.objects.get(pk=pipeline_run_id)
    if not _claim(run, task_id):
        run.refresh_from_db()
        return run
    run.refresh_from_db()

    def step(name: str, percent: int) -> None:
        PipelineRun.objects.filter(pk=run.pk).update(step=name[:100], progress=percent)
        if progress is not None:
            progress(name, percent)

    try:
        message = _execute(run, step)
    except _Skip as skip:
        _finish(run, PipelineRun.Status.SKIPPED, message=str(skip))
    except Exception as error:
        logger.exception("pipeline run #%s failed", run.pk)
        _finish(run, PipelineRun.Status.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    else:
        _finish(run, PipelineRun.Status.SUCCEEDED, message=message)
    run.refresh_from_db()
    return run


class _Skip(Exception):
    pass


def _finish(run: PipelineRun, status: str, *, message: str = "", error: str = "") -> None:
    PipelineRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), message=message, error=error, step="", progress=100
    )
    metrics.PIPELINE_RUNS.labels(status).inc()


def _execute(run: PipelineRun, step: Progress) -> str:
    step("loading warehouse shots", 5)
    seasons = data.window_seasons(settings.TRAINING_SEASONS)
    frame = data.shots_frame(seasons=seasons)
    if frame.empty:
        raise ApplicationError("the warehouse holds no shots: import some first (manage.py import_shots)")
    current_version = champion_version()
    champion_row = ModelVersion.objects.filter(version=current_version).first() if current_version else None
    new_data = frame
    seen_until = champion_seen_until(champion_row)
    if seen_until is not None:
        # New = after every date the champion's run saw (its training data and its holdout).
        new_data = frame.loc[frame["game_date"] > seen_until]
        if new_data.empty and not run.forced:
            raise _Skip(
                f"no new data since champion v{current_version} was trained (its run saw games up to "
                f"{seen_until.date()}); retraining skipped (force to retrain anyway)"
            )

    drift = None
    if champion_row is not None and not new_data.empty:
        step("measuring drift against the champion's training data", 15)
        reference = _champion_reference(frame, champion_row)
        if not reference.empty:
            drift = drift_report_build(reference=reference, current=new_data)
            drift_report_save(report=drift, reference=reference, current=new_data, pipeline_run=run)

    step("splitting by game date", 25)
    split = shots_split_by_date(
        frame,
        test_fraction=settings.TRAINING_HOLDOUT_FRACTION,
        validation_fraction=settings.TRAINING_VALIDATION_FRACTION,
    )
    step("loading the shooters' earlier shots (SHOOTER_HISTORY_DAYS)", 30)
    history_shots = data.history_shots(window=frame, history_days=settings.SHOOTER_HISTORY_DAYS)
    registry = get_registry()
    round_ = challengers_round(
        frame=frame,
        split=split,
        history_shots=history_shots,
        history_days=settings.SHOOTER_HISTORY_DAYS,
        registry=registry,
        source=f"warehouse shots, seasons {', '.join(seasons)}",
        xgboost_params=settings.XGBOOST_PARAMS,
        random_forest_params=settings.RANDOM_FOREST_PARAMS,
        drift=drift,
        tags={"pipeline_run": str(run.pk), "trigger": run.trigger[:200]},
        progress=step,
    )
    run.data = {**split.describe(), "dataset": round_.dataset.as_dict(), "baseline": round_.baseline.as_metrics(),
                "history_days": settings.SHOOTER_HISTORY_DAYS}
    PipelineRun.objects.filter(pk=run.pk).update(data=run.data)
    _mirror_versions(run, round_)
    cards_after_round(round_=round_)  # never raises: a card that fails says why on its page

    step("comparing with the champion on the same holdout", 90)
    decision = _promote_best(run, round_, current_version)
    from predictions.shadow import shadow_after_pipeline

    try:
        shadow = shadow_after_pipeline(run=run, ranked_versions=[c.version for c in _ranked(round_)])
    except Exception as error:  # the run's models and decision stand; the shadow can be started by hand
        logger.exception("pipeline run #%s: starting the shadow failed", run.pk)
        return f"{decision.reason}; the shadow was not started: {type(error).__name__}: {error}"
    return decision.reason + (f"; v{shadow.version} serves in shadow" if shadow is not None else "")


def _champion_reference(frame: pd.DataFrame, champion: ModelVersion) -> pd.DataFrame:
    """The champion's training rows (by its recorded date range) found in this frame."""
    span = (champion.data or {}).get("train") or {}
    first, last = span.get("first_date"), span.get("last_date")
    if not first or not last:
        return frame.iloc[0:0]
    dates = frame["game_date"]
    return frame.loc[(dates >= pd.Timestamp(first)) & (dates <= pd.Timestamp(last) + pd.Timedelta(days=1))]


def _mirror_versions(run: PipelineRun, round_: ChallengerRound) -> None:
    split = round_.split
    trained_until = pd.Timestamp(split.validation["game_date"].max()).to_pydatetime()
    spans = {
        "train": data.describe_span(pd.concat([split.train, split.validation])),
        "holdout": data.describe_span(split.test),
    }
    for challenger in round_.challengers.values():
        if challenger.version is None:
            continue
        ModelVersion.objects.update_or_create(
            version=challenger.version,
            defaults={
                "algorithm": challenger.kind,
                "mlflow_run_id": challenger.run_id,
                "pipeline_run": run,
                "holdout_scores": challenger.scores.as_metrics(),
                "data": spans,
                "trained_until": timezone.make_aware(trained_until),
            },
        )


def _ranked(round_: ChallengerRound) -> list[Any]:
    """The run's challengers, best first by ``PROMOTION_METRIC`` on the validation slice.

    The holdout then judges the chosen one against the champion: choosing on the holdout too
    would favour whichever challenger got lucky on it.
    """
    metric = settings.PROMOTION_METRIC
    return sorted(round_.challengers.values(), key=lambda c: getattr(c.validation_scores, metric),
                  reverse=HIGHER_IS_BETTER[metric])


def _promote_best(run: PipelineRun, round_: ChallengerRound, current_version: int | None) -> PromotionDecision:
    metric = settings.PROMOTION_METRIC
    ranked = _ranked(round_)
    best = ranked[0]
    if best.version is None:
        raise ApplicationError("the best challenger was not registered")
    if current_version is not None:
        # Re-scored on this run's holdout: a stored number from another holdout says nothing.
        champion = get_registry().model_load(version=current_version)
        reference_scores, reference_proba = model_rescore(model=champion, split=round_.split, history=round_.history)
        against = f"champion v{current_version}"
    else:
        # The first champion must earn its place against the zone x action lookup.
        reference_scores, reference_proba = round_.baseline, round_.baseline_proba
        against = "baseline"
    table = {"baseline (zone x action)": round_.baseline.as_metrics()}
    for challenger in ranked:
        table[f"{challenger.kind} v{challenger.version}"] = challenger.scores.as_metrics()
    if current_version is not None:
        table[f"champion v{current_version} (re-scored)"] = reference_scores.as_metrics()
    run.data = {**(run.data or {}), "holdout_scores": table,
                "validation_scores": {f"{c.kind} v{c.version}": c.validation_scores.as_metrics() for c in ranked}}
    PipelineRun.objects.filter(pk=run.pk).update(data=run.data)
    interval = paired_gain(
        metric=metric, y_true=round_.holdout_labels, proba=best.holdout_proba, reference_proba=reference_proba,
        game_ids=round_.holdout_games, confidence=settings.PROMOTION_CONFIDENCE,
        resamples=settings.PROMOTION_BOOTSTRAP_RESAMPLES, seed=run.pk or 0,
    )
    verdict = promotion_decide(
        metric=metric,
        min_gain=settings.PROMOTION_MIN_GAIN,
        challenger=getattr(best.scores, metric),
        champion=getattr(reference_scores, metric),
        interval=interval,
        against=against,
    )
    from predictions.shadow import promotion_held

    if verdict.promote and promotion_held(has_champion=current_version is not None):
        # SHADOW_REQUIRED_FOR_PROMOTION: the winner serves in shadow; shadow_review promotes it later.
        verdict = replace(verdict, promote=False, reason=f"{verdict.reason}; held for a shadow period (a significant "
                                                          "live gain is required before promotion)")
    return decision_record(
        kind=PromotionDecision.Kind.AUTOMATIC,
        challenger_version=best.version,
        champion_version=current_version,
        promoted=verdict.promote,
        reason=f"{best.kind} v{best.version} (best on validation): {verdict.reason}",
        triggered_by=f"pipeline run #{run.pk} ({run.trigger})"[:200],
        metric=metric,
        min_gain=settings.PROMOTION_MIN_GAIN,
        challenger_score=getattr(best.scores, metric),
        champion_score=getattr(reference_scores, metric),
        compared_with=PromotionDecision.Against.CHAMPION if current_version is not None else PromotionDecision.Against.BASELINE,
        interval=interval,
        pipeline_run=run,
    )


def latest_drift() -> DriftReport | None:
    return DriftReport.objects.order_by("-created_at").first()
