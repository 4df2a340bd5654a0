"""Synthetic NBA shots in the NBA.com CSV format, so PariVision runs with no real data.

Plain Python and the standard library only (no Django, no NumPy). ``generate_rows``
yields rows exactly like the NBA.com season files (``NBA_COM_COLUMNS``, string values,
``MM-DD-YYYY`` dates, ``TRUE``/``FALSE``, feet with the baseline at y=0 and the
shooter's left at x>0), so they go through the same importer as real files.

The league is the 30 real franchises (names, abbreviations and team ids are public
facts) with made-up players.  Each player has a position, a usage share, a shot
profile drawn around his position's profile and a skill offset, so a player's history
predicts his next shots as it does in real data.  The probabilities are calibrated on
league-wide aggregate figures of the 2022-23 and 2023-24 regular seasons (NBA.com
files): no row and no player of the real data is embedded here.

Same arguments, same rows.  A game depends only on the seed, the league and its place
in the schedule, so asking for more games extends a data set without changing the
games already generated.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import io
import math
import random
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ingestion.court import COURT_HALF_WIDTH_TENTHS as _COURT_HALF_WIDTH
from ingestion.court import HOOP_Y_HUNDREDTHS as _HOOP_Y_HUNDREDTHS
from ingestion.court import CourtZone, classify_location, classify_tenths, shot_distance
from ingestion.mappers import NBA_COM_COLUMNS

# Court geometry lives in ingestion.court (canonical orientation: x < 0 is the Left Side).
# The generator works in NBA.com's LOC_X orientation (x > 0: Left Side), hence the mirror.
__all__ = ["CourtZone", "classify_location", "shot_distance"]


def _classify_tenths(x: int, y: int) -> CourtZone:
    """Zone labels of a location in tenths of a foot from the hoop, NBA.com orientation (x>0: left)."""
    return classify_tenths(-x, y)


# --- aggregate figures of the 2022-23 and 2023-24 regular seasons (NBA.com files) --
#
# Shot zones: RA restricted area, PAINT in the paint (non-RA), MID mid-range, C3 corner
# threes (either side), AB3 above-the-break threes, BC backcourt heaves.
ZONES = ("RA", "PAINT", "MID", "C3", "AB3", "BC")
_BASIC_OF_ZONE = {
    "RA": ("Restricted Area",),
    "PAINT": ("In The Paint (Non-RA)",),
    "MID": ("Mid-Range",),
    "C3": ("Left Corner 3", "Right Corner 3"),
    "AB3": ("Above the Break 3",),
    "BC": ("Backcourt",),
}
ZONE_OF_BASIC = {basic: zone for zone, names in _BASIC_OF_ZONE.items() for basic in names}

# Action types per zone: (ACTION_TYPE, % of the zone's shots, FG%).  The actions that
# make up ~97% of each zone; the shares are renormalised over the listed actions.
ZONE_ACTIONS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "RA": (
        ("Driving Layup Shot", 21.8, 55.5),
        ("Running Layup Shot", 9.0, 64.2),
        ("Tip Layup Shot", 7.1, 49.3),
        ("Driving Finger Roll Layup Shot", 7.0, 67.6),
        ("Cutting Layup Shot", 6.9, 74.1),
        ("Layup Shot", 6.7, 56.2),
        ("Putback Layup Shot", 5.1, 68.6),
        ("Cutting Dunk Shot", 4.7, 92.9),
        ("Running Dunk Shot", 4.0, 93.6),
        ("Driving Reverse Layup Shot", 3.2, 58.5),
        ("Driving Dunk Shot", 2.9, 82.3),
        ("Alley Oop Dunk Shot", 2.3, 90.6),
        ("Dunk Shot", 2.3, 88.2),
        ("Running Finger Roll Layup Shot", 2.2, 77.5),
        ("Reverse Layup Shot", 1.9, 68.8),
        ("Driving Floating Jump Shot", 1.5, 43.7),
        ("Tip Dunk Shot", 1.3, 87.0),
        ("Alley Oop Layup shot", 1.0, 69.0),
        ("Driving Floating Bank Jump Shot", 1.0, 55.5),
        ("Cutting Finger Roll Layup Shot", 0.9, 82.7),
        ("Running Reverse Layup Shot", 0.9, 67.9),
        ("Putback Dunk Shot", 0.8, 91.2),
        ("Hook Shot", 0.8, 52.5),
        ("Running Alley Oop Dunk Shot", 0.8, 91.8),
        ("Turnaround Hook Shot", 0.6, 54.9),
    ),
    "PAINT": (
        ("Driving Floating Jump Shot", 20.6, 44.0),
        ("Driving Layup Shot", 12.0, 31.2),
        ("Pullup Jump shot", 10.3, 48.3),
        ("Floating Jump shot", 7.8, 46.8),
        ("Driving Floating Bank Jump Shot", 5.0, 51.4),
        ("Turnaround Hook Shot", 4.5, 49.8),
        ("Fadeaway Jump Shot", 4.4, 43.0),
        ("Turnaround Jump Shot", 4.1, 44.0),
        ("Turnaround Fadeaway shot", 4.0, 46.0),
        ("Hook Shot", 3.1, 47.0),
        ("Layup Shot", 2.9, 31.3),
        ("Driving Finger Roll Layup Shot", 2.9, 49.0),
        ("Jump Shot", 2.8, 43.1),
        ("Driving Hook Shot", 2.7, 42.4),
        ("Running Layup Shot", 2.6, 37.8),
        ("Cutting Layup Shot", 2.0, 46.8),
        ("Step Back Jump shot", 1.2, 50.6),
        ("Putback Layup Shot", 0.8, 42.1),
        ("Running Pull-Up Jump Shot", 0.6, 54.3),
        ("Turnaround Bank shot", 0.5, 61.6),
        ("Driving Bank Hook Shot", 0.5, 50.7),
        ("Driving Reverse Layup Shot", 0.4, 40.8),
        ("Cutting Dunk Shot", 0.4, 69.8),
    ),
    "MID": (
        ("Pullup Jump shot", 40.3, 42.9),
        ("Jump Shot", 14.7, 42.0),
        ("Step Back Jump shot", 13.5, 42.7),
        ("Fadeaway Jump Shot", 7.8, 38.5),
        ("Turnaround Fadeaway shot", 6.4, 39.9),
        ("Driving Floating Jump Shot", 5.2, 40.0),
        ("Turnaround Jump Shot", 3.6, 38.8),
        ("Driving Floating Bank Jump Shot", 2.1, 48.4),
        ("Floating Jump shot", 2.0, 37.3),
        ("Running Pull-Up Jump Shot", 1.1, 44.5),
    ),
    "C3": (
        ("Jump Shot", 85.2, 38.9),
        ("Running Jump Shot", 7.3, 40.6),
        ("Step Back Jump shot", 4.1, 35.2),
        ("Pullup Jump shot", 2.3, 35.0),
    ),
    "AB3": (
        ("Jump Shot", 63.5, 35.9),
        ("Pullup Jump shot", 17.9, 33.9),
        ("Step Back Jump shot", 9.4, 35.5),
        ("Running Jump Shot", 5.1, 39.4),
        ("Running Pull-Up Jump Shot", 3.4, 37.0),
    ),
    "BC": (
        ("Jump Shot", 47.8, 2.1),
        ("Pullup Jump shot", 33.4, 2.1),
        ("Running Jump Shot", 8.7, 2.1),
    ),
}

# Zone mix of each position's shots, % (backcourt heaves are modelled with the clock).
POSITION_ZONE_MIX: dict[str, dict[str, float]] = {
    "PG": {"RA": 22.1, "PAINT": 21.7, "MID": 14.1, "C3": 7.3, "AB3": 34.6},
    "SG": {"RA": 23.9, "PAINT": 17.3, "MID": 12.1, "C3": 11.8, "AB3": 34.8},
    "SF": {"RA": 27.1, "PAINT": 16.6, "MID": 11.2, "C3": 14.1, "AB3": 30.8},
    "PF": {"RA": 33.1, "PAINT": 19.0, "MID": 10.9, "C3": 11.4, "AB3": 25.4},
    "C": {"RA": 48.4, "PAINT": 24.8, "MID": 8.4, "C3": 3.5, "AB3": 14.8},
}
LEFT_CORNER_SHARE = 0.523

# How much more (or less) often a position uses a family of actions than the league,
# inside (RA and paint) and outside (mid-range and threes): the ratio of shares.
ACTION_FAMILY_RATIO: dict[str, dict[str, dict[str, float]]] = {
    "inside": {
        "PG": {"drive": 1.56, "dunk": 0.26, "hook": 0.30, "offdribble": 1.70, "other": 0.82, "tip": 0.32},
        "SG": {"drive": 1.34, "dunk": 0.59, "hook": 0.33, "offdribble": 1.37, "other": 0.95, "tip": 0.51},
        "SF": {"drive": 1.05, "dunk": 0.99, "hook": 0.50, "offdribble": 1.12, "other": 1.04, "tip": 0.91},
        "PF": {"drive": 0.85, "dunk": 1.26, "hook": 1.05, "offdribble": 0.71, "other": 1.06, "tip": 1.20},
        "C": {"drive": 0.35, "dunk": 1.73, "hook": 2.45, "offdribble": 0.28, "other": 1.11, "tip": 1.86},
    },
    "outside": {
        "PG": {"drive": 1.66, "offdribble": 1.50, "other": 0.74},
        "SG": {"drive": 1.05, "offdribble": 1.13, "other": 0.94},
        "SF": {"drive": 0.70, "offdribble": 0.77, "other": 1.12},
        "PF": {"drive": 0.67, "offdribble": 0.69, "other": 1.15},
        "C": {"drive": 0.41, "offdribble": 0.36, "other": 1.30},
    },
}

# Distance from the hoop (whole feet, as SHOT_DISTANCE) within each zone: (first foot,
# last foot, % of the zone's shots).  Rows under 0.3% are folded into their neighbours.
ZONE_DISTANCES: dict[str, tuple[tuple[int, int, float], ...]] = {
    "RA": ((0, 0, 24.8), (1, 1, 29.9), (2, 2, 27.1), (3, 3, 18.1)),
    "PAINT": (
        (4, 4, 18.5), (5, 5, 15.7), (6, 6, 13.4), (7, 7, 11.7), (8, 8, 8.9), (9, 9, 7.3),
        (10, 10, 6.6), (11, 11, 6.1), (12, 12, 5.3), (13, 13, 4.1), (14, 14, 1.7), (15, 15, 0.6),
    ),
    "MID": (
        (8, 8, 1.7), (9, 9, 3.7), (10, 10, 4.7), (11, 11, 5.4), (12, 12, 5.7), (13, 13, 6.0),
        (14, 14, 9.0), (15, 15, 11.1), (16, 16, 11.7), (17, 17, 10.8), (18, 18, 9.2),
        (19, 19, 7.9), (20, 20, 5.9), (21, 21, 3.9), (22, 22, 2.4), (23, 23, 0.8),
    ),
    "C3": ((22, 22, 29.9), (23, 23, 55.5), (24, 24, 13.7), (25, 25, 0.9)),
    "AB3": (
        (23, 23, 0.3), (24, 24, 13.0), (25, 25, 36.5), (26, 26, 28.1), (27, 27, 12.3),
        (28, 28, 5.1), (29, 29, 2.1), (30, 30, 1.1), (31, 31, 0.5), (32, 40, 1.0),
    ),
    "BC": ((42, 49, 35.7), (50, 59, 39.4), (60, 69, 16.8), (70, 81, 8.1)),
}  # fmt: skip

# Angle from the hoop (0 = straight on, 90 = along the baseline) in 15-degree bins
# from 0, % of the zone's shots.
ZONE_ANGLES: dict[str, tuple[float, ...]] = {
    "RA": (27.9, 13.8, 13.8, 16.0, 12.9, 6.8, 4.9, 1.5, 0.7, 0.6, 0.5, 0.6),
    "PAINT": (31.6, 24.5, 17.6, 12.9, 8.6, 3.8, 0.8, 0.1),
    "MID": (18.4, 14.2, 17.6, 15.4, 13.2, 16.2, 4.9, 0.1),
    "C3": (0.0, 0.0, 0.0, 0.0, 10.2, 66.5, 23.3),
    "AB3": (20.5, 26.9, 31.5, 16.4, 4.7),
    "BC": (64.4, 35.6),
}

# FG% falls with distance inside a zone; logit change per foot around the zone's
# typical distance.  The restricted area's raw slope is halved because part of it is
# already carried by the action (dunks are shot closer than layups).
DISTANCE_LOGIT_PER_FT = {"RA": -0.19, "PAINT": 0.0, "MID": -0.025, "C3": -0.03, "AB3": -0.05, "BC": 0.0}
TYPICAL_DISTANCE_FT = {"RA": 1.9, "PAINT": 7.5, "MID": 16.0, "C3": 23.3, "AB3": 26.0, "BC": 55.0}

# Field goal attempts per team: 88.1 (sd 6.8) in regulation, 8.5 per overtime period.
SHOTS_PER_TEAM_GAME = (88.1, 6.8)
SHOTS_PER_TEAM_OVERTIME = 8.5
# 5.6% of games go to overtime, 0.7% to double overtime.
OVERTIME_RATES = (0.056, 0.0073, 0.0008)

# When shots happen: seconds left in a 12-minute quarter, (first, last, % of the
# shots that are not end-of-period shots).  Overtime scales the same shape to 5 minutes.
CLOCK_BUCKETS = (
    (3, 4, 0.39), (5, 10, 0.73), (11, 24, 1.30), (25, 60, 5.56), (61, 120, 8.28),
    (121, 360, 32.71), (361, 600, 33.87), (601, 700, 13.97), (701, 719, 1.43),
)  # fmt: skip
# 1.75% of shots leave 2 seconds or less on the clock (about 0.78 per period);
# their zone mix (% incl. 10.8% backcourt heaves) and the seconds left (0, 1, 2).
END_OF_PERIOD_SHOTS_PER_PERIOD = 0.78
END_OF_PERIOD_ZONE_MIX = {"RA": 17.3, "PAINT": 12.8, "MID": 11.8, "C3": 7.5, "AB3": 39.7, "BC": 10.8}
END_OF_PERIOD_SECONDS = ((0, 1.08), (1, 0.40), (2, 0.27))
# FG% drops from 47.5% to 23% / 32% / 40% with 0 / 1 / 2 seconds left (heaves and
# contested late shots) and to 43% with 3-10 seconds left; and to 43% in overtime.
CLOCK_LOGIT = {0: -0.8, 1: -0.6, 2: -0.4}
LATE_CLOCK_LOGIT = -0.15
OVERTIME_LOGIT = -0.15

# The spread of skills around the league rates.  Chosen so that, as in 2023-24, the
# players (120+ shots in each half season) who shot better than their position's
# median in the first half still shoot ~5 points better in the second, and FG% of
# players with 300+ shots spreads by ~6.5 points; team defence and home court are
# small assumed effects.
PLAYER_SKILL_SD = 0.15  # logit, all shots
PLAYER_THREE_SKILL_SD = 0.14  # logit, threes on top
TEAM_DEFENCE_SD = 0.06
HOME_LOGIT = 0.02
PROFILE_CONCENTRATION = 50.0  # Dirichlet concentration of a player's zone mix

# --- league ------------------------------------------------------------------------

# The 30 current franchises: name as NBA.com prints it, abbreviation, NBA team id.
FRANCHISES = (
    ("Atlanta Hawks", "ATL", 1610612737),
    ("Boston Celtics", "BOS", 1610612738),
    ("Brooklyn Nets", "BKN", 1610612751),
    ("Charlotte Hornets", "CHA", 1610612766),
    ("Chicago Bulls", "CHI", 1610612741),
    ("Cleveland Cavaliers", "CLE", 1610612739),
    ("Dallas Mavericks", "DAL", 1610612742),
    ("Denver Nuggets", "DEN", 1610612743),
    ("Detroit Pistons", "DET", 1610612765),
    ("Golden State Warriors", "GSW", 1610612744),
    ("Houston Rockets", "HOU", 1610612745),
    ("Indiana Pacers", "IND", 1610612754),
    ("LA Clippers", "LAC", 1610612746),
    ("Los Angeles Lakers", "LAL", 1610612747),
    ("Memphis Grizzlies", "MEM", 1610612763),
    ("Miami Heat", "MIA", 1610612748),
    ("Milwaukee Bucks", "MIL", 1610612749),
    ("Minnesota Timberwolves", "MIN", 1610612750),
    ("New Orleans Pelicans", "NOP", 1610612740),
    ("New York Knicks", "NYK", 1610612752),
    ("Oklahoma City Thunder", "OKC", 1610612760),
    ("Orlando Magic", "ORL", 1610612753),
    ("Philadelphia 76ers", "PHI", 1610612755),
    ("Phoenix Suns", "PHX", 1610612756),
    ("Portland Trail Blazers", "POR", 1610612757),
    ("Sacramento Kings", "SAC", 1610612758),
    ("San Antonio Spurs", "SAS", 1610612759),
    ("Toronto Raptors", "TOR", 1610612761),
    ("Utah Jazz", "UTA", 1610612762),
    ("Washington Wizards", "WAS", 1610612764),
)
GAMES_PER_TEAM = 82
SEASON_DAYS = 173  # opening night to the last day of the regular season
ALL_STAR_BREAK = (115, 6)  # days after opening night, and length

# A 13-man roster: position and base share of the team's shots by roster slot
# (starters first; the last men rarely play).
ROSTER = (
    ("PG", 0.17, 0.93), ("SG", 0.15, 0.93), ("SF", 0.13, 0.93), ("PF", 0.12, 0.93),
    ("C", 0.10, 0.93), ("SF", 0.08, 0.92), ("C", 0.06, 0.92), ("PG", 0.045, 0.9),
    ("SG", 0.045, 0.88), ("PF", 0.045, 0.85), ("SG", 0.025, 0.7), ("PF", 0.015, 0.5),
    ("C", 0.01, 0.45),
)  # fmt: skip
POSITION_GROUPS = {"PG": "G", "SG": "G", "SF": "F", "PF": "F", "C": "C"}
_SYNTHETIC_PLAYER_IDS = (9_000_000, 99_999_999)  # far above real NBA player ids

_FIRST_NAMES = (
    "Aaron", "Adrian", "Alden", "Amari", "Andre", "Arlo", "Bennett", "Blake", "Brody", "Caleb",
    "Cameron", "Carter", "Cedric", "Corbin", "Damon", "Darius", "Dawson", "Dexter", "Elias",
    "Emmett", "Ezra", "Felix", "Gavin", "Grady", "Harlan", "Hollis", "Isaiah", "Jalen",
    "Jarrett", "Jonah", "Julian", "Kendrick", "Keon", "Lamar", "Landon", "Leland", "Malik",
    "Marcus", "Mason", "Miles", "Nolan", "Omari", "Owen", "Parker", "Quentin", "Reggie",
    "Roland", "Rowan", "Silas", "Simon", "Terrell", "Theo", "Tobias", "Trent", "Tyrese",
    "Vernon", "Wesley", "Xavier", "Zane", "Zion",
)  # fmt: skip
_LAST_NAMES = (
    "Abernathy", "Aldridge", "Ashford", "Barlow", "Beckett", "Birch", "Blackwell", "Brannon",
    "Calloway", "Carver", "Chandler", "Colton", "Cromwell", "Dalton", "Delancey", "Draper",
    "Easton", "Ellery", "Fairbanks", "Fenwick", "Garrison", "Gentry", "Hadley", "Halvorsen",
    "Hargrove", "Holloway", "Ingram", "Jessup", "Keller", "Kingsley", "Lacroix", "Lockhart",
    "Lowell", "Maddox", "Marlowe", "McCallister", "Merriweather", "Montague", "Nash",
    "Okafor", "Osborne", "Pemberton", "Prescott", "Quimby", "Radcliffe", "Redding",
    "Rockwell", "Sampson", "Sinclair", "Stanton", "Sutherland", "Talbot", "Thornton",
    "Underwood", "Vance", "Whitaker", "Winslow", "Yardley", "Yates", "Zimmer",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    abbreviation: str
    team_id: int
    defence: float  # logit added to the opponents' shots


@dataclass(frozen=True, slots=True)
class Player:
    player_id: int
    name: str
    position: str
    team: str  # abbreviation
    usage: float  # share weight of the team's shots when he plays
    availability: float  # chance of playing a given game
    skill: float  # logit offset on every shot
    three_skill: float  # extra logit offset on threes
    zone_mix: tuple[float, ...]  # cumulative weights over the non-heave zones


@dataclass(frozen=True, slots=True)
class Game:
    game_id: str  # as NBA.com files print it (no leading zeros)
    date: dt.date
    season_end_year: int
    home: str
    away: str


# --- season structure --------------------------------------------------------------


def default_opening_night(season_end_year: int) -> dt.date:
    """The last Tuesday on or before 24 October of the season's first year."""
    day = dt.date(season_end_year - 1, 10, 24)
    return day - dt.timedelta(days=(day.weekday() - 1) % 7)


