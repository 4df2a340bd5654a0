from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from training.services.drift import drift_report_for_champion


class Command(BaseCommand):
    help = "Evidently drift report: the champion's training data against every shot since (stored in MLflow)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = drift_report_for_champion()
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"drift report #{report.pk}: {report.share_drifted:.0%} of inputs drifted, "
            f"dataset drift {report.dataset_drift}, target drift {report.target_drift} "
            f"(reference {report.reference.get('rows')} shots, current {report.current.get('rows')})"
        )
        drifted = [name for name, column in report.columns.items() if column.get("drifted")]
        if drifted:
            self.stdout.write(f"drifted: {', '.join(drifted)}")
        self.stdout.write(f"HTML and JSON stored in MLflow run {report.mlflow_run_id}")
