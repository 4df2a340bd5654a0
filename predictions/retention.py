"""Retention of the prediction log: old days rolled up into per-version daily aggregates, then purged.

A TTL index would delete documents before anything summarised them, and the MongoDB stand-in
does not expire documents anyway, so a periodic Celery task does the same on both: every whole
UTC day older than ``PREDICTION_LOG_RETENTION_DAYS`` becomes one aggregate per model version in
``prediction_daily`` (predictions, identified, joined; count, hits, log-loss and Brier sums of
the live predictions and, apart, of the backfills; still unjoined), and its documents are
deleted. A day is read and deleted by ``_id`` range (a log ``_id`` starts with the time the
prediction was made): no scan of the log.

Safe to kill and re-run: a day's pass first writes its aggregates (replaced, never incremented),
then marks the pass ``rolling``, deletes, and marks it ``done``. A re-run finds a ``rolling``
pass and only finishes its deletion, so nothing is counted twice and nothing is lost. Documents
of a day already rolled up (written late) make a new pass of that day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from parivision import mongo
from predictions.log import log_id_floor, logged_predictions, made_at_of

DAILY = "prediction_daily"
EPS = 1e-15


@dataclass(frozen=True)
class RollupReport:
    days: int
    rolled_up: int  # predictions
    purged: int  # log documents (a bundle holds several predictions)

    def as_dict(self) -> dict[str, int]:
        return {"days": self.days, "rolled_up": self.rolled_up, "purged": self.purged}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _day_range(day: dt.date) -> dict[str, Any]:
    return {"_id": {"$gte": log_id_floor(_midnight(day).timestamp()),
                    "$lt": log_id_floor(_midnight(day + dt.timedelta(days=1)).timestamp())}}


def _scores() -> dict[str, float]:
    return {"n": 0, "hits": 0, "log_loss_sum": 0.0, "brier_sum": 0.0}


def day_aggregates(documents: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model version: counts and score sums of one day's log documents (pure)."""
    found: dict[str, dict[str, Any]] = {}
    for document in documents:
        for row in logged_predictions(document):
            agg = found.setdefault(row.version, {"predictions": 0, "identified": 0, "unjoined": 0,
                                                 "live": _scores(), "backfill": _scores()})
            agg["predictions"] += 1
            if row.key is None:
                continue
            agg["identified"] += 1
            if row.made is None:
                agg["unjoined"] += 1
                continue
            scores = agg["live" if row.live else "backfill"]
            p = min(max(row.p, EPS), 1 - EPS)
            y = 1.0 if row.made else 0.0
            scores["n"] += 1
            scores["hits"] += int((p >= 0.5) == (y == 1.0))
            scores["log_loss_sum"] -= y * math.log(p) + (1 - y) * math.log(1 - p)
            scores["brier_sum"] += (p - y) ** 2
    return found


def _roll_up_day(day: dt.date) -> tuple[int, int]:
    """One pass over ``day``: (predictions rolled up, documents purged: a bundle holds several)."""
    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    daily = mongo.warehouse_collection(DAILY)
    marker_id = f"day:{day.isoformat()}"
    marker = daily.find_one({"_id": marker_id}) or {}
    rolled = 0
    if marker.get("state") != "rolling":
        passes = int(marker.get("passes") or 0) + 1
        aggregates = day_aggregates(log.find(_day_range(day), {"key": 1, "version": 1, "p": 1, "settled": 1,
                                                               "made": 1, "live": 1}))
        for version, agg in aggregates.items():
            rolled += agg["predictions"]
            row_id = f"{day.isoformat()}|{version}|{passes}"
            # The _id is repeated in the replacement: the stand-in's upsert does not take it from the filter.
            daily.replace_one({"_id": row_id},
                              {"_id": row_id, "day": day.isoformat(), "version": version, "pass": passes, **agg},
                              upsert=True)
        daily.replace_one({"_id": marker_id}, {"_id": marker_id, "passes": passes, "state": "rolling"}, upsert=True)
    else:
        passes = int(marker["passes"])
    purged = log.delete_many(_day_range(day)).deleted_count
    daily.replace_one({"_id": marker_id}, {"_id": marker_id, "passes": passes, "state": "done"}, upsert=True)
    return rolled, purged


def prediction_log_roll_up(*, now: dt.datetime | None = None, retention_days: int | None = None,
                           max_days: int = 3_650) -> RollupReport:
    """Roll up and purge every whole day older than the retention (oldest first)."""
    now = now or dt.datetime.now(dt.UTC)
    retention_days = retention_days or settings.PREDICTION_LOG_RETENTION_DAYS
    keep_from = (now - dt.timedelta(days=retention_days)).date()
    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    days = rolled = purged = 0
    for _ in range(max_days):
        oldest = log.find_one({"_id": {"$lt": log_id_floor(_midnight(keep_from).timestamp())}}, {"_id": 1},
                              sort=[("_id", 1)])
        if oldest is None:
            break
        day_rolled, day_purged = _roll_up_day(dt.datetime.fromtimestamp(made_at_of(oldest), dt.UTC).date())
        days += 1
        rolled += day_rolled
        purged += day_purged
    return RollupReport(days=days, rolled_up=rolled, purged=purged)


def daily_scores(*, version: str | None = None) -> list[dict[str, Any]]:
    """The rolled-up days (all passes summed), oldest first: what retention kept of the log."""
    query: dict[str, Any] = {"version": version} if version is not None else {"version": {"$exists": True}}
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in mongo.warehouse_collection(DAILY).find(query):
        row = merged.setdefault((doc["day"], doc["version"]), {
            "day": doc["day"], "version": doc["version"], "predictions": 0, "identified": 0, "unjoined": 0,
            "live": _scores(), "backfill": _scores()})
        for field in ("predictions", "identified", "unjoined"):
            row[field] += int(doc.get(field) or 0)
        for kind in ("live", "backfill"):
            for name in ("n", "hits", "log_loss_sum", "brier_sum"):
                row[kind][name] += (doc.get(kind) or {}).get(name, 0)
    return [merged[key] for key in sorted(merged)]
