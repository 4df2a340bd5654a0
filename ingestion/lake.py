"""Lake and warehouse writes: raw documents, batches, quarantine and canonical shots.

Every write is idempotent. Raw documents and quarantine entries are keyed by a hash of
what was received; warehouse shots by their identity (``ingestion.shots.shot_key``: game,
period, clock, shooter, location, repeat). A known key with different content is a
correction: the stored shot is replaced and the change audited in ``corrections``. Bulk
inserts are unordered on those unique keys, so a re-run that meets rows it already
wrote counts them as duplicates and goes on.

Batches carry the ETL state: a batch is ``receiving`` while its raw documents are being
written, ``pending`` until the transform has put its shots into the warehouse, and
``done`` after. A claim that has not finished within the stale interval (a worker that
died) can be taken again; re-doing a batch is harmless.

State timestamps that change (``updated_ts``) are epoch seconds, not dates: the nx-27017
stand-in stores a date written by ``$set`` as a string, while numbers compare the same
on it and on a real MongoDB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from ingestion.shots import CONTENT_FIELDS
from parivision import mongo

logger = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
STALE_CLAIM = dt.timedelta(minutes=15)

RECEIVING = "receiving"
PENDING = "pending"
PROCESSING = "processing"
DONE = "done"


def utcnow() -> dt.datetime:
    """Naive UTC, the way BSON dates come back."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_batch_id() -> str:
    return uuid.uuid4().hex


def raw_id(record: Any, *, file_format: str | None) -> str:
    """A stable id for a received record: the same record received twice is one document
    (an exact repeated row of a file is the same record, and the same shot)."""
    payload = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.blake2b(f"{file_format}|{payload}".encode(), digest_size=16)
    return digest.hexdigest()


def raw_document(
    record: Any,
    *,
    source: str,
    file_format: str | None,
    run_id: int | None,
    batch_id: str,
    received_at: dt.datetime,
    repeat: int | None = None,
    convention: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "_id": raw_id(record, file_format=file_format),
        "source": source,
        "format": file_format,
        "repeat": repeat,
        "convention": convention,
        "record": record,
        "run_id": run_id,
        "batch_id": batch_id,
        "received_at": received_at,
    }


