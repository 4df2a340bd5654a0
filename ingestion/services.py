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
import os
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from ingestion import history, lake, metrics
from ingestion.conventions import Convention
from ingestion.figures import figures_after_new_shots
from ingestion.mappers import SHOT_LOCATIONS, UnknownFormatError, detect_format, map_record
from ingestion.models import IngestionRun
from ingestion.readers import MappedRecord, Tiebreaker, default_source, map_file, open_shot_file, with_repeat
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
    corrected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    convention: dict[str, Any] = field(default_factory=dict)
    last_line: int = 0  # files: the last line fully written (the resume checkpoint)

    def add(self, other: IngestReport) -> None:
        self.read += other.read
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.corrected += other.corrected
        self.rejected_by_reason.update(other.rejected_by_reason)
        self.last_line = max(self.last_line, other.last_line)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "read": self.read,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "corrected": self.corrected,
            "rejected_by_reason": dict(self.rejected_by_reason.most_common()),
        }
        if self.convention:
            out["convention"] = self.convention
        return out

    def counts(self) -> dict[str, Any]:
        return {**self.as_dict(), "last_line": self.last_line}

    @classmethod
    def from_counts(cls, counts: dict[str, Any]) -> IngestReport:
        return cls(
            read=counts.get("read", 0), inserted=counts.get("inserted", 0), duplicates=counts.get("duplicates", 0),
            rejected=counts.get("rejected", 0), corrected=counts.get("corrected", 0),
            rejected_by_reason=Counter(counts.get("rejected_by_reason", {})), last_line=counts.get("last_line", 0),
        )  # fmt: skip


ProgressCallback = Callable[[IngestReport], None]


# --- runs ----------------------------------------------------------------------------------


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@contextlib.contextmanager
def ingestion_run(
    *, kind: str, source: str, task_id: str = "", run: IngestionRun | None = None
) -> Iterator[tuple[IngestionRun, IngestReport]]:
    """Record a run: its counts on success, its error on failure (then re-raised).

    ``run``: an existing run taken over (a resumed import); its checkpoint counts carry on.
    """
    if run is None:
        run = IngestionRun.objects.create(
            kind=kind, source=source[:500], task_id=task_id or "", heartbeat_at=timezone.now(), owner=worker_identity()
        )
        report = IngestReport()
    else:
        report = IngestReport.from_counts(run.checkpoint or {})
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
    run.error = error[:5000]
    run.finished_at = timezone.now()
    run.read = report.read
    run.inserted = report.inserted
    run.duplicates = report.duplicates
    run.rejected = report.rejected
    run.corrected = report.corrected
    run.rejected_by_reason = dict(report.rejected_by_reason.most_common())
    if report.convention:
        run.convention = report.convention
    run.save()


class RunSuperseded(RuntimeError):
    """This worker's lease on a run was taken over (it was presumed dead): it must stop writing."""


def run_heartbeat(run: IngestionRun, report: IngestReport) -> None:
    """Renew the run's lease and save its counts and checkpoint (only while this attempt holds it)."""
    updated = IngestionRun.objects.filter(
        pk=run.pk, status=IngestionRun.Status.RUNNING, attempts=run.attempts
    ).update(
        heartbeat_at=timezone.now(), read=report.read, inserted=report.inserted, duplicates=report.duplicates,
        rejected=report.rejected, corrected=report.corrected,
        rejected_by_reason=dict(report.rejected_by_reason.most_common()), checkpoint=report.counts(),
    )  # fmt: skip
    if not updated:
        raise RunSuperseded(f"ingestion run #{run.pk} attempt {run.attempts} was taken over by another worker")


