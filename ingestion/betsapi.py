"""A small, strict client for BetsAPI (NBA events and their odds).

Plain Python (no Django): settings read ``BETSAPI_TOKEN`` and hand the token in, Celery
tasks call the methods, and the tests run it against a local fake server.

What it relies on from BetsAPI's documentation:

* every call is a GET with the token as the ``token`` query parameter;
* a success looks like ``{"success": 1, "pager": {"page", "per_page", "total"}, "results": [...]}``
  (the pager only on listings) and a failure like ``{"success": 0, "error": ..., "error_detail": ...}``;
* ``/v3/events/upcoming`` takes ``sport_id`` (basketball is 18), ``league_id``, ``day``
  (``YYYYMMDD``), ``skip_esports`` and ``page``; ``/v3/events/inplay`` takes ``sport_id`` and ``league_id``;
* an event carries ``id``, ``sport_id``, ``time`` (epoch seconds, UTC), ``time_status``,
  ``league``/``home``/``away`` (``{"id", "name"}``) and ``ss`` (the score);
* ``/v2/event/odds`` takes ``event_id``, ``source``, ``since_time`` and ``odds_market`` and answers
  ``results.odds`` keyed ``"<sport_id>_<market>"`` (basketball: ``18_1`` money line, ``18_2``
  spread, ``18_3`` total points), each a list of snapshots with ``home_od``/``away_od`` (or
  ``over_od``/``under_od``), ``handicap``, ``ss``, ``time_str`` and ``add_time``.

The token never appears in an exception message or a log line: requests puts the whole URL
(query string included) into its own exception texts, so those are redacted and not chained.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.b365api.com"
UPCOMING_PATH = "/v3/events/upcoming"
INPLAY_PATH = "/v3/events/inplay"
ODDS_PATH = "/v2/event/odds"

BASKETBALL_SPORT_ID = 18
NBA_LEAGUE_NAME = "NBA"

# Basketball markets of /v2/event/odds ("<sport_id>_<market number>").
MARKET_MONEY_LINE = f"{BASKETBALL_SPORT_ID}_1"
MARKET_SPREAD = f"{BASKETBALL_SPORT_ID}_2"
MARKET_TOTAL = f"{BASKETBALL_SPORT_ID}_3"

# BetsAPI's time_status glossary.  An unknown code is a validation error rather than a
# guess, so a change on their side shows up in the errors list instead of as bad data.
EVENT_STATUSES: dict[str, str] = {
    "0": "not_started",
    "1": "inplay",
    "2": "to_be_fixed",
    "3": "ended",
    "4": "postponed",
    "5": "cancelled",
    "6": "walkover",
    "7": "interrupted",
    "8": "abandoned",
    "9": "retired",
    "10": "suspended",
    "11": "decided_by_fa",
    "99": "removed",
}

DEFAULT_MAX_PAGES = 10
# A server asking us to wait an hour would stall a Celery worker; beyond this cap the
# next scheduled run is the better retry.
DEFAULT_MAX_RETRY_AFTER = 30.0
# Bookmakers show a suspended price as a dash or an empty string: "no price", not an error.
_NO_PRICE = ("", "-")
_REDACTED = "***"
_MAX_VALUE_REPR = 80


# --------------------------------------------------------------------------- errors


class BetsApiError(Exception):
    """Any failure talking to BetsAPI; names the endpoint (a path, never a URL with the token)."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        self.endpoint = endpoint
        self.status = status
        self.message = message
        where = f"BetsAPI {endpoint}" if endpoint else "BetsAPI"
        suffix = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{where}: {message}{suffix}")


class BetsApiConfigError(BetsApiError, ValueError):
    """The client was built with unusable settings (missing token, bad URL, negative timeout)."""


class BetsApiAuthError(BetsApiError):
    """The token was refused (HTTP 401/403 or a token/permission error in the body)."""


class BetsApiRequestError(BetsApiError):
    """BetsAPI rejected the request itself (other 4xx, or ``success: 0``); retrying will not help."""


