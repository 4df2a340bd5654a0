from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from ingestion.generator import generate_rows, write_csv
from ingestion.models import IngestionRun
from ingestion.services import shots_import_file


class Command(BaseCommand):
    help = "Make realistic synthetic NBA games (NBA.com CSV format) and import them, for machines with no real data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--games", type=int, default=300, help="Games to generate (a season is 1,230)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--season-end-year", type=int, default=2024, help="2024 = the 2023-24 season")
        parser.add_argument("--output", default=None, help="CSV path (default: VAR_DIR/generated/...)")
        parser.add_argument("--no-import", action="store_true", help="Only write the file")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(
            options["output"]
            or Path(settings.VAR_DIR) / "generated" / f"shots-{options['season_end_year']}-{options['games']}g-seed{options['seed']}.csv"
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        rows = generate_rows(games=options["games"], seed=options["seed"], season_end_year=options["season_end_year"])
        written = write_csv(output, rows)
        self.stdout.write(f"wrote {written} shots of {options['games']} games to {output}")
        if options["no_import"]:
            return
        call = self.style.SUCCESS
        _run, report = shots_import_file(location=str(output), source="generator", kind=IngestionRun.Kind.GENERATOR)
        self.stdout.write(call(f"imported: inserted {report.inserted}, duplicates {report.duplicates}, rejected {report.rejected}"))