def _owner_is_dead(owner: str) -> bool:
    """True when the run's worker process was on this host and no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid) == os.getpid()  # our own pid: a previous delivery in this very process died


QUEUED_FOR_RESUME = "queued for resume by the sweeper"
OTHER_RUNS_PRESUMED_DEAD_S = 900  # > the hard time limits of pull_feed (150 s) and transform_lake (660 s)
NO_SUCH_RUN = "no such run"


def run_claim(
    *, run_id: int | None = None, task_id: str = "", attempt: int | None = None
) -> tuple[IngestionRun | None, str]:
    """Take over an import run for this worker: ``(run, "")`` or ``(None, why not)``.

    A run is taken when its lease expired, or when the worker that held it was on this host
    and is gone (a pool child killed by the OOM killer or SIGKILL; the task is redelivered).
    """
    run = IngestionRun.objects.filter(pk=run_id).first() if run_id else (
        IngestionRun.objects.filter(task_id=task_id, kind=IngestionRun.Kind.FILE).order_by("-started_at").first()
        if task_id else None
    )  # fmt: skip
    if run is None:
        return None, NO_SUCH_RUN
    if run.status != IngestionRun.Status.RUNNING:
        return None, f"run #{run.pk} is {run.status}"
    queued = attempt is not None and run.attempts == attempt and run.owner == QUEUED_FOR_RESUME
    if queued and IngestionRun.objects.filter(pk=run.pk, attempts=run.attempts, owner=QUEUED_FOR_RESUME).update(
        owner=worker_identity(), heartbeat_at=timezone.now()
    ):
        run.refresh_from_db()
        return run, ""
    lease = dt.timedelta(seconds=settings.INGEST_RUN_LEASE_S)
    stale = run.heartbeat_at is None or run.heartbeat_at < timezone.now() - lease
    if not stale and not _owner_is_dead(run.owner):
        return None, f"run #{run.pk} is held by {run.owner} (heartbeat {run.heartbeat_at:%H:%M:%S})"
    taken = IngestionRun.objects.filter(pk=run.pk, attempts=run.attempts, status=IngestionRun.Status.RUNNING).update(
        attempts=run.attempts + 1, heartbeat_at=timezone.now(), owner=worker_identity()
    )
    if not taken:
        return None, f"run #{run.pk} was taken by another worker"
    run.refresh_from_db()
    return run, ""


def runs_sweep(*, now: dt.datetime | None = None, enqueue: Callable[[int], None] | None = None) -> dict[str, list[int]]:
    """Runs still "running" whose worker is gone (lease expired): resume file imports that have
    attempts left (``enqueue(run_id)``), mark the rest failed. Returns the run ids by outcome."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.INGEST_RUN_LEASE_S)
    # Feed pulls and transforms renew no lease while they wait on the network: they are only
    # presumed dead past the longest hard time limit of their tasks.
    other_cutoff = now - dt.timedelta(seconds=max(settings.INGEST_RUN_LEASE_S, OTHER_RUNS_PRESUMED_DEAD_S))
    outcome: dict[str, list[int]] = {"resumed": [], "failed": []}
    file_kinds = (IngestionRun.Kind.FILE, IngestionRun.Kind.GENERATOR)
    stale = IngestionRun.objects.filter(status=IngestionRun.Status.RUNNING).filter(
        (models.Q(kind__in=file_kinds) & (models.Q(heartbeat_at__lt=cutoff)
                                          | models.Q(heartbeat_at__isnull=True, started_at__lt=cutoff)))
        | (~models.Q(kind__in=file_kinds) & (models.Q(heartbeat_at__lt=other_cutoff)
                                             | models.Q(heartbeat_at__isnull=True, started_at__lt=other_cutoff)))
    )  # fmt: skip
    for run in stale:
        since = run.heartbeat_at or run.started_at
        resumable = run.kind == IngestionRun.Kind.FILE and run.attempts < settings.INGEST_MAX_ATTEMPTS
        if resumable and enqueue is not None:
            taken = IngestionRun.objects.filter(pk=run.pk, attempts=run.attempts, status=IngestionRun.Status.RUNNING)
            if taken.update(  # fmt: skipattempts=run.attempts + 1, heartbeat_at=now, owner=QUEUED_FOR_RESUME,
                            error=f"worker lost (no heartbeat since {since:%Y-%m-%d %H:%M:%S} UTC); "
                                  f"resumed after line {(run.checkpoint or {}).get('last_line', 0)}"):
                enqueue(run.pk)
                outcome["resumed"].append(run.pk)
            continue
        why = "no attempts left" if run.kind == IngestionRun.Kind.FILE else "not resumable"
        if IngestionRun.objects.filter(pk=run.pk, attempts=run.attempts, status=IngestionRun.Status.RUNNING).update(
            status=IngestionRun.Status.FAILED, finished_at=now,
            error=f"worker lost: no heartbeat since {since:%Y-%m-%d %H:%M:%S} UTC ({why})",
        ):  # fmt: skip
            outcome["failed"].append(run.pk)
    return outcome


# --- the shared batch step ------------------------------------------------------------------


@dataclass
class PreparedBatch:
    """A batch ready to write: everything computed, nothing written yet."""

    batch_id: str
    raw_docs: list[dict[str, Any]]
    shot_docs: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    report: IngestReport
    ingested_at: dt.datetime | None = None  # the run's: a shot with it was written by this run
    run_id: int | None = None


