"""Figures the pages show, computed by Celery tasks and read by key.

Everything a page needs that costs more than a keyed read (calibration on a holdout, shot
charts, match views, shot-making over expected, ingestion charts, the front page's status)
is computed by the owning app's task and stored here, in the warehouse's ``figures``
collection. Requests only do ``find_one({"_id": ...})``: fast on a real MongoDB and on the
stand-in alike, whatever the size of the shots collection.

Two ways to store:

* ``figure_put`` / ``figure_get``: one document per key, replaced whole.
* generations, for families of many documents that change together (every chart of a season):
  a task writes a new generation's documents, then ``generation_publish`` moves the scope's
  pointer to it in one write and drops the previous generation. Readers follow the pointer,
  so they see the old figures or the new ones, never half of each; a task killed half-way
  leaves an unpublished generation that the next run's clean-up removes.

``status_set`` / ``status_of`` record whether a family is queued, running, done or failed,
so a page can say "being computed" rather than "no data yet". A "running" status older than
the tasks' hard time limit is reported as stale: a killed worker never leaves it running.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pymongo.errors import BulkWriteError

from parivision import mongo

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STALE = "stale"
_WRITE_CHUNK = 500


def _collection() -> Any:
    return mongo.warehouse_collection(mongo.FIGURES)


# --- single documents ------------------------------------------------------------------------


def _replace(key: str, document: dict[str, Any]) -> None:
    # The replacement names its _id: the stand-in's upsert would otherwise insert a new ObjectId.
    _collection().replace_one({"_id": key}, {"_id": key, **document}, upsert=True)


def figure_put(*, key: str, value: Any) -> None:
    """Store ``value`` (JSON-like: no dates, they are strings here) under ``key``, replacing it whole."""
    _replace(key, {"value": value, "computed_ts": time.time()})


def figure_get(*, key: str) -> Any | None:
    doc = _collection().find_one({"_id": key}, {"value": 1})
    return None if doc is None else doc.get("value")


def figure_computed_ts(*, key: str) -> float | None:
    doc = _collection().find_one({"_id": key}, {"computed_ts": 1})
    return None if doc is None else doc.get("computed_ts")


# --- generations --------------------------------------------------------------------------------


def _pointer_id(scope: str) -> str:
    return f"pointer:{scope}"


def generation_new(*, scope: str) -> str:
    return f"{scope}@{uuid.uuid4().hex[:12]}"


def generation_write(*, generation: str, values: dict[str, Any]) -> int:
    """Write a generation's documents (``<generation>:<key>``); a re-run of the same write is harmless."""
    scope = generation.rsplit("@", 1)[0]
    docs = [{"_id": f"{generation}:{key}", "scope": scope, "gen": generation, "value": value}
            for key, value in values.items()]
    written = 0
    for start in range(0, len(docs), _WRITE_CHUNK):
        try:
            written += len(_collection().insert_many(docs[start:start + _WRITE_CHUNK], ordered=False).inserted_ids)
        except BulkWriteError as error:  # already written by an earlier attempt: keep going
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise
            written += error.details.get("nInserted", 0)
    return written


def generation_publish(*, scope: str, generation: str, meta: dict[str, Any] | None = None) -> None:
    """Point ``scope`` at ``generation`` (one write), then drop every other generation of the scope."""
    _replace(_pointer_id(scope), {"generation": generation, "meta": meta or {}, "computed_ts": time.time()})
    generations_prune(scope=scope)


def generations_prune(*, scope: str) -> int:
    """Delete the scope's documents that are not in its published generation (old or abandoned)."""
    current = generation_current(scope=scope)
    query: dict[str, Any] = {"scope": scope}
    if current is not None:
        query["gen"] = {"$ne": current}
    return int(_collection().delete_many(query).deleted_count)


def generation_current(*, scope: str) -> str | None:
    doc = _collection().find_one({"_id": _pointer_id(scope)}, {"generation": 1})
    return None if doc is None else doc.get("generation")


def generation_meta(*, scope: str) -> dict[str, Any] | None:
    doc = _collection().find_one({"_id": _pointer_id(scope)}, {"meta": 1, "computed_ts": 1})
    return None if doc is None else {**(doc.get("meta") or {}), "computed_ts": doc.get("computed_ts")}


def generation_get(*, scope: str, key: str) -> Any | None:
    """The published value of ``key`` in ``scope``: two reads by ``_id``."""
    generation = generation_current(scope=scope)
    if generation is None:
        return None
    return figure_get(key=f"{generation}:{key}")


def generation_get_many(*, scope: str, keys: Iterable[str]) -> dict[str, Any]:
    """Several published values of one scope (one ``$in`` on ``_id``)."""
    generation = generation_current(scope=scope)
    if generation is None:
        return {}
    ids = [f"{generation}:{key}" for key in keys]
    prefix = len(generation) + 1
    return {doc["_id"][prefix:]: doc.get("value") for doc in _collection().find({"_id": {"$in": ids}})}


# --- status --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureStatus:
    state: str  # queued, running, done, failed, stale; "" when never computed
    updated_ts: float | None = None
    message: str = ""

    @property
    def computing(self) -> bool:
        return self.state in (QUEUED, RUNNING)


def status_set(*, name: str, state: str, message: str = "") -> None:
    _replace(f"status:{name}", {"state": state, "updated_ts": time.time(), "message": message[:500]})


def status_of(*, name: str) -> FigureStatus:
    doc = _collection().find_one({"_id": f"status:{name}"})
    if doc is None:
        return FigureStatus(state="")
    state, updated = doc.get("state", ""), doc.get("updated_ts")
    if state in (QUEUED, RUNNING) and updated is not None:
        limit = settings.FIGURES_TIME_LIMIT + max(settings.FIGURES_REFRESH_DELAY_SECONDS, 60)
        if time.time() - float(updated) > limit:
            state = STALE  # its worker was killed: nothing is left "running"
    return FigureStatus(state=state, updated_ts=updated, message=doc.get("message", ""))
