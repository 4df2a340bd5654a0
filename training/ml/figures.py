"""Plain numbers behind the model page's figures (no Django): the reliability table."""

from __future__ import annotations

from typing import Any

import numpy as np

CALIBRATION_BINS = 10


def calibration_bins(*, y_true: Any, proba: Any, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Per equal-width probability bin that holds shots: mean predicted probability, observed rate, count."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    index = np.clip((p * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    return [
        {"predicted": round(float(predicted[b] / counts[b]), 4), "observed": round(float(observed[b] / counts[b]), 4),
         "count": int(counts[b])}
        for b in range(bins) if counts[b]
    ]  # fmt: skip
