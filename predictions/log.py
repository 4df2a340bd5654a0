"""The prediction log: every served prediction, written to MongoDB off the request path.

Requests append documents to an in-memory buffer (a deque append: microseconds); a
daemon thread writes them with ``insert_many(ordered=False)`` every
``PREDICTION_LOG_FLUSH_SECONDS`` or as soon as ``PREDICTION_LOG_BATCH_SIZE`` are waiting.
``flush()`` writes whatever is left; it runs at interpreter exit (``atexit``) and from
gunicorn's ``worker_exit`` hook, so a clean shutdown loses nothing. While MongoDB is
away, documents stay buffered (up to ``PREDICTION_LOG_MAX_BUFFER``) and are retried.

Documents carry their own ``_id`` so a write retried after a timeout cannot log the same
prediction twice (the duplicate is refused by the unique ``_id``).

A document is compact: only what the outcome join and the live scores read (about 100 bytes
of BSON; ``bench/prediction_log.py`` measures the stored bytes per prediction)::

    {_id: "19ad7c1b2e4f09a3b7c1", version: "7", p: 0.431215,   # made at (ms, hex) + random; model; P(made)
     key: "<shot key>", settled: false}                        # identified shots only
    + once joined: {settled: true, made: true, live: true}     # live: made before the outcome was known

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
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from pymongo.errors import BulkWriteError, PyMongoError

from parivision import mongo

logger = logging.getLogger(__name__)


class PredictionLog:
    def __init__(self) -> None:
        self._buffer: deque[dict[str, Any]] = deque()
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
        overflow = len(self._buffer) - settings.PREDICTION_LOG_MAX_BUFFER
        if overflow > 0:
            for _ in range(overflow):
                self._buffer.popleft()
            self.dropped += overflow
            logger.error("prediction log buffer full (MongoDB away?): dropped the %d oldest entries", overflow)
        if len(self._buffer) >= settings.PREDICTION_LOG_BATCH_SIZE:
            self._wake.set()

    def pending(self) -> int:
        return len(self._buffer)

    # ------------------------------------------------------------------ writing
    def flush(self) -> int:
        """Write everything buffered now; returns how many were written. Raises nothing on a
        MongoDB error: what could not be written stays buffered for the next flush."""
        written = 0
        with self._flush_lock:
            while self._buffer:
                batch: list[dict[str, Any]] = []
                while self._buffer and len(batch) < settings.PREDICTION_LOG_BATCH_SIZE:
                    batch.append(self._buffer.popleft())
                try:
                    written += _insert(batch)
                except PyMongoError as error:
                    self._buffer.extendleft(reversed(batch))
                    logger.warning("prediction log: %d entries wait for MongoDB: %s", len(self._buffer), error)
                    break
        return written

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._flush_lock:
            if self._pid != pid:  # a forked child inherits the parent's buffer object but not its thread
                self._buffer = deque() if self._pid is not None else self._buffer
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
            logger.info("prediction log: flushed %d entries on shutdown (%d left)", written, len(self._buffer))


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


def log_document(*, version: str, probability: float, shot_key: str | None = None, made_at: float | None = None,
                 **extra: Any) -> dict[str, Any]:
    """One compact prediction-log document (``extra``: further small fields, e.g. a shadow role)."""
    # Six decimals of probability are all the scores use (and shorter numbers are fewer stored
    # bytes on the stand-in, which keeps documents as JSON text).
    moment = time.time() if made_at is None else float(made_at)
    document: dict[str, Any] = {"_id": log_id(moment), "version": str(version), "p": round(float(probability), 6)}
    if shot_key is not None:
        document["key"] = shot_key
        document["settled"] = False  # only predictions of identified shots wait for an outcome
    document.update(extra)
    return document


def prediction_log_append(documents: Iterable[dict[str, Any]], *, flush: bool = False) -> None:
    """Append documents (from ``log_document``) to the log; ``flush`` writes them before returning."""
    prediction_log.append(list(documents))
    if flush:
        prediction_log.flush()
