"""Score the shots web processes handed to the shadow (SHADOW_SCORER=worker), once or in a loop."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.shadow import shadow_consume


class Command(BaseCommand):
    help = "Score queued shadow requests: until the queue is empty, or --loop until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep scoring as requests arrive (Ctrl-C stops).")
        parser.add_argument("--seconds", type=float, default=60.0, help="Without --loop: stop after this long.")

    def handle(self, *args: Any, loop: bool, seconds: float, **options: Any) -> None:
        if seconds <= 0:
            raise CommandError(f"--seconds must be more than 0, got {seconds}")
        total = 0
        try:
            while True:
                scored = shadow_consume(seconds=seconds if not loop else 5.0, idle_stop=not loop)
                total += scored
                if not loop:
                    break
        except KeyboardInterrupt:
            pass
        self.stdout.write(f"scored {total} shot(s) in shadow")
