"""The replay feed: cursor semantics over HTTP, concurrency, and the client that pulls from it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ingestion.feed import FeedClientError, feed_fetch, feed_load, feed_next, feed_pull, feed_status
from ingestion.services import lake_transform_pending, shots_import_file
from parivision import mongo
from tests.factories import nba_com_game, shot_locations_row, write_csv

pytestmark = [pytest.mark.usefixtures("mongo_db")]


@pytest.fixture
def feed_file(tmp_path):
    rows = [shot_locations_row(**{"Game Event ID": str(i)}) for i in range(1, 31)]
    return str(write_csv(tmp_path / "feed.csv", rows))


def event_ids(records: list[dict]) -> list[int]:
    return [int(r["Game Event ID"]) for r in records]


def test_the_cursor_serves_in_order_returns_what_is_left_then_nothing(feed_file):
    assert feed_load(dataset=feed_file, limit=7) == 7
    assert event_ids(feed_next(n=3)) == [1, 2, 3]
    assert event_ids(feed_next(n=3)) == [4, 5, 6]
    assert event_ids(feed_next(n=3)) == [7]
    assert feed_next(n=3) == []
    assert feed_next(n=1) == []  # never wraps around
    assert feed_status()["remaining"] == 0


def test_records_have_the_original_feeds_22_string_fields(feed_file):
    feed_load(dataset=feed_file, limit=1)
    (record,) = feed_next(n=1)
    assert list(record) == list(shot_locations_row())
    assert all(isinstance(v, str) for v in record.values())
    assert record["Shot Zone Area"] == "Center(C)"


def test_http_endpoints_and_reset(client, feed_file):
    feed_load(dataset=feed_file, limit=5)
    first = client.get("/getdata/2")
    assert first.status_code == 200
    assert event_ids(first.json()) == [1, 2]
    assert event_ids(client.get("/getdata/10").json()) == [3, 4, 5]
    assert client.get("/getdata/10").json() == []
    reset = client.get("/reset")
    assert reset.status_code == 200
    assert reset.json()["position"] == 0
    assert event_ids(client.get("/getdata/1").json()) == [1]


@pytest.mark.parametrize(
    ("n", "message"),
    [("0", "n: 0 is out of range 1..1000"), ("1001", "n: 1001 is out of range 1..1000"), ("ten", "n: 'ten' is not a whole number")],
)
def test_a_count_outside_1_to_1000_is_a_400_naming_the_parameter(client, feed_file, n, message):
    feed_load(dataset=feed_file, limit=5)
    response = client.get(f"/getdata/{n}")
    assert response.status_code == 400
    assert response.json()["field"] == "n"
    assert response.json()["error"].startswith(message)
    assert event_ids(client.get("/getdata/1").json()) == [1]  # the bad request moved nothing


def test_the_dataset_is_loaded_on_first_use_from_settings(client, settings, feed_file):
    settings.FEED_DATASET = feed_file
    settings.FEED_LIMIT = 4
    assert event_ids(client.get("/getdata/100").json()) == [1, 2, 3, 4]


@pytest.mark.django_db
def test_the_feed_can_replay_the_warehouse(tmp_path):
    rows = nba_com_game("22300009", 5, date="11-05-2023") + nba_com_game("22300008", 3, date="11-04-2023")
    shots_import_file(location=str(write_csv(tmp_path / "s.csv", rows)))
    assert feed_load(dataset="warehouse", limit=100) == 8
    records = feed_next(n=100)
    assert [(r["Game ID"], r["Game Event ID"]) for r in records][:2] == [("0022300008", "200"), ("0022300008", "250")]  # clock order
    assert records[-1]["Game Date"] == "20231105"


def test_concurrent_callers_never_receive_the_same_record(live_server, feed_file):
    feed_load(dataset=feed_file, limit=30)
    url = f"{live_server.url}/getdata/3"

    def pull(_: int) -> list[int]:
        return event_ids(requests.get(url, timeout=30).json())

    with ThreadPoolExecutor(max_workers=6) as pool:
        batches = list(pool.map(pull, range(12)))
    received = [event for batch in batches for event in batch]
    assert len(received) == len(set(received)) == 30
    assert sorted(received) == list(range(1, 31))


@pytest.mark.django_db(transaction=True)
def test_the_client_pulls_into_the_lake_and_the_transform_fills_the_warehouse(live_server, feed_file):
    feed_load(dataset=feed_file, limit=12)
    pulled = [feed_pull(url=live_server.url, n=5) for _ in range(4)]
    assert [report.read for _run, report, _batch in pulled] == [5, 5, 2, 0]
    assert pulled[-1][2] is None
    assert mongo.lake_collection(mongo.RAW_SHOTS).count_documents({}) == 12
    assert mongo.warehouse_collection(mongo.SHOTS).count_documents({}) == 0

    _run, report = lake_transform_pending()
    assert (report.read, report.inserted, report.rejected) == (12, 12, 0)
    shot = mongo.warehouse_collection(mongo.SHOTS).find_one({"_id": "0021100057:3:571:201580:13:6:3"})  # event 3: the third same-second repeat
    assert shot is not None
    assert shot["source"] == f"feed:{live_server.url}"


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers each GET with the next scripted (status, body) pair."""

    script: list[tuple[int, str]] = []
    calls = 0

    def do_GET(self) -> None:
        status, body = type(self).script[min(type(self).calls, len(type(self).script) - 1)]
        type(self).calls += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_feed() -> Iterator[type[_Scripted]]:
    handler = type("Handler", (_Scripted,), {"script": [], "calls": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def test_the_client_retries_a_failing_feed(scripted_feed):
    scripted_feed.script = [(503, "{}"), (502, "{}"), (200, json.dumps([shot_locations_row()]))]
    records = feed_fetch(url=scripted_feed.url, n=1, retries=3)
    assert len(records) == 1
    assert scripted_feed.calls == 3


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, '{"results": []}', "returned dict, expected a JSON list"),
        (200, "<html>", "did not return JSON"),
        (404, "not here", "answered 404"),
        (500, "boom", "answered 500"),
    ],
)
def test_the_client_explains_what_a_bad_feed_returned(scripted_feed, status, body, message):
    scripted_feed.script = [(status, body)]
    with pytest.raises(FeedClientError, match=message):
        feed_fetch(url=scripted_feed.url, n=1, retries=1)


def test_the_client_gives_up_on_an_unreachable_feed():
    with pytest.raises(FeedClientError, match="failed"):
        feed_fetch(url="http://127.0.0.1:9", n=1, retries=0, timeout=0.5)
