"""Prometheus exposition for the web (/metrics) and the Celery worker (its own HTTP endpoint).

Under gunicorn every worker is a process of its own: ``parivision/gunicorn.conf.py`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder, each process writes its samples there, and
the /metrics view aggregates the folder whichever worker answers the scrape. The Celery
worker does the same with a folder of its own (its prefork children record the task
metrics; the parent serves them).

Gauges that describe shared state (the champion, its holdout scores, live quality, drift)
are not recorded by any process: ``ScrapeTimeCollector`` reads them from the database and
MongoDB when Prometheus scrapes, so every worker reports the same values.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

HOLDOUT_METRICS = ("accuracy", "roc_auc", "log_loss", "brier", "ece")

CELERY_TASKS = Counter(
    "parivision_celery_tasks_total", "Celery tasks by name and state (succeeded, failed, retried).", ["task", "state"]
)
CELERY_TASK_DURATION = Histogram(
    "parivision_celery_task_duration_seconds", "Run time of Celery tasks, by name.", ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)  # fmt: skip


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


# --- gauges computed at scrape time ---------------------------------------------------------------


class ScrapeTimeCollector(Collector):
    """Champion, holdout, live-quality and drift gauges, read when scraped (cached briefly)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: list[Metric] = []
        self._cached_at = 0.0

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            ttl = settings.METRICS_SCRAPE_CACHE_SECONDS
            if not self._cached_at or time.monotonic() - self._cached_at >= ttl:
                self._cached = list(self._compute())
                self._cached_at = time.monotonic()
            return iter(list(self._cached))

    def describe(self) -> Iterator[Metric]:
        return iter(())  # computed families: nothing to check at registration

    def _compute(self) -> Iterator[Metric]:
        # Each source fails on its own: a MongoDB outage must not hide the champion's gauges.
        for part in (self._champion, self._live, self._drift, self._shadow):
            try:
                yield from part()
            except Exception as error:  # reported in the log and by /readyz; the scrape goes on
                logger.warning("metrics: %s unavailable: %s: %s", part.__name__.strip("_"), type(error).__name__, error)

    def _champion(self) -> Iterator[Metric]:
        from predictions.selectors import champion_version_row

        info = GaugeMetricFamily("parivision_champion_info", "The current champion (value 1).",
                                 labels=["version", "algorithm", "promoted_at"])
        scores = GaugeMetricFamily("parivision_champion_holdout_score", "The champion's holdout scores.",
                                   labels=["metric"])
        champion = champion_version_row()
        if champion is not None:
            promoted = champion.promoted_at.isoformat() if champion.promoted_at else ""
            info.add_metric([str(champion.version), champion.algorithm, promoted], 1.0)
            for name in HOLDOUT_METRICS:
                value = (champion.holdout_scores or {}).get(name)
                if isinstance(value, (int, float)):
                    scores.add_metric([name], float(value))
        yield info
        yield scores

    def _live(self) -> Iterator[Metric]:
        """The live scores analytics.refresh_live_status stored (a scrape never scans the prediction log)."""
        from analytics.status import NOT_COMPUTED, live_status, live_status_freshness

        families = {
            "accuracy": GaugeMetricFamily("parivision_live_accuracy",
                                          "Accuracy over the last N predictions joined to outcomes.",
                                          labels=["model_version"]),
            "log_loss": GaugeMetricFamily("parivision_live_log_loss",
                                          "Log loss over the last N predictions joined to outcomes.",
                                          labels=["model_version"]),
            "brier": GaugeMetricFamily("parivision_live_brier",
                                       "Brier score over the last N predictions joined to outcomes.",
                                       labels=["model_version"]),
            "settled": GaugeMetricFamily("parivision_live_settled_predictions",
                                         "How many settled predictions the live scores use.",
                                         labels=["model_version"]),
        }  # fmt: skip
        computed = GaugeMetricFamily("parivision_live_status_computed",
                                     "1 once analytics.refresh_live_status has stored the live scores, else 0.")
        age = GaugeMetricFamily("parivision_live_status_age_seconds",
                                "Age of the stored live scores (absent until they are computed).")
        stored = live_status()
        freshness = live_status_freshness(stored)
        computed.add_metric([], 0.0 if freshness["state"] == NOT_COMPUTED else 1.0)
        if freshness["age_seconds"] is not None:
            age.add_metric([], float(freshness["age_seconds"]))
        for version, scores in ((stored or {}).get("live") or {}).items():
            for name, family in families.items():
                family.add_metric([version], float(scores[name]))
        yield from families.values()
        yield computed
        yield age

    def _drift(self) -> Iterator[Metric]:
        from predictions.selectors import latest_drift_report

        share = GaugeMetricFamily("parivision_drift_share", "Share of drifted inputs in the last drift report.")
        flag = GaugeMetricFamily("parivision_dataset_drift", "1 when the last drift report flags dataset drift.")
        report = latest_drift_report()
        if report is not None:
            share.add_metric([], float(report.share_drifted))
            flag.add_metric([], 1.0 if report.dataset_drift else 0.0)
        yield share
        yield flag

    def _shadow(self) -> Iterator[Metric]:
        """Champion vs the active shadow on the same settled shots (stored by predictions.shadow_review)."""
        from predictions.models import ShadowDeployment

        scores = GaugeMetricFamily(
            "parivision_shadow_live_score",
            "Champion and shadow live log loss, Brier and ECE on the same settled shots, with the interval bounds.",
            labels=["role", "version", "metric", "bound"])
        pairs = GaugeMetricFamily("parivision_shadow_pairs", "Settled shots both the champion and the shadow scored.",
                                  labels=["version"])
        gain = GaugeMetricFamily("parivision_shadow_significant_gain",
                                 "1 when the shadow's live gain over the champion is significant.", labels=["version"])
        row = ShadowDeployment.objects.filter(status=ShadowDeployment.Status.ACTIVE).first()
        if row is not None:
            comparison = row.comparison or {}
            pairs.add_metric([str(row.version)], float(comparison.get("pairs", 0)))
            gain.add_metric([str(row.version)], 1.0 if row.significant_gain else 0.0)
            versions = {"champion": str(row.champion_version or ""), "shadow": str(row.version)}
            for role, version in versions.items():
                for metric, interval in (comparison.get(role) or {}).items():
                    for bound in ("value", "low", "high"):
                        scores.add_metric([role, version, metric, bound], float(interval[bound]))
        yield scores
        yield pairs
        yield gain


