from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ingestion.feed import feed_load


class Command(BaseCommand):
    help = "Load the replay feed's dataset (a shot file or 'warehouse') and put its cursor at 0."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", nargs="?", default=None, help="Shot file path/URL or 'warehouse' (FEED_DATASET)")
        parser.add_argument("--limit", type=int, default=None, help="Records to serve (FEED_LIMIT)")

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = options["dataset"] or settings.FEED_DATASET
        with tqdm(desc="feed", unit=" records", total=options["limit"] or settings.FEED_LIMIT) as bar:
            try:
                total = feed_load(dataset=dataset, limit=options["limit"], progress=lambda n: bar.update(n - bar.n))
            except (OSError, ValueError) as error:
                raise CommandError(f"{dataset}: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"the feed now replays {total} records from {dataset}"))
