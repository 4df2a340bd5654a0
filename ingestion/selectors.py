"""Reads of the lake and the warehouse for pages, the admin and the API."""

from __future__ import annotations

from typing import Any

from parivision import mongo


def quarantine_list(*, reason: str | None = None, run_id: int | None = None, offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """The most recent quarantined records (optionally of one reason or run) and their total."""
    query: dict[str, Any] = {}
    if reason:
        query["reason"] = reason
    if run_id is not None:
        query["run_id"] = run_id
    collection = mongo.lake_collection(mongo.QUARANTINE)
    total = collection.count_documents(query)
    rows = list(collection.find(query).sort("quarantined_at", -1).skip(offset).limit(limit))
    return rows, total


def quarantine_reasons() -> list[tuple[str, int]]:
    """Each quarantine reason with its count, most frequent first."""
    pipeline: list[dict[str, Any]] = [{"$group": {"_id": "$reason", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}]
    return [(row["_id"], row["n"]) for row in mongo.lake_collection(mongo.QUARANTINE).aggregate(pipeline)]


def store_counts() -> dict[str, int]:
    """Document counts of the lake and warehouse collections (estimated: cheap on big stores)."""
    return {
        "lake_raw": mongo.lake_collection(mongo.RAW_SHOTS).estimated_document_count(),
        "lake_batches_waiting": mongo.lake_collection(mongo.BATCHES).count_documents({"status": {"$ne": "done"}}),
        "quarantine": mongo.lake_collection(mongo.QUARANTINE).estimated_document_count(),
        "warehouse_shots": mongo.warehouse_collection(mongo.SHOTS).estimated_document_count(),
    }


def outcome_corrections(shot_key: str) -> list[dict[str, Any]]:
    """The audited changes of one shot's outcome (``made``), oldest first."""
    found = mongo.lake_collection(mongo.CORRECTIONS).find({"shot_key": shot_key}).sort("corrected_at", 1)
    return [{"before": entry["changes"]["made"]["before"], "after": entry["changes"]["made"]["after"],
             "corrected_at": entry["corrected_at"], "source": entry.get("source")}
            for entry in found if "made" in entry.get("changes", {})]  # fmt: skip
