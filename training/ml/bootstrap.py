"""Confidence intervals for scores, resampling whole games.

Shots of one game share a night, two defences and a pace: they are not independent, so a
bootstrap that resamples shots would give intervals that are too narrow. Here a resample
draws games with replacement and every shot of a drawn game comes with it.

Per-shot losses (log loss, Brier, accuracy) are means, so a resample's score is a ratio of
per-game sums weighted by how often each game was drawn: one matrix product for all
resamples. ROC AUC is not a mean of per-shot terms; it is recomputed with the draw counts as
sample weights (fewer resamples, it is the slow one).

``paired_gain`` scores two models on the *same* resamples (the pairing removes the games'
shared difficulty from the comparison), oriented so that a positive gain means the first
model is better whatever the metric's direction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

HIGHER_IS_BETTER = {"accuracy": True, "roc_auc": True, "log_loss": False, "brier": False}
AUC_RESAMPLES_MAX = 200
_EPS = 1e-15


@dataclass(frozen=True)
class Interval:
    estimate: float  # on the data as it is (not a bootstrap mean)
    low: float
    high: float
    confidence: float
    resamples: int
    games: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _check_metric(metric: str) -> None:
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}")


def shot_losses(*, metric: str, y_true: Any, proba: Any) -> np.ndarray:
    """Per-shot terms whose mean is the score (accuracy: 1 for a hit at threshold 0.5)."""
    _check_metric(metric)
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    if metric == "log_loss":
        q = np.clip(p, _EPS, 1 - _EPS)
        return -(y * np.log(q) + (1 - y) * np.log(1 - q))
    if metric == "brier":
        return (p - y) ** 2
    if metric == "accuracy":
        return ((p >= 0.5) == (y >= 0.5)).astype(np.float64)
    raise ValueError(f"{metric} is not a mean of per-shot terms")


def _game_codes(game_ids: Any) -> tuple[np.ndarray, int]:
    codes, uniques = _factorize(np.asarray(game_ids))
    return codes, len(uniques)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.int64), uniques


def _draws(n_games: int, *, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n_games) counts: how often each game is drawn in each resample."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_games, size=(resamples, n_games))
    counts = np.zeros((resamples, n_games), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(resamples), n_games), picks.ravel()), 1.0)
    return counts


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0 * 100.0
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def _resampled_scores(metric: str, y: np.ndarray, probas: list[np.ndarray], codes: np.ndarray, n_games: int,
                      resamples: int, seed: int) -> list[np.ndarray]:
    if metric == "roc_auc":
        resamples = min(resamples, AUC_RESAMPLES_MAX)
    counts = _draws(n_games, resamples=resamples, seed=seed)
    if metric != "roc_auc":
        shots_per_game = np.bincount(codes, minlength=n_games).astype(np.float64)
        denominators = counts @ shots_per_game
        out = []
        for p in probas:
            per_game = np.bincount(codes, weights=shot_losses(metric=metric, y_true=y, proba=p), minlength=n_games)
            out.append((counts @ per_game) / denominators)
        return out
    out = [np.empty(resamples) for _ in probas]
    for r in range(resamples):
        weights = counts[r][codes]
        kept = weights > 0
        both = len(np.unique(y[kept])) == 2
        for i, p in enumerate(probas):
            out[i][r] = roc_auc_score(y[kept], p[kept], sample_weight=weights[kept]) if both else np.nan
    return out


def _score(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    if metric == "roc_auc":
        return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")
    return float(shot_losses(metric=metric, y_true=y, proba=p).mean())


def score_interval(*, metric: str, y_true: Any, proba: Any, game_ids: Any, confidence: float = 0.95,
                   resamples: int = 1000, seed: int = 0) -> Interval:
    """The score of one model with a percentile interval over game resamples."""
    _check_metric(metric)
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    codes, n_games = _game_codes(game_ids)
    if not len(y):
        return Interval(float("nan"), float("nan"), float("nan"), confidence, 0, 0)
    (scores,) = _resampled_scores(metric, y, [p], codes, n_games, resamples, seed)
    low, high = _percentiles(scores, confidence)
    return Interval(_score(metric, y, p), low, high, confidence, len(scores), n_games)


def paired_gain(*, metric: str, y_true: Any, proba: Any, reference_proba: Any, game_ids: Any,
                confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> Interval:
    """How much better ``proba`` scores than ``reference_proba`` (positive: better), with an interval
    from the same game resamples applied to both."""
    _check_metric(metric)
    y = np.asarray(y_true, dtype=np.float64)
    a = np.asarray(proba, dtype=np.float64)
    b = np.asarray(reference_proba, dtype=np.float64)
    if not (len(y) == len(a) == len(b) == len(np.asarray(game_ids))):
        raise ValueError("labels, both probabilities and game ids must have the same length")
    codes, n_games = _game_codes(game_ids)
    if not len(y):
        return Interval(float("nan"), float("nan"), float("nan"), confidence, 0, 0)
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    scores_a, scores_b = _resampled_scores(metric, y, [a, b], codes, n_games, resamples, seed)
    low, high = _percentiles(sign * (scores_a - scores_b), confidence)
    return Interval(sign * (_score(metric, y, a) - _score(metric, y, b)), low, high, confidence, len(scores_a), n_games)
