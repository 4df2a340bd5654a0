"""A task that only holds a worker for a while: the integration test's stand-in for a long backtest.

Imported by the test's workers only (``celery worker --include tests.ops.hold_task``).
"""

from __future__ import annotations

import time

from celery import shared_task


@shared_task(name="tests.hold_worker", acks_late=True, soft_time_limit=110, time_limit=120)
def hold_worker(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
