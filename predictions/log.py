"""The prediction log: every served prediction, written to MongoDB off the request path.

Requests append documents to an in-memory buffer (a deque append: microseconds); a
daemon thread writes them with ``insert_many(ordered=False)`` every
``PREDICTION_LOG_FLUSH_SECONDS`` or as soon as ``PREDICTION_LOG_BATCH_SIZE`` are waiting.
``flush()`` writes whatever is left; it runs at interpreter exit (``atexit``) and from
gunicorn's ``worker_exit`` hook, so a clean shutdown loses nothing. While MongoDB is
away, documents stay buffered (up to ``PREDICTION_LOG_MAX_BUFFER``) and are retried.

Documents carry their own ``_id`` so a write retried after a timeout cannot log the same
prediction twice (the duplicate is refused by the unique ``_id``).

One document per request (or per shadow batch). A request of several shots is a **bundle** of
its predictions, in arrays, so a batch of 1,000 shots is one write and one join update, not
1,000 (on the stand-in a document costs about 60 µs of its CPU to write and more to join,
whatever its size: one document per prediction, the log could not keep up with the batch
endpoint). A single prediction (the stream, ``POST /api/v1/predictions``) is a smaller document
of scalars. ``bench/prediction_log.py`` measures the stored bytes and the stand-in's CPU per
prediction for both::

    {_id: "19ad7c1b2e4f09a3b7c1", version: "7", p: 0.431215,    # made at (ms, hex) + random; model; P(made)
     key: "<shot key>", settled: false}                          # identified shots only
    + once joined: {settled: true, made: true, live: true}

    {_id: "19ad7c1b2e4f09a3c2d4", version: "7", n: 3,           # a bundle of three
     p: [0.431215, 0.6, 0.12],
     key: ["<shot key>", null, "<shot key>"],                    # null: a shot without a key (never joined)
     open: 2, settled: false}                                    # identified predictions still waiting
    + as the join settles them: {made: [true, null, false], live: [true, null, false],
                                 n_live: 1, n_backfill: 1, open: 0, settled: true}

``live``: made before the outcome was known (``predictions.services.predictions_join_outcomes``).
A document without any key has no ``key``, ``open`` or ``settled``. Readers go through
``logged_predictions``, which reads both shapes (and the log written before bundles, which was
all single documents), one row per prediction.

The ``_id`` starts with the time the prediction was made (11 hex digits of epoch milliseconds,
so ids sort by time and a day is an ``_id`` range) followed by 8 random hex digits.

Anything else (callers, latency, request ids) lives in the access log and the metrics, not
here. Old documents are rolled up into per-version daily aggregates and purged
(``predictions.retention``, ``PREDICTION_LOG_RETENTION_DAYS``).
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pymongo.errors import BulkWriteError, PyMongoError

from parivision import mongo

logger = logging.getLogger(__name__)


class PredictionLog:
    """The buffer counts predictions, not documents: a bundle of 1,000 weighs 1,000."""

    def __init__(self) -> None:
        self._buffer: deque[dict[str, Any]] = deque()
        self._buffered = 0  # predictions in the buffer
        self._wake = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stopping = False
        self.dropped = 0

    # ------------------------------------------------------------- request path
    def append(self, documents: list[dict[str, Any]]) -> None:
        if not settings.PREDICTION_LOG_ENABLED or not documents:
            return
        self._ensure_thread()
        self._buffer.extend(documents)
        self._buffered += sum(_size(document) for document in documents)
        dropped = 0
        while self._buffered > settings.PREDICTION_LOG_MAX_BUFFER and len(self._buffer) > 1:
            size = _size(self._buffer.popleft())
            self._buffered -= size
            dropped += size
        if dropped:
            self.dropped += dropped
            logger.error("prediction log buffer full (MongoDB away?): dropped the %d oldest predictions", dropped)
        if self._buffered >= settings.PREDICTION_LOG_BATCH_SIZE:
            self._wake.set()

    def pending(self) -> int:
        """Predictions buffered, not yet written."""
        return self._buffered

    def discard(self) -> None:
        """Forget what is buffered (tests whose MongoDB goes away with them)."""
        self._buffer.clear()
        self._buffered = 0

    # ------------------------------------------------------------------ writing
    def flush(self) -> int:
        """Write everything buffered now; returns how many predictions were written. Raises nothing
        on a MongoDB error: what could not be written stays buffered for the next flush."""
        written = 0
        with self._flush_lock:
            while self._buffer:
                batch: list[dict[str, Any]] = []
                size = 0
                while self._buffer and size < settings.PREDICTION_LOG_BATCH_SIZE:
                    batch.append(self._buffer.popleft())
                    size += _size(batch[-1])
                self._buffered -= size
                try:
                    _insert(batch)
                    written += size
                except PyMongoError as error:
                    self._buffer.extendleft(reversed(batch))
                    self._buffered += size
                    logger.warning("prediction log: %d predictions wait for MongoDB: %s", self._buffered, error)
                    break
        return written

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._flush_lock:
            if self._pid != pid:  # a forked child inherits the parent's buffer object but not its thread
                if self._pid is not None:
                    self._buffer, self._buffered = deque(), 0
                self._pid = pid
                self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(settings.PREDICTION_LOG_FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep the writer alive whatever happens; the next round retries
                logger.exception("prediction log writer failed")

    def shutdown(self) -> None:
        """Flush what is left (atexit, gunicorn worker_exit)."""
        self._stopping = True
        self._wake.set()
        if self._buffer:
            written = self.flush()
            logger.info("prediction log: flushed %d predictions on shutdown (%d left)", written, self._buffered)


def _size(document: dict[str, Any]) -> int:
    """Predictions in a log document (a bundle's ``n``; 1 for a document of one)."""
    return int(document.get("n") or 1)


def _insert(batch: list[dict[str, Any]]) -> int:
    mongo.ensure_indexes_once()
    try:
        return len(mongo.warehouse_collection(mongo.PREDICTIONS).insert_many(batch, ordered=False).inserted_ids)
    except BulkWriteError as error:
        # Only duplicates (a retry of a batch that was in fact written) are expected here.
        details = error.details or {}
        others = [e for e in details.get("writeErrors", []) if e.get("code") != 11000]
        if others:
            raise
        return int(details.get("nInserted", 0))


prediction_log = PredictionLog()
atexit.register(prediction_log.shutdown)


# --- the public way in: build documents and append them -------------------------------------


def log_id(made_at: float) -> str:
    """A log ``_id``: the time (epoch ms, 11 hex digits: sorts by time) then 8 random hex digits."""
    return f"{int(made_at * 1000):011x}{random.getrandbits(32):08x}"


def log_id_floor(moment: float) -> str:
    """The smallest ``_id`` of a prediction made at or after ``moment`` (epoch seconds)."""
    return f"{int(moment * 1000):011x}"


def made_at_of(document: dict[str, Any]) -> float:
    """When a logged prediction was made (epoch seconds), read from its ``_id``."""
    return int(str(document["_id"])[:11], 16) / 1000


def log_bundle(*, version: str, probabilities: Sequence[float], keys: Sequence[str | None] | None = None,
               made_at: float | None = None, **extra: Any) -> dict[str, Any]:
    """One log document for the predictions of one request (``extra``: small fields, e.g. a shadow role).

    ``keys[i]`` names the shot of ``probabilities[i]`` (None for a shot without a key: never joined).
    """
    if keys is not None and len(keys) != len(probabilities):
        raise ValueError(f"{len(keys)} keys for {len(probabilities)} probabilities")
    moment = time.time() if made_at is None else float(made_at)
    # Six decimals of probability are all the scores use (and shorter numbers are fewer stored
    # bytes on the stand-in, which keeps documents as JSON text).
    document: dict[str, Any] = {"_id": log_id(moment), "version": str(version)}
    if len(probabilities) == 1:  # a single prediction: scalars (fewer bytes, and joined in groups)
        document["p"] = round(float(probabilities[0]), 6)
        if keys is not None and keys[0] is not None:
            document["key"] = str(keys[0])
            document["settled"] = False  # only predictions of identified shots wait for an outcome
        document.update(extra)
        return document
    document["n"] = len(probabilities)
    document["p"] = [round(float(p), 6) for p in probabilities]
    identified = sum(key is not None for key in keys) if keys is not None else 0
    if keys is not None and identified:
        document["key"] = [None if key is None else str(key) for key in keys]
        document["open"] = identified  # only predictions of identified shots wait for an outcome
        document["settled"] = False
    document.update(extra)
    return document


def log_document(*, version: str, probability: float, shot_key: str | None = None, made_at: float | None = None,
                 **extra: Any) -> dict[str, Any]:
    """The log document of one prediction (the stream's, a single request's)."""
    return log_bundle(version=version, probabilities=[probability], keys=[shot_key], made_at=made_at, **extra)


@dataclass(frozen=True, slots=True)
class LoggedPrediction:
    """One prediction read back from the log."""

    made_at: float
    version: str
    p: float
    key: str | None
    made: bool | None  # None until joined to its outcome
    live: bool | None  # made before the outcome was known (None until joined)
    role: str | None


def _as_list(value: Any, n: int) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] * n


