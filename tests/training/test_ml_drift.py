from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shots_frame
from training.ml.drift import (
    CATEGORICAL_COLUMNS,
    MISSING,
    NUMERICAL_COLUMNS,
    calibration_by_family,
    calibration_figures,
    calibration_story,
    column_comparison,
    drift_inputs,
    drift_report_build,
    drift_severity,
    shots_headline,
)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return shots_frame(players=20, days=10, shots_per_day=40, seed=1)


def test_shifted_shots_and_a_new_action_type_are_reported_as_drift(reference: pd.DataFrame) -> None:
    current = shots_frame(players=20, days=5, shots_per_day=40, seed=2)
    current["distance_ft"] = current["distance_ft"] + 12
    current["x_ft"] = current["x_ft"] + 10
    current["y_ft"] = current["y_ft"] + 10
    current["action_type"] = "Never Seen Before Shot"
    current["zone_basic"] = "Above the Break 3"
    current["shot_type"] = "3PT"
    current["seconds_left"] = 3
    current["made"] = False
    report = drift_report_build(reference=reference, current=current)
    assert {"distance_ft", "action_type", "shot_type"} <= set(report.drifted_columns)
    assert report.share_drifted == len(report.drifted_columns) / (len(NUMERICAL_COLUMNS) + len(CATEGORICAL_COLUMNS))
    assert report.dataset_drift is True
    assert report.target_drift is True
    assert report.html.lstrip().lower().startswith("<!doctype html") or "<html" in report.html[:500].lower()
    assert report.json["metrics"]


def test_the_same_distribution_does_not_drift_and_tiny_frames_work(reference: pd.DataFrame) -> None:
    same = drift_report_build(reference=reference, current=shots_frame(players=20, days=10, shots_per_day=40, seed=9),
                              with_html=False)
    assert same.dataset_drift is False
    assert same.share_drifted < 0.5
    tiny = drift_report_build(reference=reference.head(5), current=reference.tail(3).drop(columns="made"),
                              with_html=False)
    assert 0 <= tiny.share_drifted <= 1
    assert tiny.target_drift is None  # no labels on the current side yet
    assert tiny.summary()["current_rows"] == 3


def test_empty_frames_are_refused(reference: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="rows on both sides"):
        drift_report_build(reference=reference, current=reference.head(0))


# --- the story ---------------------------------------------------------------------------------------


def test_severity_puts_p_values_and_distances_on_one_scale() -> None:
    assert drift_severity(method="K-S p_value", score=0.05, threshold=0.05) == pytest.approx(1.0)
    assert drift_severity(method="chi-square p_value", score=0.0025, threshold=0.05) == pytest.approx(2.0)
    assert drift_severity(method="K-S p_value", score=1.0, threshold=0.05) == 0.0
    assert drift_severity(method="Wasserstein distance (normed)", score=0.3, threshold=0.1) == pytest.approx(3.0)
    assert drift_severity(method="Jensen-Shannon distance", score=float("nan"), threshold=0.1) == 0.0


def test_numerical_inputs_are_compared_by_mean_median_and_percentiles() -> None:
    comparison = column_comparison(reference=pd.Series([10.0, 20.0, 30.0, None]), current=pd.Series([24.0, 26.0]),
                                   kind="numerical")
    assert comparison["reference"]["mean"] == 20.0
    assert comparison["reference"]["median"] == 20.0
    assert comparison["reference"]["missing"] == 0.25
    assert comparison["current"]["mean"] == 25.0
    assert comparison["current"]["p10"] == pytest.approx(24.2)
    assert comparison["current"]["missing"] == 0.0


def test_categorical_inputs_list_the_categories_whose_share_moved_most() -> None:
    reference = pd.Series(["2PT"] * 6 + ["3PT"] * 4)
    current = pd.Series(["2PT"] * 3 + ["3PT"] * 5 + [None] * 2)
    comparison = column_comparison(reference=reference, current=current, kind="categorical", top=2)
    assert comparison["categories"] == [
        {"value": "2PT", "reference": 0.6, "current": 0.3, "change": -0.3},
        {"value": MISSING, "reference": 0.0, "current": 0.2, "change": 0.2},
    ]


