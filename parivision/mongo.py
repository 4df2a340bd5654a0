"""The one door to MongoDB: the raw lake, the warehouse and the prediction log.

The client is built lazily, on first use, once per process. PyMongo clients are not
fork-safe, and Celery's prefork pool and gunicorn fork after import: the process id
is checked on every access and a child builds its own client instead of using the
parent's sockets.

Only operations with the same semantics on a real MongoDB 7 and on the nx-27017
stand-in used on laptops and in tests are used here and by the callers (see README).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database

# Lake collections: documents exactly as received, their batches, and what was refused.
RAW_SHOTS = "raw_shots"
BATCHES = "batches"
QUARANTINE = "quarantine"
CORRECTIONS = "corrections"
# The replay feed's materialised dataset and its cursor.
FEED_RECORDS = "feed_records"
FEED_STATE = "feed_state"
FEED_PULLS = "feed_pulls"
# Warehouse collections: clean canonical shots, and served predictions.
SHOTS = "shots"
PREDICTIONS = "predictions"
# Figures the pages read by key, computed by Celery (parivision/figures.py).
FIGURES = "figures"
# Each shooter's counts per game day, read by player id (ingestion/history.py).
SHOOTER_HISTORY = "shooter_history"
# Each game's shots in the fields of the game context, read by game id (ingestion/game_context.py).
GAME_CONTEXT = "game_context"

_lock = threading.Lock()
_client: MongoClient[dict[str, Any]] | None = None
_client_pid: int | None = None
_client_uri: str | None = None
_indexed: set[tuple[int, str, str]] = set()


# The two fields of a store document kept current by writes that resident copies follow
# (the shooter-history and game-context stores): when it was last written, and how many times.
WRITTEN_AT = "u"
WRITES = "v"


def get_client() -> MongoClient[dict[str, Any]]:
    """The process's client, built for the ``MONGODB_URI`` configured now.

    A client built for another address is replaced (and closed): a thread that asked for the
    client while a test pointed the settings elsewhere cannot leave every later caller on the
    wrong server.
    """
    global _client, _client_pid, _client_uri
    pid = os.getpid()
    uri = settings.MONGODB_URI
    if _client is not None and _client_pid == pid and _client_uri == uri:
        return _client
    with _lock:
        if _client is not None and _client_pid == pid and _client_uri != uri:
            _client.close()
            _client = None
        if _client is None or _client_pid != pid:
            # In a forked child the inherited client is dropped, never closed: closing it
            # would tear down sockets the parent still owns.
            _client_uri = uri
            _client = MongoClient(
                uri,
                tz_aware=False,
                connect=False,
                serverSelectionTimeoutMS=min(settings.MONGODB_TIMEOUT_MS, settings.MONGODB_SERVER_SELECTION_TIMEOUT_MS),
                connectTimeoutMS=10_000,
                socketTimeoutMS=settings.MONGODB_TIMEOUT_MS,
                appname="parivision",
            )
            _client_pid = pid
    return _client


def reset_client() -> None:
    """Forget the client (after settings change, in tests); the next call builds a new one."""
    global _client, _client_pid, _client_uri
    with _lock:
        if _client is not None and _client_pid == os.getpid():
            _client.close()
        _client = None
        _client_pid = None
        _client_uri = None


def lake() -> Database[dict[str, Any]]:
    return get_client()[settings.MONGODB_LAKE_DB]


def warehouse() -> Database[dict[str, Any]]:
    return get_client()[settings.MONGODB_WAREHOUSE_DB]


def lake_collection(name: str) -> Collection[dict[str, Any]]:
    return lake()[name]


def warehouse_collection(name: str) -> Collection[dict[str, Any]]:
    return warehouse()[name]


def ping(timeout_ms: int = 2_000) -> None:
    """Raise if MongoDB does not answer within ``timeout_ms``."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.MONGODB_URI, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
    finally:
        client.close()


# A shot's identity is its ``_id`` (ingestion.shots.shot_key): re-importing the same data
# inserts nothing new. (game_id, event_id) orders a game's shots; it is not unique (the
# NBA.com format's event id is derived from the clock).
SHOT_INDEXES: tuple[dict[str, Any], ...] = (
    {"keys": (("game_id", ASCENDING), ("event_id", ASCENDING))},
    {"keys": (("game_date", ASCENDING),)},
    {"keys": (("player_id", ASCENDING), ("game_date", ASCENDING))},
    {"keys": (("season", ASCENDING),)},
    # The shooter-history recount reads whole games (ingestion/history.py): the stand-in uses an
    # index only for equality on all of its fields, so (game_id, event_id) does not serve it.
    {"keys": (("game_id", ASCENDING),)},
)
RAW_INDEXES: tuple[dict[str, Any], ...] = ({"keys": (("batch_id", ASCENDING),)},)


