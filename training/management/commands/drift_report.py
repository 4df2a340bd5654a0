from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.services.drift import drift_report_for_champion, drift_story_refresh, drift_story_stored


class Command(BaseCommand):
    help = ("Evidently drift report: the champion's training data against every shot since (stored in MLflow); "
            "--story: the model page's drift story instead (inputs drifted, calibration per shot family), stored.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--story", action="store_true",
                            help="Compute the drift story the model page and the API show, now (what the "
                                 "training.refresh_drift_story task does, even when nothing changed).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["story"]:
            self._story()
            return
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

    def _story(self) -> None:
        drift_story_refresh(force=True)
        story = drift_story_stored() or {}
        if story.get("state") != "ready":
            self.stdout.write(f"drift story stored ({story.get('state')}): {story.get('message')}")
            return
        reference, current = story["reference"], story["current"]
        self.stdout.write(f"drift story of v{story['champion']['version']} stored: its window {reference['first_date']}"
                          f"..{reference['last_date']} ({reference['rows']} shots) against {current['first_date']}"
                          f"..{current['last_date']} ({current['rows']} settled shots)")
        drifted = story["drift"]["drifted_columns"]
        self.stdout.write(f"drifted inputs: {', '.join(drifted) if drifted else 'none'}")
        for entry in story["calibration"]["families"]:
            figures = entry[entry["preferred"]] or {}
            self.stdout.write(f"  {entry['family']:<22} {entry['preferred']:<6} n {figures.get('n', 0):>7}  "
                              f"predicted {figures.get('predicted')}  observed {figures.get('observed')}  "
                              f"gap {figures.get('gap')}  ECE {figures.get('ece')}")
