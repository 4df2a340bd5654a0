from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from betting import services
from betting.models import Bankroll, Bet, LiveShot, StreamState


@admin.register(Bankroll)
class BankrollAdmin(admin.ModelAdmin):
    list_display = ("user", "balance", "starting_balance", "net", "updated_at")
    search_fields = ("user__username", "user__email")
    ordering = ("-balance",)
    readonly_fields = ("created_at", "updated_at")
    list_select_related = ("user",)

    @admin.display(description="Net")
    def net(self, obj: Bankroll) -> Any:
        return obj.balance - obj.starting_balance


@admin.register(Bet)
class BetAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "shot_label", "side", "stake", "odds", "status", "payout", "placed_at", "settled_at")
    list_filter = ("status", "side", ("placed_at", admin.DateFieldListFilter))
    search_fields = ("user__username", "shot__player_name", "shot__shot_key", "idempotency_key")
    list_select_related = ("user", "shot")
    date_hierarchy = "placed_at"
    readonly_fields = ("user", "shot", "side", "stake", "odds", "model_probability", "status", "payout",
                       "idempotency_key", "placed_at", "settled_at")

    @admin.display(description="Shot", ordering="shot__sequence")
    def shot_label(self, obj: Bet) -> str:
        return f"#{obj.shot.sequence} {obj.shot.player_name}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bets move money: only the services place them


@admin.register(LiveShot)
class LiveShotAdmin(admin.ModelAdmin):
    list_display = ("sequence", "status", "player_name", "team_name", "period", "seconds_left", "action_type",
                    "zone_basic", "probability_made", "market_odds_made", "market_odds_missed", "market_source",
                    "made", "opened_at", "taken_at")
    list_filter = ("status", "market_source", "replay_round", "zone_basic")
    search_fields = ("player_name", "shot_key", "game_id", "team_name")
    ordering = ("-sequence",)
    actions = ("settle_now",)

    @admin.action(description="Settle the bets of the selected taken shots now (in the background)")
    def settle_now(self, request: HttpRequest, queryset: QuerySet[LiveShot]) -> None:
        from betting.tasks import settle_shot

        shots = list(queryset.filter(status__in=(LiveShot.Status.TAKEN, LiveShot.Status.SETTLED))
                     .values_list("pk", flat=True))
        for shot_id in shots:
            settle_shot.delay(shot_id=shot_id)
        self.message_user(request, f"Settlement enqueued for {len(shots)} shot(s).", messages.SUCCESS)


@admin.register(StreamState)
class StreamStateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "pace_seconds", "paused", "last_advanced_at", "shots_played", "replay_round")
    list_editable = ("pace_seconds", "paused")
    list_display_links = ("__str__",)
    readonly_fields = ("last_advanced_at", "shots_played", "replay_round", "updated_at")
    actions = ("advance_now", "pause", "resume")

    @admin.action(description="Advance now: take the open shot and open the next (in the background)")
    def advance_now(self, request: HttpRequest, queryset: QuerySet[StreamState]) -> None:
        services.stream_advance_enqueue()
        self.message_user(request, "The stream will move on in a moment.", messages.SUCCESS)

    @admin.action(description="Pause the stream")
    def pause(self, request: HttpRequest, queryset: QuerySet[StreamState]) -> None:
        services.stream_set(paused=True)
        self.message_user(request, "The stream is paused.", messages.SUCCESS)

    @admin.action(description="Resume the stream")
    def resume(self, request: HttpRequest, queryset: QuerySet[StreamState]) -> None:
        services.stream_set(paused=False)
        self.message_user(request, "The stream is running.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not StreamState.objects.exists()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        services.stream_state_get()  # the one row exists before anyone edits it
        return super().changelist_view(request, extra_context)