def test_inputs_come_drifted_first_the_furthest_past_their_threshold_first(reference: pd.DataFrame) -> None:
    current = shots_frame(players=20, days=5, shots_per_day=40, seed=2)
    current["distance_ft"] = current["distance_ft"] + 12
    current["shot_type"] = "3PT"
    report = drift_report_build(reference=reference, current=current, with_html=False)
    rows = drift_inputs(report=report, reference=reference, current=current)

    assert [r["column"] for r in rows if r["drifted"]] == [r["column"] for r in rows[:len(report.drifted_columns)]]
    assert {r["column"] for r in rows if r["drifted"]} == set(report.drifted_columns) >= {"distance_ft", "shot_type"}
    drifted = [r["severity"] for r in rows if r["drifted"]]
    assert drifted == sorted(drifted, reverse=True)
    assert min(drifted) >= 1
    assert len(rows) == len(NUMERICAL_COLUMNS) + len(CATEGORICAL_COLUMNS)
    distance = next(r for r in rows if r["column"] == "distance_ft")["comparison"]
    assert distance["current"]["mean"] == pytest.approx(distance["reference"]["mean"] + 12, abs=1.5)
    shot_type = next(r for r in rows if r["column"] == "shot_type")["comparison"]["categories"]
    assert {c["value"]: c["current"] for c in shot_type} == {"3PT": 1.0, "2PT": 0.0}


def test_the_headline_gives_the_three_point_share_mean_distance_and_make_rate() -> None:
    frame = pd.DataFrame({"game_date": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03", "2024-01-03"]),
                          "shot_type": ["3PT", "2PT", "2PT", "3PT"], "distance_ft": [25.0, 3.0, 12.0, 24.0],
                          "made": [True, True, False, False]})
    assert shots_headline(frame) == {"rows": 4, "first_date": "2024-01-01", "last_date": "2024-01-03",
                                     "three_share": 0.5, "mean_distance_ft": 16.0, "made_rate": 0.5}
    assert shots_headline(frame.head(0)) == {"rows": 0}


def test_calibration_figures_have_the_gap_ece_and_log_loss_of_known_probabilities() -> None:
    figures = calibration_figures(y_true=[1, 0, 0, 0], proba=[0.5, 0.5, 0.1, 0.1])
    assert figures["n"] == 4
    assert figures["predicted"] == 0.3
    assert figures["observed"] == 0.25
    assert figures["gap"] == 0.05  # predicted - observed: over-predicted by five points
    # Bin [0.5, 0.6): 0.5 predicted, 0.5 observed; bin [0.1, 0.2): 0.1 predicted, 0 observed, two shots each.
    assert figures["ece"] == pytest.approx((2 * 0.0 + 2 * 0.1) / 4)
    assert figures["log_loss"] == pytest.approx(-(np.log(0.5) * 2 + np.log(0.9) * 2) / 4, abs=1e-4)
    assert figures["curve"] == [{"predicted": 0.1, "observed": 0.0, "count": 2},
                                {"predicted": 0.5, "observed": 0.5, "count": 2}]
    assert calibration_figures(y_true=[], proba=[]) == {"n": 0}


def test_calibration_is_reported_for_every_shot_and_per_shot_family() -> None:
    frame = pd.DataFrame({"shot_type": ["2PT", "2PT", "2PT", "3PT", "3PT"],
                          "distance_ft": [2.0, 4.0, 18.0, 25.0, 26.0], "made": [True, True, False, True, False]})
    rows = calibration_by_family(frame=frame, proba=[0.6, 0.6, 0.4, 0.3, 0.3])
    by_family = {r["family"]: r for r in rows}

    assert list(by_family) == ["all", "2PT", "3PT", "close 2PT (< 10 ft)", "mid-range 2PT"]
    assert by_family["3PT"]["group"] == "shot type"
    assert by_family["mid-range 2PT"]["group"] == "range"
    assert (by_family["3PT"]["n"], by_family["3PT"]["predicted"], by_family["3PT"]["observed"]) == (2, 0.3, 0.5)
    assert by_family["3PT"]["gap"] == -0.2  # threes under-predicted by 20 points
    assert (by_family["close 2PT (< 10 ft)"]["n"], by_family["close 2PT (< 10 ft)"]["gap"]) == (2, -0.4)
    assert by_family["all"]["n"] == 5
    with pytest.raises(ValueError, match="5 shots but 2 probabilities"):
        calibration_by_family(frame=frame, proba=[0.5, 0.5])


def test_logged_forecasts_are_read_first_where_a_family_has_enough_of_them() -> None:
    replayed = [{"group": "shot type", "family": "2PT", "n": 900, "gap": 0.01},
                {"group": "shot type", "family": "3PT", "n": 400, "gap": -0.02}]
    logged = [{"group": "shot type", "family": "2PT", "n": 300, "gap": 0.0},
              {"group": "shot type", "family": "3PT", "n": 20, "gap": -0.1}]
    story = calibration_story(logged=logged, replayed=replayed, min_logged=200)

    assert [(e["family"], e["preferred"]) for e in story] == [("2PT", "log"), ("3PT", "replay")]
    assert story[0]["log"] == {"n": 300, "gap": 0.0}
    assert story[0]["replay"] == {"n": 900, "gap": 0.01}
    assert calibration_story(logged=[], replayed=replayed, min_logged=200)[1]["log"] is None
