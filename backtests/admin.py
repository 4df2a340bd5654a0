from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backtests.models import Backtest
from parivision.errors import ApplicationError


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "versions", "date_from", "date_to", "strategy", "status", "progress",
                    "bets", "roi", "final_bankroll", "created_at")  # fmt: skip
    list_filter = ("status", "strategy", "created_at")
    search_fields = ("owner__username", "id")
    date_hierarchy = "created_at"
    readonly_fields = ("status", "progress", "step", "results", "error", "task_id", "created_at", "started_at",
                       "finished_at")  # fmt: skip
    actions = ["rerun"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created from the portal or the API, which validate and queue them

    @admin.display(description="versions")
    def versions(self, obj: Backtest) -> str:
        return " vs ".join(f"v{v}" for v in obj.model_versions or [])

    @admin.display(description="bets")
    def bets(self, obj: Backtest) -> str:
        return " / ".join(str(v.get("bets", "")) for v in (obj.results or {}).get("versions", [])) or "-"

    @admin.display(description="ROI")
    def roi(self, obj: Backtest) -> str:
        values = [v.get("roi") for v in (obj.results or {}).get("versions", [])]
        return " / ".join("-" if r is None else f"{r:+.1%}" for r in values) or "-"

    @admin.display(description="final bankroll")
    def final_bankroll(self, obj: Backtest) -> str:
        values = [v.get("final_bankroll") for v in (obj.results or {}).get("versions", [])]
        return " / ".join(f"{b:,.0f}" for b in values if b is not None) or "-"

    @admin.action(description="Re-run the selected backtests (queued on a worker)")
    def rerun(self, request: HttpRequest, queryset: QuerySet[Backtest]) -> None:
        from backtests.services import backtest_rerun  # the engine is heavy: load it on use

        queued, refused = 0, []
        for backtest in queryset:
            try:
                backtest_rerun(backtest=backtest)
                queued += 1
            except ApplicationError as error:
                refused.append(error.message)
        if queued:
            self.message_user(request, f"{queued} backtest(s) queued again.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)
