"""Scores, the zone x action lookup baseline, and the figures logged with each run.

Figures are built on matplotlib's object API with the Agg canvas, so nothing here
touches pyplot's global state or needs a display (Celery workers have none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import brier_score_loss, confusion_matrix, log_loss, roc_auc_score

from training.ml.features import LABEL_COLUMN

ECE_BINS = 10


@dataclass(frozen=True)
class ClassificationScores:
    rows: int
    positive_rate: float
    mean_probability: float
    accuracy: float
    roc_auc: float
    log_loss: float
    brier: float
    ece: float
    confusion: list[list[int]] = field(default_factory=list)  # [[tn, fp], [fn, tp]]

    def as_metrics(self, *, prefix: str = "") -> dict[str, float]:
        """Flat numeric metrics (no confusion matrix), e.g. for MLflow."""
        values = asdict(self)
        values.pop("confusion")
        return {f"{prefix}{name}": float(value) for name, value in values.items()}


def expected_calibration_error(*, y_true: Any, proba: Any, bins: int = ECE_BINS) -> float:
    """Weighted mean |observed rate - mean probability| over equal-width probability bins.

    Bin i holds p in [i/bins, (i+1)/bins); p == 1 goes in the last bin. Empty bins weigh nothing.
    """
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    if len(y) == 0:
        return float("nan")
    index = np.clip((p * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    filled = counts > 0
    gaps = np.abs(observed[filled] - predicted[filled])  # sums, so |n*(rate - mean p)| per bin
    return float(gaps.sum() / len(y))


def scores_compute(*, y_true: Any, proba: Any, threshold: float = 0.5) -> ClassificationScores:
    y = np.asarray(y_true).astype(np.int64)
    p = np.asarray(proba, dtype=np.float64)
    predicted = (p >= threshold).astype(np.int64)
    both_classes = len(np.unique(y)) == 2
    return ClassificationScores(
        rows=len(y),
        positive_rate=float(y.mean()) if len(y) else float("nan"),
        mean_probability=float(p.mean()) if len(p) else float("nan"),
        accuracy=float((predicted == y).mean()) if len(y) else float("nan"),
        # AUC is undefined with a single class; NaN says so rather than a misleading 0.5.
        roc_auc=float(roc_auc_score(y, p)) if both_classes else float("nan"),
        log_loss=float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])) if len(y) else float("nan"),
        brier=float(brier_score_loss(y, p, pos_label=1)) if len(y) else float("nan"),
        ece=expected_calibration_error(y_true=y, proba=p),
        confusion=confusion_matrix(y, predicted, labels=[0, 1]).tolist(),
    )


@dataclass
class LookupBaseline:
    """Make rate per (zone_basic, action_type), shrunk to the zone's rate, then the league's."""

    smoothing: float = 20.0
    league_rate: float = 0.5
    zone_rates: dict[str, float] = field(default_factory=dict)
    cell_rates: dict[tuple[str, str], float] = field(default_factory=dict)

    def fit(self, frame: pd.DataFrame) -> LookupBaseline:
        made = frame[LABEL_COLUMN].astype(np.float64)
        self.league_rate = float(made.mean())
        k = self.smoothing
        zones = made.groupby(frame["zone_basic"]).agg(["sum", "count"])
        self.zone_rates = {
            str(z): float((r["sum"] + k * self.league_rate) / (r["count"] + k)) for z, r in zones.iterrows()
        }
        cells = made.groupby([frame["zone_basic"], frame["action_type"]]).agg(["sum", "count"])
        self.cell_rates = {}
        for (zone, action), r in cells.iterrows():
            prior = self.zone_rates.get(str(zone), self.league_rate)
            self.cell_rates[(str(zone), str(action))] = float((r["sum"] + k * prior) / (r["count"] + k))
        return self

    def predict_proba_frame(self, frame: pd.DataFrame) -> np.ndarray:
        zones = frame["zone_basic"].to_numpy()
        actions = frame["action_type"].to_numpy()
        return np.fromiter(
            (
                self.cell_rates.get((z, a), self.zone_rates.get(z, self.league_rate))
                for z, a in zip(zones, actions, strict=True)
            ),
            dtype=np.float64,
            count=len(frame),
        )


# ---------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def calibration_figure(*, y_true: Any, probabilities: Mapping[str, Any], bins: int = ECE_BINS) -> Figure:
    """Reliability diagram: observed make rate against mean predicted probability per bin."""
    figure = _figure(6, 6)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    y = np.asarray(y_true, dtype=np.float64)
    for name, proba in probabilities.items():
        p = np.asarray(proba, dtype=np.float64)
        index = np.clip((p * bins).astype(np.int64), 0, bins - 1)
        counts = np.bincount(index, minlength=bins)
        filled = counts > 0
        mean_p = np.bincount(index, weights=p, minlength=bins)[filled] / counts[filled]
        rate = np.bincount(index, weights=y, minlength=bins)[filled] / counts[filled]
        ece = expected_calibration_error(y_true=y, proba=p, bins=bins)
        axes.plot(mean_p, rate, marker="o", label=f"{name} (ECE {ece:.3f})")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("predicted make probability")
    axes.set_ylabel("observed make rate")
    axes.set_title("Calibration")
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


def confusion_figure(*, confusion: Any, title: str = "Confusion matrix (threshold 0.5)") -> Figure:
    matrix = np.asarray(confusion)
    figure = _figure(4.5, 4)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    labels = ["missed", "made"]
    axes.set_xticks([0, 1], labels=labels)
    axes.set_yticks([0, 1], labels=labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(col, row, f"{value:,}", ha="center", va="center",
                  color="white" if value > threshold else "black")
    axes.set_title(title)
    figure.tight_layout()
    return figure


def importance_figure(*, importance: Mapping[str, float], top: int = 20, title: str = "Feature importance") -> Figure:
    items = sorted(importance.items(), key=lambda kv: -kv[1])[:top][::-1]
    figure = _figure(7, max(3, 0.3 * len(items) + 1))
    axes = figure.add_subplot(1, 1, 1)
    axes.barh([name for name, _ in items], [value for _, value in items])
    axes.set_xlabel("share of importance")
    axes.set_title(title)
    figure.tight_layout()
    return figure