_scrape_collector: ScrapeTimeCollector | None = None
_registry_lock = threading.Lock()


def scrape_collector() -> ScrapeTimeCollector:
    global _scrape_collector
    with _registry_lock:
        if _scrape_collector is None:
            _scrape_collector = ScrapeTimeCollector()
        return _scrape_collector


def web_registry() -> CollectorRegistry:
    """Everything /metrics shows: all workers' samples (or this process's) plus the scrape-time gauges."""
    collector = scrape_collector()
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        ProcessCollector(registry=registry)  # the answering worker's own process_* figures
        registry.register(collector)
        return registry
    with _registry_lock:
        if collector not in REGISTRY._collector_to_names:  # registered once per process
            REGISTRY.register(collector)
    return REGISTRY


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Operators only: a bearer METRICS_TOKEN or an address in METRICS_ALLOWED_NETWORKS (parivision/health.py)."""
    from parivision.health import operator_allowed

    if not operator_allowed(request):
        response = HttpResponse("Metrics need a bearer token (METRICS_TOKEN) or an allowed address.\n", status=401,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(web_registry()), content_type=CONTENT_TYPE_LATEST)


# --- the Celery worker ----------------------------------------------------------------------------

_task_started: dict[str, float] = {}


def _task_name(task: Any) -> str:
    return str(getattr(task, "name", None) or task)


def _on_task_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _task_started[task_id] = time.perf_counter()


def _on_task_postrun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    started = _task_started.pop(task_id, None) if task_id else None
    if started is not None:
        CELERY_TASK_DURATION.labels(_task_name(task)).observe(time.perf_counter() - started)


def _on_task_success(sender: Any = None, **_: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "succeeded").inc()


def _on_task_failure(sender: Any = None, **_: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "failed").inc()


def _on_task_retry(sender: Any = None, **_: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "retried").inc()


def _on_worker_ready(**_: Any) -> None:
    celery_metrics_server_start()


def _on_worker_process_shutdown(pid: int | None = None, **_: Any) -> None:
    if multiprocess_dir():
        mark_process_dead(pid or os.getpid())


_connected = False


def celery_signals_connect() -> None:
    """Record task metrics in whichever process runs tasks; serve them from the worker's parent."""
    global _connected
    if _connected:
        return
    from celery import signals

    signals.task_prerun.connect(_on_task_prerun, weak=False)
    signals.task_postrun.connect(_on_task_postrun, weak=False)
    signals.task_success.connect(_on_task_success, weak=False)
    signals.task_failure.connect(_on_task_failure, weak=False)
    signals.task_retry.connect(_on_task_retry, weak=False)
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_process_shutdown.connect(_on_worker_process_shutdown, weak=False)
    _connected = True


def celery_metrics_server_start() -> Any:
    """The worker's /metrics on CELERY_METRICS_ADDR:CELERY_METRICS_PORT (0: off)."""
    from prometheus_client import start_http_server

    port = settings.CELERY_METRICS_PORT
    if not port:
        return None
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        # Without a shared folder the prefork children's samples never reach this process.
        logger.warning("PROMETHEUS_MULTIPROC_DIR is not set: the worker's /metrics shows only its main process")
        registry = REGISTRY
    try:
        server = start_http_server(port, addr=settings.CELERY_METRICS_ADDR, registry=registry)
    except OSError as error:
        logger.error("worker metrics endpoint not started on %s:%s: %s", settings.CELERY_METRICS_ADDR, port, error)
        return None
    logger.info("worker metrics on http://%s:%s/metrics", settings.CELERY_METRICS_ADDR, port)
    return server
