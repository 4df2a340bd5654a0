"""The default Celery beat schedule, seeded into the database by ``manage.py seed_schedules``.

Operators edit the live schedule in the admin (django-celery-beat); this list is only
what a new installation starts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: dict[str, str] | None = None  # minute, hour, day_of_week, day_of_month, month_of_year
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None
    description: str = ""


DEFAULT_SCHEDULES: tuple[DefaultSchedule, ...] = (
    DefaultSchedule(
        name="Pull the feed",
        task="ingestion.pull_feed",
        every_seconds=60,
        description="Pull the next batch from FEED_URL into the lake; the transform follows.",
    ),
    DefaultSchedule(
        name="Nightly ML pipeline",
        task="training.run_ml_pipeline",
        crontab={"minute": "{ml_minute}", "hour": "{ml_hour}"},
        kwargs={"trigger": "beat (nightly)"},
        queue="ml",
        description="Drift report, both challengers, evaluation, promotion (skipped without new data).",
    ),
    DefaultSchedule(
        name="Refit the in-season recalibration",
        task="training.refit_recalibration",
        every_seconds=3600,
        queue="ml",
        description="The champion's per-family correction on the newest settled shots (RECALIBRATION_ENABLED).",
    ),
    DefaultSchedule(
        name="Refresh the drift story",
        task="training.refresh_drift_story",
        every_seconds=3600,
        queue="ml",
        description="Inputs drifted since the champion's window, its calibration per shot family on the newest "
                    "settled shots (recomputed only when the champion, the shots or its live forecasts changed).",
    ),
    DefaultSchedule(
        name="Transform the lake",
        task="ingestion.transform_lake",
        every_seconds=60,
        description="Catch-up: move any lake batch still waiting into the warehouse.",
    ),
    DefaultSchedule(
        name="Sweep abandoned ingestion runs",
        task="ingestion.sweep_runs",
        every_seconds=60,
        description="Resume (or mark failed) imports whose worker died: no run stays 'running' without one.",
    ),
    DefaultSchedule(
        name="Join predictions to outcomes",
        task="predictions.join_outcomes",
        every_seconds=60,
        description="Settle logged predictions whose shots reached the warehouse (live accuracy, log loss, Brier).",
    ),
    DefaultSchedule(
        name="Review the shadow challenger",
        task="predictions.shadow_review",
        every_seconds=60,
        description="Champion vs shadow on the same settled shots, with intervals; promotes when the gate says so.",
    ),
    DefaultSchedule(
        name="Score shadow requests (SHADOW_SCORER=worker)",
        task="predictions.shadow_score",
        every_seconds=5,
        description="Worker mode: score the shots the web processes handed over; does nothing in thread mode.",
    ),
    DefaultSchedule(
        name="Roll up the prediction log",
        task="predictions.roll_up_log",
        crontab={"minute": "17", "hour": "4"},
        description="Days older than PREDICTION_LOG_RETENTION_DAYS become per-version daily aggregates, then go.",
    ),
    DefaultSchedule(
        name="Advance the live shot stream",
        task="betting.advance_stream",
        every_seconds=5,
        description="Take the open shot and open the next one when the stream's pace says so.",
    ),
    DefaultSchedule(
        name="Refresh the ingestion figures",
        task="ingestion.refresh_figures",
        every_seconds=60,
        description="The data page's runs per day, store counts and quarantine reasons, stored for the page.",
    ),
    DefaultSchedule(
        name="Refresh the live status",
        task="analytics.refresh_live_status",
        every_seconds=60,
        description="Live quality of each model version and the alerts firing, stored for the front and model pages.",
    ),
    DefaultSchedule(
        name="Settle taken shots",
        task="betting.settle_pending",
        every_seconds=60,
        description="Catch-up: settle bets on taken shots whose settlement task was lost (idempotent).",
    ),
)
