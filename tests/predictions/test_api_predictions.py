"""POST /api/v1/predictions and /predictions/batch: answers, validation, auth, throttling, no model."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from parivision import mongo
from predictions.log import prediction_log
from tests.predictions.conftest import shot, warehouse_documents

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]

SINGLE = "/api/v1/predictions"
BATCH = "/api/v1/predictions/batch"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.usefixtures("champion")
def test_a_shot_gets_a_probability_fair_odds_and_the_model_that_priced_it(api: APIClient) -> None:
    response = api.post(SINGLE, shot(game_id="22300999", event_id=7), format="json", HTTP_X_REQUEST_ID="req-1")

    assert response.status_code == 200, response.json()
    body = response.json()
    p = body["probability_made"]
    assert 0 < p < 1
    assert body["predicted_outcome"] == ("made" if p >= 0.5 else "missed")
    assert body["odds_made"] == pytest.approx(1 / p, rel=1e-3)
    assert body["odds_missed"] == pytest.approx(1 / (1 - p), rel=1e-3)
    assert body["model"] == {"name": "parivision-test-serving", "version": "1", "algorithm": "xgboost"}
    assert body["shot_key"] == "0022300999:4:95:1003:-65:120"  # game:period:clock:player:x:y
    assert body["request_id"] == response["X-Request-ID"] == "req-1"


@pytest.mark.usefixtures("champion")
def test_a_shot_described_by_its_zone_and_an_unknown_player_and_action_is_still_priced(api: APIClient) -> None:
    body = shot(player_id=987654321, action_type="Reverse Scoop Shot", x_ft=None, y_ft=None,
                zone_basic="Above the Break 3")
    response = api.post(SINGLE, body, format="json")
    assert response.status_code == 200, response.json()
    assert 0 < response.json()["probability_made"] < 1


@pytest.mark.usefixtures("champion")
def test_the_shooters_history_from_the_warehouse_changes_the_price(api: APIClient, mlflow_store) -> None:
    before = api.post(SINGLE, shot(player_id=1003), format="json").json()["probability_made"]
    frame = mlflow_store.frame
    hot = frame[frame["player_id"] == 1003].copy()
    hot["made"] = True  # a shooter who never misses
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(hot))
    from predictions import history

    history.reset()
    after = api.post(SINGLE, shot(player_id=1003), format="json").json()["probability_made"]
    assert after > before


@pytest.mark.usefixtures("champion")
def test_a_batch_gets_one_answer_per_shot_in_order_matching_single_requests(api: APIClient) -> None:
    shots = [shot(period=p, seconds_left=s) for p, s in ((1, 700), (4, 3), (5, 120))]
    response = api.post(BATCH, {"shots": shots}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 3
    assert body["model"]["version"] == "1"
    singles = [api.post(SINGLE, s, format="json").json()["probability_made"] for s in shots]
    assert [p["probability_made"] for p in body["predictions"]] == pytest.approx(singles)


@pytest.mark.usefixtures("champion")
def test_every_served_prediction_is_logged_compactly_with_its_version_probability_time_and_key(api: APIClient) -> None:
    single = api.post(SINGLE, shot(game_id="22300999", event_id=7), format="json").json()
    api.post(BATCH, {"shots": [shot(), shot(period=2)]}, format="json")
    prediction_log.flush()

    logged = list(mongo.warehouse_collection(mongo.PREDICTIONS).find().sort("_id", 1))
    assert len(logged) == 2  # one document per request: the single, then the batch of two
    first, batch = logged
    # Only what the outcome join and the live scores read (issue #10: a bounded log).
    assert set(first) == {"_id", "version", "p", "key", "settled"}  # a single prediction: scalars
    assert (first["version"], bool(first["settled"])) == ("1", False)
    assert first["p"] == pytest.approx(single["probability_made"], abs=1e-6)
    assert first["key"] == single["shot_key"] == "0022300999:4:95:1003:-65:120"
    assert set(batch) == {"_id", "version", "n", "p"}  # a bundle of unidentified shots: never joined, no key
    assert (batch["n"], len(batch["p"])) == (2, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period": 11}, "period"),
        ({"period": 0}, "period"),
        ({"seconds_left": 721}, "seconds_left"),
        ({"x_ft": 30.0}, "x_ft"),
        ({"y_ft": 95.0}, "y_ft"),
        ({"distance_ft": 95}, "distance_ft"),
        ({"shot_type": "4PT"}, "shot_type"),
        ({"game_date": "2024-02-30"}, "game_date"),
        ({"player_id": "lebron"}, "player_id"),
        ({"y_ft": None}, "y_ft"),
        ({"x_ft": None, "y_ft": None}, "zone_basic"),
        ({"zone_basic": "Downtown"}, "zone_basic"),
        ({"seconds": 30}, "seconds"),
        ({"event_id": 3}, "game_id"),
        ({"distance_ft": 3.0}, "distance_ft"),  # x/y say 13.7 ft: the importer's cross-field rule
        ({"zone_basic": "Restricted Area"}, "zone_basic"),
        ({"shot_type": "3PT"}, "shot_type"),
        ({"shot_key": "0022300999:4:95:1003:-65:121"}, "shot_key"),  # not this shot's location
        ({"shot_key": "0022300999:7"}, "shot_key"),  # the old game:event key format
    ],
)
@pytest.mark.usefixtures("champion")
def test_a_bad_shot_is_refused_with_one_error_shape_naming_the_field(api: APIClient, change, field) -> None:
    before = sample("parivision_prediction_errors_total", endpoint="single", reason="validation")
    response = api.post(SINGLE, {**shot(), **change} if None not in change.values() else shot(**change),
                        format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in [error["field"] for error in body["errors"]]
    assert body["message"].startswith(f"{body['errors'][0]['field']}: ")
    assert body["request_id"] == response["X-Request-ID"]
    assert sample("parivision_prediction_errors_total", endpoint="single", reason="validation") == before + 1


@pytest.mark.usefixtures("champion")
def test_a_bad_shot_in_a_batch_is_named_by_its_position(api: APIClient) -> None:
    response = api.post(BATCH, {"shots": [shot(), shot(seconds_left=9999)]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "shots.1.seconds_left", "message": "Ensure this value is less than or equal to 720.", "value": "9999"}
    ]


@pytest.mark.usefixtures("champion")
def test_a_batch_holds_one_to_a_thousand_shots(api: APIClient) -> None:
    assert api.post(BATCH, {"shots": []}, format="json").json()["errors"][0]["field"] == "shots"
    too_many = api.post(BATCH, {"shots": [shot()] * 1001}, format="json")
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "shots"
    assert api.post(BATCH, {"shots": [shot()] * 1000}, format="json").json()["count"] == 1000


@pytest.mark.usefixtures("champion")
def test_a_body_that_is_not_json_is_refused_in_the_same_shape(api: APIClient) -> None:
    response = api.post(SINGLE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    form = api.post(SINGLE, {"player_id": 1}, format="multipart")
    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"


@pytest.mark.usefixtures("champion")
def test_predictions_are_never_anonymous(user) -> None:
    anonymous = APIClient().post(SINGLE, shot(), format="json")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    wrong = APIClient(HTTP_AUTHORIZATION="Token not-a-token").post(SINGLE, shot(), format="json")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "authentication_failed"


@pytest.mark.usefixtures("champion")
def test_a_portal_session_can_predict_too(user) -> None:
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    assert client.post(SINGLE, shot(), format="json").status_code == 200


@pytest.mark.usefixtures("champion")
def test_a_user_over_the_rate_gets_a_clear_429(api: APIClient, settings) -> None:
    settings.API_THROTTLE_USER_RATE = "3/minute"
    codes = [api.post(SINGLE, shot(), format="json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = api.post(SINGLE, shot(), format="json")
    body = refused.json()
    assert body["code"] == "throttled"
    assert 1 <= body["retry_after"] <= 61
    assert refused["Retry-After"] == str(body["retry_after"])
    assert body["message"] == f"Too many requests: try again in {body['retry_after']} s."


@pytest.mark.usefixtures("champion")
def test_each_user_has_a_budget_of_their_own(api: APIClient, staff_api: APIClient, settings) -> None:
    settings.API_THROTTLE_USER_RATE = "1/minute"
    assert api.post(SINGLE, shot(), format="json").status_code == 200
    assert api.post(SINGLE, shot(), format="json").status_code == 429
    assert staff_api.post(SINGLE, shot(), format="json").status_code == 200


@pytest.mark.usefixtures("no_champion")
def test_without_a_champion_predictions_answer_503_and_the_rest_of_the_site_works(api: APIClient) -> None:
    before = sample("parivision_prediction_errors_total", endpoint="single", reason="no_model")
    response = api.post(SINGLE, shot(), format="json")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "no_model"
    assert "champion" in body["message"]
    assert sample("parivision_prediction_errors_total", endpoint="single", reason="no_model") == before + 1
    assert api.get("/api/v1/models").status_code == 200
    assert api.get("/healthz").status_code == 200


def test_a_promotion_is_served_without_a_restart(api: APIClient, champion) -> None:
    assert api.post(SINGLE, shot(), format="json").json()["model"]["version"] == "1"

    champion.alias_set(version=2)

    deadline = time.monotonic() + 10
    versions = []
    while time.monotonic() < deadline:
        response = api.post(SINGLE, shot(), format="json")
        assert response.status_code == 200  # no request fails while the model is swapped
        versions.append(response.json()["model"]["version"])
        if versions[-1] == "2":
            break
        time.sleep(0.05)
    assert versions[-1] == "2"
    assert set(versions) <= {"1", "2"}


@pytest.mark.usefixtures("champion")
def test_traffic_shows_in_the_prediction_metrics_with_endpoint_and_version(api: APIClient) -> None:
    latency_before = sample("parivision_prediction_latency_seconds_count", endpoint="batch", model_version="1")
    shots_before = sample("parivision_predictions_total", endpoint="batch", model_version="1")
    api.post(BATCH, {"shots": [shot(), shot(), shot()]}, format="json")
    assert sample("parivision_prediction_latency_seconds_count", endpoint="batch", model_version="1") == latency_before + 1
    assert sample("parivision_predictions_total", endpoint="batch", model_version="1") == shots_before + 3

    text = api.get("/metrics").content.decode()
    assert 'parivision_predictions_total{endpoint="batch",model_version="1"}' in text
    assert "parivision_model_loaded 1.0" in text
    assert "django_http_requests_total_by_view_transport_method_total" in text
