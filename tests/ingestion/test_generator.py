"""The synthetic generator writes NBA.com rows that look, map and behave like a real season."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import pytest

from ingestion.generator import (
    FRANCHISES,
    classify_location,
    generate_rows,
    generate_zip,
    rosters,
    schedule,
    shot_distance,
    write_csv,
)
from ingestion.mappers import NBA_COM, NBA_COM_COLUMNS
from ingestion.readers import iter_mapped, map_rows

INGESTED_AT = dt.datetime(2026, 1, 1)
THREE_POINT_ZONES = {"Left Corner 3", "Right Corner 3", "Above the Break 3", "Backcourt"}
ZONE_ABBREVIATIONS = {
    "Center": "C",
    "Left Side Center": "LC",
    "Right Side Center": "RC",
    "Left Side": "L",
    "Right Side": "R",
    "Back Court": "BC",
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """About 14,000 shots: 80 games of the opening weeks."""
    return list(generate_rows(games=80, seed=11))


def as_lists(rows: list[dict[str, str]]) -> list[list[str]]:
    return [[row[column] for column in NBA_COM_COLUMNS] for row in rows]


def made_rate(rows: list[dict[str, str]]) -> float:
    return sum(row["SHOT_MADE"] == "TRUE" for row in rows) / len(rows)


def hoop_distance(row: dict[str, str]) -> float:
    return math.hypot(float(row["LOC_X"]), float(row["LOC_Y"]) - 5.25)


# --- format ------------------------------------------------------------------------


def test_every_generated_row_maps_to_a_canonical_shot(rows):
    mapped = list(
        map_rows(iter(as_lists(rows)), list(NBA_COM_COLUMNS), NBA_COM, source="test", ingested_at=INGESTED_AT)
    )

    assert len(mapped) == len(rows) > 10_000
    assert [m.error for m in mapped if m.error is not None] == []
    assert all(m.shot is not None and m.shot.is_home is not None for m in mapped)


def test_rows_have_exactly_the_nba_com_columns_as_strings(rows):
    assert all(tuple(row) == NBA_COM_COLUMNS for row in rows)
    assert all(isinstance(value, str) and value for row in rows for value in row.values())


def test_values_are_written_like_the_real_files(rows):
    for row in rows:
        assert re.fullmatch(r"\d\d-\d\d-\d{4}", row["GAME_DATE"])
        assert re.fullmatch(r"2\d{7}", row["GAME_ID"])
        assert (row["SHOT_MADE"], row["EVENT_TYPE"]) in {("TRUE", "Made Shot"), ("FALSE", "Missed Shot")}
        assert row["SHOT_TYPE"] in {"2PT Field Goal", "3PT Field Goal"}
        assert re.fullmatch(r"-?\d+(\.\d)?", row["LOC_X"])
        assert re.fullmatch(r"\d+\.\d5", row["LOC_Y"])  # hoop-relative tenths + 5.25 ft
        assert re.fullmatch(r"\d+", row["SHOT_DISTANCE"])
        assert 1 <= int(row["QUARTER"]) <= 7
        assert 0 <= int(row["MINS_LEFT"]) * 60 + int(row["SECS_LEFT"]) <= 720
        assert 0 <= int(row["SECS_LEFT"]) <= 59
        assert (row["SEASON_1"], row["SEASON_2"]) == ("2024", "2023-24")
        assert (
            row["POSITION_GROUP"] == {"PG": "G", "SG": "G", "SF": "F", "PF": "F", "C": "C"}[row["POSITION"]]
        )


# --- court geometry ----------------------------------------------------------------


def test_zones_agree_with_the_location_and_the_distance(rows):
    for row in rows:
        x, y, r = float(row["LOC_X"]), float(row["LOC_Y"]), hoop_distance(row)
        basic = row["BASIC_ZONE"]
        assert int(row["SHOT_DISTANCE"]) == math.floor(r + 1e-9)
        assert (row["SHOT_TYPE"] == "3PT Field Goal") == (basic in THREE_POINT_ZONES)
        assert -25 <= x <= 25
        assert 0 <= y <= 94
        if basic == "Restricted Area":
            assert r < 4
        else:
            assert r >= 4
        if basic == "In The Paint (Non-RA)":
            assert abs(x) <= 8
            assert y <= 19.05
        if basic.endswith("Corner 3"):
            assert abs(x) >= 22
            assert y <= 14
            assert basic.startswith("Left") == (x > 0)  # NBA.com draws the shooter's left at x > 0
        if basic == "Above the Break 3":
            assert r >= 23.75
            assert 14 < y <= 47.2
        if basic == "Mid-Range":
            assert 8 < r < 23.75
            assert not (abs(x) <= 8 and y <= 19.05)
        if basic == "Backcourt":
            assert y > 47
        if basic in THREE_POINT_ZONES - {"Backcourt"}:
            assert row["ZONE_RANGE"] == "24+ ft."
        elif basic != "Backcourt":
            expected = "Less Than 8 ft." if r <= 8 else "8-16 ft." if r <= 16 else "16-24 ft."
            assert row["ZONE_RANGE"] == expected
        assert ZONE_ABBREVIATIONS[row["ZONE_NAME"]] == row["ZONE_ABB"]
        zone = classify_location(x, y)
        assert (zone.basic, zone.name, zone.abbreviation, zone.range) == (
            basic,
            row["ZONE_NAME"],
            row["ZONE_ABB"],
            row["ZONE_RANGE"],
        )


@pytest.mark.parametrize(
    ("loc_x", "loc_y", "basic", "name", "zone_range"),
    [
        (0.0, 5.25, "Restricted Area", "Center", "Less Than 8 ft."),
        (-3.9, 5.25, "Restricted Area", "Center", "Less Than 8 ft."),
        (4.0, 5.25, "In The Paint (Non-RA)", "Center", "Less Than 8 ft."),
        (7.5, 14.95, "In The Paint (Non-RA)", "Left Side", "8-16 ft."),
        (-0.4, 17.45, "In The Paint (Non-RA)", "Center", "8-16 ft."),
        (0.0, 20.25, "Mid-Range", "Center", "8-16 ft."),
        (-12.5, 10.25, "Mid-Range", "Right Side", "8-16 ft."),
        (14.0, 20.25, "Mid-Range", "Left Side Center", "16-24 ft."),
        (21.9, 5.25, "Mid-Range", "Left Side", "16-24 ft."),
        (22.0, 5.25, "Left Corner 3", "Left Side", "24+ ft."),
        (-23.2, 13.95, "Right Corner 3", "Right Side", "24+ ft."),
        (1.5, 30.55, "Above the Break 3", "Center", "24+ ft."),
        (-12.4, 28.55, "Above the Break 3", "Right Side Center", "24+ ft."),
        (0.0, 47.15, "Above the Break 3", "Center", "24+ ft."),
        (2.0, 60.25, "Backcourt", "Back Court", "Back Court Shot"),
    ],
)
def test_the_court_geometry_labels_known_spots(loc_x, loc_y, basic, name, zone_range):
    zone = classify_location(loc_x, loc_y)

    assert (zone.basic, zone.name, zone.range) == (basic, name, zone_range)


def test_shot_distance_is_whole_feet_rounded_down():
    assert shot_distance(0.0, 5.25) == 0
    assert shot_distance(3.0, 9.25) == 5
    assert shot_distance(23.7, 5.25) == 23
    assert shot_distance(-0.4, 17.45) == 12


@pytest.mark.real_data
def test_the_court_geometry_reproduces_the_labels_of_a_real_season(real_data_dir: Path):
    season = real_data_dir / "nba_shots" / "NBA_2024_Shots.csv.zip"
    if not season.exists():
        pytest.skip(f"{season} is missing")
    total = agreeing = same_distance = 0
    with zipfile.ZipFile(season) as archive, archive.open("NBA_2024_Shots.csv") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig")):
            x, y = float(row["LOC_X"]), float(row["LOC_Y"])
            zone = classify_location(x, y)
            total += 1
            agreeing += (zone.basic, zone.name, zone.range) == (
                row["BASIC_ZONE"],
                row["ZONE_NAME"],
                row["ZONE_RANGE"],
            )
            same_distance += shot_distance(x, y) == int(row["SHOT_DISTANCE"])

    assert total > 200_000
    assert agreeing / total > 0.999
    assert same_distance / total > 0.999


# --- realism -----------------------------------------------------------------------


def test_make_rates_are_close_to_the_real_league(rows):
    threes = [r for r in rows if r["SHOT_TYPE"] == "3PT Field Goal"]
    by_zone = collections.defaultdict(list)
    for row in rows:
        by_zone[row["BASIC_ZONE"]].append(row)

    assert 0.44 <= made_rate(rows) <= 0.51  # real: 47.5%
    assert 0.32 <= made_rate(threes) <= 0.40  # real: 36.3%
    assert 0.61 <= made_rate(by_zone["Restricted Area"]) <= 0.72  # real: 66.5%
    assert 0.39 <= made_rate(by_zone["In The Paint (Non-RA)"]) <= 0.50  # real: 44.2%
    assert 0.36 <= made_rate(by_zone["Mid-Range"]) <= 0.48  # real: 42.0%


def test_the_shot_mix_is_close_to_the_real_league(rows):
    share = collections.Counter(row["BASIC_ZONE"] for row in rows)
    threes = sum(row["SHOT_TYPE"] == "3PT Field Goal" for row in rows)

    assert 0.35 <= threes / len(rows) <= 0.43  # real: 39.1%
    assert 0.26 <= share["Restricted Area"] / len(rows) <= 0.34  # real: 29.7%
    assert 0.08 <= (share["Left Corner 3"] + share["Right Corner 3"]) / len(rows) <= 0.13  # real: 9.9%


def test_teams_take_about_as_many_shots_as_real_teams(rows):
    per_team_game = collections.Counter((row["GAME_ID"], row["TEAM_NAME"]) for row in rows)

    assert len(per_team_game) == 2 * 80
    assert 84 <= sum(per_team_game.values()) / len(per_team_game) <= 93  # real: 88.6
    assert min(per_team_game.values()) >= 50


def test_end_of_period_shots_are_heaves_that_rarely_go_in(rows):
    def at_the_buzzer(row: dict[str, str]) -> bool:
        return row["MINS_LEFT"] == "0" and int(row["SECS_LEFT"]) <= 2

    buzzer = [r for r in rows if at_the_buzzer(r)]
    others = [r for r in rows if not at_the_buzzer(r)]

    assert 0.005 <= len(buzzer) / len(rows) <= 0.035  # real: 1.75%
    assert made_rate(buzzer) < made_rate(others) - 0.08
    assert all(
        int(r["MINS_LEFT"]) * 60 + int(r["SECS_LEFT"]) <= 2 for r in rows if r["BASIC_ZONE"] == "Backcourt"
    )


def test_guards_shoot_more_threes_and_centres_more_at_the_rim(rows):
    def share(position: str, zones: set[str]) -> float:
        own = [r for r in rows if r["POSITION"] == position]
        return sum(r["BASIC_ZONE"] in zones for r in own) / len(own)

    assert share("SG", THREE_POINT_ZONES) > share("C", THREE_POINT_ZONES) + 0.15
    assert share("C", {"Restricted Area"}) > share("PG", {"Restricted Area"}) + 0.15


def test_a_players_past_shots_predict_his_next_ones():
    """Per-player skill: among players of one position, the better half in the first half
    of the season still shoots better in the second half."""
    rows = list(generate_rows(games=600, seed=5))
    halves: list[dict[tuple[str, str], list[bool]]] = [
        collections.defaultdict(list),
        collections.defaultdict(list),
    ]
    for row in rows:
        half = 0 if int(row["GAME_ID"]) <= 22300300 else 1
        halves[half][row["POSITION"], row["PLAYER_ID"]].append(row["SHOT_MADE"] == "TRUE")
    better: list[bool] = []
    worse: list[bool] = []
    regulars = 0
    for position in ("PG", "SG", "SF", "PF", "C"):
        players = [
            p
            for p in halves[0]
            if p[0] == position and len(halves[0][p]) >= 120 and len(halves[1].get(p, [])) >= 120
        ]
        players.sort(key=lambda p: sum(halves[0][p]) / len(halves[0][p]))
        regulars += len(players)
        for p in players[: len(players) // 2]:
            worse += halves[1][p]
        for p in players[len(players) - len(players) // 2 :]:
            better += halves[1][p]

    assert regulars > 100
    assert sum(better) / len(better) > sum(worse) / len(worse) + 0.02


# --- league, games and order ---------------------------------------------------------


def test_rosters_are_thirteen_made_up_players_a_team():
    league = rosters(seed=11)
    players = [p for roster in league.values() for p in roster]

    assert sorted(league) == sorted(code for _, code, _ in FRANCHISES)
    assert all(len(roster) == 13 for roster in league.values())
    assert len({p.player_id for p in players}) == len(players)
    assert len({p.name for p in players}) == len(players)
    assert all(p.player_id >= 9_000_000 for p in players)  # clear of real NBA player ids
    assert collections.Counter(p.position for p in players) == {
        "PG": 60,
        "SG": 90,
        "SF": 60,
        "PF": 90,
        "C": 90,
    }


def test_each_game_is_one_day_between_a_home_and_an_away_team(rows):
    games: dict[str, set[tuple[str, str, str]]] = collections.defaultdict(set)
    shooters: dict[str, set[str]] = collections.defaultdict(set)
    code = {name: abbreviation for name, abbreviation, _ in FRANCHISES}
    for row in rows:
        games[row["GAME_ID"]].add((row["GAME_DATE"], row["HOME_TEAM"], row["AWAY_TEAM"]))
        shooters[row["GAME_ID"]].add(code[row["TEAM_NAME"]])

    assert len(games) == 80
    for game_id, facts in games.items():
        assert len(facts) == 1
        ((_, home, away),) = facts
        assert home != away
        assert shooters[game_id] == {home, away}


def test_a_season_has_every_team_play_82_games_half_of_them_at_home():
    season = schedule(games=1230, seed=11)
    played: collections.Counter[str] = collections.Counter()
    hosted: collections.Counter[str] = collections.Counter()
    teams_on_day: dict[dt.date, list[str]] = collections.defaultdict(list)
    for game in season:
        played.update((game.home, game.away))
        hosted[game.home] += 1
        teams_on_day[game.date] += [game.home, game.away]

    assert len({g.game_id for g in season}) == 1230
    assert set(played.values()) == {82}
    assert all(40 <= hosted[team] <= 42 for team in played)
    assert all(len(teams) == len(set(teams)) for teams in teams_on_day.values())
    assert season[0].date == dt.date(2023, 10, 24)
    assert dt.date(2024, 4, 1) <= season[-1].date <= dt.date(2024, 4, 20)
    assert [g.date for g in season] == sorted(g.date for g in season)
    assert 150 <= len(teams_on_day) <= 175  # real: 160 days with games


def test_more_games_than_a_season_run_into_the_next_one():
    games = schedule(games=1300, seed=1, teams=30)

    assert games[1229].season_end_year == 2024
    assert games[1230].season_end_year == 2025
    assert games[1230].game_id == "22400001"
    assert games[1230].date.month == 10
    assert games[1230].date.year == 2024


def test_a_small_league_still_plays_full_seasons():
    season = schedule(games=4 * 41, seed=3, teams=4)
    played = collections.Counter(team for g in season for team in (g.home, g.away))

    assert set(played.values()) == {82}


def test_start_date_moves_opening_night():
    games = schedule(games=3, seed=1, start_date=dt.date(2023, 11, 7))

    assert {g.date for g in games} == {dt.date(2023, 11, 7)}


def test_a_league_needs_two_to_thirty_teams():
    with pytest.raises(ValueError, match="teams"):
        next(generate_rows(games=1, seed=1, teams=1))
    with pytest.raises(ValueError, match="teams"):
        next(generate_rows(games=1, seed=1, teams=31))


def test_shots_run_game_by_game_then_by_period_and_clock(rows):
    seen_games: list[str] = []
    last: dict[str, tuple[int, int]] = {}
    for row in rows:
        game = row["GAME_ID"]
        if not seen_games or seen_games[-1] != game:
            assert game not in seen_games  # a game's shots are contiguous
            seen_games.append(game)
        moment = (int(row["QUARTER"]), -(int(row["MINS_LEFT"]) * 60 + int(row["SECS_LEFT"])))
        assert moment >= last.get(game, moment)
        last[game] = moment
    dates = [
        dt.datetime.strptime(next(r for r in rows if r["GAME_ID"] == g)["GAME_DATE"], "%m-%d-%Y")
        for g in seen_games
    ]
    assert dates == sorted(dates)
    assert seen_games == sorted(seen_games)


# --- determinism -------------------------------------------------------------------


def test_the_same_seed_gives_the_same_rows():
    assert list(generate_rows(games=5, seed=42)) == list(generate_rows(games=5, seed=42))


def test_another_seed_gives_other_rows():
    assert list(generate_rows(games=5, seed=42)) != list(generate_rows(games=5, seed=43))


def test_asking_for_more_games_keeps_the_games_already_generated():
    shorter = list(generate_rows(games=6, seed=42))
    longer = list(generate_rows(games=12, seed=42))

    assert longer[: len(shorter)] == shorter
    assert len(longer) > len(shorter)


# --- files -------------------------------------------------------------------------


def test_write_csv_makes_a_file_the_importer_reads_without_rejections(tmp_path):
    path = tmp_path / "synthetic.csv"

    count = write_csv(path, generate_rows(games=4, seed=2))
    mapped = list(iter_mapped(path, ingested_at=INGESTED_AT))

    assert count == len(mapped) > 500
    assert all(m.error is None for m in mapped)
    assert path.read_text().splitlines()[0] == ",".join(NBA_COM_COLUMNS)


def test_generate_zip_is_shaped_like_a_real_season_file(tmp_path):
    path = tmp_path / "NBA_2024_Shots.csv.zip"

    count = generate_zip(path, games=4, seed=2)
    mapped = list(iter_mapped(path, ingested_at=INGESTED_AT))

    assert zipfile.ZipFile(path).namelist() == ["NBA_2024_Shots.csv"]
    assert count == len(mapped) > 500
    assert all(m.error is None for m in mapped)
    assert [m.raw for m in mapped] == list(generate_rows(games=4, seed=2))
