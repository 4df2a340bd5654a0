from django.urls import path

from ingestion import views

app_name = "feed"

urlpatterns = [
    path("getdata/<str:n>", views.getdata, name="getdata"),
    path("getdata/<str:n>/", views.getdata),
    path("reset", views.reset, name="reset"),
    path("reset/", views.reset),
]
