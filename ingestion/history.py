"""The shooter-history store: every player's shot counts per game day, kept beside the warehouse.

A prediction needs the shooter's record before the shot's date. Building it from the
warehouse means reading every shot of the player (a find on ``player_id``), which the
MongoDB stand-in answers by scanning the whole collection (about 1.5 s with four seasons).
This store holds the same information already aggregated, one document per player read by
``_id`` (fast on the stand-in and on MongoDB alike)::

    {"_id": <player_id>, "d": {"<day>": <96 bytes>, ...}, "u": <when it was last written>}

where ``<day>`` is the day number (days since 1970-01-01, ``training.ml.features``' rule) and
the bytes are the day's attempts then makes in each of the feature groups (``GROUPS``), as
little-endian uint16: exactly the rows of ``history_daily_counts`` at ``CLOSE_RANGE_FT``.

Kept current by the writes themselves: after a batch of shots is written (new shots or
corrections), ``history_refresh`` *recomputes* each touched (player, day) from the warehouse
shots of that player and day (the whole day's shots by the ``game_date`` index when several
shooters of that day are due, else an equality on ``player_id`` + ``game_date``) and sets that
one field. A re-run, a duplicate or a correction therefore never counts a shot twice.
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
UPDATED = "u"
BACKFILL_CHUNK = 100_000
# From this many shooters of one day to recount, the day's shots are read at once: on the stand-in a
# read costs about as much whatever it returns (tens to hundreds of ms with a season stored).
DAY_READ_PLAYERS = 4
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


def history_refresh(*, player_days: Iterable[tuple[int, int]]) -> int:
    """Recompute these (player, day) entries from the warehouse shots of each player and day.

    Idempotent: whatever was stored for a (player, day) is replaced by a recount, so a
    re-run, a duplicate or a corrected shot is never counted twice. A day left without
    shots (a correction moved them) is removed. Returns the number of entries written.
    """
    wanted = sorted(set(player_days))
    if not wanted:
        return 0
    shots = mongo.warehouse_collection(mongo.SHOTS)
    projection = dict.fromkeys(SHOT_FIELDS, 1) | {"_id": 0}
    by_day: dict[int, set[int]] = {}
    for player, day in wanted:
        by_day.setdefault(day, set()).add(player)
    found: list[dict[str, Any]] = []
    for day, players in sorted(by_day.items()):
        midnight = day_midnight(day)
        if len(players) >= DAY_READ_PLAYERS:
            # Many shooters of one day (a file's batch): that day's shots in one read (the
            # game_date index; a day of the NBA is ~2,000 shots), rather than a read per shooter.
            found.extend(doc for doc in shots.find({"game_date": midnight}, projection) if doc.get("player_id") in players)
        else:
            for player in sorted(players):
                # Equality on both fields of the (player_id, game_date) index.
                found.extend(shots.find({"player_id": player, "game_date": midnight}, projection))
    daily = _daily_counts(pd.DataFrame(found, columns=list(SHOT_FIELDS)))
    columns = count_columns()
    rows = {(int(p), int(d)): counts for p, d, counts in
            zip(daily["player_id"], daily["day"], daily[columns].to_numpy(), strict=True)}  # fmt: skip
    operations = []
    written = _written_at()
    for player, day in wanted:
        counts = rows.get((player, day))
        update: dict[str, dict[str, Any]] = (
            {"$set": {f"d.{day}": encode(counts), UPDATED: written}} if counts is not None
            else {"$unset": {f"d.{day}": ""}, "$set": {UPDATED: written}}
        )  # fmt: skip
        operations.append(UpdateOne({"_id": player}, update, upsert=True))
    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
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
    projection = dict.fromkeys(SHOT_FIELDS, 1) | {"_id": 0}
    parts: list[pd.DataFrame] = []
    chunk: list[dict[str, Any]] = []
    shots = 0
    # A season at a time (the season index): the stand-in gathers a whole answer before its first
    # batch, and a find over four seasons outlasted the socket timeout (120 s) on a busy machine.
    seasons: list[Any] = sorted(collection.distinct("season"), key=str)
    for season in [*seasons, None]:
        for doc in collection.find({"season": season}, projection, batch_size=10_000):
            chunk.append(doc)
            if len(chunk) >= BACKFILL_CHUNK:
                parts.append(_daily_counts(pd.DataFrame(chunk, columns=list(SHOT_FIELDS))))
                shots += len(chunk)
                chunk = []
                say(f"read {shots:,} shots")
    if chunk:
        parts.append(_daily_counts(pd.DataFrame(chunk, columns=list(SHOT_FIELDS))))
        shots += len(chunk)
    columns = count_columns()
    daily = (pd.concat(parts).groupby(["player_id", "day"], sort=True)[columns].sum().reset_index()
             if parts else pd.DataFrame(columns=["player_id", "day", *columns]))  # fmt: skip
    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
    documents: dict[int, dict[str, Binary]] = {}
    for player, day, counts in zip(daily["player_id"], daily["day"], daily[columns].to_numpy(), strict=True):
        documents.setdefault(int(player), {})[str(int(day))] = encode(counts)
    # ``$set`` of the whole map replaces every day of the player (the stand-in cannot replace a
    # document holding binary values, but sets them).
    written = _written_at()
    operations = [UpdateOne({"_id": player}, {"$set": {"d": days, UPDATED: written}}, upsert=True)
                  for player, days in documents.items()]
    # Players no longer in the warehouse (none, unless shots were deleted) lose their document.
    stale = [doc["_id"] for doc in store.find({}, {"_id": 1}) if doc["_id"] != STATE_ID and doc["_id"] not in documents]
    if stale:
        store.delete_many({"_id": {"$in": stale}})
    for start in range(0, len(operations), WRITE_CHUNK):
        store.bulk_write(operations[start:start + WRITE_CHUNK], ordered=False)
        say(f"wrote {min(start + WRITE_CHUNK, len(operations)):,} of {len(operations):,} players")
    store.replace_one({"_id": STATE_ID}, {"_id": STATE_ID, "built": True, "built_at": _utcnow()}, upsert=True)
    return {"shots": shots, "players": len(documents), "player_days": len(daily)}


def history_built() -> bool:
    return mongo.warehouse_collection(mongo.SHOOTER_HISTORY).find_one({"_id": STATE_ID}) is not None


def _written_at() -> dt.datetime:
    """The ``u`` of a write: when it was made (milliseconds, as BSON keeps them)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
