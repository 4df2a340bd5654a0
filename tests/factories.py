"""Rows of both real formats, built by the tests themselves (no real data is committed)."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ingestion.mappers import NBA_COM_COLUMNS, SHOT_LOCATIONS_COLUMNS


def nba_com_row(**overrides: Any) -> dict[str, str]:
    row = {
        "SEASON_1": "2024", "SEASON_2": "2023-24", "TEAM_ID": "1610612764", "TEAM_NAME": "Washington Wizards",
        "PLAYER_ID": "1629673", "PLAYER_NAME": "Test Shooter", "POSITION_GROUP": "G", "POSITION": "SG",
        "GAME_DATE": "11-03-2023", "GAME_ID": "22300003", "HOME_TEAM": "MIA", "AWAY_TEAM": "WAS",
        "EVENT_TYPE": "Missed Shot", "SHOT_MADE": "FALSE", "ACTION_TYPE": "Jump Shot",
        "SHOT_TYPE": "2PT Field Goal", "BASIC_ZONE": "Mid-Range", "ZONE_NAME": "Left Side",
        "ZONE_ABB": "L", "ZONE_RANGE": "8-16 ft.", "LOC_X": "12.5", "LOC_Y": "10.25",
        "SHOT_DISTANCE": "14", "QUARTER": "1", "MINS_LEFT": "11", "SECS_LEFT": "1",
    }  # fmt: skip
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def shot_locations_row(**overrides: Any) -> dict[str, str]:
    row = {
        "Game ID": "21100057", "Game Event ID": "307", "Player ID": "201580", "Player Name": "Test Centre",
        "Team ID": "1610612764", "Team Name": "Washington Wizards", "Period": "3", "Minutes Remaining": "9",
        "Seconds Remaining": "31", "Action Type": "Layup Shot", "Shot Type": "2PT Field Goal",
        "Shot Zone Basic": "Restricted Area", "Shot Zone Area": "Center(C)", "Shot Zone Range": "Less Than 8 ft.",
        "Shot Distance": "1", "X Location": "13", "Y Location": "6", "Shot Made Flag": "1",
        "Game Date": "20120101", "Home Team": "WAS", "Away Team": "BOS", "Season Type": "Regular Season",
    }  # fmt: skip
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def nba_com_game(game_id: str, shots: int, *, date: str = "11-03-2023", **overrides: Any) -> list[dict[str, str]]:
    """``shots`` rows of one game, the clock running down as in the real files."""
    rows = []
    for i in range(shots):
        clock = 700 - i * 5
        rows.append(
            nba_com_row(
                GAME_ID=game_id, GAME_DATE=date, MINS_LEFT=clock // 60, SECS_LEFT=clock % 60,
                SHOT_MADE="TRUE" if i % 2 else "FALSE", **overrides,
            )
        )  # fmt: skip
    return rows


def write_csv(path: Path, rows: Iterable[Mapping[str, str]], columns: Iterable[str] | None = None) -> Path:
    rows = list(rows)
    header = list(columns or rows[0].keys())
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_zip(path: Path, csv_path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv_path, csv_path.name)
        archive.writestr(f"__MACOSX/._{csv_path.name}", b"\x00\x05\x16\x07")
    return path


NBA_COM_HEADER = list(NBA_COM_COLUMNS)
SHOT_LOCATIONS_HEADER = list(SHOT_LOCATIONS_COLUMNS)
