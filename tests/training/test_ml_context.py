from __future__ import annotations

import numpy as np
import pandas as pd

from tests.training.factories import shots_frame
from training.ml.context import CONTEXT_COLUMNS, game_context_features


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
    assert context.loc[10].tolist() == [0, 0, -1, 720, 0]
    assert context.loc[12].tolist() == [0, 0, -1, 720, -2]
    assert context.loc[15].tolist() == [0, 0, 0, 50, 2]
    assert context.loc[20].tolist() == [1, 1, 0, 10, 5]
    assert context.loc[25].tolist() == [2, 1, 1, 660, 5]


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
