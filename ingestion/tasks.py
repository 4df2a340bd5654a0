"""Ingestion tasks: thin wrappers that take small parameters and call the services."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from ingestion.feed import FeedClientError, feed_pull
from ingestion.services import NO_SUCH_RUN, lake_transform_pending, run_claim, runs_sweep, shots_import_file

logger = logging.getLogger(__name__)


@shared_task(
    name="ingestion.pull_feed",
    bind=True,
    # Redelivered after a worker dies keeps its task id, hence its idempotency key: the feed
    # answers the same records again and the lake ignores those it already has (never lost).
    acks_late=True,
    autoretry_for=(FeedClientError,),
    retry_backoff=5,
    max_retries=2,
    soft_time_limit=120,
    time_limit=150,
)
def pull_feed(self: Any, url: str | None = None, n: int | None = None) -> dict[str, Any]:
    """Pull one batch from the feed into the lake, then hand it to the transform."""
    run, report, batch_id = feed_pull(url=url, n=n, task_id=self.request.id or "")
    if batch_id is not None:
        transform_lake.delay()
    return {"run_id": run.pk, "batch_id": batch_id, **report.as_dict()}


@shared_task(
    name="ingestion.transform_lake",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=600,
    time_limit=660,
)
def transform_lake(self: Any) -> dict[str, Any]:
    """Move every waiting lake batch into the warehouse (idempotent: safe to redeliver)."""
    run, report = lake_transform_pending(task_id=self.request.id or "")
    return {"run_id": run.pk, **report.as_dict()}


# acks_late + reject_on_worker_lost: a pool child killed mid-import (SIGKILL, the OOM killer)
# puts the message back on the queue, and the next delivery takes the run over and resumes it
# after its checkpoint. A whole worker killed is caught by ``sweep_runs`` (the run's lease).
@shared_task(
    name="ingestion.import_file",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.INGEST_IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.INGEST_IMPORT_TIME_LIMIT,
)
def import_file(self: Any, location: str, run_id: int | None = None, attempt: int | None = None) -> dict[str, Any]:
    """Import a CSV or zip (path or URL) of either format (idempotent: safe to redeliver).

    ``run_id``/``attempt``: resume that run (queued by the sweeper after its worker died).
    """
    task_id = self.request.id or ""
    resume = None
    if run_id is not None:
        resume, why = run_claim(run_id=run_id, attempt=attempt)
        if resume is None:
            logger.info("import run #%s of %s not resumed: %s", run_id, location, why)
            return {"run_id": run_id, "skipped": why}
    elif task_id:
        # A redelivery of this very task: take its run over when its worker is gone.
        resume, why = run_claim(task_id=task_id)
        if resume is None and why != NO_SUCH_RUN:
            logger.info("import of %s not repeated: %s", location, why)
            return {"skipped": why}
    run, report = shots_import_file(location=location, task_id=task_id, resume=resume)
    return {"run_id": run.pk, "attempts": run.attempts, **report.as_dict()}


@shared_task(name="ingestion.sweep_runs", soft_time_limit=60, time_limit=90)
def sweep_runs() -> dict[str, list[int]]:
    """Resume or fail the runs whose worker is gone (their lease expired)."""

    def enqueue(run_pk: int) -> None:
        from ingestion.models import IngestionRun

        run = IngestionRun.objects.get(pk=run_pk)
        import_file.apply_async(kwargs={"location": run.source, "run_id": run.pk, "attempt": run.attempts})

    return runs_sweep(enqueue=enqueue)


@shared_task(name="ingestion.refresh_figures", soft_time_limit=120, time_limit=150)
def refresh_figures() -> dict[str, Any]:
    """The data page's ingestion figures (runs per day, store counts, quarantine reasons), stored."""
    from ingestion.figures import ingestion_figures_refresh

    value = ingestion_figures_refresh()
    return {"days": len(value["daily"]["labels"]), **value["counts"]}
