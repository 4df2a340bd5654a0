"""Warehouse shots as DataFrames for training, drift and evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ingestion import lake
from ingestion.shots import FIELDS
from parivision import mongo
from training.ml.features import HISTORY_INPUTS

COLUMNS = [f for f in FIELDS if f not in ("source", "ingested_at")]
_CHUNK = 50_000
HISTORY_COLUMNS = list(HISTORY_INPUTS)


def seasons_available() -> list[str]:
    """Seasons present in the warehouse, oldest first."""
    return sorted(s for s in mongo.warehouse_collection(mongo.SHOTS).distinct("season") if s)


def window_seasons(latest: int) -> list[str]:
    """The ``latest`` most recent seasons in the warehouse (the training window)."""
    return seasons_available()[-latest:]


def shots_frame(*, seasons: list[str] | None = None, since: dt.datetime | None = None,
                columns: list[str] | None = None, query: dict[str, Any] | None = None) -> pd.DataFrame:
    """Canonical shots (optionally of some seasons / after a date / matching ``query``), sorted by
    date and key; ``columns`` restricts the fields read (all canonical fields by default)."""
    query = dict(query or {})
    if seasons is not None:
        query["season"] = {"$in": seasons}
    if since is not None:
        query["game_date"] = {"$gt": since}
    wanted = list(columns or COLUMNS)
    projection = dict.fromkeys(wanted, 1) | {"_id": 0}
    chunks: list[pd.DataFrame] = []
    buffer: list[dict[str, Any]] = []
    for doc in lake.iter_shots(query, projection=projection):
        buffer.append(doc)
        if len(buffer) >= _CHUNK:
            chunks.append(pd.DataFrame(buffer, columns=wanted))
            buffer = []
    if buffer or not chunks:
        chunks.append(pd.DataFrame(buffer, columns=wanted))
    frame = pd.concat(chunks, ignore_index=True)
    frame["game_date"] = pd.to_datetime(frame["game_date"])
    frame["made"] = frame["made"].astype(bool)
    return frame


def history_shots(*, window: pd.DataFrame, history_days: int) -> pd.DataFrame:
    """The shots a shooter history over ``window`` needs (the one rule, ``SHOOTER_HISTORY_DAYS``):
    the window's own and every earlier shot from ``history_days`` before its first date (0: all)."""
    if window.empty:
        return window[HISTORY_COLUMNS]
    first = window["game_date"].min().to_pydatetime()
    dates: dict[str, Any] = {"$lt": first}
    if history_days:
        dates["$gte"] = first - dt.timedelta(days=history_days)
    earlier = shots_frame(columns=HISTORY_COLUMNS, query={"game_date": dates})
    if earlier.empty:  # nothing before the window (pandas deprecates concatenating an empty frame's dtypes)
        return window[HISTORY_COLUMNS].reset_index(drop=True)
    return pd.concat([earlier, window[HISTORY_COLUMNS]], ignore_index=True)


def describe_span(frame: pd.DataFrame) -> dict[str, Any]:
    if frame.empty:
        return {"rows": 0}
    return {
        "rows": len(frame),
        "first_date": str(frame["game_date"].min().date()),
        "last_date": str(frame["game_date"].max().date()),
        "seasons": sorted(frame["season"].unique().tolist()),
    }
