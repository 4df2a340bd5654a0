"""Ingestion metrics, recorded where the work happens (see services.ingestion_run)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

if TYPE_CHECKING:
    from ingestion.services import IngestReport

RECORDS = Counter(
    "parivision_ingestion_records_total",
    "Records seen by ingestion, by source kind and outcome (read, inserted, duplicate, rejected).",
    ["kind", "outcome"],
)
RUNS = Counter("parivision_ingestion_runs_total", "Ingestion runs by source kind and status.", ["kind", "status"])
LAST_SUCCESS = Gauge(
    "parivision_ingestion_last_success_timestamp_seconds",
    "Unix time of the last successful ingestion run, by source kind.",
    ["kind"],
    multiprocess_mode="max",
)


def record_run(*, kind: str, report: IngestReport, succeeded: bool) -> None:
    RECORDS.labels(kind, "read").inc(report.read)
    RECORDS.labels(kind, "inserted").inc(report.inserted)
    RECORDS.labels(kind, "duplicate").inc(report.duplicates)
    RECORDS.labels(kind, "rejected").inc(report.rejected)
    RUNS.labels(kind, "succeeded" if succeeded else "failed").inc()
    if succeeded:
        LAST_SUCCESS.labels(kind).set(time.time())
