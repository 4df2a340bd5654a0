"""Account pages: sign up (with a fresh bankroll) and the profile with API token management.

Log in/out and password change are Django's own views (portal/urls_play.py) with templates
under templates/registration/; the password reset is Django's view with a rate limit.

Abuse limits: logins (here and in the admin) go through django-axes (settings:
``LOGIN_FAILURE_LIMIT``, ``LOGIN_LOCKOUT_MINUTES``); password-reset emails are limited per
address asked for and per client address; sign-ups (each opens a bankroll of fresh credits)
per client address and site-wide, and an email address counts once whatever ``+tag`` it carries.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from knox.crypto import hash_token

from betting import selectors as betting_selectors
from betting.services import bankroll_open, bettor_limits_set
from parivision.errors import ApplicationError
from parivision.middleware import client_ip
from predictions.services import token_create, token_of, token_revoke
from predictions.throttling import rate_limit_take


def email_canonical(email: str) -> str:
    """``Name+tag@Example.com`` -> ``name@example.com``: one mailbox, one account."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]  # no addresses in Redis keys


def _wait_message(what: str, seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many {what} from here: try again in {minutes} minute{'s' if minutes > 1 else ''}."


def _refused(response: HttpResponse, seconds: float) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(math.ceil(seconds))
    return response


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets only.")

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # django-stubs does not declare it
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        canonical = email_canonical(email)
        local, _, domain = canonical.rpartition("@")
        candidates = get_user_model().objects.filter(email__istartswith=local, email__iendswith=f"@{domain}")
        if any(email_canonical(other) == canonical for other in candidates.values_list("email", flat=True)):
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
        wait = (rate_limit_take(scope="signup-ip", ident=client_ip(request), rate=settings.SIGNUP_RATE_PER_IP)
                or rate_limit_take(scope="signup", ident="all", rate=settings.SIGNUP_RATE_GLOBAL))
        if wait is not None:
            form.add_error(None, _wait_message("sign-ups", wait))
            return _refused(render(request, "registration/signup.html", {"form": form}), wait)
        user = account_create(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        bankroll = betting_selectors.bankroll_of(user=user)
        assert bankroll is not None  # account_create opened it
        messages.success(request, f"Welcome, {user.get_username()}! You start with {bankroll.balance:,.0f} credits.")
        return redirect("portal:play")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    bankroll_open(user=request.user)
    token = token_of(user=request.user)
    # The full key is shown once, right after it is created (the database only has its digest);
    # afterwards only its first characters.
    new_key = request.session.pop("new_api_token", None)
    context = {
        "summary": betting_selectors.bettor_summary(user=request.user),
        "token": token,
        "new_key": new_key if token is not None and new_key and hash_token(new_key) == token.digest else None,
        "masked_key": f"{token.token_key[:8]}…" if token else None,
        "token_ttl_days": settings.API_TOKEN_TTL_DAYS,
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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form; at most PASSWORD_RESET_RATE_PER_EMAIL emails per address, _PER_IP per client.

    The limit applies whether or not an account has the address, so a refusal reveals nothing.
    """

    def form_valid(self, form: Any) -> HttpResponse:
        email = email_canonical(form.cleaned_data["email"])
        wait = (rate_limit_take(scope="reset-ip", ident=client_ip(self.request),
                                rate=settings.PASSWORD_RESET_RATE_PER_IP)
                or rate_limit_take(scope="reset-email", ident=_digest(email),
                                   rate=settings.PASSWORD_RESET_RATE_PER_EMAIL))
        if wait is not None:
            form.add_error(None, _wait_message("password-reset requests", wait))
            return _refused(self.form_invalid(form), wait)
        return super().form_valid(form)


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
