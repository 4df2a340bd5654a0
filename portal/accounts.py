"""Account pages: sign up (with a fresh bankroll) and the profile with API token management.

Log in/out and password change/reset are Django's own views (portal/urls_play.py) with
templates under templates/registration/.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from betting import selectors as betting_selectors
from betting.services import bankroll_open
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
