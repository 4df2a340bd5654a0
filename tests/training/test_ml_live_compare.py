"""Champion vs shadow on the same settled shots: scores, paired-bootstrap intervals, the gate's verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.ml.live_compare import LiveComparison, live_compare, shadow_verdict

MADE = [1, 0, 1, 0]
COIN = [0.5, 0.5, 0.5, 0.5]
SHARP = [0.8, 0.2, 0.8, 0.2]


def test_scores_of_both_models_are_the_hand_computed_ones():
    result = live_compare(made=MADE, champion=COIN, shadow=SHARP)
    assert result.pairs == 4
    assert result.champion["log_loss"].value == pytest.approx(math.log(2), abs=1e-6)
    assert result.champion["brier"].value == pytest.approx(0.25)
    assert result.champion["ece"].value == pytest.approx(0.0)  # one bin: 2 made, 2.0 expected
    assert result.shadow["log_loss"].value == pytest.approx(-math.log(0.8), abs=1e-6)
    assert result.shadow["brier"].value == pytest.approx(0.04)
    # Bin 0.8: 2 made vs 1.6 expected; bin 0.2: 0 made vs 0.4 expected -> (0.4 + 0.4) / 4.
    assert result.shadow["ece"].value == pytest.approx(0.2)
    assert result.difference["log_loss"].value == pytest.approx(-math.log(0.8) - math.log(2), abs=1e-6)
    assert result.difference["brier"].value == pytest.approx(0.04 - 0.25)
    for side in (result.champion, result.shadow, result.difference):
        for interval in side.values():
            assert interval.low <= interval.high


def test_the_same_model_twice_differs_by_exactly_nothing():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.2, 0.8, 300)
    y = rng.uniform(size=300) < p
    result = live_compare(made=y, champion=p, shadow=p)
    for metric in ("log_loss", "brier", "ece"):
        diff = result.difference[metric]
        assert (diff.value, diff.low, diff.high) == (0.0, 0.0, 0.0)
    verdict = shadow_verdict(comparison=result, metric="log_loss", min_pairs=100)
    assert not verdict.significant_gain
    assert "no significant live gain" in verdict.reason


def sharper_shadow(n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.1, 0.9, n)
    made = rng.uniform(size=n) < truth
    return made, np.full(n, made.mean()), truth  # the champion knows only the base rate


def test_a_clearly_better_shadow_has_a_difference_interval_below_zero_and_passes_the_gate():
    made, champion, shadow = sharper_shadow(2000)
    result = live_compare(made=made, champion=champion, shadow=shadow, confidence=0.95)
    for metric in ("log_loss", "brier"):
        assert result.difference[metric].high < 0
        assert result.champion[metric].low < result.champion[metric].value < result.champion[metric].high
    verdict = shadow_verdict(comparison=result, metric="brier", min_pairs=300)
    assert verdict.significant_gain
    assert "on 2000 shots" in verdict.reason


def test_the_gate_waits_for_enough_pairs_and_compares_only_losses():
    made, champion, shadow = sharper_shadow(50)
    result = live_compare(made=made, champion=champion, shadow=shadow)
    verdict = shadow_verdict(comparison=result, metric="log_loss", min_pairs=300)
    assert not verdict.significant_gain
    assert verdict.reason.startswith("50 settled shot(s) scored by both models; the gate needs 300")
    assert not shadow_verdict(comparison=None, metric="log_loss", min_pairs=2).significant_gain
    with pytest.raises(ValueError, match="not 'accuracy'"):
        shadow_verdict(comparison=result, metric="accuracy", min_pairs=2)


def test_the_comparison_is_deterministic_and_survives_a_round_trip_through_json():
    made, champion, shadow = sharper_shadow(400)
    first = live_compare(made=made, champion=champion, shadow=shadow)
    assert live_compare(made=made, champion=champion, shadow=shadow) == first  # fixed bootstrap seed
    assert LiveComparison.from_dict(first.as_dict()) == first


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"made": [1], "champion": [0.5], "shadow": [0.5]}, "at least two"),
    ({"made": [1, 0], "champion": [0.5], "shadow": [0.5, 0.5]}, "same length"),
    ({"made": [1, 0], "champion": [0.5, 0.5], "shadow": [0.5, 0.5], "confidence": 1.0}, "confidence"),
])  # fmt: skip
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        live_compare(**kwargs)
