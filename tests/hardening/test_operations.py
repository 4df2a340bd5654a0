"""The operations surface: /metrics and the detailed /readyz for operators only, the compose file
publishes only the web, and production refuses a guessable SECRET_KEY."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import yaml
from django.test import Client

from parivision.env import secret_key_weakness
from tests.ops.monitoring import MONITORING, ROOT

pytestmark = pytest.mark.django_db

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "operator-metrics-token-" + "x1y2z3" * 5


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_metrics_from_outside_without_the_token_is_refused(metrics_token: str) -> None:
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Token {metrics_token}"}):
        response = Client(**OUTSIDE).get("/metrics", **headers)
        assert response.status_code == 401, headers
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"parivision_" not in response.content


def test_metrics_with_the_bearer_token_are_served(metrics_token: str) -> None:
    response = Client(**OUTSIDE).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert response.status_code == 200
    assert b"django_http_requests" in response.content


def test_metrics_from_an_allowed_internal_address_need_no_token(settings: Any) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.2.2.3").get("/metrics").status_code == 401


def test_a_forged_forwarded_for_does_not_pass_for_an_internal_address(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    response = Client(**OUTSIDE).get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 401


def test_without_a_token_setting_no_bearer_value_opens_metrics(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert Client(**OUTSIDE).get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.fixture(autouse=True)
def _fresh_public_readiness() -> None:
    from parivision import health

    health._public_ready = (0.0, False)  # the public answer is cached for a second


@pytest.mark.usefixtures("mongo_db", "champion")
def test_readyz_tells_the_public_only_whether_it_is_ready(metrics_token: str) -> None:
    public = Client(**OUTSIDE).get("/readyz")
    assert public.status_code == 200
    assert public.json() == {"status": "ready"}
    detailed = Client(**OUTSIDE).get("/readyz", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert set(detailed.json()["checks"]) >= {"database", "mongodb", "redis"}


def test_readyz_never_shows_the_public_why_a_store_is_down(settings: Any, metrics_token: str) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    public = Client(**OUTSIDE).get("/readyz")
    assert public.status_code == 503
    assert public.json() == {"status": "unavailable"}
    detailed = Client(**OUTSIDE).get("/readyz", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert detailed.status_code == 503
    assert detailed.json()["checks"]["redis"]["ok"] is False


def test_liveness_stays_public() -> None:
    response = Client(**OUTSIDE).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_metrics_token_can_come_from_a_file(tmp_path) -> None:
    import os
    import subprocess
    import sys

    secret = tmp_path / "metrics_token"
    secret.write_text(TOKEN + "\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "parivision.settings.test", "METRICS_TOKEN_FILE": str(secret)}
    code = "from django.conf import settings; print(settings.METRICS_TOKEN)"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], env=env,
                            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert result.stdout.strip() == TOKEN, result.stderr[-2000:]


# --- docker compose and Prometheus -------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_publishes_only_the_web(compose: dict[str, Any]) -> None:
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"web"}
    assert compose["networks"]["internal"]["internal"] is True
    for name, service in compose["services"].items():
        assert "internal" in service.get("networks", compose["services"]["web"]["networks"]), name
        # Those need a way out (or in, for web): worker-batch imports files by URL, worker pulls feeds.
        if name not in {"web", "worker", "worker-batch", "mlflow", "alertmanager"}:
            assert service.get("networks") == ["internal"], name


def test_operator_ports_are_bound_to_the_loopback_only() -> None:
    override = yaml.safe_load((ROOT / "deploy" / "compose.operator-ports.yml").read_text())
    for name, service in override["services"].items():
        for port in service["ports"]:
            assert port.startswith("127.0.0.1:"), (name, port)


def test_prometheus_scrapes_the_app_with_the_token_from_a_secret_file(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for job in ("parivision-web", "parivision-feed"):
        assert jobs[job]["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/metrics_token"}
    assert "metrics_token" in compose["services"]["prometheus"]["secrets"]
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    assert compose["services"]["web"]["environment"]["METRICS_TOKEN"].startswith("${METRICS_TOKEN:?")


# --- the production SECRET_KEY guard -------------------------------------------------------------


@pytest.mark.parametrize("key", [
    "abcde" * 10,                                   # 50 characters, 5 distinct: the case found
    "abcdefghijklmnopqrstuvwxyz" * 2,               # a pattern typed twice
    "x" * 49 + "abcd",
    "insecure-" + secrets.token_urlsafe(64),
    secrets.token_urlsafe(20),                      # random but short
])  # fmt: skip
def test_weak_secret_keys_are_refused(key: str) -> None:
    assert secret_key_weakness(key) is not None


@pytest.mark.parametrize("make", [
    lambda: secrets.token_urlsafe(64), lambda: secrets.token_hex(32), lambda: secrets.token_hex(64),
    lambda: __import__("django.core.management.utils", fromlist=["x"]).get_random_secret_key(),
])  # fmt: skip
def test_random_secret_keys_pass(make: Any) -> None:
    for _ in range(20):
        key = make()
        assert secret_key_weakness(key) is None, key


def test_production_refuses_a_low_entropy_secret_key() -> None:
    from tests.test_settings import manage

    result = manage("check", SECRET_KEY="abcde" * 10, ALLOWED_HOSTS="x.example")
    assert result.returncode != 0
    assert "entropy" in result.stderr
