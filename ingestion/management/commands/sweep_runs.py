from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.tasks import sweep_runs


class Command(BaseCommand):
    help = "Resume (or mark failed) ingestion runs whose worker is gone (what beat runs every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = sweep_runs()
        self.stdout.write(self.style.SUCCESS(f"resumed {outcome['resumed'] or 'none'}, failed {outcome['failed'] or 'none'}"))
