"""Shot-making over expected: the leaderboard and player pages, and the same figures over the API."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.services import figures_refresh
from tests.backtests import conftest as backtest_fixtures

trained = backtest_fixtures.trained
world = backtest_fixtures.world

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


@pytest.fixture
def computed(world, settings):
    settings.SMOE_MIN_ATTEMPTS = 10
    figures_refresh()
    return world


def table_players(page: str) -> list[str]:
    return re.findall(r'<tr data-player="(\d+)">', page)


def test_the_leaderboard_explains_itself_before_anything_is_computed(client, mongo_db):
    page = client.get(reverse("portal:shot-making")).content.decode()

    assert 'data-state="no_data"' in page
    assert "manage.py refresh_figures" in page


def test_the_leaderboard_lists_players_best_first_and_sorts_by_any_column(client, computed):
    page = client.get(reverse("portal:shot-making")).content.decode()

    from analytics.selectors import smoe_board

    board = smoe_board()
    assert table_players(page) == [str(r["player_id"]) for r in board["results"]]
    assert len(board["results"]) == computed.frame["player_id"].nunique()
    by_attempts = client.get(reverse("portal:shot-making"), {"sort": "attempts", "order": "asc"}).content.decode()
    attempts = {str(r["player_id"]): r["attempts"] for r in board["results"]}
    listed = [attempts[p] for p in table_players(by_attempts)]
    assert listed == sorted(listed)
    assert "sort=attempts&amp;order=desc" in by_attempts  # clicking the active column again flips it


def test_a_bad_sort_is_explained_and_the_default_board_shown(client, computed):
    response = client.get(reverse("portal:shot-making"), {"sort": "salary", "min_attempts": "lots"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "min_attempts = &#x27;lots&#x27;: must be a whole number from 1 to 5000." in page
    assert table_players(page)


def test_the_player_page_shows_the_season_and_the_courts(client, computed):
    response = client.get(reverse("portal:shot-making-player", args=[1003]))

    page = response.content.decode()
    assert "Player 3" in page
    assert 'id="court-actual"' in page
    assert 'id="trend-chart"' in page
    assert "Restricted Area" in page or "Mid-Range" in page
    assert client.get(reverse("portal:shot-making-player", args=[999999])).status_code == 404
    wrong = client.get(reverse("portal:shot-making-player", args=[1003]), {"season": "1999-00"}).content.decode()
    assert "season = &#x27;1999-00&#x27;: has no shots of player 1003" in wrong


def test_the_api_serves_the_leaderboard_with_filters_and_limits(computed):
    api = APIClient()
    body = api.get("/api/v1/shot-making", {"sort": "attempts", "order": "desc", "limit": 3, "min_attempts": 1}).json()

    assert body["status"] == "ready"
    assert body["season"] == "2023-24"
    assert body["count"] == computed.frame["player_id"].nunique()
    assert len(body["results"]) == 3
    assert [r["attempts"] for r in body["results"]] == sorted((r["attempts"] for r in body["results"]), reverse=True)
    assert set(body["results"][0]) >= {"fg_pct", "xfg_pct", "diff", "diff_low", "diff_high", "pps", "xpps"}


@pytest.mark.parametrize(("params", "field"), [
    ({"sort": "salary"}, "sort"), ({"limit": 0}, "limit"), ({"min_attempts": "x"}, "min_attempts"),
    ({"colour": "red"}, "colour"), ({"season": "1999-00"}, "season"),
])  # fmt: skip
def test_the_api_refuses_bad_parameters_by_name(computed, params, field):
    response = APIClient().get("/api/v1/shot-making", params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("path", ["/api/v1/shot-making", "/api/v1/shot-making/players/1003"])
@pytest.mark.parametrize("season", ["2023", "23-24", "2023-24x", "\u00f1\u00e9{}", "2023/24"])
def test_a_season_not_written_like_2023_24_is_refused_by_name_even_before_any_figures(mongo_db, path, season):
    """Nothing computed yet: a malformed season is still a 400 naming it, not an empty 200."""
    response = APIClient().get(path, {"season": season})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["message"]) == ("season", "Not a season; expected e.g. 2023-24.")


def test_the_player_endpoint_refuses_an_unknown_parameter_by_name(computed):
    response = APIClient().get("/api/v1/shot-making/players/1003", {"colour": "red"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "colour"


def test_the_api_serves_one_player_and_404s_an_unknown_one(computed):
    api = APIClient()
    body = api.get("/api/v1/shot-making/players/1003").json()

    assert (body["player_name"], body["season"]) == ("Player 3", "2023-24")
    assert body["summary"]["attempts"] == int((computed.frame["player_id"] == 1003).sum())
    assert body["chart"]["bins"]
    missing = api.get("/api/v1/shot-making/players/5")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "player_id"
    assert api.get("/api/v1/shot-making/players/1003", {"season": "1999-00"}).status_code == 400


def test_the_openapi_schema_documents_both_endpoints(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    assert schema["paths"]["/api/v1/shot-making"]["get"]["operationId"] == "shot_making_list"
    assert "/api/v1/shot-making/players/{player_id}" in schema["paths"]
    assert "ShotMakingLeaderboard" in schema["components"]["schemas"]


def test_a_long_leaderboard_shows_its_first_rows_and_links_to_all(client, computed, monkeypatch):
    monkeypatch.setattr("portal.views_shotmaking.PAGE_ROWS", 5)
    players = computed.frame["player_id"].nunique()

    page = client.get(reverse("portal:shot-making")).content.decode()
    assert len(table_players(page)) == 5
    assert f"Show all {players} players" in page
    everyone = client.get(reverse("portal:shot-making"), {"all": "1"}).content.decode()
    assert len(table_players(everyone)) == players
