"""Market odds from BetsAPI (a fake BetsAPI on 127.0.0.1) and the fallback to the market maker."""

from __future__ import annotations

import pytest

from betting import selectors, services
from betting.market import BETSAPI, MARKET_MAKER
from betting.models import LiveShot
from ingestion.betsapi import INPLAY_PATH, MARKET_MONEY_LINE, ODDS_PATH, UPCOMING_PATH
from ingestion.shots import TEAM_ABBREVIATIONS
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.ingestion.test_betsapi import GOOD_TOKEN, TIP_OFF, FakeBetsApi, Reply, event, fake  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

NAMES = {code: name for name, code in reversed(list(TEAM_ABBREVIATIONS.items()))}


@pytest.fixture
def betsapi(fake: FakeBetsApi, settings, warehouse_games, no_champion) -> FakeBetsApi:  # noqa: F811
    settings.BETSAPI_TOKEN = GOOD_TOKEN
    settings.BETSAPI_BASE_URL = fake.url
    fake.listing(UPCOMING_PATH, [], per_page=50)
    return fake


def first_game_teams() -> tuple[str, str]:
    """The teams of the game the stream opens first: the replay feed's next one."""
    from ingestion.feed import feed_peek

    record = feed_peek(start=0, n=1)[0][1]
    return record["Home Team"], record["Away Team"]


def money_line(home_od: str, away_od: str) -> Reply:
    snapshot = {"id": "1", "home_od": home_od, "away_od": away_od, "ss": "54-49", "time_str": "Q3",
                "add_time": str(TIP_OFF)}
    return Reply(body={"success": 1, "results": {"odds": {MARKET_MONEY_LINE: [snapshot]}}})


def in_play(home: str, away: str) -> Reply:
    game = event(777, time_status="1", home={"id": "1", "name": NAMES[home]}, away={"id": "2", "name": NAMES[away]})
    return Reply(body={"success": 1, "results": [game, event(778)]})


def test_a_matching_betsapi_event_gives_the_shot_the_bookmakers_margin(betsapi):
    home, away = first_game_teams()
    betsapi.script(INPLAY_PATH, in_play(home, away))
    betsapi.script(ODDS_PATH, money_line("1.800", "2.050"))

    services.stream_advance(force=True)

    shot = selectors.open_shot()
    assert shot.market_source == BETSAPI
    assert "BetsAPI event 777" in shot.market_detail
    overround = 1 / 1.8 + 1 / 2.05
    implied = 1 / float(shot.market_odds_made) + 1 / float(shot.market_odds_missed)
    assert implied == pytest.approx(overround, abs=2e-3)
    assert betsapi.calls(ODDS_PATH)[0]["event_id"] == "777"


def test_the_lookup_is_made_once_per_game_not_once_per_shot(betsapi):
    home, away = first_game_teams()
    betsapi.script(INPLAY_PATH, in_play(home, away))
    betsapi.script(ODDS_PATH, money_line("1.800", "2.050"))

    services.stream_advance(force=True)
    services.stream_advance(force=True)

    assert LiveShot.objects.filter(market_source=BETSAPI).count() == 2
    assert len(betsapi.calls(INPLAY_PATH)) == 1


def test_without_a_matching_event_the_market_maker_prices_the_shot(betsapi):
    betsapi.script(INPLAY_PATH, Reply(body={"success": 1, "results": [event(1)]}))

    services.stream_advance(force=True)

    shot = selectors.open_shot()
    assert shot.market_source == MARKET_MAKER
    assert "no BetsAPI event" in shot.market_detail
    assert betsapi.calls(ODDS_PATH) == []


def test_a_betsapi_outage_falls_back_to_the_market_maker(betsapi):
    betsapi.script(INPLAY_PATH, Reply(status=503, body={"success": 0, "error": "UNAVAILABLE"}))

    services.stream_advance(force=True)

    shot = selectors.open_shot()
    assert shot.market_source == MARKET_MAKER
    assert "BetsAPI unavailable" in shot.market_detail
    assert shot.market_odds_made is not None


def test_without_a_token_betsapi_is_never_called(fake, settings, warehouse_games, no_champion):  # noqa: F811
    settings.BETSAPI_TOKEN = None
    settings.BETSAPI_BASE_URL = fake.url

    services.stream_advance(force=True)

    assert selectors.open_shot().market_source == MARKET_MAKER
    assert fake.requests == []
