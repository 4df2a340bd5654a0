"""Stream shot records out of CSV or zip files (local paths or URLs), checked, mapped and validated.

A file is read twice. ``check_file`` reads it whole before anything is written: the zip's
CRCs, UTF-8, CSV syntax, the header, and a sample on which the coordinate convention is
fitted; a file that fails is refused with a message naming it and the problem. ``map_file``
then streams its rows through the mappers. Memory stays flat: rows are read one at a time,
and only the recent games' repeat fingerprints are kept.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import socket
import tempfile
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from ingestion import conventions
from ingestion.conventions import SAMPLE_ROWS, Convention, Detection, SampleRow
from ingestion.mappers import (
    LOCATION_COLUMNS,
    NBA_COM,
    USUAL_CONVENTION,
    UnknownFormatError,
    detect_format,
    map_record,
)
from ingestion.shots import Shot, ShotValidationError, clock_order, has_control_character

CSV_FIELD_LIMIT = 1 << 20


@dataclass(slots=True)
class MappedRecord:
    """One input row: the raw record as read, and either its shot or why it was refused."""

    line: int
    raw: dict[str, str]
    shot: Shot | None
    error: ShotValidationError | None
    file_format: str
    # Which same-second repeat of one player at one spot this is (part of the shot's key).
    repeat: int = 1
    # True: an exact copy of a row already read from this file (the same shot, not another one).
    exact_repeat: bool = False

    @property
    def outcome(self) -> Shot | ShotValidationError:
        if self.shot is not None:
            return self.shot
        if self.error is None:  # pragma: no cover - map_rows always sets one of the two
            raise RuntimeError(f"line {self.line}: neither a shot nor an error")
        return self.error


class FileRefused(ValueError):
    """A whole file refused before anything of it was written; the message names the file and the problem."""


def is_url(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def location_problem(location: str) -> str | None:
    """Why a worker could not open ``location`` whatever its files hold (None: it may try).

    Checked where a location is queued from afar (the API): an http(s) URL with a host, or an
    absolute path as the worker sees it. Whether the file exists is the worker's to say.
    """
    if not location.strip() or has_control_character(location):
        return "is empty or holds a control character"
    if os.path.isabs(location):
        return None
    parsed = urlparse(location)
    if parsed.scheme in ("http", "https"):
        return None if parsed.netloc else "is a URL without a host"
    if parsed.scheme:
        return f"is not a path or an http(s) URL (scheme {parsed.scheme!r})"
    return "is a relative path: give an absolute path as the worker sees it, or an http(s) URL"


def display_name(location: str | os.PathLike[str]) -> str:
    text = str(location)
    return text if is_url(text) else Path(text).name


@contextlib.contextmanager
def open_location(location: str | os.PathLike[str], *, deadline_s: float | None = None) -> Iterator[Path]:
    """A local path for ``location``; URLs are downloaded to a temporary file first.

    A download has an overall deadline (``deadline_s``, default ``INGEST_URL_DEADLINE_S``):
    a server that drips bytes is cut off, not only one that stops answering.
    """
    text = str(location)
    if not is_url(text):
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        if not path.is_file():
            raise FileRefused(f"{path.name}: is not a file")
        yield path
        return

    if deadline_s is None:
        from django.conf import settings

        deadline_s = float(settings.INGEST_URL_DEADLINE_S)
    suffix = Path(urlparse(text).path).suffix or ".csv"
    with tempfile.TemporaryDirectory(prefix="parivision-download-") as tmp:
        target = Path(tmp) / f"download{suffix}"
        _download(text, target, deadline_s)
        yield target


def _download(url: str, target: Path, deadline_s: float) -> None:
    """Stream ``url`` into ``target``; a watchdog cuts the connection at the overall deadline
    (a read timeout alone never fires on a server that sends a byte every few seconds)."""
    import requests

    expired = threading.Event()
    received = 0
    with requests.get(url, stream=True, timeout=(10, max(1.0, min(120.0, deadline_s)))) as response:

        def cut() -> None:
            expired.set()
            sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
            if sock is None:  # urllib3 keeps the socket under http.client's buffered reader
                buffered = getattr(getattr(response.raw, "_fp", None), "fp", None)
                sock = getattr(getattr(buffered, "raw", None), "_sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(deadline_s, cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            response.raise_for_status()
            with target.open("wb") as out:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    if expired.is_set():
                        break
                    out.write(chunk)
                    received += len(chunk)
        except (requests.RequestException, OSError):
            if not expired.is_set():
                raise
        finally:
            watchdog.cancel()
    if expired.is_set():
        raise FileRefused(
            f"{url}: the download did not finish within {deadline_s:g} s ({received} bytes received); "
            "nothing was written"
        )


def _csv_member(archive: zipfile.ZipFile, name: str) -> str:
    names = [
        n
        for n in archive.namelist()
        if n.lower().endswith(".csv") and not n.startswith("__MACOSX/") and "/._" not in n
    ]
    if not names:
        raise FileRefused(f"{name}: the zip holds no CSV file")
    if len(names) > 1:
        # Importing only one would drop the rest without a word; guessing an order would be worse.
        raise FileRefused(f"{name}: the zip holds {len(names)} CSV files ({', '.join(names[:5])}"
                          f"{', ...' if len(names) > 5 else ''}): import one file at a time")
    return names[0]


@contextlib.contextmanager
def open_text(path: Path, *, name: str | None = None) -> Iterator[IO[str]]:
    """The CSV text inside ``path``: a plain CSV or the one CSV of a zip (``__MACOSX`` ignored)."""
    name = name or path.name
    if zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise FileRefused(f"{name}: is not a readable zip ({error})") from None
        with archive, archive.open(_csv_member(archive, name)) as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return
    with path.open("rb") as probe:
        if probe.read(4) == b"PK\x03\x04":
            raise FileRefused(f"{name}: is a damaged zip (truncated, or its directory is missing)")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield handle


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What the pre-flight pass found: the file is whole, UTF-8 text, a CSV of a known format."""

    name: str
    file_format: str
    header: list[str]
    rows: int
    detection: Detection

    @property
    def convention(self) -> Convention:
        return self.detection.convention

    def summary(self) -> dict[str, Any]:
        return {"file": self.name, "format": self.file_format, "rows": self.rows,
                "convention": self.detection.as_dict()}  # fmt: skip


