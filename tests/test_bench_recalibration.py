"""bench/walkforward.py's saved probabilities and bench/recalibration_grid.py's replay of them."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import recalibration_grid
from bench.walkforward import probabilities_save
from training.ml.walkforward import SeasonResult, slice_scores


def season_result(*, season: str, seed: int, shift: float) -> SeasonResult:
    """A scored season whose twos go in less often than the model says (a logit shift of ``shift``)."""
    rng = np.random.default_rng(seed)
    n = 30 * 800
    dates = np.repeat(pd.date_range("2016-10-25", periods=30).to_numpy(), 800)
    three = rng.random(n) < 0.3
    proba = 1 / (1 + np.exp(-rng.normal(0, 0.6, n)))
    truth = np.log(proba / (1 - proba)) + np.where(three, 0.0, shift)
    y = (rng.random(n) < 1 / (1 + np.exp(-truth))).astype(np.int64)
    frame = pd.DataFrame({"made": y, "shot_type": np.where(three, "3PT", "2PT")})
    day = dt.date(2016, 10, 25)
    return SeasonResult(
        season=season, train_seasons=[], train_first=day, train_last=day, validation_first=day, test_first=day,
        test_last=day, train_rows=0, validation_rows=0, test_rows=n,
        baseline=slice_scores(frame=frame, proba=np.full(n, y.mean())),
        test_labels=y, test_is_three=three, test_dates=dates, test_proba={"family": proba},
    )


def test_the_grid_replays_saved_probabilities_and_recalibration_closes_the_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probabilities_save([season_result(season="2016-17", seed=1, shift=-0.3),
                        season_result(season="2017-18", seed=2, shift=0.2)], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2016-17.npz", "2017-18.npz"]
    assert recalibration_grid.main([str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["seasons"] == ["2016-17", "2017-18"]
    rows = {row["setting"]: row for row in summary["settings"]}
    base, recalibrated = rows["none (base)"], rows["hl 21 prior 1000"]
    assert base["worst_gap_2pt"] > 0.04
    assert recalibrated["worst_gap_2pt"] < base["worst_gap_2pt"] / 2
    assert recalibrated["mean_log_loss"] < base["mean_log_loss"]


def test_a_season_without_kept_probabilities_is_refused(tmp_path: Path) -> None:
    result = season_result(season="2016-17", seed=1, shift=0.0)
    result.test_labels = None
    with pytest.raises(ValueError, match="keep_probabilities"):
        probabilities_save([result], tmp_path)


class ParserError(Exception):
    pass


def _error(message: str) -> None:
    raise ParserError(message)


def test_an_ablation_names_its_context_columns_and_appends_only_those() -> None:
    from bench.walkforward import context_columns_chosen, measured_features
    from training.ml.context import CONTEXT_COLUMNS

    assert context_columns_chosen(all_columns=False, named=None, error=_error) == []
    assert context_columns_chosen(all_columns=True, named=None, error=_error) == list(CONTEXT_COLUMNS)
    # The module's order, whatever order they were named in.
    chosen = context_columns_chosen(all_columns=False, named=["ctx_fg_margin", "ctx_shooter_attempts"], error=_error)
    assert chosen == ["ctx_shooter_attempts", "ctx_fg_margin"]
    with pytest.raises(ParserError, match="ctx_nonsense"):
        context_columns_chosen(all_columns=False, named=["ctx_fg_margin", "ctx_nonsense"], error=_error)
    with pytest.raises(ParserError, match="not both"):
        context_columns_chosen(all_columns=True, named=["ctx_fg_margin"], error=_error)

    game = pd.DataFrame({
        "game_id": ["g1"] * 3, "event_id": [1, 2, 3], "period": [1, 1, 1], "seconds_left": [700, 690, 600],
        "player_id": [7, 7, 8], "team_id": [1, 1, 2], "made": [1, 0, 1], "shot_type": ["2PT", "3PT", "3PT"],
    })
    assert measured_features([], opponent_days=None, opponent_prior=300) is None
    features = measured_features(chosen, opponent_days=None, opponent_prior=300)
    assert features is not None
    columns = features(game)
    assert list(columns.columns) == chosen
    # The third shot (the other team) sees the first team's 2 points: a margin of -2; the shooter's
    # second shot sees one earlier attempt of his.
    assert columns["ctx_fg_margin"].tolist() == [0.0, 2.0, -2.0]
    assert columns["ctx_shooter_attempts"].tolist() == [0.0, 1.0, 0.0]


def test_the_opponent_defence_reads_only_earlier_days_and_is_shrunk_toward_the_league() -> None:
    from bench.opponent_defense import opponent_defense_features
    from bench.walkforward import measured_features

    # Day 1: BOS (home) shoots 2PT against NYK 4 times, 1 made; NYK shoots 2PT against BOS 4 times, 3 made.
    # Day 2: one shot each way, and one with no known side.
    day1 = pd.Timestamp("2024-01-01")
    day2 = pd.Timestamp("2024-01-02")
    frame = pd.DataFrame({
        "game_date": [day1] * 8 + [day2] * 3,
        "is_home": [True] * 4 + [False] * 4 + [True, False, None],
        "home_team": ["BOS"] * 11, "away_team": ["NYK"] * 11,
        "shot_type": ["2PT"] * 11,
        "made": [1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1],
    })
    out = opponent_defense_features(frame, days=30, prior=4.0)["opp_allowed_rel"].to_numpy()

    # Day 1 sees nothing before it: unknown.
    assert np.isnan(out[:8]).all()
    league = 4 / 8
    # BOS's day-2 shot faces NYK, which allowed 1 of 4: (1 + 4 * 0.5) / (4 + 4) - 0.5.
    assert out[8] == pytest.approx((1 + 4 * league) / 8 - league)
    # NYK's faces BOS, which allowed 3 of 4.
    assert out[9] == pytest.approx((3 + 4 * league) / 8 - league)
    assert np.isnan(out[10])
    # Outside the window (30 days later) nothing is remembered.
    later = frame.assign(game_date=[day1] * 8 + [day1 + pd.Timedelta(days=31)] * 3)
    assert np.isnan(opponent_defense_features(later, days=30, prior=4.0)["opp_allowed_rel"].to_numpy()[8:]).all()
    combined = measured_features([], opponent_days=30, opponent_prior=4.0)
    assert combined is not None
    assert list(combined(frame).columns) == ["opp_allowed_rel"]


def test_the_shooters_skill_is_what_he_made_beyond_the_leagues_rate_on_earlier_days_only() -> None:
    from bench.shooter_skill import shooter_skill_features
    from bench.walkforward import _params, measured_features

    def shot(player: int, day: int, made: bool, three: bool = False) -> dict[str, object]:
        return {"player_id": player, "game_date": pd.Timestamp("2024-01-01") + pd.Timedelta(days=day), "made": made,
                "shot_type": "3PT" if three else "2PT", "distance_ft": 25.0 if three else 2.0,
                "action_type": "Jump Shot" if three else "Layup Shot",
                "zone_basic": "Above the Break 3" if three else "Restricted Area"}

    # Day 0: the league (players 1 and 2) makes 2 layups of 4; day 1: player 1 takes a layup and a three.
    frame = pd.DataFrame([shot(1, 0, True), shot(1, 0, True), shot(2, 0, False), shot(2, 0, False),
                          shot(1, 1, False), shot(1, 1, True, three=True)])
    out = shooter_skill_features(frame, prior=2.0)
    # Nothing before day 0: every day-0 shot reads 0 (league average), whatever it became.
    assert out.iloc[:4].to_numpy().tolist() == [[0.0, 0.0]] * 4
    # Day 0's shots were priced at the whole frame's rate before any league day (0.5): player 1 made
    # both (+0.5 each), so on day 1 he is +1.0 over 2 attempts shrunk by 2: +0.25, for layups and overall.
    assert out["skill_all"].iloc[4] == pytest.approx(0.25)
    assert out["skill_shot_family"].iloc[4] == pytest.approx(0.25)
    # His three: no earlier three, so the family's skill is 0; his overall skill is the layups'.
    assert out["skill_shot_family"].iloc[5] == pytest.approx(0.0)
    assert out["skill_all"].iloc[5] == pytest.approx(0.25)
    # What day 1 did changes nothing of day 1 (no shot sees its own date).
    flipped = frame.assign(made=[True, True, False, False, True, False])
    assert shooter_skill_features(flipped, prior=2.0).iloc[4:].equals(out.iloc[4:])
    features = measured_features([], opponent_days=None, opponent_prior=300, skill_prior=2.0)
    assert features is not None
    assert list(features(frame).columns) == ["skill_all", "skill_shot_family"]
    assert _params("max_depth=8,learning_rate=0.03") == {"max_depth": 8, "learning_rate": 0.03}
    with pytest.raises(argparse.ArgumentTypeError, match="depth"):
        _params("depth=8")
