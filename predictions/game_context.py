"""The game context of served shots: the team's previous shot of the game, as the platform knows it now.

A served record carries ``TEAM_CONTEXT`` (``training/ml/context.py``) when the caller says it
(``team_previous_shot`` / ``team_previous_shot_seconds``). Otherwise, when the shot names its game
(``game_id`` or ``shot_key``), the warehouse's shots of that game (as the game-context store holds
them, ``ingestion/game_context.py``: one document per game, read by id) are the known ones and the one rule,
``team_previous_shot``, finds the latest of the shooter's team before the shot. The shooter's team is
the one the player shot for in that game, else the side (home/away) the request gives. A shot the
warehouse already holds gets exactly the context training computed for it (its own row among its game's,
which sees only earlier shots, never itself). Without a game, or a game the warehouse does not hold,
the context is left unknown (NaN), which the model has learned (``CONTEXT_UNKNOWN_FRACTION``).

At most one query per request, whatever its number of shots: its games' documents of the store. A
shot already in the warehouse whose game this process read within ``SERVING_GAME_CONTEXT_MAX_AGE_SECONDS``
(and whose copy holds it) is priced from that copy without a read: every shot before it was ingested
before it, so the copy has them (a late correction of an earlier shot shows after that age at most). A
shot not ingested yet always reads its game afresh: its context is as new as the warehouse.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

import numpy as np
from django.conf import settings

from ingestion.game_context import game_context_read, game_rows, key_hash
from training.ml.context import TEAM_CONTEXT, game_seconds_elapsed, team_previous_shot

# game id -> (when it was read, monotonic; its rows): a shot the copy already holds is priced from it.
_games: OrderedDict[str, tuple[float, np.ndarray]] = OrderedDict()
_lock = threading.Lock()


def reset() -> None:
    """Forget the games read (tests)."""
    with _lock:
        _games.clear()


def _rows_of(named: Iterable[tuple[str, int | None]]) -> dict[str, np.ndarray]:
    """Each asked game's rows: this process's copy when it is recent enough and holds every asked shot of
    that game that names one (so every shot before them was read too), else read now, in one query."""
    asked: dict[str, list[int | None]] = {}
    for game, key in named:
        asked.setdefault(game, []).append(key)
    now = time.monotonic()
    max_age, capacity = settings.SERVING_GAME_CONTEXT_MAX_AGE_SECONDS, settings.SERVING_GAME_CONTEXT_CACHE_GAMES
    found: dict[str, np.ndarray] = {}
    with _lock:
        for game, keys in asked.items():
            cached = _games.get(game)
            if (cached is not None and now - cached[0] <= max_age and None not in keys
                    and np.isin(np.asarray(keys, dtype=np.uint64), cached[1]["key"]).all()):
                found[game] = cached[1]
                _games.move_to_end(game)
    missing = [game for game in asked if game not in found]
    if missing:
        read = {game: game_rows(document) for game, document in game_context_read(missing).items()}
        found.update(read)
        if capacity:
            with _lock:
                for game, rows in read.items():
                    _games[game] = (now, rows)
                    _games.move_to_end(game)
                while len(_games) > capacity:
                    _games.popitem(last=False)
    return found


def _team_of(record: MutableMapping[str, Any], rows: np.ndarray) -> float:
    """The shooter's team in this game: the one they shot for, else the side the request gives (NaN: unknown)."""
    player, side = record.get("player_id"), record.get("is_home")
    if player is not None:
        shot_for = rows["team_id"][(rows["player_id"] == player) & (rows["team_id"] >= 0)]
        if len(shot_for):
            return float(shot_for[0])
    if side is not None:
        on_side = rows["team_id"][(rows["is_home"] == int(bool(side))) & (rows["team_id"] >= 0)]
        if len(on_side):
            return float(on_side[0])
    return np.nan


def _number(value: Any) -> float:
    return np.nan if value is None else float(value)


def records_with_game_context(shots: Sequence[MutableMapping[str, Any]]) -> None:
    """Fill ``TEAM_CONTEXT`` into the record of every shot that does not carry it (in place).

    ``shots`` are ``predictions.services.shot_canonical`` dicts: ``record``, ``shot_key``, ``game_id``
    (None when the shot does not name its game) and ``event_id`` (None when not given)."""
    wanted = [shot for shot in shots if TEAM_CONTEXT[0] not in shot["record"]]
    for shot in wanted:
        shot["record"].update(dict.fromkeys(TEAM_CONTEXT, np.nan))
    named = [shot for shot in wanted if shot.get("game_id")]
    if not named:
        return
    games = _rows_of((str(shot["game_id"]), None if shot.get("shot_key") is None else key_hash(str(shot["shot_key"])))
                     for shot in named)
    if not games:
        return
    # Rows: every stored shot of these games (known), then each asked shot the store does not hold.
    parts, codes, offset, total = [], [], {}, 0
    for code, (game, rows) in enumerate(games.items()):
        parts.append(rows)
        codes.append(np.full(len(rows), code))
        offset[game] = total
        total += len(rows)
    code_of = {game: code for code, game in enumerate(games)}
    asked: list[tuple[int, float, float, float, float]] = []  # game code, team, period, clock, event
    targets: list[tuple[MutableMapping[str, Any], int]] = []
    for shot in named:
        game = str(shot["game_id"])
        if game not in games:
            continue
        rows = games[game]
        if shot.get("shot_key") is not None:
            held = np.flatnonzero(rows["key"] == np.uint64(key_hash(str(shot["shot_key"]))))
            if len(held):  # the store holds this very shot: its own row, which sees only earlier ones
                targets.append((shot["record"], offset[game] + int(held[0])))
                continue
        record = shot["record"]
        asked.append((code_of[game], _team_of(record, rows), _number(record.get("period")),
                      _number(record.get("seconds_left")), _number(shot.get("event_id"))))
        targets.append((record, total + len(asked) - 1))
    if not targets:
        return
    stored = np.concatenate(parts)
    extra = np.asarray(asked, dtype=np.float64).reshape(-1, 5)
    team = stored["team_id"].astype(np.float64)
    team[stored["team_id"] < 0] = np.nan
    event = stored["event_id"].astype(np.float64)
    event[stored["event_id"] < 0] = np.nan
    made = stored["made"].astype(np.float64)
    made[stored["made"] < 0] = np.nan
    prev_missed, since = team_previous_shot(
        game=np.r_[np.concatenate(codes), extra[:, 0]],
        team=np.r_[team, extra[:, 1]],
        elapsed=game_seconds_elapsed(np.r_[stored["period"].astype(np.float64), extra[:, 2]],
                                     np.r_[stored["seconds_left"].astype(np.float64), extra[:, 3]]),
        event=np.r_[event, extra[:, 4]], made=np.r_[made, np.full(len(extra), np.nan)],
        known=np.arange(total + len(extra)) < total,
    )
    for record, row in targets:
        record[TEAM_CONTEXT[0]], record[TEAM_CONTEXT[1]] = float(prev_missed[row]), float(since[row])
