"""The shooter-history store: every player's shot counts per game day, kept beside the warehouse.

A prediction needs the shooter's record before the shot's date. Building it from the
warehouse means reading every shot of the player (a find on ``player_id``), which the
MongoDB stand-in answers by scanning the whole collection (about 1.5 s with four seasons).
This store holds the same information already aggregated, one document per player read by
``_id`` (fast on the stand-in and on MongoDB alike)::

    {"_id": <player_id>, "d": {"<day>": <96 bytes>, ...}, "g": {"<day>": [<game_id>, ...], ...},
     "u": <when it was last written>, "v": <how many times it was written>}

where ``<day>`` is the day number (days since 1970-01-01, ``training.ml.features``' rule) and
the bytes are the day's attempts then makes in each of the feature groups (``GROUPS``), as
little-endian uint16: exactly the rows of ``history_daily_counts`` at ``CLOSE_RANGE_FT``.

Kept current by the writes themselves: after a batch of shots is written (new shots or
corrections), ``history_refresh`` *recomputes* each touched (player, day) from the warehouse
shots of that player and day (read by game: the games written, and those ``g`` recorded for
that day) and sets that one field. A re-run, a duplicate or a correction therefore never counts a shot twice.
``history_backfill`` rebuilds the whole store from the warehouse (one pass over the shots)
and marks it built; serving reads the store only once it is built (``STATE_ID``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from bson import Binary
from pymongo import UpdateOne

from ingestion.game_context import SHOT_FIELDS as CONTEXT_FIELDS
from ingestion.game_context import game_context_built, game_context_mark_built, game_context_write
from parivision import mongo

if TYPE_CHECKING:
    from training.ml.features import PlayerHistory

# The one document that is not a player: the store is complete once the backfill wrote it.
STATE_ID = "state"
# What a day's counts are computed from (the fields ``history_daily_counts`` reads).
SHOT_FIELDS = ("player_id", "game_date", "shot_type", "distance_ft", "zone_basic", "action_type", "made")
_EPOCH = dt.datetime(1970, 1, 1)
_DTYPE = np.dtype("<u2")
# Every write of a player's document sets ``u`` to when it was made: serving's resident histories
# re-read the documents written since their last look (predictions/history.py), by this index.
UPDATED = mongo.WRITTEN_AT
# How many times the document was written: a resident copy that holds this count need not re-read it.
WRITES = mongo.WRITES
# ``g.<day>``: the games a player's shots of that day came from (the recount reads them by game).
GAMES = "g"
BACKFILL_CHUNK = 100_000
WRITE_CHUNK = 500


def _groups() -> tuple[str, ...]:
    from training.ml.features import GROUPS

    return GROUPS


def count_columns() -> list[str]:
    groups = _groups()
    return [*(f"attempts_{g}" for g in groups), *(f"makes_{g}" for g in groups)]


def day_number(game_date: dt.datetime) -> int:
    """Days since 1970-01-01 of a warehouse game date (a naive UTC midnight)."""
    return (game_date.replace(tzinfo=None) - _EPOCH).days


def day_midnight(day: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(days=day)


def encode(counts: np.ndarray) -> Binary:
    """One day's attempts and makes (a row of ``count_columns()``) as 96 bytes."""
    values = np.asarray(counts, dtype=np.float64)
    if values.shape != (len(count_columns()),):
        raise ValueError(f"a day holds {len(count_columns())} counts, not {values.shape}")
    if values.min(initial=0) < 0 or values.max(initial=0) > np.iinfo(_DTYPE).max:
        raise ValueError(f"a day's counts must be within 0..{np.iinfo(_DTYPE).max}")
    return Binary(values.astype(_DTYPE).tobytes())


