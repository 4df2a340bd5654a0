from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.training.factories import shots_frame
from training.ml.split import date_cutoff, shots_split_by_date


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return shots_frame(players=10, days=30, shots_per_day=10)


def test_holdout_is_the_latest_fifth_of_dates_and_shares_no_shot_or_date(frame: pd.DataFrame) -> None:
    split = shots_split_by_date(frame, test_fraction=0.2, validation_fraction=0.1)
    train_dates = set(split.train["game_date"])
    validation_dates = set(split.validation["game_date"])
    test_dates = set(split.test["game_date"])
    assert len(test_dates) == 6  # 20% of 30 dates
    assert max(train_dates) < min(validation_dates) <= max(validation_dates) < min(test_dates)
    assert max(test_dates) == frame["game_date"].max()
    keys = [set(zip(part["game_id"], part["event_id"], strict=True))
            for part in (split.train, split.validation, split.test)]
    assert not keys[0] & keys[1]
    assert not keys[0] & keys[2]
    assert not keys[1] & keys[2]
    assert sum(len(k) for k in keys) == len(frame)


def test_a_pinned_test_start_and_a_training_window(frame: pd.DataFrame) -> None:
    start = frame["game_date"].min() + pd.Timedelta(days=25)
    split = shots_split_by_date(frame, test_start=start, min_date=dt.datetime(2023, 10, 30))
    assert split.test["game_date"].min() == start
    assert split.train["game_date"].min() == pd.Timestamp(2023, 10, 30)
    assert split.describe()["test"]["dates"] == 5


def test_cutoff_needs_two_dates() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        date_cutoff([dt.datetime(2024, 1, 1)] * 3, fraction=0.2)
    assert date_cutoff([dt.datetime(2024, 1, d) for d in range(1, 11)], fraction=0.2) == dt.datetime(2024, 1, 9)


def test_an_empty_window_is_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no shots"):
        shots_split_by_date(frame, seasons=["1999-00"])
