"""Serving metrics, recorded where the work happens (names: docs/metrics.md).

The champion, holdout, live-quality and drift gauges are not here: they are read from the
database and MongoDB when Prometheus scrapes (``parivision.metrics.ScrapeTimeCollector``),
so every worker reports the same values.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

SINGLE = "single"
BATCH = "batch"

# Single shots answer in about a millisecond; batches of 1,000 in tens of milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

PREDICTION_LATENCY = Histogram(
    "parivision_prediction_latency_seconds",
    "Time to answer a prediction request, by endpoint (single, batch) and model version.",
    ["endpoint", "model_version"],
    buckets=LATENCY_BUCKETS,
)
PREDICTIONS = Counter(
    "parivision_predictions_total", "Shots predicted, by endpoint and model version.", ["endpoint", "model_version"]
)
PREDICTION_ERRORS = Counter(
    "parivision_prediction_errors_total",
    "Refused prediction requests, by endpoint and reason (validation, no_model).",
    ["endpoint", "reason"],
)
# One value per process; across gunicorn workers the minimum of the live ones: 0 as soon as one
# worker serves without a champion.
MODEL_LOADED = Gauge(
    "parivision_model_loaded", "1 when this process holds a champion model.", multiprocess_mode="livemin"
)


@dataclass
class PredictionTimer:
    endpoint: str
    started: float
    model_version: str | None = None
    shots: int = 0


@contextlib.contextmanager
def prediction_timed(*, endpoint: str, started: float | None = None) -> Iterator[PredictionTimer]:
    """Time a prediction request; the caller fills in the model version and the shot count.

    Requests refused before a model answered (validation, no champion) are counted as
    errors by ``prediction_refused``, not timed.
    """
    timer = PredictionTimer(endpoint=endpoint, started=started if started is not None else time.perf_counter())
    yield timer
    if timer.model_version is not None:
        PREDICTION_LATENCY.labels(endpoint, timer.model_version).observe(time.perf_counter() - timer.started)
        PREDICTIONS.labels(endpoint, timer.model_version).inc(timer.shots)


def prediction_refused(*, endpoint: str, reason: str) -> None:
    PREDICTION_ERRORS.labels(endpoint, reason).inc()


RESIDENT_SHOOTERS = Gauge(
    "parivision_serving_resident_shooters",
    "Shooter histories a web process holds resident (loaded at start, kept current); the least of the live "
    "processes.", multiprocess_mode="livemin",
)


RESIDENT_GAMES = Gauge(
    "parivision_serving_resident_games",
    "Games whose shot contexts a web process holds resident (loaded at start, kept current); the least of the "
    "live processes.", multiprocess_mode="livemin",
)


def model_loaded_set(loaded: bool) -> None:
    MODEL_LOADED.set(1 if loaded else 0)


def resident_shooters_set(count: int) -> None:
    RESIDENT_SHOOTERS.set(count)


def resident_games_set(count: int) -> None:
    RESIDENT_GAMES.set(count)
