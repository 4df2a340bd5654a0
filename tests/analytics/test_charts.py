"""Shot charts and match views as stored: sums that add up across seasons, and compact games."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import charts
from tests.training.factories import shots_frame


def priced(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    return frame.assign(p=np.random.default_rng(seed).uniform(0.2, 0.7, len(frame)))


def test_a_chart_counts_every_half_court_shot_once_and_drops_heaves():
    frame = priced(shots_frame(players=10, days=5, shots_per_day=50))
    frame.loc[0, "y_ft"] = 70.0  # a heave from the other half

    chart = charts.chart_sums(charts.bin_columns(frame))

    assert chart["shots"] == len(frame) - 1 == sum(b[2] for b in chart["bins"])
    assert chart["made"] == int(frame["made"].iloc[1:].sum()) == sum(b[3] for b in chart["bins"])
    assert chart["p_sum"] == pytest.approx(frame["p"].iloc[1:].sum(), abs=1e-3)


def test_seasons_add_up_square_by_square_to_the_chart_of_all_of_them():
    first = priced(shots_frame(players=10, days=5, shots_per_day=50, seed=1))
    second = priced(shots_frame(players=10, days=5, shots_per_day=50, seed=2), seed=1)

    merged = charts.chart_merge([charts.chart_sums(charts.bin_columns(first)),
                                 charts.chart_sums(charts.bin_columns(second))])  # fmt: skip
    direct = charts.chart_sums(charts.bin_columns(pd.concat([first, second], ignore_index=True)))

    assert [b[:4] for b in merged["bins"]] == [b[:4] for b in direct["bins"]]
    assert [b[4] for b in merged["bins"]] == pytest.approx([b[4] for b in direct["bins"]], abs=1e-3)
    assert (merged["shots"], merged["made"]) == (direct["shots"], direct["made"])


def test_the_page_gets_rates_and_mean_probabilities_per_square():
    frame = priced(shots_frame(players=4, days=2, shots_per_day=30))
    page = charts.chart_for_page(charts.chart_sums(charts.bin_columns(frame)), version=3)

    assert page["version"] == 3
    assert all(0 <= b["rate"] <= 1 and 0.2 <= b["p"] <= 0.7 for b in page["bins"])
    assert page["make_rate"] == round(float(frame["made"].mean()), 4)


def test_without_a_model_the_chart_has_rates_and_no_probabilities():
    frame = shots_frame(players=4, days=2, shots_per_day=30).assign(p=np.nan)
    page = charts.chart_for_page(charts.chart_sums(charts.bin_columns(frame)), version=None)

    assert page["shots"] == len(frame)
    assert page["mean_probability"] is None
    assert all(b["p"] is None for b in page["bins"])


def test_a_stored_match_expands_to_each_teams_points_shot_by_shot():
    game = priced(shots_frame(players=6, days=1, shots_per_day=40))
    game["team_name"] = np.where(game["player_id"] % 2 == 0, "Boston Celtics", "Los Angeles Lakers")

    match = charts.match_expand(charts.match_compact(game, team_codes={"Boston Celtics": "BOS"}, version=2))

    assert match["shots"] == len(game)
    for team in match["teams"]:
        shots = game.loc[game["team_name"] == team["team"]]
        value = np.where(shots["shot_type"] == "3PT", 3, 2)
        assert team["actual"] == float((value * shots["made"]).sum())
        assert team["expected"] == pytest.approx(float((value * shots["p"]).sum()), abs=0.05)
        assert [p["x"] for p in team["actual_curve"]] == sorted(p["x"] for p in team["actual_curve"])
    assert {t["code"] for t in match["teams"]} == {"BOS", "Los Angeles Lakers"}


def test_overtime_minutes_follow_regulation():
    minutes = charts.elapsed_minutes(period=[1, 4, 5, 6], seconds_left=[720, 0, 300, 0])

    assert minutes.tolist() == [0.0, 48.0, 48.0, 58.0]
