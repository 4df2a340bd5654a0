from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ingestion.history import history_backfill, history_built


class Command(BaseCommand):
    help = (
        "Build the shooter-history store (each player's counts per game day) and the game-context store (each "
        "game's shots) from the warehouse shots, in one pass: once for a warehouse that held shots before the "
        "stores existed; safe to interrupt and re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the store is already built")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_missing"] and history_built():
            self.stdout.write("shooter history and game context: already built")
            return
        started = time.perf_counter()
        done = history_backfill(progress=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS(
            f"shooter history: {done['players']:,} players, {done['player_days']:,} player-days; game context: "
            f"{done['games']:,} games; from {done['shots']:,} shots in {time.perf_counter() - started:.1f} s"
        ))  # fmt: skip
