"""Ingestion services: files, feed batches and the lake → warehouse transform.

Every path goes through the same two steps: raw documents into the lake (as received),
then ``_prepare_batch`` (validate; split valid shots from quarantine entries) and
``_write_shots``. A file import does both in one pass, writing one batch while it reads
the next; a feed pull only does the first and leaves the second to the transform task.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from ingestion import lake, metrics
from ingestion.figures import figures_after_new_shots
from ingestion.mappers import NBA_COM, UnknownFormatError, detect_format, map_nba_com, map_shot_locations
from ingestion.models import IngestionRun
from ingestion.readers import MappedRecord, default_source, iter_mapped
from ingestion.shots import Shot, ShotValidationError

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class IngestReport:
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestReport) -> None:
        self.read += other.read
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.rejected_by_reason.update(other.rejected_by_reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason.most_common()),
        }


ProgressCallback = Callable[[IngestReport], None]


# --- runs ----------------------------------------------------------------------------------


@contextlib.contextmanager
def ingestion_run(*, kind: str, source: str, task_id: str = "") -> Iterator[tuple[IngestionRun, IngestReport]]:
    """Record a run: its counts on success, its error on failure (then re-raised)."""
    run = IngestionRun.objects.create(kind=kind, source=source[:500], task_id=task_id or "")
    report = IngestReport()
    try:
        yield run, report
    except BaseException as error:
        _finish_run(run, report, status=IngestionRun.Status.FAILED, error=f"{type(error).__name__}: {error}")
        metrics.record_run(kind=kind, report=report, succeeded=False)
        raise
    _finish_run(run, report, status=IngestionRun.Status.SUCCEEDED, error="")
    metrics.record_run(kind=kind, report=report, succeeded=True)


def _finish_run(run: IngestionRun, report: IngestReport, *, status: str, error: str) -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.read = report.read
    run.inserted = report.inserted
    run.duplicates = report.duplicates
    run.rejected = report.rejected
    run.rejected_by_reason = dict(report.rejected_by_reason.most_common())
    run.save()


# --- the shared batch step ------------------------------------------------------------------


@dataclass
class PreparedBatch:
    """A batch ready to write: everything computed, nothing written yet."""

    batch_id: str
    raw_docs: list[dict[str, Any]]
    shot_docs: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    report: IngestReport


def _prepare_batch(
    batch_id: str,
    raw_docs: list[dict[str, Any]],
    outcomes: Sequence[Shot | ShotValidationError],
    *,
    run_id: int | None,
) -> PreparedBatch:
    """Split a batch into warehouse documents and quarantine entries (CPU only, no I/O)."""
    report = IngestReport(read=len(raw_docs))
    shot_docs: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for raw, outcome in zip(raw_docs, outcomes, strict=True):
        if isinstance(outcome, Shot):
            shot_docs.append(outcome.to_document())
        else:
            refused.append(
                lake.quarantine_entry(
                    raw,
                    field=outcome.field,
                    value=outcome.value,
                    problem=outcome.problem,
                    message=str(outcome),
                    run_id=run_id,
                )
            )
            report.rejected_by_reason[outcome.reason] += 1
    report.rejected = len(refused)
    return PreparedBatch(batch_id, raw_docs, shot_docs, refused, report)


def _write_shots(batch: PreparedBatch) -> IngestReport:
    """Write a prepared batch's shots and quarantine entries; fills in inserted/duplicates."""
    batch.report.inserted, batch.report.duplicates = lake.insert_shots(batch.shot_docs)
    lake.insert_quarantine(batch.refused)
    if batch.report.inserted:
        figures_after_new_shots(seasons={doc.get("season") for doc in batch.shot_docs})
    return batch.report


def map_raw_document(raw: dict[str, Any], *, ingested_at: dt.datetime) -> Shot:
    """Map a lake document (a record as received) to a canonical shot, or raise why not."""
    record = raw.get("record")
    if not isinstance(record, dict):
        raise ShotValidationError("record", record, "is not a JSON object")
    file_format = raw.get("format")
    if file_format is None:
        try:
            file_format = detect_format(list(record))
        except UnknownFormatError as error:
            raise ShotValidationError("record", sorted(record)[:30], str(error)) from None
    if file_format == NBA_COM:
        event_seq = raw.get("event_seq")
        if not isinstance(event_seq, int):
            raise ShotValidationError("event_seq", event_seq, "is missing for an NBA.com record")
        return map_nba_com(record, event_id=event_seq, source=raw["source"], ingested_at=ingested_at)
    return map_shot_locations(record, source=raw["source"], ingested_at=ingested_at)


# --- files ------------------------------------------------------------------------------------


