from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from training.ml.recalibration import (
    Recalibration,
    RecalibrationConfig,
    inseason_apply,
    recalibration_apply,
    recalibration_fit,
)

START = dt.date(2015, 10, 27)


def season(*, days: int = 60, per_day: int = 400, shift_two: float = 0.0, shift_three: float = 0.0, seed: int = 1):
    """Synthetic settled shots: the model's probability ``p`` and outcomes drawn from ``p`` moved by a
    known logit shift per family (the league moved, the model did not)."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    dates = np.repeat(np.array([np.datetime64(START) + np.timedelta64(d, "D") for d in range(days)]), per_day)
    three = rng.random(n) < 0.35
    logit = np.where(three, -0.6, 0.0) + rng.normal(0, 0.5, n)
    truth = logit + np.where(three, shift_three, shift_two)
    y = (rng.random(n) < 1 / (1 + np.exp(-truth))).astype(np.int64)
    return 1 / (1 + np.exp(-logit)), y, three, dates


def test_a_known_level_shift_per_family_is_recovered() -> None:
    proba, y, three, dates = season(shift_two=-0.2, shift_three=0.15)
    fit = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=START + dt.timedelta(days=60),
                            config=RecalibrationConfig(half_life_days=0, window_days=365, prior_shots=100))
    assert fit.two.intercept == pytest.approx(-0.2, abs=0.04)
    assert fit.three.intercept == pytest.approx(0.15, abs=0.05)
    assert fit.two.slope == fit.three.slope == 1.0  # intercept only by default
    corrected = fit.apply(proba, is_three=three)
    for rows in (three, ~three):
        assert abs(corrected[rows].mean() - y[rows].mean()) < 0.005
        assert abs(proba[rows].mean() - y[rows].mean()) > 0.03  # the model alone was off


def test_the_slope_is_fitted_when_asked() -> None:
    rng = np.random.default_rng(4)
    n = 40_000
    logit = rng.normal(0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * logit + 0.1)))).astype(np.int64)
    dates = np.full(n, np.datetime64("2020-01-01"))
    fit = recalibration_fit(proba=1 / (1 + np.exp(-logit)), y_true=y, is_three=np.zeros(n, bool), dates=dates,
                            as_of="2020-01-02", config=RecalibrationConfig(slope=True, prior_shots=10))
    assert fit.two.slope == pytest.approx(0.6, abs=0.05)
    assert fit.two.intercept == pytest.approx(0.1, abs=0.05)
    assert fit.three.shots == 0.0  # no threes: no correction
    assert fit.three.intercept == 0.0


def test_few_settled_shots_are_shrunk_toward_no_correction() -> None:
    proba, y, three, dates = season(days=1, per_day=200, shift_two=-0.5, shift_three=-0.5)
    as_of = START + dt.timedelta(days=1)
    weak = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of,
                             config=RecalibrationConfig(prior_shots=5000))
    strong = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of,
                               config=RecalibrationConfig(prior_shots=10))
    assert strong.two.intercept < weak.two.intercept < 0
    assert strong.two.intercept == pytest.approx(-0.5, abs=0.25)  # ~130 two-point shots: noisy but followed
    assert abs(weak.two.intercept) < 0.1


def test_shots_of_the_fit_date_and_later_are_never_read() -> None:
    proba, y, three, dates = season(days=20, seed=2)
    as_of = START + dt.timedelta(days=10)
    fit = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of)
    # Flip every outcome from the fit date on: the correction must not move.
    later = dates >= np.datetime64(as_of)
    flipped = np.where(later, 1 - y, y)
    again = recalibration_fit(proba=proba, y_true=flipped, is_three=three, dates=dates, as_of=as_of)
    assert again == fit
    assert fit.two.shots == pytest.approx(
        recalibration_fit(proba=proba[~later], y_true=y[~later], is_three=three[~later], dates=dates[~later],
                          as_of=as_of).two.shots)


def test_the_window_and_half_life_weigh_recent_shots() -> None:
    proba, y, three, dates = season(days=30, per_day=100, seed=3)
    as_of = START + dt.timedelta(days=30)
    windowed = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of,
                                 config=RecalibrationConfig(half_life_days=0, window_days=10))
    assert windowed.two.shots + windowed.three.shots == pytest.approx(10 * 100)
    halved = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of,
                               config=RecalibrationConfig(half_life_days=1, window_days=1))
    assert halved.two.shots + halved.three.shots == pytest.approx(0.5 * 100)  # yesterday's shots weigh one half


def test_in_season_each_date_uses_only_earlier_dates() -> None:
    proba, y, three, dates = season(days=15, per_day=300, shift_two=-0.3, seed=5)
    config = RecalibrationConfig(prior_shots=200)
    corrected, trace = inseason_apply(proba=proba, y_true=y, is_three=three, dates=dates, config=config)
    first = dates == dates.min()
    np.testing.assert_allclose(corrected[first], proba[first])  # nothing settled yet: the model alone
    assert trace.fits[0].two.shots == 0
    for index in (3, 9, 14):
        day = np.datetime64(START) + np.timedelta64(index, "D")
        # Every later outcome flipped, and this day's too: this day's probabilities must not change.
        changed = np.where(dates >= day, 1 - y, y)
        again, _ = inseason_apply(proba=proba, y_true=changed, is_three=three, dates=dates, config=config)
        rows = dates == day
        np.testing.assert_allclose(again[rows], corrected[rows])
        expected = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=day, config=config)
        np.testing.assert_allclose(corrected[rows], expected.apply(proba[rows], is_three=three[rows]))
    # The shift is followed: the second half of the season is close to calibrated for 2PT, the model is not.
    late = (dates >= np.datetime64(START) + np.timedelta64(7, "D")) & ~three
    assert abs(corrected[late].mean() - y[late].mean()) < 0.01 < abs(proba[late].mean() - y[late].mean())


def test_in_season_input_order_does_not_matter_and_weekly_refits_keep_the_rule() -> None:
    proba, y, three, dates = season(days=21, per_day=100, shift_three=0.3, seed=6)
    shuffle = np.random.default_rng(0).permutation(len(y))
    daily, _ = inseason_apply(proba=proba, y_true=y, is_three=three, dates=dates)
    shuffled, _ = inseason_apply(proba=proba[shuffle], y_true=y[shuffle], is_three=three[shuffle], dates=dates[shuffle])
    np.testing.assert_allclose(shuffled, daily[shuffle])
    weekly, trace = inseason_apply(proba=proba, y_true=y, is_three=three, dates=dates, refit_days=7)
    assert [d - START for d in trace.dates] == [dt.timedelta(days=d) for d in (0, 7, 14)]
    week_two = (dates >= np.datetime64(START) + np.timedelta64(7, "D")) & (
        dates < np.datetime64(START) + np.timedelta64(14, "D"))
    expected = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates,
                                 as_of=START + dt.timedelta(days=7))
    np.testing.assert_allclose(weekly[week_two], expected.apply(proba[week_two], is_three=three[week_two]))


def test_a_stored_correction_round_trips_and_none_changes_nothing() -> None:
    proba, y, three, dates = season(days=5, shift_two=0.2, seed=7)
    fit = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=START + dt.timedelta(days=5))
    assert Recalibration.from_dict(fit.as_dict()) == fit
    np.testing.assert_array_equal(recalibration_apply(recalibration=None, proba=proba, is_three=three), proba)
    assert fit.apply(np.array([0.0, 1.0]), is_three=np.array([False, True])).tolist() == [0.001, 0.999]


def test_an_invalid_config_is_refused() -> None:
    with pytest.raises(ValueError, match="prior"):
        RecalibrationConfig(prior_shots=0)


def action_season(*, days: int = 40, per_day: int = 600, seed: int = 3):
    """Settled 2PT shots of two actions: the league moved "Layup" up and "Pullup" down by the same logit,
    so the family as a whole did not move (what a per-family correction cannot see)."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    dates = np.repeat(np.array([np.datetime64(START) + np.timedelta64(d, "D") for d in range(days)]), per_day)
    groups = np.where(rng.random(n) < 0.5, "Layup|2PT", "Pullup|2PT").astype(object)
    logit = rng.normal(0, 0.5, n)
    truth = logit + np.where(groups == "Layup|2PT", 0.35, -0.35)
    y = (rng.random(n) < 1 / (1 + np.exp(-truth))).astype(np.int64)
    return 1 / (1 + np.exp(-logit)), y, np.zeros(n, bool), dates, groups


