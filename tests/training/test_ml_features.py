from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shot_record, shots_frame
from training.ml.context import with_previous_shots
from training.ml.features import (
    GROUPS,
    OTHER,
    ZONE_SPOTS,
    PlayerHistory,
    ShotFeaturePipeline,
    history_daily_counts,
    zone_spots,
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return shots_frame(players=30, days=40, shots_per_day=50)


@pytest.fixture(scope="module")
def pipeline(frame: pd.DataFrame) -> ShotFeaturePipeline:
    return ShotFeaturePipeline(min_action_count=50).fit(frame)


def column(pipeline: ShotFeaturePipeline, matrix: np.ndarray, name: str) -> np.ndarray:
    return matrix[:, pipeline.feature_names.index(name)]


def test_history_counts_only_games_before_the_shots_date() -> None:
    day = dt.datetime(2024, 1, 1)
    rows = []
    for offset, made in ((0, True), (1, False), (2, True)):  # three game dates, ten shots each
        for event in range(10):
            rows.append({"player_id": 7, "game_date": day + dt.timedelta(days=offset), "shot_type": "2PT",
                         "distance_ft": 2.0, "zone_basic": "Restricted Area", "action_type": "Dunk Shot",
                         "made": made, "event_id": event})
    history = PlayerHistory.from_shots(pd.DataFrame(rows))
    dates = [day + dt.timedelta(days=k) for k in range(4)]
    attempts, makes = history.lookup(player_ids=[7] * 4, game_dates=dates)
    all_column = GROUPS.index("all")
    # The first game sees nothing, the second only the first (10/10), never its own misses.
    assert attempts[:, all_column].tolist() == [0, 10, 20, 30]
    assert makes[:, all_column].tolist() == [0, 10, 10, 20]


def test_features_of_a_shot_do_not_change_when_its_own_game_or_later_games_change(
    frame: pd.DataFrame, pipeline: ShotFeaturePipeline
) -> None:
    cutoff = frame["game_date"].sort_values().unique()[20]
    altered = frame.copy()
    later = altered["game_date"] >= cutoff
    altered.loc[later, "made"] = ~altered.loc[later, "made"]  # flip every label from the cutoff game on
    before = pipeline.transform(frame, history=PlayerHistory.from_shots(frame))
    after = pipeline.transform(frame, history=PlayerHistory.from_shots(altered))
    on_or_before = (frame["game_date"] <= cutoff).to_numpy()
    np.testing.assert_array_equal(before[on_or_before], after[on_or_before])
    # ...whereas shots after the cutoff do see the flipped games (the test can tell the difference).
    assert not np.array_equal(before[~on_or_before], after[~on_or_before])


def test_history_lookup_matches_a_brute_force_count(frame: pd.DataFrame) -> None:
    history = PlayerHistory.from_daily_counts(history_daily_counts(frame))
    rng = np.random.default_rng(0)
    players = rng.choice(frame["player_id"].unique(), 15)
    dates = rng.choice(frame["game_date"].unique(), 15)
    attempts, makes = history.lookup(player_ids=players, game_dates=dates)
    for i, (player, date) in enumerate(zip(players, dates, strict=True)):
        past = frame[(frame["player_id"] == player) & (frame["game_date"] < date)]
        assert attempts[i, 0] == len(past)
        assert makes[i, 0] == past["made"].sum()
        threes = past[past["shot_type"] == "3PT"]
        assert attempts[i, GROUPS.index("three")] == len(threes)


def test_unknown_player_and_categories_fall_back_to_the_league_prior(pipeline: ShotFeaturePipeline) -> None:
    record = shot_record(player_id=424242, action_type="Flying Windmill Shot", zone_basic="Moon",
                         zone_area=None, position="XX")
    del record["season"]  # missing keys count as unknown too
    matrix = pipeline.transform_records([record])
    assert np.isfinite(matrix[:, [i for i, n in enumerate(pipeline.feature_names) if "rate" in n]]).all()
    assert column(pipeline, matrix, "player_rate_all")[0] == pytest.approx(pipeline.group_rates[0], abs=1e-6)
    assert column(pipeline, matrix, "player_log_attempts_all")[0] == 0
    assert column(pipeline, matrix, "action_rate")[0] == pytest.approx(pipeline.league_rate, abs=1e-6)
    assert column(pipeline, matrix, f"action_{OTHER}")[0] == 1
    assert column(pipeline, matrix, "position_known")[0] == 0
    assert column(pipeline, matrix, "season_start")[0] == 2023  # from the game date
    assert sum(column(pipeline, matrix, f"zone_basic_{z}")[0] for z in ("Mid-Range", "Restricted Area")) == 0


def test_the_record_path_equals_the_batch_path(frame: pd.DataFrame, pipeline: ShotFeaturePipeline) -> None:
    # A record carries its game context (serving fills it in); a frame's is computed from its whole games.
    sample = with_previous_shots(frame).sample(60, random_state=1)
    records = [
        {**row, "game_date": row["game_date"].to_pydatetime()} for row in sample.to_dict(orient="records")
    ]
    np.testing.assert_array_equal(pipeline.transform_records(records), pipeline.transform(sample))


def test_the_label_never_becomes_a_feature(frame: pd.DataFrame, pipeline: ShotFeaturePipeline) -> None:
    assert not [name for name in pipeline.feature_names if "made" in name or "event" in name]
    # Earlier shots' outcomes feed the game context; the label of the shot itself never does.
    sample = with_previous_shots(frame.head(100))
    np.testing.assert_array_equal(pipeline.transform(sample.drop(columns="made")), pipeline.transform(sample))


def test_position_pairs_split_the_weight(pipeline: ShotFeaturePipeline) -> None:
    matrix = pipeline.transform_records([shot_record(position="PG-SG")])
    assert column(pipeline, matrix, "position_PG")[0] == column(pipeline, matrix, "position_SG")[0] == 0.5


def test_one_shot_is_encoded_in_well_under_a_millisecond(pipeline: ShotFeaturePipeline) -> None:
    record = [shot_record()]
    pipeline.transform_records(record)
    timings = []
    for _ in range(300):
        started = time.perf_counter()
        pipeline.transform_records(record)
        timings.append(time.perf_counter() - started)
    # Target is ~150 us; the bound leaves room for a slow CI box.
    assert np.median(timings) < 1e-3


def test_season_form_counts_only_this_season_s_earlier_dates() -> None:
    # The walk-forward's --season-form (measured, not served): two seasons of one frame, April then October.
    spring = shots_frame(players=8, days=10, shots_per_day=40, seed=5, start=dt.datetime(2023, 4, 1))
    autumn = shots_frame(players=8, days=10, shots_per_day=40, seed=6, start=dt.datetime(2023, 10, 24))
    spring["season"] = "2022-23"
    frame = pd.concat([spring, autumn], ignore_index=True)
    pipeline = ShotFeaturePipeline(season_form=True, min_action_count=10).fit(frame)
    x = pipeline.transform_frame(frame)
    assert "player_season_rate_all" not in ShotFeaturePipeline(min_action_count=10).fit(frame).feature_names
    for index in np.random.default_rng(1).choice(len(frame), size=25, replace=False):
        row = frame.loc[index]
        same_season = frame["season"] == row["season"]
        earlier = frame.loc[same_season & (frame["player_id"] == row["player_id"])
                            & (frame["game_date"] < row["game_date"])]
        assert x.loc[index, "player_season_log_attempts"] == pytest.approx(np.log1p(len(earlier)), rel=1e-6)


def test_context_columns_a_frame_gives_are_kept_and_only_the_missing_ones_computed() -> None:
    frame = shots_frame(players=8, days=6, shots_per_day=30, seed=7)
    pipeline = ShotFeaturePipeline(min_action_count=10).fit(frame)
    given = frame.drop(columns="game_id").assign(team_prev_missed=1.0, team_seconds_since_prev=3.0)
    x = pipeline.transform_frame(given)
    assert (x["team_prev_missed"] == 1.0).all()
    assert (x["team_seconds_since_prev"] == 3.0).all()
    assert x["opponent_prev_missed"].isna().all()  # no game to read it from: not known



def test_each_zone_keeps_a_spread_of_its_training_spots(frame: pd.DataFrame, pipeline: ShotFeaturePipeline) -> None:
    paint = frame[(frame["zone_basic"] == "Restricted Area") & (frame["zone_area"] == "Center")]
    spots = pipeline.zone_spots[("Restricted Area", "Center")]
    assert len(spots) == ZONE_SPOTS < len(paint)
    taken = set(zip(paint["x_ft"], paint["y_ft"], paint["distance_ft"], strict=True))
    assert set(spots) <= taken  # real shots of that zone, not made-up points
    distances = [d for _, _, d in spots]
    # Evenly over the zone's shots ordered by distance: from its short end to its long end.
    assert distances == sorted(distances)
    assert distances[0] <= paint["distance_ft"].quantile(0.05)
    assert distances[-1] >= paint["distance_ft"].quantile(0.95)
    small = frame.head(5).assign(zone_basic="Mid-Range", zone_area="Left Side", zone_range="8-16 ft.")
    assert len(zone_spots(small)[("Mid-Range",)]) == 5  # a zone with fewer shots keeps them all


def test_a_shot_known_only_by_its_zone_is_spread_over_the_most_specific_zone(pipeline: ShotFeaturePipeline) -> None:
    basic_only = shot_record(zone_basic="Mid-Range", zone_area=None, zone_range=None, x_ft=None, y_ft=None,
                             distance_ft=None)
    left = {**basic_only, "zone_area": "Left Side", "zone_range": "16-24 ft."}
    given = {**left, "distance_ft": 17.5}
    located = shot_record()
    rows, owners = pipeline.spread_records([located, basic_only, left, given])
    assert owners is not None
    assert owners.tolist() == [0] + [1] * ZONE_SPOTS + [2] * ZONE_SPOTS + [3] * ZONE_SPOTS
    assert rows[0] is located
    assert [(r["x_ft"], r["y_ft"], r["distance_ft"]) for r in rows[1:1 + ZONE_SPOTS]] == list(
        pipeline.zone_spots[("Mid-Range",)])
    left_spots = pipeline.zone_spots[("Mid-Range", "Left Side", "16-24 ft.")]
    assert [(r["x_ft"], r["y_ft"]) for r in rows[1 + ZONE_SPOTS:1 + 2 * ZONE_SPOTS]] == [s[:2] for s in left_spots]
    assert all(r["x_ft"] < -8 for r in rows[1 + ZONE_SPOTS:1 + 2 * ZONE_SPOTS])
    assert {r["distance_ft"] for r in rows[1 + 2 * ZONE_SPOTS:]} == {17.5}  # a given distance is kept
    assert all(r["player_id"] == basic_only["player_id"] for r in rows[1:])


def test_located_shots_and_unknown_zones_are_not_spread(pipeline: ShotFeaturePipeline) -> None:
    unknown = shot_record(zone_basic="Backcourt", zone_area=None, zone_range=None, x_ft=None, y_ft=None,
                          distance_ft=None)
    records = [shot_record(), unknown]
    rows, owners = pipeline.spread_records(records)
    assert owners is None
    assert rows == records
    matrix = pipeline.transform_records([unknown])
    assert np.isnan(column(pipeline, matrix, "x_ft")[0])  # no zone the training saw: left unknown


def test_pipelines_pickled_before_zone_spots_do_not_spread(pipeline: ShotFeaturePipeline) -> None:
    state = dict(pipeline.__dict__)
    del state["zone_spots"]
    old = ShotFeaturePipeline.__new__(ShotFeaturePipeline)
    old.__setstate__(state)
    zone_only = shot_record(zone_basic="Restricted Area", x_ft=None, y_ft=None, distance_ft=None)
    assert old.spread_records([zone_only]) == ([zone_only], None)
