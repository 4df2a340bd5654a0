from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from training.ml.evaluate import (
    LookupBaseline,
    calibration_figure,
    confusion_figure,
    expected_calibration_error,
    importance_figure,
    scores_compute,
)


def test_ece_on_a_hand_computed_example() -> None:
    # Bin 1 holds 0.1 and 0.15 (mean 0.125, one make in two: gap 0.375);
    # bin 8 holds 0.8 and 0.85 (mean 0.825, one make in two: gap 0.325). Each bin weighs 1/2.
    y = [0, 1, 1, 0]
    p = [0.1, 0.15, 0.8, 0.85]
    assert expected_calibration_error(y_true=y, proba=p) == pytest.approx(0.5 * 0.375 + 0.5 * 0.325)


def test_ece_puts_a_certain_prediction_in_the_last_bin_and_is_zero_when_calibrated() -> None:
    assert expected_calibration_error(y_true=[1, 1], proba=[1.0, 0.95]) == pytest.approx(0.025)
    assert expected_calibration_error(y_true=[0, 1, 0, 1], proba=[0.5] * 4) == 0


def test_scores_against_hand_computed_values() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.4, 0.6])
    scores = scores_compute(y_true=y, proba=p)
    assert scores.accuracy == 0.5
    assert scores.confusion == [[1, 1], [1, 1]]
    assert scores.roc_auc == pytest.approx(0.75)  # 3 of the 4 (made, missed) pairs are ordered right
    expected_log_loss = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.4)) / 4
    assert scores.log_loss == pytest.approx(expected_log_loss)
    assert scores.brier == pytest.approx((0.01 + 0.04 + 0.36 + 0.36) / 4)
    assert scores.as_metrics(prefix="test_")["test_accuracy"] == 0.5


def test_auc_is_nan_with_one_class() -> None:
    assert math.isnan(scores_compute(y_true=[1, 1], proba=[0.3, 0.6]).roc_auc)


def test_lookup_baseline_falls_back_from_cell_to_zone_to_league() -> None:
    frame = pd.DataFrame({
        "zone_basic": ["Restricted Area"] * 4 + ["Mid-Range"] * 4,
        "action_type": ["Dunk Shot"] * 2 + ["Layup Shot"] * 2 + ["Jump Shot"] * 4,
        "made": [True, True, True, False, False, False, True, False],
    })  # fmt: skip
    baseline = LookupBaseline(smoothing=0.0).fit(frame)
    query = pd.DataFrame({"zone_basic": ["Restricted Area", "Restricted Area", "Backcourt"],
                          "action_type": ["Dunk Shot", "Hook Shot", "Jump Shot"]})
    np.testing.assert_allclose(baseline.predict_proba_frame(query), [1.0, 0.75, 0.5])


def test_figures_render_to_png() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.7, 0.6, 0.4, 0.9])
    figures = [
        calibration_figure(y_true=y, probabilities={"model": p}),
        confusion_figure(confusion=scores_compute(y_true=y, proba=p).confusion),
        importance_figure(importance={"distance_ft": 0.6, "is_three": 0.4}),
    ]
    for figure in figures:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        assert buffer.getvalue()[:4] == b"\x89PNG"