class BetsApiResponseError(BetsApiError):
    """The answer is not the documented envelope (not JSON, no ``results``...)."""


class BetsApiUnavailableError(BetsApiError):
    """Retries exhausted on 5xx, connection errors or timeouts."""


class BetsApiTimeoutError(BetsApiUnavailableError):
    """Retries exhausted and the last attempt timed out."""


class BetsApiRateLimitError(BetsApiUnavailableError):
    """Retries exhausted while BetsAPI kept answering 429 / TOO_MANY_REQUESTS."""


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, error: BetsApiError, *, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


# --------------------------------------------------------------------------- records


class RecordValidationError(ValueError):
    """One field of one record is unusable; names the field and the value."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {_short_repr(value)} {problem}")


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record skipped from a batch, with why; the rest of the batch carries on."""

    endpoint: str
    page: int | None
    index: int
    record_id: str | None
    field: str
    value: str
    problem: str

    @property
    def reason(self) -> str:
        """A short, groupable reason without the value, e.g. ``'time: not an epoch timestamp'``."""
        return f"{self.field}: {self.problem}"

    def __str__(self) -> str:
        where = f"page {self.page} item {self.index}" if self.page is not None else f"item {self.index}"
        record = f" (id {self.record_id})" if self.record_id else ""
        return f"{self.endpoint} {where}{record}: {self.field}={self.value} {self.problem}"


@dataclass(frozen=True, slots=True)
class BetsApiEvent:
    id: str
    league_id: str | None
    league: str
    home_id: str | None
    home: str
    away_id: str | None
    away: str
    start_time: dt.datetime  # aware, UTC
    status: str  # a value of EVENT_STATUSES
    score: str | None = None


@dataclass(frozen=True, slots=True)
class EventBatch:
    events: list[BetsApiEvent]
    errors: list[RejectedRecord]
    pages_fetched: int
    total: int | None  # what the pager announced, all leagues included
    truncated: bool  # stopped at max_pages while the pager announced more


@dataclass(frozen=True, slots=True)
class MarketOdds:
    """One odds snapshot of one market, as BetsAPI recorded it at ``add_time``."""

    event_id: str
    market: str  # e.g. MARKET_MONEY_LINE
    odds_id: str | None
    home_od: float | None
    away_od: float | None
    over_od: float | None
    under_od: float | None
    handicap: float | None
    score: str | None
    time_str: str | None
    add_time: dt.datetime  # aware, UTC

    def implied_probabilities(self) -> tuple[float, float]:
        """Margin-free (home, away) or (over, under) probabilities of this snapshot."""
        if self.home_od is not None and self.away_od is not None:
            pair = (self.home_od, self.away_od)
        elif self.over_od is not None and self.under_od is not None:
            pair = (self.over_od, self.under_od)
        else:
            raise ValueError(f"{self.market} snapshot {self.odds_id} has no complete pair of prices")
        home, away = implied_probabilities(odds=pair)
        return home, away


@dataclass(frozen=True, slots=True)
class EventOdds:
    event_id: str
    markets: dict[str, list[MarketOdds]]  # oldest snapshot first
    errors: list[RejectedRecord]

    def latest(self, market: str) -> MarketOdds | None:
        """The most recent snapshot of ``market``, or None when BetsAPI has none."""
        snapshots = self.markets.get(market)
        return snapshots[-1] if snapshots else None


def implied_probabilities(*, odds: Sequence[float]) -> tuple[float, ...]:
    """Turn decimal odds of one market's outcomes into probabilities with the margin removed.

    The raw inverses sum to more than 1 (the bookmaker's overround); dividing by that sum
    (proportional normalisation) is the usual, assumption-light way to remove it.
    """
    if len(odds) < 2:
        raise ValueError(f"need the odds of at least two outcomes, got {len(odds)}")
    for price in odds:
        if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price):
            raise ValueError(f"odds {price!r} is not a finite number")
        if price <= 1.0:
            raise ValueError(f"decimal odds {price!r} must be greater than 1")
    inverses = [1.0 / price for price in odds]
    overround = sum(inverses)
    return tuple(inverse / overround for inverse in inverses)


