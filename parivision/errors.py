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

import json
import logging
import math
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


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


def dependency_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a store is down or unreachable (not a bug): answered 503, not 500."""
    import pymongo.errors
    import redis.exceptions

    return (pymongo.errors.ConnectionFailure, pymongo.errors.ExecutionTimeout, redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError, DatabaseOperationalError, DatabaseInterfaceError)


DEPENDENCY_RETRY_AFTER_SECONDS = 5


def _classify(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) of an exception that is not one of DRF's."""
    if isinstance(exc, dependency_errors()):
        return 503, "dependency_unavailable", "A service this request needs is unavailable: try again shortly."
    if isinstance(exc, RequestDataTooBig):
        return 413, "payload_too_large", "The request body is too large."
    if isinstance(exc, SuspiciousOperation):
        return 400, "bad_request", "The request was refused as malformed."
    if isinstance(exc, Http404):
        return 404, "not_found", "Not found."
    if isinstance(exc, DjangoPermissionDenied):
        return 403, "permission_denied", "You do not have permission to perform this action."
    return 500, "server_error", "The server failed to answer this request; it has been logged."


def request_id_of(request: HttpRequest) -> str:
    """The request's id (``X-Request-ID`` when given) for answers made outside the API views."""
    given = getattr(request, "request_id", None) or request.headers.get("X-Request-ID", "")[:64]
    return given or uuid.uuid4().hex


def plain_error_response(request: HttpRequest, *, status: int, code: str, message: str,
                         headers: dict[str, str] | None = None) -> HttpResponse:
    """An error answered outside DRF: the JSON shape under /api/, plain text elsewhere."""
    if request.path_info.startswith("/api/"):
        request_id = request_id_of(request)
        body = error_body(code=code, message=message, errors=[{"field": None, "message": message}],
                          request_id=request_id)
        response: HttpResponse = JsonResponse(body, status=status)
        response["X-Request-ID"] = request_id
    else:
        response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unexpected_error_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """An exception that escaped a view under /api/: logged, then answered in the JSON shape."""
    status_code, code, message = _classify(exc)
    headers = {}
    if status_code == 503:
        logger.warning("%s %s: dependency unavailable: %s: %s", request.method, request.path,
                       type(exc).__name__, exc)
        headers["Retry-After"] = str(DEPENDENCY_RETRY_AFTER_SECONDS)
    elif status_code == 500:
        logger.error("%s %s failed", request.method, request.path, exc_info=exc)
    return plain_error_response(request, status=status_code, code=code, message=message, headers=headers)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler: the JSON shape for /api/ paths, the site's page elsewhere."""
    if request.path_info.startswith("/api/"):
        return plain_error_response(request, status=404, code="not_found",
                                    message=f"No API endpoint at {request.path_info}.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return plain_error_response(request, status=500, code="server_error",
                                    message="The server failed to answer this request; it has been logged.")
    from django.views.defaults import server_error

    return server_error(request)


VALUE_SHOWN_CHARS = 200
_ABSENT = object()


def _with_value(error: dict[str, Any], value: Any) -> dict[str, Any]:
    """The refused value beside its field, as text (cut to VALUE_SHOWN_CHARS), when there is one."""
    if value is None or value is _ABSENT or isinstance(value, (dict, list)) or _secret(error.get("field")):
        return error
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (bool, int, float)) else str(value)
    return {**error, "value": text[:VALUE_SHOWN_CHARS]}


def _secret(field: str | None) -> bool:
    name = (field or "").rsplit(".", 1)[-1].lower()
    return any(word in name for word in ("password", "secret", "token"))


def _given(context: dict[str, Any], field: str | None) -> Any:
    """What the request gave at a dotted field path (body first, then the query string)."""
    request = context.get("request")
    if request is None or not field:
        return _ABSENT
    for source in ("data", "query_params"):
        try:
            found: Any = getattr(request, source)
        except Exception:  # an unparsable body: the error is about the body itself
            continue
        for part in field.split("."):
            if isinstance(found, Mapping) and part in found:
                found = found[part]
            elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
                found = found[int(part)]
            else:
                found = _ABSENT
                break
        if found is not _ABSENT:
            return found
    return _ABSENT


def _request_id(context: dict[str, Any]) -> str | None:
    request = context.get("request")
    return getattr(request, "request_id", None) if request is not None else None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refused API request in one JSON shape."""
    request_id = _request_id(context)
    if isinstance(exc, ApplicationError):
        errors = [_with_value({"field": exc.field, "message": exc.message}, exc.value)]
        return Response(error_body(code=exc.code, message=exc.message, errors=errors, request_id=request_id),
                        status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        # A store that is down is a 503; anything else is a bug, logged with its traceback and
        # answered 500, in the same shape (never an HTML page under /api/).
        status_code, code, text = _classify(exc)
        retry = {}
        if status_code == 503:
            retry["Retry-After"] = str(DEPENDENCY_RETRY_AFTER_SECONDS)
            logger.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
        elif status_code == 500:
            logger.error("unhandled error in an API view", exc_info=exc)
        set_rollback()
        body = error_body(code=code, message=text, errors=[{"field": None, "message": text}],
                          request_id=request_id)
        return Response(body, status=status_code, headers=retry)

    code = next((name for cls, name in _CODES if isinstance(exc, cls)), "error")
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        errors = [_with_value(error, _given(context, error["field"])) for error in flatten_errors(exc.detail)]
        first: dict[str, Any] = errors[0] if errors else {"field": None, "message": "Invalid input."}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
    else:
        message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else "Request refused."
        errors = [{"field": None, "message": message}]
    if isinstance(exc, exceptions.Throttled):
        waited = getattr(exc, "wait", None)
        wait = math.ceil(waited) if waited is not None else None
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
