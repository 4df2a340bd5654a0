from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # The pipeline counter exists (at 0) in every process's /metrics from the start, not only
        # in a process that has run a pipeline since it started.
        from training import metrics  # noqa: F401
