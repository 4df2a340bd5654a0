"""The betting pages: the live dashboard, placing bets, my bets, the leaderboard, the stream JSON."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from betting import selectors, services
from betting.export import bets_csv_response
from betting.models import Bet
from ingestion import selectors as ingestion_selectors
from parivision.errors import ApplicationError


class BetForm(forms.Form):
    shot = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    side = forms.ChoiceField(choices=Bet.Side.choices, widget=forms.RadioSelect)
    stake = forms.DecimalField(min_value=Decimal("0.01"), max_digits=12, decimal_places=2,
                               error_messages={"min_value": "The stake must be more than 0 credits."})
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)


def _first_error(form: forms.Form) -> str:
    names = {"shot": "Shot", "side": "Side", "stake": "Stake", "idempotency_key": "Form"}
    for field, errors in form.errors.items():
        return f"{names[field]}: {errors[0]}" if field in names else str(errors[0])
    return "The bet was refused."


def dashboard(request: HttpRequest) -> HttpResponse:
    snapshot = selectors.stream_snapshot(user=request.user)
    context = {
        "snapshot": snapshot,
        "shot": snapshot["shot"],
        "me": snapshot["me"],
        "idempotency_key": services.idempotency_key_new(),
        "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
        "quick_stakes": (10, 25, 50, 100),
        "limits": selectors.bettor_limits(user=request.user),
    }
    return render(request, "portal/play/dashboard.html", context)


@require_GET
@never_cache
def stream_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.stream_snapshot(user=request.user))


@require_POST
def bet_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # Back to the dashboard after logging in: this URL only takes the form's POST (a 405 otherwise).
        messages.info(request, "Log in to place a bet.")
        return redirect_to_login(reverse("portal:play"))
    form = BetForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Bet not placed. {_first_error(form)}")
        return redirect("portal:play")
    data = form.cleaned_data
    try:
        placement = services.bet_place(user=request.user, shot_id=data["shot"], side=data["side"],
                                       stake=data["stake"], idempotency_key=data["idempotency_key"])
    except ApplicationError as error:
        messages.error(request, f"Bet not placed. {error.message}")
        return redirect("portal:play")
    bet = placement.bet
    if placement.created:
        messages.success(request, f"Bet placed: {bet.stake:,.2f} credits on {bet.get_side_display().lower()} "
                                  f"at {bet.odds:.2f} (returns {bet.potential_payout:,.2f} if it wins).")
    else:
        messages.info(request, "This bet was already placed (the form was sent twice); nothing changed.")
    return redirect("portal:play")


@login_required
def bet_list(request: HttpRequest) -> HttpResponse:
    services.bankroll_open(user=request.user)
    history = Paginator(selectors.bets_of(user=request.user).exclude(status=Bet.Status.OPEN), 25)
    context = {
        "summary": selectors.bettor_summary(user=request.user),
        "open_bets": selectors.bets_of(user=request.user, status=Bet.Status.OPEN),
        "history": history.get_page(request.GET.get("page")),
        "pnl": selectors.pnl_series(user=request.user),
    }
    return render(request, "portal/play/bets.html", context)


@login_required
@require_GET
def bet_export(request: HttpRequest) -> StreamingHttpResponse:
    return bets_csv_response(user=request.user)


@login_required
def bet_detail(request: HttpRequest, bet_id: int) -> HttpResponse:
    bet = get_object_or_404(Bet.objects.select_related("shot"), pk=bet_id, user=request.user)
    shot = bet.shot
    revealed = shot.made is not None
    # A correction of the outcome imported after settlement: the bet stands, and the page says so.
    corrected = None
    if revealed:
        changes = ingestion_selectors.outcome_corrections(shot.shot_key)
        if changes and bool(changes[-1]["after"]) != shot.made:
            corrected = changes[-1]
    return render(request, "portal/play/bet_detail.html",
                  {"bet": bet, "shot": selectors.shot_payload(shot, reveal=revealed), "revealed": revealed,
                   "corrected": corrected})  # fmt: skip


def leaderboard(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/play/leaderboard.html", {"board": selectors.leaderboard()})


@login_required
@require_POST
def stream_control(request: HttpRequest) -> HttpResponse:
    """Operators only: advance now (enqueued), pause or resume."""
    if not request.user.is_staff:
        raise PermissionDenied("Only operators control the stream.")
    action = request.POST.get("action")
    if action == "advance":
        services.stream_advance_enqueue()
        messages.success(request, "The stream will move on in a moment.")
    elif action in ("pause", "resume"):
        services.stream_set(paused=action == "pause")
        messages.success(request, "Stream paused." if action == "pause" else "Stream running.")
    else:
        messages.error(request, "Unknown stream action.")
    return redirect("portal:play")