def ensure_indexes() -> None:
    """Create every index the platform relies on (idempotent; names left to the server)."""
    _drop_old_unique_event_index()
    for index in SHOT_INDEXES:
        warehouse_collection(SHOTS).create_index(list(index["keys"]), unique=index.get("unique", False))
    for index in RAW_INDEXES:
        lake_collection(RAW_SHOTS).create_index(list(index["keys"]), unique=index.get("unique", False))
    lake_collection(BATCHES).create_index([("status", ASCENDING), ("created_ts", ASCENDING)])
    lake_collection(QUARANTINE).create_index([("quarantined_at", DESCENDING)])
    lake_collection(QUARANTINE).create_index([("run_id", ASCENDING)])
    # The correction audit by shot (a settled live shot's page shows a later change of its outcome).
    lake_collection(CORRECTIONS).create_index([("shot_key", ASCENDING)])
    _drop_old_log_key_index()
    warehouse_collection(FIGURES).create_index([("scope", ASCENDING)])
    # The shooter-history store's documents by the time of their last write (ingestion/history.py).
    warehouse_collection(SHOOTER_HISTORY).create_index([(WRITTEN_AT, ASCENDING)])
    # The game-context store's, for the resident copies' refreshes (predictions/game_context.py).
    warehouse_collection(GAME_CONTEXT).create_index([(WRITTEN_AT, ASCENDING)])


def documents_written(collection: Collection[dict[str, Any]], *, excluded_id: Any, projection: Mapping[str, Any],
                      written_since: dt.datetime | None = None,
                      held: Mapping[Any, int | None] | None = None) -> Iterator[dict[str, Any]]:
    """The documents of a store whose writes stamp ``WRITTEN_AT`` and count ``WRITES``, but
    ``excluded_id`` (its state mark): all of them, or those written at or after ``written_since`` (by the
    ``WRITTEN_AT`` index) whose count is not the one ``held`` gives for their ``_id``. A copy that already holds a
    document's version need not read it again, so the look back over recent writes (which clocks and
    writes in flight need) costs only the counts; a document written before the store counted is read."""
    if written_since is None:
        return collection.find({"_id": {"$ne": excluded_id}}, dict(projection), batch_size=500)
    held = held or {}
    stamps = collection.find({"_id": {"$ne": excluded_id}, WRITTEN_AT: {"$gte": written_since}}, {WRITES: 1})
    changed = [doc["_id"] for doc in stamps if doc.get(WRITES) is None or held.get(doc["_id"]) != doc[WRITES]]

    def read() -> Iterator[dict[str, Any]]:
        for start in range(0, len(changed), 500):
            yield from collection.find({"_id": {"$in": changed[start:start + 500]}}, dict(projection))
    return read()


def write_count(document: Mapping[str, Any]) -> int | None:
    """A ``documents_written`` store document's write count (None: written before the store counted)."""
    count = document.get(WRITES)
    return None if count is None else int(count)


def _drop_old_unique_event_index() -> None:
    """The old natural key (game_id, event_id) was a unique index: it must not stay one."""
    shots = warehouse_collection(SHOTS)
    for name, info in shots.index_information().items():
        if info.get("unique") and [k for k, _ in info.get("key", [])] == ["game_id", "event_id"]:
            shots.drop_index(name)


def _drop_old_log_key_index() -> None:
    """The log's bundles (predictions/log.py) keep shot keys in arrays and are read by _id (their
    time) and by ``settled``: an index on "key" would be multikey, which the stand-in's equality
    lookups mishandle (they find nothing), and nothing reads the log by key on a hot path."""
    predictions = warehouse_collection(PREDICTIONS)
    for name, info in predictions.index_information().items():
        if [k for k, _ in info.get("key", [])] == ["key"]:
            predictions.drop_index(name)


def ensure_indexes_once() -> None:
    """``ensure_indexes`` the first time this process writes to these databases."""
    key = (os.getpid(), settings.MONGODB_URI, settings.MONGODB_WAREHOUSE_DB)
    if key not in _indexed:
        ensure_indexes()
        _indexed.add(key)


def drop_all() -> None:
    """Drop the lake and the warehouse databases (tests and ``reset_demo`` only)."""
    client = get_client()
    client.drop_database(settings.MONGODB_LAKE_DB)
    client.drop_database(settings.MONGODB_WAREHOUSE_DB)
    _indexed.clear()
