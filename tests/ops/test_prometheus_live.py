"""The real Prometheus scrapes the running app and the "no predictions served" alert fires, then resolves.

Prometheus (Debian's /usr/bin/prometheus) runs on 127.0.0.1 with a temporary store, scrapes
pytest-django's live server every second and evaluates the real recording rules plus the real
alerting rules with their `for:` shortened to one second.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.ops.monitoring import PROMETHEUS_DIR, rule_groups, tool
from tests.predictions.conftest import shot
from tests.services import free_port, stop, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mongo_db", "_serving_reset"),
]

ALERT = "PariVisionNoPredictionsServed"


@pytest.fixture
def _serving_reset() -> Iterator[None]:
    """No champion in memory before the test, and none left behind (with its alias watcher) after it."""
    from predictions import serving
    from predictions.log import prediction_log

    serving.reset()
    yield
    prediction_log.flush()
    serving.reset()


def fast_alerting_rules(folder: Path) -> Path:
    """The real alerting rules, each pending for one second instead of minutes."""
    groups = rule_groups(PROMETHEUS_DIR / "rules" / "alerting.rules")
    for group in groups:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["for"] = "1s"
    path = folder / "alerting.rules"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


@pytest.fixture
def prometheus(live_server: Any, tmp_path: Path, settings: Any) -> Iterator[str]:
    binary = tool("prometheus")
    # As in production: /metrics only with the bearer token, which Prometheus reads from a file
    # (the compose secret there); the loopback is not allowed in, so the token is what lets it scrape.
    settings.METRICS_TOKEN = "live-test-metrics-token-0123456789abcdef"
    settings.METRICS_ALLOWED_NETWORKS = []
    (tmp_path / "metrics_token").write_text(settings.METRICS_TOKEN + "\n")
    production_jobs = {job["job_name"]: job
                       for job in yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())["scrape_configs"]}
    authorization = {**production_jobs["parivision-web"]["authorization"],
                     "credentials_file": str(tmp_path / "metrics_token")}
    target = urllib.parse.urlsplit(live_server.url).netloc
    recording = yaml.safe_load((PROMETHEUS_DIR / "rules" / "recording.rules").read_text())
    for group in recording["groups"]:
        group["interval"] = "1s"
    (tmp_path / "recording.rules").write_text(yaml.safe_dump(recording, sort_keys=False))
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
        "rule_files": ["recording.rules", fast_alerting_rules(tmp_path).name],
        "scrape_configs": [{"job_name": "parivision-web", "metrics_path": "/metrics", "authorization": authorization,
                            "static_configs": [{"targets": [target]}]}],
    }  # fmt: skip
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=1).status == 200,
                   timeout=30, what="Prometheus", log=log)  # fmt: skip
        yield url
    finally:
        stop(process, grace=10)


def api(prometheus: str, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{prometheus}/api/v1/{path}{query}", timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def alert_rule(prometheus: str, name: str) -> dict[str, Any]:
    for group in api(prometheus, "rules", type="alert")["groups"]:
        for rule in group["rules"]:
            if rule["name"] == name:
                return rule
    raise AssertionError(f"Prometheus did not load the rule {name}")


def eventually(check: Any, *, timeout: float, what: str, between: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        if between:
            between()
        time.sleep(0.5)


@pytest.mark.usefixtures("champion")
def test_no_predictions_served_fires_on_a_quiet_api_and_resolves_when_shots_are_priced(
    prometheus: str, live_server: Any, django_user_model: Any
) -> None:
    from predictions.services import token_create

    # The app is scraped and healthy: the API-down alert stays quiet.
    eventually(lambda: any(t["health"] == "up" for t in api(prometheus, "targets")["activeTargets"]),
               timeout=20, what="Prometheus scraped the live server")  # fmt: skip
    rule = eventually(lambda: (r := alert_rule(prometheus, ALERT))["state"] == "firing" and r,
                      timeout=30, what=f"{ALERT} fired while no prediction was served")  # fmt: skip
    assert rule["alerts"][0]["labels"]["severity"] == "warning"
    assert alert_rule(prometheus, "PariVisionApiDown")["state"] == "inactive"

    user = django_user_model.objects.create_user(username="ops-live", password="pw-ops-live-123")
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_create(user=user).key}"

    def price_a_shot() -> None:
        response = session.post(f"{live_server.url}/api/v1/predictions", json=shot(), timeout=30)
        assert response.status_code == 200, response.text

    eventually(lambda: alert_rule(prometheus, ALERT)["state"] == "inactive", between=price_a_shot,
               timeout=45, what=f"{ALERT} resolved once shots were priced")  # fmt: skip

    # The recording rules the dashboards use see the same traffic, labelled by model version.
    # (Other tests of the session may have left series of their own in this process's registry,
    # and a rate needs two scrapes of the new traffic: wait for this series to rise above zero.)
    def single_v1_rate() -> float:
        rates = api(prometheus, "query", query="parivision:predictions:rate5m")["result"]
        served = {(r["metric"].get("endpoint"), r["metric"].get("model_version")): float(r["value"][1]) for r in rates}
        return served.get(("single", "1"), 0.0)

    rate = eventually(single_v1_rate, between=price_a_shot, timeout=30,
                      what="parivision:predictions:rate5m counts the priced shots")  # fmt: skip
    assert rate > 0
    p99_query = 'parivision:prediction_latency_seconds:p99_5m{endpoint="single", model_version="1"}'
    p99 = eventually(lambda: api(prometheus, "query", query=p99_query)["result"],
                     between=price_a_shot, timeout=20, what="the p99 latency is recorded")  # fmt: skip
    assert 0 < float(p99[0]["value"][1]) < 5
