from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from parivision.errors import ApplicationError
from training.models import DriftReport, ModelVersion, PipelineRun, PromotionDecision
from training.services.drift import drift_artifact_text
from training.services.promotion import champion_promote, champion_rollback


def _score(scores: dict[str, float], name: str) -> str:
    value = (scores or {}).get(name)
    return "-" if value is None else f"{value:.4f}"


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "trigger", "forced", "created_at", "finished_at", "step", "progress", "message")
    list_filter = ("status", "forced", "created_at")
    search_fields = ("trigger", "message", "error", "task_id")
    readonly_fields = [f.name for f in PipelineRun._meta.fields]
    actions = ["enqueue_pipeline", "enqueue_forced_pipeline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Run the ML pipeline now (queued)")
    def enqueue_pipeline(self, request: HttpRequest, queryset: QuerySet[PipelineRun]) -> None:
        from training.services.pipeline import pipeline_enqueue

        run = pipeline_enqueue(trigger="admin", user=request.user)
        self.message_user(request, f"Pipeline run #{run.pk} queued on the ml queue.")

    @admin.action(description="Run the ML pipeline now, retraining even without new data (queued)")
    def enqueue_forced_pipeline(self, request: HttpRequest, queryset: QuerySet[PipelineRun]) -> None:
        from training.services.pipeline import pipeline_enqueue

        run = pipeline_enqueue(trigger="admin", force=True, user=request.user)
        self.message_user(request, f"Pipeline run #{run.pk} queued (forced).")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "algorithm", "is_champion", "accuracy", "roc_auc", "log_loss", "brier", "ece",
                    "trained_until", "promoted_at", "pipeline_run", "card")  # fmt: skip
    list_filter = ("is_champion", "algorithm")
    search_fields = ("version", "mlflow_run_id")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote", "rollback"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="model card")
    def card(self, obj: ModelVersion) -> str:
        return format_html('<a href="{}">card</a>', reverse("portal:model-card", args=[obj.version]))

    @admin.display(description="accuracy")
    def accuracy(self, obj: ModelVersion) -> str:
        return _score(obj.holdout_scores, "accuracy")

    @admin.display(description="ROC AUC")
    def roc_auc(self, obj: ModelVersion) -> str:
        return _score(obj.holdout_scores, "roc_auc")

    @admin.display(description="log loss")
    def log_loss(self, obj: ModelVersion) -> str:
        return _score(obj.holdout_scores, "log_loss")

    @admin.display(description="Brier")
    def brier(self, obj: ModelVersion) -> str:
        return _score(obj.holdout_scores, "brier")

    @admin.display(description="ECE")
    def ece(self, obj: ModelVersion) -> str:
        return _score(obj.holdout_scores, "ece")

    @admin.action(description="Promote the selected version to champion")
    def promote(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        try:
            decision = champion_promote(version=queryset.get().version, triggered_by="admin", user=request.user)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"v{decision.challenger_version} is the champion.")

    @admin.action(description="Roll the champion back to the version it replaced")
    def rollback(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        try:
            decision = champion_rollback(triggered_by="admin", user=request.user)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, decision.reason)


@admin.register(PromotionDecision)
class PromotionDecisionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "challenger_version", "champion_version", "promoted", "metric",
                    "challenger_score", "champion_score", "triggered_by")  # fmt: skip
    list_filter = ("kind", "promoted", "metric", "created_at")
    search_fields = ("reason", "triggered_by")
    readonly_fields = [f.name for f in PromotionDecision._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DriftReport)
class DriftReportAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "share", "dataset_drift", "target_drift", "pipeline_run", "report_links")
    list_filter = ("dataset_drift", "target_drift", "created_at")
    readonly_fields = [f.name for f in DriftReport._meta.fields] + ["report_links"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="drifted inputs")
    def share(self, obj: DriftReport) -> str:
        return f"{obj.share_drifted:.0%}"

    @admin.display(description="report")
    def report_links(self, obj: DriftReport) -> str:
        html = reverse("admin:training_driftreport_artifact", args=[obj.pk, "html"]) if obj.html_artifact else ""
        json_url = reverse("admin:training_driftreport_artifact", args=[obj.pk, "json"])
        if html:
            return format_html('<a href="{}" target="_blank">HTML</a> · <a href="{}">JSON</a>', html, json_url)
        return format_html('<a href="{}">JSON</a>', json_url)

    def get_urls(self) -> list[URLPattern]:
        view = staff_member_required(self.artifact_view)
        return [
            path("<int:pk>/artifact/<str:kind>/", self.admin_site.admin_view(view), name="training_driftreport_artifact"),
            *super().get_urls(),
        ]

    def artifact_view(self, request: HttpRequest, pk: int, kind: str) -> HttpResponse:
        """The stored Evidently report, read back from MLflow's artifact store."""
        report = get_object_or_404(DriftReport, pk=pk)
        if kind == "html" and report.html_artifact:
            return HttpResponse(drift_artifact_text(report, report.html_artifact), content_type="text/html")
        if kind == "json":
            import json

            return JsonResponse(json.loads(drift_artifact_text(report, report.json_artifact)), safe=False)
        return HttpResponse(status=404)
