"""The serving fixtures (a tiny champion on a throw-away MLflow store) for the live Prometheus test."""

from tests.predictions.conftest import champion, mlflow_store  # noqa: F401
