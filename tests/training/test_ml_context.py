from __future__ import annotations

import numpy as np
import pandas as pd

from tests.training.factories import shots_frame
from training.ml.context import (
    CONTEXT_COLUMNS,
    game_context_features,
    game_seconds_elapsed,
    opponent_previous_shot,
    previous_shots,
    previous_shots_frame,
    team_previous_shot,
    with_previous_shots,
)


def game(*rows: tuple[int, int, int, int, str, bool]) -> pd.DataFrame:
    """(event, period, seconds_left, player, team, made) rows of one game; players 1-2 play for A, 3 for B."""
    return pd.DataFrame([
        {"game_id": "0022300001", "event_id": e, "period": p, "seconds_left": s, "player_id": pl,
         "team_id": {"A": 1, "B": 2}[t], "shot_type": "3PT" if pl == 2 else "2PT", "made": m}
        for e, p, s, pl, t, m in rows
    ])


def test_each_shot_sees_only_the_earlier_shots_of_its_game() -> None:
    frame = game(
        (10, 1, 700, 1, "A", True),   # A 2-0
        (12, 1, 690, 3, "B", False),
        (15, 1, 650, 2, "A", True),   # A 5-0 (a three)
        (20, 1, 640, 1, "A", False),
        (25, 2, 700, 1, "A", True),
    ).iloc[::-1].reset_index(drop=True)  # listed backwards: the order must come from the clock
    context = game_context_features(frame).set_index(frame["event_id"])
    # attempts, makes, team's previous (missed, seconds), margin, opponent's previous (missed, seconds, three)
    assert context.loc[10].tolist() == [0, 0, -1, 720, 0, -1, 720, -1]
    assert context.loc[12].tolist() == [0, 0, -1, 720, -2, 0, 10, 0]
    assert context.loc[15].tolist() == [0, 0, 0, 50, 2, 1, 40, 0]
    assert context.loc[20].tolist() == [1, 1, 0, 10, 5, 1, 50, 0]
    assert context.loc[25].tolist() == [2, 1, 1, 660, 5, 1, 710, 0]
    assert context.loc[[12, 25], "ctx_opp_prev_three"].tolist() == [0, 0]
    assert game_context_features(frame.assign(shot_type="3PT")).set_index(frame["event_id"]).loc[
        12, "ctx_opp_prev_three"] == 1


def test_no_shot_sees_its_own_outcome_or_a_later_one() -> None:
    frame = shots_frame(players=10, days=3, shots_per_day=50, seed=2)
    frame["team_id"] = frame["player_id"] % 2
    base = game_context_features(frame)
    rng = np.random.default_rng(0)
    for index in rng.choice(len(frame), size=20, replace=False):
        same_game = frame["game_id"] == frame.loc[index, "game_id"]
        key = (frame["period"], -frame["seconds_left"], frame["event_id"])
        later_or_self = same_game & (
            (key[0] > key[0][index]) | ((key[0] == key[0][index]) & (key[1] > key[1][index]))
            | ((key[0] == key[0][index]) & (key[1] == key[1][index]) & (key[2] >= key[2][index]))
        )
        flipped = frame.copy()
        flipped.loc[later_or_self, "made"] = ~flipped.loc[later_or_self, "made"]
        again = game_context_features(flipped)
        assert again.loc[index].tolist() == base.loc[index].tolist()
    assert list(base.columns) == list(CONTEXT_COLUMNS)
    assert base.index.equals(frame.index)


def test_the_served_columns_are_the_walkforward_ones() -> None:
    frame = game(
        (10, 1, 700, 1, "A", True), (12, 1, 690, 3, "B", False), (15, 1, 650, 2, "A", True),
        (20, 1, 640, 1, "A", False), (25, 2, 700, 1, "A", True),
    )
    full = game_context_features(frame)
    served = with_previous_shots(frame)
    np.testing.assert_array_equal(served["team_prev_missed"], full["ctx_team_prev_missed"])
    np.testing.assert_array_equal(served["team_seconds_since_prev"], full["ctx_team_seconds_since_prev"])
    np.testing.assert_array_equal(served["opponent_prev_missed"], full["ctx_opp_prev_missed"])
    np.testing.assert_array_equal(served["opponent_seconds_since_prev"], full["ctx_opp_seconds_since_prev"])
    assert with_previous_shots(served) is served  # columns given are kept, not recomputed
    # Without the game's columns a frame's context is unknown, not guessed.
    assert np.isnan(previous_shots_frame(frame.drop(columns="team_id"))["team_prev_missed"]).all()