def _prepare_batch(
    batch_id: str,
    raw_docs: list[dict[str, Any]],
    outcomes: Sequence[Shot | ShotValidationError | None],
    *,
    run_id: int | None,
    ingested_at: dt.datetime | None = None,
) -> PreparedBatch:
    """Split a batch into warehouse documents and quarantine entries (CPU only, no I/O).

    An outcome of None is an exact repeat of a row already read: counted as a duplicate.
    """
    report = IngestReport(read=len(raw_docs))
    shot_docs: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for raw, outcome in zip(raw_docs, outcomes, strict=True):
        if outcome is None:
            report.duplicates += 1
        elif isinstance(outcome, Shot):
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
    return PreparedBatch(batch_id, raw_docs, shot_docs, refused, report, ingested_at, run_id)


def _same_instant(a: Any, b: Any) -> bool:
    if not isinstance(a, dt.datetime) or not isinstance(b, dt.datetime):
        return False
    return abs((a - b).total_seconds()) < 0.002  # BSON keeps milliseconds


def _write_shots(batch: PreparedBatch) -> IngestReport:
    """Write a prepared batch: new shots inserted, known ones compared, corrections applied and
    audited, quarantine entries stored; fills in inserted/duplicates/corrected.

    A known key whose stored shot has the same content is a duplicate (or, when this run
    wrote it before its worker died, still counted as inserted by this run).
    """
    report = batch.report
    by_key: dict[str, dict[str, Any]] = {}
    for doc in batch.shot_docs:
        if doc["_id"] in by_key:
            report.duplicates += 1
        else:
            by_key[doc["_id"]] = doc
    fresh: list[dict[str, Any]] = []
    touched: list[dict[str, Any]] = []  # both sides of each correction: the days they count in
    stored = lake.shots_by_key(list(by_key))
    repeats: list[dict[str, Any]] = []
    for key, doc in by_key.items():
        old = stored.get(key)
        if old is None:
            fresh.append(doc)
        elif _other_source_event(old, doc):
            repeats.append(doc)
        elif _known_shot(old, doc, batch):
            touched += (old, doc)
    # Same second, player and spot as a stored shot, but another event of the source: a
    # repeat split from its first occurrence (another feed batch). It takes the next free number.
    assigned = {doc["_id"]: doc for doc in fresh}
    for doc in repeats:
        for _ in range(MAX_REPEAT_PROBES):
            doc = lake.with_next_repeat(doc)
            twin = assigned.get(doc["_id"]) or lake.shots_by_key([doc["_id"]]).get(doc["_id"])
            if twin is None:
                fresh.append(doc)
                assigned[doc["_id"]] = doc
                break
            if not _other_source_event(twin, doc):
                if doc["_id"] in assigned:
                    report.duplicates += 1
                elif _known_shot(twin, doc, batch):
                    touched += (twin, doc)
                break
        else:
            report.duplicates += 1
    inserted, duplicates = lake.insert_shots(fresh)
    report.inserted += inserted
    report.duplicates += duplicates
    # The shooters' daily counts follow the shots they are computed from (recounted, not added to).
    history.history_refresh(shots=[*fresh, *touched])
    lake.insert_quarantine(batch.refused)
    if inserted or report.corrected:  # new or corrected shots: their seasons' figures are due
        figures_after_new_shots(seasons={doc.get("season") for doc in batch.shot_docs})
    return report


MAX_REPEAT_PROBES = 10


