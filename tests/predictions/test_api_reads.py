"""GET models, the champion and warehouse shots; the schema and the docs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from parivision import mongo
from tests.predictions.conftest import warehouse_documents
from tests.training.factories import shots_frame
from training.models import ModelVersion, PromotionDecision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]

SCORES = {"accuracy": 0.65, "roc_auc": 0.69, "log_loss": 0.62, "brier": 0.21, "ece": 0.01}


@pytest.fixture
def versions() -> None:
    ModelVersion.objects.create(version=1, algorithm="random_forest", mlflow_run_id="r1", holdout_scores=SCORES)
    ModelVersion.objects.create(version=2, algorithm="xgboost", mlflow_run_id="r2", is_champion=True,
                                promoted_at=timezone.now(), holdout_scores={**SCORES, "accuracy": 0.66})
    PromotionDecision.objects.create(kind="automatic", challenger_version=2, champion_version=1, metric="accuracy",
                                     challenger_score=0.66, champion_score=0.65, promoted=True,
                                     reason="accuracy 0.66 > 0.65", triggered_by="beat")


@pytest.mark.usefixtures("versions")
def test_models_lists_versions_newest_first_with_scores_and_decisions() -> None:
    response = APIClient().get("/api/v1/models")
    assert response.status_code == 200
    models = response.json()["models"]
    assert [m["version"] for m in models] == [2, 1]
    assert models[0]["holdout_scores"]["accuracy"] == 0.66
    assert models[0]["decisions"][0]["reason"] == "accuracy 0.66 > 0.65"
    assert models[1]["decisions"] == []
    assert models[0]["live"] is None


@pytest.mark.usefixtures("versions", "champion")
def test_the_champion_says_what_this_process_serves() -> None:
    body = APIClient().get("/api/v1/models/champion").json()
    assert body["version"] == 2
    assert body["is_champion"] is True
    assert body["served"] == {"loaded": False}


def test_no_champion_yet_is_a_404_in_the_error_shape() -> None:
    response = APIClient().get("/api/v1/models/champion")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.fixture
def warehouse() -> list[dict]:
    frame = shots_frame(players=6, days=6, shots_per_day=10, start=dt.datetime(2023, 12, 1))
    docs = warehouse_documents(frame)
    mongo.warehouse_collection(mongo.SHOTS).insert_many(docs)
    return docs


def test_shots_come_a_page_at_a_time_in_date_order_without_gaps_or_repeats(api: APIClient, warehouse) -> None:
    seen, cursor = [], None
    while True:
        response = api.get("/api/v1/shots", {"limit": 7, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert len(body["shots"]) <= 7
        seen += [(s["game_date"], s["key"]) for s in body["shots"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == len(warehouse)


def test_shots_are_filtered_by_player_date_zone_and_outcome(api: APIClient, warehouse) -> None:
    query = {"player": "1002", "date_from": "2023-12-02", "date_to": "2023-12-04", "made": "true"}
    shots = api.get("/api/v1/shots", {**query, "limit": 1000}).json()["shots"]
    expected = [d for d in warehouse if d["player_id"] == 1002 and d["made"]
                and dt.datetime(2023, 12, 2) <= d["game_date"] <= dt.datetime(2023, 12, 4)]
    assert len(shots) == len(expected) > 0
    assert all(s["player_id"] == 1002 and s["made"] for s in shots)
    zone = api.get("/api/v1/shots", {"zone": "Restricted Area", "season": "2023-24", "limit": 1000}).json()["shots"]
    assert zone
    assert all(s["zone_basic"] == "Restricted Area" for s in zone)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"zone": "Downtown"}, "zone"), ({"date_from": "yesterday"}, "date_from"),
     ({"date_from": "2024-01-02", "date_to": "2024-01-01"}, "date_to"), ({"cursor": "garbage!"}, "cursor"),
     ({"season": "2024"}, "season")],
)
def test_bad_shot_filters_are_refused_naming_the_parameter(api: APIClient, params, field) -> None:
    response = api.get("/api/v1/shots", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_the_schema_documents_every_endpoint_with_examples() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    operations = {(path, method): op for path, item in schema["paths"].items() for method, op in item.items()}
    assert {("/api/v1/predictions", "post"), ("/api/v1/predictions/batch", "post"), ("/api/v1/models", "get"),
            ("/api/v1/models/champion", "get"), ("/api/v1/shots", "get"), ("/api/v1/pipeline/runs", "post"),
            ("/api/v1/pipeline/runs/{run_id}", "get")} <= set(operations)
    for key, operation in operations.items():
        documented = str(operation)
        assert "examples" in documented, f"{key} has no example"


def test_the_swagger_ui_is_served_with_local_assets() -> None:
    page = APIClient().get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr" not in page
    assert "unpkg.com" not in page
    assert "/static/drf_spectacular_sidecar/" in page


def test_redoc_is_served_with_local_assets_only() -> None:
    page = APIClient().get("/api/redoc/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc" in page
    # Every link and script is same-origin: no CDN, no web fonts (drf-spectacular's own page loads Google Fonts).
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)
    assert "googleapis" not in page
