"""A store that is down answers a fast 503 in the JSON shape, never a 500 or a 10-second wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from parivision import mongo
from tests import services
from tests.hardening.conftest import assert_error_shape, shot

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def mongodb_down(settings: Any) -> Iterator[None]:
    """MongoDB at an address where nothing listens.

    The web waits 800 ms for a server (gunicorn.conf.py); 250 ms here leaves the rest of the second
    to the request itself on a busy shared test machine.
    """
    settings.MONGODB_URI = f"mongodb://127.0.0.1:{services.free_port()}/"
    settings.MONGODB_SERVER_SELECTION_TIMEOUT_MS = 250
    mongo.reset_client()
    yield
    mongo.reset_client()


def test_a_client_built_while_the_settings_pointed_elsewhere_is_not_kept(settings: Any) -> None:
    """/readyz's model check reads MongoDB in a thread of its own; in the test that points
    MONGODB_URI at a dead address that thread could build the process's client after the test had
    reset it, and every later test waited on the dead address (seen twice in full runs)."""
    good_uri = settings.MONGODB_URI
    assert mongo.get_client().admin.command("ping")["ok"] == 1
    settings.MONGODB_URI = f"mongodb://127.0.0.1:{services.free_port()}/"
    stale = mongo.get_client()  # what the late thread built
    settings.MONGODB_URI = good_uri  # restored by the settings fixture; nobody resets the client
    client = mongo.get_client()
    assert client is not stale
    assert client.admin.command("ping")["ok"] == 1


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


@pytest.mark.usefixtures("champion")
def test_a_prediction_for_an_uncached_player_during_a_mongodb_outage_is_a_fast_503(
    api: APIClient, mongodb_down: None
) -> None:
    api.post("/api/v1/predictions", shot(player_id=1), format="json")  # loads the model (not timed)
    response, seconds = timed(lambda: api.post("/api/v1/predictions", shot(player_id=424242), format="json"))
    assert response.status_code == 503
    assert_error_shape(response.json(), code="dependency_unavailable")
    assert response["Retry-After"] == "5"
    assert seconds < 1.0, seconds


def test_the_champion_endpoint_during_a_mongodb_outage_is_a_fast_503(mongodb_down: None) -> None:
    from training.models import ModelVersion

    ModelVersion.objects.create(version=3, algorithm="xgboost", mlflow_run_id="r3", is_champion=True,
                                holdout_scores={"accuracy": 0.6})
    response, seconds = timed(lambda: APIClient().get("/api/v1/models/champion"))
    assert response.status_code == 503
    assert_error_shape(response.json(), code="dependency_unavailable")
    assert "Connection refused" not in response.content.decode()  # internals stay in the log
    assert seconds < 1.0, seconds


def test_redis_down_lets_api_reads_through(settings: Any) -> None:
    """The throttles fail open (logged): the broker being away does not take the API down too."""
    from predictions import throttling

    settings.REDIS_URL = f"redis://127.0.0.1:{services.free_port()}/0"  # a new client for the new URL
    throttling.reset()
    response, seconds = timed(lambda: APIClient().get("/api/v1/models"))
    assert response.status_code == 200
    assert seconds < 1.0, seconds


def test_web_processes_wait_at_most_800_ms_for_mongodb(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from tests.ops.monitoring import ROOT

    env = {k: v for k, v in os.environ.items() if k != "MONGODB_SERVER_SELECTION_TIMEOUT_MS"}
    code = ("import os, runpy; runpy.run_path('parivision/gunicorn.conf.py'); "
            "print(os.environ['MONGODB_SERVER_SELECTION_TIMEOUT_MS'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**env, "PARIVISION_VAR_DIR": str(tmp_path)}, check=False)
    assert result.stdout.strip() == "800", result.stderr
