"""The canonical shot: one typed document for every source, and its validation.

Plain Python (no Django): the mappers, the feed, the generator and the ML core all
speak this shape. Coordinates are feet relative to the hoop (x < 0 is the shooter's
left as the 1997-2020 data draws it, y grows towards half court).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingestion import court
from ingestion.court import (  # re-exported: the canonical shot's vocabulary and ranges
    COURT_HALF_WIDTH_FT,
    COURT_LENGTH_FT,
    COURT_TOLERANCE_FT,
    DISTANCE_RANGE,
    HOOP_FROM_BASELINE_FT,
    SHOT_TYPES,
    X_RANGE,
    Y_RANGE,
    ZONE_AREAS,
    ZONE_BASIC,
    ZONE_RANGES,
)

__all__ = [  # what other modules import from here, court constants included
    "CONTENT_FIELDS", "COURT_HALF_WIDTH_FT", "COURT_LENGTH_FT", "COURT_TOLERANCE_FT", "DISTANCE_RANGE",
    "FIELDS", "HOOP_FROM_BASELINE_FT", "PERIOD_RANGE", "SEASON_TYPES", "SECONDS_RANGE", "SHOT_TYPES",
    "X_RANGE", "Y_RANGE", "ZONE_AREAS", "ZONE_BASIC", "ZONE_RANGES", "Shot", "ShotContradictionError",
    "ShotValidationError", "check_consistency", "check_game_date", "check_game_season", "check_location",
    "check_no_control_characters", "clock_order", "has_control_character", "home_flag", "normalise_game_id", "normalise_team_code",
    "optional_text", "parse_bool", "parse_choice", "parse_date", "parse_float", "parse_int", "parse_shot_key",
    "parse_shot_type", "parse_team_code", "parse_zone_area", "require_text", "season_for", "shot_key",
]  # fmt: skip

PERIOD_RANGE = (1, 10)  # four quarters and up to six overtimes
SECONDS_RANGE = (0, 720)  # a quarter is 12 minutes; an overtime 5

SEASON_TYPES = ("Regular Season", "Playoffs", "Pre Season", "All Star", "Play-In")
# Field order of the canonical document (also the column order of shot DataFrames).
FIELDS = (
    "game_id",
    "event_id",
    "player_id",
    "player_name",
    "team_id",
    "team_name",
    "home_team",
    "away_team",
    "is_home",
    "position",
    "season",
    "season_type",
    "game_date",
    "period",
    "seconds_left",
    "action_type",
    "shot_type",
    "zone_basic",
    "zone_area",
    "zone_range",
    "distance_ft",
    "x_ft",
    "y_ft",
    "made",
    "source",
    "ingested_at",
)


class ShotValidationError(ValueError):
    """A record that cannot become a canonical shot; names the field and the value."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {value!r} {problem}")

    @property
    def reason(self) -> str:
        """A short, groupable reason (no value), e.g. 'period: out of range'."""
        return f"{self.field}: {self.problem}"


@dataclass(frozen=True, slots=True)
class Shot:
    game_id: str
    event_id: int
    player_id: int
    player_name: str
    team_id: int
    team_name: str
    home_team: str
    away_team: str
    is_home: bool | None
    position: str | None
    season: str
    season_type: str
    game_date: dt.datetime
    period: int
    seconds_left: int
    action_type: str
    shot_type: str
    zone_basic: str
    zone_area: str
    zone_range: str
    distance_ft: float
    x_ft: float
    y_ft: float
    made: bool
    source: str
    ingested_at: dt.datetime

    # Which of several same-second shots of one player at one spot this is (1 for nearly all):
    # part of the key, not of the canonical fields.
    repeat: int = 1
    # True when ``event_id`` is the source's own (the 1997-2020 format's Game Event ID): two
    # records with one key and different source event ids are two shots, not a correction.
    event_from_source: bool = False

    @property
    def key(self) -> str:
        """The shot's identity, also the warehouse ``_id`` (see ``shot_key``)."""
        return shot_key(
            game_id=self.game_id, period=self.period, seconds_left=self.seconds_left, player_id=self.player_id,
            x_ft=self.x_ft, y_ft=self.y_ft, repeat=self.repeat,
        )  # fmt: skip

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"_id": self.key}
        for name in FIELDS:
            doc[name] = getattr(self, name)
        doc["repeat"] = self.repeat
        doc["event_from_source"] = self.event_from_source
        return doc


