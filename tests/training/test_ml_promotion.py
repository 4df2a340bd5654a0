"""The champion/challenger rule on its own (pure)."""

from __future__ import annotations

import math

import pytest

from training.ml.bootstrap import Interval
from training.ml.promotion import gain_of, promotion_decide


def test_with_nothing_to_compare_with_the_challenger_becomes_champion():
    verdict = promotion_decide(metric="accuracy", min_gain=0.0, challenger=0.6, champion=None)
    assert verdict.promote
    assert "nothing to compare with" in verdict.reason


def _interval(low, high, estimate=None):
    return Interval(estimate if estimate is not None else (low + high) / 2, low, high, 0.95, 1000, 120)


def test_a_gain_whose_interval_reaches_zero_keeps_the_champion():
    verdict = promotion_decide(metric="log_loss", min_gain=0.0, challenger=0.630, champion=0.632,
                               interval=_interval(-0.0005, 0.0045, 0.002))
    assert not verdict.promote
    assert verdict.gain == pytest.approx(0.002)
    assert "not significant" in verdict.reason
    assert "95% interval over 120 games [-0.00050, +0.00450]" in verdict.reason


def test_a_significant_gain_promotes_and_says_against_what():
    verdict = promotion_decide(metric="log_loss", min_gain=0.001, challenger=0.630, champion=0.634,
                               interval=_interval(0.002, 0.006, 0.004), against="baseline")
    assert verdict.promote
    assert "vs baseline 0.63400" in verdict.reason
    assert verdict.interval is not None
    assert verdict.interval.low == 0.002


def test_a_significant_gain_below_the_minimum_keeps_the_champion():
    verdict = promotion_decide(metric="brier", min_gain=0.01, challenger=0.220, champion=0.222,
                               interval=_interval(0.001, 0.003, 0.002))
    assert not verdict.promote
    assert "at least 0.01" in verdict.reason


# Without an interval (scores from elsewhere) only the gain rule applies.
@pytest.mark.parametrize(
    ("metric", "challenger", "champion", "promote"),
    [
        ("accuracy", 0.631, 0.630, True),
        ("accuracy", 0.630, 0.630, False),  # a tie keeps the champion
        ("accuracy", 0.629, 0.630, False),
        ("roc_auc", 0.671, 0.670, True),
        ("log_loss", 0.632, 0.633, True),  # lower is better
        ("log_loss", 0.634, 0.633, False),
        ("brier", 0.2220, 0.2221, True),
    ],
)
def test_a_challenger_must_be_strictly_better_on_the_metric(metric, challenger, champion, promote):
    assert promotion_decide(metric=metric, min_gain=0.0, challenger=challenger, champion=champion).promote is promote


def test_the_margin_must_be_reached():
    assert not promotion_decide(metric="accuracy", min_gain=0.01, challenger=0.635, champion=0.630).promote
    assert promotion_decide(metric="accuracy", min_gain=0.005, challenger=0.6351, champion=0.630).promote
    assert gain_of(metric="log_loss", challenger=0.60, champion=0.62) == pytest.approx(0.02)


def test_a_challenger_without_a_score_is_never_promoted():
    assert not promotion_decide(metric="roc_auc", min_gain=0.0, challenger=math.nan, champion=None).promote


def test_an_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown promotion metric"):
        gain_of(metric="f1", challenger=1.0, champion=0.5)
