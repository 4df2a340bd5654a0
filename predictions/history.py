"""Shooter histories for serving: read from the shooter-history store, cached per player with a TTL.

A prediction needs the shooter's record strictly before the shot's game date. Each
player's whole history (every game date) is read once from the shooter-history store
(``ingestion/history.py``: daily counts per player, kept current by the writes, read by
``_id``) and kept for ``SERVING_HISTORY_TTL_SECONDS``; the model's own as-of lookup then
picks the right date, so one cached entry answers shots of any date. A player the
warehouse has never seen gets an empty history, which the feature pipeline turns into the
league prior.

The store holds counts at the default close-range boundary (``CLOSE_RANGE_FT``). A model
fitted with another boundary, or a warehouse whose store was never backfilled, gets its
histories from the warehouse shots instead (the same figures, at the cost of a scan on the
MongoDB stand-in).

Resident histories (``SERVING_HISTORY_RESIDENT``, on by default in the web workers): when a
gunicorn worker starts, a background thread reads every player's document of the store into
this cache (up to ``SERVING_HISTORY_CACHE_PLAYERS``), then every
``SERVING_HISTORY_REFRESH_SECONDS`` re-reads the documents written since its last look (each
write stamps its document with ``u``, by the writer's clock; the look goes back
``RESIDENT_LOOKBACK_SECONDS`` more, for writes in flight and writers whose clocks lag; of those, only
the documents whose write count ``v`` differs from the one held are read again). A resident history does not expire: a shooter no request has
asked for yet costs what a known one does, and a new shot reaches it within a refresh or two.
If the refreshes stop succeeding (MongoDB unreachable), resident entries count as expired after
three missed refreshes, and requests read the store themselves again.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.conf import settings

from ingestion import history as store
from parivision import mongo
from predictions import metrics, selectors
from training.ml.features import CLOSE_RANGE_FT, PlayerHistory, history_daily_counts

if TYPE_CHECKING:
    from predictions.game_context import ResidentGames

logger = logging.getLogger(__name__)
_EMPTY = PlayerHistory.empty()
_warned = False  # the store is not built: said once per process


RESIDENT = math.inf  # the expiry of a resident entry: kept current by the refreshes, not by a TTL
RESIDENT_LOOKBACK_SECONDS = 60.0
RESIDENT_READ_CHUNK = 500  # documents decoded at a time while loading


class PlayerHistoryCache:
    def __init__(self, *, ttl_seconds: float, max_players: int, refresh_seconds: float = 15.0) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_players = max_players
        self.refresh_seconds = refresh_seconds
        self._entries: OrderedDict[tuple[float, int], tuple[float, PlayerHistory]] = OrderedDict()
        self._lock = threading.Lock()
        # Resident entries are trusted until then (monotonic time): set by each successful load/refresh.
        self._resident_until = -math.inf
        self._looked_at: dt.datetime | None = None  # UTC, when the last successful look began
        self.resident_players = 0
        self.resident_loaded = threading.Event()
        # Every resident player's history in one PlayerHistory (rebuilt by the thread that changed
        # them), with the players it holds: a request whose shooters are all resident reads it as
        # it is, instead of concatenating a copy of each shooter's arrays (a 1,000-shooter batch
        # copied ~100k rows per request). Lookups are by (player, day), so the other players in it
        # change no answer.
        self._resident_all: tuple[frozenset[int], PlayerHistory] = (frozenset(), _EMPTY)
        self._versions: dict[int, int | None] = {}  # player -> write count of the document held (None: older)

    def histories(self, player_ids: Iterable[int], *, close_range_ft: float) -> PlayerHistory:
        """One history holding every given player (fetching the ones not cached in one query)."""
        wanted = sorted({int(p) for p in player_ids if p is not None})
        now = time.monotonic()
        found: dict[int, PlayerHistory] = {}
        missing: list[int] = []
        resident_ok = now < self._resident_until
        if resident_ok and close_range_ft == CLOSE_RANGE_FT:
            resident_players, resident_all = self._resident_all
            if resident_players.issuperset(wanted):
                return resident_all
        with self._lock:
            for player in wanted:
                entry = self._entries.get((close_range_ft, player))
                if entry is not None and (entry[0] > now if entry[0] != RESIDENT else resident_ok):
                    found[player] = entry[1]
                else:
                    missing.append(player)
        if missing:
            fetched = _build(missing, close_range_ft=close_range_ft)
            expires = now + self.ttl_seconds
            with self._lock:
                for player in missing:
                    history = fetched.get(player, _EMPTY)
                    found[player] = history
                    key = (close_range_ft, player)
                    self._entries[key] = (expires, history)
                    self._entries.move_to_end(key)
                while len(self._entries) > self.max_players:
                    self._entries.popitem(last=False)
        return merge([found[p] for p in wanted])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._resident_all = (frozenset(), _EMPTY)
            self._versions = {}
        self._resident_until = -math.inf
        self._looked_at = None
        self.resident_players = 0
        self.resident_loaded.clear()

    # ------------------------------------------------------------------ resident histories
    def resident_load(self) -> int | None:
        """Read every player's document of the store into the cache, resident (None: no store yet)."""
        started, looked_at = time.monotonic(), store.store_now()
        documents = selectors.shooter_history_documents()
        if documents is None:
            return None
        self._versions = {}
        loaded = self._make_resident(documents, limit=self.max_players)
        self._resident_until = started + 3 * self.refresh_seconds
        self._looked_at = looked_at
        self.resident_players = loaded
        self.resident_loaded.set()
        metrics.resident_shooters_set(loaded)
        return loaded

    def resident_refresh(self) -> int | None:
        """Re-read the documents written since the last look (None: no store, or not loaded yet)."""
        if not self.resident_loaded.is_set():
            return self.resident_load()
        started, looked_at = time.monotonic(), store.store_now()
        assert self._looked_at is not None  # set by the load
        since = self._looked_at - dt.timedelta(seconds=RESIDENT_LOOKBACK_SECONDS)
        documents = selectors.shooter_history_documents(written_since=since, held=self._versions)
        if documents is None:
            return None
        refreshed = self._make_resident(documents, limit=None)
        self._resident_until = started + 3 * self.refresh_seconds
        self._looked_at = looked_at
        return refreshed

    def _make_resident(self, documents: Iterator[dict[str, Any]], *, limit: int | None) -> int:
        count = 0
        chunk: list[dict[str, Any]] = []

        def put(batch: list[dict[str, Any]]) -> None:
            built = store.histories(batch)
            with self._lock:
                for document in batch:
                    player = int(document["_id"])
                    key = (CLOSE_RANGE_FT, player)
                    self._entries[key] = (RESIDENT, built.get(player, _EMPTY))
                    self._entries.move_to_end(key)
                    self._versions[player] = mongo.write_count(document)
                while len(self._entries) > self.max_players:
                    self._entries.popitem(last=False)

        for document in documents:
            if limit is not None and count >= limit:
                break
            chunk.append(document)
            count += 1
            if len(chunk) >= RESIDENT_READ_CHUNK:
                put(chunk)
                chunk = []
        if chunk:
            put(chunk)
        if count:
            self._resident_all_rebuild()
        return count

    def _resident_all_rebuild(self) -> None:
        with self._lock:
            resident = sorted(((key[1], entry[1]) for key, entry in self._entries.items()
                               if entry[0] == RESIDENT and key[0] == CLOSE_RANGE_FT), key=lambda pair: pair[0])  # fmt: skip
        # Concatenated outside the lock (requests keep reading the previous one meanwhile).
        self._resident_all = (frozenset(player for player, _ in resident), merge([h for _, h in resident]))


