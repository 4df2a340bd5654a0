from django.urls import path

from training import api

app_name = "training_api"

urlpatterns = [
    path("models/<int:version>/card", api.ModelCardApi.as_view(), name="model-card"),
    path("models/champion/drift", api.DriftStoryApi.as_view(), name="model-champion-drift"),
]
