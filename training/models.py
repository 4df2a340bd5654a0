from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PipelineRun(models.Model):
    """One run of the ML pipeline: drift → train both challengers → evaluate → promote."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        SKIPPED = "skipped", "Skipped (no new data)"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=200, help_text="Who or what started it (beat, command, API user).")
    forced = models.BooleanField(default=False, help_text="Retrain even without new data.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    step = models.CharField(max_length=100, blank=True, help_text="What it is doing now.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    message = models.TextField(blank=True, help_text="Outcome, or why it was skipped.")
    error = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Rows, date ranges and fingerprint of each slice.")
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"pipeline run #{self.pk} ({self.status})"


class ModelVersion(models.Model):
    """A registered MLflow model version, mirrored for the admin, the API and the portal."""

    version = models.PositiveIntegerField(unique=True)
    algorithm = models.CharField(max_length=40)
    mlflow_run_id = models.CharField(max_length=64)
    pipeline_run = models.ForeignKey(PipelineRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    holdout_scores = models.JSONField(default=dict, help_text="Scores on the holdout of the run that trained it.")
    data = models.JSONField(default=dict, blank=True, help_text="Training and holdout slices (rows, dates, fingerprint).")
    trained_until = models.DateTimeField(null=True, blank=True, help_text="Last game date in its training data.")
    created_at = models.DateTimeField(default=timezone.now)
    is_champion = models.BooleanField(default=False, db_index=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.algorithm}{' (champion)' if self.is_champion else ''}"


class PromotionDecision(models.Model):
    """Every decision about the ``champion`` alias, with both scores on the same holdout."""

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", "Pipeline comparison"
        MANUAL = "manual", "Manual promotion"
        ROLLBACK = "rollback", "Rollback"

    class Against(models.TextChoices):
        CHAMPION = "champion", "The champion, re-scored on the same holdout"
        BASELINE = "baseline", "The zone x action lookup baseline (no champion yet)"
        NONE = "", "Nothing (manual decision or rollback)"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    pipeline_run = models.ForeignKey(PipelineRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    challenger_version = models.PositiveIntegerField()
    champion_version = models.PositiveIntegerField(null=True, blank=True, help_text="The champion before the decision.")
    metric = models.CharField(max_length=20, blank=True)
    min_gain = models.FloatField(default=0.0)
    challenger_score = models.FloatField(null=True, blank=True)
    champion_score = models.FloatField(null=True, blank=True, help_text="The score of what it was compared with.")
    compared_with = models.CharField(max_length=10, choices=Against.choices, blank=True, default="")
    gain = models.FloatField(null=True, blank=True, help_text="Challenger better by (positive: better).")
    gain_low = models.FloatField(null=True, blank=True, help_text="Lower end of the paired bootstrap interval.")
    gain_high = models.FloatField(null=True, blank=True, help_text="Upper end of the paired bootstrap interval.")
    confidence = models.FloatField(null=True, blank=True, help_text="Level of the interval (0.95: 95%).")
    games = models.PositiveIntegerField(null=True, blank=True, help_text="Holdout games resampled.")
    promoted = models.BooleanField(db_index=True)
    reason = models.TextField()
    triggered_by = models.CharField(max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        verdict = "promoted" if self.promoted else "kept the champion"
        return f"{self.get_kind_display()}: v{self.challenger_version} {verdict}"


class DriftReport(models.Model):
    """An Evidently comparison of the champion's training data with the data since."""

    pipeline_run = models.ForeignKey(PipelineRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="drift_reports")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reference = models.JSONField(default=dict, help_text="Rows and dates of the reference data.")
    current = models.JSONField(default=dict, help_text="Rows and dates of the current data.")
    share_drifted = models.FloatField(help_text="Share of the model's inputs that drifted.")
    dataset_drift = models.BooleanField()
    target_drift = models.BooleanField(null=True)
    columns = models.JSONField(default=dict, help_text="Per column: drifted, statistic, test.")
    mlflow_run_id = models.CharField(max_length=64, blank=True)
    html_artifact = models.CharField(max_length=200, blank=True)
    json_artifact = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"drift report #{self.pk}: {self.share_drifted:.0%} drifted"
