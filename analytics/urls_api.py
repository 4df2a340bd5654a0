from django.urls import path

from analytics import api

app_name = "analytics_api"

urlpatterns = [
    path("shot-making", api.ShotMakingListApi.as_view(), name="shot-making-list"),
    path("shot-making/players/<int:player_id>", api.ShotMakingPlayerApi.as_view(), name="shot-making-player"),
]
