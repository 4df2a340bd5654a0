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
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
import pandas as pd
from django.conf import settings

from predictions import selectors
from training.ml.features import CLOSE_RANGE_FT, PlayerHistory, history_daily_counts

logger = logging.getLogger(__name__)
_EMPTY = PlayerHistory.empty()
_warned = False  # the store is not built: said once per process


class PlayerHistoryCache:
    def __init__(self, *, ttl_seconds: float, max_players: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_players = max_players
        self._entries: OrderedDict[tuple[float, int], tuple[float, PlayerHistory]] = OrderedDict()
        self._lock = threading.Lock()

    def histories(self, player_ids: Iterable[int], *, close_range_ft: float) -> PlayerHistory:
        """One history holding every given player (fetching the ones not cached in one query)."""
        wanted = sorted({int(p) for p in player_ids if p is not None})
        now = time.monotonic()
        found: dict[int, PlayerHistory] = {}
        missing: list[int] = []
        with self._lock:
            for player in wanted:
                entry = self._entries.get((close_range_ft, player))
                if entry is not None and entry[0] > now:
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
                                            max_players=settings.SERVING_HISTORY_CACHE_PLAYERS)
    return _cache


def reset() -> None:
    global _cache
    with _cache_lock:
        _cache = None
