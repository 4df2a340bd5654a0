"""Imports survive their worker being killed with SIGKILL: a real Celery worker, a real kill.

Each test runs its own worker (prefork, two children, a queue of its own) so that killing
it leaves the session's worker alone. The file is a synthetic season slice written by the
generator: large enough that the import is still running when the kill lands.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingestion.generator import generate_rows, write_csv
from ingestion.models import IngestionRun
from ingestion.readers import iter_mapped
from ingestion.services import runs_sweep
from parivision import mongo
from tests.services import free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("mongo_db")]

GAMES = 60


@pytest.fixture(scope="module")
def season_slice(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    path = tmp_path_factory.mktemp("crash") / "slice.csv"
    write_csv(path, generate_rows(games=GAMES, seed=11))
    expected = len({r.shot.key for r in iter_mapped(path) if r.shot is not None})
    return str(path), expected


@contextlib.contextmanager
def own_worker(env: dict[str, str], folder: Path, queue: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker in its own session (so the whole of it can be killed), on its own queue."""
    from parivision.celery import app

    node = f"crash-{os.getpid()}-{free_port()}@localhost"
    log = folder / f"{node}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parivision", "worker", "-Q", queue, "-c", "2", "--pool", "prefork",
         "-n", node, "--without-mingle", "--without-gossip", "-l", "INFO"],
        env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: process.poll() is None and bool(app.control.ping(destination=[node], timeout=0.5)),
                   timeout=60, what="celery worker", log=log)  # fmt: skip
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], *, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def stored() -> int:
    return mongo.warehouse_collection(mongo.SHOTS).count_documents({})


def import_run() -> IngestionRun | None:
    return IngestionRun.objects.filter(kind="file").order_by("-started_at").first()


def half_way(expected: int) -> bool:
    run = import_run()
    return run is not None and 0 < run.inserted < expected // 2 and run.owner.count(":") == 1


@pytest.mark.django_db(transaction=True)
def test_a_pool_child_killed_mid_import_is_redelivered_and_the_import_completes(worker_env, tmp_path, season_slice):
    from ingestion.tasks import import_file

    path, expected = season_slice
    env = {**worker_env, "INGEST_BATCH_SIZE": "300", "INGEST_HEARTBEAT_S": "1"}
    with own_worker(env, tmp_path, "crash-child"):
        result = import_file.apply_async(args=[path], queue="crash-child")
        wait_for(lambda: half_way(expected))
        run = import_run()
        child_pid = int(run.owner.rsplit(":", 1)[1])
        os.kill(child_pid, signal.SIGKILL)  # the OOM killer, or kill -9 of the process doing the work

        outcome = result.get(timeout=240)

    run.refresh_from_db()
    assert run.status == IngestionRun.Status.SUCCEEDED
    assert run.attempts == 2  # taken over by the redelivered task, after its checkpoint
    assert outcome["run_id"] == run.pk
    assert stored() == expected
    assert run.inserted == expected  # exact: what the dead attempt wrote is counted as this run's
    assert IngestionRun.objects.filter(kind="file").count() == 1
    assert not IngestionRun.objects.filter(status=IngestionRun.Status.RUNNING).exists()


@pytest.mark.django_db(transaction=True)
def test_a_whole_worker_killed_mid_import_is_resumed_by_the_sweeper(worker_env, tmp_path, season_slice, settings):
    from ingestion.tasks import import_file

    path, expected = season_slice
    env = {**worker_env, "INGEST_BATCH_SIZE": "300", "INGEST_HEARTBEAT_S": "1"}
    with own_worker(env, tmp_path, "crash-whole") as worker:
        import_file.apply_async(args=[path], queue="crash-whole")
        wait_for(lambda: half_way(expected))
        os.killpg(worker.pid, signal.SIGKILL)  # kill -9 of the worker and its children
        worker.wait(timeout=10)
    run = import_run()
    written_before = stored()
    assert 0 < written_before < expected
    assert run.status == IngestionRun.Status.RUNNING  # nobody has noticed yet

    settings.INGEST_RUN_LEASE_S = 3600
    assert runs_sweep() == {"resumed": [], "failed": []}  # the lease has not expired: left alone

    settings.INGEST_RUN_LEASE_S = 2
    time.sleep(2.5)
    with own_worker(env, tmp_path, "crash-whole"):
        def enqueue(run_pk: int) -> None:
            again = IngestionRun.objects.get(pk=run_pk)
            import_file.apply_async(kwargs={"location": again.source, "run_id": run_pk, "attempt": again.attempts},
                                    queue="crash-whole")  # fmt: skip

        assert runs_sweep(enqueue=enqueue) == {"resumed": [run.pk], "failed": []}
        wait_for(lambda: IngestionRun.objects.get(pk=run.pk).status != IngestionRun.Status.RUNNING, timeout=240)

    run.refresh_from_db()
    assert run.status == IngestionRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    assert stored() == expected
    assert run.inserted == expected
    assert run.checkpoint["last_line"] > 0


@pytest.mark.django_db
def test_the_sweeper_marks_a_run_without_attempts_left_failed(settings):
    from django.utils import timezone

    settings.INGEST_RUN_LEASE_S = 60
    settings.INGEST_MAX_ATTEMPTS = 2
    old = timezone.now() - timezone.timedelta(minutes=5)
    exhausted = IngestionRun.objects.create(kind="file", source="/x.csv", heartbeat_at=old, attempts=2)
    transform = IngestionRun.objects.create(kind="transform", source="lake",
                                            heartbeat_at=timezone.now() - timezone.timedelta(minutes=20))
    slow_pull = IngestionRun.objects.create(kind="feed", source="http://feed", heartbeat_at=old)  # may still wait
    alive = IngestionRun.objects.create(kind="file", source="/y.csv", heartbeat_at=timezone.now())
    queued: list[int] = []

    outcome = runs_sweep(enqueue=queued.append)
    assert outcome["resumed"] == []
    assert sorted(outcome["failed"]) == sorted([exhausted.pk, transform.pk])
    exhausted.refresh_from_db()
    assert exhausted.status == IngestionRun.Status.FAILED
    assert "worker lost" in exhausted.error
    assert IngestionRun.objects.get(pk=alive.pk).status == IngestionRun.Status.RUNNING
    assert IngestionRun.objects.get(pk=slow_pull.pk).status == IngestionRun.Status.RUNNING
    assert queued == []
