from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Compute now every figure the pages read (the champion's calibration and importance, shot charts, "
        "match views, shot-making over expected, ingestion figures, the live status), or queue it (--enqueue)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--season", action="append", default=None,
                            help="Only this season's warehouse figures (repeatable; default: every season)")
        parser.add_argument("--enqueue", action="store_true", help="Queue the Celery tasks instead of running here")

    def handle(self, *args: Any, **options: Any) -> None:
        from analytics.services import figures_refresh, figures_refresh_enqueue
        from analytics.status import live_status_refresh
        from ingestion.figures import ingestion_figures_refresh
        from predictions.selectors import champion_version_row
        from training.services.figures import model_figures_compute, model_figures_enqueue

        champion = champion_version_row()
        seasons = options["season"]
        if options["enqueue"]:
            if champion is not None:
                model_figures_enqueue(version=champion.version)
            figures_refresh_enqueue(seasons=seasons)
            self.stdout.write("queued: model figures, warehouse figures")
            return
        started = time.perf_counter()
        if champion is not None:
            value = model_figures_compute(version=champion.version)
            self.stdout.write(f"model v{champion.version}: calibration on {value['holdout_rows']} holdout shots")
        else:
            self.stdout.write("no champion yet: no model figures, and no expected values")
        result = figures_refresh(seasons=seasons)
        if result["deferred"]:
            raise CommandError("another figure refresh is running; try again when it has finished")
        self.stdout.write(f"warehouse figures: seasons {', '.join(result['seasons']) or 'none'} "
                          f"(priced by {'v' + str(result['version']) if result['version'] else 'no model'})")
        ingestion_figures_refresh()
        live_status_refresh()
        self.stdout.write(f"ingestion figures and live status stored; {time.perf_counter() - started:.1f} s")
