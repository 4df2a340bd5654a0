from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.keys import KeyMigrationReport, shot_keys_migrate


class Command(BaseCommand):
    help = (
        "Re-key warehouse shots from game_id:event_id to their shot_key identity (idempotent, safe to interrupt "
        "and re-run); repoints the prediction log and the live stream."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(report: KeyMigrationReport) -> None:
            if report.games % 500 == 0:
                self.stdout.write(f"  {report.games} games, {report.examined} shots examined")

        report = shot_keys_migrate(progress=progress)
        self.stdout.write(self.style.SUCCESS(
            "games {games}, shots {examined}: re-keyed {rekeyed}, exact copies merged {merged}, already keyed "
            "{unchanged}; predictions repointed {predictions_repointed}, live shots repointed "
            "{live_shots_repointed}".format(**report.as_dict())
        ))  # fmt: skip
