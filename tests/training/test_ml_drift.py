from __future__ import annotations

import pandas as pd
import pytest

from tests.training.factories import shots_frame
from training.ml.drift import CATEGORICAL_COLUMNS, NUMERICAL_COLUMNS, drift_report_build


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
