"""Game context that is legal live: what the earlier shots of the same game say about a shot.

Measured in the walk-forward only (``bench/walkforward.py --context``); not part of the served
pipeline. For each shot, from the shots of its game strictly before it (by game clock, then event
id; a shot never sees itself or anything after it):

* ``ctx_shooter_attempts`` / ``ctx_shooter_makes``: the shooter's field-goal attempts and makes so far;
* ``ctx_team_prev_missed``: the shooter's team's previous shot of the game missed (1), made (0), none (-1);
* ``ctx_team_seconds_since_prev``: game seconds since that shot (capped at 720; 720 when there is none);
* ``ctx_fg_margin``: the shooter's team's field-goal points minus the opponent's, so far (free throws
  are not in the data, so this is the running *field-goal* margin).

Plain pandas / numpy, no Django.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONTEXT_COLUMNS = (
    "ctx_shooter_attempts", "ctx_shooter_makes", "ctx_team_prev_missed", "ctx_team_seconds_since_prev",
    "ctx_fg_margin",
)
PERIOD_SECONDS, OVERTIME_SECONDS, REGULATION_PERIODS = 720, 300, 4
SINCE_CAP = 720.0


def game_seconds_elapsed(period: np.ndarray, seconds_left: np.ndarray) -> np.ndarray:
    period = period.astype(np.float64)
    seconds_left = seconds_left.astype(np.float64)
    regulation = (period - 1) * PERIOD_SECONDS + (PERIOD_SECONDS - seconds_left)
    overtime = (REGULATION_PERIODS * PERIOD_SECONDS + (period - REGULATION_PERIODS - 1) * OVERTIME_SECONDS
                + (OVERTIME_SECONDS - seconds_left))
    return np.where(period > REGULATION_PERIODS, overtime, regulation)


def game_context_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The context columns for every row of ``frame`` (same index), from earlier shots of the same game."""
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype=np.float64) for name in CONTEXT_COLUMNS}, index=frame.index)
    elapsed = game_seconds_elapsed(frame["period"].to_numpy(), frame["seconds_left"].to_numpy())
    work = pd.DataFrame({
        "game": frame["game_id"].astype(str).to_numpy(), "elapsed": elapsed,
        "event": pd.to_numeric(frame["event_id"], errors="coerce").fillna(0).to_numpy(),
        "player": frame["player_id"].to_numpy(), "team": frame["team_id"].to_numpy(),
        "made": frame["made"].astype(np.float64).to_numpy(),
        "points": np.where(frame["shot_type"].to_numpy() == "3PT", 3.0, 2.0) * frame["made"].astype(np.float64).to_numpy(),
        "row": np.arange(len(frame)),
    })
    work = work.sort_values(["game", "elapsed", "event", "row"], kind="stable")

    # The shooter's attempts and makes before this shot: the cumulative count minus this shot.
    by_shooter = work.groupby(["game", "player"], sort=False)
    attempts = by_shooter.cumcount().to_numpy(np.float64)
    makes = by_shooter["made"].cumsum().to_numpy() - work["made"].to_numpy()

    # The team's previous shot of the game.
    by_team = work.groupby(["game", "team"], sort=False)
    prev_made = by_team["made"].shift(1)
    prev_elapsed = by_team["elapsed"].shift(1)
    prev_missed = np.where(prev_made.isna(), -1.0, 1.0 - prev_made.fillna(0).to_numpy())
    since = np.where(prev_elapsed.isna(), SINCE_CAP,
                     np.minimum(work["elapsed"].to_numpy() - prev_elapsed.fillna(0).to_numpy(), SINCE_CAP))

    # Field-goal points so far: the team's minus everyone else's in the game (one opponent).
    team_points = by_team["points"].cumsum().to_numpy() - work["points"].to_numpy()
    game_points = work.groupby("game", sort=False)["points"].cumsum().to_numpy() - work["points"].to_numpy()
    margin = team_points - (game_points - team_points)

    values = np.column_stack([attempts, makes, prev_missed, since, margin])
    out = np.empty_like(values)
    out[work["row"].to_numpy()] = values
    return pd.DataFrame(out, columns=list(CONTEXT_COLUMNS), index=frame.index)
