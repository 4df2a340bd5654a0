"""Accounts and the betting pages (included by portal/urls.py, so every name is ``portal:<name>``).

Django's auth views are listed one by one rather than through ``django.contrib.auth.urls``:
inside the ``portal`` namespace their built-in redirects (``password_reset_done``...) would
not resolve, so each gets its namespaced success URL here.
"""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from portal import accounts, views_play

auth_urls = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/",
         auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("portal:password_change_done")),
         name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("accounts/password_reset/",
         accounts.PasswordResetView.as_view(success_url=reverse_lazy("portal:password_reset_done")),
         name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/",
         auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("portal:password_reset_complete")),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]  # fmt: skip

urlpatterns = [
    *auth_urls,
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/profile/", accounts.profile, name="profile"),
    path("accounts/profile/token/", accounts.token_manage, name="token-manage"),
    path("accounts/profile/limits/", accounts.limits_update, name="limits-update"),
    path("play/", views_play.dashboard, name="play"),
    path("play/stream.json", views_play.stream_json, name="play-stream"),
    path("play/bets/", views_play.bet_list, name="bets"),
    path("play/bets/export.csv", views_play.bet_export, name="bets-export"),
    path("play/bets/place/", views_play.bet_create, name="bet-place"),
    path("play/bets/<int:bet_id>/", views_play.bet_detail, name="bet-detail"),
    path("play/leaderboard/", views_play.leaderboard, name="leaderboard"),
    path("play/stream/control/", views_play.stream_control, name="stream-control"),
]
