"""Synthetic canonical shots with a real signal (distance and shooter skill), built in memory.

No real data is committed: every test builds its own frame here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ingestion.shots import FIELDS

ACTIONS = (
    ("Jump Shot", 0.0),
    ("Pullup Jump shot", -0.1),
    ("Driving Layup Shot", 0.1),
    ("Cutting Dunk Shot", 1.5),
    ("Step Back Jump shot", -0.2),
    ("Hook Shot", 0.0),
)
POSITIONS = ("PG", "SG", "SF", "PF", "C", "PG-SG", None)


def zones_for(distance: float, x: float) -> tuple[str, str, str, str]:
    """(shot_type, zone_basic, zone_area, zone_range) consistent with a location."""
    if distance >= 23.75 or (abs(x) >= 22 and distance >= 22):
        basic = ("Left Corner 3" if x < 0 else "Right Corner 3") if abs(x) >= 22 else "Above the Break 3"
        return "3PT", basic, "Left Side" if x < -8 else "Right Side" if x > 8 else "Center", "24+ ft."
    basic = "Restricted Area" if distance < 4 else "In The Paint (Non-RA)" if distance < 10 else "Mid-Range"
    zone_range = "Less Than 8 ft." if distance < 8 else "8-16 ft." if distance < 16 else "16-24 ft."
    return "2PT", basic, "Left Side" if x < -8 else "Right Side" if x > 8 else "Center", zone_range


def shots_frame(
    *, players: int = 40, days: int = 50, shots_per_day: int = 60, seed: int = 3,
    start: dt.datetime = dt.datetime(2023, 10, 24),
) -> pd.DataFrame:
    """``days`` game dates, each with ``shots_per_day`` shots; P(make) falls with distance, rises with skill."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(0.0, 0.6, players)
    position = [POSITIONS[i % len(POSITIONS)] for i in range(players)]
    rows: list[dict[str, Any]] = []
    for day in range(days):
        game_date = start + dt.timedelta(days=day)
        game_id = f"00223{day:05d}"
        for event in range(1, shots_per_day + 1):
            player = int(rng.integers(players))
            distance = float(np.clip(rng.exponential(10.0), 0.0, 30.0))
            angle = rng.uniform(-np.pi / 2, np.pi / 2)
            x, y = distance * np.sin(angle), distance * np.cos(angle)
            shot_type, basic, area, zone_range = zones_for(distance, x)
            action, action_bonus = ACTIONS[int(rng.integers(len(ACTIONS)))]
            logit = 1.0 - 0.09 * distance + skill[player] + action_bonus
            made = bool(rng.random() < 1 / (1 + np.exp(-logit)))
            rows.append({
                "game_id": game_id, "event_id": event, "player_id": 1000 + player,
                "player_name": f"Player {player}", "team_id": 1610612700 + player % 2,
                "team_name": "Team", "home_team": "AAA", "away_team": "BBB", "is_home": bool(player % 2),
                "position": position[player], "season": "2023-24", "season_type": "Regular Season",
                "game_date": game_date, "period": int(rng.integers(1, 5)),
                "seconds_left": int(rng.integers(0, 721)), "action_type": action, "shot_type": shot_type,
                "zone_basic": basic, "zone_area": area, "zone_range": zone_range,
                "distance_ft": round(distance, 1), "x_ft": round(float(x), 1), "y_ft": round(float(y), 1),
                "made": made, "source": "synthetic", "ingested_at": start,
            })  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    frame["game_date"] = pd.to_datetime(frame["game_date"])
    return frame


def shot_record(**overrides: Any) -> dict[str, Any]:
    """One canonical shot as the API would pass it."""
    record: dict[str, Any] = {
        "game_id": "0022300999", "event_id": 1, "player_id": 1001, "player_name": "Player 1",
        "team_id": 1610612701, "team_name": "Team", "home_team": "AAA", "away_team": "BBB",
        "is_home": True, "position": "SG", "season": "2023-24", "season_type": "Regular Season",
        "game_date": dt.datetime(2023, 12, 20), "period": 4, "seconds_left": 30,
        "action_type": "Jump Shot", "shot_type": "2PT", "zone_basic": "Mid-Range", "zone_area": "Center",
        "zone_range": "16-24 ft.", "distance_ft": 17.0, "x_ft": 3.0, "y_ft": 16.7,
    }  # fmt: skip
    record.update(overrides)
    return record
