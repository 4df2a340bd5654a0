"""The BetsAPI client against a fake BetsAPI served from a thread on 127.0.0.1.

The fake answers in BetsAPI's documented shape (``success``/``pager``/``results``, errors as
``success: 0``); nothing here touches the internet.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ingestion.betsapi import (
    MARKET_MONEY_LINE,
    MARKET_SPREAD,
    MARKET_TOTAL,
    ODDS_PATH,
    UPCOMING_PATH,
    BetsApiAuthError,
    BetsApiClient,
    BetsApiConfigError,
    BetsApiRateLimitError,
    BetsApiRequestError,
    BetsApiResponseError,
    BetsApiTimeoutError,
    BetsApiUnavailableError,
    implied_probabilities,
)

GOOD_TOKEN = "tok-good-1234567890"
BAD_TOKEN = "tok-revoked-0987654321"
TIP_OFF = 1_767_225_600  # 2026-01-01 00:00:00 UTC


# --------------------------------------------------------------------------- fake server


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a dict/list is sent as JSON, a str as it is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Route = Callable[[dict[str, str]], Reply]


class FakeBetsApi:
    """Routes by path; a route is a function of the query or a script of replies (last repeats)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.url = ""

    def script(self, path: str, *replies: Reply) -> None:
        queue = list(replies)

        def route(_query: dict[str, str]) -> Reply:
            with self._lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self.routes[path] = route

    def listing(self, path: str, events: list[dict[str, Any]], *, per_page: int) -> None:
        """Serve ``events`` page by page with BetsAPI's pager."""

        def route(query: dict[str, str]) -> Reply:
            page = int(query.get("page", "1"))
            chunk = events[(page - 1) * per_page : page * per_page]
            pager = {"page": page, "per_page": per_page, "total": len(events)}
            return Reply(body={"success": 1, "pager": pager, "results": chunk})

        self.routes[path] = route

    def calls(self, path: str) -> list[dict[str, str]]:
        return [query for called, query in self.requests if called == path]

    def answer(self, path: str, query: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append((path, query))
        if query.get("token") != GOOD_TOKEN:
            # Echo the token back, as a careless server might, to prove the client redacts it.
            detail = f"token {query.get('token')} is not valid"
            return Reply(body={"success": 0, "error": "PERMISSION_DENIED", "error_detail": detail})
        route = self.routes.get(path)
        if route is None:
            return Reply(status=404, body={"success": 0, "error": "NOT_FOUND"})
        return route(query)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        reply = self.server.fake.answer(parts.path, query)
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        data = body.encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeout tests)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeBetsApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@pytest.fixture
def fake() -> Iterator[FakeBetsApi]:
    api = FakeBetsApi()
    server = _Server(api)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    api.url = f"http://{host}:{port}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeBetsApi, sleeps: list[float]) -> Iterator[BetsApiClient]:
    # Waits are recorded, not spent: the retry tests check them and stay fast.
    with BetsApiClient(
        token=GOOD_TOKEN, base_url=fake.url, timeout=2, max_retries=2, backoff=0.01, sleep=sleeps.append
    ) as built:
        yield built


def event(event_id: int, *, league: str = "NBA", league_id: str = "2274", **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": str(event_id),
        "sport_id": "18",
        "time": str(TIP_OFF + event_id * 60),
        "time_status": "0",
        "league": {"id": league_id, "name": league},
        "home": {"id": "1001", "name": "Boston Celtics"},
        "away": {"id": "1002", "name": "Los Angeles Lakers"},
        "ss": None,
        "our_event_id": "9" + str(event_id),
        "updated_at": str(TIP_OFF - 3600),
    }
    raw.update(overrides)
    return raw


# --------------------------------------------------------------------------- events


