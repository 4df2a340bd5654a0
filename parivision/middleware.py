"""Request hygiene that must hold on every path: who the client is, how big a body may be,
and that an error under ``/api/`` is always the one JSON shape (``parivision/errors.py``).

* ``ClientAddressMiddleware`` puts the real client address in ``REMOTE_ADDR``: the peer's
  address, unless the peer is one of ``TRUSTED_PROXIES``, in which case ``X-Forwarded-For``
  is read from the right, skipping trusted proxies. Everything downstream (DRF's throttles
  with ``NUM_PROXIES = 0``, django-axes, the access rule of /metrics) reads ``REMOTE_ADDR``,
  so a client that sends its own ``X-Forwarded-For`` never changes who it is counted as.
* ``RequestBodyMiddleware`` refuses a body over ``API_MAX_BODY_BYTES`` with a 413 before
  anything reads it, and, once a response is ready, reads and discards whatever body the view
  never read (a 401, 403, 415 or 429 answered before parsing). Otherwise the unread bytes stay
  on a keep-alive connection: gunicorn drains only 64 KiB of them and then drops the connection
  after having said ``Connection: keep-alive``, and the client sees a reset instead of the answer.
  Bodies too large to drain are closed explicitly (``parivision/gunicorn.conf.py``'s
  ``pre_request`` marks the connection, and gunicorn says ``Connection: close``).
* ``ApiErrorMiddleware`` turns an exception escaping a non-DRF view under ``/api/`` into the
  JSON shape too (DRF views already go through ``exception_handler``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from parivision import errors

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DRAIN_CHUNK = 64 * 1024


@lru_cache(maxsize=8)
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def address_in(address: str, entries: list[str] | tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks(tuple(entries)))


def client_address(peer: str, forwarded_for: str | None, trusted: list[str] | tuple[str, ...]) -> str:
    """The client's address: the peer, or, through trusted proxies only, the last untrusted hop."""
    if not trusted or not forwarded_for or not address_in(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: believe nothing in it
        if not address_in(hop, trusted):
            return hop
    return hops[0] if hops else peer


class ClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        request.META["PARIVISION_PEER_ADDR"] = peer
        trusted = settings.TRUSTED_PROXIES
        if trusted:
            request.META["REMOTE_ADDR"] = client_address(peer, request.META.get("HTTP_X_FORWARDED_FOR"), trusted)
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The address ``ClientAddressMiddleware`` resolved (django-axes' AXES_CLIENT_IP_CALLABLE)."""
    return str(request.META.get("REMOTE_ADDR", ""))


def length_of(raw: str) -> int | None:
    """A ``Content-Length`` value as an integer, or None when it is not a plain number (ASCII digits)."""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def declared_length(request: HttpRequest) -> int | None:
    """``Content-Length`` as an integer (0 when absent), or None when it is not a number."""
    raw = request.META.get("CONTENT_LENGTH") or ""
    if not raw:
        return 0
    return length_of(raw)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


class RequestBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        limit = settings.API_MAX_BODY_BYTES
        if length is None:
            return errors.plain_error_response(request, status=400, code="bad_request",
                                               message="Content-Length is not a number.")
        if length > limit:
            response = errors.plain_error_response(
                request, status=413, code="payload_too_large",
                message=f"The request body is {length} bytes; at most {limit} are accepted.")
            response["Connection"] = "close"  # gunicorn closes it too (gunicorn.conf.py pre_request)
            return response
        response = self.get_response(request)
        if length:
            self.drain(request)
        return response

    @staticmethod
    def drain(request: HttpRequest) -> None:
        """Read what the view left of the body (bounded by Content-Length, itself within the limit)."""
        if hasattr(request, "_body"):
            return  # read whole into memory already
        stream = getattr(request, "_stream", None)
        if stream is None:
            return
        try:
            while stream.read(DRAIN_CHUNK):
                pass
        except OSError as error:  # the client went away: nothing to keep alive
            logger.debug("request body not drained: %s", error)


class ApiErrorMiddleware:
    """Exceptions escaping a non-DRF view under /api/ answer in the one JSON shape, and so does a path
    no URL matches: with DEBUG on, Django would answer that with its HTML debug page instead of
    ``handler404`` (CommonMiddleware, outside this one, still redirects a missing trailing slash)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404 and is_api(request) and response.get("Content-Type", "").startswith("text/html"):
            return errors.handler404(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        return errors.unexpected_error_response(request, exception)
