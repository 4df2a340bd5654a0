"""Temporal splits by game date: the model is always scored on games after the ones it learnt from.

Whole dates go to one side, so the shots of a game (and of a night) never straddle
train and holdout, and the inner validation slice (early stopping, calibration) is
the latest part of the training window, mimicking the holdout's position in time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TemporalSplit:
    train: pd.DataFrame  # fits the estimator
    validation: pd.DataFrame  # early stopping and calibration; dates after train
    test: pd.DataFrame  # holdout; dates after validation
    validation_start: dt.datetime
    test_start: dt.datetime

    def describe(self) -> dict[str, object]:
        def span(frame: pd.DataFrame) -> dict[str, object]:
            if frame.empty:
                return {"rows": 0, "dates": 0, "first": None, "last": None}
            dates = frame["game_date"]
            return {"rows": len(frame), "dates": int(dates.nunique()), "first": str(dates.min().date()),
                    "last": str(dates.max().date())}

        return {"train": span(self.train), "validation": span(self.validation), "test": span(self.test)}


def date_cutoff(dates: pd.Series | Sequence[dt.datetime], *, fraction: float) -> dt.datetime:
    """First date of the last ``fraction`` of the distinct dates (at least one date)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    distinct = np.sort(pd.unique(pd.to_datetime(pd.Series(dates)).dropna()))
    if len(distinct) < 2:
        raise ValueError(f"need at least two distinct game dates to split, got {len(distinct)}")
    tail = min(max(1, round(len(distinct) * fraction)), len(distinct) - 1)
    return pd.Timestamp(distinct[-tail]).to_pydatetime()


def window_select(
    frame: pd.DataFrame,
    *,
    seasons: Sequence[str] | None = None,
    min_date: dt.datetime | None = None,
    max_date: dt.datetime | None = None,
) -> pd.DataFrame:
    """Restrict to a training window (seasons and/or a date range, both inclusive)."""
    mask = np.ones(len(frame), dtype=bool)
    if seasons is not None:
        mask &= frame["season"].isin(list(seasons)).to_numpy()
    if min_date is not None:
        mask &= (frame["game_date"] >= pd.Timestamp(min_date)).to_numpy()
    if max_date is not None:
        mask &= (frame["game_date"] <= pd.Timestamp(max_date)).to_numpy()
    return frame.loc[mask]


def shots_split_by_date(
    frame: pd.DataFrame,
    *,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.1,
    test_start: dt.datetime | None = None,
    seasons: Sequence[str] | None = None,
    min_date: dt.datetime | None = None,
) -> TemporalSplit:
    """Train / validation / test by game date.

    The holdout is the last ``test_fraction`` of distinct dates unless ``test_start`` pins it
    (e.g. "the last 20% of 2023-24", computed by the caller with ``date_cutoff``); the
    validation slice is the last ``validation_fraction`` of the remaining dates.
    """
    frame = window_select(frame, seasons=seasons, min_date=min_date)
    if frame.empty:
        raise ValueError("the training window holds no shots")
    if test_start is None:
        test_start = date_cutoff(frame["game_date"], fraction=test_fraction)
    before = frame["game_date"] < pd.Timestamp(test_start)
    history, test = frame.loc[before], frame.loc[~before]
    if history.empty or test.empty:
        raise ValueError(f"test_start {test_start} leaves one side of the split empty")
    validation_start = date_cutoff(history["game_date"], fraction=validation_fraction)
    in_validation = history["game_date"] >= pd.Timestamp(validation_start)
    return TemporalSplit(
        train=history.loc[~in_validation],
        validation=history.loc[in_validation],
        test=test,
        validation_start=validation_start,
        test_start=pd.Timestamp(test_start).to_pydatetime(),
    )
