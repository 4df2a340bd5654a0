"""Real workers laid out as production runs them (parivision/queues.py): a settlement is served
while every process of the long pool is busy with backtest-queue work (issue #10)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from parivision import queues
from tests import services

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOLD_SECONDS = 60


@pytest.fixture
def isolated_pools(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Celery]:
    """The live and the long pool, one process each, on a broker database of their own (a session
    worker consuming every queue, when another test started one, never sees these messages)."""
    url = worker_env["REDIS_URL"].rsplit("/", 1)[0] + "/3"
    env = {**worker_env, "CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url, "CELERY_METRICS_PORT": "0"}
    sender = Celery("pv-queue-isolation", set_as_current=False)
    sender.config_from_object("django.conf:settings", namespace="CELERY")
    sender.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    long_pool = ",".join(queues.WORKER_POOLS["batch"] + queues.WORKER_POOLS["ml"])
    with ExitStack() as stack:
        for name, pool in (("live", ",".join(queues.WORKER_POOLS["live"])), ("long", long_pool)):
            stack.enter_context(services.celery_worker(env, tmp_path, queues=pool, concurrency=1,
                                                       include="tests.ops.hold_task", name=f"worker-{name}"))
        try:
            yield sender
        finally:
            with sender.connection_for_write() as connection:  # nothing left for the next start
                for queue in queues.QUEUES:
                    connection.default_channel.queue_purge(queue)
            sender.control.revoke([r.id for r in getattr(sender, "_held", [])], terminate=True)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_settlement_is_served_while_the_backtest_queue_is_busy(isolated_pools: Celery, tmp_path: Path) -> None:
    sender = isolated_pools
    # More held tasks than both pools have processes: a live worker that took backtest-queue work
    # would be stuck too, and the settlement below would wait HOLD_SECONDS.
    held = [sender.send_task("tests.hold_worker", args=[HOLD_SECONDS], queue=queues.BACKTESTS) for _ in range(3)]
    sender._held = held  # type: ignore[attr-defined]  # revoked when the fixture ends
    wait_for(lambda: any(r.state == "STARTED" for r in held), 60, "the long pool to start a held task")
    started = time.monotonic()

    # Sent by name with no queue: Celery's routes put it on the live queue.
    settled = sender.send_task("betting.settle_pending").get(timeout=HOLD_SECONDS / 2)
    took = time.monotonic() - started

    assert settled == []  # nothing taken to settle: the task ran, and answered
    assert took < HOLD_SECONDS / 2
    states = [r.state for r in held]
    assert "SUCCESS" not in states, states  # the backtest queue was still busy all along
    assert sorted(states) == ["PENDING", "PENDING", "STARTED"]  # one process busy, two waiting their turn
    live_log = (tmp_path / "worker-live.log").read_text()
    assert "Task tests.hold_worker[" not in live_log
    assert "Task betting.settle_pending[" in live_log
