"""Both real formats map onto one canonical shot; bad rows are refused naming field and value."""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.mappers import (
    NBA_COM,
    SHOT_LOCATIONS,
    UnknownFormatError,
    detect_format,
    map_nba_com,
    map_shot_locations,
    to_feed_record,
)
from ingestion.readers import iter_mapped
from ingestion.shots import ShotValidationError, season_for
from tests.factories import nba_com_game, nba_com_row, shot_locations_row, write_csv, write_zip

NOW = dt.datetime(2026, 1, 1, 12, 0)


def nba(**overrides: object):
    return map_nba_com(nba_com_row(**overrides), source="test", ingested_at=NOW)


def loc(**overrides: object):
    return map_shot_locations(shot_locations_row(**overrides), source="test", ingested_at=NOW)


def test_nba_com_row_is_converted_to_hoop_relative_feet_with_the_left_side_negative():
    shot = nba(LOC_X="12.5", LOC_Y="10.25", ZONE_NAME="Left Side")
    assert (shot.x_ft, shot.y_ft) == (-12.5, 5.0)
    assert shot.zone_area == "Left Side"
    assert shot.game_id == "0022300003"
    assert shot.event_id == (720 - 661) * 10  # no event id in the format: game-clock order
    assert shot.game_date == dt.datetime(2023, 11, 3)
    assert shot.seconds_left == 11 * 60 + 1
    assert shot.made is False
    assert shot.shot_type == "2PT"
    assert shot.season == "2023-24"
    assert shot.is_home is False  # Washington away at Miami
    assert shot.position == "SG"


def test_shot_locations_row_is_converted_from_tenths_of_feet():
    shot = loc(**{"X Location": "-96", "Y Location": "145", "Shot Zone Area": "Left Side Center(LC)",
                  "Shot Zone Basic": "Mid-Range", "Shot Zone Range": "16-24 ft.", "Shot Distance": "17"})
    assert (shot.x_ft, shot.y_ft) == (-9.6, 14.5)
    assert shot.zone_area == "Left Side Center"
    assert shot.game_date == dt.datetime(2012, 1, 1)
    assert shot.season == "2011-12"
    assert shot.made is True
    assert shot.event_id == 307
    assert shot.game_id == "0021100057"
    assert shot.is_home is True


def test_both_formats_describe_the_same_spot_the_same_way():
    # A corner three from the shooter's left: NBA.com x>0 from the baseline, 1997-2020 x<0 from the hoop.
    corner = {"BASIC_ZONE": "Left Corner 3", "ZONE_RANGE": "24+ ft.", "SHOT_DISTANCE": "22"}
    a = nba(LOC_X="22.0", LOC_Y="5.25", ZONE_NAME="Left Side", SHOT_TYPE="3PT Field Goal", **corner)
    b = loc(**{"X Location": "-220", "Y Location": "0", "Shot Zone Area": "Left Side(L)", "Shot Type": "3PT Field Goal",
               "Shot Zone Basic": "Left Corner 3", "Shot Zone Range": "24+ ft.", "Shot Distance": "22"})
    assert (a.x_ft, a.y_ft) == (b.x_ft, b.y_ft) == (-22.0, 0.0)
    assert a.zone_area == b.zone_area


@pytest.mark.parametrize("value", ["Right Side(R)", "Right Side", "R", " Right Side "])
def test_zone_area_spellings_are_normalised(value):
    right = {"X Location": "130", "Y Location": "60", "Shot Zone Basic": "Mid-Range", "Shot Distance": "14",
             "Shot Zone Range": "8-16 ft."}
    assert loc(**{"Shot Zone Area": value}, **right).zone_area == "Right Side"


@pytest.mark.parametrize(("raw", "made"), [("TRUE", True), ("FALSE", False), ("1", True), ("0", False), ("true", True)])
def test_made_flags_of_both_spellings(raw, made):
    assert nba(SHOT_MADE=raw).made is made


