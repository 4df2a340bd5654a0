"""The game-context store: each game's shots in the few fields the game context reads, one document per game.

Serving prices a shot that names its game with the team's previous shot of that game
(``training/ml/context.py``). Reading the game's shots from the warehouse is a find on ``game_id``,
which the MongoDB stand-in answers in tens of milliseconds a game (and a batch naming a thousand
games in seconds); this store answers by ``_id``, with the game packed the way the shooter-history
store packs a day (``ingestion/history.py``: the stand-in handles a binary value as one value)::

    {"_id": <game_id>, "b": <bytes: one ROW per shot>, "u": <when it was last written>, "v": <writes so far>}

(a ROW's ``key`` is a 64-bit hash of the shot's key, ``key_hash``: serving finds a shot the store
already holds by it, without the keys' text, which the stand-in reads slowly).

Kept current by the writes themselves: the shooter-history refresh (``ingestion.history.history_refresh``)
already reads every touched game whole after a batch is written, and hands those shots here; each
game's document is *replaced* by what the warehouse holds, so a re-run, a duplicate or a correction
never leaves a stale entry. The backfill (``history_backfill``, ``manage.py shooter_history_backfill``)
builds it for a warehouse that held shots before it existed, and marks it built (``STATE_ID``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from bson import Binary
from pymongo import UpdateOne

from parivision import mongo

STATE_ID = "state"
# The warehouse fields a game's entries are made of (and ``_id``, the shot key).
SHOT_FIELDS = ("game_id", "team_id", "period", "seconds_left", "event_id", "made", "player_id", "is_home")
# One shot of a game, little-endian, after its key's hash; -1 where the warehouse holds nothing (made and
# is_home: 1 / 0 / -1).
_ROW_TYPES = {"team_id": "<i8", "period": "<i1", "seconds_left": "<i2", "event_id": "<i8", "made": "<i1",
              "player_id": "<i8", "is_home": "<i1"}
_ROW_FIELDS = tuple(_ROW_TYPES)
ROW = np.dtype([("key", "<u8"), *_ROW_TYPES.items()])
WRITE_CHUNK = 200


def key_hash(key: str) -> int:
    """A shot key's 64-bit hash (BLAKE2b): how the store names a shot."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def _int(value: Any) -> int:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return -1
    return int(value)


def collection() -> Any:
    return mongo.warehouse_collection(mongo.GAME_CONTEXT)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def game_document(shots: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The store's fields of one game from its warehouse shots (``_id`` and ``SHOT_FIELDS``)."""
    rows = np.array([(key_hash(str(shot["_id"])), *(_int(shot.get(name)) for name in _ROW_FIELDS))
                     for shot in shots], dtype=ROW)
    return {"b": Binary(rows.tobytes())}


def game_rows(document: Mapping[str, Any]) -> np.ndarray:
    """The ROW array of a stored game document."""
    return np.frombuffer(bytes(document["b"]), dtype=ROW)


def game_context_write(games: Mapping[str, Sequence[Mapping[str, Any]]]) -> int:
    """Replace the documents of these games by their shots (a game without shots loses its document)."""
    if not games:
        return 0
    written = _now()
    operations: list[Any] = []
    empty = [game for game, shots in games.items() if not shots]
    for game, shots in games.items():
        if shots:
            operations.append(UpdateOne({"_id": game}, {"$set": {**game_document(shots), mongo.WRITTEN_AT: written},
                                                      "$inc": {mongo.WRITES: 1}},
                                        upsert=True))
    store = collection()
    for start in range(0, len(operations), WRITE_CHUNK):
        store.bulk_write(operations[start:start + WRITE_CHUNK], ordered=False)
    if empty:
        store.delete_many({"_id": {"$in": empty}})
    return len(operations)


def game_context_mark_built() -> None:
    collection().replace_one({"_id": STATE_ID}, {"_id": STATE_ID, "built": True, "built_at": _now()}, upsert=True)


def game_context_built() -> bool:
    return collection().find_one({"_id": STATE_ID}, {"_id": 1}) is not None


def game_context_documents(*, written_since: dt.datetime | None = None,
                           held: Mapping[str, int | None] | None = None) -> Iterator[dict[str, Any]] | None:
    """Every game's document, or those written since whose write count is not the one ``held`` gives
    (``parivision.mongo.documents_written``); None while the store has not been built."""
    if not game_context_built():
        return None
    return mongo.documents_written(collection(), excluded_id=STATE_ID, projection={"b": 1, mongo.WRITES: 1},
                                   written_since=written_since, held=held)


def game_context_read(game_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored documents of these games (a game the warehouse does not hold has none)."""
    games = sorted({str(game) for game in game_ids if game and str(game) != STATE_ID})
    if not games:
        return {}
    query = {"_id": games[0] if len(games) == 1 else {"$in": games}}
    return {str(doc["_id"]): doc for doc in collection().find(query, {"u": 0})}
