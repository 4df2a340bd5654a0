from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.services import lake_transform_pending


class Command(BaseCommand):
    help = "Move every lake batch waiting for the transform into the warehouse (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        run, report = lake_transform_pending()
        self.stdout.write(
            self.style.SUCCESS(
                f"read {report.read}, inserted {report.inserted}, duplicates {report.duplicates}, "
                f"rejected {report.rejected} (run #{run.pk})"
            )
        )