# The fields of a shot that are facts about it (what a correction can change). Not the
# source, the ingestion time, the derived event id, what only one format carries, nor names
# (the formats spell some differently: "OG Anunoby" / "O.G. Anunoby"; ids are compared).
CONTENT_FIELDS = (
    "team_id", "home_team", "away_team", "game_date", "season_type",
    "action_type", "shot_type", "zone_basic", "zone_area", "zone_range", "distance_ft", "made",
)  # fmt: skip


def shot_key(
    *, game_id: str, period: int, seconds_left: int, player_id: int, x_ft: float, y_ft: float, repeat: int = 1
) -> str:
    """One identity per shot, whatever the source and the row order.

    Built from what every format carries: game, period, clock, shooter and location (in
    whole tenths of a foot from the hoop, the precision both formats publish), e.g.
    ``0022300650:4:95:201939:-65:240``. A player's second shot in the same second from
    the same spot (a tip-in after a miss) gets ``:2``, and so on, in the order the source
    gives them.
    """
    key = f"{game_id}:{period}:{seconds_left}:{player_id}:{court.tenths(x_ft)}:{court.tenths(y_ft)}"
    return key if repeat == 1 else f"{key}:{repeat}"


SHOT_KEY_PATTERN = r"^\d{10}:\d{1,2}:\d{1,3}:\d{1,10}:-?\d{1,4}:-?\d{1,4}(:\d{1,3})?$"


def parse_shot_key(key: str) -> dict[str, Any]:
    """The parts of a shot key; ``ValueError`` when it is not one."""
    import re

    if not re.fullmatch(SHOT_KEY_PATTERN, key):
        raise ValueError("is not a shot key (game:period:seconds_left:player:x_tenths:y_tenths[:repeat])")
    parts = key.split(":")
    return {
        "game_id": parts[0], "period": int(parts[1]), "seconds_left": int(parts[2]), "player_id": int(parts[3]),
        "x_tenths": int(parts[4]), "y_tenths": int(parts[5]), "repeat": int(parts[6]) if len(parts) > 6 else 1,
    }  # fmt: skip


def clock_order(period: int, seconds_left: int, repeat: int = 1) -> int:
    """A derived event id for sources without one: game-clock order (tenths of elapsed seconds)."""
    before = sum(720 if p <= 4 else 300 for p in range(1, period))
    length = 720 if period <= 4 else 300
    return (before + max(0, length - seconds_left)) * 10 + min(repeat - 1, 9)


# --- field parsers: each raises ShotValidationError naming the field -------------


# The longest text a field may hold (what the live stream's tables store; real values are far shorter).
TEXT_LIMITS = {"player_name": 100, "team_name": 60, "action_type": 60, "position": 10, "season": 9,
               "home_team": 4, "away_team": 4}  # fmt: skip
TEXT_LIMIT = 100


def _limited(text: str, field: str, value: Any) -> str:
    limit = TEXT_LIMITS.get(field, TEXT_LIMIT)
    if len(text) > limit:
        raise ShotValidationError(field, value, f"is longer than {limit} characters ({len(text)})")
    return text


def require_text(record: Mapping[str, Any], column: str, field: str | None = None) -> str:
    value = record.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ShotValidationError(field or column, value, "is missing")
    return _limited(str(value).strip(), field or column, value)


def optional_text(record: Mapping[str, Any], column: str, field: str | None = None) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    text = str(value).strip()
    return _limited(text, field or column, value) if text else None


_WHOLE_AS_DECIMAL = re.compile(r"([+-]?\d+)\.0*")


def parse_int(value: Any, field: str, bounds: tuple[int, int] | None = None) -> int:
    if isinstance(value, bool):
        raise ShotValidationError(field, value, "is not a whole number")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise ShotValidationError(field, value, "is missing")
        try:
            number = int(text)
        except ValueError:
            # "12.0" (a whole number a spreadsheet wrote as a float) is 12; "9e5", "inf" or "12.5" are refused.
            whole = _WHOLE_AS_DECIMAL.fullmatch(text)
            if whole is None:
                try:
                    float(text)
                except ValueError:
                    raise ShotValidationError(field, value, "is not a number") from None
                raise ShotValidationError(field, value, "is not a whole number") from None
            number = int(whole.group(1))
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise ShotValidationError(field, value, f"is out of range {bounds[0]}..{bounds[1]}")
    return number


