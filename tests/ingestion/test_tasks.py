"""The pull → transform chain and file imports through a real Celery worker and real Redis."""

from __future__ import annotations

import time

import pytest

from ingestion.feed import feed_load, feed_release
from ingestion.models import IngestionRun
from ingestion.tasks import import_file, pull_feed
from parivision import mongo
from tests.factories import nba_com_game, shot_locations_row, write_csv

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("mongo_db", "celery_worker")]


def wait_for(condition, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.mark.django_db(transaction=True)
def test_a_worker_pulls_the_feed_then_transforms_the_batch(live_server, tmp_path):
    rows = [shot_locations_row(**{"Game Event ID": str(i)}) for i in range(1, 26)]
    rows[4]["Period"] = "99"
    feed_load(dataset=str(write_csv(tmp_path / "feed.csv", rows)), limit=25)
    feed_release(through=24)  # the live stream has played them all: the feed may serve them

    result = pull_feed.delay(url=live_server.url, n=25)
    outcome = result.get(timeout=60)

    assert outcome["read"] == 25
    assert outcome["batch_id"]
    shots = mongo.warehouse_collection(mongo.SHOTS)
    wait_for(lambda: shots.count_documents({}) == 24)
    wait_for(lambda: IngestionRun.objects.filter(kind="transform", status="succeeded", rejected=1).exists())
    transform = IngestionRun.objects.get(kind="transform", rejected=1)
    assert transform.inserted == 24
    assert transform.rejected_by_reason == {"period: is out of range 1..10": 1}
    assert transform.task_id  # it ran as a task, not inline
    assert mongo.lake_collection(mongo.QUARANTINE).count_documents({"field": "period"}) == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_imports_a_file_and_a_redelivered_import_adds_nothing(tmp_path):
    path = str(write_csv(tmp_path / "games.csv", nba_com_game("22300005", 12)))
    first = import_file.delay(path).get(timeout=60)
    second = import_file.delay(path).get(timeout=60)
    assert (first["inserted"], first["duplicates"]) == (12, 0)
    assert (second["inserted"], second["duplicates"]) == (0, 12)
    assert mongo.warehouse_collection(mongo.SHOTS).count_documents({}) == 12
