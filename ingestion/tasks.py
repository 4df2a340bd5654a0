"""Ingestion tasks: thin wrappers that take small parameters and call the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from ingestion.feed import FeedClientError, feed_pull
from ingestion.services import lake_transform_pending, shots_import_file


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


@shared_task(name="ingestion.transform_lake", bind=True, acks_late=True, soft_time_limit=600, time_limit=660)
def transform_lake(self: Any) -> dict[str, Any]:
    """Move every waiting lake batch into the warehouse (idempotent: safe to redeliver)."""
    run, report = lake_transform_pending(task_id=self.request.id or "")
    return {"run_id": run.pk, **report.as_dict()}


@shared_task(name="ingestion.import_file", bind=True, acks_late=True, soft_time_limit=1800, time_limit=1900)
def import_file(self: Any, location: str) -> dict[str, Any]:
    """Import a CSV or zip (path or URL) of either format (idempotent: safe to redeliver)."""
    run, report = shots_import_file(location=location, task_id=self.request.id or "")
    return {"run_id": run.pk, **report.as_dict()}


@shared_task(name="ingestion.refresh_figures", soft_time_limit=120, time_limit=150)
def refresh_figures() -> dict[str, Any]:
    """The data page's ingestion figures (runs per day, store counts, quarantine reasons), stored."""
    from ingestion.figures import ingestion_figures_refresh

    value = ingestion_figures_refresh()
    return {"days": len(value["daily"]["labels"]), **value["counts"]}
