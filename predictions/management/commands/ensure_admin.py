from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Make sure an admin login exists and print it (the password is kept in VAR_DIR/admin-password.txt)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=os.environ.get("ADMIN_USERNAME", "admin"))

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        username = options["username"]
        secret_file = Path(settings.VAR_DIR) / "admin-password.txt"
        if not user_model.objects.filter(username=username).exists():
            password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=username, email="", password=password)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
            self.stdout.write(self.style.SUCCESS(f"created the admin login {username!r}"))
        if secret_file.exists():
            self.stdout.write(f"admin login: {username} / {secret_file.read_text().strip()}  (from {secret_file})")
        else:
            self.stdout.write(f"admin login: {username} (password set outside this command)")
