from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ingestion.readers import is_url
from ingestion.services import IngestReport, shots_import_file


class Command(BaseCommand):
    help = "Import shots from a CSV or zip (path or URL) in either real format: lake, warehouse, quarantine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", nargs="+", help="File path(s) or http(s) URL(s)")
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per batch (INGEST_BATCH_SIZE)")
        parser.add_argument("--source", default=None, help="Source label stored with each shot")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        for location in options["location"]:
            self._import(location, options)

    def _import(self, location: str, options: dict[str, Any]) -> None:
        from pathlib import Path

        if not is_url(location) and not Path(location).exists():
            raise CommandError(f"no such file: {location}")
        bar = tqdm(
            desc=Path(location).name, unit=" rows", disable=options["no_progress"] or None, dynamic_ncols=True
        )

        def progress(report: IngestReport) -> None:
            bar.update(report.read - bar.n)
            bar.set_postfix(inserted=report.inserted, dup=report.duplicates, rejected=report.rejected)

        started = time.perf_counter()
        try:
            run, report = shots_import_file(
                location=location, source=options["source"], batch_size=options["batch_size"], progress=progress
            )
        except (OSError, ValueError) as error:
            message = str(error)
            raise CommandError(message if Path(location).name in message else f"{location}: {message}") from error
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        found = report.convention
        if found:
            convention = found["convention"]
            checked = "fitted on" if convention["verified"] else "usual for the format; too few rows to fit, of"
            self.stdout.write(
                f"{location}: {found['format']} format, {found['rows']} rows; coordinates in {convention['label']} "
                f"({checked} {convention['sample']} sampled rows, fit {convention['fit']:.0%})"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{location}: read {report.read}, inserted {report.inserted}, duplicates {report.duplicates}, "
                f"corrected {report.corrected}, rejected {report.rejected} in {elapsed:.1f} s (run #{run.pk})"
            )
        )
        for reason, count in report.rejected_by_reason.most_common():
            self.stdout.write(f"  rejected {count:>7}: {reason}")
