"""Token authentication: hashed keys with an expiry (django-rest-knox), without a query per request.

Tokens are django-rest-knox ``AuthToken`` rows: only a SHA-512 digest of the key and its first
15 characters are stored, each token expires after ``API_TOKEN_TTL_DAYS``, and the key itself
is shown once, when it is created. Knox looks a key up by its first characters and compares
digests; under SQLite that is also a connection opened and closed per request, the largest cost
of a single-shot prediction. ``CachedTokenAuthentication`` keeps the answer of a *successful*
lookup in process memory, keyed by the digest (the key itself is never kept), for
``API_TOKEN_CACHE_SECONDS`` (5 s; 0 switches the cache off) and never past the token's expiry.
Unknown, expired or revoked keys are never cached: they always reach the database.

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
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

MAX_ENTRIES = 10_000  # bounded: a few callers hold most tokens; the cache is cleared when full
MAX_KEY_LENGTH = 200  # knox keys are 64 characters (plus an optional prefix): anything longer is wrong


class TokenCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any, AuthToken]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[Any, AuthToken] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self.forget_digest(digest)
            return None
        return entry[1], entry[2]

    def put(self, digest: str, user: Any, token: AuthToken, *, ttl: float) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + ttl, user, token)

    def forget_user(self, user_id: Any) -> None:
        with self._lock:
            for digest in [d for d, (_, user, _) in list(self._entries.items()) if user.pk == user_id]:
                del self._entries[digest]

    def forget_digest(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


token_cache = TokenCache()


def _invalid() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("Invalid token.")


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``: a knox token, answered from memory for a few seconds after a lookup."""

    def authenticate(self, request: Request) -> tuple[Any, AuthToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"token":
            return None  # another scheme (or none): the next authenticator decides
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected `Token <key>`.")
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, token: bytes | str) -> tuple[Any, AuthToken]:
        raw = token.encode("latin-1") if isinstance(token, str) else token
        if len(raw) > MAX_KEY_LENGTH or not raw.isascii() or not raw.isalnum():
            raise _invalid()
        digest = hash_token(raw.decode("ascii"))
        cached = token_cache.get(digest)
        if cached is not None:
            return cached
        user, found = super().authenticate_credentials(raw)  # raises for unknown, expired keys and inactive users
        ttl = settings.API_TOKEN_CACHE_SECONDS
        if found.expiry is not None:
            ttl = min(ttl, (found.expiry - timezone.now()).total_seconds())
        if ttl > 0:
            token_cache.put(digest, user, found, ttl=ttl)
        return user, found


def _token_deleted(sender: Any, instance: AuthToken, **_: Any) -> None:
    token_cache.forget_digest(instance.digest)


def _user_changed(sender: Any, instance: Any, **_: Any) -> None:
    token_cache.forget_user(instance.pk)


# Connected with the cache they invalidate (weak=False: module-level functions, never collected).
post_delete.connect(_token_deleted, sender=AuthToken, weak=False, dispatch_uid="predictions.token_cache.token")
post_delete.connect(_user_changed, sender=get_user_model(), weak=False, dispatch_uid="predictions.token_cache.user_d")
post_save.connect(_user_changed, sender=get_user_model(), weak=False, dispatch_uid="predictions.token_cache.user_s")

# The OpenAPI description of this scheme (registered when this module is imported).
import parivision.schema  # noqa: E402,F401
