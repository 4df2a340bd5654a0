from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ingestion import selectors
from ingestion.models import IngestionRun, QuarantinedRecord


@admin.register(IngestionRun)
class IngestionRunAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "source", "started_at", "duration", "read", "inserted", "duplicates",
                    "corrected", "rejected", "attempts", "convention_label")  # fmt: skip
    list_filter = ("kind", "status", "started_at")
    search_fields = ("source", "error", "task_id")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in IngestionRun._meta.fields] + ["duration"]

    @admin.display(description="duration")
    def duration(self, run: IngestionRun) -> str:
        seconds = run.duration_s
        return "running" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="coordinates")
    def convention_label(self, run: IngestionRun) -> str:
        convention = (run.convention or {}).get("convention") or {}
        return str(convention.get("label", ""))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class _MongoPage:
    """Adapts a MongoDB query to Django's Paginator (count + slicing)."""

    def __init__(self, reason: str | None, run_id: int | None) -> None:
        self.reason = reason
        self.run_id = run_id
        _rows, self.total = selectors.quarantine_list(reason=reason, run_id=run_id, limit=1)

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        start = item.start or 0
        rows, _ = selectors.quarantine_list(
            reason=self.reason, run_id=self.run_id, offset=start, limit=(item.stop or start) - start
        )
        return rows


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    """Browse the lake's quarantine collection: every refused record with its reason."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        reason = request.GET.get("reason") or None
        run = request.GET.get("run")
        run_id = int(run) if run and run.isdigit() else None
        paginator: Paginator[Any] = Paginator(cast(Any, _MongoPage(reason, run_id)), 50)  # a duck-typed page source
        page = paginator.get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Quarantined records",
            "page": page,
            "reasons": selectors.quarantine_reasons(),
            "reason": reason,
            "run_id": run_id,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/ingestion/quarantine.html", context)
