#!/usr/bin/env python
"""Django's command-line utility for PariVision."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parivision.settings.local")
    from pathlib import Path

    from django.conf import settings
    from django.core.management import execute_from_command_line

    # The local stores live under VAR_DIR; make it on first use, not at import.
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
