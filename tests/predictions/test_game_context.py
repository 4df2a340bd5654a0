"""The served game context: the team's and the opponent's previous shot, from the request or the warehouse,
by the one rule."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rest_framework.test import APIClient

from ingestion.game_context import game_context_write
from ingestion.shots import shot_key
from parivision import mongo
from predictions import services
from predictions.game_context import records_with_game_context
from tests.predictions.conftest import shot
from training.ml.context import OPPONENT_CONTEXT, PREVIOUS_SHOTS, TEAM_CONTEXT, with_previous_shots
from training.ml.train import ShotModel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]

SINGLE = "/api/v1/predictions"
BATCH = "/api/v1/predictions/batch"
GAME = "0022300777"
HOME, AWAY = 1610612701, 1610612702


def doc(event: int, period: int, seconds_left: int, player: int, team: int, made: bool) -> dict[str, Any]:
    x, y = float(event % 7) - 3.0, 5.0 + event % 5
    return {"_id": shot_key(game_id=GAME, period=period, seconds_left=seconds_left, player_id=player, x_ft=x, y_ft=y),
            "game_id": GAME, "event_id": event, "player_id": player, "team_id": team, "is_home": team == HOME,
            "period": period, "seconds_left": seconds_left, "made": made, "x_ft": x, "y_ft": y,
            "game_date": dt.datetime(2023, 11, 20)}


@pytest.fixture
def game_in_warehouse() -> list[dict[str, Any]]:
    docs = [
        doc(10, 1, 700, 1003, HOME, True),
        doc(12, 1, 690, 2001, AWAY, False),
        doc(15, 1, 650, 1004, HOME, False),  # home's latest before 1:640
        doc(30, 1, 600, 1003, HOME, True),   # later than the asked shot: never seen
    ]
    mongo.warehouse_collection(mongo.SHOTS).insert_many([dict(d) for d in docs])
    game_context_write({GAME: docs})  # what the ingestion's refresh writes for the game (tests/ingestion)
    return docs


def canonical(**overrides: Any) -> dict[str, Any]:
    body = shot(game_id=GAME, period=1, seconds_left=640, **overrides)
    body["game_date"] = dt.date.fromisoformat(body["game_date"])
    return services.shot_canonical(body)


def context_of(record: dict[str, Any]) -> list[float]:
    return [record[name] for name in TEAM_CONTEXT]


def opponent_of(record: dict[str, Any]) -> list[float]:
    return [record[name] for name in OPPONENT_CONTEXT]


def all_of(record: dict[str, Any]) -> list[float]:
    return [record[name] for name in PREVIOUS_SHOTS]


def test_the_warehouse_says_what_the_team_s_previous_shot_was(game_in_warehouse: list[dict[str, Any]]) -> None:
    asked = canonical(player_id=1003)
    records_with_game_context([asked])
    assert context_of(asked["record"]) == [1.0, 10.0]  # 1004 missed 10 game seconds earlier
    assert opponent_of(asked["record"]) == [1.0, 50.0]  # and the away side's 2001 missed 50 seconds earlier


def test_a_player_without_a_shot_in_the_game_yet_is_placed_by_the_side_given(
        game_in_warehouse: list[dict[str, Any]]) -> None:
    away = canonical(player_id=2999, home_away="away")
    nowhere = canonical(player_id=2999, home_away=None)
    records_with_game_context([away, nowhere])
    assert context_of(away["record"]) == [1.0, 50.0]  # the away side's miss at 1:690
    assert opponent_of(away["record"]) == [1.0, 10.0]  # the home side's latest: 1004's miss at 1:650
    assert np.isnan(all_of(nowhere["record"])).all()  # which team? not known


def test_a_shot_the_warehouse_holds_gets_the_context_training_gave_it(game_in_warehouse: list[dict[str, Any]]) -> None:
    held = game_in_warehouse[3]
    body = shot(game_id=GAME, period=held["period"], seconds_left=held["seconds_left"], player_id=held["player_id"],
                x_ft=held["x_ft"], y_ft=held["y_ft"])
    body["game_date"] = dt.date(2023, 11, 20)
    asked = services.shot_canonical(body)
    assert asked["shot_key"] == held["_id"]
    records_with_game_context([asked])
    frame = with_previous_shots(pd.DataFrame(game_in_warehouse))
    expected = frame.loc[frame["_id"] == held["_id"], list(PREVIOUS_SHOTS)].iloc[0].tolist()
    assert all_of(asked["record"]) == expected == [1.0, 50.0, 1.0, 90.0]  # never its own outcome


def test_without_a_game_or_with_one_not_held_the_context_is_unknown(game_in_warehouse: list[dict[str, Any]]) -> None:
    anonymous = services.shot_canonical({**shot(), "game_date": dt.date(2023, 11, 20)})
    elsewhere = services.shot_canonical({**shot(game_id="0022300778"), "game_date": dt.date(2023, 11, 20)})
    records_with_game_context([anonymous, elsewhere])
    assert np.isnan(all_of(anonymous["record"])).all()
    assert np.isnan(all_of(elsewhere["record"])).all()


def test_what_the_caller_says_wins_over_the_warehouse(game_in_warehouse: list[dict[str, Any]]) -> None:
    made = canonical(player_id=1003, team_previous_shot="made", team_previous_shot_seconds=4)
    first = canonical(player_id=1003, team_previous_shot="none")
    long_ago = canonical(player_id=1003, team_previous_shot="missed", team_previous_shot_seconds=2000)
    opponent = canonical(player_id=1003, team_previous_shot="missed", team_previous_shot_seconds=10,
                         opponent_previous_shot="made", opponent_previous_shot_seconds=7)
    both = canonical(player_id=1003, team_previous_shot="none", opponent_previous_shot="none")
    records_with_game_context([made, first, long_ago, opponent, both])
    assert context_of(made["record"]) == [0.0, 4.0]
    assert context_of(first["record"]) == [-1.0, 720.0]
    assert context_of(long_ago["record"]) == [1.0, 720.0]  # counted up to 720, the rule's cap
    # A pair the caller leaves out is still read from the warehouse; a pair it gives is kept.
    assert opponent_of(made["record"]) == opponent_of(long_ago["record"]) == [1.0, 50.0]
    assert all_of(opponent["record"]) == [1.0, 10.0, 0.0, 7.0]
    assert all_of(both["record"]) == [-1.0, 720.0, -1.0, 720.0]


@pytest.mark.parametrize(("fields", "named"), [
    ({"team_previous_shot_seconds": 12}, "team_previous_shot_seconds"),
    ({"team_previous_shot": "missed"}, "team_previous_shot_seconds"),
    ({"team_previous_shot": "none", "team_previous_shot_seconds": 3}, "team_previous_shot_seconds"),
    ({"team_previous_shot": "blocked", "team_previous_shot_seconds": 3}, "team_previous_shot"),
    ({"team_previous_shot": "made", "team_previous_shot_seconds": -1}, "team_previous_shot_seconds"),
    ({"team_previous_shot": "made", "team_previous_shot_seconds": 1.5}, "team_previous_shot_seconds"),
    ({"team_previous_shot": "none", "opponent_previous_shot_seconds": 12}, "opponent_previous_shot_seconds"),
    ({"team_previous_shot": "none", "opponent_previous_shot": "made"}, "opponent_previous_shot_seconds"),
    ({"team_previous_shot": "none", "opponent_previous_shot": "none", "opponent_previous_shot_seconds": 0},
     "opponent_previous_shot_seconds"),
    ({"team_previous_shot": "none", "opponent_previous_shot": "stolen", "opponent_previous_shot_seconds": 3},
     "opponent_previous_shot"),
    ({"team_previous_shot": "none", "opponent_previous_shot": "missed", "opponent_previous_shot_seconds": 5000},
     "opponent_previous_shot_seconds"),
    ({"opponent_previous_shot": "made", "opponent_previous_shot_seconds": 3}, "team_previous_shot"),
])
@pytest.mark.usefixtures("champion")
def test_a_contradictory_game_context_is_refused_naming_the_field(api: APIClient, fields: dict[str, Any],
                                                                  named: str) -> None:
    response = api.post(SINGLE, shot(**fields), format="json")
    assert response.status_code == 400, response.json()
    assert [error["field"] for error in response.json()["errors"]] == [named]
    batch = api.post(BATCH, {"shots": [shot(), shot(**fields)]}, format="json")
    assert batch.status_code == 400
    assert [error["field"] for error in batch.json()["errors"]] == [f"shots.1.{named}"]


@pytest.mark.usefixtures("champion")
def test_the_served_model_reads_the_context_of_the_named_game(api: APIClient, game_in_warehouse: list[dict[str, Any]],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[float]] = []
    original = ShotModel.predict_proba_records

    def spy(self: ShotModel, records: Any, **kwargs: Any) -> Any:
        seen.extend(all_of(record) for record in records)
        return original(self, records, **kwargs)

    monkeypatch.setattr(ShotModel, "predict_proba_records", spy)
    named = api.post(SINGLE, shot(game_id=GAME, period=1, seconds_left=640, player_id=1003), format="json")
    given = api.post(SINGLE, shot(team_previous_shot="made", team_previous_shot_seconds=30), format="json")
    anonymous = api.post(SINGLE, shot(), format="json")
    assert [r.status_code for r in (named, given, anonymous)] == [200, 200, 200]
    assert seen[0] == [1.0, 10.0, 1.0, 50.0]
    assert seen[1][:2] == [0.0, 30.0]  # the team's given...
    assert np.isnan(seen[1][2:]).all()  # ... and no game to read the opponent's from
    assert np.isnan(seen[2]).all()
    assert 0 < anonymous.json()["probability_made"] < 1


def test_a_shot_already_held_is_priced_from_the_game_read_before_and_a_new_one_reads_afresh(
        game_in_warehouse: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    from predictions import game_context

    reads: list[list[str]] = []
    real = game_context.game_context_read

    def counted(games: Any) -> Any:
        games = list(games)
        reads.append(games)
        return real(games)

    monkeypatch.setattr(game_context, "game_context_read", counted)
    held = game_in_warehouse[2]

    def held_shot() -> dict[str, Any]:
        body = shot(game_id=GAME, period=held["period"], seconds_left=held["seconds_left"],
                    player_id=held["player_id"], x_ft=held["x_ft"], y_ft=held["y_ft"])
        body["game_date"] = dt.date(2023, 11, 20)
        return services.shot_canonical(body)

    first, second = held_shot(), held_shot()
    records_with_game_context([first])
    records_with_game_context([second])
    assert len(reads) == 1  # the second came from the copy: it holds the shot
    assert context_of(second["record"]) == context_of(first["record"]) == [0.0, 50.0]

    # A home miss at 1:645 reaches the store; a shot not ingested yet (1:640) must see it at once.
    newer = [*game_in_warehouse, doc(16, 1, 645, 1004, HOME, False)]
    game_context_write({GAME: newer})
    upcoming = canonical(player_id=1003)
    records_with_game_context([upcoming])
    assert len(reads) == 2
    assert context_of(upcoming["record"]) == [1.0, 5.0]


def test_the_copy_is_bounded_and_ages(game_in_warehouse: list[dict[str, Any]], settings: Any) -> None:
    from predictions import game_context

    held = game_in_warehouse[3]  # home, 1:600: its team's previous shot is 1004's miss at 1:650

    def held_shot() -> dict[str, Any]:
        body = shot(game_id=GAME, period=held["period"], seconds_left=held["seconds_left"],
                    player_id=held["player_id"], x_ft=held["x_ft"], y_ft=held["y_ft"])
        body["game_date"] = dt.date(2023, 11, 20)
        return services.shot_canonical(body)

    settings.SERVING_GAME_CONTEXT_CACHE_GAMES = 0
    records_with_game_context([held_shot()])
    assert not game_context._games  # nothing kept
    settings.SERVING_GAME_CONTEXT_CACHE_GAMES = 5
    first = held_shot()
    records_with_game_context([first])
    assert list(game_context._games) == [GAME]
    assert context_of(first["record"]) == [1.0, 50.0]
    corrected = [dict(d) for d in game_in_warehouse]
    corrected[2]["made"] = True  # 1004's shot at 1:650 is corrected to a make
    game_context_write({GAME: corrected})
    stale = held_shot()
    records_with_game_context([stale])
    assert context_of(stale["record"]) == [1.0, 50.0]  # within the age: the copy read before
    settings.SERVING_GAME_CONTEXT_MAX_AGE_SECONDS = 0.0
    fresh = held_shot()
    records_with_game_context([fresh])
    assert context_of(fresh["record"]) == [0.0, 50.0]  # past it: read again


def _held(held: dict[str, Any]) -> dict[str, Any]:
    body = shot(game_id=GAME, period=held["period"], seconds_left=held["seconds_left"], player_id=held["player_id"],
                x_ft=held["x_ft"], y_ft=held["y_ft"])
    body["game_date"] = dt.date(2023, 11, 20)
    return services.shot_canonical(body)


def test_resident_games_price_held_shots_without_a_read_and_follow_the_store(
        game_in_warehouse: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestion.game_context import game_context_mark_built
    from predictions import game_context

    resident = game_context.resident()
    assert resident.refresh(refresh_seconds=15) is None  # the store is not marked built: nothing to load
    assert not resident.loaded.is_set()
    game_context_mark_built()
    other = "0022300778"
    opener = doc(5, 1, 710, 1003, HOME, True)
    opener.update(game_id=other, _id=shot_key(game_id=other, period=1, seconds_left=710, player_id=1003,
                                              x_ft=opener["x_ft"], y_ft=opener["y_ft"]))
    game_context_write({other: [opener]})
    assert resident.refresh(refresh_seconds=15) == 2
    assert resident.games == 2

    reads: list[list[str]] = []
    real = game_context.game_context_read
    monkeypatch.setattr(game_context, "game_context_read", lambda games: reads.append(list(games)) or real(games))
    held = [_held(d) for d in game_in_warehouse]
    records_with_game_context(held)
    assert reads == []  # every one of them from the resident copy, the first time
    expected = with_previous_shots(pd.DataFrame(game_in_warehouse))[list(PREVIOUS_SHOTS)].to_numpy().tolist()
    np.testing.assert_array_equal([all_of(h["record"]) for h in held], expected)  # training's, exactly

    # A shot not ingested yet still reads its game afresh.
    upcoming = canonical(player_id=1003)
    records_with_game_context([upcoming])
    assert reads == [[GAME]]
    assert context_of(upcoming["record"]) == [1.0, 10.0]

    # A correction of an earlier shot reaches the copy at the next refresh (the documents written since).
    corrected = [dict(d) for d in game_in_warehouse]
    corrected[2]["made"] = True  # 1004's shot at 1:650 becomes a make
    game_context_write({GAME: corrected})
    # Only this game: the other one is within the look-back but its write count has not moved.
    assert resident.refresh(refresh_seconds=15) == 1
    assert resident.refresh(refresh_seconds=15) == 0  # nothing written since: nothing re-read
    last = _held(game_in_warehouse[3])
    first_of_other = services.shot_canonical({**shot(game_id=other, period=1, seconds_left=710, player_id=1003,
                                                    x_ft=opener["x_ft"], y_ft=opener["y_ft"]),
                                              "game_date": dt.date(2023, 11, 20)})
    assert first_of_other["shot_key"] == opener["_id"]
    records_with_game_context([first_of_other, last])  # one game as loaded, one as refreshed since
    assert context_of(last["record"]) == [0.0, 50.0]
    assert context_of(first_of_other["record"]) == [-1.0, 720.0]  # its game's first shot: no previous one
    assert reads == [[GAME]]


def test_resident_games_are_not_trusted_once_the_refreshes_stop(game_in_warehouse: list[dict[str, Any]]) -> None:
    from ingestion.game_context import game_context_mark_built
    from predictions import game_context

    game_context_mark_built()
    resident = game_context.resident()
    assert resident.refresh(refresh_seconds=0.5) == 1
    assert resident.contexts_of([(GAME, game_context.key_hash(game_in_warehouse[3]["_id"]))])[0] == (1.0, 50.0, 1.0, 90.0)
    assert resident.contexts_of([(GAME, 12345)])[0] is None  # a shot the store does not hold
    time.sleep(1.6)  # three refreshes of 0.5 s missed
    assert resident.contexts_of([(GAME, game_context.key_hash(game_in_warehouse[3]["_id"]))])[0] is None
    asked = _held(game_in_warehouse[3])
    records_with_game_context([asked])  # read from the store instead
    assert context_of(asked["record"]) == [1.0, 50.0]