@pytest.mark.parametrize(
    ("overrides", "field", "value"),
    [
        ({"QUARTER": "11"}, "period", "11"),
        ({"QUARTER": "0"}, "period", "0"),
        ({"QUARTER": "two"}, "period", "two"),
        ({"MINS_LEFT": "13"}, "minutes_left", "13"),
        ({"SECS_LEFT": "75"}, "seconds_left", "75"),
        ({"SHOT_TYPE": "4PT Field Goal"}, "shot_type", "4PT Field Goal"),
        ({"LOC_X": "31.0"}, "x", "31.0"),
        ({"LOC_Y": "-9"}, "y", "-9"),
        ({"LOC_X": "abc"}, "x", "abc"),
        ({"LOC_X": ""}, "x", ""),
        ({"LOC_X": "nan"}, "x", "nan"),
        ({"SHOT_MADE": "maybe"}, "made", "maybe"),
        ({"GAME_DATE": "2023/11/03"}, "game_date", "2023/11/03"),
        ({"GAME_ID": "22A00003"}, "game_id", "22A00003"),
        ({"PLAYER_ID": ""}, "player_id", ""),
        ({"ZONE_NAME": "Upstairs"}, "zone_area", "Upstairs"),
        ({"HOME_TEAM": "WAS"}, "away_team", "WAS"),
        ({"SHOT_DISTANCE": "120"}, "distance_ft", "120"),
        ({"ACTION_TYPE": "  "}, "action_type", "  "),
        # Hostile files (outside probe): every one of these was stored before.
        ({"PLAYER_NAME": "A" * 101}, "player_name", "A" * 101),
        ({"ACTION_TYPE": "Jump\nShot"}, "ACTION_TYPE", "Jump\nShot"),
        ({"TEAM_NAME": "Washington\tWizards"}, "TEAM_NAME", "Washington\tWizards"),
        ({"PLAYER_ID": "9e5"}, "player_id", "9e5"),
        ({"PLAYER_ID": "1629673.5"}, "player_id", "1629673.5"),
        ({"GAME_DATE": "01-15-1800"}, "game_date", "01-15-1800"),
        ({"GAME_DATE": "01-15-2099", "SEASON_2": "2098-99"}, "game_date", "01-15-2099"),
        ({"GAME_DATE": "01-15-2019", "SEASON_2": "2018-19"}, "game_date", "01-15-2019"),  # game 22300003 is 2023-24
        ({"GAME_DATE": "01-15-2024", "SEASON_2": "2022-23"}, "season", "2022-23"),
        ({"HOME_TEAM": "M1A"}, "home_team", "M1A"),
        ({"AWAY_TEAM": "WASHINGTON"}, "away_team", "WASHINGTON"),
    ],
)
def test_bad_nba_com_rows_are_refused_naming_field_and_value(overrides, field, value):
    with pytest.raises(ShotValidationError) as caught:
        nba(**overrides)
    assert caught.value.field == field
    assert caught.value.value == value
    assert field in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"Period": "-1"}, "period"),
        ({"Shot Type": ""}, "shot_type"),
        ({"Y Location": "990"}, "y"),
        ({"Shot Made Flag": "2"}, "made"),
        ({"Game Date": "01-01-2012"}, "game_date"),
        ({"Season Type": "Summer League"}, "season_type"),
        ({"Game Event ID": "x1"}, "event_id"),
    ],
)
def test_bad_shot_location_rows_are_refused(overrides, field):
    with pytest.raises(ShotValidationError) as caught:
        loc(**overrides)
    assert caught.value.field == field


