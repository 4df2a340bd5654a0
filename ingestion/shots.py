"""The canonical shot: one typed document for every source, and its validation.

Plain Python (no Django): the mappers, the feed, the generator and the ML core all
speak this shape. Coordinates are feet relative to the hoop (x < 0 is the shooter's
left as the 1997-2020 data draws it, y grows towards half court).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Court geometry (feet, hoop at the origin).  The hoop centre is 5.25 ft from the
# baseline; a full court is 94 x 50 ft, so a heave from the far baseline has y = 88.75.
HOOP_FROM_BASELINE_FT = 5.25
COURT_HALF_WIDTH_FT = 25.0
COURT_LENGTH_FT = 94.0
# Real data puts a few shots a hair outside the lines (rounding of the tracking).
COURT_TOLERANCE_FT = 0.5
X_RANGE = (-COURT_HALF_WIDTH_FT - COURT_TOLERANCE_FT, COURT_HALF_WIDTH_FT + COURT_TOLERANCE_FT)
Y_RANGE = (
    -HOOP_FROM_BASELINE_FT - COURT_TOLERANCE_FT,
    COURT_LENGTH_FT - HOOP_FROM_BASELINE_FT + COURT_TOLERANCE_FT,
)
DISTANCE_RANGE = (0.0, COURT_LENGTH_FT)
PERIOD_RANGE = (1, 10)  # four quarters and up to six overtimes
SECONDS_RANGE = (0, 720)  # a quarter is 12 minutes; an overtime 5

SHOT_TYPES = ("2PT", "3PT")
SEASON_TYPES = ("Regular Season", "Playoffs", "Pre Season", "All Star", "Play-In")
ZONE_BASIC = (
    "Restricted Area",
    "In The Paint (Non-RA)",
    "Mid-Range",
    "Left Corner 3",
    "Right Corner 3",
    "Above the Break 3",
    "Backcourt",
)
ZONE_AREAS = {
    "Left Side": "L",
    "Left Side Center": "LC",
    "Center": "C",
    "Right Side Center": "RC",
    "Right Side": "R",
    "Back Court": "BC",
}
ZONE_RANGES = ("Less Than 8 ft.", "8-16 ft.", "16-24 ft.", "24+ ft.", "Back Court Shot")

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

    @property
    def key(self) -> str:
        """The natural key, also the warehouse ``_id``."""
        return shot_key(self.game_id, self.event_id)

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"_id": self.key}
        for name in FIELDS:
            doc[name] = getattr(self, name)
        return doc


def shot_key(game_id: str, event_id: int) -> str:
    return f"{game_id}:{event_id}"


# --- field parsers: each raises ShotValidationError naming the field -------------


def require_text(record: Mapping[str, Any], column: str, field: str | None = None) -> str:
    value = record.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ShotValidationError(field or column, value, "is missing")
    if not isinstance(value, str):
        value = str(value)
    return value.strip()


def optional_text(record: Mapping[str, Any], column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


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
            try:
                as_float = float(text)
            except ValueError:
                raise ShotValidationError(field, value, "is not a number") from None
            if not as_float.is_integer():
                raise ShotValidationError(field, value, "is not a whole number") from None
            number = int(as_float)
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


def season_for(game_date: dt.datetime) -> str:
    """NBA seasons start in October: a game in Jan 2024 belongs to '2023-24'."""
    start = game_date.year if game_date.month >= 8 else game_date.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


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
