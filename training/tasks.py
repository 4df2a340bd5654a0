"""Training tasks: thin, on the ``ml`` queue, with their own time limits."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from training.models import PipelineRun
from training.services.pipeline import pipeline_execute


@shared_task(
    name="training.run_ml_pipeline",
    bind=True,
    acks_late=True,
    soft_time_limit=settings.ML_PIPELINE_SOFT_TIME_LIMIT,
    time_limit=settings.ML_PIPELINE_TIME_LIMIT,
)
def run_ml_pipeline(self: Any, pipeline_run_id: int | None = None, force: bool = False, trigger: str = "beat") -> dict[str, Any]:
    """Drift → train both → evaluate → promote. Beat calls it without a run; one is created."""
    if pipeline_run_id is None:
        pipeline_run_id = PipelineRun.objects.create(trigger=trigger, forced=force).pk
    run = pipeline_execute(pipeline_run_id=pipeline_run_id, task_id=self.request.id or "")
    return {"pipeline_run_id": run.pk, "status": run.status, "message": run.message}


@shared_task(
    name="training.compute_model_figures",
    acks_late=True,
    soft_time_limit=settings.FIGURES_SOFT_TIME_LIMIT,
    time_limit=settings.FIGURES_TIME_LIMIT,
)
def compute_model_figures(version: int) -> dict[str, Any]:
    """The model page's calibration and importance for ``version``, stored (idempotent: replaces them)."""
    from parivision import figures
    from training.services.figures import model_figures_compute, status_name

    figures.status_set(name=status_name(version), state=figures.RUNNING)
    try:
        value = model_figures_compute(version=version)
    except Exception as error:
        figures.status_set(name=status_name(version), state=figures.FAILED, message=f"{type(error).__name__}: {error}")
        raise
    figures.status_set(name=status_name(version), state=figures.DONE)
    return {"version": version, "holdout_rows": value["holdout_rows"]}


@shared_task(
    name="training.refresh_model_card",
    acks_late=True,
    soft_time_limit=settings.FIGURES_SOFT_TIME_LIMIT,
    time_limit=settings.FIGURES_TIME_LIMIT,
)
def refresh_model_card(version: int) -> dict[str, Any]:
    """Rebuild the card of ``version`` (a decision about it was recorded); a failure is stored, not raised."""
    from training.services.cards import card_generate_safely

    document = card_generate_safely(version=version)
    return {"version": version, "generated": document is not None}


@shared_task(
    name="training.refit_recalibration",
    acks_late=True,
    soft_time_limit=settings.FIGURES_SOFT_TIME_LIMIT,
    time_limit=settings.FIGURES_TIME_LIMIT,
)
def refit_recalibration(version: int | None = None) -> dict[str, Any]:
    """Refit the in-season correction of ``version`` (default: the champion and the shadow, each its own)
    on the newest settled shots."""
    from predictions.shadow import SHADOW_ALIAS
    from training.registry import CHAMPION_ALIAS, get_registry
    from training.services.recalibration import recalibration_refit

    if not settings.RECALIBRATION_ENABLED:
        return {"refitted": [], "reason": "RECALIBRATION_ENABLED is off"}
    if version is not None:
        versions = [version]
    else:
        registry = get_registry()
        served = (registry.alias_version(alias=alias) for alias in (CHAMPION_ALIAS, SHADOW_ALIAS))
        versions = sorted({int(v) for v in served if v is not None})
    refitted: dict[str, Any] = {}
    for each in versions:
        fitted = recalibration_refit(version=each)
        if fitted is not None:
            refitted[str(each)] = {"fitted_before": str(fitted.fitted_before), "2PT": fitted.two.intercept,
                                   "3PT": fitted.three.intercept}
    return {"refitted": sorted(refitted), "versions": refitted,
            "reason": "" if refitted else ("no champion" if not versions else "no settled shots")}


@shared_task(
    name="training.refresh_drift_story",
    acks_late=True,
    soft_time_limit=settings.FIGURES_SOFT_TIME_LIMIT,
    time_limit=settings.FIGURES_TIME_LIMIT,
)
def refresh_drift_story(force: bool = False) -> dict[str, Any]:
    """The model page's drift story (inputs drifted since the champion's window, its calibration per shot
    family on the newest settled shots), stored; skipped when nothing it depends on changed."""
    from training.services.drift import drift_story_refresh

    return drift_story_refresh(force=force)
