from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shot_record, shots_frame
from training.ml.evaluate import LookupBaseline, scores_compute
from training.ml.features import PlayerHistory
from training.ml.split import TemporalSplit, shots_split_by_date
from training.ml.train import (
    PROBABILITY_FLOOR,
    ShotModel,
    calibrator_fit,
    calibrator_fit_method,
    challengers_train,
)

FAST_XGBOOST = {"n_estimators": 300, "learning_rate": 0.1, "max_depth": 3, "early_stopping_rounds": 20}
FAST_FOREST = {"n_estimators": 30, "max_depth": 6, "min_samples_leaf": 20}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return shots_frame(players=40, days=60, shots_per_day=70)


@pytest.fixture(scope="module")
def split(frame: pd.DataFrame) -> TemporalSplit:
    return shots_split_by_date(frame, test_fraction=0.2, validation_fraction=0.2)


@pytest.fixture(scope="module")
def models(frame: pd.DataFrame, split: TemporalSplit) -> dict[str, ShotModel]:
    return challengers_train(
        train=split.train, validation=split.validation, history=PlayerHistory.from_shots(frame),
        xgboost_params=FAST_XGBOOST, random_forest_params=FAST_FOREST, pipeline_params={"min_action_count": 50},
    )


def test_both_challengers_learn_the_signal_on_later_games(models: dict[str, ShotModel], split: TemporalSplit) -> None:
    y = split.test["made"].to_numpy()
    baseline = LookupBaseline().fit(pd.concat([split.train, split.validation]))
    baseline_auc = scores_compute(y_true=y, proba=baseline.predict_proba_frame(split.test)).roc_auc
    for model in models.values():
        scores = scores_compute(y_true=y, proba=model.predict_proba_frame(split.test))
        assert scores.roc_auc > 0.7
        # Shooter skill is in the synthetic signal and only the models can see it.
        assert scores.roc_auc > baseline_auc
        assert scores.ece < 0.08


def test_xgboost_stops_early_on_the_validation_slice(models: dict[str, ShotModel]) -> None:
    model = models["xgboost"]
    assert model.best_iteration is not None
    assert model.best_iteration < FAST_XGBOOST["n_estimators"] - 1


def test_records_and_frames_give_the_same_probabilities(models: dict[str, ShotModel], split: TemporalSplit) -> None:
    sample = split.test.head(25)
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in sample.to_dict(orient="records")]
    for model in models.values():
        np.testing.assert_allclose(model.predict_proba_records(records), model.predict_proba_frame(sample),
                                   rtol=0, atol=1e-7)


def test_an_unknown_shooter_gets_a_probability_not_an_error(models: dict[str, ShotModel]) -> None:
    proba = models["xgboost"].predict_proba_records(
        [shot_record(player_id=999_999, action_type="Brand New Shot", position=None, is_home=None)]
    )
    assert proba.shape == (1,)
    assert PROBABILITY_FLOOR <= proba[0] <= 1 - PROBABILITY_FLOOR


def test_feature_importance_sums_to_one_and_names_the_features(models: dict[str, ShotModel]) -> None:
    importance = models["xgboost"].feature_importance()
    assert sum(importance.values()) == pytest.approx(1.0)
    assert set(importance) == set(models["xgboost"].feature_names)


def test_platt_scaling_fixes_overconfident_scores() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.2, 0.8, 20_000)
    y = (rng.random(truth.size) < truth).astype(int)
    logit = np.log(truth / (1 - truth))
    overconfident = 1 / (1 + np.exp(-3 * logit))
    calibrator = calibrator_fit_method(proba=overconfident, y_true=y, method="platt")
    assert calibrator.slope == pytest.approx(1 / 3, abs=0.05)
    calibrated = calibrator.apply(overconfident)
    assert np.abs(calibrated - truth).mean() < 0.02


def test_auto_calibration_picks_a_method_and_keeps_probabilities_inside_the_floor() -> None:
    rng = np.random.default_rng(1)
    proba = rng.uniform(0, 1, 5000)
    y = (rng.random(5000) < proba**2).astype(int)  # systematically too high
    calibrator, scores = calibrator_fit(proba=proba, y_true=y, method="auto")
    assert calibrator.method in ("platt", "isotonic")
    assert scores[calibrator.method] < scores["none"]
    out = calibrator.apply(np.array([0.0, 0.5, 1.0]))
    assert np.all(np.diff(out) >= 0)
    assert out.min() >= PROBABILITY_FLOOR
    assert out.max() <= 1 - PROBABILITY_FLOOR
