"""The champion in memory: loaded once per process, swapped when the ``champion`` alias moves.

Each web process holds one ``ServedModel``. The first request (or the gunicorn worker's
warm-up) loads the version the alias points at; from then on a daemon thread asks MLflow
where the alias points every ``SERVING_ALIAS_POLL_SECONDS`` and, when it moved, loads the
new version *beside* the old one and swaps a single reference. A request reads that
reference once, so it finishes on the model it started with and never waits for a load.

An alias MLflow cannot answer for (store down, alias deleted) keeps the model in memory:
a blip in the registry must not take the API down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from parivision.errors import ApplicationError
from predictions import metrics
from training.registry import CHAMPION_ALIAS, get_registry
from training.services.recalibration import recalibration_attach

if TYPE_CHECKING:  # the ML stack loads with the first model, not with every process
    from training.ml.train import ShotModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServedModel:
    model: ShotModel
    name: str
    version: str
    algorithm: str
    loaded_at: float  # unix time


class NoModelError(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="no_model", status=503)


def single_threaded(model: ShotModel) -> ShotModel:
    """Predict on one thread: gunicorn's threads already use the cores, and XGBoost's own
    thread pool per request collapsed throughput (~1,600 -> ~36 req/s) in our measurements."""
    if model.kind == "xgboost":
        model.estimator.set_params(n_jobs=1)
        model.estimator.get_booster().set_param({"nthread": 1})
    elif hasattr(model.estimator, "n_jobs"):
        model.estimator.set_params(n_jobs=1)
    return model


class ChampionHolder:
    """One per process and registry configuration (see ``holder()``)."""

    def __init__(self, *, config: tuple[str, ...], poll_seconds: float) -> None:
        self.config = config
        self.poll_seconds = poll_seconds
        self._served: ServedModel | None = None
        self._load_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._last_attempt = 0.0
        self._last_error = ""

    # ----------------------------------------------------------------- hot path
    def current(self) -> ServedModel:
        served = self._served
        if served is not None:
            return served
        return self._first_load()

    @property
    def served(self) -> ServedModel | None:
        return self._served

    # ------------------------------------------------------------------ loading
    def _first_load(self) -> ServedModel:
        with self._load_lock:
            if self._served is not None:
                return self._served
            self._start_watcher()
            # Without a champion every request would ask MLflow again: ask once per poll interval.
            if time.monotonic() - self._last_attempt >= self.poll_seconds or not self._last_attempt:
                self._last_attempt = time.monotonic()
                self._refresh()
            if self._served is None:
                raise NoModelError(self._last_error or "No champion model is available yet: train and promote one.")
            return self._served

    def _refresh(self) -> None:
        """Load the alias's version if it differs from the one served (errors are kept, not raised)."""
        registry = get_registry()
        try:
            version = registry.alias_version(alias=CHAMPION_ALIAS)
        except Exception as error:  # MLflow unreachable: keep serving what we have
            self._last_error = f"The model registry is unavailable: {type(error).__name__}: {error}"[:300]
            logger.warning("champion alias lookup failed: %s", self._last_error)
            return
        current = self._served
        if version is None:
            if current is None:
                self._last_error = (
                    f"No champion model is available yet: {registry.model_name!r} has no "
                    f"{CHAMPION_ALIAS!r} alias (train and promote a model first)."
                )
            return
        if current is not None and current.version == version:
            recalibration_attach(current.model, version=version)
            return
        started = time.perf_counter()
        try:
            model = single_threaded(registry.model_load(version=version))
        except Exception as error:  # a broken artifact must not replace a working champion
            self._last_error = f"Loading model version {version} failed: {type(error).__name__}: {error}"[:300]
            logger.exception("loading champion version %s failed", version)
            return
        recalibration_attach(model, version=version)
        self._served = ServedModel(model=model, name=registry.model_name, version=version,
                                   algorithm=model.kind, loaded_at=time.time())
        self._last_error = ""
        metrics.model_loaded_set(True)
        logger.info("serving %s version %s (%s), loaded in %.2f s%s", registry.model_name, version, model.kind,
                    time.perf_counter() - started, f", replacing {current.version}" if current else "")

    def _start_watcher(self) -> None:
        if self._watcher is not None and self._watcher.is_alive():
            return
        self._watcher = threading.Thread(target=self._watch, name="champion-watcher", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            with self._load_lock:
                self._last_attempt = time.monotonic()
                self._refresh()

    def stop(self) -> None:
        self._stop.set()


_lock = threading.Lock()
_holder: ChampionHolder | None = None
_holder_pid: int | None = None


def _config() -> tuple[str, ...]:
    return (settings.MLFLOW_TRACKING_URI, settings.MLFLOW_MODEL_NAME, settings.MLFLOW_ARTIFACT_ROOT,
            str(settings.SERVING_ALIAS_POLL_SECONDS))


def holder() -> ChampionHolder:
    """This process's holder (a forked worker or new settings get a fresh one)."""
    global _holder, _holder_pid
    existing = _holder
    pid = os.getpid()
    if existing is not None and _holder_pid == pid and existing.config == _config():
        return existing
    with _lock:
        config = _config()
        if _holder is None or _holder_pid != pid or _holder.config != config:
            if _holder is not None and _holder_pid == pid:
                _holder.stop()
            _holder = ChampionHolder(config=config, poll_seconds=settings.SERVING_ALIAS_POLL_SECONDS)
            _holder_pid = pid
            metrics.model_loaded_set(False)
        return _holder


def champion() -> ServedModel:
    """The served champion; raises ``NoModelError`` (503) when there is none."""
    return holder().current()


def served_champion() -> ServedModel | None:
    """The model in memory now, without loading anything."""
    return holder().served


def reset() -> None:
    """Forget the model (tests; a settings change does it by itself)."""
    global _holder
    with _lock:
        if _holder is not None:
            _holder.stop()
        _holder = None
    metrics.model_loaded_set(False)


def warm_up_in_background() -> threading.Thread:
    """Load the champion without blocking (gunicorn's post_worker_init)."""

    def load() -> None:
        try:
            champion()
        except NoModelError as error:
            logger.warning("no champion to serve yet: %s", error.message)

    thread = threading.Thread(target=load, name="champion-warm-up", daemon=True)
    thread.start()
    return thread


def readiness_check() -> str:
    """/readyz: the champion is loaded (loading it now if needed)."""
    served = champion()
    return f"{served.name} v{served.version} ({served.algorithm}) loaded"


def describe() -> dict[str, Any]:
    served = served_champion()
    if served is None:
        return {"loaded": False}
    return {"loaded": True, "name": served.name, "version": served.version, "algorithm": served.algorithm,
            "loaded_at": served.loaded_at}