def test_upcoming_events_are_read_across_every_page_and_only_the_nba_is_kept(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    events = [
        event(1),
        event(2, league="Euroleague", league_id="1500"),
        event(3),
        event(4, league="NBA Summer League", league_id="3000"),
        event(5),
        event(6, league="Ebasketball H2H GG League - 4x5mins", league_id="4000"),
        event(7),
    ]
    fake.listing(UPCOMING_PATH, events, per_page=3)

    batch = client.upcoming_nba_events(day=dt.date(2026, 1, 1))

    assert [e.id for e in batch.events] == ["1", "3", "5", "7"]
    assert batch.errors == []
    assert (batch.pages_fetched, batch.total, batch.truncated) == (3, 7, False)
    calls = fake.calls(UPCOMING_PATH)
    assert [call["page"] for call in calls] == ["1", "2", "3"]
    assert all(call["sport_id"] == "18" and call["day"] == "20260101" for call in calls)
    first = batch.events[0]
    assert (first.league, first.home, first.away, first.status) == (
        "NBA",
        "Boston Celtics",
        "Los Angeles Lakers",
        "not_started",
    )
    assert first.start_time == dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC)
    assert first.start_time.utcoffset() == dt.timedelta(0)


def test_paging_stops_at_max_pages_and_reports_the_batch_as_truncated(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    fake.listing(UPCOMING_PATH, [event(n) for n in range(1, 11)], per_page=2)

    batch = client.upcoming_nba_events(max_pages=2)

    assert [e.id for e in batch.events] == ["1", "2", "3", "4"]
    assert (batch.pages_fetched, batch.total, batch.truncated) == (2, 10, True)
    assert len(fake.calls(UPCOMING_PATH)) == 2


def test_a_league_id_is_sent_to_betsapi_and_used_as_the_filter(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    # The NBA under another display name still matches by id; the name alone does not.
    fake.listing(
        UPCOMING_PATH,
        [event(1, league="USA NBA"), event(2, league="NBA", league_id="999")],
        per_page=50,
    )

    batch = client.upcoming_nba_events(league_id=2274)

    assert [e.id for e in batch.events] == ["1"]
    assert fake.calls(UPCOMING_PATH)[0]["league_id"] == "2274"


def test_an_event_repeated_on_two_pages_is_returned_once(fake: FakeBetsApi, client: BetsApiClient) -> None:
    fake.listing(UPCOMING_PATH, [event(1), event(2), event(2), event(3)], per_page=2)

    batch = client.upcoming_nba_events()

    assert [e.id for e in batch.events] == ["1", "2", "3"]


def test_malformed_events_are_skipped_with_the_field_and_value_and_the_batch_goes_on(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    events = [
        event(1),
        event(2, time="tonight"),
        event(3, home={"id": "1001", "name": ""}),
        event(4, time_status="42"),
        event(5, id="abc"),
        "not an event",
        {**event(7), "league": {"id": "2274"}},
        event(8),
    ]
    fake.listing(UPCOMING_PATH, events, per_page=4)

    batch = client.upcoming_nba_events()

    assert [e.id for e in batch.events] == ["1", "8"]
    found = {(error.page, error.index, error.field, error.value) for error in batch.errors}
    assert found == {
        (1, 1, "time", "'tonight'"),
        (1, 2, "home.name", "''"),
        (1, 3, "time_status", "'42'"),
        (2, 0, "id", "'abc'"),
        (2, 1, "event", "'not an event'"),
        (2, 2, "league.name", "None"),
    }
    time_error = next(error for error in batch.errors if error.field == "time")
    assert time_error.record_id == "2"
    assert time_error.reason == "time: is not an epoch timestamp"
    assert "page 1 item 1 (id 2): time='tonight'" in str(time_error)


def test_inplay_events_carry_their_status_and_score(fake: FakeBetsApi, client: BetsApiClient) -> None:
    fake.script(
        "/v3/events/inplay",
        Reply(
            body={"success": 1, "results": [event(1, time_status="1", ss="54-49"), event(2, league="WNBA")]}
        ),
    )

    batch = client.inplay_nba_events()

    assert [(e.id, e.status, e.score) for e in batch.events] == [("1", "inplay", "54-49")]
    assert (batch.pages_fetched, batch.total) == (1, None)


# --------------------------------------------------------------------------- odds


def test_event_odds_are_parsed_per_market_oldest_first(fake: FakeBetsApi, client: BetsApiClient) -> None:
    fake.script(
        ODDS_PATH,
        Reply(
            body={
                "success": 1,
                "results": {
                    "stats": {"matching_dir": 1, "odds_update": {MARKET_MONEY_LINE: TIP_OFF - 60}},
                    "odds": {
                        MARKET_MONEY_LINE: [
                            {
                                "id": "12",
                                "home_od": "1.667",
                                "away_od": "2.200",
                                "ss": None,
                                "time_str": None,
                                "add_time": str(TIP_OFF - 60),
                            },
                            {
                                "id": "11",
                                "home_od": "1.800",
                                "away_od": "2.000",
                                "ss": None,
                                "time_str": None,
                                "add_time": str(TIP_OFF - 7200),
                            },
                        ],
                        MARKET_SPREAD: [
                            {
                                "id": "21",
                                "home_od": "1.909",
                                "away_od": "-",
                                "handicap": "-4.5",
                                "ss": "10-8",
                                "time_str": "08:31",
                                "add_time": str(TIP_OFF + 300),
                            },
                            {
                                "id": "20",
                                "home_od": "0.5",
                                "away_od": "1.9",
                                "handicap": "-4.5",
                                "add_time": str(TIP_OFF),
                            },
                        ],
                        MARKET_TOTAL: [
                            {
                                "id": "31",
                                "over_od": "1.833",
                                "under_od": "1.952",
                                "handicap": "221.5",
                                "add_time": str(TIP_OFF - 60),
                            },
                        ],
                    },
                },
            }
        ),
    )

    odds = client.event_odds(event_id=123, since=TIP_OFF - 86400, markets=[MARKET_MONEY_LINE, MARKET_TOTAL])

    query = fake.calls(ODDS_PATH)[0]
    assert (query["event_id"], query["since_time"], query["odds_market"]) == (
        "123",
        str(TIP_OFF - 86400),
        "1,3",
    )
    money = odds.markets[MARKET_MONEY_LINE]
    assert [snapshot.odds_id for snapshot in money] == ["11", "12"]
    latest = odds.latest(MARKET_MONEY_LINE)
    assert latest is not None
    assert (latest.event_id, latest.home_od, latest.away_od) == ("123", 1.667, 2.2)
    assert latest.add_time == dt.datetime.fromtimestamp(TIP_OFF - 60, tz=dt.UTC)
    home, away = latest.implied_probabilities()
    assert home + away == pytest.approx(1.0)
    assert home == pytest.approx((1 / 1.667) / (1 / 1.667 + 1 / 2.2))
    spread = odds.latest(MARKET_SPREAD)
    assert spread is not None
    # A suspended price ("-") is no price, not an error; a price of 0.5 is an error.
    assert (spread.home_od, spread.away_od, spread.handicap, spread.score) == (1.909, None, -4.5, "10-8")
    assert [(error.field, error.value, error.record_id) for error in odds.errors] == [
        (f"odds.{MARKET_SPREAD}.home_od", "'0.5'", "20")
    ]
    total = odds.latest(MARKET_TOTAL)
    assert total is not None
    assert (total.over_od, total.under_od, total.handicap) == (1.833, 1.952, 221.5)
    assert sum(total.implied_probabilities()) == pytest.approx(1.0)


def test_an_event_without_odds_yet_gives_empty_markets(fake: FakeBetsApi, client: BetsApiClient) -> None:
    # BetsAPI (PHP) encodes an empty map as [].
    fake.script(ODDS_PATH, Reply(body={"success": 1, "results": {"stats": [], "odds": []}}))

    odds = client.event_odds(event_id="77")

    assert (odds.markets, odds.errors, odds.latest(MARKET_MONEY_LINE)) == ({}, [], None)


def test_implied_probabilities_remove_the_bookmaker_margin() -> None:
    home, away = implied_probabilities(odds=[1.8, 2.1])

    assert home + away == pytest.approx(1.0)
    assert home / away == pytest.approx(2.1 / 1.8)
    assert implied_probabilities(odds=[3.0, 3.0, 3.0]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    for bad in ([1.9], [1.0, 2.0], [float("nan"), 2.0], [-2.0, 2.0]):
        with pytest.raises(ValueError, match="odds"):
            implied_probabilities(odds=bad)


# --------------------------------------------------------------------------- retries


def test_429_waits_for_retry_after_then_succeeds(
    fake: FakeBetsApi, client: BetsApiClient, sleeps: list[float]
) -> None:
    fake.script(
        UPCOMING_PATH,
        Reply(status=429, body={"success": 0, "error": "TOO_MANY_REQUESTS"}, headers={"Retry-After": "2"}),
        Reply(body={"success": 1, "pager": {"page": 1, "per_page": 50, "total": 1}, "results": [event(1)]}),
    )

    batch = client.upcoming_nba_events()

    assert [e.id for e in batch.events] == ["1"]
    assert sleeps == [2.0]
    assert len(fake.calls(UPCOMING_PATH)) == 2


def test_a_long_retry_after_is_capped(fake: FakeBetsApi, sleeps: list[float]) -> None:
    fake.script(
        UPCOMING_PATH,
        Reply(status=429, headers={"Retry-After": "3600"}, body="slow down"),
        Reply(body={"success": 1, "results": []}),
    )
    client = BetsApiClient(token=GOOD_TOKEN, base_url=fake.url, max_retry_after=5, sleep=sleeps.append)

    client.upcoming_nba_events()

    assert sleeps == [5.0]


def test_server_errors_are_retried_with_growing_backoff_then_succeed(
    fake: FakeBetsApi, client: BetsApiClient, sleeps: list[float]
) -> None:
    fake.script(
        UPCOMING_PATH,
        Reply(status=503, body="<html>maintenance</html>"),
        Reply(status=502, body={"success": 0, "error": "BAD_GATEWAY"}),
        Reply(body={"success": 1, "results": [event(1)]}),
    )

    batch = client.upcoming_nba_events()

    assert [e.id for e in batch.events] == ["1"]
    assert sleeps == pytest.approx([0.01, 0.02])


def test_exhausted_retries_raise_an_unavailable_error_naming_the_endpoint(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    fake.script(UPCOMING_PATH, Reply(status=500, body={"success": 0, "error": "INTERNAL"}))

    with pytest.raises(BetsApiUnavailableError) as caught:
        client.upcoming_nba_events()

    assert caught.value.status == 500
    assert caught.value.endpoint == UPCOMING_PATH
    assert "INTERNAL" in str(caught.value)
    assert len(fake.calls(UPCOMING_PATH)) == 3  # the first try and max_retries=2


def test_a_rate_limit_that_never_lifts_raises_a_rate_limit_error(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    fake.script(UPCOMING_PATH, Reply(body={"success": 0, "error": "TOO_MANY_REQUESTS"}))

    with pytest.raises(BetsApiRateLimitError, match="TOO_MANY_REQUESTS"):
        client.upcoming_nba_events()

    assert len(fake.calls(UPCOMING_PATH)) == 3


def test_a_slow_server_raises_a_timeout_error_after_the_retries(fake: FakeBetsApi) -> None:
    fake.script(UPCOMING_PATH, Reply(body={"success": 1, "results": []}, delay=0.6))
    client = BetsApiClient(token=GOOD_TOKEN, base_url=fake.url, timeout=0.15, max_retries=1, backoff=0)

    started = time.monotonic()
    with pytest.raises(BetsApiTimeoutError, match=r"no answer within 0\.15s") as caught:
        client.upcoming_nba_events()

    assert time.monotonic() - started < 1.0  # gave up at the timeout, not after the server's reply
    assert len(fake.calls(UPCOMING_PATH)) == 2
    assert GOOD_TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_timeout_followed_by_an_answer_succeeds(fake: FakeBetsApi) -> None:
    fake.script(
        UPCOMING_PATH,
        Reply(body={"success": 1, "results": []}, delay=0.6),
        Reply(body={"success": 1, "results": [event(1)]}),
    )
    client = BetsApiClient(token=GOOD_TOKEN, base_url=fake.url, timeout=0.15, max_retries=1, backoff=0)

    assert [e.id for e in client.upcoming_nba_events().events] == ["1"]


def test_an_unreachable_server_raises_unavailable_without_leaking_the_token() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = BetsApiClient(
        token=GOOD_TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=1, max_retries=1, backoff=0
    )

    with pytest.raises(BetsApiUnavailableError, match="connection failed") as caught:
        client.upcoming_nba_events()

    assert GOOD_TOKEN not in str(caught.value)


# --------------------------------------------------------------------------- refusals


def test_a_bad_token_raises_an_auth_error_that_never_shows_the_token(
    fake: FakeBetsApi, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    client = BetsApiClient(token=BAD_TOKEN, base_url=fake.url, backoff=0, sleep=sleeps.append)

    with caplog.at_level(logging.DEBUG), pytest.raises(BetsApiAuthError) as caught:
        client.upcoming_nba_events()

    message = str(caught.value)
    assert "PERMISSION_DENIED" in message
    assert UPCOMING_PATH in message
    assert BAD_TOKEN not in message
    assert "***" in message
    assert BAD_TOKEN not in caplog.text
    assert BAD_TOKEN not in repr(client)
    assert len(fake.calls(UPCOMING_PATH)) == 1
    assert sleeps == []


def test_http_401_raises_an_auth_error(fake: FakeBetsApi, client: BetsApiClient) -> None:
    fake.script(ODDS_PATH, Reply(status=401, body={"success": 0, "error": "AUTHORIZE_FAILED"}))

    with pytest.raises(BetsApiAuthError, match="AUTHORIZE_FAILED") as caught:
        client.event_odds(event_id=1)

    assert (caught.value.status, caught.value.endpoint) == (401, ODDS_PATH)
    assert len(fake.calls(ODDS_PATH)) == 1


def test_other_client_errors_are_raised_at_once(fake: FakeBetsApi, client: BetsApiClient) -> None:
    fake.script(
        ODDS_PATH,
        Reply(status=400, body={"success": 0, "error": "PARAM_INVALID", "error_detail": "event_id"}),
    )

    with pytest.raises(BetsApiRequestError, match=r"PARAM_INVALID \(event_id\)"):
        client.event_odds(event_id=1)

    assert len(fake.calls(ODDS_PATH)) == 1


def test_success_zero_in_a_200_answer_raises_a_request_error(
    fake: FakeBetsApi, client: BetsApiClient
) -> None:
    fake.script(ODDS_PATH, Reply(body={"success": 0, "error": "PARAM_REQUIRED", "error_detail": "event_id"}))

    with pytest.raises(BetsApiRequestError, match="PARAM_REQUIRED"):
        client.event_odds(event_id=1)

    assert len(fake.calls(ODDS_PATH)) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>not json</html>", "not JSON"),
        ({"success": 1}, "no 'results'"),
        ({"success": 1, "results": {"odd": "shape"}}, "expected a list"),
        ({"success": 1, "pager": {"page": 1}, "results": []}, "'pager'"),
    ],
)
def test_an_answer_outside_the_documented_shape_raises_a_response_error(
    fake: FakeBetsApi, client: BetsApiClient, body: Any, problem: str
) -> None:
    fake.script(UPCOMING_PATH, Reply(body=body))

    with pytest.raises(BetsApiResponseError, match=problem):
        client.upcoming_nba_events()


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("token", ["", "   ", None])
def test_a_missing_token_is_a_configuration_error_at_construction(token: Any) -> None:
    with pytest.raises(BetsApiConfigError, match="BETSAPI_TOKEN"):
        BetsApiClient(token=token)


@pytest.mark.parametrize(
    ("option", "value"),
    [("base_url", "ftp://example.org"), ("timeout", 0), ("max_retries", -1), ("backoff", -0.5)],
)
def test_unusable_options_are_configuration_errors(option: str, value: Any) -> None:
    with pytest.raises(BetsApiConfigError, match=option):
        BetsApiClient(token=GOOD_TOKEN, **{option: value})


def test_bad_arguments_are_rejected_before_any_request(fake: FakeBetsApi, client: BetsApiClient) -> None:
    with pytest.raises(ValueError, match="day"):
        client.upcoming_nba_events(day="2026-01-01")
    with pytest.raises(ValueError, match="max_pages"):
        client.upcoming_nba_events(max_pages=0)
    with pytest.raises(ValueError, match="event_id"):
        client.event_odds(event_id="12; DROP")
    with pytest.raises(ValueError, match="naive"):
        client.event_odds(event_id=1, since=dt.datetime(2026, 1, 1))
    assert fake.requests == []
