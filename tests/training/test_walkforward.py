from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shots_frame
from training.ml import walkforward
from training.ml.recalibration import RecalibrationConfig
from training.ml.train import CalibrationPolicy, TrainingData
from training.ml.walkforward import InSeasonPolicy, SeasonResult, walkforward_run, walkforward_summary

FAST_XGBOOST = {"n_estimators": 200, "learning_rate": 0.1, "max_depth": 3, "early_stopping_rounds": 20}
FAST_FOREST = {"n_estimators": 20, "max_depth": 6, "min_samples_leaf": 20}
SEASONS = ("2020-21", "2021-22", "2022-23")
FAMILY = CalibrationPolicy(by_family=True)
IN_SEASON = InSeasonPolicy(base=FAMILY, recalibration=RecalibrationConfig(prior_shots=50, half_life_days=7))


@pytest.fixture(scope="module")
def shots() -> pd.DataFrame:
    """Three synthetic seasons of the same shooters, 30 game dates each a year apart, listed newest first
    (the order must come from the dates, not the rows)."""
    frame = shots_frame(players=30, days=90, shots_per_day=60, seed=10, start=dt.datetime(2020, 10, 20))
    number = (frame["game_date"] - frame["game_date"].min()).dt.days // 30
    frame["season"] = number.map(dict(enumerate(SEASONS)))
    # Each block of 30 days moves to its own autumn: 2020, 2021, 2022.
    frame["game_date"] += pd.to_timedelta(number * (365 - 30), unit="D")
    return frame.iloc[::-1].reset_index(drop=True)


