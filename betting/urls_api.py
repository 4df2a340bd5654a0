from django.urls import path

from betting import api

app_name = "betting_api"

urlpatterns = [
    path("bets/export", api.BetExportApi.as_view(), name="bets-export"),
]
