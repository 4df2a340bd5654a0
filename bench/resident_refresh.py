"""What a resident-history refresh costs a web worker, at real size (every season of the data folder).

    python -m bench.resident_refresh /work/shared/data/nba_shots [--cache /tmp/parivision-seasons]
        [--changed 1,30,250] [--repeats 5]

Each worker holds every shooter's history and answers requests from one merge of them
(``predictions.history.PlayerHistoryCache``). A refresh that re-reads shooters (a live feed's, every
``SERVING_HISTORY_REFRESH_SECONDS``) decodes their stored documents (``ingestion.history.histories``,
from documents encoded here as the store holds them) and builds that merge again
(``_resident_all_rebuild``). Both run here on the real seasons' histories, for 1, 30 and 250 re-read
shooters: their times, and the longest a second thread, standing for the worker's requests, waited to
run meanwhile (the work holds the GIL; a request waits as long). Then what a request's lookups cost on
the merge (one shot; a batch of 1,000 shots of distinct shooters). The store's write counts (``v``)
decide how many documents a refresh decodes: before them, every document written in the look-back
(75 s) was decoded again at each refresh. It ends with one JSON line and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parivision.settings.local")
    import django

    django.setup()


class Waits:
    """A thread that asks to run every 0.5 ms and records how late it got to (the GIL's other holder)."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            asked = time.perf_counter()
            time.sleep(0.0005)
            self.lateness.append(time.perf_counter() - asked - 0.0005)

    def __enter__(self) -> Waits:
        self._thread.start()
        time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def max_ms(self) -> float:
        return float(max(self.lateness) * 1000) if self.lateness else 0.0


def _documents(daily: Any, store: Any) -> dict[int, dict[str, Any]]:
    """Each player's document as the shooter-history store holds it (``d``: day -> encoded counts)."""
    columns = store.count_columns()
    out: dict[int, dict[str, Any]] = {}
    for player, day, counts in zip(daily["player_id"], daily["day"], daily[columns].to_numpy(), strict=True):
        out.setdefault(int(player), {"_id": int(player), "d": {}})["d"][str(int(day))] = store.encode(counts)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder holding the NBA_<YEAR>_Shots.csv.zip season files")
    parser.add_argument("--cache", type=Path, default=None, help="folder for parsed season pickles (outside git)")
    parser.add_argument("--changed", default="1,30,250", help="shooters a refresh re-read, one run each")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    _django()
    from bench.common import machine_load
    from bench.walkforward import seasons_load
    from ingestion import history as store
    from predictions import history
    from training.ml.features import PlayerHistory, history_daily_counts

    load_start = machine_load()
    started = time.perf_counter()
    shots = seasons_load(args.data_dir, cache=args.cache)
    daily = history_daily_counts(shots)
    per_player = {int(p): PlayerHistory.from_daily_counts(rows) for p, rows in daily.groupby("player_id")}
    players = sorted(per_player)
    rows = sum(len(h) for h in per_player.values())
    merged = history.merge([per_player[p] for p in players])
    size_mb = (merged.keys.nbytes + merged.attempts.nbytes + merged.makes.nbytes) / 1e6
    print(f"{len(shots):,} shots, {len(players):,} shooters, {rows:,} shooter-days: the merge holds {size_mb:.0f} MB "
          f"(built in {time.perf_counter() - started:.0f} s)", flush=True)
    del merged

    cache = history.PlayerHistoryCache(ttl_seconds=0.0, max_players=100_000)
    for player in players:
        cache._entries[(history.CLOSE_RANGE_FT, player)] = (history.RESIDENT, per_player[player])
    documents = _documents(daily, store)

    rng = np.random.default_rng(7)
    results: dict[str, Any] = {}
    for count in [int(c) for c in args.changed.split(",")]:
        decode, rebuild, waits = [], [], []
        for _ in range(args.repeats):
            read = [documents[p] for p in rng.choice(players, count, replace=False)]
            with Waits() as probe:
                begun = time.perf_counter()
                store.histories(read)
                decoded = time.perf_counter()
                cache._resident_all_rebuild()
                rebuild.append(time.perf_counter() - decoded)
                decode.append(decoded - begun)
            waits.append(probe.max_ms)
        results[str(count)] = {"decode_ms": round(float(np.median(decode)) * 1000, 2),
                               "rebuild_ms": round(float(np.median(rebuild)) * 1000, 2),
                               "rebuild_max_ms": round(max(rebuild) * 1000, 2),
                               "longest_wait_ms": round(max(waits), 2)}
        got = results[str(count)]
        print(f"refresh re-reading {count:>4} shooters: decode {got['decode_ms']:7.2f} ms, rebuild {got['rebuild_ms']:6.2f} ms "
              f"(max {got['rebuild_max_ms']:.2f}); a waiting thread waited at most {got['longest_wait_ms']:.2f} ms",
              flush=True)

    merged = cache._resident_all[1]
    day = int(daily["day"].max()) + 1
    lookups: dict[str, Any] = {}
    for size in (1, 1000):
        ids = rng.choice(players, size, replace=False).astype(np.int64)
        days = np.full(size, day, np.int64)
        merged.lookup_back(ids, days, (0, 45, 730))
        spent = []
        for _ in range(200 if size == 1 else 50):
            begun = time.perf_counter()
            merged.lookup_back(ids, days, (0, 45, 730))
            spent.append(time.perf_counter() - begun)
        lookups[str(size)] = round(float(np.median(spent)) * 1e6, 1)
        print(f"a request's lookups, {size:>4} shot(s): {lookups[str(size)]:8.1f} µs", flush=True)
    load_end = machine_load()
    print(f"load average {load_start['loadavg_1m']} at the start, {load_end['loadavg_1m']} at the end "
          f"({load_end['cores']} cores); wall {time.perf_counter() - started:.0f} s")
    print(json.dumps({"shots": len(shots), "shooters": len(players), "shooter_days": rows,
                      "merged_mb": round(size_mb, 1), "refresh": results,
                      "lookup_us": lookups, "load_start": load_start, "load_end": load_end,
                      "wall_s": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
