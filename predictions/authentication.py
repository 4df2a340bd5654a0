"""Token authentication without a database query per request.

DRF's ``TokenAuthentication`` reads the token and its user from the database on every
request; under SQLite that is also a connection opened and closed per request, the largest
cost of a single-shot prediction. ``CachedTokenAuthentication`` keeps the answer of a
*successful* lookup in process memory for ``API_TOKEN_CACHE_SECONDS`` (5 s; 0 switches the
cache off). Unknown or revoked keys are never cached: they always reach the database.

Revocation: deleting a token (``token_revoke``, ``token_create``'s rotation, the admin) or
saving or deleting its user (deactivation, a password change) drops the cached entries of
this process at once (signals); the other gunicorn workers stop accepting the key within
``API_TOKEN_CACHE_SECONDS`` at most.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token, TokenProxy

MAX_ENTRIES = 10_000  # bounded: a few callers hold most tokens; the cache is cleared when full


class TokenCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any, Token]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Any, Token] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self.forget_key(key)
            return None
        return entry[1], entry[2]

    def put(self, key: str, user: Any, token: Token, *, ttl: float) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + ttl, user, token)

    def forget_user(self, user_id: Any) -> None:
        with self._lock:
            for key in [k for k, (_, user, _) in list(self._entries.items()) if user.pk == user_id]:
                del self._entries[key]

    def forget_key(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


token_cache = TokenCache()


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, answered from memory for a few seconds after a lookup."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        cached = token_cache.get(key)
        if cached is not None:
            return cached
        user, token = super().authenticate_credentials(key)  # raises for unknown keys and inactive users
        ttl = settings.API_TOKEN_CACHE_SECONDS
        if ttl > 0:
            token_cache.put(key, user, token, ttl=ttl)
        return user, token


def _token_deleted(sender: Any, instance: Token, **_: Any) -> None:
    token_cache.forget_key(instance.key)


def _user_changed(sender: Any, instance: Any, **_: Any) -> None:
    token_cache.forget_user(instance.pk)


# Connected with the cache they invalidate (weak=False: module-level functions, never collected).
# A token deleted in the admin is a TokenProxy: signals name the proxy class as the sender.
for _model in (Token, TokenProxy):
    post_delete.connect(_token_deleted, sender=_model, weak=False,
                        dispatch_uid=f"predictions.token_cache.{_model.__name__}")
post_delete.connect(_user_changed, sender=get_user_model(), weak=False, dispatch_uid="predictions.token_cache.user_d")
post_save.connect(_user_changed, sender=get_user_model(), weak=False, dispatch_uid="predictions.token_cache.user_s")
