"""Helpers the benchmarks share: percentiles, the machine's load, processes' CPU, a shot as the prediction API takes it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def machine_load() -> dict[str, Any]:
    """What else the machine was doing: figures mean little without it (shared CI or dev boxes)."""
    one, five, fifteen = os.getloadavg()
    return {"cores": os.cpu_count(), "loadavg_1m": round(one, 2), "loadavg_5m": round(five, 2),
            "loadavg_15m": round(fifteen, 2)}  # fmt: skip


def processes_cpu_s(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of these processes (all their threads), from /proc; a process
    that has gone counts nothing."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            user += int(fields[11]) / ticks
            system += int(fields[12]) / ticks
    return user, system


def api_body(row: dict[str, Any]) -> dict[str, Any]:
    """A warehouse shot (a canonical document, ``game_date`` a datetime or Timestamp) as the body of
    POST /api/v1/predictions (one entry of a batch's ``shots``)."""
    return {
        "player_id": int(row["player_id"]), "game_date": row["game_date"].date().isoformat(),
        "period": int(row["period"]), "seconds_left": int(row["seconds_left"]),
        "action_type": row["action_type"], "shot_type": row["shot_type"], "x_ft": float(row["x_ft"]),
        "y_ft": float(row["y_ft"]), "home_away": "home" if row["is_home"] else "away",
        "season_type": row["season_type"], "position": row["position"] or "NA",
        "game_id": row["game_id"],
    }  # fmt: skip