def insert_unordered(collection_name: str, docs: Sequence[dict[str, Any]], *, warehouse: bool) -> tuple[int, int]:
    """Insert ``docs``, skipping those whose key exists. Returns (inserted, duplicates)."""
    if not docs:
        return 0, 0
    mongo.ensure_indexes_once()
    collection = mongo.warehouse_collection(collection_name) if warehouse else mongo.lake_collection(collection_name)
    try:
        result = collection.insert_many(docs, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        unexpected = [e for e in errors if e.get("code") != DUPLICATE_KEY]
        if unexpected:
            raise
        duplicates = len(errors)
        return len(docs) - duplicates, duplicates
    return len(result.inserted_ids), 0


def insert_raw(docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    return insert_unordered(mongo.RAW_SHOTS, docs, warehouse=False)


def insert_shots(docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    return insert_unordered(mongo.SHOTS, docs, warehouse=True)


# --- known shots: duplicates, corrections and their audit ---------------------------------------

CORRECTIONS = mongo.CORRECTIONS  # lake collection: one entry per change applied to a warehouse shot


def shots_by_key(keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored shots among ``keys`` (read by ``_id``: fast on MongoDB and on the stand-in)."""
    if not keys:
        return {}
    found = mongo.warehouse_collection(mongo.SHOTS).find({"_id": {"$in": list(keys)}})
    return {doc["_id"]: doc for doc in found}


def _comparable(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    return value


def content_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The facts of a shot that differ between a stored document and a new one (``CONTENT_FIELDS``)."""
    return {
        name: (old.get(name), new.get(name))
        for name in CONTENT_FIELDS
        if _comparable(old.get(name)) != _comparable(new.get(name))
    }


def with_next_repeat(doc: dict[str, Any]) -> dict[str, Any]:
    """The same shot document as the next same-second repeat (its key and repeat number)."""
    repeat = int(doc.get("repeat") or 1) + 1
    base = doc["_id"] if doc["_id"].count(":") == 5 else doc["_id"].rsplit(":", 1)[0]
    return {**doc, "_id": f"{base}:{repeat}", "repeat": repeat}


def fill_missing(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Complete a stored shot with what only the other format carries (the position)."""
    if old.get("position") is None and new.get("position") is not None:
        mongo.warehouse_collection(mongo.SHOTS).update_one({"_id": old["_id"]}, {"$set": {"position": new["position"]}})


def apply_correction(
    old: dict[str, Any], new: dict[str, Any], changed: dict[str, tuple[Any, Any]], *, run_id: int | None
) -> None:
    """Replace a stored shot by its corrected content, and audit the change (idempotent)."""
    replacement = {**new, "position": new.get("position") or old.get("position")}
    audit_key = hashlib.blake2b(
        json.dumps([old["_id"], sorted(changed.items())], default=str).encode(), digest_size=16
    ).hexdigest()
    entry = {
        "_id": audit_key,
        "shot_key": old["_id"],
        "changes": {name: {"before": before, "after": after} for name, (before, after) in changed.items()},
        "before_source": old.get("source"),
        "source": new.get("source"),
        "run_id": run_id,
        "corrected_at": utcnow(),
    }
    insert_unordered(CORRECTIONS, [entry], warehouse=False)
    mongo.warehouse_collection(mongo.SHOTS).replace_one({"_id": old["_id"]}, replacement)
    if "made" in changed:
        # Bets already settled on this shot stand (betting/README): the operator should know.
        logger.warning("correction: shot %s outcome changed from %s to %s (source %s, run %s)", old["_id"],
                       *changed["made"], new.get("source"), run_id)



def insert_quarantine(entries: Sequence[dict[str, Any]]) -> None:
    insert_unordered(mongo.QUARANTINE, entries, warehouse=False)


def quarantine_entry(
    raw: dict[str, Any], *, field: str, value: Any, problem: str, message: str, run_id: int | None
) -> dict[str, Any]:
    return {
        "_id": raw["_id"],
        "raw_id": raw["_id"],
        "record": raw["record"],
        "source": raw["source"],
        "format": raw.get("format"),
        "field": field,
        "value": value if isinstance(value, (str, int, float, bool, type(None))) else repr(value),
        "reason": f"{field}: {problem}",
        "message": message,
        "run_id": run_id,
        "batch_id": raw.get("batch_id"),
        "quarantined_at": utcnow(),
    }


# --- batches ---------------------------------------------------------------------------


def open_batch(*, batch_id: str, source: str, run_id: int | None, size: int, claimed: bool) -> None:
    """Record a batch before its raw documents are written (so none can be orphaned)."""
    now = time.time()
    mongo.lake_collection(mongo.BATCHES).insert_one(
        {
            "_id": batch_id,
            "source": source,
            "run_id": run_id,
            "size": size,
            "status": PROCESSING if claimed else RECEIVING,
            "created_at": utcnow(),
            "created_ts": now,
            "updated_ts": now,
        }
    )


def mark_batch(batch_id: str, status: str) -> None:
    mongo.lake_collection(mongo.BATCHES).update_one(
        {"_id": batch_id}, {"$set": {"status": status, "updated_ts": time.time()}}
    )


def claim_batch(*, stale_after: dt.timedelta = STALE_CLAIM) -> dict[str, Any] | None:
    """Atomically take the oldest batch waiting for the transform (or abandoned by a dead worker)."""
    now = time.time()
    return mongo.lake_collection(mongo.BATCHES).find_one_and_update(
        {
            "$or": [
                {"status": PENDING},
                {
                    "status": {"$in": [RECEIVING, PROCESSING]},
                    "updated_ts": {"$lt": now - stale_after.total_seconds()},
                },
            ]
        },
        {"$set": {"status": PROCESSING, "updated_ts": now}},
        sort=[("created_ts", 1)],
        return_document=ReturnDocument.AFTER,
    )


def raw_documents_of(batch_id: str) -> list[dict[str, Any]]:
    return list(mongo.lake_collection(mongo.RAW_SHOTS).find({"batch_id": batch_id}))


def pending_batches() -> int:
    return mongo.lake_collection(mongo.BATCHES).count_documents({"status": {"$ne": DONE}})


# --- reads used by the feed and the pages --------------------------------------------------


def count(collection: str, *, warehouse: bool, query: dict[str, Any] | None = None) -> int:
    coll = mongo.warehouse_collection(collection) if warehouse else mongo.lake_collection(collection)
    return coll.count_documents(query or {})


def iter_shots(
    query: dict[str, Any] | None = None,
    *,
    sort: Iterable[tuple[str, int]] = (("game_date", 1), ("game_id", 1), ("event_id", 1)),
    limit: int = 0,
    projection: dict[str, Any] | None = None,
) -> Iterable[dict[str, Any]]:
    cursor = mongo.warehouse_collection(mongo.SHOTS).find(query or {}, projection).sort(list(sort))
    if limit:
        cursor = cursor.limit(limit)
    return cursor