def _league_teams(teams: int, seed: int) -> list[Team]:
    if not 2 <= teams <= len(FRANCHISES):
        raise ValueError(f"teams: {teams!r} is out of range 2..{len(FRANCHISES)}")
    rng = random.Random(f"parivision-generator:{seed}:teams")
    return [
        Team(name, code, team_id, rng.gauss(0.0, TEAM_DEFENCE_SD))
        for name, code, team_id in FRANCHISES[:teams]
    ]


def _rounds(codes: Sequence[str], rng: random.Random) -> list[list[tuple[str, str]]]:
    """One round robin (circle method): every team meets every other team once."""
    slots: list[str | None] = list(codes)
    if len(slots) % 2:
        slots.append(None)  # the team drawn against None sits the round out
    rng.shuffle(slots)
    rounds = []
    n = len(slots)
    for _ in range(n - 1):
        pairs = []
        for i in range(n // 2):
            a, b = slots[i], slots[n - 1 - i]
            if a is not None and b is not None:
                pairs.append((a, b))
        rounds.append(pairs)
        slots = [slots[0], slots[-1], *slots[1:-1]]
    return rounds


def _season_matchups(codes: Sequence[str], rng: random.Random) -> list[tuple[str, str]]:
    """(home, away) pairs for a season of GAMES_PER_TEAM games a team, in round order.

    Round robins follow one another until every team has its games.  Two teams take
    turns hosting each other, and a first meeting goes to the side with fewer home
    games so far, so every team plays about half its games at home.
    """
    matchups: list[tuple[str, str]] = []
    played = dict.fromkeys(codes, 0)
    hosted = dict.fromkeys(codes, 0)
    hosted_pair: dict[tuple[str, str], int] = {}  # (host, guest) -> times
    progress = True
    while progress and min(played.values()) < GAMES_PER_TEAM:
        progress = False  # an odd league can strand one team a game short
        for pairs in _rounds(codes, rng):
            round_pairs = [(a, b) for a, b in pairs if max(played[a], played[b]) < GAMES_PER_TEAM]
            rng.shuffle(round_pairs)
            for a, b in round_pairs:
                a_hosted, b_hosted = hosted_pair.get((a, b), 0), hosted_pair.get((b, a), 0)
                if a_hosted != b_hosted:
                    home_is_a = a_hosted < b_hosted
                elif hosted[a] != hosted[b]:
                    home_is_a = hosted[a] < hosted[b]
                else:
                    home_is_a = rng.random() < 0.5
                home, away = (a, b) if home_is_a else (b, a)
                hosted_pair[home, away] = hosted_pair.get((home, away), 0) + 1
                hosted[home] += 1
                played[home] += 1
                played[away] += 1
                matchups.append((home, away))
                progress = True
            if min(played.values()) >= GAMES_PER_TEAM:
                break
    return matchups


def _game_days(opening: dt.date) -> list[dt.date]:
    """Days with games: the season minus the All-Star break, Thanksgiving and Christmas Eve."""
    break_start = opening + dt.timedelta(days=ALL_STAR_BREAK[0])
    break_end = break_start + dt.timedelta(days=ALL_STAR_BREAK[1])
    days = []
    for offset in range(SEASON_DAYS + 1):
        day = opening + dt.timedelta(days=offset)
        thanksgiving = day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28
        if break_start <= day < break_end or thanksgiving or (day.month, day.day) == (12, 24):
            continue
        days.append(day)
    return days


def _schedule(codes: Sequence[str], opening: dt.date, rng: random.Random) -> list[tuple[dt.date, str, str]]:
    """Dated (date, home, away) games; no team plays twice on one day."""
    queue = _season_matchups(codes, rng)
    days = _game_days(opening)
    most_per_day = len(codes) // 2
    dated: list[tuple[dt.date, str, str]] = []
    day_index = 0
    while queue:
        if day_index < len(days):
            day = days[day_index]
            days_left = len(days) - day_index
        else:  # the calendar is full: spill over into extra days
            day = days[-1] + dt.timedelta(days=day_index - len(days) + 1)
            days_left = 1
        # A busy or quiet night around the pace that ends the season on time; running
        # slightly ahead of pace leaves room for the games that cannot share a night.
        target = len(queue) / days_left * rng.uniform(0.5, 1.7)
        wanted = min(most_per_day, math.floor(target + rng.random()))
        if days_left == 1:  # the last day (or an extra one) plays everything it can
            wanted = most_per_day
        elif day_index == 0:  # opening night always has games
            wanted = max(wanted, 1)
        busy: set[str] = set()
        left: list[tuple[str, str]] = []
        taken = 0
        for home, away in queue:
            if taken < wanted and home not in busy and away not in busy:
                dated.append((day, home, away))
                busy.update((home, away))
                taken += 1
            else:
                left.append((home, away))
        queue = left
        day_index += 1
    return dated


def schedule(
    *, games: int, seed: int, season_end_year: int = 2024, start_date: dt.date | None = None, teams: int = 30
) -> list[Game]:
    """The first ``games`` games of the league's seasons from ``season_end_year`` on."""
    if games < 0:
        raise ValueError(f"games: {games!r} is negative")
    codes = [team.abbreviation for team in _league_teams(teams, seed)]
    result: list[Game] = []
    season = 0
    while len(result) < games:
        end_year = season_end_year + season
        if start_date is None:
            opening = default_opening_night(end_year)
        else:
            try:
                opening = start_date.replace(year=start_date.year + season)
            except ValueError:  # 29 February
                opening = start_date.replace(year=start_date.year + season, day=28)
        rng = random.Random(f"parivision-generator:{seed}:schedule:{end_year}")
        dated = _schedule(codes, opening, rng)
        for number, (day, home, away) in enumerate(dated, start=1):
            if len(result) == games:
                break
            game_id = f"2{(end_year - 1) % 100:02d}{number:05d}"
            result.append(Game(game_id.lstrip("0"), day, end_year, home, away))
        season += 1
    return result


# --- players -----------------------------------------------------------------------


def _dirichlet(rng: random.Random, weights: Sequence[float], concentration: float) -> list[float]:
    total = sum(weights)
    draws = [rng.gammavariate(concentration * w / total, 1.0) if w > 0 else 0.0 for w in weights]
    norm = sum(draws)
    return [d / norm for d in draws]


def _cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    cumulative = []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


_PROFILE_ZONES = ("RA", "PAINT", "MID", "C3", "AB3")


def rosters(*, seed: int, teams: int = 30) -> dict[str, list[Player]]:
    """Each team's 13 synthetic players (depends on the seed and the league size only)."""
    rng = random.Random(f"parivision-generator:{seed}:rosters")
    names = [f"{first} {last}" for first in _FIRST_NAMES for last in _LAST_NAMES]
    league = _league_teams(teams, seed)
    picked_names = rng.sample(names, len(league) * len(ROSTER))
    picked_ids: set[int] = set()
    while len(picked_ids) < len(picked_names):
        picked_ids.add(rng.randint(*_SYNTHETIC_PLAYER_IDS))
    ids = sorted(picked_ids)
    rng.shuffle(ids)
    result: dict[str, list[Player]] = {}
    k = 0
    for team in league:
        players = []
        for position, usage, availability in ROSTER:
            mix = POSITION_ZONE_MIX[position]
            profile = _dirichlet(rng, [mix[z] for z in _PROFILE_ZONES], PROFILE_CONCENTRATION)
            players.append(
                Player(
                    player_id=ids[k],
                    name=picked_names[k],
                    position=position,
                    team=team.abbreviation,
                    usage=usage * math.exp(rng.gauss(0.0, 0.25)),
                    availability=availability,
                    skill=rng.gauss(0.0, PLAYER_SKILL_SD),
                    three_skill=rng.gauss(0.0, PLAYER_THREE_SKILL_SD),
                    zone_mix=tuple(_cumulative(profile)),
                )
            )
            k += 1
        result[team.abbreviation] = players
    return result


# --- action tables -----------------------------------------------------------------


def _family(action: str) -> str:
    if "Dunk" in action:
        return "dunk"
    if "Tip" in action or "Putback" in action:
        return "tip"
    if "Hook" in action:
        return "hook"
    if "Driving" in action:
        return "drive"
    if "Pullup" in action or "Pull-Up" in action or "Step Back" in action:
        return "offdribble"
    return "other"


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class _ActionTable:
    actions: tuple[str, ...]
    cumulative: tuple[float, ...]
    base_logits: tuple[float, ...]


def _action_tables() -> dict[tuple[str, str], _ActionTable]:
    """For each (zone, position): which actions, how often, and their league FG% as logits."""
    tables = {}
    for zone, rows in ZONE_ACTIONS.items():
        group = "inside" if zone in ("RA", "PAINT") else "outside"
        for position in POSITION_GROUPS:
            ratios = ACTION_FAMILY_RATIO[group][position]
            weights = [
                share * (ratios.get(_family(action), 1.0) if zone != "BC" else 1.0)
                for action, share, _ in rows
            ]
            tables[zone, position] = _ActionTable(
                actions=tuple(action for action, _, _ in rows),
                cumulative=tuple(_cumulative(weights)),
                base_logits=tuple(_logit(fg / 100.0) for _, _, fg in rows),
            )
    return tables


# --- locations ---------------------------------------------------------------------


def _location_sampler(zone: str) -> tuple[list[float], list[tuple[int, int]], list[float]]:
    distances = ZONE_DISTANCES[zone]
    angles = ZONE_ANGLES[zone]
    return (
        _cumulative(share for _, _, share in distances),
        [(first, last) for first, last, _ in distances],
        _cumulative(angles),
    )


_SAMPLERS = {zone: _location_sampler(zone) for zone in ZONES}
_FALLBACK_LOCATION = {
    "RA": (0, 10),
    "PAINT": (0, 60),
    "MID": (0, 160),
    "C3": (230, 30),
    "AB3": (0, 255),
    "BC": (0, 500),
}


def _sample_location(rng: random.Random, zone: str) -> tuple[int, int, CourtZone]:
    """A location (tenths of a foot from the hoop) that the court geometry puts in ``zone``."""
    distance_cum, distance_bins, angle_cum = _SAMPLERS[zone]
    for _ in range(200):
        first, last = distance_bins[bisect.bisect_right(distance_cum, rng.random() * distance_cum[-1])]
        radius = rng.uniform(first, last + 1)
        angle_bin = bisect.bisect_right(angle_cum, rng.random() * angle_cum[-1])
        angle = math.radians(15.0 * (angle_bin + rng.random()))
        if rng.random() < 0.5:
            angle = -angle
        if zone == "C3":  # which corner
            angle = abs(angle) if rng.random() < LEFT_CORNER_SHARE else -abs(angle)
        x = round(10.0 * radius * math.sin(angle))
        y = round(10.0 * radius * math.cos(angle))
        if abs(x) > _COURT_HALF_WIDTH or y * 10 + _HOOP_Y_HUNDREDTHS < 0:
            continue
        court_zone = _classify_tenths(x, y)
        if ZONE_OF_BASIC[court_zone.basic] == zone:
            return x, y, court_zone
    x, y = _FALLBACK_LOCATION[zone]
    return x, y, _classify_tenths(x, y)


# --- formatting --------------------------------------------------------------------


def _format_loc_x(x_tenths: int) -> str:
    """NBA.com prints LOC_X with up to one decimal: '-0.4', '13', '22.5'."""
    if x_tenths % 10 == 0:
        return str(x_tenths // 10)
    return f"{x_tenths / 10:.1f}"


def _format_loc_y(y_tenths_from_hoop: int) -> str:
    """LOC_Y is measured from the baseline, so it always ends in 5 hundredths: '17.45'."""
    hundredths = y_tenths_from_hoop * 10 + _HOOP_Y_HUNDREDTHS
    return f"{hundredths // 100}.{hundredths % 100:02d}"


_LOC_X_TEXT = {x: _format_loc_x(x) for x in range(-_COURT_HALF_WIDTH, _COURT_HALF_WIDTH + 1)}


# --- games -------------------------------------------------------------------------


@dataclass(slots=True)
class _PlannedShot:
    period: int
    seconds_left: int
    order: float
    team: int  # 0 home, 1 away
    zone: str | None  # forced zone (end-of-period shots); None: the shooter's profile


def _periods(rng: random.Random) -> int:
    u = rng.random()
    overtimes = sum(1 for rate in OVERTIME_RATES if u < rate)
    return 4 + overtimes


_CLOCK_CUM = _cumulative(share for _, _, share in CLOCK_BUCKETS)
_END_SECONDS_CUM = _cumulative(share for _, share in END_OF_PERIOD_SECONDS)
_END_ZONE_CUM = _cumulative(END_OF_PERIOD_ZONE_MIX.values())
_END_ZONES = tuple(END_OF_PERIOD_ZONE_MIX)


def _clock(rng: random.Random, period: int) -> int:
    first, last, _ = CLOCK_BUCKETS[bisect.bisect_right(_CLOCK_CUM, rng.random() * _CLOCK_CUM[-1])]
    seconds = rng.randint(first, last)
    if period > 4:  # a 5-minute overtime has the same shape
        seconds = max(3, round(seconds * 300 / 720))
    return seconds


def _plan_game(rng: random.Random) -> list[_PlannedShot]:
    periods = _periods(rng)
    plan: list[_PlannedShot] = []
    # SHOTS_PER_TEAM_GAME counts the end-of-period shots (half of them per team).
    regular_mean = SHOTS_PER_TEAM_GAME[0] - 4 * END_OF_PERIOD_SHOTS_PER_PERIOD / 2
    for team in (0, 1):
        regulation = max(50, round(rng.gauss(regular_mean, SHOTS_PER_TEAM_GAME[1])))
        for _ in range(regulation):
            period = rng.randint(1, 4)
            plan.append(_PlannedShot(period, _clock(rng, period), rng.random(), team, None))
        for period in range(5, periods + 1):
            for _ in range(max(2, round(rng.gauss(SHOTS_PER_TEAM_OVERTIME, 2.5)))):
                plan.append(_PlannedShot(period, _clock(rng, period), rng.random(), team, None))
    for period in range(1, periods + 1):
        if rng.random() < END_OF_PERIOD_SHOTS_PER_PERIOD:
            seconds = END_OF_PERIOD_SECONDS[
                bisect.bisect_right(_END_SECONDS_CUM, rng.random() * _END_SECONDS_CUM[-1])
            ][0]
            zone = _END_ZONES[bisect.bisect_right(_END_ZONE_CUM, rng.random() * _END_ZONE_CUM[-1])]
            plan.append(_PlannedShot(period, seconds, rng.random(), rng.randint(0, 1), zone))
    plan.sort(key=lambda s: (s.period, -s.seconds_left, s.order))
    return plan


def _active_players(rng: random.Random, roster: list[Player]) -> tuple[list[Player], list[float]]:
    active = [p for p in roster if rng.random() < p.availability]
    if len(active) < 8:  # a team always dresses enough players: call up the next men
        active = roster[: max(8, len(active))]
    # Game-to-game variation in who gets the shots.
    weights = [p.usage * rng.gammavariate(6.0, 1 / 6.0) for p in active]
    return active, _cumulative(weights)


class _GameWriter:
    """Turns games into NBA.com rows; holds the league and the lookup tables."""

    def __init__(self, *, seed: int, teams: int) -> None:
        self.seed = seed
        self.teams = {team.abbreviation: team for team in _league_teams(teams, seed)}
        self.rosters = rosters(seed=seed, teams=teams)
        self.actions = _action_tables()
        self.player_text = {
            p.player_id: (str(p.player_id), p.name, POSITION_GROUPS[p.position], p.position)
            for roster in self.rosters.values()
            for p in roster
        }

    def rows(self, game: Game) -> Iterator[dict[str, str]]:
        rng = random.Random(f"parivision-generator:{self.seed}:game:{game.season_end_year}:{game.game_id}")
        sides = (self.teams[game.home], self.teams[game.away])
        lineups = [_active_players(rng, self.rosters[team.abbreviation]) for team in sides]
        season_1 = str(game.season_end_year)
        season_2 = f"{game.season_end_year - 1}-{game.season_end_year % 100:02d}"
        game_date = game.date.strftime("%m-%d-%Y")
        for planned in _plan_game(rng):
            team = sides[planned.team]
            opponent = sides[1 - planned.team]
            active, usage_cum = lineups[planned.team]
            player = active[bisect.bisect_right(usage_cum, rng.random() * usage_cum[-1])]
            zone = (
                planned.zone
                or _PROFILE_ZONES[bisect.bisect_right(player.zone_mix, rng.random() * player.zone_mix[-1])]
            )
            x, y, court_zone = _sample_location(rng, zone)
            table = self.actions[zone, player.position]
            k = bisect.bisect_right(table.cumulative, rng.random() * table.cumulative[-1])
            radius = math.sqrt(x * x + y * y) / 10.0
            logit = (
                table.base_logits[k]
                + DISTANCE_LOGIT_PER_FT[zone] * (radius - TYPICAL_DISTANCE_FT[zone])
                + player.skill
                + opponent.defence
                + (HOME_LOGIT if planned.team == 0 else -HOME_LOGIT)
            )
            if court_zone.shot_type.startswith("3"):
                logit += player.three_skill
            if planned.zone is not None:
                # An end-of-period shot; heaves already have their own tiny FG% in ZONE_ACTIONS.
                if zone != "BC":
                    logit += CLOCK_LOGIT[planned.seconds_left]
            elif planned.seconds_left <= 10:
                logit += LATE_CLOCK_LOGIT
            if planned.period > 4:
                logit += OVERTIME_LOGIT
            made = rng.random() < 1.0 / (1.0 + math.exp(-logit))
            player_id, player_name, group, position = self.player_text[player.player_id]
            yield {
                "SEASON_1": season_1,
                "SEASON_2": season_2,
                "TEAM_ID": str(team.team_id),
                "TEAM_NAME": team.name,
                "PLAYER_ID": player_id,
                "PLAYER_NAME": player_name,
                "POSITION_GROUP": group,
                "POSITION": position,
                "GAME_DATE": game_date,
                "GAME_ID": game.game_id,
                "HOME_TEAM": game.home,
                "AWAY_TEAM": game.away,
                "EVENT_TYPE": "Made Shot" if made else "Missed Shot",
                "SHOT_MADE": "TRUE" if made else "FALSE",
                "ACTION_TYPE": table.actions[k],
                "SHOT_TYPE": court_zone.shot_type,
                "BASIC_ZONE": court_zone.basic,
                "ZONE_NAME": court_zone.name,
                "ZONE_ABB": court_zone.abbreviation,
                "ZONE_RANGE": court_zone.range,
                "LOC_X": _LOC_X_TEXT[x],
                "LOC_Y": _format_loc_y(y),
                "SHOT_DISTANCE": str(math.isqrt(x * x + y * y) // 10),
                "QUARTER": str(planned.period),
                "MINS_LEFT": str(planned.seconds_left // 60),
                "SECS_LEFT": str(planned.seconds_left % 60),
            }


def generate_rows(
    *,
    games: int,
    seed: int,
    season_end_year: int = 2024,
    start_date: dt.date | None = None,
    teams: int = 30,
) -> Iterator[dict[str, str]]:
    """Synthetic shots of the first ``games`` games, as NBA.com CSV rows (all strings).

    Games come in date order (a season of ``teams * 41`` games, then the next season);
    within a game, shots are ordered by period, then by the clock.  ``start_date``
    moves opening night (the season labels still follow ``season_end_year``).
    """
    writer = _GameWriter(seed=seed, teams=teams)
    for game in schedule(
        games=games, seed=seed, season_end_year=season_end_year, start_date=start_date, teams=teams
    ):
        yield from writer.rows(game)


# --- files -------------------------------------------------------------------------


def _write(handle: TextIO, rows: Iterable[dict[str, str]]) -> int:
    writer = csv.DictWriter(handle, fieldnames=NBA_COM_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_csv(path: str | Path, rows: Iterable[dict[str, str]]) -> int:
    """Write rows as an NBA.com CSV file (header first); returns the number of rows."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        return _write(handle, rows)


def generate_zip(
    path: str | Path,
    *,
    games: int,
    seed: int,
    season_end_year: int = 2024,
    start_date: dt.date | None = None,
    teams: int = 30,
) -> int:
    """A zip holding one CSV, shaped like the real season files; returns the number of rows."""
    path = Path(path)
    rows = generate_rows(
        games=games, seed=seed, season_end_year=season_end_year, start_date=start_date, teams=teams
    )
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(f"{path.stem.removesuffix('.csv')}.csv", "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        return _write(text, rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic NBA shots in the NBA.com CSV format.")
    parser.add_argument("output", type=Path, help="a .csv or .zip path")
    parser.add_argument("--games", type=int, default=1230)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--season-end-year", type=int, default=2024)
    parser.add_argument("--teams", type=int, default=30)
    args = parser.parse_args(argv)
    options = {
        "games": args.games,
        "seed": args.seed,
        "season_end_year": args.season_end_year,
        "teams": args.teams,
    }
    if args.output.suffix.lower() == ".zip":
        count = generate_zip(args.output, **options)
    else:
        count = write_csv(args.output, generate_rows(**options))
    print(f"wrote {count} shots to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
