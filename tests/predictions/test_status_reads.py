"""GET /api/v1/models, /api/v1/models/champion and /metrics read the live scores the Celery task
stored (analytics.refresh_live_status); a request never scans the prediction log (issue #10)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from analytics import status
from parivision import figures, mongo
from training.models import ModelVersion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


@pytest.fixture
def versions() -> None:
    ModelVersion.objects.create(version=1, algorithm="random_forest", mlflow_run_id="r1")
    ModelVersion.objects.create(version=2, algorithm="xgboost", mlflow_run_id="r2", is_champion=True,
                                promoted_at=timezone.now())  # fmt: skip


@pytest.fixture
def settled_predictions(mongo_db: None) -> None:
    mongo.warehouse_collection(mongo.PREDICTIONS).insert_many([
        {"_id": "a1", "version": "2", "p": 0.8, "settled": True, "made": True, "live": True},
        {"_id": "a2", "version": "2", "p": 0.4, "settled": True, "made": True, "live": True},
        {"_id": "a3", "version": "2", "p": 0.3, "settled": True, "made": False, "live": False},  # a backfill
        {"_id": "a4", "version": "1", "p": 0.3, "settled": True, "made": False, "live": True},
    ])  # fmt: skip


@pytest.fixture
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request that scans the prediction log fails loudly."""
    from predictions import selectors

    def refuse(**_: object) -> None:
        raise AssertionError("a request computed live scores")

    monkeypatch.setattr(selectors, "live_scores", refuse)
    monkeypatch.setattr(selectors, "backfill_scores", refuse)


def metrics_text() -> str:
    response = APIClient().get("/metrics")  # the test client comes from 127.0.0.1: allowed
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("versions", "settled_predictions")
def test_models_show_the_stored_scores_without_computing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    status.live_status_refresh()  # the beat task, before requests come
    monkeypatch.setattr("predictions.selectors.live_scores", lambda **_: pytest.fail("a request computed scores"))
    monkeypatch.setattr("predictions.selectors.backfill_scores", lambda **_: pytest.fail("a request computed scores"))
    # The log changes after the refresh: a request that recomputed would see 3 settled, not 2.
    mongo.warehouse_collection(mongo.PREDICTIONS).insert_one(
        {"_id": "a5", "version": "2", "p": 0.9, "settled": True, "made": True, "live": True})

    body = APIClient().get("/api/v1/models").json()

    by_version = {m["version"]: m for m in body["models"]}
    assert by_version[2]["live"] == {"settled": 2, "accuracy": 0.5, "log_loss": pytest.approx(0.5697, abs=1e-4),
                                     "brier": pytest.approx(0.2, abs=1e-4)}  # fmt: skip
    assert by_version[2]["backfill"]["settled"] == 1
    assert by_version[1]["live"]["settled"] == 1
    assert by_version[1]["backfill"] is None
    assert body["live_status"]["state"] == "fresh"
    assert body["live_status"]["age_seconds"] < 60

    champion = APIClient().get("/api/v1/models/champion").json()
    assert champion["version"] == 2
    assert champion["live"]["settled"] == 2
    assert champion["live_status"]["state"] == "fresh"


@pytest.mark.usefixtures("versions", "settled_predictions", "no_scan")
def test_before_the_first_refresh_the_models_say_not_computed_yet() -> None:
    body = APIClient().get("/api/v1/models").json()

    assert body["live_status"] == {"state": "not_computed", "computed_at": None, "age_seconds": None}
    assert [m["live"] for m in body["models"]] == [None, None]
    assert [m["backfill"] for m in body["models"]] == [None, None]


@pytest.mark.usefixtures("versions", "no_scan")
def test_old_stored_scores_are_flagged_stale(settings) -> None:
    settings.LIVE_STATUS_STALE_SECONDS = 300
    computed = timezone.now() - dt.timedelta(minutes=20)
    figures.figure_put(key=status.FIGURE_KEY, value={
        "live": {"2": {"settled": 7, "accuracy": 0.6, "log_loss": 0.65, "brier": 0.22}}, "backfill": {},
        "alerts": [], "alerts_source": "platform checks", "computed_at": computed.isoformat()})  # fmt: skip

    body = APIClient().get("/api/v1/models").json()

    assert body["live_status"]["state"] == "stale"
    assert body["live_status"]["computed_at"] == computed.isoformat()
    assert body["live_status"]["age_seconds"] == pytest.approx(1200, abs=30)
    assert body["models"][0]["live"]["settled"] == 7  # still shown, flagged
    text = metrics_text()
    assert 'parivision_live_settled_predictions{model_version="2"} 7.0' in text
    assert "parivision_live_status_computed 1.0" in text
    age = next(line for line in text.splitlines() if line.startswith("parivision_live_status_age_seconds "))
    assert float(age.split()[1]) == pytest.approx(1200, abs=30)


@pytest.mark.usefixtures("settled_predictions")
def test_metrics_read_the_stored_scores_and_say_when_there_are_none(monkeypatch: pytest.MonkeyPatch) -> None:
    from predictions import selectors

    real = selectors.live_scores
    monkeypatch.setattr(selectors, "live_scores", lambda **_: pytest.fail("a scrape computed scores"))
    text = metrics_text()
    assert "parivision_live_status_computed 0.0" in text
    assert "parivision_live_settled_predictions{" not in text
    assert not [line for line in text.splitlines() if line.startswith("parivision_live_status_age_seconds")]

    monkeypatch.setattr(selectors, "live_scores", real)
    status.live_status_refresh()
    monkeypatch.setattr(selectors, "live_scores", lambda **_: pytest.fail("a scrape computed scores"))
    text = metrics_text()
    assert "parivision_live_status_computed 1.0" in text
    assert 'parivision_live_settled_predictions{model_version="2"} 2.0' in text
    assert 'parivision_live_accuracy{model_version="2"} 0.5' in text