def test_a_shot_not_known_yet_is_scored_but_is_nobody_s_previous_shot() -> None:
    # Team 1: a known make at 100 s, an asked shot at 110 s, another asked shot at 130 s; team 2 known at 105 s.
    game_ids, teams = ["g"] * 4, [1, 1, 2, 1]
    elapsed, event, made = [100.0, 110.0, 105.0, 130.0], [1.0, np.nan, 2.0, np.nan], [1.0, np.nan, 0.0, np.nan]
    prev_missed, since = team_previous_shot(game=game_ids, team=teams, elapsed=elapsed, event=event, made=made,
                                            known=[True, False, True, False])
    assert prev_missed.tolist() == [-1.0, 0.0, -1.0, 0.0]  # both asked shots see the make, not each other
    assert since.tolist() == [720.0, 10.0, 720.0, 30.0]


def test_the_same_second_counts_by_event_and_an_unknown_event_comes_last() -> None:
    # A miss and its putback in the same second: the putback (higher event) sees the miss, not the reverse.
    prev_missed, since = team_previous_shot(game=["g"] * 3, team=[1] * 3, elapsed=[50.0, 50.0, 50.0],
                                            event=[7.0, 8.0, np.nan], made=[0.0, 1.0, np.nan],
                                            known=[True, True, False])
    assert prev_missed.tolist() == [-1.0, 1.0, 0.0]
    assert since.tolist() == [720.0, 0.0, 0.0]


def test_a_shot_without_its_game_or_team_has_an_unknown_context() -> None:
    prev_missed, since = team_previous_shot(game=["g", None, "g"], team=[1, 1, None], elapsed=[10.0, 20.0, 30.0],
                                            event=[1.0, 2.0, 3.0], made=[1.0, 0.0, 1.0])
    assert prev_missed[0] == -1.0
    assert since[0] == 720.0
    assert np.isnan(prev_missed[1:]).all()
    assert np.isnan(since[1:]).all()


def test_the_gap_is_capped_and_spans_periods() -> None:
    prev_missed, since = team_previous_shot(
        game=["g"] * 3, team=[1] * 3,
        elapsed=game_seconds_elapsed(np.array([1, 1, 5]), np.array([700, 690, 290])),  # overtime: 300 s periods
        event=[1.0, 2.0, 3.0], made=[0.0, 0.0, 1.0],
    )
    assert since.tolist() == [720.0, 10.0, 720.0]
    assert prev_missed.tolist() == [-1.0, 1.0, 1.0]


def test_the_opponent_s_previous_shot_is_the_other_team_s_latest_known_one() -> None:
    # Game g: A known miss at 100 s, B asked at 104 s, B known make at 106 s, A asked at 110 s, A known at 112 s
    # (same second as nothing), B known at 112 s with a higher event; game h: one B shot, nobody before it.
    games, teams = ["g"] * 6 + ["h"], ["A", "B", "B", "A", "A", "B", "B"]
    elapsed = [100.0, 104.0, 106.0, 110.0, 112.0, 112.0, 5.0]
    event, made = [1.0, np.nan, 3.0, np.nan, 5.0, 6.0, 1.0], [0.0, np.nan, 1.0, np.nan, 1.0, 0.0, 1.0]
    known = [True, False, True, False, True, True, True]
    prev_missed, since = opponent_previous_shot(game=games, team=teams, elapsed=elapsed, event=event, made=made,
                                                known=known)
    assert prev_missed.tolist() == [-1.0, 1.0, 1.0, 0.0, 0.0, 0.0, -1.0]
    assert since.tolist() == [720.0, 4.0, 6.0, 4.0, 6.0, 0.0, 720.0]
    # The four served values in one call, the team's first.
    both = previous_shots(game=games, team=teams, elapsed=elapsed, event=event, made=made, known=known)
    np.testing.assert_array_equal(both[2], prev_missed)
    np.testing.assert_array_equal(both[3], since)
    np.testing.assert_array_equal(both[0], team_previous_shot(game=games, team=teams, elapsed=elapsed, event=event,
                                                              made=made, known=known)[0])


def test_a_shot_without_a_team_is_nobody_s_previous_shot_and_has_no_opponent() -> None:
    prev_missed, since = opponent_previous_shot(game=["g"] * 3, team=[None, 2, 1], elapsed=[10.0, 20.0, 30.0],
                                                event=[1.0, 2.0, 3.0], made=[0.0, 1.0, 0.0])
    assert np.isnan(prev_missed[0])
    assert np.isnan(since[0])
    assert prev_missed[1:].tolist() == [-1.0, 0.0]  # team 2 never sees the team-less miss; team 1 sees 2's make
    assert since[1:].tolist() == [720.0, 10.0]
