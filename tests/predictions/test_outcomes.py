"""Predictions of identified shots are joined to their outcomes; live quality per model version."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from parivision import mongo
from predictions.log import prediction_log
from predictions.selectors import live_scores
from predictions.services import predictions_join_outcomes
from tests.predictions.conftest import shot, warehouse_documents

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db", "champion")]


def located(doc: dict) -> dict:
    return {"player_id": int(doc["player_id"]), "period": int(doc["period"]), "seconds_left": int(doc["seconds_left"]),
            "x_ft": float(doc["x_ft"]), "y_ft": float(doc["y_ft"]), "action_type": doc["action_type"]}  # fmt: skip


def identified(doc: dict) -> dict:
    """A shot identified by its game: the key is game, period, clock, player and location."""
    return shot(game_id=doc["game_id"], **located(doc))


def test_predictions_are_settled_when_their_shots_reach_the_warehouse(api: APIClient, mlflow_store) -> None:
    frame = mlflow_store.frame.head(6)
    docs = warehouse_documents(frame)
    for doc in docs[:4]:  # four identified shots, one of them predicted twice
        api.post("/api/v1/predictions", identified(doc), format="json")
    api.post("/api/v1/predictions", shot(shot_key=docs[0]["_id"], **located(docs[0])), format="json")
    api.post("/api/v1/predictions", shot(), format="json")  # anonymous shot: never settled
    prediction_log.flush()

    mongo.warehouse_collection(mongo.SHOTS).insert_many(docs[:3])  # the fourth has not happened yet
    report = predictions_join_outcomes()

    assert report.as_dict() == {"waiting_shots": 1, "settled_shots": 3, "settled_predictions": 4}
    settled = list(mongo.warehouse_collection(mongo.PREDICTIONS).find({"settled": True}))
    made = {doc["_id"]: doc["made"] for doc in docs}
    assert all(bool(p["made"]) == made[p["shot_key"]] for p in settled)
    assert predictions_join_outcomes().settled_predictions == 0  # idempotent

    mongo.warehouse_collection(mongo.SHOTS).insert_many(docs[3:4])
    assert predictions_join_outcomes().as_dict() == {"waiting_shots": 0, "settled_shots": 1, "settled_predictions": 1}


def test_live_accuracy_log_loss_and_brier_are_known_per_model_version(api: APIClient) -> None:
    predictions = mongo.warehouse_collection(mongo.PREDICTIONS)
    predictions.insert_many([
        {"model_version": "1", "probability": 0.8, "settled": True, "made": True, "created_at": None},
        {"model_version": "1", "probability": 0.4, "settled": True, "made": True, "created_at": None},
        {"model_version": "2", "probability": 0.3, "settled": True, "made": False, "created_at": None},
        {"model_version": "2", "probability": 0.9, "settled": False, "created_at": None},
    ])  # fmt: skip
    scores = {s.model_version: s for s in live_scores()}
    assert scores["1"].settled == 2
    assert scores["1"].accuracy == pytest.approx(0.5)
    assert scores["1"].brier == pytest.approx((0.2**2 + 0.6**2) / 2)
    assert scores["2"].log_loss == pytest.approx(-__import__("math").log(0.7))

    text = api.get("/metrics").content.decode()
    assert 'parivision_live_accuracy{model_version="1"} 0.5' in text
    assert 'parivision_live_settled_predictions{model_version="2"} 1.0' in text
    assert 'parivision_live_brier{model_version="2"}' in text
