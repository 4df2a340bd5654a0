"""PariVision: calibrated make-probabilities for NBA shots."""

from parivision.celery import app as celery_app

__all__ = ("celery_app",)
