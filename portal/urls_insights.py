"""Backtests, model, data and match pages (included by portal/urls.py: names are ``portal:<name>``)."""

from django.urls import path

from portal import views_insights as views
from portal import views_shotmaking

urlpatterns = [
    path("backtests/", views.backtest_list, name="backtests"),
    path("backtests/<int:backtest_id>/", views.backtest_detail, name="backtest-detail"),
    path("model/", views.model_page, name="model"),
    path("model/versions/<int:version>/card/", views.model_card_page, name="model-card"),
    path("model/versions/<int:version>/card.<str:fmt>", views.model_card_download, name="model-card-download"),
    path("model/drift/<int:report_id>/", views.drift_report, name="drift-report"),
    path("data/", views.data_page, name="data"),
    path("data/shot-chart.json", views.shot_chart_json, name="shot-chart"),
    path("matches/", views.match_page, name="match"),
    path("shot-making/", views_shotmaking.leaderboard, name="shot-making"),
    path("shot-making/players/<int:player_id>/", views_shotmaking.player, name="shot-making-player"),
]
