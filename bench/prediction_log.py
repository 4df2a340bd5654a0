"""Benchmark: stored bytes per logged prediction on the MongoDB stand-in (target ≤ 500 bytes).

    .venv/bin/python bench/prediction_log.py [--predictions 100000] [--bundles 1,1000]

Starts a private nx-27017 in a temporary folder (unless ``--mongodb-uri``), creates the log's
indexes, then, for each bundle size (``--bundles``: predictions per request, 1 for the stream and
single requests, 1,000 for a full batch), writes ``--predictions`` predictions through the log's
own path (``predictions.log.log_bundle`` → the buffered writer), every one of an identified shot
(the heavier case: key and join fields), and joins them all to outcomes with
``predictions_join_outcomes``. Bytes per prediction is the growth of the warehouse database's
files (SQLite file and its WAL) divided by the count, measured after the writes and again after
the join; the BSON size of a joined document is printed beside it, and the size of the document
the log wrote per prediction before issue #10 (features, context, caller, latency...), for scale.
On the stand-in it also reports the stand-in's own CPU time per prediction written and per
prediction joined (``standin_cpu_us_per_write``, ``standin_cpu_us_per_join``): what a logged
prediction costs the server beside the web workers, the ceiling of the rate the log sustains
(``standin_predictions_per_cpu_s``). The headline figures are the worst bundle size's.
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
    parser.add_argument("--bundles", default="1,1000", help="predictions per request (one log document each)")
    args = parser.parse_args()
    try:
        args.bundles = [int(size) for size in args.bundles.split(",")]
    except ValueError:
        parser.error(f"--bundles: comma-separated whole numbers, not {args.bundles!r}")
    if not args.bundles or min(args.bundles) < 1:
        parser.error(f"--bundles: sizes of at least 1, not {args.bundles}")
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
        from django.conf import settings

        from bench.common import machine_load, processes_cpu_s
        from parivision import mongo
        from predictions.log import log_bundle, prediction_log, prediction_log_append
        from predictions.services import predictions_join_outcomes

        standin = [] if args.mongodb_uri else [int((work / "nx.pid").read_text().strip())]

        def standin_cpu_s() -> float:
            return sum(processes_cpu_s(standin))

        def measure(bundle: int) -> dict:
            """Write, then join, ``n`` predictions in bundles of ``bundle``; file growth and CPU."""
            database = settings.MONGODB_WAREHOUSE_DB = f"{DB}_{bundle}"  # its own files: no reused pages
            mongo.drop_all()
            mongo.ensure_indexes()
            before = folder_bytes(data_dir, database)
            rng = random.Random(7)
            keys = [f"00223{rng.randrange(10**5):05d}:{i}" for i in range(n)]
            started, cpu_before = time.perf_counter(), standin_cpu_s()
            for start in range(0, n, 5_000):
                part = keys[start:start + 5_000]
                prediction_log_append([log_bundle(version="7", probabilities=[rng.random() for _ in chunk],
                                                  keys=chunk)
                                       for chunk in (part[i:i + bundle] for i in range(0, len(part), bundle))],
                                      flush=True)  # fmt: skip
            prediction_log.flush()
            write_s, write_cpu_s = time.perf_counter() - started, standin_cpu_s() - cpu_before
            after_write = folder_bytes(data_dir, database)
            shots = mongo.warehouse_collection(mongo.SHOTS)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
            for start in range(0, n, 5_000):
                shots.insert_many([{"_id": key, "made": rng.random() < 0.46, "ingested_at": now}
                                   for key in keys[start:start + 5_000]])
            shots_bytes = folder_bytes(data_dir, database) - after_write
            started, cpu_before = time.perf_counter(), standin_cpu_s()
            report = predictions_join_outcomes()
            join_s, join_cpu_s = time.perf_counter() - started, standin_cpu_s() - cpu_before
            after_join = folder_bytes(data_dir, database) - shots_bytes
            sample = mongo.warehouse_collection(mongo.PREDICTIONS).find_one({"settled": True})
            cpu_per_prediction = (write_cpu_s + join_cpu_s) / n
            return {
                "bundle": bundle, "documents": mongo.warehouse_collection(mongo.PREDICTIONS).count_documents({}),
                "bytes_per_prediction": round((after_join - before) / n, 1),
                "bytes_per_prediction_before_join": round((after_write - before) / n, 1),
                "bson_bytes_per_prediction_joined": round(len(bson.encode(sample)) / bundle, 1) if sample else None,
                "joined_live": report.live, "write_per_s": round(n / write_s), "join_s": round(join_s, 2),
                "standin_cpu_us_per_write": round(write_cpu_s / n * 1e6, 2) if standin else None,
                "standin_cpu_us_per_join": round(join_cpu_s / n * 1e6, 2) if standin else None,
                "standin_predictions_per_cpu_s": round(1 / cpu_per_prediction) if standin and cpu_per_prediction else None,
            }  # fmt: skip

        load_at_start = machine_load()
        data_dir = work / "data"
        n = args.predictions
        shapes = {str(bundle): measure(bundle) for bundle in args.bundles}
        worst = max(shapes.values(), key=lambda shape: shape["bytes_per_prediction"])
        slowest = max(shapes.values(), key=lambda shape: (shape["standin_cpu_us_per_write"] or 0))
        figures = {
            "predictions": n,
            "bytes_per_prediction": worst["bytes_per_prediction"],
            "bytes_per_prediction_bundle": worst["bundle"],
            "bson_bytes_before_issue_10": len(bson.encode(old_document(random.Random(7)))),
            "standin_cpu_us_per_write": slowest["standin_cpu_us_per_write"],
            "standin_cpu_us_per_join": slowest["standin_cpu_us_per_join"],
            "by_bundle": shapes,
            "measured_on": "stand-in" if not args.mongodb_uri else "given MongoDB (file sizes not comparable)",
            "load_at_start": load_at_start, "load_at_end": machine_load(),
        }  # fmt: skip
        for bundle in args.bundles:
            settings.MONGODB_WAREHOUSE_DB = f"{DB}_{bundle}"
            mongo.drop_all()
    for name, value in figures.items():
        print(f"{name:34} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