def parse_float(value: Any, field: str, bounds: tuple[float, float] | None = None) -> float:
    if isinstance(value, bool):
        raise ShotValidationError(field, value, "is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise ShotValidationError(field, value, "is missing")
        try:
            number = float(text)
        except ValueError:
            raise ShotValidationError(field, value, "is not a number") from None
    if not math.isfinite(number):
        raise ShotValidationError(field, value, "is not a finite number")
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise ShotValidationError(field, value, f"is out of range {bounds[0]:g}..{bounds[1]:g}")
    return number


_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


def parse_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text:
        raise ShotValidationError(field, value, "is missing")
    raise ShotValidationError(field, value, "is not a yes/no value (0/1 or TRUE/FALSE)")


def parse_date(value: Any, field: str, formats: tuple[str, ...]) -> dt.datetime:
    """A game date as a naive UTC midnight datetime (what BSON stores)."""
    if isinstance(value, dt.datetime):
        return value.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ShotValidationError(field, value, "is missing")
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ShotValidationError(field, value, f"is not a date ({' or '.join(formats)})")


def parse_choice(value: str, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ShotValidationError(field, value, f"is not one of {', '.join(choices)}")
    return value


def parse_shot_type(value: Any) -> str:
    """'2PT Field Goal', '2PT' or 2 -> '2PT'."""
    text = str(value).strip().upper() if value is not None else ""
    if not text:
        raise ShotValidationError("shot_type", value, "is missing")
    head = text.split()[0]
    if head in ("2", "2PT"):
        return "2PT"
    if head in ("3", "3PT"):
        return "3PT"
    raise ShotValidationError("shot_type", value, "is not a known shot type (2PT or 3PT)")


def parse_zone_area(value: Any) -> str:
    """'Right Side(R)', 'Right Side' or 'R' -> 'Right Side'."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ShotValidationError("zone_area", value, "is missing")
    name = text.split("(")[0].strip()
    if name in ZONE_AREAS:
        return name
    for area, abbreviation in ZONE_AREAS.items():
        if text.upper() == abbreviation:
            return area
    raise ShotValidationError("zone_area", value, "is not a known shot zone area")


# The first and the last game date a shot may carry: the BAA's first game, and a year from now.
FIRST_GAME_DATE = dt.datetime(1946, 11, 1)


def check_game_date(game_date: dt.datetime, value: Any) -> dt.datetime:
    last = dt.datetime.now() + dt.timedelta(days=366)
    if not FIRST_GAME_DATE <= game_date <= last:
        raise ShotValidationError("game_date", value, f"is not a date of an NBA game ({FIRST_GAME_DATE:%Y-%m-%d} "
                                                      f"to a year from now)")
    return game_date


def season_for(game_date: dt.datetime) -> str:
    """NBA seasons start in October: a game in Jan 2024 belongs to '2023-24'. The 2019-20 season
    ended in the bubble in October 2020 (and 2020-21 began on 22 December)."""
    boundary = 11 if game_date.year == 2020 else 8
    start = game_date.year if game_date.month >= boundary else game_date.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def check_game_season(*, game_id: str, game_date: dt.datetime, date_value: Any, season: str | None = None) -> str:
    """The date's season. An NBA game id carries its season ('0022300501': 2023-24) and so does the
    date: they must agree with each other and with a season the file gives. Ids of another scheme
    (not '00' then a game type 1-6) are not read."""
    of_date = season_for(game_date)
    if season is not None and season != of_date:
        raise ShotValidationError("season", season, f"does not hold the game date {game_date:%Y-%m-%d} "
                                                    f"(a {of_date} date)")
    if game_id[:2] == "00" and game_id[2] in "123456" and game_id[3:5] != of_date[2:4]:
        raise ShotValidationError("game_date", date_value, f"is a {of_date} date, but game {game_id} is of the "
                                                           f"season starting in ..{game_id[3:5]}")
    return of_date


def normalise_game_id(value: Any) -> str:
    """NBA game ids are ten digits with leading zeros ('0022300003'); CSVs drop them."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ShotValidationError("game_id", value, "is missing")
    if not text.isdigit() or len(text) > 10:
        raise ShotValidationError("game_id", value, "is not an NBA game id (up to 10 digits)")
    return text.zfill(10)


def check_location(x_ft: float, y_ft: float, raw_x: Any, raw_y: Any) -> None:
    if not X_RANGE[0] <= x_ft <= X_RANGE[1]:
        raise ShotValidationError("x", raw_x, "is off the court")
    if not Y_RANGE[0] <= y_ft <= Y_RANGE[1]:
        raise ShotValidationError("y", raw_y, "is off the court")


class ShotContradictionError(ShotValidationError):
    """Fields of one record that cannot all be true (the cross-field rule of ``ingestion.court``)."""

    def __init__(self, found: court.Contradiction) -> None:
        ValueError.__init__(self, found.message)
        self.field = found.field
        self.value = dict(zip(found.fields, found.values, strict=True))
        self.problem = "contradict each other"
        self.contradiction = found


def check_consistency(
    *, x_ft: float, y_ft: float, distance_ft: float, zone_basic: str, zone_area: str, zone_range: str, shot_type: str
) -> None:
    """Raise for the first contradiction between location, distance, zones and shot type."""
    found = court.contradictions(
        x_ft=x_ft, y_ft=y_ft, distance_ft=distance_ft, zone_basic=zone_basic, zone_area=zone_area,
        zone_range=zone_range, shot_type=shot_type,
    )  # fmt: skip
    if found:
        raise ShotContradictionError(found[0])


# Tabs and line breaks included: a quoted CSV field can smuggle one into a name.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def has_control_character(text: str) -> bool:
    return _CONTROL.search(text) is not None


def check_no_control_characters(record: Mapping[str, Any]) -> None:
    """Refuse a record with a control character (a NUL byte, an escape...) in any field."""
    for column, value in record.items():
        if isinstance(value, str) and has_control_character(value):
            raise ShotValidationError(str(column), value, "contains a control character")
        if isinstance(column, str) and has_control_character(column):
            raise ShotValidationError("header", column, "contains a control character")


# Franchise names as NBA.com prints them, with the abbreviation HOME_TEAM/AWAY_TEAM use
# (historical names included: the seasons go back to 1997).
TEAM_ABBREVIATIONS = {
    "Atlanta Hawks": "ATL",
    "Boston Celtics": "BOS",
    "Brooklyn Nets": "BKN",
    "New Jersey Nets": "NJN",
    "Charlotte Hornets": "CHA",
    "Charlotte Bobcats": "CHA",
    "Chicago Bulls": "CHI",
    "Cleveland Cavaliers": "CLE",
    "Dallas Mavericks": "DAL",
    "Denver Nuggets": "DEN",
    "Detroit Pistons": "DET",
    "Golden State Warriors": "GSW",
    "Houston Rockets": "HOU",
    "Indiana Pacers": "IND",
    "LA Clippers": "LAC",
    "Los Angeles Clippers": "LAC",
    "Los Angeles Lakers": "LAL",
    "Memphis Grizzlies": "MEM",
    "Vancouver Grizzlies": "VAN",
    "Miami Heat": "MIA",
    "Milwaukee Bucks": "MIL",
    "Minnesota Timberwolves": "MIN",
    "New Orleans Pelicans": "NOP",
    "New Orleans Hornets": "NOH",
    "New Orleans/Oklahoma City Hornets": "NOK",
    "New York Knicks": "NYK",
    "Oklahoma City Thunder": "OKC",
    "Seattle SuperSonics": "SEA",
    "Orlando Magic": "ORL",
    "Philadelphia 76ers": "PHI",
    "Phoenix Suns": "PHX",
    "Portland Trail Blazers": "POR",
    "Sacramento Kings": "SAC",
    "San Antonio Spurs": "SAS",
    "Toronto Raptors": "TOR",
    "Utah Jazz": "UTA",
    "Washington Wizards": "WAS",
}
# Codes that changed between data sets for the same franchise.
_ABBREVIATION_ALIASES = {"BRK": "BKN", "PHO": "PHX", "GOS": "GSW", "SA": "SAS", "NO": "NOP", "NY": "NYK"}


def normalise_team_code(code: str) -> str:
    code = code.strip().upper()
    return _ABBREVIATION_ALIASES.get(code, code)


def parse_team_code(code: str, field: str) -> str:
    """A team's abbreviation (2-4 letters; codes of franchises not listed here are kept as given)."""
    normal = normalise_team_code(code)
    if not (2 <= len(normal) <= 4 and normal.isascii() and normal.isalpha()):
        raise ShotValidationError(field, code, "is not a team abbreviation (2 to 4 letters)")
    return normal


def home_flag(team_name: str, home_team: str, away_team: str) -> bool | None:
    """True when the shooting team is the home side; None when the name is unknown."""
    code = TEAM_ABBREVIATIONS.get(team_name)
    if code is None:
        return None
    if code == home_team:
        return True
    if code == away_team:
        return False
    return None
