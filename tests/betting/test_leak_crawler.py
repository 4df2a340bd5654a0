"""Nothing the site serves reveals the open shot's outcome: every URL of the URL conf, crawled.

The open shot's outcome exists in one place only, the replay feed's dataset (server side, not
yet served). The crawler visits every URL pattern the URL conf exposes, anonymously and as a
normal user, bare and with the open shot's date, teams, player and season as filters, twice:
once with the real outcome and once with it flipped. Every answer must be the same in both
worlds (after removing per-request noise: CSRF tokens, request ids, form keys), and none may
contain the shot's key. A planted leak shows that the crawler would catch one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from betting import selectors, services
from betting.models import Bet, LiveShot
from parivision import mongo
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import bettor_make, games_load, ingest_released

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

# Answers that change with every request whatever the outcome (they are still searched for the key).
VOLATILE = {"metrics", "readyz", "healthz"}
NOISE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), "csrf"),
    (re.compile(r'csrftoken=[^;"\s]+'), "csrf"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "hex32"),  # request ids, idempotency keys of bet forms
    (re.compile(r"\b[A-Za-z0-9]{64}\b"), "csrf"),  # masked CSRF tokens in scripts (Swagger UI)
]
# Patterns that cannot be filled in generically: the admin's, all staff-only (checked below).
ADMIN_PREFIX = "admin/"


def routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    """Every URL pattern of the URL conf as one route string (``<int:bet_id>`` kept as is)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            yield prefix + text


def instantiate(route: str, values: dict[str, list[str]]) -> list[str] | None:
    """Concrete paths for a route (None when it has a parameter the crawler cannot fill)."""
    if route.startswith("^") or "(?P" in route:
        return None
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    paths = ["/" + route]
    for name in names:
        if name not in values:
            return None
        paths = [re.sub(r"<(?:\w+:)?" + name + ">", value, p, count=1) for p in paths for value in values[name]]
    return paths


def normalise(body: str) -> str:
    for pattern, replacement in NOISE:
        body = pattern.sub(replacement, body)
    return body


@pytest.fixture
def world(mongo_db, champion, tmp_path, settings):
    """Past games in the warehouse, one game in the feed: one shot taken and ingested, the next open."""
    settings.FEED_PACED_BY_STREAM = True
    # Two crawls of every URL exceed the anonymous API budget: a 429 in one crawl is not a leak.
    settings.API_THROTTLE_ANON_RATE = "100000/minute"
    games_load(tmp_path, past=2, upcoming=1)
    services.stream_advance(force=True)
    services.stream_advance(force=True)  # the first shot is taken...
    ingest_released()  # ...its record ingested
    services.stream_advance()  # ...and settled
    shot = selectors.open_shot()
    user = bettor_make("crawler")
    bet = services.bet_place(user=user, shot_id=shot.pk, side="made", stake="10", idempotency_key="crawl").bet
    return {"shot": shot, "user": user, "bet": bet}


def queries(shot: LiveShot) -> list[dict[str, str]]:
    day = shot.game_date.isoformat()
    return [
        {},
        {"date": day, "date_from": day, "date_to": day, "season": shot.season, "team": shot.team_code,
         "player": str(shot.player_id), "game": shot.game_id, "zone": shot.zone_basic},
        {"player": shot.player_name, "team": shot.opponent_code, "date": day},
        {"date_from": day, "date_to": day, "player": str(shot.player_id), "made": "true"},
        {"date_from": day, "date_to": day, "player": str(shot.player_id), "made": "false"},
    ]


def crawl(world: dict[str, Any]) -> dict[tuple[str, str], tuple[int, str]]:
    """Every instantiable URL, query and visitor: (status, body)."""
    shot, user, bet = world["shot"], world["user"], world["bet"]
    values = {"bet_id": [str(bet.pk)], "n": ["5"], "run_id": [f"ml-{shot.pk}", "0" * 32],
              "backtest_id": ["1"], "report_id": ["1"], "uidb64": ["MQ"], "token": ["set-password"],
              "player_id": [str(shot.player_id)], "version": ["1", "2"], "fmt": ["md", "html"]}
    answers: dict[tuple[str, str], tuple[int, str]] = {}
    cache.clear()
    for visitor in ("anonymous", "user"):
        client = Client()
        if visitor == "user":
            client.force_login(user)
        for route in routes():
            for path in instantiate(route, values) or []:
                for query in queries(shot):
                    url = f"{path}?{urlencode(query)}" if query else path
                    response = client.get(url, HTTP_ACCEPT="text/html,application/json")
                    body = b"".join(response.streaming_content) if response.streaming else response.content
                    answers[(visitor, url)] = (response.status_code, body.decode("utf-8", "replace"))
    return answers