# --------------------------------------------------------------------------- log redaction


class _TokenRedactingFilter(logging.Filter):
    """Masks registered tokens in records of the HTTP stack's loggers.

    BetsAPI only takes the token in the query string, and urllib3 logs every request line
    (path and query) at DEBUG: without this, turning on debug logging would write the token
    to the logs.
    """

    def __init__(self) -> None:
        super().__init__()
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def add(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def filter(self, record: logging.LogRecord) -> bool:
        tokens = self._tokens
        if not tokens:
            return True
        message = record.getMessage()
        redacted = message
        for token in tokens:
            redacted = redacted.replace(token, _REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# The loggers that see request URLs: urllib3 logs "GET /path?query", requests nothing more.
_HTTP_LOGGERS = ("urllib3.connectionpool",)
_redacting_filter = _TokenRedactingFilter()


def _protect_token_in_logs(token: str) -> None:
    """Register ``token`` for redaction; attaches the filter once, at first client construction."""
    _redacting_filter.add(token)
    for name in _HTTP_LOGGERS:
        http_logger = logging.getLogger(name)
        if _redacting_filter not in http_logger.filters:
            http_logger.addFilter(_redacting_filter)


# --------------------------------------------------------------------------- client


class BetsApiClient:
    """Typed access to the BetsAPI endpoints PariVision needs, with retries and paging.

    ``sleep`` is injectable so tests can check waits without spending them.
    """

    def __init__(
        self,
        *,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10,
        max_retries: int = 3,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise BetsApiConfigError("no API token: set BETSAPI_TOKEN to your BetsAPI token")
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise BetsApiConfigError(f"base_url {base_url!r} is not an http(s) URL")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise BetsApiConfigError(f"timeout {timeout!r} must be a positive number of seconds")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise BetsApiConfigError(f"max_retries {max_retries!r} must be an integer >= 0")
        for name, value in (("backoff", backoff), ("max_retry_after", max_retry_after)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise BetsApiConfigError(f"{name} {value!r} must be a number >= 0")
        self._token = token.strip()
        _protect_token_in_logs(self._token)
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.max_retry_after = float(max_retry_after)
        self._sleep = sleep
        self._session = session if session is not None else requests.Session()
        self._owns_session = session is None

    def __repr__(self) -> str:
        # The default dataclass-like repr would be one print() away from leaking the token.
        return f"BetsApiClient(base_url={self.base_url!r}, token={_REDACTED!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> BetsApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ endpoints

    def upcoming_nba_events(
        self,
        *,
        day: dt.date | str | None = None,
        league_id: str | int | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> EventBatch:
        """Upcoming NBA games (all pages up to ``max_pages``), invalid events reported in ``errors``.

        With ``league_id`` BetsAPI filters server-side (fewer pages); without it every
        basketball league comes back and only the league named "NBA" is kept.
        """
        params: dict[str, Any] = {"sport_id": BASKETBALL_SPORT_ID, "skip_esports": 1}
        if day is not None:
            params["day"] = _format_day(day)
        return self._nba_events(path=UPCOMING_PATH, params=params, league_id=league_id, max_pages=max_pages)

    def inplay_nba_events(
        self,
        *,
        league_id: str | int | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> EventBatch:
        """NBA games being played now, validated like the upcoming ones."""
        params: dict[str, Any] = {"sport_id": BASKETBALL_SPORT_ID}
        return self._nba_events(path=INPLAY_PATH, params=params, league_id=league_id, max_pages=max_pages)

    def event_odds(
        self,
        *,
        event_id: str | int,
        source: str | None = None,
        since: dt.datetime | int | None = None,
        markets: Sequence[str] | None = None,
    ) -> EventOdds:
        """Odds history of one event (``source`` defaults to BetsAPI's own default, bet365).

        ``since`` asks only for snapshots added at or after it; ``markets`` takes keys such
        as ``MARKET_MONEY_LINE`` and is sent as BetsAPI's ``odds_market`` numbers.
        """
        event_key = _require_id(event_id, "event_id")
        params: dict[str, Any] = {"event_id": event_key}
        if source is not None:
            params["source"] = source
        if since is not None:
            params["since_time"] = _epoch_seconds(since)
        if markets:
            params["odds_market"] = ",".join(_market_number(market) for market in markets)
        payload = self._get(path=ODDS_PATH, params=params)
        results = payload["results"]
        if not isinstance(results, Mapping):
            raise BetsApiResponseError(
                f"'results' is {type(results).__name__}, expected an object", endpoint=ODDS_PATH
            )
        raw_odds = results.get("odds")
        # PHP serialises an empty map as [], so "no odds yet" arrives as a list.
        if raw_odds in (None, []):
            raw_odds = {}
        if not isinstance(raw_odds, Mapping):
            raise BetsApiResponseError(
                f"'results.odds' is {type(raw_odds).__name__}, expected an object", endpoint=ODDS_PATH
            )
        parsed: dict[str, list[MarketOdds]] = {}
        errors: list[RejectedRecord] = []
        for market, snapshots in raw_odds.items():
            if not isinstance(snapshots, list):
                errors.append(
                    _rejection(
                        ODDS_PATH,
                        None,
                        0,
                        None,
                        RecordValidationError(f"odds.{market}", snapshots, "is not a list of snapshots"),
                    )
                )
                continue
            good: list[MarketOdds] = []
            for index, raw in enumerate(snapshots):
                try:
                    good.append(_parse_odds(raw, event_id=event_key, market=str(market)))
                except RecordValidationError as exc:
                    errors.append(_rejection(ODDS_PATH, None, index, _record_id(raw), exc))
            # BetsAPI lists the newest first; oldest-first makes "latest" the last item.
            parsed[str(market)] = sorted(good, key=lambda snapshot: snapshot.add_time)
        _log_rejections(ODDS_PATH, errors)
        return EventOdds(event_id=event_key, markets=parsed, errors=errors)

    # ------------------------------------------------------------------ paging

    def _nba_events(
        self, *, path: str, params: dict[str, Any], league_id: str | int | None, max_pages: int
    ) -> EventBatch:
        if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
            raise ValueError(f"max_pages {max_pages!r} must be an integer >= 1")
        wanted_league = _require_id(league_id, "league_id") if league_id is not None else None
        if wanted_league is not None:
            params = {**params, "league_id": wanted_league}
        events: list[BetsApiEvent] = []
        errors: list[RejectedRecord] = []
        seen: set[str] = set()
        page = 1
        total: int | None = None
        truncated = False
        while True:
            payload = self._get(path=path, params={**params, "page": page})
            results = payload["results"]
            if not isinstance(results, list):
                raise BetsApiResponseError(
                    f"'results' is {type(results).__name__}, expected a list", endpoint=path
                )
            for index, raw in enumerate(results):
                if not _is_nba(raw, wanted_league):
                    continue
                try:
                    event = _parse_event(raw)
                except RecordValidationError as exc:
                    errors.append(_rejection(path, page, index, _record_id(raw), exc))
                    continue
                # Listings shift while we page (a game starts, one is added), so the same
                # event can appear on two pages.
                if event.id not in seen:
                    seen.add(event.id)
                    events.append(event)
            pager = _parse_pager(payload.get("pager"), endpoint=path)
            if pager is None:
                break
            total, per_page = pager
            if not results or page * per_page >= total:
                break
            if page >= max_pages:
                truncated = True
                logger.warning(
                    "BetsAPI %s: stopped at max_pages=%d with %d events announced", path, max_pages, total
                )
                break
            page += 1
        _log_rejections(path, errors)
        return EventBatch(events=events, errors=errors, pages_fetched=page, total=total, truncated=truncated)

    # ------------------------------------------------------------------ transport

    def _get(self, *, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One documented GET with retries; returns the envelope of a ``success: 1`` answer."""
        url = f"{self.base_url}{path}"
        query = {**params, "token": self._token}
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(url=url, path=path, query=query)
            except _Retryable as retry:
                if attempt == attempts:
                    raise retry.error from None
                wait = retry.wait if retry.wait is not None else self.backoff * 2 ** (attempt - 1)
                wait = min(wait, self.max_retry_after)
                logger.warning(
                    "BetsAPI %s: attempt %d/%d failed (%s); retrying in %.2fs",
                    path,
                    attempt,
                    attempts,
                    retry.error.message,
                    wait,
                )
                self._sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _attempt(self, *, url: str, path: str, query: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = self._session.get(url, params=query, timeout=self.timeout)
        except requests.Timeout:
            raise _Retryable(
                BetsApiTimeoutError(f"no answer within {self.timeout:g}s", endpoint=path)
            ) from None
        except requests.RequestException as exc:
            # requests' message embeds the full URL, token included: redact, do not chain.
            raise _Retryable(
                BetsApiUnavailableError(
                    f"connection failed: {self._redact(type(exc).__name__ + ': ' + str(exc))}", endpoint=path
                )
            ) from None

        status = response.status_code
        if status == 429:
            raise _Retryable(
                BetsApiRateLimitError("rate limited (429)", endpoint=path, status=status),
                wait=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise _Retryable(
                BetsApiUnavailableError(
                    f"server error: {self._body_error(response)}", endpoint=path, status=status
                )
            )
        if status in (401, 403):
            raise BetsApiAuthError(
                f"token refused: {self._body_error(response)}", endpoint=path, status=status
            )
        if status >= 400:
            raise BetsApiRequestError(
                f"request rejected: {self._body_error(response)}", endpoint=path, status=status
            )

        try:
            payload = response.json()
        except ValueError:
            raise BetsApiResponseError(
                f"answer is not JSON: {self._redact(response.text[:_MAX_VALUE_REPR])!r}",
                endpoint=path,
                status=status,
            ) from None
        if not isinstance(payload, dict):
            raise BetsApiResponseError(
                f"answer is {type(payload).__name__}, expected an object", endpoint=path, status=status
            )
        success = payload.get("success")
        if success in (1, "1", True):
            if "results" not in payload:
                raise BetsApiResponseError("answer has no 'results'", endpoint=path, status=status)
            return payload
        if success in (0, "0", False):
            code = str(payload.get("error") or "unknown error")
            message = self._describe_error(payload)
            upper = code.upper()
            if "TOO_MANY" in upper or "RATE_LIMIT" in upper:
                raise _Retryable(BetsApiRateLimitError(f"rate limited: {message}", endpoint=path))
            if any(word in upper for word in ("TOKEN", "AUTH", "PERMISSION", "SUBSCRI")):
                raise BetsApiAuthError(f"token refused: {message}", endpoint=path)
            raise BetsApiRequestError(message, endpoint=path)
        raise BetsApiResponseError(
            f"'success' is {_short_repr(success)}, expected 1 or 0", endpoint=path, status=status
        )

    def _body_error(self, response: requests.Response) -> str:
        try:
            payload = response.json()
        except ValueError:
            text = response.text.strip()
            return self._redact(text[:_MAX_VALUE_REPR]) if text else response.reason or "no body"
        if isinstance(payload, dict) and payload.get("error"):
            return self._describe_error(payload)
        return self._redact(_short_repr(payload))

    def _describe_error(self, payload: Mapping[str, Any]) -> str:
        code = str(payload.get("error") or "unknown error")
        detail = payload.get("error_detail")
        text = f"{code} ({detail})" if detail not in (None, "", [], {}) else code
        # A server may echo the request (token included) in its detail.
        return self._redact(text)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, _REDACTED)


# --------------------------------------------------------------------------- parsing


def _is_nba(raw: Any, league_id: str | None) -> bool:
    """Whether a raw listing item belongs to the NBA; unreadable items count as NBA.

    Items whose league cannot be read are kept so validation reports them: silently
    dropping them could hide an NBA game behind a malformed league.
    """
    if not isinstance(raw, Mapping):
        return True
    league = raw.get("league")
    if not isinstance(league, Mapping):
        return True
    if league_id is not None:
        return str(league.get("id", "")).strip() == league_id
    name = league.get("name")
    if not isinstance(name, str) or not name.strip():
        return True
    # Exact match: "NBA Summer League", "NBA G League" and eBasketball "NBA2K" leagues are not the NBA.
    return name.strip().upper() == NBA_LEAGUE_NAME


def _parse_event(raw: Any) -> BetsApiEvent:
    if not isinstance(raw, Mapping):
        raise RecordValidationError("event", raw, "is not an object")
    event_id = _require_id(raw.get("id"), "id")
    sport = raw.get("sport_id")
    if sport is not None and str(sport).strip() != str(BASKETBALL_SPORT_ID):
        raise RecordValidationError("sport_id", sport, f"is not basketball ({BASKETBALL_SPORT_ID})")
    league_id, league = _named(raw.get("league"), "league")
    home_id, home = _named(raw.get("home"), "home")
    away_id, away = _named(raw.get("away"), "away")
    start_time = _parse_epoch(raw.get("time"), "time")
    status_code = raw.get("time_status")
    status = EVENT_STATUSES.get(str(status_code).strip()) if status_code is not None else None
    if status is None:
        raise RecordValidationError("time_status", status_code, "is not a known BetsAPI time_status")
    score = raw.get("ss")
    if score is not None and not isinstance(score, str):
        raise RecordValidationError("ss", score, "is not a score string")
    return BetsApiEvent(
        id=event_id,
        league_id=league_id,
        league=league,
        home_id=home_id,
        home=home,
        away_id=away_id,
        away=away,
        start_time=start_time,
        status=status,
        score=score or None,
    )


def _parse_odds(raw: Any, *, event_id: str, market: str) -> MarketOdds:
    if not isinstance(raw, Mapping):
        raise RecordValidationError(f"odds.{market}", raw, "is not an object")
    prices = {
        name: _parse_price(raw.get(name), f"odds.{market}.{name}")
        for name in ("home_od", "away_od", "over_od", "under_od")
    }
    handicap = raw.get("handicap")
    score = raw.get("ss")
    time_str = raw.get("time_str")
    odds_id = raw.get("id")
    return MarketOdds(
        event_id=event_id,
        market=market,
        odds_id=str(odds_id) if odds_id not in (None, "") else None,
        home_od=prices["home_od"],
        away_od=prices["away_od"],
        over_od=prices["over_od"],
        under_od=prices["under_od"],
        handicap=_parse_handicap(handicap, f"odds.{market}.handicap"),
        score=score if isinstance(score, str) and score else None,
        time_str=time_str if isinstance(time_str, str) and time_str else None,
        add_time=_parse_epoch(raw.get("add_time"), f"odds.{market}.add_time"),
    )


def _parse_price(value: Any, field: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() in _NO_PRICE):
        return None
    price = _parse_float(value, field)
    if price <= 1.0:
        raise RecordValidationError(field, value, "is not a decimal price above 1")
    return price


def _parse_handicap(value: Any, field: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() in _NO_PRICE):
        return None
    text = str(value).strip()
    # Split handicaps ("-2.5,-3.0") are quoted as their mean, the usual Asian-line reading.
    if "," in text:
        parts = [_parse_float(part, field) for part in text.split(",")]
        return sum(parts) / len(parts)
    return _parse_float(text, field)


def _parse_float(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise RecordValidationError(field, value, "is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordValidationError(field, value, "is not a number") from None
    if not math.isfinite(number):
        raise RecordValidationError(field, value, "is not a finite number")
    return number


def _parse_epoch(value: Any, field: str) -> dt.datetime:
    if isinstance(value, bool) or value is None:
        raise RecordValidationError(field, value, "is not an epoch timestamp")
    try:
        seconds = int(str(value).strip())
    except ValueError:
        raise RecordValidationError(field, value, "is not an epoch timestamp") from None
    if seconds <= 0:
        raise RecordValidationError(field, value, "is not a positive epoch timestamp")
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise RecordValidationError(field, value, "is out of the datetime range") from None


def _named(value: Any, field: str) -> tuple[str | None, str]:
    """An ``{"id", "name"}`` object: the name is required, the id optional."""
    if not isinstance(value, Mapping):
        raise RecordValidationError(field, value, "is not an object with a name")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RecordValidationError(f"{field}.name", name, "is missing or empty")
    raw_id = value.get("id")
    identifier = None if raw_id in (None, "") else _require_id(raw_id, f"{field}.id")
    return identifier, name.strip()


def _require_id(value: Any, field: str) -> str:
    """BetsAPI ids are digit strings (sometimes sent as numbers)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordValidationError(field, value, "is not an id")
    text = str(value).strip()
    if not text.isdigit():
        raise RecordValidationError(field, value, "is not a numeric id")
    return text


def _record_id(raw: Any) -> str | None:
    if isinstance(raw, Mapping) and raw.get("id") not in (None, ""):
        return str(raw["id"])[:_MAX_VALUE_REPR]
    return None


def _parse_pager(raw: Any, *, endpoint: str) -> tuple[int, int] | None:
    """``(total, per_page)`` from a documented pager, or None for a single-page answer."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise BetsApiResponseError(f"'pager' is {type(raw).__name__}, expected an object", endpoint=endpoint)
    try:
        total = int(raw["total"])
        per_page = int(raw["per_page"])
    except (KeyError, TypeError, ValueError):
        raise BetsApiResponseError(
            f"'pager' {_short_repr(dict(raw))} lacks integer 'total' and 'per_page'", endpoint=endpoint
        ) from None
    if per_page <= 0 or total < 0:
        raise BetsApiResponseError(f"'pager' {_short_repr(dict(raw))} is inconsistent", endpoint=endpoint)
    return total, per_page


def _retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds: either a delay or an HTTP date (RFC 9110); None if unreadable."""
    if not header:
        return None
    text = header.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _format_day(day: dt.date | str) -> str:
    if isinstance(day, dt.datetime):
        day = day.astimezone(dt.UTC).date() if day.tzinfo else day.date()
    if isinstance(day, dt.date):
        return day.strftime("%Y%m%d")
    try:
        return dt.datetime.strptime(day, "%Y%m%d").strftime("%Y%m%d")
    except (TypeError, ValueError):
        raise ValueError(f"day {day!r} is not a date or a YYYYMMDD string") from None


def _epoch_seconds(value: dt.datetime | int) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"since {value!r} is naive; pass an aware datetime")
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"since {value!r} is not an aware datetime or epoch seconds")
    return value


def _market_number(market: str) -> str:
    """``"18_1"`` (or plain ``"1"``) -> ``"1"``, the form odds_market expects."""
    number = str(market).rsplit("_", 1)[-1]
    if not number.isdigit():
        raise ValueError(f"market {market!r} is not like '{MARKET_MONEY_LINE}'")
    return number


def _rejection(
    endpoint: str, page: int | None, index: int, record_id: str | None, exc: RecordValidationError
) -> RejectedRecord:
    return RejectedRecord(
        endpoint=endpoint,
        page=page,
        index=index,
        record_id=record_id,
        field=exc.field,
        value=_short_repr(exc.value),
        problem=exc.problem,
    )


def _log_rejections(endpoint: str, errors: list[RejectedRecord]) -> None:
    if errors:
        logger.warning(
            "BetsAPI %s: skipped %d invalid record(s), first: %s", endpoint, len(errors), errors[0]
        )


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_REPR else text[: _MAX_VALUE_REPR - 3] + "..."
