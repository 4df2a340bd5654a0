from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "predictions"
    verbose_name = "Predictions"

    def ready(self) -> None:
        from parivision import health, metrics
        from predictions import serving

        # /readyz reports whether this process holds a champion (loading it if needed).
        health.READINESS_CHECKS["model"] = serving.readiness_check
        metrics.celery_signals_connect()