def shots_import_file(
    *,
    location: str,
    source: str | None = None,
    kind: str = IngestionRun.Kind.FILE,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    task_id: str = "",
) -> tuple[IngestionRun, IngestReport]:
    """Stream a CSV or zip (path or URL) of either format into the lake and the warehouse.

    Reading and mapping a batch overlaps with writing the previous one (a writer thread;
    the MongoDB round trips release the GIL), so the ETL's own work hides behind the writes.
    Safe to re-run: what is already there is counted as duplicates, nothing is lost.
    """
    batch_size = batch_size or settings.INGEST_BATCH_SIZE
    source = source or default_source(location)
    with ingestion_run(kind=kind, source=location, task_id=task_id) as (run, report):
        records = iter_mapped(location, source=source)
        batches = (_prepare_file_chunk(chunk, source=source, run_id=run.pk) for chunk in _chunks(records, batch_size))
        for written in write_behind(batches, _write_file_batch):
            report.add(written)
            if progress is not None:
                progress(report)
    return run, report


def _chunks(items: Iterator[MappedRecord], size: int) -> Iterator[list[MappedRecord]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _prepare_file_chunk(chunk: list[MappedRecord], *, source: str, run_id: int) -> PreparedBatch:
    batch_id = lake.new_batch_id()
    received_at = lake.utcnow()
    raw_docs = [
        lake.raw_document(
            item.raw,
            source=source,
            file_format=item.file_format,
            run_id=run_id,
            batch_id=batch_id,
            received_at=received_at,
            event_seq=item.event_seq,
        )
        for item in chunk
    ]
    return _prepare_batch(batch_id, raw_docs, [item.outcome for item in chunk], run_id=run_id)


def _write_file_batch(batch: PreparedBatch) -> IngestReport:
    # The batch is recorded (claimed by this import) before its raw documents, so a crash
    # leaves a batch the transform will finish rather than raw documents nobody owns.
    lake.open_batch(
        batch_id=batch.batch_id, source="file", run_id=batch.raw_docs[0]["run_id"], size=len(batch.raw_docs), claimed=True
    )
    lake.insert_raw(batch.raw_docs)
    report = _write_shots(batch)
    lake.mark_batch(batch.batch_id, lake.DONE)
    return report


def write_behind(items: Iterable[T], write: Callable[[T], R], *, depth: int = 2) -> Iterator[R]:
    """Yield ``write(item)`` for each item, in order, producing the next items meanwhile.

    One writer thread; at most ``depth`` items wait for it. An error on either side stops
    both and is raised here.
    """
    todo: queue.Queue[T | object] = queue.Queue(maxsize=depth)
    done: queue.Queue[tuple[bool, R | BaseException]] = queue.Queue()
    stop = threading.Event()
    end = object()

    def writer() -> None:
        while True:
            item = todo.get()
            if item is end or stop.is_set():
                return
            try:
                done.put((True, write(item)))  # type: ignore[arg-type]
            except BaseException as error:
                done.put((False, error))
                return

    thread = threading.Thread(target=writer, name="ingest-writer", daemon=True)
    thread.start()
    pending = 0
    try:
        for item in items:
            while (pending and not done.empty()) or pending >= depth:
                yield _unwrap(done.get())
                pending -= 1
            todo.put(item)
            pending += 1
        while pending:
            yield _unwrap(done.get())
            pending -= 1
    finally:
        stop.set()
        with contextlib.suppress(queue.Full):
            todo.put_nowait(end)
        thread.join(timeout=60)


def _unwrap(outcome: tuple[bool, Any]) -> Any:
    ok, value = outcome
    if not ok:
        raise value
    return value


# --- lake → warehouse ---------------------------------------------------------------------------


def lake_receive(*, records: Iterable[Any], source: str, run_id: int | None) -> tuple[str, int, int]:
    """Write received records to the lake as one batch for the transform. Returns (batch, new, dup)."""
    batch_id = lake.new_batch_id()
    received_at = lake.utcnow()
    docs = [
        lake.raw_document(
            record, source=source, file_format=None, run_id=run_id, batch_id=batch_id, received_at=received_at
        )
        for record in records
    ]
    lake.open_batch(batch_id=batch_id, source=source, run_id=run_id, size=len(docs), claimed=False)
    inserted, duplicates = lake.insert_raw(docs)
    lake.mark_batch(batch_id, lake.PENDING)
    return batch_id, inserted, duplicates


def lake_transform_pending(
    *, max_batches: int = 1_000, stale_after: dt.timedelta = lake.STALE_CLAIM, task_id: str = ""
) -> tuple[IngestionRun, IngestReport]:
    """Move every waiting lake batch into the warehouse (incremental, safe to run concurrently).

    A batch claimed longer than ``stale_after`` ago by a transform that never finished
    (its worker died) is taken over.
    """
    with ingestion_run(kind=IngestionRun.Kind.TRANSFORM, source="lake", task_id=task_id) as (run, report):
        for _ in range(max_batches):
            batch = lake.claim_batch(stale_after=stale_after)
            if batch is None:
                break
            raw_docs = lake.raw_documents_of(batch["_id"])
            ingested_at = lake.utcnow()
            outcomes: list[Shot | ShotValidationError] = []
            for raw in raw_docs:
                try:
                    outcomes.append(map_raw_document(raw, ingested_at=ingested_at))
                except ShotValidationError as error:
                    outcomes.append(error)
            report.add(_write_shots(_prepare_batch(batch["_id"], raw_docs, outcomes, run_id=run.pk)))
            lake.mark_batch(batch["_id"], lake.DONE)
    return run, report
