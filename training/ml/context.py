"""Game context that is legal live: what the earlier shots of the same game say about a shot.

Two rules over the same order (game clock, then event id, then arrival; a shot never sees itself or
anything after it), among the shots whose outcome is *known*:

* ``team_previous_shot``: the latest shot of the shooter's team in the same game strictly before it;
* ``opponent_previous_shot``: the latest shot of the other team strictly before it (a defensive
  rebound a few seconds ago is a fast break; a make is an inbound; long ago is a late shot clock).

In a frame of whole games (training, walk-forward, backtests, drift) every shot is known; at serving
time the known shots are the warehouse's shots of the game and the request's own shots are not
(``predictions/game_context.py``).

The served pipeline reads four columns (``PREVIOUS_SHOTS``; the walk-forward kept these, README →
Walk-forward):

* ``team_prev_missed``: the team's previous shot of the game missed (1), made (0), none yet (-1);
* ``team_seconds_since_prev``: game seconds since it (capped at 720; 720 when there is none);
* ``opponent_prev_missed`` / ``opponent_seconds_since_prev``: the same of the opponent's previous shot.

NaN means "not known" (a request that does not say which game, a game the warehouse does not hold
yet); the model learns that case from a share of training rows with the columns blanked
(``training.ml.train.CONTEXT_UNKNOWN_FRACTION``, and ``OPPONENT_UNKNOWN_FRACTION`` for a caller who
gives only the team's). Pipelines fitted before the opponent's columns read the team's two only.

``game_context_features`` computes the measured columns of the walk-forward (``bench/walkforward.py
--context-columns``; the served ones among them too): the shooter's attempts and makes so far
(``ctx_shooter_attempts`` / ``ctx_shooter_makes``), the running field-goal margin (``ctx_fg_margin``,
free throws are not in the data) and whether the opponent's previous shot was a three
(``ctx_opp_prev_three``), which did not earn their place.

Plain pandas / numpy, no Django.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CONTEXT_COLUMNS = (
    "ctx_shooter_attempts", "ctx_shooter_makes", "ctx_team_prev_missed", "ctx_team_seconds_since_prev",
    "ctx_fg_margin", "ctx_opp_prev_missed", "ctx_opp_seconds_since_prev", "ctx_opp_prev_three",
)
TEAM_CONTEXT = ("team_prev_missed", "team_seconds_since_prev")
OPPONENT_CONTEXT = ("opponent_prev_missed", "opponent_seconds_since_prev")
# What the served pipeline reads (a pipeline fitted before the opponent's columns: TEAM_CONTEXT).
PREVIOUS_SHOTS = (*TEAM_CONTEXT, *OPPONENT_CONTEXT)
# What a frame needs for its own team context (whole games of canonical shots).
GAME_INPUTS = ("game_id", "team_id", "period", "seconds_left", "event_id", "made")
PERIOD_SECONDS, OVERTIME_SECONDS, REGULATION_PERIODS = 720, 300, 4
SINCE_CAP = 720.0
NO_PREVIOUS = -1.0


def game_seconds_elapsed(period: np.ndarray, seconds_left: np.ndarray) -> np.ndarray:
    period = np.asarray(period).astype(np.float64)
    seconds_left = np.asarray(seconds_left).astype(np.float64)
    regulation = (period - 1) * PERIOD_SECONDS + (PERIOD_SECONDS - seconds_left)
    overtime = (REGULATION_PERIODS * PERIOD_SECONDS + (period - REGULATION_PERIODS - 1) * OVERTIME_SECONDS
                + (OVERTIME_SECONDS - seconds_left))
    return np.where(period > REGULATION_PERIODS, overtime, regulation)


def _codes(values: Any) -> np.ndarray:
    """Small integer codes of any hashable column (None/NaN get their own code, -1)."""
    array = np.asarray(values)
    if array.dtype.kind not in "fiub":  # strings, None: as objects
        array = np.asarray(values, dtype=object)
    codes, _ = pd.factorize(pd.Series(array), use_na_sentinel=True)
    return np.asarray(codes, np.int64)


def team_previous_shot(*, game: Any, team: Any, elapsed: Any, event: Any, made: Any,
                       known: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(``team_prev_missed``, ``team_seconds_since_prev``) of every row: from the latest *known* row of the
    same (game, team) strictly before it in (elapsed seconds, event id, row) order.

    ``known`` (default: every row) marks the rows whose outcome may be read; a row that is not known is
    still scored but is nobody's previous shot. A row without a game or a team gets NaN (unknown).
    """
    return _previous_shot(game=game, team=team, elapsed=elapsed, event=event, made=made, known=known,
                          opponent=False)


