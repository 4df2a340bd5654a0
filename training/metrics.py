"""Training metrics (the champion's and drift gauges are computed at scrape time by predictions)."""

from prometheus_client import Counter

PIPELINE_RUNS = Counter("parivision_pipeline_runs_total", "ML pipeline runs by final status.", ["status"])
# Every final status exists at 0 from the start: the alert on increase(...{status="failed"}) then
# sees a process's first failure (a series born at 1 has no earlier sample to increase from).
for _status in ("succeeded", "skipped", "failed"):
    PIPELINE_RUNS.labels(_status)
