from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from parivision.errors import ApplicationError
from training.models import PipelineRun
from training.services.pipeline import pipeline_enqueue, pipeline_execute
from training.services.promotion import champion_version


class Command(BaseCommand):
    help = "Run the ML pipeline (drift → train Random Forest and XGBoost → evaluate → promote) here, or enqueue it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Retrain even without new data since the champion")
        parser.add_argument("--enqueue", action="store_true", help="Send it to the Celery 'ml' queue instead")
        parser.add_argument(
            "--only-if-no-champion", action="store_true", help="Do nothing when a champion exists (first start-up)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["only_if_no_champion"] and (version := champion_version()) is not None:
            self.stdout.write(f"champion: v{version} (no training needed)")
            return
        if options["enqueue"]:
            run = pipeline_enqueue(trigger="manage.py train", force=options["force"])
            self.stdout.write(f"queued pipeline run #{run.pk}")
            return
        run = PipelineRun.objects.create(trigger="manage.py train", forced=options["force"])
        with tqdm(total=100, desc="ML pipeline", unit="%", bar_format="{l_bar}{bar}| {postfix}") as bar:

            def progress(step: str, percent: int) -> None:
                bar.update(percent - bar.n)
                bar.set_postfix_str(step)

            try:
                run = pipeline_execute(pipeline_run_id=run.pk, progress=progress)
            except ApplicationError as error:
                raise CommandError(error.message) from error
        style = self.style.SUCCESS if run.status == PipelineRun.Status.SUCCEEDED else self.style.WARNING
        self.stdout.write(style(f"pipeline run #{run.pk} {run.status}: {run.message or run.error}"))