def opponent_previous_shot(*, game: Any, team: Any, elapsed: Any, event: Any, made: Any,
                           known: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``team_previous_shot``'s two values for the *other* side: from the latest known row of the same game
    whose team is not the row's own, strictly before it in the same order. A game has two sides: the
    game's highest team code and every other team. A row without a team is nobody's previous shot."""
    return _previous_shot(game=game, team=team, elapsed=elapsed, event=event, made=made, known=known,
                          opponent=True)


def _previous_shot(*, game: Any, team: Any, elapsed: Any, event: Any, made: Any, known: Any,
                   opponent: bool) -> tuple[np.ndarray, np.ndarray]:
    game_codes, team_codes = _codes(game), _codes(team)
    n = len(game_codes)
    elapsed = np.asarray(elapsed, np.float64)
    event = np.asarray(event, np.float64)
    made = np.asarray(made, np.float64)
    known = np.ones(n, bool) if known is None else np.asarray(known, bool)
    prev_missed = np.full(n, np.nan)
    since = np.full(n, np.nan)
    if not n:
        return prev_missed, since
    positions = np.arange(n)
    # The team's rule groups by (game, team); the opponent's by game, in two sides.
    keys = (game_codes,) if opponent else (team_codes, game_codes)
    order = np.lexsort((positions, np.nan_to_num(event, nan=np.inf), elapsed, *keys))
    g, t = game_codes[order], team_codes[order]
    if opponent:
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        group_start = np.maximum.accumulate(np.where(np.isin(positions, starts), positions, 0))
        side = t == np.repeat(np.maximum.reduceat(t, starts), np.diff(np.r_[starts, n]))
        candidate = known[order] & (t >= 0)
        # The last candidate of each side at or before each position, then the one strictly before.
        last = {s: np.r_[-1, np.maximum.accumulate(np.where(candidate & (side == s), positions, -1))[:-1]]
                for s in (False, True)}
        before = np.where(side, last[False], last[True])
    else:
        start = np.r_[True, (g[1:] != g[:-1]) | (t[1:] != t[:-1])]
        group_start = np.maximum.accumulate(np.where(start, positions, 0))
        # The last known position at or before each sorted position, then the one strictly before.
        before = np.r_[-1, np.maximum.accumulate(np.where(known[order], positions, -1))[:-1]]
    found = before >= group_start
    safe = np.maximum(before, 0)
    sorted_missed = np.where(found, 1.0 - made[order][safe], NO_PREVIOUS)
    sorted_since = np.where(found, np.minimum(elapsed[order] - elapsed[order][safe], SINCE_CAP), SINCE_CAP)
    identified = (g >= 0) & (t >= 0) & np.isfinite(elapsed[order])
    prev_missed[order] = np.where(identified, sorted_missed, np.nan)
    since[order] = np.where(identified, sorted_since, np.nan)
    return prev_missed, since


def previous_shots(*, game: Any, team: Any, elapsed: Any, event: Any, made: Any,
                   known: Any = None) -> tuple[np.ndarray, ...]:
    """The four ``PREVIOUS_SHOTS`` arrays of every row, in that order (both rules over the same rows)."""
    arguments = {"game": game, "team": team, "elapsed": elapsed, "event": event, "made": made, "known": known}
    return (*team_previous_shot(**arguments), *opponent_previous_shot(**arguments))


def previous_shots_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """``PREVIOUS_SHOTS`` of every row of a frame of whole games, from its own rows; all NaN when the frame
    lacks the columns of ``GAME_INPUTS`` (e.g. shots without their game)."""
    n = len(frame)
    if any(column not in frame for column in GAME_INPUTS):
        return {name: np.full(n, np.nan) for name in PREVIOUS_SHOTS}
    values = previous_shots(
        game=frame["game_id"].to_numpy(), team=frame["team_id"].to_numpy(),
        elapsed=game_seconds_elapsed(frame["period"].to_numpy(), frame["seconds_left"].to_numpy()),
        event=pd.to_numeric(frame["event_id"], errors="coerce").to_numpy(np.float64),
        made=frame["made"].astype(np.float64).to_numpy(),
    )
    return dict(zip(PREVIOUS_SHOTS, values, strict=True))


def with_previous_shots(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``PREVIOUS_SHOTS`` columns (computed from its own rows unless it has them)."""
    if all(column in frame for column in PREVIOUS_SHOTS):
        return frame
    return frame.assign(**previous_shots_frame(frame))


def game_context_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``CONTEXT_COLUMNS`` of every row of ``frame`` (same index), from earlier shots of the same game
    (the walk-forward's measurement; the team's and the opponent's previous shot are ``previous_shots``')."""
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
    served = previous_shots_frame(frame)
    work = work.sort_values(["game", "elapsed", "event", "row"], kind="stable")

    # The shooter's attempts and makes before this shot: the cumulative count minus this shot.
    by_shooter = work.groupby(["game", "player"], sort=False)
    attempts = by_shooter.cumcount().to_numpy(np.float64)
    makes = by_shooter["made"].cumsum().to_numpy() - work["made"].to_numpy()

    # Field-goal points so far: the team's minus everyone else's in the game (one opponent).
    by_team = work.groupby(["game", "team"], sort=False)
    team_points = by_team["points"].cumsum().to_numpy() - work["points"].to_numpy()
    game_points = work.groupby("game", sort=False)["points"].cumsum().to_numpy() - work["points"].to_numpy()
    margin = team_points - (game_points - team_points)

    values = np.column_stack([attempts, makes, np.zeros(len(work)), np.zeros(len(work)), margin])
    out = np.empty((len(work), len(CONTEXT_COLUMNS)))
    out[work["row"].to_numpy(), :5] = values
    out[:, 2], out[:, 3] = served["team_prev_missed"], served["team_seconds_since_prev"]
    out[:, 5], out[:, 6] = served["opponent_prev_missed"], served["opponent_seconds_since_prev"]
    # The opponent's previous shot was a three (1), a two (0), none (-1): the same rule, reading the type.
    not_three, _ = opponent_previous_shot(
        game=frame["game_id"].to_numpy(), team=frame["team_id"].to_numpy(), elapsed=elapsed,
        event=pd.to_numeric(frame["event_id"], errors="coerce").to_numpy(np.float64),
        made=(frame["shot_type"].to_numpy() == "3PT").astype(np.float64))
    out[:, 7] = np.where(not_three == NO_PREVIOUS, NO_PREVIOUS, 1.0 - not_three)
    return pd.DataFrame(out, columns=list(CONTEXT_COLUMNS), index=frame.index)
