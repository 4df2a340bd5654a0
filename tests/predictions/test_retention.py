"""Retention of the prediction log: old days become daily aggregates, then leave the log."""

from __future__ import annotations

import datetime as dt

import pytest

from parivision import mongo
from predictions import retention
from predictions.log import log_document

pytestmark = [pytest.mark.usefixtures("mongo_db")]

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def logged(*, days_ago: float, version: str = "3", p: float = 0.7, key: str | None = "k", settled: bool = True,
           made: bool = True, live: bool = True, seconds: int = 0) -> dict:
    at = NOW - dt.timedelta(days=days_ago) + dt.timedelta(seconds=seconds)
    doc = log_document(version=version, probability=p, shot_key=key, made_at=at.timestamp())
    if key is not None:
        doc.update(settled=settled)
        if settled:
            doc.update(made=made, live=live)
    return doc


def test_old_days_become_per_version_aggregates_and_recent_days_stay():
    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    log.insert_many([
        logged(days_ago=40, p=0.8, made=True, seconds=1), logged(days_ago=40, p=0.4, made=True, seconds=2),
        logged(days_ago=40, p=0.9, made=False, live=False, seconds=3),  # a backfill: apart
        logged(days_ago=40, key=None, seconds=4), logged(days_ago=40, settled=False, seconds=5),
        logged(days_ago=40, version="4", p=0.2, made=False, seconds=6),
        logged(days_ago=39, p=0.6, seconds=7),
        logged(days_ago=2, p=0.5, seconds=8),  # within the retention
    ])  # fmt: skip

    report = retention.prediction_log_roll_up(now=NOW, retention_days=30)

    assert report.as_dict() == {"days": 2, "rolled_up": 7, "purged": 7}
    assert log.count_documents({}) == 1
    rows = {(r["day"], r["version"]): r for r in retention.daily_scores()}
    day = (NOW - dt.timedelta(days=40)).date().isoformat()
    v3 = rows[(day, "3")]
    assert (v3["predictions"], v3["identified"], v3["unjoined"]) == (5, 4, 1)
    assert (v3["live"]["n"], v3["live"]["hits"]) == (2, 1)
    assert v3["live"]["brier_sum"] == pytest.approx(0.2**2 + 0.6**2)
    assert (v3["backfill"]["n"], v3["backfill"]["hits"]) == (1, 0)
    assert rows[(day, "4")]["live"]["n"] == 1


def test_a_bundle_is_rolled_up_prediction_by_prediction():
    from predictions.log import log_bundle

    at = (NOW - dt.timedelta(days=40)).timestamp()
    bundle = log_bundle(version="5", probabilities=[0.8, 0.3, 0.6, 0.5], keys=["a", "b", "c", None], made_at=at)
    bundle.update(made=[True, True, None, None], live=[True, False, None, None], open=1, n_live=1, n_backfill=1)
    mongo.warehouse_collection(mongo.PREDICTIONS).insert_one(bundle)

    assert retention.prediction_log_roll_up(now=NOW, retention_days=30).as_dict() == {
        "days": 1, "rolled_up": 4, "purged": 1}  # four predictions in one document
    [row] = retention.daily_scores(version="5")
    assert (row["predictions"], row["identified"], row["unjoined"]) == (4, 3, 1)
    assert (row["live"]["n"], row["live"]["hits"], row["backfill"]["n"], row["backfill"]["hits"]) == (1, 1, 1, 0)
    assert row["live"]["brier_sum"] == pytest.approx(0.2**2)


def test_a_roll_up_killed_after_its_aggregates_finishes_without_counting_twice(monkeypatch):
    from pymongo.collection import Collection

    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    log.insert_many([logged(days_ago=40, seconds=s) for s in range(5)])
    day = (NOW - dt.timedelta(days=40)).date()

    class Killed(Exception):
        pass

    def dies(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(Collection, "delete_many", dies)  # the worker dies after the aggregates, before the purge
        with pytest.raises(Killed):
            retention._roll_up_day(day)

    report = retention.prediction_log_roll_up(now=NOW, retention_days=30)
    again = retention.prediction_log_roll_up(now=NOW, retention_days=30)

    assert (report.purged, report.rolled_up) == (5, 0)  # finished, not recounted
    assert again.as_dict() == {"days": 0, "rolled_up": 0, "purged": 0}
    assert [row["predictions"] for row in retention.daily_scores()] == [5]


def test_late_documents_of_a_rolled_day_are_added_in_a_second_pass():
    log = mongo.warehouse_collection(mongo.PREDICTIONS)
    log.insert_many([logged(days_ago=40, seconds=1)])
    retention.prediction_log_roll_up(now=NOW, retention_days=30)
    log.insert_many([logged(days_ago=40, seconds=2), logged(days_ago=40, seconds=3)])
    retention.prediction_log_roll_up(now=NOW, retention_days=30)
    assert [row["predictions"] for row in retention.daily_scores()] == [3]
    assert log.count_documents({}) == 0
