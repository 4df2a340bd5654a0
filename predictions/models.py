"""Shadow deployments: a challenger that scores every live request beside the champion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ShadowDeployment(models.Model):
    """One period in which a model version served in shadow (at most one is active).

    Serving processes learn which version to load from the registry's ``shadow`` alias; this
    row is the record: who started and stopped it and why, and the last champion-vs-shadow
    comparison on settled shots (computed by ``predictions.shadow_review``).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STOPPED = "stopped", "Stopped"
        PROMOTED = "promoted", "Promoted to champion"

    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.CharField(max_length=200)
    start_reason = models.TextField(blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.CharField(max_length=200, blank=True)
    stop_reason = models.TextField(blank=True)
    pipeline_run = models.ForeignKey("training.PipelineRun", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="shadows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    champion_version = models.PositiveIntegerField(null=True, blank=True,
                                                   help_text="The champion the last comparison was against.")
    comparison = models.JSONField(default=dict, blank=True,
                                  help_text="Champion vs shadow on the same settled shots, with intervals.")
    verdict = models.TextField(blank=True, help_text="What the promotion gate made of the last comparison.")
    significant_gain = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["status"], condition=models.Q(status="active"),
                                               name="one_active_shadow")]

    def __str__(self) -> str:
        return f"shadow v{self.version} ({self.status})"
