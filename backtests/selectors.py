"""Reads for backtests and the insight pages: warehouse shots as frames, model probabilities."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db.models import QuerySet

from backtests.models import Backtest
from ingestion import lake
from parivision import mongo
from training.ml.features import HISTORY_INPUTS, PlayerHistory
from training.services.data import COLUMNS

if TYPE_CHECKING:
    from training.ml.recalibration import RecalibrationConfig
    from training.ml.train import ShotModel

# What a shooter's history is built from (training.ml.features.history_daily_counts).
HISTORY_COLUMNS = list(HISTORY_INPUTS)
MARKET_COLUMNS = ["zone_basic", "action_type", "made"]


def backtests_visible(*, user: Any) -> QuerySet[Backtest]:
    """A user's own backtests; staff see everyone's."""
    queryset = Backtest.objects.select_related("owner")
    return queryset if user.is_staff else queryset.filter(owner=user)


def backtest_get(*, user: Any, backtest_id: int) -> Backtest | None:
    return backtests_visible(user=user).filter(pk=backtest_id).first()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _frame(query: dict[str, Any], columns: list[str], *, limit: int = 0,
           sort: tuple[tuple[str, int], ...] = (("game_date", 1), ("game_id", 1), ("event_id", 1))) -> pd.DataFrame:
    projection = dict.fromkeys(columns, 1) | {"_id": 0}
    if sort:
        rows = list(lake.iter_shots(query, projection=projection, limit=limit, sort=sort))
    else:  # order does not matter (aggregates): let the store skip the sort
        rows = list(mongo.warehouse_collection(mongo.SHOTS).find(query, projection, limit=limit))
    frame = pd.DataFrame(rows, columns=columns)
    if "game_date" in frame:
        frame["game_date"] = pd.to_datetime(frame["game_date"])
    if "made" in frame:
        frame["made"] = frame["made"].astype(bool)
    return frame


def shots_between(*, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """Canonical shots with game dates in [date_from, date_to], in game order."""
    query = {"game_date": {"$gte": _midnight(date_from), "$lte": _midnight(date_to)}}
    return _frame(query, COLUMNS)


def shots_query(query: dict[str, Any], *, limit: int = 0, newest_first: bool = False) -> pd.DataFrame:
    """Canonical shots matching a MongoDB query (optionally the newest ``limit``), in game order."""
    direction = -1 if newest_first else 1
    sort = (("game_date", direction), ("game_id", direction), ("event_id", direction))
    frame = _frame(query, COLUMNS, limit=limit, sort=sort)
    return frame.iloc[::-1].reset_index(drop=True) if newest_first else frame


def market_history(*, before: dt.date, lookback_days: int) -> pd.DataFrame:
    """Shots the market maker learns from: the ``lookback_days`` before ``before`` (exclusive)."""
    start = _midnight(before) - dt.timedelta(days=lookback_days)
    return _frame({"game_date": {"$gte": start, "$lt": _midnight(before)}}, MARKET_COLUMNS, sort=())


def player_history(frame: pd.DataFrame) -> PlayerHistory:
    """The shooters' histories up to the last date of ``frame`` (lookups are strictly before each shot)."""
    if frame.empty:
        return PlayerHistory.empty()
    players = sorted({int(p) for p in frame["player_id"].dropna()})
    until = frame["game_date"].max().to_pydatetime()
    query: dict[str, Any] = {"game_date": {"$lte": until}}
    query["player_id"] = players[0] if len(players) == 1 else {"$in": players}
    return PlayerHistory.from_shots(_frame(query, HISTORY_COLUMNS, sort=()))


def shots_features(*, model: ShotModel, frame: pd.DataFrame, history: PlayerHistory | None = None) -> np.ndarray:
    """The model's encoded rows of each shot, with shooter histories from the warehouse."""
    return model.pipeline.transform(frame, history=history if history is not None else player_history(frame))


def shots_probabilities(
    *, model: ShotModel, frame: pd.DataFrame, history: PlayerHistory | None = None, recalibrated: bool = True
) -> np.ndarray:
    """The model's calibrated P(made) for each shot, with shooter histories from the warehouse
    (``recalibrated=False``: without the in-season correction a served model may carry)."""
    if frame.empty:
        return np.empty(0)
    return model.predict_proba_features(shots_features(model=model, frame=frame, history=history),
                                        recalibrated=recalibrated)



def shots_probabilities_inseason(
    *, model: ShotModel, frame: pd.DataFrame, config: RecalibrationConfig, history: PlayerHistory | None = None
) -> np.ndarray:
    """The model's P(made) as serving with the in-season correction would have priced each shot: the
    shots of each date corrected by a fit on the settled shots of earlier dates only (the warehouse's
    ``config.window_days`` before the frame's first date, then the frame's own earlier dates), through
    ``training.ml.recalibration.inseason_apply``, the walk-forward's replay."""
    from training.ml.recalibration import inseason_apply

    if frame.empty:
        return np.empty(0)
    first = frame["game_date"].min().date()
    start = _midnight(first) - dt.timedelta(days=config.window_days)
    earlier = shots_query({"made": {"$in": [True, False]}, "game_date": {"$gte": start, "$lt": _midnight(first)}})
    encoded = [shots_features(model=model, frame=part, history=part_history)
               for part, part_history in ((earlier, None), (frame, history)) if not part.empty]
    x = np.vstack(encoded)
    both = pd.concat([earlier, frame], ignore_index=True)
    corrected, _ = inseason_apply(
        proba=model.predict_proba_features(x, recalibrated=False), y_true=both["made"].to_numpy(),
        is_three=(both["shot_type"] == "3PT").to_numpy(), dates=both["game_date"].to_numpy(), config=config,
        groups=model.action_groups(x) if config.by_action else None,
    )
    return corrected[len(earlier):]
