from django.urls import path

from backtests import api

app_name = "backtests_api"

urlpatterns = [
    path("backtests", api.BacktestListCreateApi.as_view(), name="backtest-list"),
    path("backtests/<int:backtest_id>", api.BacktestDetailApi.as_view(), name="backtest-detail"),
]
