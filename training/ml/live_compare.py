"""Champion against shadow on the same settled shots: scores with intervals, and the verdict.

Plain Python and NumPy (no Django, no MLflow). Both models predicted the same live requests;
each pair is (outcome, champion's p, shadow's p). Log loss, Brier score and ECE (10 bins) of
each model come with a percentile interval from a paired bootstrap (the same resampled shots
for both models, so the interval of the *difference* is not inflated by the shots' own
spread). The verdict is the pure rule the promotion gate applies: a shadow has a significant
live gain when, on at least ``min_pairs`` shots, the whole interval of ``shadow - champion``
on the chosen loss lies below 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from training.ml.evaluate import ECE_BINS, expected_calibration_error

METRICS = ("log_loss", "brier", "ece")
GATE_METRICS = ("log_loss", "brier")  # lower is better for both
EPS = 1e-15


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class LiveComparison:
    pairs: int
    confidence: float
    champion: dict[str, Interval]
    shadow: dict[str, Interval]
    difference: dict[str, Interval]  # shadow - champion: below 0 means the shadow is better

    def as_dict(self) -> dict[str, Any]:
        return {"pairs": self.pairs, "confidence": self.confidence,
                **{side: {m: asdict(i) for m, i in getattr(self, side).items()}
                   for side in ("champion", "shadow", "difference")}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LiveComparison:
        sides = {side: {m: Interval(**i) for m, i in data[side].items()} for side in ("champion", "shadow", "difference")}
        return cls(pairs=int(data["pairs"]), confidence=float(data["confidence"]), **sides)


def _losses(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(q) + (1 - y) * np.log(1 - q)), (p - y) ** 2


def _ece_rows(y: np.ndarray, p: np.ndarray, rows: np.ndarray, bins: int) -> np.ndarray:
    """ECE of each bootstrap sample (a row of shot indices), without a Python loop over shots."""
    samples, n = rows.shape
    index = np.clip((p * bins).astype(np.int64), 0, bins - 1)[rows]  # (samples, n)
    flat = index + bins * np.arange(samples)[:, None]
    observed = np.bincount(flat.ravel(), weights=y[rows].ravel(), minlength=samples * bins)
    predicted = np.bincount(flat.ravel(), weights=p[rows].ravel(), minlength=samples * bins)
    gaps = np.abs(observed - predicted).reshape(samples, bins)
    return gaps.sum(axis=1) / n


def live_compare(*, made: Any, champion: Any, shadow: Any, confidence: float = 0.95, resamples: int = 1000,
                 seed: int = 14, bins: int = ECE_BINS) -> LiveComparison:
    """Scores of both models on the same shots, each with a paired-bootstrap interval."""
    y = np.asarray(made, dtype=np.float64)
    pc = np.asarray(champion, dtype=np.float64)
    ps = np.asarray(shadow, dtype=np.float64)
    if not len(y) == len(pc) == len(ps):
        raise ValueError("made, champion and shadow must have the same length")
    if len(y) < 2:
        raise ValueError("comparing two models needs at least two settled shots")
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    n = len(y)
    rows = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    lc, bc = _losses(y, pc)
    ls, bs = _losses(y, ps)
    point = {
        "champion": {"log_loss": lc.mean(), "brier": bc.mean(),
                     "ece": expected_calibration_error(y_true=y, proba=pc, bins=bins)},
        "shadow": {"log_loss": ls.mean(), "brier": bs.mean(),
                   "ece": expected_calibration_error(y_true=y, proba=ps, bins=bins)},
    }  # fmt: skip
    boot = {
        "champion": {"log_loss": lc[rows].mean(axis=1), "brier": bc[rows].mean(axis=1),
                     "ece": _ece_rows(y, pc, rows, bins)},
        "shadow": {"log_loss": ls[rows].mean(axis=1), "brier": bs[rows].mean(axis=1),
                   "ece": _ece_rows(y, ps, rows, bins)},
    }  # fmt: skip
    tail = (1 - confidence) / 2 * 100

    def interval(value: float, samples: np.ndarray) -> Interval:
        low, high = np.percentile(samples, [tail, 100 - tail])
        return Interval(value=round(float(value), 6), low=round(float(low), 6), high=round(float(high), 6))

    sides = {side: {m: interval(point[side][m], boot[side][m]) for m in METRICS} for side in ("champion", "shadow")}
    difference = {m: interval(point["shadow"][m] - point["champion"][m], boot["shadow"][m] - boot["champion"][m])
                  for m in METRICS}
    return LiveComparison(pairs=n, confidence=confidence, champion=sides["champion"], shadow=sides["shadow"],
                          difference=difference)


@dataclass(frozen=True)
class ShadowVerdict:
    significant_gain: bool
    reason: str


def shadow_verdict(*, comparison: LiveComparison | None, metric: str, min_pairs: int) -> ShadowVerdict:
    """A significant live gain: enough pairs, and the whole interval of shadow - champion below 0."""
    if metric not in GATE_METRICS:
        raise ValueError(f"the shadow gate compares {' or '.join(GATE_METRICS)}, not {metric!r}")
    if comparison is None or comparison.pairs < min_pairs:
        have = comparison.pairs if comparison else 0
        return ShadowVerdict(False, f"{have} settled shot(s) scored by both models; the gate needs {min_pairs}")
    diff = comparison.difference[metric]
    share = f"{comparison.confidence:.0%}"
    if diff.high < 0:
        return ShadowVerdict(True, f"shadow live {metric} lower by {-diff.value:.5f} on {comparison.pairs} shots "
                                   f"({share} interval of the difference {diff.low:+.5f} to {diff.high:+.5f})")
    return ShadowVerdict(False, f"no significant live gain in {metric} on {comparison.pairs} shots: difference "
                                f"{diff.value:+.5f}, {share} interval {diff.low:+.5f} to {diff.high:+.5f}")
