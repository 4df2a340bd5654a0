"""Shot-making over expected: the arithmetic, on frames built here (no I/O)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.smoe import season_prior, shot_making_table, shrink


def shots_of(player_id: int, probabilities: np.ndarray, made: np.ndarray, *, season: str = "2023-24",
             value: float = 2.0) -> pd.DataFrame:
    n = len(probabilities)
    return pd.DataFrame({
        "player_id": player_id, "player_name": f"P{player_id}", "team": "BOS", "season": season,
        "game_date": pd.date_range("2023-10-24", periods=n, freq="h"), "made": made.astype(bool),
        "p": probabilities, "value": value,
    })  # fmt: skip


def league(*, players: int, attempts: int, true_spread: float, seed: int = 1) -> pd.DataFrame:
    """Players whose true make rate is the model's probability plus their own skill delta."""
    rng = np.random.default_rng(seed)
    frames = []
    for player in range(players):
        p = rng.uniform(0.3, 0.65, attempts)
        delta = rng.normal(0.0, true_spread) if true_spread else 0.0
        made = rng.random(attempts) < np.clip(p + delta, 0.01, 0.99)
        frames.append(shots_of(player, p, made))
    return pd.concat(frames, ignore_index=True)


def test_actual_and_expected_fg_and_points_per_shot_are_the_plain_averages():
    frame = pd.concat([
        shots_of(1, np.array([0.5, 0.5, 0.4, 0.6]), np.array([1, 1, 0, 0]), value=2.0),
        shots_of(1, np.array([0.35]), np.array([1]), value=3.0),
    ], ignore_index=True)  # fmt: skip

    table, _ = shot_making_table(frame, min_attempts=1)

    row = table.iloc[0]
    assert (row["attempts"], row["made"]) == (5, 3)
    assert row["fg_pct"] == pytest.approx(3 / 5)
    assert row["xfg_pct"] == pytest.approx((0.5 + 0.5 + 0.4 + 0.6 + 0.35) / 5)
    assert row["pps"] == pytest.approx((2 + 2 + 3) / 5)
    assert row["xpps"] == pytest.approx((2 * (0.5 + 0.5 + 0.4 + 0.6) + 3 * 0.35) / 5)
    assert row["diff_raw"] == pytest.approx(row["fg_pct"] - row["xfg_pct"])


def test_fewer_attempts_are_pulled_harder_toward_zero_with_a_wider_interval():
    diff = np.array([0.05, 0.05])
    sampling_var = np.array([0.25 / 50, 0.25 / 2000])  # 50 and 2,000 attempts at p = 0.5

    mean, low, high = shrink(diff=diff, sampling_var=sampling_var, tau2=0.02**2)

    assert 0 < mean[0] < mean[1] < 0.05
    assert high[0] - low[0] > high[1] - low[1]
    assert np.all(low < mean)
    assert np.all(mean < high)


def test_without_any_spread_in_true_skill_every_difference_shrinks_to_zero():
    mean, low, high = shrink(diff=np.array([0.08, -0.03]), sampling_var=np.array([0.001, 0.0001]), tau2=0.0)

    assert np.all(mean == 0)
    assert np.all(low == 0)
    assert np.all(high == 0)


def test_the_season_prior_recovers_the_true_spread_of_shot_making():
    frame = league(players=300, attempts=800, true_spread=0.04)

    table, priors = shot_making_table(frame, min_attempts=100)

    assert priors["2023-24"].players == 300
    assert np.sqrt(priors["2023-24"].tau2) == pytest.approx(0.04, abs=0.01)
    assert (table["diff"].abs() <= table["diff_raw"].abs() + 1e-12).all()


def test_players_who_shoot_exactly_as_expected_are_not_called_hot():
    frame = league(players=200, attempts=300, true_spread=0.0, seed=4)

    table, priors = shot_making_table(frame, min_attempts=100)

    assert np.sqrt(priors["2023-24"].tau2) < 0.015
    covered = ((table["diff_low"] <= 0) & (table["diff_high"] >= 0)).mean()
    assert covered >= 0.95
    assert table["diff"].abs().max() < table["diff_raw"].abs().max()


def test_players_below_the_minimum_still_get_a_row_but_do_not_set_the_prior():
    frame = pd.concat([league(players=5, attempts=400, true_spread=0.03),
                       shots_of(99, np.full(10, 0.5), np.ones(10))], ignore_index=True)  # fmt: skip

    table, priors = shot_making_table(frame, min_attempts=100)

    assert priors["2023-24"].players == 5
    hot_hand = table.loc[table["player_id"] == 99].iloc[0]
    assert hot_hand["diff_raw"] == pytest.approx(0.5)
    assert hot_hand["diff"] < 0.25  # ten makes in a row is not a 50-point shooter


def test_each_season_gets_its_own_prior():
    frame = pd.concat([league(players=50, attempts=400, true_spread=0.05, seed=2),
                       league(players=50, attempts=400, true_spread=0.0, seed=3).assign(season="2022-23")],
                      ignore_index=True)  # fmt: skip

    _, priors = shot_making_table(frame, min_attempts=100)

    assert priors["2023-24"].tau2 > priors["2022-23"].tau2


def test_a_frame_without_the_needed_columns_is_refused_by_name():
    with pytest.raises(ValueError, match="'p'"):
        shot_making_table(pd.DataFrame({"player_id": [1]}), min_attempts=1)


def test_the_prior_needs_two_players_with_enough_attempts():
    prior = season_prior(diff=np.array([0.1]), sampling_var=np.array([0.001]), attempts=np.array([500]), min_attempts=100)

    assert (prior.tau2, prior.players) == (0.0, 1)
