"""(Re)generate model cards: every mirrored version, or the ones named. Safe to interrupt and re-run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.models import ModelVersion
from training.services.cards import card_generate_safely, card_key


class Command(BaseCommand):
    help = ("Generate the model card of each version (stored for the portal and logged to its MLflow run as "
            "model_card.md and model_card.html). A stored holdout evaluation is reused unless --recompute.")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version is this command's argument (as in `promote`), not Django's "print the Django version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", type=int, action="append", dest="versions",
                            help="Only this version (repeatable). Default: every version.")
        parser.add_argument("--recompute", action="store_true",
                            help="Re-predict each version's holdout games from the warehouse (slower).")
        parser.add_argument("--missing", action="store_true", help="Only versions that have no card yet.")

    def handle(self, *args: Any, **options: Any) -> None:
        from parivision import figures

        known = set(ModelVersion.objects.values_list("version", flat=True))
        versions = sorted(options["versions"] or known)
        unknown = [v for v in versions if v not in known]
        if unknown:
            raise CommandError(f"unknown model version(s): {', '.join(map(str, unknown))} "
                               "(versions are mirrored when a pipeline run registers them)")
        if options["missing"]:
            versions = [v for v in versions if not (figures.figure_get(key=card_key(v)) or {}).get("card")]
        failed = 0
        for index, version in enumerate(versions, start=1):
            document = card_generate_safely(version=version, recompute=options["recompute"])
            if document is None:
                failed += 1
                error = (figures.figure_get(key=card_key(version)) or {}).get("error", "")
                self.stderr.write(f"[{index}/{len(versions)}] v{version}: card not generated: {error}")
            else:
                holdout = document["card"].get("holdout") or {}
                self.stdout.write(f"[{index}/{len(versions)}] v{version}: card generated"
                                  + (f" ({holdout.get('rows')} holdout shots, {holdout.get('games')} games)"
                                     if holdout else " (no holdout evaluation)"))
        if failed:
            raise CommandError(f"{failed} of {len(versions)} card(s) could not be generated")
        self.stdout.write(f"{len(versions)} card(s) generated")
