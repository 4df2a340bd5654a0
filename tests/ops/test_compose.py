"""docker-compose.yml against the Compose specification's JSON schema, and the stack's promises."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from tests.ops.monitoring import MONITORING, ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {
    "init", "web", "feed", "worker", "worker-batch", "worker-ml", "beat", "redis", "mongodb", "postgres", "mlflow", "prometheus",
    "alertmanager", "grafana", "homer", "node-exporter", "cadvisor", "mongodb-exporter", "portainer", "flower",
}  # fmt: skip


def compose_schema() -> dict[str, Any]:
    """The Compose specification's schema as vendored by check-jsonschema (a dev requirement)."""
    try:
        vendored = resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:
        pytest.skip("check-jsonschema is not installed (requirements/dev.txt ships the Compose schema)")
    return json.loads((vendored / "compose-spec.json").read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # YAML merge keys (<<: *app) resolved


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def test_the_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = compose_schema()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_does_catch_a_mistake(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["restart"] = ["always"]
    broken["services"]["web"]["healthcheck_typo"] = {}
    validator = jsonschema.Draft202012Validator(compose_schema())
    assert len(list(validator.iter_errors(broken))) >= 2


def test_the_stack_has_every_service_the_issue_lists(services: dict[str, Any]) -> None:
    assert set(services) == SERVICES
    assert services["mongodb"]["image"].startswith("mongo:7")
    assert services["mongodb-exporter"]["image"].startswith("percona/mongodb_exporter:")
    for optional in ("portainer", "flower"):
        assert services[optional]["profiles"] == ["tools"]


def test_every_long_running_service_restarts_and_the_core_ones_have_health_checks(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name != "init":
            assert service.get("restart") == "unless-stopped", name
    for name in ("postgres", "mongodb", "redis", "worker", "worker-batch", "worker-ml", "prometheus", "alertmanager",
                 "grafana"):
        assert service_healthcheck(services[name]), name
    # web, feed and mlflow use their image's HEALTHCHECK (Dockerfile).
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "/healthz" in dockerfile
    assert "/health'" in dockerfile


def service_healthcheck(service: dict[str, Any]) -> list[str]:
    check = service.get("healthcheck") or {}
    return [] if check.get("disable") else check.get("test", [])


def test_the_app_waits_for_healthy_stores_and_the_one_shot_set_up(services: dict[str, Any]) -> None:
    for name in ("web", "feed", "worker", "worker-batch", "worker-ml", "beat"):
        depends = services[name]["depends_on"]
        assert depends["init"] == {"condition": "service_completed_successfully"}, name
        for store in ("postgres", "mongodb", "redis", "mlflow"):
            assert depends[store] == {"condition": "service_healthy"}, (name, store)


def test_data_lives_in_named_volumes(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith(("/", ".")):
                used.add(source)
    assert used == declared
    for name, target in {"postgres": "/var/lib/postgresql/data", "mongodb": "/data/db", "mlflow": "/mlflow",
                         "prometheus": "/prometheus", "grafana": "/var/lib/grafana"}.items():  # fmt: skip
        assert any(v.endswith(f":{target}") for v in services[name]["volumes"]), name


def test_the_files_compose_mounts_are_in_the_repository(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_secrets_come_from_env_and_every_variable_is_documented_in_env_example() -> None:
    text = COMPOSE_FILE.read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    documented = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text()))
    assert not used - documented, f"not in .env.example: {sorted(used - documented)}"
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "MONGO_APP_PASSWORD", "MLFLOW_TRACKING_PASSWORD",
                   "GRAFANA_ADMIN_PASSWORD"):  # fmt: skip
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} must be required, not defaulted"
    services = yaml.safe_load(text)["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|_KEY|_URI$|_URL$|BASIC_AUTH", key) and "${" not in str(value):
                assert "@" not in str(value), (name, key)
                assert not re.search(r"PASSWORD|SECRET|BASIC_AUTH", key), (name, key)
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_mlflow_runs_with_basic_auth_on_postgresql_and_the_app_signs_in(services: dict[str, Any]) -> None:
    mlflow = services["mlflow"]
    assert "--app-name=basic-auth" in mlflow["command"]
    assert mlflow["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg://")
    assert mlflow["environment"]["MLFLOW_AUTH_ADMIN_PASSWORD"].startswith("${MLFLOW_TRACKING_PASSWORD:?")
    web = services["web"]["environment"]
    assert web["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert web["MLFLOW_TRACKING_PASSWORD"] == mlflow["environment"]["MLFLOW_AUTH_ADMIN_PASSWORD"]
    # "://" keeps training/registry.py from reading it as a local folder.
    assert web["MLFLOW_ARTIFACT_ROOT"].startswith("mlflow-artifacts://")


def test_prometheus_finds_the_web_and_the_worker_metrics_where_compose_serves_them(services: dict[str, Any]) -> None:
    workers = ["worker", "worker-batch", "worker-ml"]
    worker = services["worker"]["environment"]
    for name in workers:  # every worker serves its /metrics on the same port of its own container
        assert services[name]["environment"]["CELERY_METRICS_ADDR"] == "0.0.0.0"
        assert services[name]["environment"]["CELERY_METRICS_PORT"] == worker["CELERY_METRICS_PORT"]
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["parivision-worker"]["dns_sd_configs"][0] == {
        "names": workers, "type": "A", "port": int(worker["CELERY_METRICS_PORT"]), "refresh_interval": "30s"}
    assert jobs["parivision-web"]["dns_sd_configs"][0]["names"] == ["web"]
    for name in ("web", "feed", *workers):  # multiprocess mode, a folder per container
        assert services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")


def test_alertmanager_reads_the_slack_webhook_from_a_compose_secret(compose: dict[str, Any]) -> None:
    assert compose["secrets"]["slack_webhook_url"] == {"environment": "SLACK_WEBHOOK_URL"}
    assert compose["services"]["alertmanager"]["secrets"] == ["slack_webhook_url"]


def test_homer_lists_every_service_people_open() -> None:
    homer = yaml.safe_load((MONITORING / "homer" / "config.yml").read_text())
    names = " ".join(item["name"] for group in homer["services"] for item in group["items"])
    for service in ("portal", "API", "admin", "feed", "MLflow", "Flower", "Grafana", "Prometheus", "Alertmanager",
                    "Portainer", "node-exporter", "cAdvisor", "MongoDB exporter"):  # fmt: skip
        assert service in names


def test_the_image_is_multi_stage_non_root_and_collects_static_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 4
    assert "python:${PYTHON_VERSION}-slim" in dockerfile
    assert "ARG PYTHON_VERSION=3.11" in dockerfile
    assert "requirements/base.txt" in dockerfile
    assert re.search(r"^USER parivision$", dockerfile.split("FROM base AS app")[1], re.M)
    assert "collectstatic" in dockerfile
    assert "parivision/gunicorn.conf.py" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "var", "node_modules"} <= set(ignored)