def test_format_is_detected_from_the_header_and_unknown_headers_are_explained():
    assert detect_format(list(nba_com_row())) == NBA_COM
    assert detect_format(list(shot_locations_row())) == SHOT_LOCATIONS
    with pytest.raises(UnknownFormatError, match="missing") as caught:
        detect_format(["GAME_ID", "LOC_X"])
    assert "(" not in str(caught.value)  # no hint when none applies
    with pytest.raises(UnknownFormatError, match="holding semicolons: the columns must be separated by commas"):
        detect_format([";".join(nba_com_row())])
    with pytest.raises(UnknownFormatError, match="holding tabs"):
        detect_format(["\t".join(shot_locations_row())])
    with pytest.raises(UnknownFormatError, match="'nba_com' are all there in another case"):
        detect_format([c.lower() for c in nba_com_row()])


def test_whole_numbers_written_as_decimals_are_read_and_dates_keep_their_season():
    shot = nba(PLAYER_ID="1629673.0", QUARTER="2.00")
    assert (shot.player_id, shot.period) == (1629673, 2)
    assert nba(GAME_DATE="04-14-2024").season == "2023-24"
    # The 2019-20 season ended in the bubble in October 2020; 2020-21 began on 22 December 2020.
    assert season_for(dt.datetime(2020, 9, 30)) == "2019-20"
    assert season_for(dt.datetime(2020, 12, 22)) == "2020-21"
    assert season_for(dt.datetime(2021, 7, 20)) == "2020-21"
    assert season_for(dt.datetime(2021, 10, 19)) == "2021-22"
    bubble = loc(**{"Game ID": "41900406", "Game Date": "20201011", "Season Type": "Playoffs"})
    assert bubble.season == "2019-20"
    # Ids of another scheme (not an NBA.com id) carry no season to compare.
    assert nba(GAME_ID="9912345678", GAME_DATE="01-15-2024").season == "2023-24"


def test_feed_record_round_trips_to_the_same_shot():
    shot = nba(LOC_X="-7.3", LOC_Y="20.05", ZONE_NAME="Right Side Center", SHOT_DISTANCE="16", ZONE_RANGE="16-24 ft.")
    record = to_feed_record(shot.to_document())
    assert len(record) == 22
    assert all(isinstance(value, str) for value in record.values())
    again = map_shot_locations(record, source="test", ingested_at=NOW)
    assert again.key == shot.key
    for field in ("x_ft", "y_ft", "period", "seconds_left", "zone_area", "made", "game_date", "player_id"):
        assert getattr(again, field) == getattr(shot, field)


def test_reader_streams_zip_files_and_keys_shots_by_game_clock_player_and_spot(tmp_path):
    rows = nba_com_game("22300001", 3) + nba_com_game("22300002", 2) + nba_com_game("22300001", 1)
    rows[1]["QUARTER"] = "12"  # refused
    csv_path = write_csv(tmp_path / "season.csv", rows)
    records = list(iter_mapped(write_zip(tmp_path / "season.zip", csv_path)))
    assert [r.line for r in records] == [2, 3, 4, 5, 6, 7]
    assert records[1].shot is None
    assert records[1].error is not None
    assert records[1].error.field == "period"
    keys = [r.shot.key for r in records if r.shot]
    assert keys == ["0022300001:1:700:1629673:-125:50", "0022300001:1:690:1629673:-125:50",
                    "0022300002:1:700:1629673:-125:50", "0022300002:1:695:1629673:-125:50",
                    # the game's first shot again, later in the file: an exact repeat, the same shot
                    "0022300001:1:700:1629673:-125:50"]  # fmt: skip
    assert [r.exact_repeat for r in records if r.shot] == [False, False, False, False, True]


def test_reader_refuses_rows_with_the_wrong_number_of_columns(tmp_path):
    path = tmp_path / "short.csv"
    header = ",".join(shot_locations_row())
    good = ",".join(shot_locations_row().values())
    path.write_text(f"{header}\n{good}\n1,2,3\n")
    records = list(iter_mapped(path))
    assert records[0].shot is not None
    assert records[1].error is not None
    assert records[1].error.field == "row"
