"""The model page's figures, computed once per version by Celery and stored (never in a request).

Calibration on the version's own holdout games (re-predicted from the warehouse) and its
feature importance. ``model_figures_enqueue`` runs after a promotion (and for any version on
demand); ``training.selectors.model_figures_of`` reads the stored result by key.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings

from parivision import figures
from training.ml.figures import calibration_bins
from training.models import ModelVersion
from training.registry import get_registry

if TYPE_CHECKING:
    from training.ml.train import ShotModel

logger = logging.getLogger(__name__)
IMPORTANCE_TOP = 15

_loaded: dict[tuple[str, int], ShotModel] = {}
_loaded_lock = threading.Lock()


def figure_key(version: int) -> str:
    return f"model:{version}"


def status_name(version: int) -> str:
    return f"model:{version}"


def model_load_for_figures(*, version: int) -> ShotModel:
    """A registered version for a figure task: loaded once per worker process and kept (the latest one)."""
    key = (settings.MLFLOW_TRACKING_URI, version)
    with _loaded_lock:
        model = _loaded.get(key)
        if model is None:
            model = get_registry().model_load(version=version)
            _loaded.clear()
            _loaded[key] = model
        return model


def model_figures_compute(*, version: int) -> dict[str, Any]:
    """Calibration on the version's holdout games and its top features; stored under ``model:<version>``."""
    from backtests import selectors as shots_selectors

    row = ModelVersion.objects.filter(version=version).first()
    model = model_load_for_figures(version=version)
    importance = list(model.feature_importance().items())[:IMPORTANCE_TOP]
    span = ((row.data if row is not None else None) or {}).get("holdout") or {}
    calibration: list[dict[str, float]] = []
    holdout_rows = 0
    if span.get("first_date") and span.get("last_date"):
        frame = shots_selectors.shots_between(date_from=dt.date.fromisoformat(span["first_date"]),
                                              date_to=dt.date.fromisoformat(span["last_date"]))
        if not frame.empty:
            proba = shots_selectors.shots_probabilities(model=model, frame=frame)
            calibration = calibration_bins(y_true=frame["made"].to_numpy(), proba=proba)
            holdout_rows = len(frame)
    value = {
        "version": version,
        "importance": [{"feature": name, "importance": round(share, 5)} for name, share in importance],
        "calibration": calibration, "holdout_rows": holdout_rows,
        "holdout_span": [span.get("first_date"), span.get("last_date")],
    }  # fmt: skip
    figures.figure_put(key=figure_key(version), value=value)
    return value


def model_figures_enqueue(*, version: int) -> None:
    """Queue the figures of ``version`` (marked "being computed" until the task stores them)."""
    from training.tasks import compute_model_figures

    figures.status_set(name=status_name(version), state=figures.QUEUED)
    compute_model_figures.delay(version=version)


def figures_after_promotion(*, version: int) -> None:
    """A new champion: its model figures, its drift story, and every figure it prices (never fails the promotion)."""
    if not settings.FIGURES_AUTO_REFRESH:
        return
    from analytics.services import figures_refresh_after_promotion
    from training.services.drift import drift_story_enqueue

    try:
        model_figures_enqueue(version=version)
    except Exception:
        logger.exception("could not queue the model figures of v%s", version)
    try:
        drift_story_enqueue()  # the story is told against the new champion's window
    except Exception:
        logger.exception("could not queue the drift story for v%s", version)
    figures_refresh_after_promotion()
