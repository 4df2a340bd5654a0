"""File import and the lake → warehouse transform, against the real MongoDB (stand-in)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from ingestion import lake, selectors
from ingestion.models import IngestionRun
from ingestion.services import lake_receive, lake_transform_pending, shots_import_file
from parivision import mongo
from tests.factories import nba_com_game, shot_locations_row, write_csv, write_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


def shots() -> list[dict]:
    return list(mongo.warehouse_collection(mongo.SHOTS).find().sort([("game_id", 1), ("event_id", 1)]))


def quarantined() -> list[dict]:
    return list(mongo.lake_collection(mongo.QUARANTINE).find())


@pytest.fixture
def season_file(tmp_path):
    rows = nba_com_game("22300001", 6) + nba_com_game("22300002", 4, date="11-04-2023")
    rows[2]["QUARTER"] = "0"
    rows[7]["LOC_X"] = "not-a-number"
    return write_zip(tmp_path / "season.zip", write_csv(tmp_path / "season.csv", rows))


def test_import_writes_raw_records_valid_shots_and_quarantines_the_rest(season_file):
    run, report = shots_import_file(location=str(season_file), batch_size=4)

    assert (report.read, report.inserted, report.duplicates, report.rejected) == (10, 8, 0, 2)
    assert report.rejected_by_reason == {"period: is out of range 1..10": 1, "x: is not a number": 1}
    assert lake.count(mongo.RAW_SHOTS, warehouse=False) == 10
    assert len(shots()) == 8
    assert shots()[0]["_id"] == "0022300001:1:700:1629673:-125:50"  # game:period:clock:player:x:y
    entries = {e["field"]: e for e in quarantined()}
    assert entries["period"]["value"] == "0"
    assert entries["period"]["record"]["QUARTER"] == "0"
    assert entries["x"]["message"] == "x: 'not-a-number' is not a number"
    run.refresh_from_db()
    assert run.status == IngestionRun.Status.SUCCEEDED
    assert (run.read, run.inserted, run.duplicates, run.rejected) == (10, 8, 0, 2)
    assert run.rejected_by_reason["x: is not a number"] == 1
    assert lake.pending_batches() == 0


def test_reimporting_the_same_file_inserts_nothing_new(season_file):
    shots_import_file(location=str(season_file))
    _run, again = shots_import_file(location=str(season_file))

    assert (again.read, again.inserted, again.duplicates, again.rejected) == (10, 0, 8, 2)
    assert len(shots()) == 8
    assert lake.count(mongo.RAW_SHOTS, warehouse=False) == 10
    assert len(quarantined()) == 2


def test_both_formats_land_in_one_warehouse(tmp_path, season_file):
    other = write_csv(tmp_path / "locations.csv", [shot_locations_row(), shot_locations_row(**{"Game Event ID": "308"})])
    shots_import_file(location=str(season_file))
    _run, report = shots_import_file(location=str(other))
    assert report.inserted == 2
    stored = mongo.warehouse_collection(mongo.SHOTS).find_one({"_id": "0021100057:3:571:201580:13:6"})
    assert stored is not None
    assert stored["source"] == "file:locations.csv"
    assert stored["x_ft"] == 1.3


def test_a_missing_file_is_a_failed_run_with_its_reason(tmp_path):
    with pytest.raises(FileNotFoundError):
        shots_import_file(location=str(tmp_path / "nope.csv"))
    run = IngestionRun.objects.get()
    assert run.status == IngestionRun.Status.FAILED
    assert "nope.csv" in run.error


def feed_records(n: int, *, start_event: int = 1) -> list[dict]:
    """Shots of one game, one every few seconds (a shot's identity includes its clock)."""
    return [
        shot_locations_row(**{"Game Event ID": str(event), "Minutes Remaining": str((700 - event * 3) // 60),
                              "Seconds Remaining": str((700 - event * 3) % 60), "Period": str(1 + event // 200)})
        for event in range(start_event, start_event + n)
    ]  # fmt: skip


def test_transform_moves_received_batches_once():
    lake_receive(records=feed_records(5), source="feed:test", run_id=None)
    lake_receive(records=[*feed_records(2, start_event=100), {"Period": "1"}, "not an object"], source="feed:test", run_id=None)

    _run, report = lake_transform_pending()
    assert (report.read, report.inserted, report.rejected) == (9, 7, 2)
    reasons = {e["reason"] for e in quarantined()}
    assert "record: is not a JSON object" in reasons
    assert any(r.startswith("record: columns match neither") for r in reasons)

    _run, nothing = lake_transform_pending()
    assert nothing.read == 0
    assert len(shots()) == 7


def test_a_transform_that_dies_half_way_loses_nothing_when_run_again(monkeypatch):
    lake_receive(records=feed_records(10), source="feed:test", run_id=None)
    real_insert = lake.insert_shots

    def dies_after_half(docs):
        real_insert(docs[: len(docs) // 2])
        raise ConnectionError("worker killed")

    monkeypatch.setattr(lake, "insert_shots", dies_after_half)
    with pytest.raises(ConnectionError):
        lake_transform_pending()
    assert len(shots()) == 5
    assert IngestionRun.objects.get(kind="transform").status == IngestionRun.Status.FAILED

    monkeypatch.setattr(lake, "insert_shots", real_insert)
    _run, report = lake_transform_pending()
    assert report.read == 0  # the dead worker's claim is still fresh: nobody steals it

    _run, report = lake_transform_pending(stale_after=dt.timedelta(0))
    assert (report.inserted, report.duplicates) == (5, 5)
    assert len(shots()) == 10
    assert lake.pending_batches() == 0


@pytest.mark.django_db(transaction=True)  # threads write runs through their own connections
def test_concurrent_transforms_never_duplicate_or_lose_shots():
    for start in range(0, 200, 20):
        lake_receive(records=feed_records(20, start_event=start), source="feed:test", run_id=None)
    reports = []

    def transform() -> None:
        from django.db import connection

        try:
            reports.append(lake_transform_pending()[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=transform) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.inserted for r in reports) == 200
    assert sum(r.duplicates for r in reports) == 0
    assert len(shots()) == 200


def test_quarantine_can_be_browsed_by_reason(season_file):
    shots_import_file(location=str(season_file))
    rows, total = selectors.quarantine_list(reason="period: is out of range 1..10")
    assert total == 1
    assert rows[0]["record"]["QUARTER"] == "0"
    assert dict(selectors.quarantine_reasons()) == {"period: is out of range 1..10": 1, "x: is not a number": 1}
    assert selectors.store_counts()["warehouse_shots"] == 8
