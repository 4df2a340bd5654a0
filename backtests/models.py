from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Backtest(models.Model):
    """One or two model versions betting on the same past shots against the same market."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Strategy(models.TextChoices):
        FLAT = "flat", "Flat stake when edge > threshold"
        KELLY = "kelly", "Fractional Kelly"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests")
    model_versions = models.JSONField(help_text="Registered model versions, compared on the same shots.")
    date_from = models.DateField()
    date_to = models.DateField()
    strategy = models.CharField(max_length=8, choices=Strategy.choices)
    params = models.JSONField(default=dict, help_text="threshold, stake, kelly_fraction, margin, bankroll.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=100, blank=True, help_text="What it is doing now.")
    results = models.JSONField(default=dict, blank=True, help_text="Per version: bets, ROI, drawdown, curve.")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        versions = " vs ".join(f"v{v}" for v in self.model_versions or [])
        return f"backtest #{self.pk} {versions} {self.date_from}..{self.date_to} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
