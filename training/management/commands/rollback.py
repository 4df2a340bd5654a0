from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parivision.errors import ApplicationError
from training.services.promotion import champion_rollback


class Command(BaseCommand):
    help = "Move the registry alias 'champion' back to the version the current champion replaced."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            decision = champion_rollback(triggered_by=f"manage.py rollback ({getpass.getuser()})")
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(self.style.SUCCESS(decision.reason))
