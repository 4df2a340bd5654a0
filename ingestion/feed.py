"""The VirtualBetsAPI-compatible replay feed (server side) and the client that pulls from one.

Server: the configured dataset (a shot file, or the warehouse) is materialised once into
``feed_records`` as ``{_id: position, record: <22 string fields>}``. The feed is a protected
source: every call carries ``FEED_TOKEN`` (``views.py``).

The feed replays games that are still being played. With ``FEED_PACED_BY_STREAM`` (the
default) it serves only the records the live stream has *released*: a shot is released when
the stream takes it, so nobody (not even ingestion) receives the outcome of a shot that has
not been played. The stream peeks at the next records (``feed_peek``) to open them for bets.

Pulls are safe to retry. Each pull carries an idempotency key (the client's, or one made up
for it). A pull claims its slice ``[start, end)`` by inserting ``{_id: "s:<start>"}`` into
``feed_pulls``: the unique ``_id`` makes the claim atomic, so concurrent pullers receive
disjoint slices, and the key is stored with the slice, so a retry of a pull whose response
was lost receives the same records again instead of the next ones. The cursor in
``feed_state`` is only a hint of where the claimed slices end (a crash between the claim and
the hint is healed by the next pull, which finds the claim). At the end the feed returns
what is left, then empty lists; it never wraps around. ``feed_reset`` moves the cursor back to 0.

Client: pulls ``/getdata/<n>?key=<idempotency key>`` from any compatible URL with timeouts and
retries (the same key on every retry) and writes the records to the lake as one batch, for the
transform task.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import requests
from django.conf import settings
from pymongo.errors import DuplicateKeyError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingestion import lake
from ingestion.mappers import SHOT_LOCATIONS, SHOT_LOCATIONS_COLUMNS, to_feed_record
from ingestion.models import IngestionRun
from ingestion.readers import iter_mapped
from ingestion.services import IngestReport, ingestion_run, lake_receive
from parivision import mongo

logger = logging.getLogger(__name__)

MAX_PULL = 1_000
STATE_ID = "state"
LOCK_ID = "load-lock"
WAREHOUSE = "warehouse"
STALE_LOCK_S = 600
LOAD_CHUNK = 5_000
SLICE = "s:"
KEY = "k:"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CLAIM_ATTEMPTS = 1_000
KEY_WAIT_S = 5.0
KEY_STALE_S = 30.0


class FeedRequestError(ValueError):
    """A bad request to the feed (names the parameter and the value)."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {value!r} {problem}")


class FeedUnavailable(RuntimeError):
    pass


class FeedClientError(RuntimeError):
    pass


# --- server -------------------------------------------------------------------------------


def _records_from(dataset: str) -> Iterator[dict[str, str]]:
    if dataset == WAREHOUSE:
        for shot in lake.iter_shots(projection={"ingested_at": 0, "source": 0}):
            yield to_feed_record(shot)
        return
    skipped = 0
    for item in iter_mapped(dataset):
        if item.file_format == SHOT_LOCATIONS:
            # Already the feed's shape: replayed as it is, bad records included, as a real feed would.
            yield {column: item.raw.get(column, "") for column in SHOT_LOCATIONS_COLUMNS}
        elif item.shot is not None:
            yield to_feed_record(item.shot.to_document())
        else:
            skipped += 1
    if skipped:
        logger.warning("feed dataset %s: %d rows could not be converted to the feed's shape", dataset, skipped)


