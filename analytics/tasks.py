"""Analytics tasks: thin, idempotent (each run publishes a new generation of figures)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings


@shared_task(
    name="analytics.refresh_figures",
    bind=True,
    acks_late=True,
    soft_time_limit=settings.FIGURES_SOFT_TIME_LIMIT,
    time_limit=settings.FIGURES_TIME_LIMIT,
)
def refresh_figures(self: Any, seasons: list[str] | None = None) -> dict[str, Any]:
    """Shot charts, match views and shot-making over expected of ``seasons`` (all when None), stored.

    One season per run (the latest first), then the task queues itself for the rest: a refresh
    of seven seasons is seven tasks within the time limit, not one beyond it.
    """
    from analytics.services import figures_refresh

    result = figures_refresh(seasons=seasons, max_seasons=1)
    if result["deferred"]:  # another refresh holds the lock: come back after it
        self.apply_async(kwargs={"seasons": seasons}, countdown=max(settings.FIGURES_REFRESH_DELAY_SECONDS, 60))
    elif result["remaining"]:  # one season per task: the next one goes on at once
        self.apply_async(kwargs={"seasons": result["remaining"]})
    return result


@shared_task(name="analytics.refresh_live_status", soft_time_limit=60, time_limit=90)
def refresh_live_status() -> dict[str, Any]:
    """The front page's live figures (each version's live quality, alerts firing), stored."""
    from analytics.status import live_status_refresh

    value = live_status_refresh()
    return {"versions": len(value["live"]), "alerts": len(value["alerts"])}
