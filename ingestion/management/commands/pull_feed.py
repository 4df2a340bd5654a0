from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.feed import FeedClientError, FeedRequestError, feed_pull
from ingestion.services import lake_transform_pending


class Command(BaseCommand):
    help = "Pull batches from a VirtualBetsAPI-compatible feed into the lake, then transform them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=None, help="Feed base URL (FEED_URL)")
        parser.add_argument("-n", type=int, default=None, help="Records per request, 1..1000 (FEED_PULL_SIZE)")
        parser.add_argument("--batches", type=int, default=1, help="How many requests (stops early at the end)")
        parser.add_argument("--no-transform", action="store_true", help="Leave the batches in the lake")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for _ in range(max(1, options["batches"])):
            try:
                _run, report, batch_id = feed_pull(url=options["url"], n=options["n"])
            except (FeedClientError, FeedRequestError) as error:
                raise CommandError(str(error)) from error
            total += report.read
            if batch_id is None:
                self.stdout.write("the feed has nothing more to give")
                break
        self.stdout.write(f"pulled {total} records into the lake")
        if not options["no_transform"]:
            _run, report = lake_transform_pending()
            self.stdout.write(
                self.style.SUCCESS(
                    f"transformed: inserted {report.inserted}, duplicates {report.duplicates}, rejected {report.rejected}"
                )
            )
