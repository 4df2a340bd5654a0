from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parivision.errors import ApplicationError
from training.services.promotion import champion_promote


class Command(BaseCommand):
    help = "Point the registry alias 'champion' at a model version (recorded as a manual decision)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version is this command's argument, not Django's "print the Django version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", type=int, required=True, help="Registered model version")
        parser.add_argument("--reason", default="", help="Why (kept in the decision)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            decision = champion_promote(
                version=options["version"], triggered_by=f"manage.py promote ({getpass.getuser()})", reason=options["reason"]
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(self.style.SUCCESS(f"champion is now v{decision.challenger_version} ({decision.reason})"))