@pytest.fixture(scope="module")
def run(shots: pd.DataFrame) -> tuple[list[SeasonResult], list[dict[str, Any]]]:
    """The walk-forward, recording what each training saw (the dates of its train and validation rows)."""
    seen: list[dict[str, Any]] = []
    original = walkforward.training_data_build

    def spy(**kwargs: Any) -> TrainingData:
        seen.append({"last": max(kwargs["train"]["game_date"].max(), kwargs["validation"]["game_date"].max()),
                     "seasons": set(kwargs["train"]["season"]) | set(kwargs["validation"]["season"])})
        return original(**kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(walkforward, "training_data_build", spy)
    try:
        results = walkforward_run(
            shots=shots, history_days=400, kinds=("random_forest", "xgboost"), xgboost_params=FAST_XGBOOST,
            random_forest_params=FAST_FOREST, pipeline_params={"min_action_count": 50},
            policies={"global": CalibrationPolicy(), "family": FAMILY, "family-inseason": IN_SEASON},
            keep_probabilities=True,
        )
    finally:
        patch.undo()
    return results, seen


def test_every_season_after_the_first_is_scored_in_date_order(run: tuple[list[SeasonResult], list[Any]]) -> None:
    results, _ = run
    assert [r.season for r in results] == list(SEASONS[1:])
    assert [r.train_seasons for r in results] == [[SEASONS[0]], [SEASONS[0], SEASONS[1]]]


def test_no_season_is_scored_by_a_model_that_saw_it(
    run: tuple[list[SeasonResult], list[dict[str, Any]]], shots: pd.DataFrame
) -> None:
    results, seen = run
    assert len(seen) == len(results)
    for result, trained in zip(results, seen, strict=True):
        first_test_date = shots.loc[shots["season"] == result.season, "game_date"].min()
        assert trained["last"] < first_test_date
        assert result.season not in trained["seasons"]
        assert result.train_last < result.test_first == first_test_date.date()
        assert result.test_rows == int((shots["season"] == result.season).sum())


def test_the_models_beat_the_baseline_and_the_best_is_chosen_on_validation(
    run: tuple[list[SeasonResult], list[Any]],
) -> None:
    results, _ = run
    for result in results:
        for policy in ("global", "family"):
            losses = result.validation_log_loss[policy]
            assert result.best[policy] == min(losses, key=lambda kind: losses[kind])
            # Shooter skill is in the synthetic signal and only the models can see it.
            assert result.scores[policy].overall.roc_auc > result.baseline.overall.roc_auc
        assert result.calibrators["family"][result.best["family"]].startswith("family(")


def test_the_summary_is_one_json_line_with_the_worst_cases(run: tuple[list[SeasonResult], list[Any]]) -> None:
    results, _ = run
    summary = json.loads(json.dumps(walkforward_summary(results, policies=["global", "family"])))
    for key in ("seasons", "worst_auc", "worst_auc_minus_baseline", "worst_ece", "worst_gap_2pt", "worst_gap_3pt"):
        assert key in summary
    assert [s["season"] for s in summary["seasons"]] == list(SEASONS[1:])
    assert summary["worst_auc"] == min(s["model"]["overall"]["auc"] for s in summary["seasons"])
    assert summary["worst_gap_3pt"] == max(s["model"]["gap_3pt"] for s in summary["seasons"])
    assert set(summary["policies"]) == {"global", "family"}


def test_a_season_without_an_earlier_one_cannot_be_walked_to(shots: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="2020-21"):
        walkforward_run(shots=shots, seasons=["2020-21"], kinds=("xgboost",), xgboost_params=FAST_XGBOOST)


def test_in_season_recalibration_starts_from_the_base_policy_and_follows_earlier_dates_only(
    run: tuple[list[SeasonResult], list[Any]],
) -> None:
    results, _ = run
    for result in results:
        assert result.test_dates is not None
        base, corrected = result.test_proba["family"], result.test_proba["family-inseason"]
        first = result.test_dates == result.test_dates.min()
        # Nothing of the season is settled before its first date: the base calibrator's probabilities.
        assert (corrected[first] == base[first]).all()
        assert (corrected[~first] != base[~first]).any()
        assert result.best["family-inseason"] == result.best["family"]
        assert result.calibrators["family-inseason"][result.best["family"]].endswith("+ in-season")
        assert set(result.corrections["family-inseason"]) == {"2PT", "3PT"}
    summary = walkforward_summary(results, policies=["family-inseason", "family"])
    assert "last_correction" in summary["seasons"][0]
    assert "family-inseason" in summary["policies"]


def test_in_season_recalibration_closes_a_level_shift_the_training_window_cannot_see(shots: pd.DataFrame) -> None:
    """The last season's twos go in less often (a third of the makes become misses): the base calibrator,
    fitted on the seasons before, over-predicts every two; the in-season correction follows."""
    drifted = shots.copy()
    rng = np.random.default_rng(0)
    rows = (drifted["season"] == SEASONS[2]) & (drifted["shot_type"] == "2PT") & drifted["made"]
    drifted.loc[rows & (rng.random(len(drifted)) < 1 / 3), "made"] = False
    results = walkforward_run(
        shots=drifted, seasons=[SEASONS[2]], history_days=400, kinds=("xgboost",), xgboost_params=FAST_XGBOOST,
        pipeline_params={"min_action_count": 50}, policies={"family": FAMILY, "family-inseason": IN_SEASON},
    )
    scores = results[0].scores
    assert scores["family"].gap("2PT") > 0.05
    assert scores["family-inseason"].gap("2PT") < scores["family"].gap("2PT") / 2
    assert scores["family-inseason"].overall.log_loss < scores["family"].overall.log_loss
    assert results[0].corrections["family-inseason"]["2PT"] < -0.1


def test_extra_features_are_appended_to_every_slice_for_measurement(shots: pd.DataFrame) -> None:
    from training.ml.context import CONTEXT_COLUMNS, game_context_features

    widths: list[tuple[int, int, int]] = []
    original = walkforward.challengers_fit

    def spy(**kwargs: Any) -> Any:
        data = kwargs["data"]
        widths.append((data.x_train.shape[1], data.x_validation.shape[1], len(data.pipeline.feature_names)))
        return original(**kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(walkforward, "challengers_fit", spy)
    try:
        results = walkforward_run(
            shots=shots.assign(team_id=shots["player_id"] % 2), seasons=[SEASONS[1]], history_days=400,
            kinds=("xgboost",), xgboost_params=FAST_XGBOOST, pipeline_params={"min_action_count": 50},
            policies={"family": FAMILY}, extra_features=game_context_features,
        )
    finally:
        patch.undo()
    (train_width, validation_width, pipeline_width), = widths
    assert train_width == validation_width == pipeline_width + len(CONTEXT_COLUMNS)
    assert results[0].scores["family"].overall.rows == results[0].test_rows
