"""The web portal's pages. Each area keeps its own URL module."""

from django.urls import include, path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("next-shot.json", views.home_shot_json, name="home-shot"),
    path("", include("portal.urls_play")),
    path("", include("portal.urls_insights")),
]
