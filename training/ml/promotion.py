"""The champion/challenger rule, as a pure function (no MLflow, no Django).

A challenger replaces what it is compared with (the champion re-scored on the same holdout,
or, for the first champion, the zone x action lookup baseline) only if

* its gain on the metric is at least ``min_gain`` (and above 0: a tie keeps what is there), and
* the gain is significant: the lower end of its paired bootstrap interval over games
  (``training.ml.bootstrap.paired_gain``) is above 0.

Without an interval (a manual comparison, or scores from elsewhere) only the first condition
applies; the pipeline always passes one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from training.ml.bootstrap import HIGHER_IS_BETTER, Interval


@dataclass(frozen=True)
class Verdict:
    promote: bool
    gain: float | None
    reason: str
    interval: Interval | None = None


def gain_of(*, metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive: better), whatever the metric's direction."""
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown promotion metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}")
    return challenger - champion if HIGHER_IS_BETTER[metric] else champion - challenger


def _interval_text(interval: Interval) -> str:
    return f"{interval.confidence:.0%} interval over {interval.games} games [{interval.low:+.5f}, {interval.high:+.5f}]"


def promotion_decide(
    *,
    metric: str,
    min_gain: float,
    challenger: float,
    champion: float | None,
    interval: Interval | None = None,
    against: str = "champion",
) -> Verdict:
    """Promote when the challenger beats ``against`` (the champion or the baseline) as the module says.

    ``champion`` None means there is nothing to compare with at all (no champion and no baseline).
    """
    if not math.isfinite(challenger):
        return Verdict(False, None, f"the challenger's {metric} is not a number ({challenger})")
    if champion is None:
        return Verdict(True, None, f"nothing to compare with: the best challenger ({metric} {challenger:.5f}) "
                                   "becomes champion")
    gain = gain_of(metric=metric, challenger=challenger, champion=champion)
    scores = f"challenger {metric} {challenger:.5f} vs {against} {champion:.5f}: gain {gain:+.5f}"
    if interval is not None:
        scores += f", {_interval_text(interval)}"
    if not (gain > 0 and gain >= min_gain):
        return Verdict(False, gain, f"{scores}; kept the {against}: the gain must be above 0 and at least "
                                    f"{min_gain:g}", interval)
    if interval is not None and not interval.low > 0:
        return Verdict(False, gain, f"{scores}; kept the {against}: the gain is not significant (the interval "
                                    "reaches 0)", interval)
    significant = " and significant" if interval is not None else ""
    return Verdict(True, gain, f"{scores}; promoted: the gain is at least {min_gain:g}{significant}", interval)
