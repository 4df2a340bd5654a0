from django.urls import path

from predictions import api

app_name = "api"

urlpatterns = [
    path("predictions", api.PredictionCreateApi.as_view(), name="prediction-create"),
    path("predictions/batch", api.PredictionBatchCreateApi.as_view(), name="prediction-batch-create"),
    path("models", api.ModelListApi.as_view(), name="model-list"),
    path("models/champion", api.ModelChampionApi.as_view(), name="model-champion"),
    path("shots", api.ShotListApi.as_view(), name="shot-list"),
    path("pipeline/runs", api.PipelineRunCreateApi.as_view(), name="pipeline-run-create"),
    path("pipeline/runs/<str:run_id>", api.PipelineRunDetailApi.as_view(), name="pipeline-run-detail"),
]