def test_the_action_stage_follows_what_the_family_stage_cannot_see() -> None:
    proba, y, three, dates, groups = action_season()
    family_only = RecalibrationConfig(half_life_days=0, window_days=365, prior_shots=100, slope=True)
    by_action = RecalibrationConfig(half_life_days=0, window_days=365, prior_shots=100, slope=True, by_action=True)
    as_of = START + dt.timedelta(days=40)
    plain = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of, config=family_only)
    fit = recalibration_fit(proba=proba, y_true=y, is_three=three, dates=dates, as_of=as_of, config=by_action,
                            groups=groups)
    assert plain.actions == {}
    assert fit.actions["Layup|2PT"].intercept == pytest.approx(0.35, abs=0.05)
    assert fit.actions["Pullup|2PT"].intercept == pytest.approx(-0.35, abs=0.05)
    corrected = fit.apply(proba, is_three=three, groups=groups)
    for group in ("Layup|2PT", "Pullup|2PT"):
        rows = groups == group
        assert abs(corrected[rows].mean() - y[rows].mean()) < 0.006
        assert abs(plain.apply(proba[rows], is_three=three[rows]).mean() - y[rows].mean()) > 0.05
    # A group the fit never saw (a new action type) keeps the family correction alone.
    unseen = fit.apply(proba[:5], is_three=three[:5], groups=["Brand New|2PT"] * 5)
    np.testing.assert_allclose(unseen, plain.apply(proba[:5], is_three=three[:5]), atol=1e-9)


def test_the_action_stage_keeps_the_leakage_rule_and_round_trips() -> None:
    proba, y, three, dates, groups = action_season(days=10, per_day=300)
    config = RecalibrationConfig(slope=True, by_action=True)
    out, trace = inseason_apply(proba=proba, y_true=y, is_three=three, dates=dates, config=config, groups=groups)
    day = np.datetime64(START) + np.timedelta64(6, "D")
    flipped = y.copy()
    flipped[dates >= day] = 1 - flipped[dates >= day]  # the outcomes of day 6 and later
    again, _ = inseason_apply(proba=proba, y_true=flipped, is_three=three, dates=dates, config=config, groups=groups)
    np.testing.assert_array_equal(again[dates <= day], out[dates <= day])
    assert not np.array_equal(again[dates > day], out[dates > day])
    np.testing.assert_array_equal(out[dates == dates[0]], proba[dates == dates[0]])  # nothing settled yet
    last = trace.fits[-1]
    assert set(last.actions) == {"Layup|2PT", "Pullup|2PT"}
    assert Recalibration.from_dict(last.as_dict()) == last
    old_document = {key: value for key, value in last.as_dict().items() if key != "actions"}
    assert Recalibration.from_dict(old_document).actions == {}  # stored before the action stage
    with pytest.raises(ValueError, match="action group"):
        inseason_apply(proba=proba, y_true=y, is_three=three, dates=dates, config=config)
