"""Stream shot records out of CSV or zip files (local paths or URLs), mapped and validated.

Memory stays flat: rows are read one at a time and nothing but a per-game counter
(for the NBA.com format's derived event ids) is kept.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from ingestion.mappers import NBA_COM, detect_format, map_nba_com, map_shot_locations
from ingestion.shots import Shot, ShotValidationError, normalise_game_id

CSV_FIELD_LIMIT = 1 << 20


@dataclass(slots=True)
class MappedRecord:
    """One input row: the raw record as read, and either its shot or why it was refused."""

    line: int
    raw: dict[str, str]
    shot: Shot | None
    error: ShotValidationError | None
    file_format: str
    # The NBA.com format's derived event id (order within the game); None for the other.
    event_seq: int | None = None

    @property
    def outcome(self) -> Shot | ShotValidationError:
        if self.shot is not None:
            return self.shot
        if self.error is None:  # pragma: no cover - map_rows always sets one of the two
            raise RuntimeError(f"line {self.line}: neither a shot nor an error")
        return self.error


def is_url(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


@contextlib.contextmanager
def open_location(location: str | os.PathLike[str]) -> Iterator[Path]:
    """A local path for ``location``; URLs are streamed to a temporary file first."""
    text = str(location)
    if not is_url(text):
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        yield path
        return
    import requests

    suffix = Path(urlparse(text).path).suffix or ".csv"
    with tempfile.TemporaryDirectory(prefix="parivision-download-") as tmp:
        target = Path(tmp) / f"download{suffix}"
        with requests.get(text, stream=True, timeout=(10, 120)) as response:
            response.raise_for_status()
            with target.open("wb") as out:
                shutil.copyfileobj(response.raw, out, length=1 << 20)
        yield target


@contextlib.contextmanager
def open_text(path: Path) -> Iterator[IO[str]]:
    """The CSV text inside ``path``: a plain CSV or the first CSV of a zip (``__MACOSX`` ignored)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.lower().endswith(".csv") and not n.startswith("__MACOSX/") and "/._" not in n
            ]
            if not names:
                raise ValueError(f"{path.name}: the zip holds no CSV file")
            with archive.open(names[0]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield handle


def default_source(location: str | os.PathLike[str]) -> str:
    return f"file:{Path(urlparse(str(location)).path).name or location}"


def iter_mapped(
    location: str | os.PathLike[str], *, source: str | None = None, ingested_at: dt.datetime | None = None
) -> Iterator[MappedRecord]:
    """Every data row of a shot file, mapped to a canonical shot or refused with a reason."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with open_location(location) as path, open_text(path) as text:
        reader = csv.reader(text)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        file_format = detect_format(header)
        source = source or default_source(location)
        ingested_at = ingested_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        yield from map_rows(reader, header, file_format, source=source, ingested_at=ingested_at)


def map_rows(
    rows: Iterator[list[str]],
    header: list[str],
    file_format: str,
    *,
    source: str,
    ingested_at: dt.datetime,
    first_line: int = 2,
) -> Iterator[MappedRecord]:
    width = len(header)
    per_game: dict[str, int] = {}
    for line, values in enumerate(rows, start=first_line):
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        raw = dict(zip(header, values, strict=False))
        event_seq = _next_event_id(per_game, raw) if file_format == NBA_COM else None
        if len(values) != width:
            error = ShotValidationError("row", f"{len(values)} columns", f"does not match the header's {width}")
            yield MappedRecord(line, raw, None, error, file_format, event_seq)
            continue
        try:
            if event_seq is not None:
                shot = map_nba_com(raw, event_id=event_seq, source=source, ingested_at=ingested_at)
            else:
                shot = map_shot_locations(raw, source=source, ingested_at=ingested_at)
        except ShotValidationError as error:
            yield MappedRecord(line, raw, None, error, file_format, event_seq)
        else:
            yield MappedRecord(line, raw, shot, None, file_format, event_seq)


def _next_event_id(per_game: dict[str, int], raw: dict[str, Any]) -> int:
    """1-based order of the shot within its game, counted in file order.

    Counted before validation, so a refused row keeps its slot and the ids of the
    rows after it do not depend on whether it was valid.
    """
    try:
        game = normalise_game_id(raw.get("GAME_ID"))
    except ShotValidationError:
        game = str(raw.get("GAME_ID"))
    per_game[game] = per_game.get(game, 0) + 1
    return per_game[game]
