"""Training metrics (the champion's and drift gauges are computed at scrape time by predictions)."""

from prometheus_client import Counter

PIPELINE_RUNS = Counter("parivision_pipeline_runs_total", "ML pipeline runs by final status.", ["status"])
