"""GET/POST /api/v1/backtests and GET /api/v1/backtests/<id>: input, auth and the error shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backtests.models import Backtest
from backtests.services import backtest_execute
from tests.backtests.conftest import WINDOW_END, WINDOW_START

pytestmark = pytest.mark.django_db


def body(versions, **overrides):
    data = {"model_versions": list(versions), "date_from": str(WINDOW_START), "date_to": str(WINDOW_END),
            "strategy": "kelly", "kelly_fraction": 0.25, "margin": 0.05, "bankroll": 500}  # fmt: skip
    data.update(overrides)
    return data


def test_posting_a_backtest_queues_it_and_answers_202_with_where_to_poll(world, api, analyst):
    response = api.post("/api/v1/backtests", body(world.versions), format="json")

    assert response.status_code == 202, response.json()
    data = response.json()
    assert data["status"] == "queued"
    assert data["owner"] == "analyst"
    assert data["model_versions"] == list(world.versions)
    assert data["params"]["bankroll"] == 500
    assert data["params"]["threshold"] == 0.02  # the default
    assert response["Location"] == f"/api/v1/backtests/{data['id']}"
    assert Backtest.objects.get(pk=data["id"]).owner == analyst


def test_a_finished_backtest_is_read_back_with_its_curves(world, api):
    created = api.post("/api/v1/backtests", body(world.versions[:1]), format="json").json()
    backtest_execute(backtest_id=created["id"])

    data = api.get(f"/api/v1/backtests/{created['id']}").json()
    assert data["status"] == "succeeded"
    version = data["results"]["versions"][0]
    assert {"bets", "hit_rate", "roi", "final_bankroll", "max_drawdown", "curve"} <= set(version)
    assert {"sharpe", "profit_factor", "risk_of_ruin", "ruin_fraction", "zones"} <= set(version)
    assert sum(zone["bets"] for zone in version["zones"]) == version["bets"]
    listed = api.get("/api/v1/backtests").json()["backtests"]
    assert [row["id"] for row in listed] == [created["id"]]
    assert "curve" not in listed[0]["results"]["versions"][0]  # the list stays light


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"strategy": "martingale"}, "strategy"),
        ({"date_from": "2023-13-40"}, "date_from"),
        ({"date_from": str(WINDOW_END), "date_to": str(WINDOW_START)}, "date_to"),
        ({"kelly_fraction": 0}, "kelly_fraction"),
        ({"margin": -0.1}, "margin"),
        ({"model_versions": []}, "model_versions"),
        ({"model_versions": [1, 2, 3]}, "model_versions"),
        ({"model_versions": [9999]}, "model_versions"),
        ({"stake_everything": True}, "stake_everything"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(world, api, overrides, field):
    response = api.post("/api/v1/backtests", body(world.versions, **overrides), format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["errors"][0]["field"] == field
    assert error["message"]
    assert error["request_id"]
    assert not Backtest.objects.exists()


def test_anonymous_clients_are_refused_with_401():
    client = APIClient()
    assert client.get("/api/v1/backtests").status_code == 401
    response = client.post("/api/v1/backtests", {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_someone_elses_backtest_is_not_found(world, api, other_user):
    theirs = Backtest.objects.create(owner=other_user, model_versions=[world.versions[0]], date_from=WINDOW_START,
                                     date_to=WINDOW_END, strategy="flat", params={})  # fmt: skip

    response = api.get(f"/api/v1/backtests/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/api/v1/backtests").json()["backtests"] == []


def test_staff_see_every_backtest(world, other_user, django_user_model):
    Backtest.objects.create(owner=other_user, model_versions=[world.versions[0]], date_from=WINDOW_START,
                            date_to=WINDOW_END, strategy="flat", params={})  # fmt: skip
    staff = APIClient()
    staff.force_authenticate(django_user_model.objects.create_user(username="ops", password="x-ops-123", is_staff=True))

    assert len(staff.get("/api/v1/backtests").json()["backtests"]) == 1
