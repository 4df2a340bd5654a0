"""The prediction log's buffer weighs bundles by their predictions: batches, the bound and retries."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from parivision import mongo
from predictions import log
from predictions.log import PredictionLog, log_bundle

pytestmark = pytest.mark.usefixtures("mongo_db")


def bundle(n: int, version: str = "1") -> dict[str, Any]:
    return log_bundle(version=version, probabilities=[0.5] * n, keys=[f"k{i}" for i in range(n)])


def test_the_buffer_counts_predictions_and_drops_the_oldest_bundles_beyond_its_bound(settings) -> None:
    settings.PREDICTION_LOG_MAX_BUFFER = 2_500
    settings.PREDICTION_LOG_BATCH_SIZE = 100_000  # no early wake-up and no timed flush: the test flushes
    settings.PREDICTION_LOG_FLUSH_SECONDS = 60
    buffer = PredictionLog()
    first, second, third = bundle(1_000, "a"), bundle(1_000, "b"), bundle(1_000, "c")
    buffer.append([first, second])
    assert (buffer.pending(), buffer.dropped) == (2_000, 0)
    buffer.append([third])  # 3,000 > 2,500: the oldest bundle goes, all 1,000 of it
    assert (buffer.pending(), buffer.dropped) == (2_000, 1_000)
    assert buffer.flush() == 2_000
    stored = list(mongo.warehouse_collection(mongo.PREDICTIONS).find({}, {"version": 1, "n": 1}))
    assert sorted((doc["version"], doc["n"]) for doc in stored) == [("b", 1_000), ("c", 1_000)]
    assert buffer.pending() == 0


def test_a_flush_writes_batches_of_about_batch_size_predictions_and_keeps_what_fails(settings, monkeypatch) -> None:
    settings.PREDICTION_LOG_BATCH_SIZE = 1_500
    buffer = PredictionLog()
    writes: list[int] = []
    real_insert = log._insert
    failing = {"left": 1}

    def insert(batch: list[dict[str, Any]]) -> int:
        if failing["left"]:
            failing["left"] -= 1
            raise AutoReconnect("MongoDB away")
        writes.append(sum(doc["n"] for doc in batch))
        return real_insert(batch)

    monkeypatch.setattr(log, "_insert", insert)
    buffer._buffer.extend(bundle(1_000) for _ in range(4))  # as append would, without its writer thread
    buffer._buffered = 4_000
    assert buffer.flush() == 0  # MongoDB away: everything stays, in order
    assert buffer.pending() == 4_000
    assert buffer.flush() == 4_000
    assert writes == [2_000, 2_000]  # bundles are never split: a batch closes once it holds 1,500 or more
    assert mongo.warehouse_collection(mongo.PREDICTIONS).count_documents({}) == 4
