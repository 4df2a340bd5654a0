"""The game context of served shots: the team's and the opponent's previous shot of the game, as the
platform knows it now.

A served record carries a pair of ``PREVIOUS_SHOTS`` (``training/ml/context.py``) when the caller says it
(``team_previous_shot`` / ``team_previous_shot_seconds``, ``opponent_previous_shot`` /
``opponent_previous_shot_seconds``). Each pair it does not say is read: when the shot names its game
(``game_id`` or ``shot_key``), the warehouse's shots of that game (as the game-context store holds
them, ``ingestion/game_context.py``: one document per game, read by id) are the known ones and the one
rule, ``previous_shots``, finds the latest of the shooter's team and of the other team before the shot.
The shooter's team is the one the player shot for in that game, else the side (home/away) the request gives. A shot the
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

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings

from ingestion.game_context import game_context_documents, game_context_read, game_rows, key_hash
from ingestion.history import store_now
from parivision import mongo
from predictions import metrics
from training.ml.context import PREVIOUS_SHOTS, game_seconds_elapsed, previous_shots


@dataclass
class Game:
    """One game as the store held it when read: its rows, and the context of each (the one rule, computed
    once: a shot the store holds gets its own row's)."""

    rows: np.ndarray
    read_at: float  # monotonic
    team: np.ndarray
    elapsed: np.ndarray
    event: np.ndarray
    made: np.ndarray
    context: np.ndarray  # (rows, len(PREVIOUS_SHOTS))
    index: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {int(key): i for i, key in enumerate(self.rows["key"].tolist())}

    def holds(self, key: int) -> bool:
        return key in self.index


def _contexts(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Team, elapsed seconds, event, made and the ``PREVIOUS_SHOTS`` (one column each) of every row of these
    games' ROW arrays (one pass over all of them, each game on its own)."""
    rows = np.concatenate(parts)
    team = np.where(rows["team_id"] >= 0, rows["team_id"], np.nan)
    elapsed = game_seconds_elapsed(rows["period"].astype(np.float64), rows["seconds_left"].astype(np.float64))
    event = np.where(rows["event_id"] >= 0, rows["event_id"], np.nan)
    made = np.where(rows["made"] >= 0, rows["made"], np.nan)
    codes = np.repeat(np.arange(len(parts)), [len(part) for part in parts])
    context = np.column_stack(previous_shots(game=codes, team=team, elapsed=elapsed, event=event, made=made))
    return team, elapsed, event, made, context


def games_read(documents: dict[str, Any], *, read_at: float) -> dict[str, Game]:
    """Games from their store documents, every row's context computed in one pass over all of them."""
    if not documents:
        return {}
    parts = [game_rows(document) for document in documents.values()]
    team, elapsed, event, made, context = _contexts(parts)
    games, start = {}, 0
    for game, part in zip(documents, parts, strict=True):
        cut = slice(start, start + len(part))
        games[game] = Game(rows=part, read_at=read_at, team=team[cut], elapsed=elapsed[cut], event=event[cut],
                           made=made[cut], context=context[cut])
        start += len(part)
    return games


@dataclass(frozen=True)
class HeldShots:
    """The context of held shots by key hash (sorted): one game's, or every game's of a load."""

    keys: np.ndarray  # uint64, sorted
    # float32 (rows, len(PREVIOUS_SHOTS)): 0 / 1 / -1 / NaN and whole seconds up to SINCE_CAP, all exact
    values: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray, values: np.ndarray) -> HeldShots:
        order = np.argsort(keys, kind="stable")
        return cls(keys=np.ascontiguousarray(keys[order]), values=np.ascontiguousarray(values[order], np.float32))

    def contexts_of(self, keys: Sequence[int]) -> list[tuple[float, ...] | None]:
        """Each key's context (the ``PREVIOUS_SHOTS`` values; None: not held), in one search."""
        if not len(self.keys) or not keys:
            return [None] * len(keys)
        wanted = np.fromiter(keys, dtype=np.uint64, count=len(keys))
        at = np.minimum(self.keys.searchsorted(wanted), len(self.keys) - 1)
        hit = (self.keys[at] == wanted).tolist()
        values = self.values[at].tolist()
        return [tuple(values[i]) if hit[i] else None for i in range(len(keys))]


_NOTHING_HELD = HeldShots(keys=np.empty(0, np.uint64), values=np.empty((0, len(PREVIOUS_SHOTS)), np.float32))


class ResidentGames:
    """Every stored game's held-shot contexts in this process (``SERVING_GAME_CONTEXT_RESIDENT``), loaded and
    kept current by the resident thread (``predictions.history.resident_loop``) from the store's ``u``
    stamps (re-reading only games whose write count moved), as the resident shooter histories are: a shot
    already ingested is then priced without a read, the first time too.

    The load's games are one sorted array of key hashes (24 bytes a shot with the four values: all seven
    seasons, about 34 MB a process), so a batch's shots are found in one search; a game re-read by a later
    refresh is kept on its own and wins over the load's copy of it. Trusted until three refreshes have
    failed in a row; a game the warehouse lost all its shots of stays until the next load."""

    def __init__(self) -> None:
        self._loaded: HeldShots = _NOTHING_HELD
        self._refreshed: dict[str, HeldShots] = {}
        # Every game held, with the store's write count ("v") of the copy held (None: a document written
        # before the store counted, re-read by every refresh whose look-back finds it).
        self._versions: dict[str, int | None] = {}
        self._until = -math.inf
        self._looked_at: dt.datetime | None = None
        self.loaded = threading.Event()
        self.games = 0

    def contexts_of(self, asked: Sequence[tuple[str, int]]) -> list[tuple[float, ...] | None]:
        """Each (game, key hash)'s held context, or None (not held, or the copy is not trusted now)."""
        if time.monotonic() >= self._until:
            return [None] * len(asked)
        found: list[tuple[float, ...] | None] = [None] * len(asked)
        in_load: list[int] = []
        refreshed = self._refreshed
        for i, (game, key) in enumerate(asked):
            held = refreshed.get(game)
            if held is None:
                in_load.append(i)
            else:
                found[i] = held.contexts_of([key])[0]
        for i, context in zip(in_load, self._loaded.contexts_of([asked[i][1] for i in in_load]), strict=True):
            found[i] = context
        return found

    def refresh(self, *, refresh_seconds: float) -> int | None:
        """Load every game (the first time) or re-read those written since the last look; the games read,
        or None while the store is not built."""
        from predictions.history import RESIDENT_LOOKBACK_SECONDS, RESIDENT_READ_CHUNK

        started, looked_at = time.monotonic(), store_now()
        last_look = self._looked_at if self.loaded.is_set() else None
        loading = last_look is None
        since = None if last_look is None else last_look - dt.timedelta(seconds=RESIDENT_LOOKBACK_SECONDS)
        documents = game_context_documents(written_since=since, held=self._versions)
        if documents is None:
            return None
        count, chunk = 0, []
        pieces: list[tuple[np.ndarray, ...]] = []
        if loading:
            self._versions = {}
        for document in documents:
            chunk.append(document)
            if len(chunk) >= RESIDENT_READ_CHUNK:
                count += self._read(chunk, pieces if loading else None)
                chunk = []
        if chunk:
            count += self._read(chunk, pieces if loading else None)
        if loading:
            self._loaded = HeldShots.of(*(np.concatenate(column) for column in zip(*pieces, strict=True))) \
                if pieces else _NOTHING_HELD
            self._refreshed = {}
        self._until = started + 3 * refresh_seconds
        self._looked_at = looked_at
        self.games = len(self._versions)
        self.loaded.set()
        metrics.resident_games_set(self.games)
        return count

    def _read(self, documents: list[dict[str, Any]], pieces: list[tuple[np.ndarray, ...]] | None) -> int:
        """These documents' held shots: into ``pieces`` while loading, else each game on its own."""
        parts = [game_rows(document) for document in documents]
        *_, context = _contexts(parts)
        if pieces is not None:
            pieces.append((np.concatenate([part["key"] for part in parts]), context))
        start = 0
        for document, part in zip(documents, parts, strict=True):
            game = str(document["_id"])
            self._versions[game] = mongo.write_count(document)
            if pieces is None:
                cut = slice(start, start + len(part))
                self._refreshed[game] = HeldShots.of(part["key"], context[cut])  # one assignment
            start += len(part)
        return len(documents)

    def clear(self) -> None:
        self._loaded = _NOTHING_HELD
        self._refreshed = {}
        self._versions = {}
        self._until = -math.inf
        self._looked_at = None
        self.loaded.clear()
        self.games = 0


_resident = ResidentGames()


def resident() -> ResidentGames:
    return _resident


# game id -> the game as read: a shot the copy already holds is priced from it.
_games: OrderedDict[str, Game] = OrderedDict()
_lock = threading.Lock()


def reset() -> None:
    """Forget the games read and the resident ones (tests)."""
    with _lock:
        _games.clear()
    _resident.clear()


def _games_of(named: Iterable[tuple[str, int | None]]) -> dict[str, Game]:
    """Each asked game: this process's copy when it is recent enough and holds every asked shot of that game
    (so every shot before them was read too), else read now, all in one query."""
    asked: dict[str, list[int | None]] = {}
    for game, key in named:
        asked.setdefault(game, []).append(key)
    now = time.monotonic()
    max_age, capacity = settings.SERVING_GAME_CONTEXT_MAX_AGE_SECONDS, settings.SERVING_GAME_CONTEXT_CACHE_GAMES
    found: dict[str, Game] = {}
    with _lock:
        for game, keys in asked.items():
            cached = _games.get(game)
            if (cached is not None and now - cached.read_at <= max_age
                    and all(key is not None and cached.holds(key) for key in keys)):
                found[game] = cached
                _games.move_to_end(game)
    missing = [game for game in asked if game not in found]
    if missing:
        read = games_read(game_context_read(missing), read_at=now)
        found.update(read)
        if capacity:
            with _lock:
                for game, entry in read.items():
                    _games[game] = entry
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


_POSITION = {name: i for i, name in enumerate(PREVIOUS_SHOTS)}


def _number(value: Any) -> float:
    return np.nan if value is None else float(value)


def records_with_game_context(shots: Sequence[MutableMapping[str, Any]]) -> None:
    """Fill the ``PREVIOUS_SHOTS`` values a shot's record does not carry (in place): from its game as the
    platform knows it, else NaN (not known). Values the caller gave are kept.

    ``shots`` are ``predictions.services.shot_canonical`` dicts: ``record``, ``shot_key``, ``game_id``
    (None when the shot does not name its game) and ``event_id`` (None when not given)."""
    missing: dict[int, list[str]] = {}
    for shot in shots:
        names = [name for name in PREVIOUS_SHOTS if name not in shot["record"]]
        if names:
            missing[id(shot)] = names
            shot["record"].update(dict.fromkeys(names, np.nan))
    wanted = [shot for shot in shots if id(shot) in missing]

    def fill(shot: MutableMapping[str, Any], values: Sequence[float]) -> None:
        record = shot["record"]
        for name in missing[id(shot)]:
            record[name] = float(values[_POSITION[name]])

    named = [(shot, str(shot["game_id"]), None if shot.get("shot_key") is None else key_hash(str(shot["shot_key"])))
             for shot in wanted if shot.get("game_id")]
    if _resident.loaded.is_set():  # held shots from the resident copy, without a read
        keyed = [(shot, game, key) for shot, game, key in named if key is not None]
        unresolved: list[tuple[MutableMapping[str, Any], str, int | None]] = [
            (shot, game, key) for shot, game, key in named if key is None]
        for (shot, game, hashed), context in zip(keyed, _resident.contexts_of([(g, k) for _s, g, k in keyed]),
                                                  strict=True):
            if context is None:
                unresolved.append((shot, game, hashed))
            else:
                fill(shot, context)
        named = unresolved
    if not named:
        return
    games = _games_of((game, key) for _shot, game, key in named)
    upcoming: dict[str, list[MutableMapping[str, Any]]] = {}
    for shot, game, key in named:
        entry = games.get(game)
        if entry is None:
            continue
        row = entry.index.get(key) if key is not None else None
        if row is not None:  # the store holds this very shot: its own row's context (only earlier shots)
            fill(shot, entry.context[row])
        else:
            upcoming.setdefault(game, []).append(shot)
    for game, asked in upcoming.items():  # shots not ingested yet: placed among their game's known ones
        entry = games[game]
        records = [shot["record"] for shot in asked]
        n = len(entry.rows)
        computed = np.column_stack(previous_shots(
            game=np.zeros(n + len(asked)),
            team=np.r_[entry.team, [_team_of(record, entry.rows) for record in records]],
            elapsed=np.r_[entry.elapsed, game_seconds_elapsed(
                np.asarray([_number(r.get("period")) for r in records]),
                np.asarray([_number(r.get("seconds_left")) for r in records]))],
            event=np.r_[entry.event, [_number(shot.get("event_id")) for shot in asked]],
            made=np.r_[entry.made, np.full(len(asked), np.nan)],
            known=np.arange(n + len(asked)) < n,
        ))
        for i, shot in enumerate(asked):
            fill(shot, computed[n + i])
