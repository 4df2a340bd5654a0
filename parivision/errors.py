"""The one application error type, and the one place API errors become JSON.

Services raise ``ApplicationError``; DRF's own exceptions (validation, authentication,
permission, throttling, parsing) and Django's ``Http404`` pass through the same
``exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``), so every API error has
one shape::

    {"code": "validation_error", "message": "period: Ensure this value is less than or equal to 10.",
     "errors": [{"field": "period", "message": "Ensure this value is less than or equal to 10."}],
     "request_id": "4b1e..."}

``field`` is a dotted path into the request body (``shots.3.period``), or null when the
error is about the request as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response


class ApplicationError(Exception):
    """A request the platform refuses, with the field and value it refuses when there is one."""

    def __init__(
        self, message: str, *, field: str | None = None, value: Any = None, code: str = "invalid", status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.code = code
        self.status = status


# DRF exception class -> the code clients switch on.
_CODES: tuple[tuple[type[exceptions.APIException], str], ...] = (
    (exceptions.ValidationError, "validation_error"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
)


def error_body(*, code: str, message: str, errors: list[dict[str, Any]] | None = None,
               request_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or [], "request_id": request_id, **extra}


def flatten_errors(detail: Any, prefix: str | None = None) -> Iterator[dict[str, Any]]:
    """DRF's nested error detail -> [{"field": "shots.3.period", "message": ...}, ...]."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            path = prefix if name is None else (f"{prefix}.{name}" if prefix else name)
            yield from flatten_errors(value, path)
    elif isinstance(detail, list):
        if all(isinstance(item, (str, exceptions.ErrorDetail)) for item in detail):
            for item in detail:
                yield {"field": prefix, "message": str(item)}
        else:  # a list of nested serializers: one entry per item, empty for valid ones
            for index, item in enumerate(detail):
                yield from flatten_errors(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield {"field": prefix, "message": str(detail)}


def _request_id(context: dict[str, Any]) -> str | None:
    request = context.get("request")
    return getattr(request, "request_id", None) if request is not None else None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refused API request in one JSON shape."""
    request_id = _request_id(context)
    if isinstance(exc, ApplicationError):
        errors = [{"field": exc.field, "message": exc.message}]
        return Response(error_body(code=exc.code, message=exc.message, errors=errors, request_id=request_id),
                        status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django report it (500) rather than dress it up

    code = next((name for cls, name in _CODES if isinstance(exc, cls)), "error")
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        errors = list(flatten_errors(exc.detail))
        first = errors[0] if errors else {"field": None, "message": "Invalid input."}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
    else:
        message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else "Request refused."
        errors = [{"field": None, "message": message}]
    if isinstance(exc, exceptions.Throttled):
        wait = math.ceil(exc.wait) if exc.wait is not None else None
        if wait is not None:
            headers["Retry-After"] = str(wait)
        extra["retry_after"] = wait
        message = f"Too many requests: try again in {wait} s." if wait is not None else "Too many requests."
        errors = [{"field": None, "message": message}]
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    status_code = exc.status_code
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)) and "WWW-Authenticate" not in headers:
        # DRF answers 403 when the first authenticator has no header to offer; say 401 honestly.
        headers["WWW-Authenticate"] = 'Token realm="api"'
        status_code = status.HTTP_401_UNAUTHORIZED
    body = error_body(code=code, message=message, errors=errors, request_id=request_id, **extra)
    return Response(body, status=status_code, headers=headers)
