"""Session-wide real services and the fixtures that give each test clean stores."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import services

# Small challengers: the tests check behaviour, not model quality (bench/train.py does that).
SMALL_MODELS = {
    "XGBOOST_PARAMS": {"n_estimators": 60, "early_stopping_rounds": 10, "learning_rate": 0.1},
    "RANDOM_FOREST_PARAMS": {"n_estimators": 15, "max_depth": 8},
}
REAL_DATA_DIR = os.environ.get("PARIVISION_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "data")


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """MongoDB and Redis for the whole session: private servers unless the environment names some."""
    folder = tmp_path_factory.mktemp("services")
    with _mongo(folder) as mongo_uri, _redis(folder) as redis_url:
        token = uuid.uuid4().hex[:8]
        yield {
            "MONGODB_URI": mongo_uri,
            "MONGODB_LAKE_DB": f"pv_test_{token}_lake",
            "MONGODB_WAREHOUSE_DB": f"pv_test_{token}_warehouse",
            "REDIS_URL": redis_url,
            # Django's cache on the same server, its own database (cache.clear() never empties the broker).
            "CACHE_URL": redis_url.rsplit("/", 1)[0] + "/1",
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": redis_url,
            # A throw-away MLflow store (SQLite backend, local artifacts) shared with the worker.
            "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
            "MLFLOW_ARTIFACT_ROOT": str(folder / "mlartifacts"),
        }


def _mongo(folder: Path) -> Any:
    uri = os.environ.get("MONGODB_URI")
    if uri:
        from contextlib import nullcontext

        return nullcontext(uri)
    return services.mongodb_standin(folder)


def _redis(folder: Path) -> Any:
    if services.find_executable("redis-server") is None and os.environ.get("REDIS_URL"):
        from contextlib import nullcontext

        return nullcontext(os.environ["REDIS_URL"])
    return services.redis_server(folder)


@pytest.fixture(scope="session", autouse=True)
def _point_settings_at_services(service_urls: dict[str, str]) -> Iterator[None]:
    from django.conf import settings

    from parivision import mongo
    from parivision.celery import app

    overrides = {**service_urls, **SMALL_MODELS}
    saved = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    app.conf.update(broker_url=service_urls["CELERY_BROKER_URL"], result_backend=service_urls["CELERY_RESULT_BACKEND"])
    _point_cache_at(service_urls["CACHE_URL"])
    mongo.reset_client()
    yield
    try:
        mongo.drop_all()
    finally:
        mongo.reset_client()
        for name, value in saved.items():
            setattr(settings, name, value)


def _point_cache_at(url: str) -> None:
    """Django's cache on the session's Redis (settings were read before the servers started)."""
    from django.conf import settings
    from django.test.signals import setting_changed

    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    setting_changed.send(sender=None, setting="CACHES", value=settings.CACHES, enter=True)


@pytest.fixture(autouse=True)
def _fresh_request_budgets() -> None:
    """Every test starts with empty API throttle counters and sign-up / reset windows. A user's counters
    are keyed by id, and a database rolled back after a test hands the same id to the next one's user."""
    from predictions import throttling
    from predictions.redis_client import redis_client

    client = redis_client()
    for pattern in ("throttle:*", "ratelimit:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    throttling.reset()  # and the budgets this process leased from them


@pytest.fixture
def mongo_db() -> None:
    """Empty lake and warehouse databases for this test (and no game copied from the last one's)."""
    from parivision import mongo
    from predictions import game_context

    mongo.drop_all()
    game_context.reset()


@pytest.fixture(scope="session")
def worker_env(
    service_urls: dict[str, str], django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment a real Celery worker needs to share the session's stores and test database."""
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **service_urls,
        **{name: json.dumps(value) for name, value in SMALL_MODELS.items()},
        "DJANGO_SETTINGS_MODULE": "parivision.settings.test",
        "DATABASE_URL": database_url,
        "PARIVISION_VAR_DIR": str(tmp_path_factory.mktemp("worker-var")),
        # Pulls the stream enqueues by itself go nowhere (tests name the feed's URL when they pull).
        "FEED_URL": "http://127.0.0.1:9",
    }


@pytest.fixture(scope="session")
def celery_worker(worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real Celery worker process on the session's Redis, MongoDB and test database."""
    with services.celery_worker(worker_env, tmp_path_factory.mktemp("celery")) as log:
        yield log


@pytest.fixture
def real_data_dir() -> Path:
    path = Path(REAL_DATA_DIR)
    if not (path / "nba_shots").is_dir():
        pytest.skip(f"real NBA seasons not found at {path} (set PARIVISION_DATA_DIR)")
    return path


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
