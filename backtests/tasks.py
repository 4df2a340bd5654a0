"""Backtest tasks: thin, idempotent (a backtest is claimed once), with their own time limits."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from backtests.services import backtest_execute


@shared_task(
    name="backtests.run_backtest",
    bind=True,
    acks_late=True,
    soft_time_limit=settings.BACKTEST_SOFT_TIME_LIMIT,
    time_limit=settings.BACKTEST_TIME_LIMIT,
)
def run_backtest(self: Any, backtest_id: int) -> dict[str, Any]:
    backtest = backtest_execute(backtest_id=backtest_id, task_id=self.request.id or "")
    return {"backtest_id": backtest.pk, "status": backtest.status, "error": backtest.error}
