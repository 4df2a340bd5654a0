"""The champion/challenger rule, as a pure function (no MLflow, no Django).

A challenger replaces the champion only if it beats it on the identical holdout by at
least ``min_gain`` of the configured metric. Ties keep the champion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HIGHER_IS_BETTER = {"accuracy": True, "roc_auc": True, "log_loss": False, "brier": False}


@dataclass(frozen=True)
class Verdict:
    promote: bool
    gain: float | None
    reason: str


def gain_of(*, metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive: better), whatever the metric's direction."""
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown promotion metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}")
    return challenger - champion if HIGHER_IS_BETTER[metric] else champion - challenger


def promotion_decide(*, metric: str, min_gain: float, challenger: float, champion: float | None) -> Verdict:
    """Promote when there is no champion, or when the challenger gains more than ``min_gain``."""
    if not math.isfinite(challenger):
        return Verdict(False, None, f"the challenger's {metric} is not a number ({challenger})")
    if champion is None:
        return Verdict(True, None, f"no champion yet: the best challenger ({metric} {challenger:.5f}) becomes it")
    gain = gain_of(metric=metric, challenger=challenger, champion=champion)
    if gain > 0 and gain >= min_gain:
        return Verdict(
            True, gain, f"challenger {metric} {challenger:.5f} beats champion {champion:.5f} by {gain:+.5f} (needed {min_gain:g})"
        )
    return Verdict(
        False, gain, f"challenger {metric} {challenger:.5f} does not beat champion {champion:.5f} (gain {gain:+.5f}, needed more than 0 and at least {min_gain:g})"
    )
