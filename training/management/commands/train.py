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
        self._scores_table(run)
        style = self.style.SUCCESS if run.status == PipelineRun.Status.SUCCEEDED else self.style.WARNING
        self.stdout.write(style(f"pipeline run #{run.pk} {run.status}: {run.message or run.error}"))
        decision = run.decisions.order_by("-created_at").first()
        if decision is not None and decision.gain_low is not None:
            self.stdout.write(
                f"decision on {decision.metric}: {decision.challenger_score:.5f} vs {decision.compared_with} "
                f"{decision.champion_score:.5f}, gain {decision.gain:+.5f}, {decision.confidence:.0%} interval "
                f"[{decision.gain_low:+.5f}, {decision.gain_high:+.5f}] over {decision.games} games: "
                f"{'PROMOTED' if decision.promoted else 'kept'}"
            )

    def _scores_table(self, run: PipelineRun) -> None:
        """Every model's scores on the run's holdout (and the challengers' on the validation slice)."""
        for title, key in (("holdout (judges the best)", "holdout_scores"),
                           ("validation (chooses the best)", "validation_scores")):
            table = (run.data or {}).get(key)
            if not table:
                continue
            self.stdout.write(f"{title}:")
            self.stdout.write(f"  {'model':<34}{'accuracy':>9}{'roc_auc':>9}{'log_loss':>9}{'brier':>9}{'ece':>8}")
            for name, scores in table.items():
                self.stdout.write(
                    f"  {name:<34}{scores['accuracy']:9.4f}{scores['roc_auc']:9.4f}"
                    f"{scores['log_loss']:9.4f}{scores['brier']:9.4f}{scores['ece']:8.4f}"
                )