def logged_predictions(document: dict[str, Any]) -> list[LoggedPrediction]:
    """The predictions of a log document: a bundle's, or a single prediction's."""
    made_at = made_at_of(document)
    version, role = str(document.get("version")), document.get("role")
    ps = _as_list(document.get("p"), 1)
    n = len(ps)
    keys = _as_list(document.get("key"), n)
    if isinstance(document.get("p"), list):
        made, live = _as_list(document.get("made"), n), _as_list(document.get("live"), n)
    else:  # a single prediction: made/live are set with settled
        settled = bool(document.get("settled"))
        made = [document.get("made") if settled else None]
        live = [document.get("live") if settled else None]
    return [LoggedPrediction(made_at=made_at, version=version, p=float(ps[i]), key=keys[i],
                             made=None if made[i] is None else bool(made[i]),
                             live=None if live[i] is None else bool(live[i]), role=role)
            for i in range(n)]  # fmt: skip


# Readers' filters: documents holding at least one settled live (backfill) prediction, bundles
# (their counts) or single predictions (their scalar flag).
LIVE_SETTLED = {"$or": [{"n_live": {"$gt": 0}}, {"live": True}]}
BACKFILL_SETTLED = {"$or": [{"n_backfill": {"$gt": 0}}, {"live": False}]}


def settled_count(collection: Any, query: dict[str, Any], *, live: bool = True) -> int:
    """Settled live (or backfill) predictions in the log documents ``query`` finds."""
    field = "n_live" if live else "n_backfill"
    return sum(int(doc[field]) if field in doc else int("live" in doc and bool(doc["live"]) is live)
               for doc in collection.find(query, {field: 1, "live": 1, "_id": 0}))


def logged_count(collection: Any, query: dict[str, Any] | None = None) -> int:
    """Predictions (not documents) in the log matching ``query``."""
    return sum(_size(doc) for doc in collection.find(query or {}, {"n": 1, "_id": 0}))


def prediction_log_append(documents: Iterable[dict[str, Any]], *, flush: bool = False) -> None:
    """Append documents (from ``log_bundle``) to the log; ``flush`` writes them before returning."""
    prediction_log.append(list(documents))
    if flush:
        prediction_log.flush()
