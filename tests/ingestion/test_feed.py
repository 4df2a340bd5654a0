"""The replay feed: cursor semantics over HTTP, its token, retry-safe pulls, pacing by the stream,
concurrency with lost responses, and the client that pulls from it."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ingestion.feed import (
    FeedClientError,
    FeedRequestError,
    feed_fetch,
    feed_load,
    feed_next,
    feed_peek,
    feed_pull,
    feed_release,
    feed_status,
)
from ingestion.services import lake_transform_pending, shots_import_file
from parivision import mongo
from tests.factories import nba_com_game, shot_locations_row, write_csv

pytestmark = [pytest.mark.usefixtures("mongo_db")]

TOKEN = {"HTTP_X_FEED_TOKEN": "local-feed-token"}


@pytest.fixture(autouse=True)
def _unpaced(settings):
    """Cursor semantics are tested on a feed that serves everything; pacing has its own tests."""
    settings.FEED_PACED_BY_STREAM = False
    settings.FEED_TOKEN = "local-feed-token"


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
    first = client.get("/getdata/2", **TOKEN)
    assert first.status_code == 200
    assert event_ids(first.json()) == [1, 2]
    assert event_ids(client.get("/getdata/10", **TOKEN).json()) == [3, 4, 5]
    assert client.get("/getdata/10", **TOKEN).json() == []
    looked = client.get("/reset", **TOKEN)  # GET is kept for old clients but changes nothing
    assert looked.status_code == 200
    assert looked.json()["reset"] is False
    assert looked.json()["position"] == 5
    assert client.get("/getdata/1", **TOKEN).json() == []
    reset = client.post("/reset", **TOKEN)
    assert reset.status_code == 200
    assert reset.json()["reset"] is True
    assert reset.json()["position"] == 0
    assert event_ids(client.get("/getdata/1", **TOKEN).json()) == [1]


@pytest.mark.parametrize(
    ("n", "message"),
    [("0", "n: 0 is out of range 1..1000"), ("1001", "n: 1001 is out of range 1..1000"), ("ten", "n: 'ten' is not a whole number")],
)
def test_a_count_outside_1_to_1000_is_a_400_naming_the_parameter(client, feed_file, n, message):
    feed_load(dataset=feed_file, limit=5)
    response = client.get(f"/getdata/{n}", **TOKEN)
    assert response.status_code == 400
    assert response.json()["field"] == "n"
    assert response.json()["error"].startswith(message)
    assert event_ids(client.get("/getdata/1", **TOKEN).json()) == [1]  # the bad request moved nothing


def test_the_dataset_is_loaded_on_first_use_from_settings(client, settings, feed_file):
    settings.FEED_DATASET = feed_file
    settings.FEED_LIMIT = 4
    assert event_ids(client.get("/getdata/100", **TOKEN).json()) == [1, 2, 3, 4]


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
    url = f"{live_server.url}/getdata/3?token=local-feed-token"

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


# --- the feed is a protected source -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/getdata/1", "/reset"])
def test_the_feed_refuses_requests_without_its_token(client, feed_file, path):
    feed_load(dataset=feed_file, limit=5)
    missing = client.get(path)
    assert missing.status_code == 401
    assert missing.json()["field"] == "token"
    wrong = client.post(path, HTTP_X_FEED_TOKEN="guess") if path == "/reset" else client.get(path, HTTP_X_FEED_TOKEN="guess")
    assert wrong.status_code == 403
    assert "Shot Made Flag" not in wrong.content.decode()
    assert feed_status()["position"] == 0  # nothing moved


def test_the_token_works_as_header_bearer_or_query_parameter(client, feed_file):
    feed_load(dataset=feed_file, limit=5)
    assert event_ids(client.get("/getdata/1", HTTP_X_FEED_TOKEN="local-feed-token").json()) == [1]
    assert event_ids(client.get("/getdata/1", HTTP_AUTHORIZATION="Bearer local-feed-token").json()) == [2]
    assert event_ids(client.get("/getdata/1?token=local-feed-token").json()) == [3]


def test_without_a_configured_token_the_feed_is_closed(client, settings, feed_file):
    feed_load(dataset=feed_file, limit=5)
    settings.FEED_TOKEN = ""
    response = client.get("/getdata/1", HTTP_X_FEED_TOKEN="")
    assert response.status_code == 503
    assert "FEED_TOKEN" in response.json()["error"]


# --- retry-safe pulls ---------------------------------------------------------------------------


def test_the_same_idempotency_key_gets_the_same_records_and_others_get_the_next(feed_file):
    feed_load(dataset=feed_file, limit=10)
    first = feed_next(n=3, key="pull-a")
    assert event_ids(first) == [1, 2, 3]
    assert feed_next(n=3, key="pull-a") == first  # the retry of a pull whose answer was lost
    assert event_ids(feed_next(n=3, key="pull-b")) == [4, 5, 6]
    assert event_ids(feed_next(n=9, key="pull-c")) == [7, 8, 9, 10]
    assert feed_next(n=3, key="pull-d") == []
    assert event_ids(feed_next(n=3, key="pull-a")) == [1, 2, 3]


def test_an_idempotency_key_that_is_not_one_is_refused_naming_it(client, feed_file):
    feed_load(dataset=feed_file, limit=3)
    with pytest.raises(FeedRequestError, match="key"):
        feed_next(n=1, key="has spaces")
    response = client.get("/getdata/1?key=" + "x" * 65, **TOKEN)
    assert response.status_code == 400
    assert response.json()["field"] == "key"


def test_a_crash_between_claim_and_cursor_is_healed_by_the_next_pull(feed_file):
    feed_load(dataset=feed_file, limit=6)
    assert event_ids(feed_next(n=2, key="a")) == [1, 2]
    # As if the server died after claiming its slice but before moving the cursor hint.
    mongo.lake_collection(mongo.FEED_STATE).update_one({"_id": "state"}, {"$set": {"position": 0}})
    assert event_ids(feed_next(n=2, key="b")) == [3, 4]
    assert event_ids(feed_next(n=2, key="a")) == [1, 2]


class _LosingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards to the feed; the first answer of every pull (idempotency key) is lost on the way back."""

    upstream = ""
    lost: set[str] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:
        upstream = requests.get(self.upstream + self.path, headers={"X-Feed-Token": self.headers.get("X-Feed-Token", "")},
                                timeout=30)
        key = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("key", [""])[0]
        with type(self).lock:
            lose = key not in type(self).lost
            type(self).lost.add(key)
        if lose:  # the server has answered (its cursor moved) but the client never hears it
            self.close_connection = True
            self.connection.shutdown(2)
            return
        body = upstream.content
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def losing_proxy(live_server) -> Iterator[str]:
    handler = type("Proxy", (_LosingProxy,), {"upstream": live_server.url, "lost": set(), "lock": threading.Lock()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_concurrent_pullers_with_lost_responses_receive_every_record_exactly_once(losing_proxy, feed_file):
    feed_load(dataset=feed_file, limit=30)

    def puller(_: int) -> list[int]:
        received: list[int] = []
        while batch := feed_fetch(url=losing_proxy, n=2, retries=3, timeout=10):
            received += event_ids(batch)
        return received

    with ThreadPoolExecutor(max_workers=5) as pool:
        received = [event for part in pool.map(puller, range(5)) for event in part]
    assert sorted(received) == list(range(1, 31))  # none skipped, none twice


@pytest.mark.django_db(transaction=True)
def test_pulls_into_the_lake_through_lost_responses_keep_every_record_once(losing_proxy, feed_file):
    feed_load(dataset=feed_file, limit=12)

    def pull(_: int) -> int:
        _run, report, _batch = feed_pull(url=losing_proxy, n=2)
        return report.read

    with ThreadPoolExecutor(max_workers=3) as pool:
        reads = list(pool.map(pull, range(8)))
    assert sum(reads) == 12
    assert mongo.lake_collection(mongo.RAW_SHOTS).count_documents({}) == 12
    _run, report = lake_transform_pending()
    assert (report.inserted, report.duplicates) == (12, 0)


# --- paced by the live stream -------------------------------------------------------------------


def test_a_paced_feed_serves_only_what_the_stream_has_played(settings, client, feed_file):
    settings.FEED_PACED_BY_STREAM = True
    feed_load(dataset=feed_file, limit=10)
    assert client.get("/getdata/5", **TOKEN).json() == []  # nothing played yet: no outcome leaves
    assert [pos for pos, _ in feed_peek(start=0, n=3)] == [0, 1, 2]  # the stream sees what is coming
    assert feed_release(through=2) == 3
    assert feed_release(through=1) == 3  # never backwards
    assert event_ids(client.get("/getdata/5", **TOKEN).json()) == [1, 2, 3]
    assert client.get("/getdata/5", **TOKEN).json() == []
    feed_release(through=3)
    assert event_ids(client.get("/getdata/5", **TOKEN).json()) == [4]
    assert feed_status()["available"] == 4