def feed_load(
    *, dataset: str | None = None, limit: int | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """(Re)build the replay dataset from ``dataset`` and put the cursor at 0. Returns its size."""
    dataset = dataset or settings.FEED_DATASET
    limit = limit or settings.FEED_LIMIT
    records = mongo.lake_collection(mongo.FEED_RECORDS)
    records.drop()
    mongo.lake_collection(mongo.FEED_PULLS).drop()
    total = 0
    source = islice(_records_from(dataset), limit)
    while chunk := list(islice(source, LOAD_CHUNK)):
        records.insert_many([{"_id": total + i, "record": r} for i, r in enumerate(chunk)], ordered=False)
        total += len(chunk)
        if progress is not None:
            progress(total)
    mongo.lake_collection(mongo.FEED_STATE).replace_one(
        {"_id": STATE_ID},
        {"_id": STATE_ID, "dataset": dataset, "limit": limit, "total": total, "position": 0, "released": 0,
         "load_id": uuid.uuid4().hex, "loaded_at": lake.utcnow()},
        upsert=True,
    )
    logger.info("feed loaded %d records from %s", total, dataset)
    return total


def _ensure_loaded() -> dict[str, Any]:
    """The feed state, loading the dataset first if nobody has (one loader at a time)."""
    state_coll = mongo.lake_collection(mongo.FEED_STATE)
    state = state_coll.find_one({"_id": STATE_ID})
    if state is not None and state.get("total"):
        return state
    try:
        state_coll.insert_one({"_id": LOCK_ID, "at": time.time()})
    except DuplicateKeyError:
        lock = state_coll.find_one({"_id": LOCK_ID})
        if lock is not None and time.time() - lock.get("at", 0) > STALE_LOCK_S:
            state_coll.delete_one({"_id": LOCK_ID, "at": lock.get("at")})
            return _ensure_loaded()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            state = state_coll.find_one({"_id": STATE_ID})
            if state is not None and state_coll.find_one({"_id": LOCK_ID}) is None:
                return state
        raise FeedUnavailable("the feed's dataset is still being loaded; try again shortly") from None
    try:
        feed_load()
    finally:
        state_coll.delete_one({"_id": LOCK_ID})
    state = state_coll.find_one({"_id": STATE_ID})
    if state is None:  # pragma: no cover - feed_load always writes it
        raise FeedUnavailable("the feed's dataset could not be loaded")
    return state


def parse_count(value: Any) -> int:
    text = str(value).strip()
    try:
        n = int(text)
    except ValueError:
        raise FeedRequestError("n", value, f"is not a whole number (ask for 1..{MAX_PULL} records)") from None
    if not 1 <= n <= MAX_PULL:
        raise FeedRequestError("n", n, f"is out of range 1..{MAX_PULL}")
    return n


def parse_key(value: Any) -> str | None:
    """An idempotency key: 1-64 letters, digits, ``_ . : -``; None when not given."""
    if value is None or value == "":
        return None
    text = str(value)
    if not KEY_PATTERN.fullmatch(text):
        raise FeedRequestError("key", value, "is not an idempotency key (1-64 letters, digits, '_', '.', ':', '-')")
    return text


def _available(state: dict[str, Any]) -> int:
    """How many records the feed may serve: the released ones when the stream paces it."""
    total = int(state.get("total") or 0)
    if settings.FEED_PACED_BY_STREAM:
        return min(total, int(state.get("released") or 0))
    return total


def _records(start: int, end: int) -> list[dict[str, str]]:
    if end <= start:
        return []
    cursor = mongo.lake_collection(mongo.FEED_RECORDS).find({"_id": {"$gte": start, "$lt": end}}).sort("_id", 1)
    return [doc["record"] for doc in cursor]


def _slice_of(key: str) -> tuple[int, int] | None:
    """The slice a pull with this key claimed, if any."""
    pulls = mongo.lake_collection(mongo.FEED_PULLS)
    found = pulls.find_one({"_id": KEY + key})
    if found is None or "start" not in found:
        # A pull that died between claiming its slice and recording it under its key (a scan, but rare).
        found = pulls.find_one({"key": key})
    return (int(found["start"]), int(found["end"])) if found is not None else None


def _pull(*, count: int, key: str) -> tuple[int, int]:
    """The slice of the pull named ``key``: the one it already has, or the next ``count`` records.

    The key is reserved first, so two requests with one key at once (a client retrying while
    its first request is still being answered) share one slice rather than consume two.
    """
    pulls = mongo.lake_collection(mongo.FEED_PULLS)
    try:
        pulls.insert_one({"_id": KEY + key, "at": time.time()})
    except DuplicateKeyError:
        deadline = time.monotonic() + KEY_WAIT_S
        while time.monotonic() < deadline:
            earlier = _slice_of(key)
            if earlier is not None:
                return earlier
            reserved = pulls.find_one({"_id": KEY + key}) or {}
            if time.time() - float(reserved.get("at") or 0) > KEY_STALE_S:
                break  # its first request died before claiming anything: claim for it
            time.sleep(0.02)
        else:
            raise FeedUnavailable("this pull is still being answered; retry with the same key") from None
    return _claim(count=count, key=key)


def _claim(*, count: int, key: str) -> tuple[int, int]:
    """Claim the next ``count`` available records for ``key``: (start, end), end == start when none."""
    state_coll = mongo.lake_collection(mongo.FEED_STATE)
    pulls = mongo.lake_collection(mongo.FEED_PULLS)
    state = state_coll.find_one({"_id": STATE_ID}) or {}
    start = int(state.get("position") or 0)
    for _ in range(CLAIM_ATTEMPTS):
        available = _available(state_coll.find_one({"_id": STATE_ID}) or {})
        end = min(start + count, available)
        if end <= start:  # nothing to serve: the key stays free, its retry may find records later
            pulls.delete_one({"_id": KEY + key, "start": {"$exists": False}})
            return start, start
        try:
            pulls.insert_one({"_id": f"{SLICE}{start}", "start": start, "end": end, "key": key, "at": time.time()})
        except DuplicateKeyError:
            taken = pulls.find_one({"_id": f"{SLICE}{start}"})
            start = int(taken["end"]) if taken is not None else start
            continue
        pulls.update_one({"_id": KEY + key}, {"$set": {"start": start, "end": end}})
        # The cursor is a hint of where the claims end; it only moves forward.
        state_coll.update_one({"_id": STATE_ID, "position": {"$lt": end}}, {"$set": {"position": end}})
        return start, end
    raise FeedUnavailable("too many concurrent pulls; try again shortly")


def feed_next(*, n: Any, key: Any = None) -> list[dict[str, str]]:
    """The next ``n`` records; each record goes to exactly one pull (one idempotency key).

    The same ``key`` again returns the same records (a retry after a lost response); without a
    key the pull gets one of its own, so it cannot be retried safely.
    """
    count = parse_count(n)
    idempotency_key = parse_key(key)
    _ensure_loaded()
    if idempotency_key is not None:
        earlier = _slice_of(idempotency_key)
        if earlier is not None:
            return _records(*earlier)
    start, end = _pull(count=count, key=idempotency_key or f"server-{uuid.uuid4().hex}")
    return _records(start, end)


def feed_reset() -> dict[str, Any]:
    """Cursor back to 0: everything released is served again (the lake ignores what it already has)."""
    _ensure_loaded()
    mongo.lake_collection(mongo.FEED_PULLS).drop()
    mongo.lake_collection(mongo.FEED_STATE).update_one({"_id": STATE_ID}, {"$set": {"position": 0}})
    return feed_status()


def feed_status() -> dict[str, Any]:
    state = mongo.lake_collection(mongo.FEED_STATE).find_one({"_id": STATE_ID}) or {}
    total = int(state.get("total") or 0)
    position = min(int(state.get("position") or 0), total)
    return {
        "dataset": state.get("dataset"),
        "limit": state.get("limit"),
        "total": total,
        "position": position,
        "released": min(int(state.get("released") or 0), total),
        "available": _available(state),
        "remaining": total - position,
        "loaded_at": state.get("loaded_at"),
    }


# --- the live stream's side: what is coming, and the clock ------------------------------------


def feed_load_id() -> str | None:
    """Which loading of the dataset the positions refer to (a new ``feed_load`` starts over)."""
    state = mongo.lake_collection(mongo.FEED_STATE).find_one({"_id": STATE_ID}, {"load_id": 1}) or {}
    return state.get("load_id")


def feed_peek(*, start: int, n: int) -> list[tuple[int, dict[str, str]]]:
    """Records ``start`` .. ``start + n - 1`` as (position, record), without serving or moving anything.

    Server side only: the live stream reads what is coming to open it for bets. Nothing that
    reaches a user may come from here except the fields of a shot that is not its outcome.
    """
    state = _ensure_loaded()
    start = max(start, 0)
    end = min(start + n, int(state.get("total") or 0))
    if end <= start:
        return []
    cursor = mongo.lake_collection(mongo.FEED_RECORDS).find({"_id": {"$gte": start, "$lt": end}}).sort("_id", 1)
    return [(int(doc["_id"]), doc["record"]) for doc in cursor]


def feed_released() -> int:
    state = mongo.lake_collection(mongo.FEED_STATE).find_one({"_id": STATE_ID}, {"released": 1}) or {}
    return int(state.get("released") or 0)


def feed_release(*, through: int) -> int:
    """The shot at position ``through`` has been played: the feed may now serve it and all before it.

    Only moves forward (a repeated or late call changes nothing). Returns the released count.
    """
    state_coll = mongo.lake_collection(mongo.FEED_STATE)
    behind = {"$or": [{"released": {"$lt": through + 1}}, {"released": {"$exists": False}}]}
    state_coll.update_one({"_id": STATE_ID, **behind}, {"$set": {"released": through + 1}})
    return feed_released()


# --- client --------------------------------------------------------------------------------


def _session(retries: int) -> requests.Session:
    session = requests.Session()
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=0.3,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def feed_fetch(
    *, url: str, n: int, key: str | None = None, timeout: float | None = None, retries: int | None = None,
    token: str | None = None,
) -> list[Any]:
    """GET ``<url>/getdata/<n>?key=<key>``: a JSON list, or a FeedClientError saying what came back.

    Every retry (connection lost, read timeout, 5xx, 429) sends the same idempotency key, so a
    response lost on the way back is answered again with the same records, never the next ones.
    """
    key = parse_key(key) or uuid.uuid4().hex
    endpoint = f"{url.rstrip('/')}/getdata/{parse_count(n)}"
    timeout = timeout if timeout is not None else settings.FEED_TIMEOUT_S
    retries = retries if retries is not None else settings.FEED_RETRIES
    token = token if token is not None else settings.FEED_TOKEN
    headers = {"X-Feed-Token": token} if token else {}
    with _session(retries) as session:
        try:
            response = session.get(endpoint, params={"key": key}, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            raise FeedClientError(f"GET {endpoint} failed: {error}") from error
    if response.status_code != 200:
        raise FeedClientError(f"GET {endpoint} answered {response.status_code}: {response.text[:300]}")
    try:
        payload = response.json()
    except ValueError:
        raise FeedClientError(f"GET {endpoint} did not return JSON: {response.text[:200]!r}") from None
    if not isinstance(payload, list):
        raise FeedClientError(f"GET {endpoint} returned {type(payload).__name__}, expected a JSON list")
    return payload


def feed_pull(
    *, url: str | None = None, n: int | None = None, task_id: str = ""
) -> tuple[IngestionRun, IngestReport, str | None]:
    """Pull one batch from a feed into the lake. Returns the run, its report and the lake batch."""
    url = url or settings.FEED_URL
    n = n or settings.FEED_PULL_SIZE
    with ingestion_run(kind=IngestionRun.Kind.FEED, source=url, task_id=task_id) as (run, report):
        # A task retried by Celery keeps its id, so its retry asks for the same slice again.
        key = f"pull-{task_id}" if task_id else f"pull-{uuid.uuid4().hex}"
        records = feed_fetch(url=url, n=n, key=key[:64])
        report.read = len(records)
        if not records:
            return run, report, None
        batch_id, _new, _duplicates = lake_receive(records=records, source=f"feed:{url}", run_id=run.pk)
    return run, report, batch_id