def check_file(path: Path, *, name: str | None = None) -> FileCheck:
    """Read the whole file once before anything is written: zip integrity (every CRC), UTF-8,
    CSV syntax, a known header, and the coordinate convention fitted on a sample.

    Raises ``FileRefused`` (or ``ConventionError``) naming the file and what is wrong.
    """
    name = name or path.name
    csv.field_size_limit(CSV_FIELD_LIMIT)
    sample: list[SampleRow] = []
    rows = 0
    try:
        with open_text(path, name=name) as text:
            reader = csv.reader(text)
            try:
                header = [h.strip().lstrip("\ufeff") for h in next(reader)]
            except StopIteration:
                raise FileRefused(f"{name}: is empty (no header row)") from None
            repeated = sorted({h for h in header if h and header.count(h) > 1})
            if repeated:
                raise FileRefused(f"{name}: the header names {', '.join(repeated)} more than once: "
                                  "which column holds the value is ambiguous")
            try:
                file_format = detect_format(header)
            except UnknownFormatError as error:
                raise FileRefused(f"{name}: not a shot file: {error}") from None
            columns = [header.index(c) if c in header else -1 for c in LOCATION_COLUMNS[file_format]]
            for values in reader:
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                rows += 1
                if len(sample) < SAMPLE_ROWS and len(values) == len(header):
                    row = _sample_row(values, columns)
                    if row is not None:
                        sample.append(row)
    except UnicodeDecodeError as error:
        raise FileRefused(
            f"{name}: is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start} of a "
            f"chunk): not a CSV, or a binary file"
        ) from None
    except zipfile.BadZipFile as error:
        raise FileRefused(f"{name}: the zip is corrupt ({error})") from None
    except (EOFError, zlib.error) as error:
        raise FileRefused(f"{name}: the zip is truncated or corrupt ({error})") from None
    except csv.Error as error:
        raise FileRefused(f"{name}: is not a well-formed CSV (line {reader.line_num}: {error})") from None
    detection = conventions.detect(sample, usual=USUAL_CONVENTION[file_format], what=name)
    return FileCheck(name=name, file_format=file_format, header=header, rows=rows, detection=detection)


