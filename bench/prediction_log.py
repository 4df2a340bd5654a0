"""Benchmark: stored bytes per logged prediction on the MongoDB stand-in (target ≤ 500 bytes).

    .venv/bin/python bench/prediction_log.py [--predictions 100000]

Starts a private nx-27017 in a temporary folder (unless ``--mongodb-uri``), creates the log's
indexes, then writes ``--predictions`` compact documents through the log's own path
(``predictions.log.log_document`` → the buffered writer), every one of an identified shot (the
heavier case: key and join fields), and joins them all to outcomes with
``predictions_join_outcomes``. Bytes per prediction is the growth of the warehouse database's
files (SQLite file and its WAL) divided by the count, measured after the writes and again after
the join; the average BSON size of a document is printed beside it, and the same for the
document the log wrote before issue #10 (features, context, caller, latency...), for scale.
On the stand-in it also reports the stand-in's own CPU time per prediction written and per
prediction joined (``standin_cpu_us_per_write``, ``standin_cpu_us_per_join``): what a logged
prediction costs the server beside the web workers, the ceiling of the rate the log sustains.
Prints the figures, then one line of JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB = "pv_bench_logsize_warehouse"


def folder_bytes(data_dir: Path, database: str) -> int:
    return sum(path.stat().st_size for path in data_dir.glob(f"{database}*") if path.is_file())


def old_document(rng: random.Random) -> dict:
    """What the log stored per prediction before issue #10 (for comparison only)."""
    from bson import ObjectId

    return {
        "_id": ObjectId(), "request_id": f"{rng.getrandbits(128):032x}", "created_at": dt.datetime.now(),
        "endpoint": "single", "model_name": "parivision", "model_version": "7", "probability": rng.random(),
        "features": {"player_id": 201939, "game_date": dt.datetime(2024, 3, 1), "season": "2023-24",
                     "season_type": "Regular Season", "is_home": True, "position": "G", "period": 3,
                     "seconds_left": 312, "action_type": "Pullup Jump shot", "shot_type": "3PT",
                     "zone_basic": "Above the Break 3", "zone_area": "Center", "zone_range": "24+ ft.",
                     "distance_ft": 26.0, "x_ft": 1.2, "y_ft": 25.9},
        "context": {"player_name": "Stephen Curry"}, "latency_ms": 1.8, "caller": "bettor",
        "shot_key": "0022300777:412", "settled": False,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", type=int, default=100_000)
    parser.add_argument("--mongodb-uri", default=None, help="Use this MongoDB (bytes are then not measured)")
    args = parser.parse_args()
    if args.predictions < 1_000:
        parser.error("--predictions: at least 1000, for a stable figure")

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pv-bench-log-")))
        if args.mongodb_uri:
            uri = args.mongodb_uri
        else:
            from tests.services import mongodb_standin

            uri = stack.enter_context(mongodb_standin(work))
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "parivision.settings.local", "MONGODB_URI": uri,
            "MONGODB_LAKE_DB": "pv_bench_logsize_lake", "MONGODB_WAREHOUSE_DB": DB,
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}", "PARIVISION_VAR_DIR": str(work),
            "LOG_LEVEL": "WARNING", "PREDICTION_LOG_BATCH_SIZE": "5000",
        })  # fmt: skip
        import django

        django.setup()
        import bson

        from bench.common import machine_load, processes_cpu_s
        from parivision import mongo
        from predictions.log import log_document, prediction_log, prediction_log_append
        from predictions.services import predictions_join_outcomes

        standin = [] if args.mongodb_uri else [int((work / "nx.pid").read_text().strip())]

        def standin_cpu_s() -> float:
            return sum(processes_cpu_s(standin))

        load_at_start = machine_load()
        mongo.drop_all()
        mongo.ensure_indexes()
        data_dir = work / "data"
        before = folder_bytes(data_dir, DB)
        rng = random.Random(7)
        n = args.predictions
        keys = [f"00223{rng.randrange(10**5):05d}:{i}" for i in range(n)]
        started, cpu_before = time.perf_counter(), standin_cpu_s()
        for start in range(0, n, 5_000):
            prediction_log_append((log_document(version="7", probability=rng.random(), shot_key=key)
                                   for key in keys[start:start + 5_000]), flush=True)
        prediction_log.flush()
        write_s, write_cpu_s = time.perf_counter() - started, standin_cpu_s() - cpu_before
        after_write = folder_bytes(data_dir, DB)
        shots = mongo.warehouse_collection(mongo.SHOTS)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
        for start in range(0, n, 5_000):
            shots.insert_many([{"_id": key, "made": rng.random() < 0.46, "ingested_at": now}
                               for key in keys[start:start + 5_000]])
        shots_bytes = folder_bytes(data_dir, DB) - after_write
        started, cpu_before = time.perf_counter(), standin_cpu_s()
        report = predictions_join_outcomes()
        join_s, join_cpu_s = time.perf_counter() - started, standin_cpu_s() - cpu_before
        after_join = folder_bytes(data_dir, DB) - shots_bytes
        sample = mongo.warehouse_collection(mongo.PREDICTIONS).find_one({"settled": True})
        figures = {
            "predictions": n,
            "bytes_per_prediction": round((after_join - before) / n, 1),
            "bytes_per_prediction_before_join": round((after_write - before) / n, 1),
            "bson_bytes_joined": len(bson.encode(sample)) if sample else None,
            "bson_bytes_before_issue_10": len(bson.encode(old_document(rng))),
            "joined_live": report.live,
            "write_per_s": round(n / write_s),
            "join_s": round(join_s, 2),
            "standin_cpu_us_per_write": round(write_cpu_s / n * 1e6, 1) if standin else None,
            "standin_cpu_us_per_join": round(join_cpu_s / n * 1e6, 1) if standin else None,
            "measured_on": "stand-in" if not args.mongodb_uri else "given MongoDB (file sizes not comparable)",
            "load_at_start": load_at_start, "load_at_end": machine_load(),
        }  # fmt: skip
        mongo.drop_all()
    for name, value in figures.items():
        print(f"{name:34} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
