from __future__ import annotations

from django.db import models
from django.utils import timezone


class IngestionRun(models.Model):
    """One execution of an ingestion job (file import, feed pull, transform, BetsAPI poll)."""

    class Kind(models.TextChoices):
        FILE = "file", "File import"
        FEED = "feed", "Feed pull"
        TRANSFORM = "transform", "Lake → warehouse transform"
        BETSAPI = "betsapi", "BetsAPI poll"
        GENERATOR = "generator", "Synthetic generator"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    source = models.CharField(max_length=500, help_text="File path or URL, feed URL, or task name.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    read = models.PositiveIntegerField(default=0, help_text="Records received.")
    inserted = models.PositiveIntegerField(default=0, help_text="New shots in the warehouse.")
    duplicates = models.PositiveIntegerField(default=0, help_text="Shots the warehouse already had.")
    rejected = models.PositiveIntegerField(default=0, help_text="Records refused and quarantined.")
    corrected = models.PositiveIntegerField(default=0, help_text="Known shots whose content changed (audited).")
    rejected_by_reason = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # File imports: what was found before writing, and the lease that proves a worker holds the run.
    convention = models.JSONField(
        default=dict, blank=True, help_text="File format, rows and the coordinate convention detected."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of its worker.")
    owner = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker holding it.")
    attempts = models.PositiveSmallIntegerField(default=1)
    checkpoint = models.JSONField(
        default=dict, blank=True, help_text="Last line fully written and the counts at that point (resume)."
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "status", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class QuarantinedRecord(models.Model):
    """Admin handle for the lake's quarantine collection (the rows live in MongoDB).

    Unmanaged and table-less: the admin registers it to get a menu entry and
    permissions, and renders the MongoDB documents itself.
    """

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "quarantined record"

    def __str__(self) -> str:
        return "quarantined record"
