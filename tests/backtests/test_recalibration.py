"""Backtests price as serving does: with the in-season correction, replayed date by date from settled shots."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from backtests import selectors
from tests.backtests.conftest import WINDOW_END, WINDOW_START, Trained
from training.ml.recalibration import RecalibrationConfig, recalibration_fit
from training.registry import get_registry
from training.services.recalibration import recalibration_config

CONFIG = RecalibrationConfig(half_life_days=0.0, window_days=90, prior_shots=20.0)


def test_each_backtest_date_is_corrected_by_earlier_settled_shots_only(world: Trained) -> None:
    model = get_registry().model_load(version=world.versions[0])
    frame = selectors.shots_between(date_from=WINDOW_START, date_to=WINDOW_END)
    replayed = selectors.shots_probabilities_inseason(model=model, frame=frame, config=CONFIG)
    base = selectors.shots_probabilities(model=model, frame=frame)
    assert len(replayed) == len(frame)
    assert not np.allclose(replayed, base)

    # The first date: a fit on the warehouse's settled shots before the window, nothing of the window.
    earlier = selectors.shots_between(date_from=WINDOW_START - dt.timedelta(days=90),
                                      date_to=WINDOW_START - dt.timedelta(days=1))
    fit = recalibration_fit(
        proba=selectors.shots_probabilities(model=model, frame=earlier), y_true=earlier["made"].to_numpy(),
        is_three=(earlier["shot_type"] == "3PT").to_numpy(), dates=earlier["game_date"].to_numpy(),
        as_of=WINDOW_START, config=CONFIG,
    )
    assert fit.two.shots + fit.three.shots == len(earlier)
    first = (frame["game_date"].dt.date == WINDOW_START).to_numpy()
    three = (frame["shot_type"] == "3PT").to_numpy()
    np.testing.assert_allclose(replayed[first], fit.apply(base[first], is_three=three[first]))

    # A date's prices never read its own outcomes or later ones.
    day = WINDOW_START + dt.timedelta(days=4)
    flipped = frame.copy()
    later = (flipped["game_date"].dt.date >= day).to_numpy()
    flipped.loc[later, "made"] = ~flipped.loc[later, "made"]
    again = selectors.shots_probabilities_inseason(model=model, frame=flipped, config=CONFIG)
    np.testing.assert_allclose(again[~later], replayed[~later])
    on_day = (frame["game_date"].dt.date == day).to_numpy()
    np.testing.assert_allclose(again[on_day], replayed[on_day])


@pytest.mark.django_db
@pytest.mark.parametrize("enabled", [True, False])
def test_a_backtest_says_whether_its_prices_were_recalibrated(
    world: Trained, analyst: Any, settings: Any, enabled: bool
) -> None:
    from backtests.models import Backtest
    from backtests.services import backtest_create, backtest_execute

    settings.RECALIBRATION_ENABLED = enabled
    created = backtest_create(owner=analyst, model_versions=[world.versions[0]], date_from=WINDOW_START,
                              date_to=WINDOW_END, strategy="flat", threshold=0.0, margin=0.05)
    backtest = backtest_execute(backtest_id=created.pk)
    assert backtest.status == Backtest.Status.SUCCEEDED, backtest.error
    recalibration = backtest.results["recalibration"]
    assert (recalibration is not None and recalibration.startswith("intercept")) == enabled
    model = get_registry().model_load(version=world.versions[0])
    frame = selectors.shots_between(date_from=WINDOW_START, date_to=WINDOW_END)
    expected = (selectors.shots_probabilities_inseason(model=model, frame=frame, config=recalibration_config())
                if enabled else selectors.shots_probabilities(model=model, frame=frame))
    assert backtest.results["versions"][0]["mean_probability"] == pytest.approx(float(expected.mean()), abs=1e-4)