def _other_source_event(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return bool(old.get("event_from_source") and new.get("event_from_source")) and old.get("event_id") != new.get(
        "event_id"
    )


def _known_shot(old: dict[str, Any], doc: dict[str, Any], batch: PreparedBatch) -> bool:
    """A record whose key is stored: a duplicate, this run's own earlier write, or a correction
    (True: the stored shot was replaced)."""
    report = batch.report
    changed = lake.content_changes(old, doc)
    if changed:
        lake.apply_correction(old, doc, changed, run_id=batch.run_id)
        report.corrected += 1
        return True
    if batch.ingested_at is not None and _same_instant(old.get("ingested_at"), batch.ingested_at):
        report.inserted += 1  # written by this run before its worker died: this run's insert
    else:
        report.duplicates += 1
    lake.fill_missing(old, doc)
    return False


def map_raw_document(raw: dict[str, Any], *, ingested_at: dt.datetime, repeat: int = 1) -> Shot:
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
    convention = Convention.from_dict(raw["convention"]) if isinstance(raw.get("convention"), dict) else None
    shot = map_record(record, file_format, source=raw["source"], ingested_at=ingested_at, convention=convention)
    return with_repeat(shot, int(raw.get("repeat") or repeat), file_format)


# --- files ------------------------------------------------------------------------------------


def shots_import_file(
    *,
    location: str,
    source: str | None = None,
    kind: str = IngestionRun.Kind.FILE,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    task_id: str = "",
    resume: IngestionRun | None = None,
) -> tuple[IngestionRun, IngestReport]:
    """Stream a CSV or zip (path or URL) of either format into the lake and the warehouse.

    The file is checked whole first (``readers.check_file``: zip CRCs, UTF-8, CSV, header,
    coordinate convention); a file that fails is refused with nothing written. Then reading
    and mapping a batch overlaps with writing the previous one (a writer thread). The run
    renews its lease and saves a checkpoint as batches land; ``resume`` (a run whose worker
    died) carries on after its checkpoint. Safe to re-run: nothing is duplicated or lost.
    """
    batch_size = batch_size or settings.INGEST_BATCH_SIZE
    source = source or (resume.convention.get("source") if resume is not None else None) or default_source(location)
    with ingestion_run(kind=kind, source=location, task_id=task_id, run=resume) as (run, report):
        ingested_at = _run_ingested_at(run)
        with open_shot_file(location) as shot_file:
            report.convention = {**shot_file.check.summary(), "source": source}
            IngestionRun.objects.filter(pk=run.pk).update(convention=report.convention)
            run.convention = report.convention
            records = map_file(shot_file, source=source, ingested_at=ingested_at, after_line=report.last_line)
            batches = (
                _prepare_file_chunk(chunk, source=source, run_id=run.pk, ingested_at=ingested_at,
                                    convention=shot_file.check.convention)
                for chunk in _chunks(records, batch_size)
            )  # fmt: skip
            last_beat = 0.0
            for written in write_behind(batches, _write_file_batch):
                report.add(written)
                if time.monotonic() - last_beat >= settings.INGEST_HEARTBEAT_S:
                    run_heartbeat(run, report)
                    last_beat = time.monotonic()
                if progress is not None:
                    progress(report)
    return run, report


def _run_ingested_at(run: IngestionRun) -> dt.datetime:
    """One ingestion time per run (kept across its attempts), in BSON's millisecond precision."""
    started = run.started_at.astimezone(dt.UTC).replace(tzinfo=None)
    return started.replace(microsecond=started.microsecond // 1000 * 1000)


def _chunks(items: Iterator[MappedRecord], size: int) -> Iterator[list[MappedRecord]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _prepare_file_chunk(
    chunk: list[MappedRecord], *, source: str, run_id: int, ingested_at: dt.datetime, convention: Convention
) -> PreparedBatch:
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
            repeat=item.repeat,
            convention=convention.as_dict(),
        )
        for item in chunk
    ]
    outcomes = [None if item.exact_repeat else item.outcome for item in chunk]
    batch = _prepare_batch(batch_id, raw_docs, outcomes, run_id=run_id, ingested_at=ingested_at)
    batch.report.last_line = chunk[-1].line
    return batch


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
            outcomes: list[Shot | ShotValidationError | None] = []
            tiebreaker = Tiebreaker()
            for raw in sorted(raw_docs, key=_feed_order):
                try:
                    shot = map_raw_document(raw, ingested_at=ingested_at)
                except ShotValidationError as error:
                    outcomes.append(error)
                    continue
                if raw.get("repeat") is None:  # a feed record: number repeats within its batch
                    repeat, exact = tiebreaker.number(shot, raw["record"])
                    shot = with_repeat(shot, repeat, raw.get("format") or SHOT_LOCATIONS)
                    outcomes.append(None if exact else shot)
                else:
                    outcomes.append(shot)
            raw_docs = sorted(raw_docs, key=_feed_order)
            report.add(_write_shots(_prepare_batch(batch["_id"], raw_docs, outcomes, run_id=run.pk)))
            lake.mark_batch(batch["_id"], lake.DONE)
            run_heartbeat(run, report)
    return run, report


def _feed_order(raw: dict[str, Any]) -> tuple[str, int, str]:
    """Game, then the source's event id: the order a repeat number follows."""
    found = raw.get("record")
    record: dict[str, Any] = found if isinstance(found, dict) else {}
    event = str(record.get("Game Event ID", ""))
    return str(record.get("Game ID", "")), int(event) if event.isdigit() else 0, str(raw["_id"])
