from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from parivision import health, metrics

# Under /api/ a missing page or a crash answers in the API's JSON error shape (parivision/errors.py).
handler404 = "parivision.errors.handler404"
handler500 = "parivision.errors.handler500"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # All gunicorn workers aggregated, plus the gauges read at scrape time (parivision/metrics.py).
    path("metrics", metrics.metrics_view, name="prometheus-django-metrics"),
    path("api/v1/", include("predictions.urls")),
    path("api/v1/", include("backtests.urls_api")),
    path("api/v1/", include("betting.urls_api")),
    path("api/v1/", include("analytics.urls_api")),
    path("api/v1/", include("training.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("ingestion.urls")),
    path("", include("portal.urls")),
]
