from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from ingestion import selectors
from ingestion.feed import feed_load, feed_status
from ingestion.generator import generate_rows, write_csv
from ingestion.history import history_backfill, history_built
from ingestion.models import IngestionRun
from ingestion.services import IngestReport, shots_import_file


class Command(BaseCommand):
    help = (
        "Give an empty platform something to show: synthetic past games in the warehouse and the "
        "games after them in the replay feed. Does nothing where data is already there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--games", type=int, default=500, help="Past games for the warehouse")
        parser.add_argument("--feed-games", type=int, default=150, help="Following games the feed replays")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(settings.VAR_DIR) / "demo"
        folder.mkdir(parents=True, exist_ok=True)
        history, upcoming = folder / "history.csv", folder / "feed.csv"
        if not history.exists() or not upcoming.exists():
            self._generate(history, upcoming, games=options["games"], feed_games=options["feed_games"], seed=options["seed"])

        if selectors.store_counts()["warehouse_shots"] == 0:
            with tqdm(desc="importing demo history", unit=" shots") as bar:

                def progress(report: IngestReport) -> None:
                    bar.update(report.read - bar.n)

                _run, report = shots_import_file(
                    location=str(history), source="generator", kind=IngestionRun.Kind.GENERATOR, progress=progress
                )
            self.stdout.write(f"warehouse: {report.inserted} demo shots imported")
        else:
            self.stdout.write("warehouse: already has shots, nothing imported")

        if not history_built():  # the shooters' daily counts, for serving (no-op cost on the demo's size)
            done = history_backfill()
            self.stdout.write(f"shooter history: built for {done['players']} players")

        if not feed_status().get("total"):
            total = feed_load(dataset=str(upcoming))
            self.stdout.write(f"feed: replays {total} upcoming demo shots from {upcoming}")
        else:
            self.stdout.write("feed: already loaded")

    def _generate(self, history: Path, upcoming: Path, *, games: int, feed_games: int, seed: int) -> None:
        rows = list(generate_rows(games=games + feed_games, seed=seed))
        order: dict[str, int] = {}
        for row in rows:
            order.setdefault(row["GAME_ID"], len(order))
        write_csv(history, (r for r in rows if order[r["GAME_ID"]] < games))
        write_csv(upcoming, (r for r in rows if order[r["GAME_ID"]] >= games))
        self.stdout.write(f"generated {games} past and {feed_games} upcoming synthetic games in {history.parent}")
