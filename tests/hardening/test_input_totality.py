"""Every input gets a 2xx or a 4xx in the one JSON error shape: the cases found by probing from outside."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.hardening.conftest import assert_error_shape, shot

pytestmark = pytest.mark.django_db

SINGLE = "/api/v1/predictions"
BATCH = "/api/v1/predictions/batch"
SHOTS = "/api/v1/shots"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", [SINGLE, BATCH])
def test_a_body_nested_a_thousand_levels_deep_is_a_400(api: APIClient, path: str) -> None:
    for body in (nested(1_000), '{"shots": ' + nested(1_000) + "}", nested(100_000)):
        response = api.generic("POST", path, body, content_type="application/json")
        assert response.status_code == 400, body[:20]
        assert_error_shape(response.json(), code="parse_error")


def test_nesting_within_the_bound_still_reaches_the_validator(api: APIClient) -> None:
    response = api.post(SINGLE, {"player_id": [[[1]]]}, format="json")
    assert response.status_code == 400
    assert_error_shape(response.json(), code="validation_error")


@pytest.mark.parametrize("field", ["player_id", "event_id"])
def test_an_integer_too_large_for_any_store_is_a_400_naming_the_field(api: APIClient, field: str) -> None:
    body = shot(**{"game_id": "0022300650", "event_id": 5, field: 99999999999999999999999999})
    response = api.post(SINGLE, body, format="json")
    assert response.status_code == 400
    assert_error_shape(response.json(), code="validation_error")
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["value"] == "99999999999999999999999999"  # the refused value, named
    batch = api.post(BATCH, {"shots": [body]}, format="json")
    assert batch.status_code == 400
    assert batch.json()["errors"][0]["field"] == f"shots.0.{field}"


def test_a_float_too_large_for_a_float_is_a_400(api: APIClient) -> None:
    response = api.generic("POST", SINGLE, json.dumps(shot())[:-1] + ', "distance_ft": 1' + "0" * 400 + "}",
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "distance_ft"


@pytest.mark.parametrize(("field", "value"), [
    ("game_id", 22300650), ("team", 5), ("player_id", "12"), ("period", "4"), ("x_ft", "1.5"), ("x_ft", True),
])  # fmt: skip
def test_a_value_of_the_wrong_json_type_is_refused_as_the_schema_says(api: APIClient, field: str, value: Any) -> None:
    response = api.post(SINGLE, shot(**{"game_id": "0022300650", "event_id": 1, field: value}), format="json")
    assert response.status_code == 400, (field, value)
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("query", [
    "team=99999999999999999999", "player=99999999999999999999", "team=%C2%B2", "player=%C2%B2",
    "team=%D9%A3", "player=1%C2%B2",
])  # fmt: skip
def test_shot_filters_with_huge_or_non_ascii_digits_are_a_400_even_anonymously(query: str) -> None:
    response = APIClient().get(f"{SHOTS}?{query}")
    assert response.status_code == 400, query
    assert_error_shape(response.json(), code="validation_error")
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


@pytest.mark.usefixtures("mongo_db")
def test_shot_filters_with_plain_ids_and_names_still_work() -> None:
    for query in ("team=1610612738", "team=BOS", "player=201939", "player=Stephen Curry"):
        assert APIClient().get(f"{SHOTS}?{query}").status_code == 200, query


@pytest.mark.parametrize("run_id", ["ml-%C2%B2", "ml-99999999999999999999", "ml-", "x" * 200])
def test_pipeline_run_ids_that_cannot_exist_are_a_404(staff_api: APIClient, run_id: str) -> None:
    response = staff_api.get(f"/api/v1/pipeline/runs/{run_id}")
    assert response.status_code == 404
    assert_error_shape(response.json(), code="not_found")


def test_an_unknown_api_path_is_a_json_404() -> None:
    for path in ("/api/nothing", "/api/v1/predictions/nothing", "/api/v2/predictions"):
        response = Client().get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert_error_shape(response.json(), code="not_found")


def test_an_unknown_api_path_is_a_json_404_with_debug_on_too(settings: Any) -> None:
    # The local settings default to DEBUG=True, where Django would answer with its HTML debug page.
    settings.DEBUG = True
    response = Client().get("/api/v1/nothing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response.json(), code="not_found")
    assert "/api/v1/nothing" in response.json()["message"]
    # A missing trailing slash on the docs is still redirected, not refused.
    assert Client().get("/api/docs").status_code == 301


def test_an_unknown_page_outside_the_api_is_still_the_site_s_404() -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_a_wrong_method_is_a_json_405(api: APIClient) -> None:
    for method, path in (("GET", SINGLE), ("DELETE", BATCH), ("POST", "/api/v1/models"), ("PUT", SHOTS)):
        response = api.generic(method, path)
        assert response.status_code == 405, (method, path)
        assert_error_shape(response.json(), code="method_not_allowed")


def test_a_body_over_the_limit_is_a_json_413_and_closes_the_connection(api: APIClient, settings) -> None:
    settings.API_MAX_BODY_BYTES = 10_000
    body = json.dumps({"shots": [shot()] * 200})
    assert len(body) > 10_000
    response = api.generic("POST", BATCH, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Connection"] == "close"
    assert_error_shape(response.json(), code="payload_too_large")
    assert "10000" in response.json()["message"]


def test_a_body_that_is_not_json_is_a_json_415(api: APIClient) -> None:
    response = api.generic("POST", SINGLE, "player_id=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert_error_shape(response.json(), code="unsupported_media_type")


def test_asking_for_html_still_gets_json(api: APIClient) -> None:
    response = api.post(SINGLE, {"period": 1}, format="json", HTTP_ACCEPT="text/html")
    assert response.status_code in (400, 406)
    assert response["Content-Type"].startswith("application/json")
    assert_error_shape(response.json())


def test_a_malformed_token_header_is_a_json_401_not_a_500() -> None:
    for header in ("Token \xff\xfe", "Token a b", "Token", "Token " + "a" * 5_000, "Token ../../etc"):
        response = APIClient(HTTP_AUTHORIZATION=header).post(SINGLE, shot(), format="json")
        assert response.status_code == 401, header[:20]
        assert_error_shape(response.json())


def test_a_bug_in_an_api_view_is_a_json_500_and_is_logged(monkeypatch, caplog) -> None:
    from predictions import selectors

    def broken(**_: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "model_versions", broken)
    response = APIClient().get("/api/v1/models", HTTP_X_REQUEST_ID="req-500")
    assert response.status_code == 500
    assert_error_shape(response.json(), code="server_error")
    assert response.json()["request_id"] == "req-500"
    assert "a bug" not in response.content.decode()  # no internals in the answer
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)  # but in the log


@pytest.mark.urls("tests.hardening.urls_plain_view")
def test_a_crash_in_a_plain_django_view_under_api_is_a_json_500(caplog) -> None:
    response = Client(raise_request_exception=False).get("/api/plain-crash")
    assert response.status_code == 500
    assert_error_shape(response.json(), code="server_error")
    assert any("plain view bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
