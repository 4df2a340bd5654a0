"""The Celery application: Redis broker, JSON only, settings from Django (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parivision.settings.local")

app = Celery("parivision")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
