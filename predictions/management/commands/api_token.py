"""Create (or rotate) a user's API token, or revoke it: the same services the portal calls."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.services import token_create, token_revoke


class Command(BaseCommand):
    help = "Print a new API token for a user (the previous one stops working), or --revoke it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Revoke the user's token instead.")

    def handle(self, *args: Any, username: str, revoke: bool, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"there is no user {username!r}")
        if revoke:
            revoked = token_revoke(user=user)
            self.stdout.write("revoked" if revoked else f"{username} had no token")
            return
        self.stdout.write(token_create(user=user).key)
