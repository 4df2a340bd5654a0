"""Betting tasks: thin wrappers around the services (idempotent, safe to repeat)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from betting import services


@shared_task(name="betting.advance_stream", soft_time_limit=60, time_limit=90, ignore_result=True)
def advance_stream(*, force: bool = False) -> dict[str, Any]:
    """Move the live stream on when its pace says so (beat), or at once (``force``: the operator)."""
    return services.stream_advance(force=force).as_dict()


@shared_task(name="betting.settle_shot", acks_late=True, autoretry_for=(ConnectionError,), max_retries=5,
             retry_backoff=True, soft_time_limit=60, time_limit=90)
def settle_shot(*, shot_id: int) -> dict[str, Any]:
    """Settle the bets of a taken shot; a re-run pays nothing twice."""
    return services.bets_settle(shot_id=shot_id).as_dict()


@shared_task(name="betting.settle_pending", acks_late=True, soft_time_limit=120, time_limit=150)
def settle_pending() -> list[dict[str, Any]]:
    """Catch-up for taken shots whose settlement task was lost."""
    return [report.as_dict() for report in services.bets_settle_pending()]