def flip_the_open_shots_outcome(shot: LiveShot) -> None:
    records = mongo.lake_collection(mongo.FEED_RECORDS)
    record = records.find_one({"_id": shot.feed_position})["record"]
    record["Shot Made Flag"] = "0" if record["Shot Made Flag"] == "1" else "1"
    records.replace_one({"_id": shot.feed_position}, {"_id": shot.feed_position, "record": record})


def differences(first: dict, second: dict) -> list[str]:
    found = []
    for key, (status, body) in first.items():
        if key[1].strip("/").split("?")[0] in VOLATILE:
            continue
        other_status, other_body = second[key]
        if status != other_status or normalise(body) != normalise(other_body):
            found.append(f"{key[0]} {key[1]}")
            where = next((i for i, (a, b) in enumerate(zip(normalise(body), normalise(other_body), strict=False))
                          if a != b), 0)
            print(key, status, other_status, repr(normalise(body)[max(0, where - 120):where + 80]),
                  repr(normalise(other_body)[max(0, where - 120):where + 80]))
    return found


def test_no_url_reveals_the_open_shots_outcome_or_key(world):
    shot = world["shot"]
    every_route = list(routes())
    unfilled = [route for route in every_route if instantiate(route, {"bet_id": ["1"], "n": ["1"], "run_id": ["x"],
                                                                      "backtest_id": ["1"], "report_id": ["1"],
                                                                      "uidb64": ["x"], "token": ["x"],
                                                                      "player_id": ["1"], "version": ["1"], "fmt": ["md"]}) is None]
    # A new URL with a parameter the crawler cannot fill must be added above, not skipped silently.
    assert all(route.lstrip("^").startswith(ADMIN_PREFIX) for route in unfilled), unfilled

    real = crawl(world)
    flip_the_open_shots_outcome(shot)
    flipped = crawl(world)

    routes_crawled = {url.split("?")[0] for _visitor, url in real}
    print(f"leak crawler: {len(real)} answers per world, {len(routes_crawled)} URLs, "
          f"{len(every_route)} patterns ({len(unfilled)} admin patterns only reachable by staff)")
    assert len(real) > 150
    assert differences(real, flipped) == []
    leaking_key = [key for key, (_status, body) in {**real, **flipped}.items() if shot.shot_key in body]
    assert leaking_key == []
    # The crawl did reach the open shot: the dashboard and its JSON show it (without its outcome).
    assert shot.player_name in real[("anonymous", "/play/stream.json")][1]
    assert real[("anonymous", "/getdata/5")][0] == 401  # the feed needs its token
    assert LiveShot.objects.get(pk=shot.pk).status == LiveShot.Status.OPEN
    assert Bet.objects.get(pk=world["bet"].pk).status == Bet.Status.OPEN
    # Admin pages (the routes not filled in) only send visitors to the login page.
    for visitor in ("anonymous", "user"):
        status, _ = real[(visitor, "/admin/")]
        assert status == 302


def test_the_crawler_catches_a_planted_leak(world, monkeypatch):
    """The check can fail: an outcome slipped into the stream's JSON is found."""
    from betting import selectors as betting_selectors

    original = betting_selectors.shot_payload

    def leaky(shot: LiveShot, *, reveal: bool) -> dict[str, Any]:
        payload = original(shot, reveal=reveal)
        if not reveal:
            record = mongo.lake_collection(mongo.FEED_RECORDS).find_one({"_id": shot.feed_position})["record"]
            payload["hint"] = record["Shot Made Flag"]
        return payload

    monkeypatch.setattr(betting_selectors, "shot_payload", leaky)
    monkeypatch.setattr("tests.betting.test_leak_crawler.routes",
                        lambda patterns=None, prefix="": iter(["play/stream.json", "play/"]))
    real = crawl(world)
    flip_the_open_shots_outcome(world["shot"])
    flipped = crawl(world)
    assert "anonymous /play/stream.json" in differences(real, flipped)
