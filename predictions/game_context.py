"""The game context of served shots: the team's previous shot of the game, as the platform knows it now.

A served record carries ``TEAM_CONTEXT`` (``training/ml/context.py``) when the caller says it
(``team_previous_shot`` / ``team_previous_shot_seconds``). Otherwise, when the shot names its game
(``game_id`` or ``shot_key``), the warehouse's shots of that game are the known ones and the one rule,
``team_previous_shot``, finds the latest of the shooter's team before the shot. The shooter's team is
the one the player shot for in that game, else the side (home/away) the request gives. A shot the
warehouse already holds gets exactly the context training computed for it (its own row among its game's,
which sees only earlier shots, never itself). Without a game, or a game the warehouse does not hold,
the context is left unknown (NaN), which the model has learned (``CONTEXT_UNKNOWN_FRACTION``).

One query per request, whatever its number of shots: the shots of its games, six small fields each.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

import numpy as np

from parivision import mongo
from training.ml.context import TEAM_CONTEXT, game_seconds_elapsed, team_previous_shot

_FIELDS = {"team_id": 1, "player_id": 1, "is_home": 1, "period": 1, "seconds_left": 1, "event_id": 1, "made": 1}


def game_shots(game_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The warehouse's shots of these games (their context fields and keys)."""
    games = sorted(set(game_ids))
    if not games:
        return []
    query = {"game_id": games[0] if len(games) == 1 else {"$in": games}}
    return list(mongo.warehouse_collection(mongo.SHOTS).find(query, {"game_id": 1, **_FIELDS}))


def _team_of(record: MutableMapping[str, Any], docs: Sequence[dict[str, Any]]) -> Any:
    """The shooter's team in this game: the one they shot for, else the side the request gives."""
    for doc in docs:
        if doc.get("player_id") == record.get("player_id") and doc.get("team_id") is not None:
            return doc["team_id"]
    side = record.get("is_home")
    if side is not None:
        for doc in docs:
            if doc.get("is_home") is side and doc.get("team_id") is not None:
                return doc["team_id"]
    return None


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
    docs = game_shots(str(shot["game_id"]) for shot in named)
    if not docs:
        return
    by_game: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_game.setdefault(str(doc["game_id"]), []).append(doc)
    position = {doc["_id"]: i for i, doc in enumerate(docs)}
    # Rows: every warehouse shot (known), then each asked shot the warehouse does not hold (not known).
    rows: list[tuple[str, Any, Any, Any, Any, Any]] = [
        (str(doc["game_id"]), doc.get("team_id"), doc.get("period"), doc.get("seconds_left"), doc.get("event_id"),
         doc.get("made")) for doc in docs
    ]
    targets: list[tuple[MutableMapping[str, Any], int]] = []
    for shot in named:
        game_docs = by_game.get(str(shot["game_id"]))
        if not game_docs:
            continue
        held = position.get(shot.get("shot_key"))
        if held is not None:
            targets.append((shot["record"], held))
            continue
        record = shot["record"]
        rows.append((str(shot["game_id"]), _team_of(record, game_docs), record.get("period"),
                     record.get("seconds_left"), shot.get("event_id"), None))
        targets.append((record, len(rows) - 1))
    if not targets:
        return
    game, team, period, seconds, event, made = (list(column) for column in zip(*rows, strict=True))
    known = np.r_[np.ones(len(docs), bool), np.zeros(len(rows) - len(docs), bool)]
    prev_missed, since = team_previous_shot(
        game=game, team=team,
        elapsed=game_seconds_elapsed(np.asarray(period, np.float64), np.asarray(seconds, np.float64)),
        event=np.asarray([np.nan if e is None else e for e in event], np.float64),
        made=np.asarray([np.nan if m is None else float(m) for m in made], np.float64), known=known,
    )
    for record, row in targets:
        record[TEAM_CONTEXT[0]], record[TEAM_CONTEXT[1]] = float(prev_missed[row]), float(since[row])
