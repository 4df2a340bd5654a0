"""Predictions of identified shots are joined to their outcomes; live quality per model version."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from analytics.status import live_status_refresh
from parivision import mongo
from predictions.log import prediction_log
from predictions.selectors import backfill_scores, live_scores
from predictions.services import predictions_join_outcomes
from tests.logs import logged_rows
from tests.predictions.conftest import shot, warehouse_documents


def entering_now(docs: list[dict]) -> list[dict]:
    """Warehouse documents stamped as the transform stamps them: they enter the platform now."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return [{**doc, "ingested_at": now} for doc in docs]


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

    mongo.warehouse_collection(mongo.SHOTS).insert_many(entering_now(docs[:3]))  # the fourth has not happened yet
    report = predictions_join_outcomes()

    assert report.as_dict() == {"waiting_shots": 1, "settled_shots": 3, "settled_predictions": 4,
                                "live": 4, "backfill": 0}
    settled = [row for row in logged_rows() if row.made is not None]
    made = {doc["_id"]: doc["made"] for doc in docs}
    assert len(settled) == 4
    assert all(row.made == made[row.key] and row.live for row in settled)
    assert predictions_join_outcomes().settled_predictions == 0  # idempotent

    mongo.warehouse_collection(mongo.SHOTS).insert_many(entering_now(docs[3:4]))
    assert predictions_join_outcomes().as_dict() == {"waiting_shots": 0, "settled_shots": 1, "settled_predictions": 1,
                                                     "live": 1, "backfill": 0}


def test_a_prediction_of_a_shot_already_known_is_a_backfill_kept_out_of_live_scores(api: APIClient,
                                                                                     mlflow_store) -> None:
    docs = warehouse_documents(mlflow_store.frame.head(2))
    known, upcoming = docs
    api.post("/api/v1/predictions", identified(upcoming), format="json")
    prediction_log.flush()
    mongo.warehouse_collection(mongo.SHOTS).insert_many(entering_now(docs))  # both enter the platform now
    api.post("/api/v1/predictions", identified(known), format="json")
    prediction_log.flush()

    report = predictions_join_outcomes()

    assert (report.live, report.backfill) == (1, 1)
    unknown_entry = warehouse_documents(mlflow_store.frame.iloc[2:3])  # no ingested_at: counted as known
    api.post("/api/v1/predictions", identified(unknown_entry[0]), format="json")
    prediction_log.flush()
    mongo.warehouse_collection(mongo.SHOTS).insert_many(unknown_entry)
    assert predictions_join_outcomes().backfill == 1
    assert [s.settled for s in live_scores()] == [1]
    assert [s.settled for s in backfill_scores()] == [2]
    live_status_refresh()  # what beat runs every minute: /metrics and the API read what it stored
    text = api.get("/metrics").content.decode()
    assert 'parivision_live_settled_predictions{model_version="1"} 1.0' in text  # the backfill is not in it
    from training.models import ModelVersion

    ModelVersion.objects.create(version=1, algorithm="xgboost", mlflow_run_id="r1", is_champion=True)
    body = api.get("/api/v1/models").json()
    assert body["models"][0]["live"]["settled"] == 1
    assert body["models"][0]["backfill"]["settled"] == 2


def test_live_accuracy_log_loss_and_brier_are_known_per_model_version(api: APIClient) -> None:
    predictions = mongo.warehouse_collection(mongo.PREDICTIONS)
    predictions.insert_many([
        {"_id": "a1", "version": "1", "p": 0.8, "settled": True, "made": True, "live": True},
        {"_id": "a2", "version": "1", "p": 0.4, "settled": True, "made": True, "live": True},
        {"_id": "a3", "version": "1", "p": 0.1, "settled": True, "made": True, "live": False},  # a backfill
        {"_id": "a4", "version": "2", "p": 0.3, "settled": True, "made": False, "live": True},
        {"_id": "a5", "version": "2", "p": 0.9, "settled": False},
    ])  # fmt: skip
    scores = {s.model_version: s for s in live_scores()}
    assert scores["1"].settled == 2
    assert scores["1"].accuracy == pytest.approx(0.5)
    assert scores["1"].brier == pytest.approx((0.2**2 + 0.6**2) / 2)
    assert scores["2"].log_loss == pytest.approx(-__import__("math").log(0.7))

    live_status_refresh()  # what beat runs every minute: /metrics reads what it stored
    text = api.get("/metrics").content.decode()
    assert 'parivision_live_accuracy{model_version="1"} 0.5' in text
    assert 'parivision_live_settled_predictions{model_version="2"} 1.0' in text
    assert 'parivision_live_brier{model_version="2"}' in text


