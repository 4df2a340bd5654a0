"""Celery queues (issue #10): each task lands on its queue, the live pool never takes a long task,
every launcher consumes every queue, and the broker never redelivers a task still within its limit."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from parivision import queues
from parivision.celery import app

ROOT = Path(__file__).resolve().parents[1]

# Every task the platform registers, and the queue it must land on. A new task fails
# test_every_registered_task_is_listed_here until someone decides where it runs.
EXPECTED_QUEUE = {
    "analytics.refresh_figures": queues.ML,
    "analytics.refresh_live_status": queues.LIVE,
    "backtests.run_backtest": queues.BACKTESTS,
    "betting.advance_stream": queues.LIVE,
    "betting.settle_pending": queues.LIVE,
    "betting.settle_shot": queues.LIVE,
    "ingestion.import_file": queues.IMPORTS,
    "ingestion.pull_feed": queues.LIVE,
    "ingestion.refresh_figures": queues.LIVE,
    "ingestion.sweep_runs": queues.LIVE,
    "ingestion.transform_lake": queues.LIVE,
    "predictions.join_outcomes": queues.LIVE,
    "predictions.roll_up_log": queues.ML,
    "predictions.shadow_review": queues.LIVE,
    "predictions.shadow_score": queues.LIVE,
    "training.compute_model_figures": queues.ML,
    "training.refresh_drift_story": queues.ML,  # Evidently on the champion's window and a re-prediction
    "training.refresh_model_card": queues.ML,  # writes MLflow artifacts: never on the live pool
    "training.refit_recalibration": queues.ML,  # re-predicts the window of settled shots: minutes of CPU
    "training.run_ml_pipeline": queues.ML,
}
# The live queue's tasks are short: none may hold a live worker longer than this (seconds).
LIVE_TASK_MOST_SECONDS = 15 * 60


def platform_tasks() -> dict[str, Any]:
    app.loader.import_default_modules()  # autodiscover every app's tasks.py
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def queue_of(name: str) -> str:
    """Where Celery's router sends a task sent by name with no explicit queue."""
    options = app.amqp.router.route({}, name, args=(), kwargs={})
    return str(options["queue"].name)


def test_every_registered_task_is_listed_here() -> None:
    assert set(platform_tasks()) == set(EXPECTED_QUEUE)


@pytest.mark.parametrize(("name", "queue"), sorted(EXPECTED_QUEUE.items()))
def test_each_task_lands_on_its_queue(name: str, queue: str) -> None:
    assert queue_of(name) == queue


def test_the_router_check_can_tell_queues_apart() -> None:
    # The route above is Celery's own answer, not the table read back: an unrouted name goes to live.
    assert queue_of("nobody.some_task") == queues.LIVE
    assert queue_of("backtests.anything_new") == queues.BACKTESTS


def test_no_live_task_can_run_for_long() -> None:
    for name, task in platform_tasks().items():
        if EXPECTED_QUEUE[name] == queues.LIVE:
            limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
            assert limit <= LIVE_TASK_MOST_SECONDS, (name, limit)


def test_the_visibility_timeout_outlasts_every_tasks_hard_time_limit() -> None:
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout == settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    limits = {name: task.time_limit or settings.CELERY_TASK_TIME_LIMIT for name, task in platform_tasks().items()}
    longest = max(limits, key=lambda name: limits[name])
    assert limits[longest] == settings.ML_PIPELINE_TIME_LIMIT  # the nightly pipeline, 65 minutes
    assert timeout > limits[longest]
    # Celery's Redis default (one hour) would redeliver the pipeline while it still runs.
    assert limits[longest] > 3_600


def test_the_visibility_timeout_follows_a_raised_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import parivision.settings.base as base

    monkeypatch.setenv("BACKTEST_TIME_LIMIT", "20000")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 20_000
    finally:
        monkeypatch.delenv("BACKTEST_TIME_LIMIT")
        importlib.reload(base)


def test_the_live_pool_consumes_no_long_queue_and_the_pools_cover_every_queue() -> None:
    assert queues.WORKER_POOLS["live"] == (queues.LIVE,)
    consumed = {queue for pool in queues.WORKER_POOLS.values() for queue in pool}
    assert consumed == set(queues.QUEUES)
    assert set(queues.LONG_QUEUES) == set(queues.QUEUES) - {queues.LIVE}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= set(queues.LONG_QUEUES)
    assert settings.CELERY_TASK_DEFAULT_QUEUE == queues.LIVE


def worker_queues(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


def test_docker_compose_runs_the_three_pools() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {name: worker_queues(s["command"]) for name, s in services.items() if "worker" in s.get("command", [])}
    assert workers == {
        "worker": set(queues.WORKER_POOLS["live"]),
        "worker-batch": set(queues.WORKER_POOLS["batch"]),
        "worker-ml": set(queues.WORKER_POOLS["ml"]),
    }


def test_up_sh_starts_a_live_worker_and_a_long_worker_on_every_other_queue() -> None:
    script = (ROOT / "scripts" / "up.sh").read_text()
    starts = [line for line in script.splitlines() if "celery -A parivision worker" in line]
    assert len(starts) == 2
    assert '-Q "$live_queues"' in starts[0]
    assert '-Q "$long_queues"' in starts[1]
    assert "live_queues=$(pool live)" in script
    assert "long_queues=$(pool batch ml)" in script
    # up.sh's own helper, run as up.sh runs it: the queue lists come from parivision/queues.py.
    helper = next(line for line in script.splitlines() if line.startswith("pool()"))
    for names, expected in (("live", queues.WORKER_POOLS["live"]),
                            ("batch ml", queues.WORKER_POOLS["batch"] + queues.WORKER_POOLS["ml"])):
        out = subprocess.run(["bash", "-c", f"PY={shlex.quote(sys.executable)}; {helper}; pool {names}"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        assert out.strip().split(",") == list(expected)


def test_the_default_beat_schedules_send_each_task_to_its_routed_queue() -> None:
    from parivision.schedules import DEFAULT_SCHEDULES

    for schedule in DEFAULT_SCHEDULES:
        assert schedule.task in EXPECTED_QUEUE, schedule.task
        # A schedule naming a queue overrides the routes: it must name the same one.
        assert (schedule.queue or queue_of(schedule.task)) == EXPECTED_QUEUE[schedule.task], schedule.name
