"""Shadow deployments in the admin: start one (the add form), stop it (an action), read the comparisons."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from parivision.errors import ApplicationError
from predictions import shadow
from predictions.models import ShadowDeployment


class ShadowStartForm(forms.ModelForm):
    class Meta:
        model = ShadowDeployment
        fields = ("version", "start_reason")
        help_texts = {"version": "A registered model version other than the champion; a running shadow is stopped."}

    def clean_version(self) -> int:
        version = self.cleaned_data["version"]
        try:
            shadow.shadow_start_check(version=version)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None
        return version


@admin.register(ShadowDeployment)
class ShadowDeploymentAdmin(admin.ModelAdmin):
    list_display = ("version", "status", "champion_version", "pairs", "significant_gain", "started_at", "started_by",
                    "stopped_at", "reviewed_at")
    list_filter = ("status", "significant_gain")
    actions = ["stop_shadow"]
    readonly_fields = ("version", "status", "started_at", "started_by", "start_reason", "stopped_at", "stopped_by",
                       "stop_reason", "pipeline_run", "user", "champion_version", "comparison", "verdict",
                       "significant_gain", "reviewed_at")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ShadowStartForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("version", "start_reason") if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Pairs")
    def pairs(self, obj: ShadowDeployment) -> Any:
        return (obj.comparison or {}).get("pairs", 0)

    def save_model(self, request: HttpRequest, obj: ShadowDeployment, form: Any, change: bool) -> None:
        if change:  # nothing of a deployment is edited by hand
            return
        started = shadow.shadow_start(version=obj.version, triggered_by="admin", reason=obj.start_reason,
                                      user=request.user)
        obj.pk, obj.status, obj.started_at = started.pk, started.status, started.started_at
        self.message_user(request, f"v{started.version} serves in shadow (web processes pick it up within a poll "
                                   "interval).")

    @admin.action(description="Stop the selected shadow")
    def stop_shadow(self, request: HttpRequest, queryset: QuerySet[ShadowDeployment]) -> None:
        if not queryset.filter(status=ShadowDeployment.Status.ACTIVE).exists():
            self.message_user(request, "None of the selected shadows is running.", messages.ERROR)
            return
        stopped = shadow.shadow_stop(triggered_by="admin", reason="stopped by hand", user=request.user)
        self.message_user(request, f"Shadow v{stopped.version} stopped." if stopped else "No shadow was running.")
