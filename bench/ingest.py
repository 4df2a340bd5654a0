"""Benchmark: a full real season file → lake → warehouse, against the raw speed of the target.

    .venv/bin/python bench/ingest.py ../shared/data/nba_shots/NBA_2024_Shots.csv.zip

Starts a private nx-27017 (the local MongoDB stand-in) in a temporary folder unless
``--mongodb-uri`` names a server. Two phases on fresh databases:

1. the pipeline: ``shots_import_file`` (read, map, validate, lake, warehouse, quarantine);
2. the target alone: plain ``insert_many`` of the same raw and canonical documents into
   scratch collections with the same indexes (documents built outside the timed part).

Prints the figures, then one line of JSON. Targets (issue #2): ratio ≥ 0.60, wall ≤ 120 s
on the stand-in, peak RSS ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="A season file (CSV or zip) of either format")
    parser.add_argument("--mongodb-uri", default=None, help="Use this MongoDB instead of a private stand-in")
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args()

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pv-bench-")))
        if args.mongodb_uri:
            uri = args.mongodb_uri
        else:
            from tests.services import mongodb_standin

            uri = stack.enter_context(mongodb_standin(work))
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "parivision.settings.local",
                "MONGODB_URI": uri,
                "MONGODB_LAKE_DB": "pv_bench_lake",
                "MONGODB_WAREHOUSE_DB": "pv_bench_warehouse",
                "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
                "PARIVISION_VAR_DIR": str(work),
                "LOG_LEVEL": "WARNING",
            }
        )
        import django

        django.setup()
        from django.core.management import call_command

        from parivision import mongo

        call_command("migrate", verbosity=0)
        mongo.drop_all()
        figures = run(args.path, batch_size=args.batch_size)
        mongo.drop_all()
    print(json.dumps(figures))


def run(path: str, *, batch_size: int) -> dict[str, float]:
    from ingestion.services import shots_import_file

    started = time.perf_counter()
    _run, report = shots_import_file(location=path, batch_size=batch_size)
    wall = time.perf_counter() - started
    pipeline_rss = peak_rss_mb()
    shots_per_s = report.read / wall
    print(f"pipeline: {report.read} rows ({report.inserted} inserted, {report.duplicates} duplicates, "
          f"{report.rejected} rejected) in {wall:.1f} s = {shots_per_s:,.0f} shots/s, peak RSS {pipeline_rss:.0f} MB")  # fmt: skip

    # Same starting point for the target alone: empty databases on the same server.
    from parivision import mongo

    mongo.drop_all()
    raw_s, documents = raw_insert_seconds(path, batch_size=batch_size)
    raw_per_s = documents / raw_s
    print(f"target alone: insert_many of the same {documents} raw + canonical documents in {raw_s:.1f} s "
          f"= {raw_per_s:,.0f} shots/s")  # fmt: skip
    ratio = shots_per_s / raw_per_s
    print(f"ratio pipeline / raw insert: {ratio:.2f}")
    return {
        "rows": report.read,
        "shots_per_s": round(shots_per_s, 1),
        "raw_insert_per_s": round(raw_per_s, 1),
        "ratio": round(ratio, 3),
        "wall_s": round(wall, 2),
        "raw_insert_s": round(raw_s, 2),
        "peak_rss_mb": round(pipeline_rss, 1),
    }


def raw_insert_seconds(path: str, *, batch_size: int) -> tuple[float, int]:
    """Time plain unordered inserts of the pipeline's documents into scratch collections."""
    from ingestion import lake
    from ingestion.readers import iter_mapped
    from parivision import mongo

    # The scratch collections get the same indexes as the real ones: the comparison is
    # between the ETL's own work and the cost of the writes, indexes included.
    scratch_raw = mongo.lake_collection("scratch_raw")
    scratch_shots = mongo.warehouse_collection("scratch_shots")
    for index in mongo.SHOT_INDEXES:
        scratch_shots.create_index(list(index["keys"]), unique=index.get("unique", False))
    for index in mongo.RAW_INDEXES:
        scratch_raw.create_index(list(index["keys"]), unique=index.get("unique", False))
    records = iter_mapped(path)
    elapsed = 0.0
    documents = 0
    while chunk := list(islice(records, batch_size)):
        batch_id = lake.new_batch_id()
        received_at = lake.utcnow()
        raw_docs = [
            lake.raw_document(r.raw, source="bench", file_format=r.file_format, run_id=None, batch_id=batch_id,
                              received_at=received_at, repeat=r.repeat)
            for r in chunk
        ]  # fmt: skip
        shot_docs = [r.shot.to_document() for r in chunk if r.shot is not None]
        started = time.perf_counter()
        scratch_raw.insert_many(raw_docs, ordered=False)
        if shot_docs:
            scratch_shots.insert_many(shot_docs, ordered=False)
        elapsed += time.perf_counter() - started
        documents += len(chunk)
    return elapsed, documents


if __name__ == "__main__":
    main()
