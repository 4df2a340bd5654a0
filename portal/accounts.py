"""Account pages: sign up (with a fresh bankroll) and the profile with API token management.

Log in/out and password change/reset are Django's own views (portal/urls_play.py) with
templates under templates/registration/.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from betting import selectors as betting_selectors
from betting.services import bankroll_open, bettor_limits_set
from parivision.errors import ApplicationError
from predictions.services import token_create, token_revoke


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets only.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account already uses this email address.")
        return email


def account_create(*, form: SignUpForm) -> Any:
    """A new user (from a valid sign-up form) with their starting bankroll."""
    with transaction.atomic():
        user = form.save()
        bankroll_open(user=user)
    return user


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:play")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = account_create(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        bankroll = betting_selectors.bankroll_of(user=user)
        messages.success(request, f"Welcome, {user.get_username()}! You start with {bankroll.balance:,.0f} credits.")
        return redirect("portal:play")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    bankroll_open(user=request.user)
    token = Token.objects.filter(user=request.user).first()
    # The full key is shown once, right after it is created; afterwards only its start.
    new_key = request.session.pop("new_api_token", None)
    context = {
        "summary": betting_selectors.bettor_summary(user=request.user),
        "token": token,
        "new_key": new_key if token is not None and new_key == token.key else None,
        "masked_key": f"{token.key[:6]}…{token.key[-4:]}" if token else None,
        **_limits_context(request),
    }
    return render(request, "registration/profile.html", context)


@login_required
@require_POST
def token_manage(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    if action == "create":
        token = token_create(user=request.user)
        request.session["new_api_token"] = token.key
        messages.success(request, "New API token created. Copy it now: it is shown in full only once.")
    elif action == "revoke":
        if token_revoke(user=request.user):
            messages.success(request, "API token revoked: requests with it are now refused.")
        else:
            messages.error(request, "You have no API token to revoke.")
    else:
        messages.error(request, "Unknown token action.")
    return redirect("portal:profile")


# --- bettor safeguards (the profile's "Limits" section) ---------------------------------------

COOLDOWN_CHOICES = (("", "No new cool-down"), ("1", "1 hour"), ("24", "24 hours"), ("72", "3 days"),
                    ("168", "7 days"), ("720", "30 days"))


class LimitsForm(forms.Form):
    """The form only shapes the input; ``bettor_limits_set`` validates it and names what it refuses."""

    stake_limit = forms.CharField(required=False, max_length=20, label="Stake limit (credits per bet)")
    daily_loss_limit = forms.CharField(required=False, max_length=20, label="Daily loss limit (credits)")
    cooldown_hours = forms.ChoiceField(required=False, choices=COOLDOWN_CHOICES, label="Take a break")


def _limits_context(request: HttpRequest) -> dict[str, Any]:
    limits = betting_selectors.bettor_limits(user=request.user)
    initial = {"stake_limit": limits.stake_limit if limits else None,
               "daily_loss_limit": limits.daily_loss_limit if limits else None}
    return {"limits": limits, "limits_form": LimitsForm(initial=initial),
            "cooldown_max_hours": settings.BETTOR_COOLDOWN_MAX_HOURS}


@login_required
@require_POST
def limits_update(request: HttpRequest) -> HttpResponse:
    form = LimitsForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"Limits not saved. {form.fields[field].label}: {errors[0]}")
        return redirect(f"{reverse('portal:profile')}#limits")
    data = form.cleaned_data
    hours = int(data["cooldown_hours"]) if data["cooldown_hours"] else None
    try:
        bankroll = bettor_limits_set(user=request.user, stake_limit=data["stake_limit"],
                                     daily_loss_limit=data["daily_loss_limit"], cooldown_hours=hours)
    except ApplicationError as error:
        messages.error(request, f"Limits not saved. {error.message}")
        return redirect(f"{reverse('portal:profile')}#limits")
    note = "Limits saved."
    if hours and bankroll.cooldown_until:
        until = timezone.localtime(bankroll.cooldown_until).strftime("%Y-%m-%d %H:%M %Z")
        note += f" Cool-down: no bets until {until}."
    messages.success(request, note)
    return redirect(f"{reverse('portal:profile')}#limits")