def decode_arrays(documents: Iterable[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Store documents -> (player_id, day, counts) arrays, a row per (player, day); the columns of
    ``counts`` are ``count_columns()`` (attempts of each group, then makes)."""
    width = len(count_columns())
    players: list[int] = []
    days: list[int] = []
    blobs: list[bytes] = []
    for document in documents:
        stored = document.get("d") or {}
        players.extend([int(document["_id"])] * len(stored))
        days.extend(map(int, stored))
        blobs.extend(map(bytes, stored.values()))
    counts = (np.frombuffer(b"".join(blobs), dtype=_DTYPE).reshape(len(blobs), width).astype(np.float64)
              if blobs else np.empty((0, width)))  # fmt: skip
    return np.asarray(players, dtype=np.int64), np.asarray(days, dtype=np.int64), counts


def decode(documents: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Store documents -> per (player_id, day) counts: the input of ``PlayerHistory.from_daily_counts``."""
    players, days, counts = decode_arrays(documents)
    frame = pd.DataFrame(counts, columns=count_columns())
    frame.insert(0, "day", days)
    frame.insert(0, "player_id", players)
    return frame


def histories(documents: Iterable[dict[str, Any]]) -> dict[int, PlayerHistory]:
    """Store documents -> one ``PlayerHistory`` per player (a document is one player's record)."""
    from training.ml.features import PlayerHistory

    width = len(_groups())
    out = {}
    for document in documents:
        player, day, counts = decode_arrays([document])
        if len(player):
            out[int(document["_id"])] = PlayerHistory.from_daily_arrays(
                player=player, day=day, attempts=counts[:, :width], makes=counts[:, width:])
    return out


def _daily_counts(shots: pd.DataFrame) -> pd.DataFrame:
    from training.ml.features import CLOSE_RANGE_FT, history_daily_counts

    return history_daily_counts(shots, close_range_ft=CLOSE_RANGE_FT)


def shot_day(doc: dict[str, Any]) -> tuple[int, int] | None:
    """The (player_id, day) a warehouse shot document counts in (None without them)."""
    player, game_date = doc.get("player_id"), doc.get("game_date")
    if not isinstance(player, int) or isinstance(player, bool) or not isinstance(game_date, dt.datetime):
        return None
    return player, day_number(game_date)


# --- writes -----------------------------------------------------------------------------------


def shot_game_day(doc: dict[str, Any]) -> tuple[int, int, str] | None:
    """The (player_id, day, game_id) a warehouse shot document counts in (None without them)."""
    found = shot_day(doc)
    game = doc.get("game_id")
    return (*found, game) if found is not None and isinstance(game, str) else None


def history_refresh(*, shots: Iterable[dict[str, Any]] = (), player_days: Iterable[tuple[int, int]] = ()) -> int:
    """Recompute the (player, day) entries of these warehouse shots (and of ``player_days``) from
    the warehouse shots of each player and day.

    Idempotent: whatever was stored for a (player, day) is replaced by a recount, so a
    re-run, a duplicate or a corrected shot is never counted twice. A day left without
    shots (a correction moved them) is removed. Returns the number of entries written.

    The recount reads whole games by ``game_id`` (an equality on its own index: a lookup on
    MongoDB and on the stand-in alike, where any query holding a date scans every shot): the
    games of the given shots, plus every game the store recorded for that player and day
    (``g.<day>``), so a player in two games of one day (no NBA schedule has one, a messy file
    might) is still counted whole. A (player, day) with no known game is read by player and
    date instead.
    """
    wanted: dict[tuple[int, int], set[str]] = {}
    for doc in shots:
        if (place := shot_game_day(doc)) is not None:
            wanted.setdefault((place[0], place[1]), set()).add(place[2])
    for player, day in player_days:
        wanted.setdefault((int(player), int(day)), set())
    if not wanted:
        return 0
    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
    players = sorted({player for player, _day in wanted})
    for document in store.find({"_id": {"$in": players}}, {GAMES: 1}):
        for day, games in (document.get(GAMES) or {}).items():
            key = (int(document["_id"]), int(day))
            if key in wanted:
                wanted[key].update(str(g) for g in games)
    collection = mongo.warehouse_collection(mongo.SHOTS)
    # The game-context store's fields too: each game read here is read whole, and its store document
    # is replaced by it (ingestion/game_context.py), so both stores follow the same writes.
    projection = dict.fromkeys((*SHOT_FIELDS, *CONTEXT_FIELDS), 1)
    found: list[dict[str, Any]] = []
    by_game: dict[str, list[dict[str, Any]]] = {}
    for game in sorted({g for games in wanted.values() for g in games}):
        by_game[game] = list(collection.find({"game_id": game}, projection))
        for doc in by_game[game]:
            day_of = shot_day(doc)
            if day_of is not None and game in wanted.get(day_of, ()):
                found.append(doc)
    game_context_write(by_game)
    for player, day in sorted(key for key, games in wanted.items() if not games):
        found.extend(collection.find({"player_id": player, "game_date": day_midnight(day)}, projection))
    games_of: dict[tuple[int, int], set[str]] = {}
    for doc in found:
        if (place := shot_game_day(doc)) is not None:
            games_of.setdefault((place[0], place[1]), set()).add(place[2])
    daily = _daily_counts(pd.DataFrame(found, columns=list(SHOT_FIELDS)))
    columns = count_columns()
    rows = {(int(p), int(d)): counts for p, d, counts in
            zip(daily["player_id"], daily["day"], daily[columns].to_numpy(), strict=True)}  # fmt: skip
    operations = []
    written = store_now()
    for player, day in sorted(wanted):
        counts = rows.get((player, day))
        update: dict[str, dict[str, Any]] = (
            {"$set": {f"d.{day}": encode(counts), f"{GAMES}.{day}": sorted(games_of.get((player, day), ())),
                      UPDATED: written}}
            if counts is not None else {"$unset": {f"d.{day}": "", f"{GAMES}.{day}": ""}, "$set": {UPDATED: written}}
        )  # fmt: skip
        update["$inc"] = {WRITES: 1}
        operations.append(UpdateOne({"_id": player}, update, upsert=True))
    for start in range(0, len(operations), WRITE_CHUNK):
        store.bulk_write(operations[start:start + WRITE_CHUNK], ordered=False)
    return len(operations)


def history_backfill(*, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Rebuild the whole store from the warehouse (one pass over its shots), then mark it built.

    Each player's days are replaced whole, so a re-run (or a run after an interrupted one)
    leaves the same store. Run it when no ingestion writes shots: a batch written while it
    reads could be missing from the document it then replaces (re-run it, or the next write
    of that player and day recomputes it).
    """
    say = progress or (lambda _message: None)
    collection = mongo.warehouse_collection(mongo.SHOTS)
    projection = dict.fromkeys((*SHOT_FIELDS, *CONTEXT_FIELDS), 1)
    parts: list[pd.DataFrame] = []
    games_of: dict[tuple[int, int], set[str]] = {}
    chunk: list[dict[str, Any]] = []
    shots = 0
    context_games = 0
    # A season at a time (the season index): the stand-in gathers a whole answer before its first
    # batch, and a find over four seasons outlasted the socket timeout (120 s) on a busy machine.
    seasons: list[Any] = sorted(collection.distinct("season"), key=str)
    for season in [*seasons, None]:
        by_game: dict[str, list[dict[str, Any]]] = {}
        for doc in collection.find({"season": season}, projection, batch_size=10_000):
            chunk.append(doc)
            if isinstance(doc.get("game_id"), str):  # a game's shots are of one season
                by_game.setdefault(doc["game_id"], []).append(doc)
            if (place := shot_game_day(doc)) is not None:
                games_of.setdefault((place[0], place[1]), set()).add(place[2])
            if len(chunk) >= BACKFILL_CHUNK:
                parts.append(_daily_counts(pd.DataFrame(chunk, columns=list(SHOT_FIELDS))))
                shots += len(chunk)
                chunk = []
                say(f"read {shots:,} shots")
        context_games += game_context_write(by_game)  # the game-context store, the same pass
    if chunk:
        parts.append(_daily_counts(pd.DataFrame(chunk, columns=list(SHOT_FIELDS))))
        shots += len(chunk)
    columns = count_columns()
    daily = (pd.concat(parts).groupby(["player_id", "day"], sort=True)[columns].sum().reset_index()
             if parts else pd.DataFrame(columns=["player_id", "day", *columns]))  # fmt: skip
    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
    documents: dict[int, dict[str, Binary]] = {}
    games: dict[int, dict[str, list[str]]] = {}
    for player, day, counts in zip(daily["player_id"], daily["day"], daily[columns].to_numpy(), strict=True):
        documents.setdefault(int(player), {})[str(int(day))] = encode(counts)
        games.setdefault(int(player), {})[str(int(day))] = sorted(games_of.get((int(player), int(day)), ()))
    # ``$set`` of the whole map replaces every day of the player (the stand-in cannot replace a
    # document holding binary values, but sets them).
    written = store_now()
    operations = [UpdateOne({"_id": player}, {"$set": {"d": days, GAMES: games[player], UPDATED: written},
                                              "$inc": {WRITES: 1}}, upsert=True)
                  for player, days in documents.items()]
    # Players no longer in the warehouse (none, unless shots were deleted) lose their document.
    stale = [doc["_id"] for doc in store.find({}, {"_id": 1}) if doc["_id"] != STATE_ID and doc["_id"] not in documents]
    if stale:
        store.delete_many({"_id": {"$in": stale}})
    for start in range(0, len(operations), WRITE_CHUNK):
        store.bulk_write(operations[start:start + WRITE_CHUNK], ordered=False)
        say(f"wrote {min(start + WRITE_CHUNK, len(operations)):,} of {len(operations):,} players")
    store.replace_one({"_id": STATE_ID}, {"_id": STATE_ID, "built": True, "built_at": store_now()}, upsert=True)
    game_context_mark_built()
    return {"shots": shots, "players": len(documents), "player_days": len(daily), "games": context_games}


def history_built() -> bool:
    """Both stores the backfill builds are built (a store built before the game context counts as not)."""
    return (mongo.warehouse_collection(mongo.SHOOTER_HISTORY).find_one({"_id": STATE_ID}) is not None
            and game_context_built())


def store_now() -> dt.datetime:
    """The store's clock (``u`` of each write, ``built_at``; serving's look-backs): naive UTC, whole seconds."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