def test_a_batch_is_one_log_document_settled_shot_by_shot_as_its_outcomes_arrive(api: APIClient,
                                                                                mlflow_store) -> None:
    docs = warehouse_documents(mlflow_store.frame.head(4))
    body = api.post("/api/v1/predictions/batch", {"shots": [identified(doc) for doc in docs] + [shot()]},
                    format="json").json()
    prediction_log.flush()
    [bundle] = mongo.warehouse_collection(mongo.PREDICTIONS).find()
    assert (bundle["n"], bundle["open"], len(bundle["p"])) == (5, 4, 5)
    assert bundle["key"] == [p["shot_key"] for p in body["predictions"][:4]] + [None]
    assert bundle["p"] == pytest.approx([p["probability_made"] for p in body["predictions"]], abs=1e-6)

    shots = mongo.warehouse_collection(mongo.SHOTS)
    shots.insert_many(entering_now(docs[:1]))
    assert predictions_join_outcomes().as_dict() == {"waiting_shots": 3, "settled_shots": 1, "settled_predictions": 1,
                                                     "live": 1, "backfill": 0}
    shots.insert_many(docs[1:3])  # no ingested_at: counted as already known (backfills)
    assert predictions_join_outcomes().as_dict() == {"waiting_shots": 1, "settled_shots": 2, "settled_predictions": 2,
                                                     "live": 0, "backfill": 2}
    rows = logged_rows()
    assert [row.live for row in rows] == [True, False, False, None, None]
    assert [row.made for row in rows[:3]] == [bool(doc["made"]) for doc in docs[:3]]
    assert not mongo.warehouse_collection(mongo.PREDICTIONS).find_one({"settled": True})  # one still open
    shots.insert_many(entering_now(docs[3:4]))
    assert predictions_join_outcomes().settled_predictions == 1
    [bundle] = mongo.warehouse_collection(mongo.PREDICTIONS).find()
    assert (bool(bundle["settled"]), bundle["open"], bundle["n_live"], bundle["n_backfill"]) == (True, 0, 2, 2)
    assert predictions_join_outcomes().settled_predictions == 0  # nothing left: a re-run changes nothing
    assert [s.settled for s in live_scores()] == [2]
    assert [s.settled for s in backfill_scores()] == [2]


def test_a_join_working_from_a_stale_read_settles_nothing_twice(api: APIClient, mlflow_store) -> None:
    from predictions.services import _join_group

    docs = warehouse_documents(mlflow_store.frame.head(3))
    api.post("/api/v1/predictions/batch", {"shots": [identified(doc) for doc in docs]}, format="json")
    prediction_log.flush()
    mongo.warehouse_collection(mongo.SHOTS).insert_many(entering_now(docs))
    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    stale = list(log.find({"settled": False}, {"key": 1, "made": 1, "live": 1, "open": 1}))  # read by a slower run

    assert predictions_join_outcomes().settled_predictions == 3
    totals = {"settled": 0, "live": 0, "backfill": 0}
    _join_group(log, stale, set(), set(), totals)  # the slower run's update finds "open" changed
    assert totals == {"settled": 0, "live": 0, "backfill": 0}
    assert [s.settled for s in live_scores()] == [3]


def test_single_predictions_and_bundles_are_joined_and_scored_alike(mlflow_store) -> None:
    from predictions.log import log_bundle

    docs = warehouse_documents(mlflow_store.frame.head(3))
    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    # Single predictions (scalar p and key: also the whole log before bundles) and a bundle.
    log.insert_many([{"_id": "19000000000aaaaaaaa", "version": "1", "p": 0.7, "key": docs[0]["_id"], "settled": False},
                     {"_id": "19000000001aaaaaaaa", "version": "1", "p": 0.2, "settled": False, "key": docs[1]["_id"]}])
    log.insert_one(log_bundle(version="1", probabilities=[0.6, 0.3], keys=[docs[2]["_id"], None], made_at=1.0))
    mongo.warehouse_collection(mongo.SHOTS).insert_many(entering_now(docs))

    assert predictions_join_outcomes().as_dict() == {"waiting_shots": 0, "settled_shots": 3, "settled_predictions": 3,
                                                     "live": 3, "backfill": 0}
    rows = {row.key: row for row in logged_rows()}
    assert (rows.pop(None).p, rows[docs[2]["_id"]].made_at) == (0.3, 1.0)  # the bundle's shot without a key
    assert {key: (row.p, row.made, row.live) for key, row in rows.items()} == {
        doc["_id"]: (p, bool(doc["made"]), True) for doc, p in zip(docs, (0.7, 0.2, 0.6), strict=True)}
    assert [s.settled for s in live_scores()] == [3]
