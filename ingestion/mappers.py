"""Map the two real shot formats onto the canonical shot, and back to the feed's shape.

* ``nba_com``: NBA.com season files (``SEASON_1, ..., SECS_LEFT``): usually feet with the
  baseline at y=0 and the Left Side at x>0, ``MM-DD-YYYY``, ``TRUE``/``FALSE``,
  no event id (derived from the game clock).
* ``shot_locations``: the "NBA Shot Locations 1997-2020" format the original feed
  served (22 string fields): usually tenths of feet from the hoop, ``YYYYMMDD``, 0/1,
  ``Right Side(R)``.

The coordinate convention of a file is detected (``ingestion.conventions``) and passed in;
every mapped shot passes the cross-field rule (``ingestion.court``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ingestion.conventions import NBA_COM_USUAL, SHOT_LOCATIONS_USUAL, Convention
from ingestion.shots import (
    PERIOD_RANGE,
    SEASON_TYPES,
    SECONDS_RANGE,
    ZONE_AREAS,
    ZONE_BASIC,
    ZONE_RANGES,
    Shot,
    ShotValidationError,
    check_consistency,
    check_game_date,
    check_game_season,
    check_location,
    check_no_control_characters,
    clock_order,
    home_flag,
    normalise_game_id,
    optional_text,
    parse_bool,
    parse_choice,
    parse_date,
    parse_float,
    parse_int,
    parse_shot_type,
    parse_team_code,
    parse_zone_area,
    require_text,
)

NBA_COM = "nba_com"
SHOT_LOCATIONS = "shot_locations"

NBA_COM_COLUMNS = (
    "SEASON_1", "SEASON_2", "TEAM_ID", "TEAM_NAME", "PLAYER_ID", "PLAYER_NAME",
    "POSITION_GROUP", "POSITION", "GAME_DATE", "GAME_ID", "HOME_TEAM", "AWAY_TEAM",
    "EVENT_TYPE", "SHOT_MADE", "ACTION_TYPE", "SHOT_TYPE", "BASIC_ZONE", "ZONE_NAME",
    "ZONE_ABB", "ZONE_RANGE", "LOC_X", "LOC_Y", "SHOT_DISTANCE", "QUARTER",
    "MINS_LEFT", "SECS_LEFT",
)  # fmt: skip
SHOT_LOCATIONS_COLUMNS = (
    "Game ID", "Game Event ID", "Player ID", "Player Name", "Team ID", "Team Name",
    "Period", "Minutes Remaining", "Seconds Remaining", "Action Type", "Shot Type",
    "Shot Zone Basic", "Shot Zone Area", "Shot Zone Range", "Shot Distance",
    "X Location", "Y Location", "Shot Made Flag", "Game Date", "Home Team",
    "Away Team", "Season Type",
)  # fmt: skip

# Columns a record must carry to be mapped at all (the rest are optional extras).
_REQUIRED = {
    NBA_COM: set(NBA_COM_COLUMNS) - {"POSITION_GROUP", "POSITION", "EVENT_TYPE", "ZONE_ABB", "SEASON_1", "SEASON_2"},
    SHOT_LOCATIONS: set(SHOT_LOCATIONS_COLUMNS),
}


class UnknownFormatError(ValueError):
    pass


def detect_format(columns: Sequence[str]) -> str:
    """Which of the two formats a header (or a record's keys) belongs to."""
    present = {c.strip().lstrip("\ufeff") for c in columns}
    for name, required in _REQUIRED.items():
        if required <= present:
            return name
    best = min(_REQUIRED, key=lambda n: len(_REQUIRED[n] - present))
    missing = sorted(_REQUIRED[best] - present)
    raise UnknownFormatError(
        f"columns match neither known shot format; closest is {best!r}, missing {', '.join(missing)}"
        f"{_header_hint(present)}"
    )


def _header_hint(present: set[str]) -> str:
    """What most likely went wrong with a header no format matches: another delimiter, or the case."""
    if len(present) == 1:
        (only,) = present
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if only.count(delimiter) >= 3:
                return f" (the header is one column holding {label}: the columns must be separated by commas)"
    folded = {c.casefold() for c in present}
    for name, required in _REQUIRED.items():
        if {c.casefold() for c in required} <= folded:
            return f" (the columns of {name!r} are all there in another case: column names are case-sensitive)"
    return ""


def _clock(record: Mapping[str, Any], minutes_col: str, seconds_col: str) -> int:
    minutes = parse_int(record.get(minutes_col), "minutes_left", (0, 12))
    seconds = parse_int(record.get(seconds_col), "seconds_left", (0, 59))
    return parse_int(minutes * 60 + seconds, "seconds_left", SECONDS_RANGE)


def _teams(record: Mapping[str, Any], home_col: str, away_col: str) -> tuple[str, str]:
    home = parse_team_code(require_text(record, home_col, "home_team"), "home_team")
    away = parse_team_code(require_text(record, away_col, "away_team"), "away_team")
    if home == away:
        raise ShotValidationError("away_team", away, "is the same team as home_team")
    return home, away


def _location(record: Mapping[str, Any], x_col: str, y_col: str, convention: Convention) -> tuple[float, float]:
    raw_x, raw_y = record.get(x_col), record.get(y_col)
    x_ft, y_ft = convention.to_feet(parse_float(raw_x, "x"), parse_float(raw_y, "y"))
    check_location(x_ft, y_ft, raw_x, raw_y)
    return round(x_ft, 2), round(y_ft, 2)


def _checked(shot: Shot) -> Shot:
    check_consistency(
        x_ft=shot.x_ft, y_ft=shot.y_ft, distance_ft=shot.distance_ft, zone_basic=shot.zone_basic,
        zone_area=shot.zone_area, zone_range=shot.zone_range, shot_type=shot.shot_type,
    )  # fmt: skip
    return shot


def map_nba_com(
    record: Mapping[str, Any],
    *,
    source: str,
    ingested_at: dt.datetime,
    convention: Convention = NBA_COM_USUAL,
    repeat: int = 1,
) -> Shot:
    """An NBA.com row. It has no event id: ``event_id`` is derived from the game clock.

    ``repeat`` tells same-second repeats of one player at one spot apart (see ``shot_key``).
    """
    check_no_control_characters(record)
    game_date = check_game_date(parse_date(record.get("GAME_DATE"), "game_date", ("%m-%d-%Y", "%Y-%m-%d")),
                                record.get("GAME_DATE"))
    game_id = normalise_game_id(record.get("GAME_ID"))
    home, away = _teams(record, "HOME_TEAM", "AWAY_TEAM")
    team_name = require_text(record, "TEAM_NAME", "team_name")
    x_ft, y_ft = _location(record, "LOC_X", "LOC_Y", convention)
    season = check_game_season(game_id=game_id, game_date=game_date, date_value=record.get("GAME_DATE"),
                               season=optional_text(record, "SEASON_2", "season"))
    period = parse_int(record.get("QUARTER"), "period", PERIOD_RANGE)
    seconds_left = _clock(record, "MINS_LEFT", "SECS_LEFT")
    return _checked(Shot(
        game_id=game_id,
        event_id=clock_order(period, seconds_left, repeat),
        player_id=parse_int(record.get("PLAYER_ID"), "player_id", (1, 10**10)),
        player_name=require_text(record, "PLAYER_NAME", "player_name"),
        team_id=parse_int(record.get("TEAM_ID"), "team_id", (1, 10**10)),
        team_name=team_name,
        home_team=home,
        away_team=away,
        is_home=home_flag(team_name, home, away),
        position=optional_text(record, "POSITION", "position"),
        season=season,
        season_type="Regular Season",
        game_date=game_date,
        period=period,
        seconds_left=seconds_left,
        action_type=require_text(record, "ACTION_TYPE", "action_type"),
        shot_type=parse_shot_type(record.get("SHOT_TYPE")),
        zone_basic=parse_choice(require_text(record, "BASIC_ZONE", "zone_basic"), "zone_basic", ZONE_BASIC),
        zone_area=parse_zone_area(record.get("ZONE_NAME")),
        zone_range=parse_choice(require_text(record, "ZONE_RANGE", "zone_range"), "zone_range", ZONE_RANGES),
        distance_ft=parse_float(record.get("SHOT_DISTANCE"), "distance_ft", (0.0, 94.0)),
        x_ft=x_ft,
        y_ft=y_ft,
        made=parse_bool(record.get("SHOT_MADE"), "made"),
        source=source,
        ingested_at=ingested_at,
        repeat=repeat,
    ))  # fmt: skip


def map_shot_locations(
    record: Mapping[str, Any],
    *,
    source: str,
    ingested_at: dt.datetime,
    convention: Convention = SHOT_LOCATIONS_USUAL,
    repeat: int = 1,
) -> Shot:
    """A record of the 1997-2020 format (the original feed's shape)."""
    check_no_control_characters(record)
    game_date = check_game_date(parse_date(record.get("Game Date"), "game_date", ("%Y%m%d", "%Y-%m-%d")),
                                record.get("Game Date"))
    game_id = normalise_game_id(record.get("Game ID"))
    season = check_game_season(game_id=game_id, game_date=game_date, date_value=record.get("Game Date"))
    home, away = _teams(record, "Home Team", "Away Team")
    team_name = require_text(record, "Team Name", "team_name")
    x_ft, y_ft = _location(record, "X Location", "Y Location", convention)
    season_type = parse_choice(require_text(record, "Season Type", "season_type"), "season_type", SEASON_TYPES)
    return _checked(Shot(
        game_id=game_id,
        event_id=parse_int(record.get("Game Event ID"), "event_id", (0, 10**6)),
        player_id=parse_int(record.get("Player ID"), "player_id", (1, 10**10)),
        player_name=require_text(record, "Player Name", "player_name"),
        team_id=parse_int(record.get("Team ID"), "team_id", (1, 10**10)),
        team_name=team_name,
        home_team=home,
        away_team=away,
        is_home=home_flag(team_name, home, away),
        position=None,
        season=season,
        season_type=season_type,
        game_date=game_date,
        period=parse_int(record.get("Period"), "period", PERIOD_RANGE),
        seconds_left=_clock(record, "Minutes Remaining", "Seconds Remaining"),
        action_type=require_text(record, "Action Type", "action_type"),
        shot_type=parse_shot_type(record.get("Shot Type")),
        zone_basic=parse_choice(require_text(record, "Shot Zone Basic", "zone_basic"), "zone_basic", ZONE_BASIC),
        zone_area=parse_zone_area(record.get("Shot Zone Area")),
        zone_range=parse_choice(require_text(record, "Shot Zone Range", "zone_range"), "zone_range", ZONE_RANGES),
        distance_ft=parse_float(record.get("Shot Distance"), "distance_ft", (0.0, 94.0)),
        x_ft=x_ft,
        y_ft=y_ft,
        made=parse_bool(record.get("Shot Made Flag"), "made"),
        source=source,
        ingested_at=ingested_at,
        repeat=repeat,
        event_from_source=True,
    ))  # fmt: skip


def map_record(
    record: Mapping[str, Any],
    file_format: str,
    *,
    source: str,
    ingested_at: dt.datetime,
    convention: Convention | None = None,
    repeat: int = 1,
) -> Shot:
    """A record of either format, with the file's convention (or the format's usual one)."""
    if file_format == NBA_COM:
        return map_nba_com(record, source=source, ingested_at=ingested_at,
                           convention=convention or NBA_COM_USUAL, repeat=repeat)  # fmt: skip
    return map_shot_locations(record, source=source, ingested_at=ingested_at,
                              convention=convention or SHOT_LOCATIONS_USUAL, repeat=repeat)  # fmt: skip


# Columns the convention detection reads: x, y, distance, zone area.
LOCATION_COLUMNS = {
    NBA_COM: ("LOC_X", "LOC_Y", "SHOT_DISTANCE", "ZONE_NAME"),
    SHOT_LOCATIONS: ("X Location", "Y Location", "Shot Distance", "Shot Zone Area"),
}
USUAL_CONVENTION = {NBA_COM: NBA_COM_USUAL, SHOT_LOCATIONS: SHOT_LOCATIONS_USUAL}


def to_feed_record(shot: Mapping[str, Any]) -> dict[str, str]:
    """A canonical shot document in the original feed's shape: 22 string fields."""
    seconds_left = int(shot["seconds_left"])
    area = shot["zone_area"]
    return {
        "Game ID": str(shot["game_id"]),
        "Game Event ID": str(shot["event_id"]),
        "Player ID": str(shot["player_id"]),
        "Player Name": shot["player_name"],
        "Team ID": str(shot["team_id"]),
        "Team Name": shot["team_name"],
        "Period": str(shot["period"]),
        "Minutes Remaining": str(seconds_left // 60),
        "Seconds Remaining": str(seconds_left % 60),
        "Action Type": shot["action_type"],
        "Shot Type": f"{shot['shot_type']} Field Goal",
        "Shot Zone Basic": shot["zone_basic"],
        "Shot Zone Area": f"{area}({ZONE_AREAS[area]})",
        "Shot Zone Range": shot["zone_range"],
        "Shot Distance": f"{shot['distance_ft']:g}",
        "X Location": str(round(shot["x_ft"] * 10)),
        "Y Location": str(round(shot["y_ft"] * 10)),
        "Shot Made Flag": "1" if shot["made"] else "0",
        "Game Date": shot["game_date"].strftime("%Y%m%d"),
        "Home Team": shot["home_team"],
        "Away Team": shot["away_team"],
        "Season Type": shot["season_type"],
    }
