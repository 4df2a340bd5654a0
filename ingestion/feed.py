"""The VirtualBetsAPI-compatible replay feed (server side) and the client that pulls from one.

Server: the configured dataset (a shot file, or the warehouse) is materialised once into
``feed_records`` as ``{_id: position, record: <22 string fields>}``. A cursor in
``feed_state`` is advanced with one atomic ``$inc`` per request, so concurrent callers
always receive disjoint slices. At the end the feed returns what is left, then empty
lists; it never wraps around. ``/reset`` moves the cursor back to 0.

Client: pulls ``/getdata/<n>`` from any compatible URL with timeouts and retries and
writes the records to the lake as one batch, for the transform task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import requests
from django.conf import settings
from pymongo import ReturnDocument
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
    total = 0
    source = islice(_records_from(dataset), limit)
    while chunk := list(islice(source, LOAD_CHUNK)):
        records.insert_many([{"_id": total + i, "record": r} for i, r in enumerate(chunk)], ordered=False)
        total += len(chunk)
        if progress is not None:
            progress(total)
    mongo.lake_collection(mongo.FEED_STATE).replace_one(
        {"_id": STATE_ID},
        {"_id": STATE_ID, "dataset": dataset, "limit": limit, "total": total, "position": 0, "loaded_at": lake.utcnow()},
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


def feed_next(*, n: Any) -> list[dict[str, str]]:
    """The next ``n`` records; each record goes to exactly one caller."""
    count = parse_count(n)
    _ensure_loaded()
    state = mongo.lake_collection(mongo.FEED_STATE).find_one_and_update(
        {"_id": STATE_ID}, {"$inc": {"position": count}}, return_document=ReturnDocument.AFTER
    )
    if state is None:  # pragma: no cover - _ensure_loaded created it
        raise FeedUnavailable("the feed has no state")
    end = int(state["position"])
    start = end - count
    total = int(state["total"])
    if start >= total:
        return []
    cursor = (
        mongo.lake_collection(mongo.FEED_RECORDS)
        .find({"_id": {"$gte": start, "$lt": min(end, total)}})
        .sort("_id", 1)
    )
    return [doc["record"] for doc in cursor]


def feed_reset() -> dict[str, Any]:
    _ensure_loaded()
    state = mongo.lake_collection(mongo.FEED_STATE).find_one_and_update(
        {"_id": STATE_ID}, {"$set": {"position": 0}}, return_document=ReturnDocument.AFTER
    )
    return feed_status() if state is not None else {}


def feed_status() -> dict[str, Any]:
    state = mongo.lake_collection(mongo.FEED_STATE).find_one({"_id": STATE_ID}) or {}
    total = int(state.get("total") or 0)
    position = min(int(state.get("position") or 0), total)
    return {
        "dataset": state.get("dataset"),
        "limit": state.get("limit"),
        "total": total,
        "position": position,
        "remaining": total - position,
        "loaded_at": state.get("loaded_at"),
    }


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


def feed_fetch(*, url: str, n: int, timeout: float | None = None, retries: int | None = None) -> list[Any]:
    """GET ``<url>/getdata/<n>``: a JSON list, or a FeedClientError saying what came back."""
    endpoint = f"{url.rstrip('/')}/getdata/{parse_count(n)}"
    timeout = timeout if timeout is not None else settings.FEED_TIMEOUT_S
    retries = retries if retries is not None else settings.FEED_RETRIES
    with _session(retries) as session:
        try:
            response = session.get(endpoint, timeout=timeout)
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
        records = feed_fetch(url=url, n=n)
        report.read = len(records)
        if not records:
            return run, report, None
        batch_id, _new, _duplicates = lake_receive(records=records, source=f"feed:{url}", run_id=run.pk)
    return run, report, batch_id