def resident_loop(history_cache: PlayerHistoryCache, *, stop: threading.Event,
                  games: ResidentGames | None = None) -> None:
    """Load the store into ``history_cache`` (and, given ``games``, the game-context store into that
    ``predictions.game_context.ResidentGames``), then keep them current, until ``stop`` is set."""
    while not stop.is_set():
        loading = not history_cache.resident_loaded.is_set()
        try:
            result = history_cache.resident_refresh()
            if result is None:
                logger.info("resident shooter histories: the store is not built yet")
            elif loading:
                logger.info("resident shooter histories: %d players loaded", result)
        except Exception:  # MongoDB away: requests read the store themselves until it is back
            logger.exception("resident shooter histories: refresh failed")
        games_loading = games is not None and not games.loaded.is_set()
        if games is not None:
            try:
                result = games.refresh(refresh_seconds=history_cache.refresh_seconds)
                if result is not None and games_loading:
                    logger.info("resident game contexts: %d games loaded", result)
            except Exception:  # requests read their games themselves until it is back
                logger.exception("resident game contexts: refresh failed")
        if (loading and history_cache.resident_loaded.is_set()) or (
                games is not None and games_loading and games.loaded.is_set()):
            _settle_after_load()
        stop.wait(history_cache.refresh_seconds)