def _sample_row(values: list[str], columns: list[int]) -> SampleRow | None:
    x_col, y_col, distance_col, area_col = columns
    try:
        raw_x, raw_y, distance = float(values[x_col]), float(values[y_col]), float(values[distance_col])
    except (ValueError, IndexError):
        return None
    if not (math.isfinite(raw_x) and math.isfinite(raw_y) and math.isfinite(distance)):
        return None
    return SampleRow(raw_x, raw_y, distance, values[area_col] if area_col >= 0 else "")


def default_source(location: str | os.PathLike[str]) -> str:
    return f"file:{Path(urlparse(str(location)).path).name or location}"


@dataclass
class ShotFile:
    location: str
    path: Path
    check: FileCheck


@contextlib.contextmanager
def open_shot_file(location: str | os.PathLike[str]) -> Iterator[ShotFile]:
    """A file checked whole (``check_file``) and ready to map; nothing is written."""
    with open_location(location) as path:
        yield ShotFile(str(location), path, check_file(path, name=display_name(location)))


def map_file(
    shot_file: ShotFile, *, source: str, ingested_at: dt.datetime, after_line: int = 0
) -> Iterator[MappedRecord]:
    """Every data row of a checked file, mapped with its convention (rows up to ``after_line``
    are read for the repeat numbering but not yielded: a resumed import)."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    check = shot_file.check
    with open_text(shot_file.path, name=check.name) as text:
        reader = csv.reader(text)
        next(reader)
        for record in map_rows(reader, check.header, check.file_format, source=source, ingested_at=ingested_at,
                               convention=check.convention):  # fmt: skip
            if record.line > after_line:
                yield record


def iter_mapped(
    location: str | os.PathLike[str], *, source: str | None = None, ingested_at: dt.datetime | None = None
) -> Iterator[MappedRecord]:
    """Every data row of a shot file, mapped to a canonical shot or refused with a reason."""
    with open_shot_file(location) as shot_file:
        yield from map_file(
            shot_file,
            source=source or default_source(location),
            ingested_at=ingested_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )


class Tiebreaker:
    """Numbers same-second repeats: the n-th *different* record with one base key is repeat n;
    an exact copy of a record already seen is the same shot again.

    Sources list a game's shots in game order, so only the last ``games_kept`` games are
    remembered (memory stays flat on a whole season).
    """

    def __init__(self, games_kept: int = 64) -> None:
        self.games_kept = games_kept
        self._games: OrderedDict[str, dict[str, list[bytes]]] = OrderedDict()

    def number(self, shot: Shot, record: Mapping[str, Any]) -> tuple[int, bool]:
        """(repeat, exact_repeat) of a record mapped with repeat 1."""
        seen = self._games.get(shot.game_id)
        if seen is None:
            seen = self._games[shot.game_id] = {}
            if len(self._games) > self.games_kept:
                self._games.popitem(last=False)
        else:
            self._games.move_to_end(shot.game_id)
        payload = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str).encode()
        fingerprint = hashlib.blake2b(payload, digest_size=12).digest()
        prints = seen.setdefault(shot.key, [])
        if fingerprint in prints:
            return prints.index(fingerprint) + 1, True
        prints.append(fingerprint)
        return len(prints), False


def with_repeat(shot: Shot, repeat: int, file_format: str) -> Shot:
    if repeat == 1:
        return shot
    event_id = clock_order(shot.period, shot.seconds_left, repeat) if file_format == NBA_COM else shot.event_id
    return replace(shot, repeat=repeat, event_id=event_id)


def map_rows(
    rows: Iterator[list[str]],
    header: list[str],
    file_format: str,
    *,
    source: str,
    ingested_at: dt.datetime,
    first_line: int = 2,
    convention: Convention | None = None,
) -> Iterator[MappedRecord]:
    width = len(header)
    tiebreaker = Tiebreaker()
    for line, values in enumerate(rows, start=first_line):
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        raw = dict(zip(header, values, strict=False))
        if len(values) != width:
            error = ShotValidationError("row", f"{len(values)} columns", f"does not match the header's {width}")
            yield MappedRecord(line, raw, None, error, file_format)
            continue
        try:
            shot = map_record(raw, file_format, source=source, ingested_at=ingested_at, convention=convention)
        except ShotValidationError as error:
            yield MappedRecord(line, raw, None, error, file_format)
            continue
        repeat, exact = tiebreaker.number(shot, raw)
        yield MappedRecord(line, raw, with_repeat(shot, repeat, file_format), None, file_format, repeat, exact)
