"""Real processes: gunicorn with two workers, and a Celery worker with its own metrics endpoint."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from parivision import mongo
from predictions.services import token_create
from tests import services
from tests.predictions.conftest import MODEL_NAME, Store, shot
from training.ml.registry import CHAMPION

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("mongo_db")]


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(service_urls: dict[str, str], store: Store, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ, **service_urls,
        "DJANGO_SETTINGS_MODULE": "parivision.settings.test", "DATABASE_URL": _database_url(),
        "PARIVISION_VAR_DIR": str(tmp_path / "var"), "MLFLOW_TRACKING_URI": store.tracking_uri,
        "MLFLOW_ARTIFACT_ROOT": store.artifact_root, "MLFLOW_MODEL_NAME": MODEL_NAME,
        "MLFLOW_EXPERIMENT": "serving-tests", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        **extra,
    }  # fmt: skip


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{labels} not exposed")


@contextlib.contextmanager
def gunicorn(env: dict[str, str], folder: Path) -> Iterator[str]:
    port = services.free_port()
    log = folder / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "parivision.wsgi", "-c", "parivision/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        services.wait_until(lambda: requests.get(f"{url}/readyz", timeout=5).status_code == 200, timeout=60,
                            what="gunicorn", log=log)
        yield url
    finally:
        services.stop(process, grace=30)
    assert process.returncode == 0, log.read_text()[-3000:]


def test_gunicorn_workers_share_one_metrics_view_and_flush_their_log_on_shutdown(
    service_urls: dict[str, str], mlflow_store: Store, tmp_path: Path, django_user_model: Any
) -> None:
    mlflow_store.registry().alias_set(version=1, alias=CHAMPION)
    user = django_user_model.objects.create_user(username="remote", password="pw-remote-123")
    headers = {"Authorization": f"Token {token_create(user=user).key}"}
    # A flush interval longer than the test: only the shutdown hook can write the log.
    env = _env(service_urls, mlflow_store, tmp_path, PREDICTION_LOG_FLUSH_SECONDS="60",
               GUNICORN_ACCESS_LOG=str(tmp_path / "access.log"), GUNICORN_GRACEFUL_TIMEOUT="3")
    sent = 24
    with gunicorn(env, tmp_path) as url:
        def predict(_: int) -> int:  # a new connection each time, four at once: both workers get some
            return requests.post(f"{url}/api/v1/predictions", json=shot(), headers=headers, timeout=10).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(predict, range(sent))) == [200] * sent
        requests.post(f"{url}/api/v1/predictions", json=shot(period=99), headers=headers, timeout=10)
        scrapes = [requests.get(f"{url}/metrics", timeout=10).text for _ in range(4)]
        pids = {p.name.rsplit("_", 1)[1] for p in (tmp_path / "prometheus").glob("counter_*.db")}
        assert mongo.warehouse_collection(mongo.PREDICTIONS).count_documents({}) == 0  # still buffered

    assert 1 <= len(pids) <= 2  # usually both workers answered; the kernel decides
    for text in scrapes:  # whichever worker answers the scrape reports every worker's traffic
        assert _metric(text, "parivision_predictions_total", endpoint="single", model_version="1") == sent
        assert _metric(text, "parivision_prediction_latency_seconds_count", endpoint="single",
                       model_version="1") == sent
        assert _metric(text, "parivision_prediction_errors_total", endpoint="single", reason="validation") == 1
        assert _metric(text, "parivision_model_loaded") == 1
        assert _metric(text, "django_http_requests_total_by_method_total", method="POST") == sent + 1
    assert mongo.warehouse_collection(mongo.PREDICTIONS).count_documents({}) == sent  # nothing lost


def test_the_celery_worker_serves_task_metrics_from_its_children(
    service_urls: dict[str, str], mlflow_store: Store, tmp_path: Path
) -> None:
    from predictions.tasks import join_outcomes

    port = services.free_port()
    queue = f"pv-metrics-{port}"
    env = _env(service_urls, mlflow_store, tmp_path, CELERY_METRICS_PORT=str(port))
    (tmp_path / "prometheus").mkdir()
    with services.celery_worker(env, tmp_path, queues=queue):
        result = join_outcomes.apply_async(queue=queue).get(timeout=60)
        assert result == {"waiting_shots": 0, "settled_shots": 0, "settled_predictions": 0, "live": 0, "backfill": 0}
        # The result is stored before the success signal fires: give the child a moment.
        deadline = time.monotonic() + 15
        while True:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            if ('state="succeeded"' in text and "_duration_seconds_count" in text) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert _metric(text, "parivision_celery_tasks_total", task="predictions.join_outcomes", state="succeeded") == 1
    assert _metric(text, "parivision_celery_task_duration_seconds_count", task="predictions.join_outcomes") == 1