def _settle_after_load() -> None:
    """A load leaves a young heap of garbage and survivors: collect it now, in this thread, and freeze
    what survives (as gunicorn's post_worker_init freezes the start-up), so the interpreter's next full
    collection does not fall on a request and scan the resident state (tens of ms, seen as the slowest
    cold requests of bench/serve.py)."""
    import gc

    gc.collect()
    gc.freeze()


_resident_thread: threading.Thread | None = None
_resident_stop = threading.Event()


def resident_start() -> threading.Thread | None:
    """Start this process's resident-history thread (gunicorn's post_worker_init), once."""
    global _resident_thread
    if not settings.SERVING_HISTORY_RESIDENT:
        return None
    history_cache = cache()
    with _cache_lock:
        if _resident_thread is None or not _resident_thread.is_alive():
            _resident_stop.clear()
            games = None
            if settings.SERVING_GAME_CONTEXT_RESIDENT:
                from predictions import game_context

                games = game_context.resident()
            _resident_thread = threading.Thread(target=resident_loop, args=(history_cache,),
                                                kwargs={"stop": _resident_stop, "games": games},
                                                name="resident-histories", daemon=True)
            _resident_thread.start()
    return _resident_thread


def resident_stop() -> None:
    global _resident_thread
    _resident_stop.set()
    thread, _resident_thread = _resident_thread, None
    if thread is not None:
        thread.join(timeout=10)


def _build(player_ids: list[int], *, close_range_ft: float) -> dict[int, PlayerHistory]:
    stored = selectors.shooter_histories(player_ids=player_ids) if close_range_ft == CLOSE_RANGE_FT else None
    if stored is not None:
        return stored
    daily = _daily_counts_from_shots(player_ids, close_range_ft=close_range_ft)
    if daily.empty:
        return {}
    return {int(player): PlayerHistory.from_daily_counts(rows) for player, rows in daily.groupby("player_id")}


def _daily_counts_from_shots(player_ids: list[int], *, close_range_ft: float) -> pd.DataFrame:
    """The same counts from every warehouse shot of these players (a scan on the stand-in)."""
    global _warned
    if close_range_ft == CLOSE_RANGE_FT and not _warned:
        _warned = True
        logger.warning("the shooter-history store is not built (manage.py shooter_history_backfill): "
                       "reading %d players' shots from the warehouse", len(player_ids))
    frame = pd.DataFrame(selectors.player_shots(player_ids=player_ids), columns=list(selectors.HISTORY_FIELDS))
    return history_daily_counts(frame, close_range_ft=close_range_ft)


def merge(histories: list[PlayerHistory]) -> PlayerHistory:
    """Concatenate per-player histories (given in player order: keys stay sorted)."""
    present = [h for h in histories if len(h)]
    if not present:
        return _EMPTY
    if len(present) == 1:
        return present[0]
    return PlayerHistory(
        np.concatenate([h.keys for h in present]),
        np.concatenate([h.attempts for h in present]),
        np.concatenate([h.makes for h in present]),
        max(h.last_day for h in present),
    )


_cache: PlayerHistoryCache | None = None
_cache_lock = threading.Lock()


def cache() -> PlayerHistoryCache:
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = PlayerHistoryCache(ttl_seconds=settings.SERVING_HISTORY_TTL_SECONDS,
                                            max_players=settings.SERVING_HISTORY_CACHE_PLAYERS,
                                            refresh_seconds=settings.SERVING_HISTORY_REFRESH_SECONDS)
    return _cache


def reset() -> None:
    global _cache
    resident_stop()
    with _cache_lock:
        _cache = None
