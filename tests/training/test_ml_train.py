from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shot_record, shots_frame
from training.ml.context import OPPONENT_CONTEXT, PREVIOUS_SHOTS, TEAM_CONTEXT, with_previous_shots
from training.ml.evaluate import LookupBaseline, scores_compute
from training.ml.features import PlayerHistory, ShotFeaturePipeline
from training.ml.recalibration import FamilyShift, Recalibration
from training.ml.split import TemporalSplit, shots_split_by_date
from training.ml.train import (
    PROBABILITY_FLOOR,
    CalibrationPolicy,
    Calibrator,
    FamilyCalibrator,
    ShotModel,
    calibrator_fit,
    calibrator_fit_method,
    calibrator_fit_policy,
    challengers_train,
    context_blanked,
    recency_weights,
    training_data_build,
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
    # Records carry their game context (serving fills it in); a frame computes it from its whole games.
    sample = with_previous_shots(split.test).head(25)
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


def _two_families(seed: int = 2, n: int = 40_000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raw scores right for 2PT but 8 points too high for 3PT (the league's threes moved); rows = [x, is_three]."""
    rng = np.random.default_rng(seed)
    three = rng.random(n) < 0.4
    truth = np.where(three, rng.uniform(0.25, 0.45, n), rng.uniform(0.35, 0.75, n))
    raw = np.where(three, truth + 0.08, truth)
    y = (rng.random(n) < truth).astype(int)
    features = np.column_stack([rng.normal(size=n), three.astype(np.float32)])
    return raw, y, features, three


def test_the_family_calibrator_fixes_a_miscalibrated_family_that_a_global_one_cannot() -> None:
    raw, y, features, _ = _two_families()
    names = ("x", "is_three")
    overall, _ = calibrator_fit_policy(proba=raw, y_true=y, policy=CalibrationPolicy(), features=features,
                                       feature_names=names)
    family, scores = calibrator_fit_policy(proba=raw, y_true=y, policy=CalibrationPolicy(by_family=True),
                                           features=features, feature_names=names)
    assert isinstance(family, FamilyCalibrator)
    assert family.column == 1
    assert {"2PT/none", "3PT/platt"} <= set(scores)
    fresh_raw, fresh_y, fresh_features, fresh_three = _two_families(seed=3)

    def gap(calibrator: Calibrator | FamilyCalibrator, rows: np.ndarray) -> float:
        proba = calibrator.apply(fresh_raw, features=fresh_features)
        return abs(float(proba[rows].mean() - fresh_y[rows].mean()))

    assert gap(family, fresh_three) < 0.01
    assert gap(family, ~fresh_three) < 0.01
    # One map for both families splits the difference: the threes stay visibly too high.
    assert gap(overall, fresh_three) > 0.02


def test_a_family_calibrator_refuses_to_guess_the_family() -> None:
    raw, y, features, _ = _two_families()
    family, _ = calibrator_fit_policy(proba=raw, y_true=y, policy=CalibrationPolicy(by_family=True),
                                      features=features, feature_names=("x", "is_three"))
    with pytest.raises(ValueError, match="encoded rows"):
        family.apply(raw)


def test_recency_weights_follow_the_latest_dates() -> None:
    dates = pd.to_datetime(["2024-04-01", "2024-04-15", "2024-04-15", "2024-03-18"])
    weights = recency_weights(dates, half_life_days=14)
    assert weights is not None
    np.testing.assert_allclose(weights, [0.5, 1.0, 1.0, 0.25])
    assert recency_weights(dates, half_life_days=0) is None


def test_a_recency_weighted_calibrator_follows_the_latest_shots() -> None:
    rng = np.random.default_rng(4)
    n = 30_000
    day = rng.integers(0, 60, n)
    truth = rng.uniform(0.3, 0.7, n)
    # Early in the slice the raw scores were right; over the last ten days shots fell 6 points short of them.
    late = day >= 50
    raw = np.where(late, truth + 0.06, truth)
    y = (rng.random(n) < truth).astype(int)
    dates = pd.Timestamp("2024-02-15") + pd.to_timedelta(day, unit="D")
    equal, _ = calibrator_fit_policy(proba=raw, y_true=y, policy=CalibrationPolicy(method="platt"), dates=dates)
    recent, _ = calibrator_fit_policy(proba=raw, y_true=y, dates=dates,
                                      policy=CalibrationPolicy(method="platt", half_life_days=3))
    latest_gap = {name: abs(float(c.apply(raw[late]).mean() - y[late].mean())) for name, c in
                  (("equal", equal), ("recent", recent))}
    assert latest_gap["recent"] < 0.015
    assert latest_gap["equal"] > 0.03


def test_a_family_calibrated_model_survives_a_pickle_round_trip(frame: pd.DataFrame, split: TemporalSplit) -> None:
    models = challengers_train(
        train=split.train, validation=split.validation, history=PlayerHistory.from_shots(frame),
        xgboost_params=FAST_XGBOOST, pipeline_params={"min_action_count": 50}, kinds=("xgboost",),
        calibration=CalibrationPolicy(by_family=True, half_life_days=14),
    )
    model = models["xgboost"]
    assert isinstance(model.calibrator, FamilyCalibrator)
    assert model.calibrator.method.startswith("family(")
    loaded = pickle.loads(pickle.dumps(model))
    sample = with_previous_shots(split.test).head(200)
    expected = model.predict_proba_frame(sample)
    np.testing.assert_allclose(loaded.predict_proba_frame(sample), expected, rtol=0, atol=0)
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in sample.head(5).to_dict(orient="records")]
    np.testing.assert_allclose(loaded.predict_proba_records(records), expected[:5], rtol=0, atol=1e-7)


def test_the_challengers_are_calibrated_per_family_by_default(models: dict[str, ShotModel]) -> None:
    for model in models.values():
        assert isinstance(model.calibrator, FamilyCalibrator)
        assert model.feature_names[model.calibrator.column] == "is_three"


def test_a_model_pickled_with_a_plain_calibrator_still_predicts(models: dict[str, ShotModel], split: TemporalSplit) -> None:
    # What a version registered before per-family calibration holds: one global map.
    x_validation = models["xgboost"].pipeline.transform(split.validation)
    plain, _ = calibrator_fit(proba=models["xgboost"].predict_raw(x_validation),
                              y_true=split.validation["made"].to_numpy(), method="platt")
    model = dataclasses.replace(models["xgboost"], calibrator=plain)
    loaded = pickle.loads(pickle.dumps(model))
    assert isinstance(loaded.calibrator, Calibrator)
    raw = loaded.predict_raw(loaded.pipeline.transform(split.test.head(50)))
    np.testing.assert_allclose(loaded.predict_proba_frame(split.test.head(50)), plain.apply(raw))


def test_the_game_context_is_four_columns_blanked_on_a_tenth_of_the_training_rows(
        models: dict[str, ShotModel], split: TemporalSplit) -> None:
    pipeline = models["xgboost"].pipeline
    assert list(pipeline.feature_names[-4:]) == list(PREVIOUS_SHOTS)
    x = pipeline.transform(split.train)
    assert np.isfinite(x[:, pipeline.context_columns]).all()  # whole games: every shot's context is known
    blanked = context_blanked(x.copy(), columns=pipeline.context_columns)
    unknown = np.isnan(blanked[:, pipeline.context_columns])
    assert (unknown == unknown[:, :1]).all()  # a row loses all four columns or none
    assert 0.07 < unknown[:, 0].mean() < 0.13
    np.testing.assert_array_equal(np.isnan(context_blanked(x.copy(), columns=pipeline.context_columns)), np.isnan(blanked))
    others = [i for i in range(x.shape[1]) if i not in pipeline.context_columns]
    np.testing.assert_array_equal(blanked[:, others], x[:, others])  # nothing else touched


def test_training_also_blanks_the_opponent_s_columns_alone_on_a_few_rows(split: TemporalSplit) -> None:
    # A caller may give the team's previous shot and not the opponent's: the model sees that case too.
    data = training_data_build(train=split.train, validation=split.validation,
                               pipeline_params={"min_action_count": 50})
    names = list(data.pipeline.feature_names)
    team = np.isnan(data.x_train[:, [names.index(n) for n in TEAM_CONTEXT]])
    opponent = np.isnan(data.x_train[:, [names.index(n) for n in OPPONENT_CONTEXT]])
    assert (team == team[:, :1]).all()  # each pair goes together
    assert (opponent == opponent[:, :1]).all()
    assert not (team[:, 0] & ~opponent[:, 0]).any()  # the team's alone: never
    assert 0.07 < team[:, 0].mean() < 0.13
    assert 0.02 < (opponent[:, 0] & ~team[:, 0]).mean() < 0.08
    assert not np.isnan(data.x_validation[:, data.pipeline.context_columns]).any()  # validation: as it comes


def test_a_shot_without_its_game_gets_a_probability_as_one_with_it_does(models: dict[str, ShotModel]) -> None:
    record = shot_record()
    for model in models.values():
        unknown = model.predict_proba_records([record])[0]
        assert np.isfinite(unknown)
        assert PROBABILITY_FLOOR <= unknown <= 1 - PROBABILITY_FLOOR
        given = model.predict_proba_records([{**record, "team_prev_missed": 1.0, "team_seconds_since_prev": 3.0}])
        assert np.isfinite(given[0])


def test_a_pipeline_pickled_before_the_opponent_s_columns_reads_the_team_s_two(models: dict[str, ShotModel],
                                                                             split: TemporalSplit) -> None:
    pipeline = models["xgboost"].pipeline
    state = dict(pipeline.__dict__)
    del state["context_names"]
    state["feature_names"] = tuple(n for n in pipeline.feature_names if n not in OPPONENT_CONTEXT)
    old = ShotFeaturePipeline.__new__(ShotFeaturePipeline)
    old.__setstate__(state)
    assert old.context_names == TEAM_CONTEXT
    assert old.opponent_columns == []
    sample = with_previous_shots(split.test.head(30))
    x = old.transform(sample)
    assert x.shape[1] == len(pipeline.feature_names) - 2
    np.testing.assert_array_equal(x, pipeline.transform(sample)[:, :x.shape[1]])
    records = sample.to_dict(orient="records")
    np.testing.assert_array_equal(old.transform_records(records), x)  # the four given, the two read


def test_a_pipeline_pickled_before_the_game_context_keeps_its_columns(models: dict[str, ShotModel],
                                                                       split: TemporalSplit) -> None:
    pipeline = models["xgboost"].pipeline
    state = dict(pipeline.__dict__)
    del state["game_context"]
    del state["context_names"]
    state["feature_names"] = tuple(n for n in pipeline.feature_names if n not in PREVIOUS_SHOTS)
    old = ShotFeaturePipeline.__new__(ShotFeaturePipeline)
    old.__setstate__(state)
    assert old.game_context is False
    assert old.context_columns == []
    x = old.transform(split.test.head(30))
    assert x.shape[1] == len(pipeline.feature_names) - len(PREVIOUS_SHOTS)
    np.testing.assert_array_equal(x, pipeline.transform(split.test.head(30))[:, :x.shape[1]])


def test_action_groups_are_the_pipeline_s_action_and_family(models: dict[str, ShotModel]) -> None:
    model = models["xgboost"]
    known = model.pipeline.action_types[0]
    records = [shot_record(action_type=known, shot_type="2PT", x_ft=0.0, y_ft=5.0, zone_basic="Restricted Area"),
               shot_record(action_type="Flying Windmill Shot", shot_type="3PT", x_ft=0.0, y_ft=25.0,
                           zone_basic="Above the Break 3")]
    x = model.pipeline.transform_records(records)
    assert model.action_groups(x).tolist() == [f"{known}|2PT", "Other|3PT"]


def test_a_served_model_applies_the_action_shift_to_its_group_only(models: dict[str, ShotModel],
                                                                   split: TemporalSplit) -> None:
    model = dataclasses.replace(models["xgboost"])
    x = model.pipeline.transform(split.test.head(300))
    groups = model.action_groups(x)
    target = groups[0]
    model.recalibration = Recalibration(actions={target: FamilyShift(intercept=0.5, shots=1_000.0)})
    shifted = model.predict_proba_features(x)
    own = model.predict_proba_features(x, recalibrated=False)
    rows = groups == target
    assert (shifted[rows] > own[rows]).all()
    np.testing.assert_allclose(shifted[~rows], own[~rows], atol=1e-12)


def test_recency_weighted_training_weighs_each_shot_by_its_age_and_changes_the_fit(split: TemporalSplit) -> None:
    from training.ml.train import random_forest_fit, training_data_build, xgboost_fit

    history = PlayerHistory.from_shots(pd.concat([split.train, split.validation]))
    plain = training_data_build(train=split.train, validation=split.validation, history=history,
                                pipeline_params={"min_action_count": 50})
    weighted = training_data_build(train=split.train, validation=split.validation, history=history,
                                   pipeline_params={"min_action_count": 50}, train_half_life_days=10)
    assert plain.w_train is None
    assert weighted.w_train is not None
    age = (split.train["game_date"].max() - split.train["game_date"]).dt.days.to_numpy()
    np.testing.assert_allclose(weighted.w_train, 0.5 ** (age / 10))
    assert weighted.w_train.max() == 1.0
    assert weighted.w_train.min() < 0.1  # the window's first days count a tenth of its last
    x = weighted.x_validation
    for fit, params in ((xgboost_fit, FAST_XGBOOST), (random_forest_fit, FAST_FOREST)):
        a = fit(data=plain, params=params).predict_raw(x)
        b = fit(data=weighted, params=params).predict_raw(x)
        assert not np.allclose(a, b)


def test_a_shot_known_only_by_its_zone_is_priced_as_the_mean_over_its_zones_training_spots(
    models: dict[str, ShotModel], split: TemporalSplit,
) -> None:
    model = models["xgboost"]
    zone_only = shot_record(zone_basic="Restricted Area", zone_area=None, zone_range=None, x_ft=None, y_ft=None,
                            distance_ft=None, action_type="Driving Layup Shot")
    at_spots = [{**zone_only, "x_ft": x, "y_ft": y, "distance_ft": d}
                for x, y, d in model.pipeline.zone_spots[("Restricted Area",)]]
    located = shot_record(x_ft=1.0, y_ft=1.0, distance_ft=1.4, zone_basic="Restricted Area", zone_area="Center",
                          zone_range="Less Than 8 ft.", action_type="Driving Layup Shot")
    priced = model.predict_proba_records([located, zone_only, located])
    assert priced[1] == pytest.approx(model.predict_proba_records(at_spots).mean(), abs=1e-9)
    assert priced[0] == priced[2] == model.predict_proba_records([located])[0]  # the others are untouched
    # Against what happened: the zone's shots of later games, priced without their location.
    test = split.test
    paint = test[test["zone_basic"] == "Restricted Area"]
    stripped = paint.assign(x_ft=np.nan, y_ft=np.nan, distance_ft=np.nan, zone_area=None, zone_range=None)
    assert model.predict_proba_frame(stripped).mean() == pytest.approx(paint["made"].mean(), abs=0.03)


def test_the_frame_path_prices_an_unlocated_shot_as_the_records_path(models: dict[str, ShotModel],
                                                                      split: TemporalSplit) -> None:
    model = models["random_forest"]
    games = with_previous_shots(split.test.head(300))
    unlocated = games.index[::3]
    games.loc[unlocated, ["x_ft", "y_ft"]] = np.nan
    by_frame = model.predict_proba_frame(games)
    by_records = model.predict_proba_records(games.to_dict("records"))
    np.testing.assert_allclose(by_frame, by_records, rtol=0, atol=1e-12)
    located = games.drop(index=unlocated)
    np.testing.assert_allclose(by_frame[games.index.get_indexer(located.index)], model.predict_proba_frame(located))
