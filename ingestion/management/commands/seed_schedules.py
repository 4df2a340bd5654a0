from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from parivision.schedules import DEFAULT_SCHEDULES


class Command(BaseCommand):
    help = "Create the default Celery beat schedule in the database (keeps operators' edits unless --reset)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Overwrite edited entries with the defaults")

    def handle(self, *args: Any, **options: Any) -> None:
        for default in DEFAULT_SCHEDULES:
            fields: dict[str, Any] = {
                "task": default.task,
                "kwargs": json.dumps(default.kwargs),
                "queue": default.queue,
                "description": default.description,
                "interval": None,
                "crontab": None,
            }
            if default.every_seconds is not None:
                fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=default.every_seconds, period=IntervalSchedule.SECONDS
                )
            else:
                minute, hour = settings.ML_PIPELINE_CRON.split()
                cron = {k: v.format(ml_minute=minute, ml_hour=hour) for k, v in (default.crontab or {}).items()}
                fields["crontab"], _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **cron)
            existing = PeriodicTask.objects.filter(name=default.name).first()
            if existing is None:
                PeriodicTask.objects.create(name=default.name, **fields)
                self.stdout.write(f"created  {default.name}")
            elif options["reset"]:
                for key, value in fields.items():
                    setattr(existing, key, value)
                existing.save()
                self.stdout.write(f"reset    {default.name}")
            else:
                self.stdout.write(f"kept     {default.name} (already there)")
