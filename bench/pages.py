"""Latency of every portal page and read API against a running server: cold (first hit) and warm p95.

    .venv/bin/python bench/pages.py --base-url http://127.0.0.1:8000 --username admin --password ...

Run it right after the server starts to see cold figures (each URL's first request is timed
alone, once per gunicorn worker: ``--cold-hits`` should be the worker count), then every URL
is requested ``--requests`` times in turn (warm). It also times ``manage.py refresh_figures``
with ``--refresh`` (run where the settings point at the same stores). Prints a table, then one
line of JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402  (run as a script: the project root first)


def _cookies_over_http(session: requests.Session) -> None:
    """The production settings mark the session and CSRF cookies Secure (HTTPS only); the bench
    talks plain HTTP to 127.0.0.1, so it sends them back anyway (as a TLS proxy's clients would)."""
    for cookie in session.cookies:
        cookie.secure = False


def login(session: requests.Session, base: str, username: str, password: str) -> None:
    page = session.get(f"{base}/accounts/login/", timeout=30)
    _cookies_over_http(session)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no login form at /accounts/login/")
    answer = session.post(f"{base}/accounts/login/", timeout=30, allow_redirects=False,
                          data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
                          headers={"Referer": f"{base}/accounts/login/"})  # fmt: skip
    _cookies_over_http(session)
    if answer.status_code != 302:
        raise SystemExit(f"login refused for {username!r} ({answer.status_code})")


def urls(session: requests.Session, base: str) -> list[str]:
    """Every page and read API, with real ids found through the API and the pages themselves."""
    found = ["/", "/play/", "/play/stream.json", "/play/leaderboard/", "/model/", "/data/", "/data/shot-chart.json",
             "/matches/", "/shot-making/", "/backtests/", "/api/v1/models", "/api/v1/models/champion",
             "/api/v1/shot-making", "/api/v1/shots?limit=100"]  # fmt: skip
    board = session.get(f"{base}/api/v1/shot-making?limit=1", timeout=60).json()
    if board.get("results"):
        player = board["results"][0]
        found += [f"/shot-making/players/{player['player_id']}/", f"/api/v1/shot-making/players/{player['player_id']}",
                  f"/data/shot-chart.json?season={player['season']}",
                  f"/data/shot-chart.json?season={player['season']}&team={player['team']}",
                  f"/data/shot-chart.json?player={player['player_id']}",
                  f"/data/?season={player['season']}"]  # fmt: skip
    matches = session.get(f"{base}/matches/", timeout=60).text
    game = re.search(r'<option value="(\d{6,})"', matches)
    day = re.search(r'name="date" id="m-date" value="([0-9-]+)"', matches)
    if game and day:
        found.append(f"/matches/?date={day.group(1)}&game={game.group(1)}")
    return found


def timed(session: requests.Session, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = session.get(url, timeout=120)
    return (time.perf_counter() - started) * 1000, response.status_code


def measure(base: str, username: str, password: str, *, warm_requests: int, cold_hits: int) -> dict[str, Any]:
    """Each URL's first ``cold_hits`` requests (the worst is its cold figure), then ``warm_requests``
    each in turn; prints the table and returns the worst cold and warm p95 with their URLs."""
    session = requests.Session()
    login(session, base, username, password)
    discovery = requests.Session()  # its own session: the timed one starts cold
    login(discovery, base, username, password)
    targets = urls(discovery, base)
    rows: list[dict[str, Any]] = []
    for url in targets:
        cold = [timed(session, base + url) for _ in range(cold_hits)]
        rows.append({"url": url, "status": cold[0][1], "cold_ms": round(max(ms for ms, _ in cold), 1)})
    warm: dict[str, list[float]] = {row["url"]: [] for row in rows}
    for _ in range(warm_requests):
        for url in warm:
            warm[url].append(timed(session, base + url)[0])
    for row in rows:
        row["warm_p50_ms"] = round(statistics.median(warm[row["url"]]), 1)
        row["warm_p95_ms"] = round(percentile(warm[row["url"]], 0.95), 1)
    width = max(len(r["url"]) for r in rows)
    print(f"{'url':<{width}}  status  cold ms  warm p50  warm p95")
    for r in rows:
        print(f"{r['url']:<{width}}  {r['status']:>6}  {r['cold_ms']:>7}  {r['warm_p50_ms']:>8}  {r['warm_p95_ms']:>8}")
    worst_warm = max(rows, key=lambda r: r["warm_p95_ms"])
    worst_cold = max(rows, key=lambda r: r["cold_ms"])
    return {
        "pages": len(rows), "page_p95_warm_ms": worst_warm["warm_p95_ms"], "page_p95_warm_url": worst_warm["url"],
        "page_p95_cold_ms": worst_cold["cold_ms"], "page_p95_cold_url": worst_cold["url"],
        "errors": [r["url"] for r in rows if r["status"] >= 500],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--requests", type=int, default=30, help="warm requests per URL")
    parser.add_argument("--cold-hits", type=int, default=2, help="first requests per URL counted as cold")
    parser.add_argument("--refresh", action="store_true", help="first time manage.py refresh_figures")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    result: dict[str, Any] = {}
    if args.refresh:
        started = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "refresh_figures"], cwd=ROOT, check=True)
        result["refresh_figures_s"] = round(time.perf_counter() - started, 1)

    result.update(measure(base, args.username, args.password, warm_requests=args.requests, cold_hits=args.cold_hits))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
