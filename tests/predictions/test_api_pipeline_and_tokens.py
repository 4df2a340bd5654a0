"""POST/GET pipeline runs (staff only), API tokens, and /readyz with the model check."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from parivision import mongo
from predictions.services import token_create, token_revoke
from tests.services import free_port
from training.models import PipelineRun

pytestmark = [pytest.mark.django_db]

RUNS = "/api/v1/pipeline/runs"


def test_staff_queue_the_ml_pipeline_and_read_its_status(staff_api: APIClient, django_capture_on_commit_callbacks,
                                                        monkeypatch) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("training.tasks.run_ml_pipeline.delay", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(RUNS, {"kind": "ml_pipeline", "force": True}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    run = PipelineRun.objects.get()
    assert body["run_id"] == f"ml-{run.pk}"
    assert (body["kind"], body["status"]) == ("ml_pipeline", "queued")
    assert run.forced
    assert "operator" in run.trigger
    assert sent == [{"pipeline_run_id": run.pk}]
    assert response["Location"] == f"/api/v1/pipeline/runs/ml-{run.pk}"
    assert staff_api.get(response["Location"]).json()["status"] == "queued"


def test_staff_queue_an_ingestion_task_sent_after_commit(staff_api: APIClient, django_capture_on_commit_callbacks,
                                                        monkeypatch) -> None:
    from parivision.celery import app

    sent: list[tuple[str, dict[str, Any], str]] = []
    monkeypatch.setattr(app, "send_task", lambda name, kwargs, task_id: sent.append((name, kwargs, task_id)))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(RUNS, {"kind": "import_file", "location": "/data/s.csv"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert sent == [("ingestion.import_file", {"location": "/data/s.csv"}, body["run_id"])]
    status = staff_api.get(f"{RUNS}/{body['run_id']}").json()
    assert (status["kind"], status["status"]) == ("import_file", "queued")


def test_an_import_whose_worker_died_reads_its_run_status_not_the_dead_tasks(staff_api: APIClient,
                                                                            monkeypatch) -> None:
    from ingestion.models import IngestionRun
    from parivision.celery import app

    task_id = "0123456789abcdef0123456789abcdee"

    class Started:  # what the result backend keeps for a task whose worker was killed
        state = "STARTED"
        result = None

    monkeypatch.setattr(app, "AsyncResult", lambda _task_id: Started())
    run = IngestionRun.objects.create(kind="file", source="/data/s.csv", task_id=task_id)
    assert staff_api.get(f"{RUNS}/{task_id}").json()["status"] == "running"

    # The sweeper resumed it under another task, and that one finished it.
    IngestionRun.objects.filter(pk=run.pk).update(status="succeeded", attempts=2, inserted=12)
    status = staff_api.get(f"{RUNS}/{task_id}").json()
    assert status["status"] == "succeeded"
    assert status["detail"]["ingestion_runs"][0]["inserted"] == 12


@pytest.mark.parametrize(
    ("body", "field"),
    [({"kind": "rm -rf"}, "kind"), ({}, "kind"), ({"kind": "import_file"}, "location"),
     ({"kind": "pull_feed", "n": 5000}, "n")],
)
def test_a_bad_run_request_names_the_field(staff_api: APIClient, body, field) -> None:
    response = staff_api.post(RUNS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(("location", "problem"), [
    ("ftp://example.com/x.csv", "is not a path or an http(s) URL (scheme 'ftp')"),
    ("file:///etc/passwd", "is not a path or an http(s) URL (scheme 'file')"),
    ("http:///x.csv", "is a URL without a host"),
    ("shots/x.csv", "is a relative path"),
    ("/data/x\n.csv", "control character"),
])  # fmt: skip
def test_an_import_location_no_worker_could_open_is_refused_naming_it(staff_api: APIClient, location, problem) -> None:
    response = staff_api.post(RUNS, {"kind": "import_file", "location": location}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["field"], error["value"]) == ("location", location)
    assert problem in error["message"]


def test_pipeline_runs_are_for_staff_only(api: APIClient) -> None:
    assert api.post(RUNS, {"kind": "ml_pipeline"}, format="json").status_code == 403
    assert api.get(f"{RUNS}/ml-1").json()["code"] == "permission_denied"
    assert APIClient().post(RUNS, {"kind": "ml_pipeline"}, format="json").status_code == 401


def test_an_unknown_run_is_a_404(staff_api: APIClient) -> None:
    for run_id in ("ml-999", "0123456789abcdef0123456789abcdef", "nonsense"):
        response = staff_api.get(f"{RUNS}/{run_id}")
        assert response.status_code == 404
        assert response.json()["errors"][0]["field"] == "run_id"


def test_a_new_token_replaces_the_old_one_and_a_revoked_token_stops_working(user) -> None:
    first = token_create(user=user)
    second = token_create(user=user)
    # Only digests are stored: the database never holds a usable key.
    assert list(AuthToken.objects.filter(user=user).values_list("digest", flat=True)) == [hash_token(second.key)]
    assert not AuthToken.objects.filter(digest=second.key).exists()
    client = APIClient(HTTP_AUTHORIZATION=f"Token {first.key}")
    assert client.get("/api/v1/models").status_code == 401
    assert token_revoke(user=user) is True
    assert token_revoke(user=user) is False
    revoked = APIClient(HTTP_AUTHORIZATION=f"Token {second.key}").get("/api/v1/models")
    assert revoked.json()["code"] == "authentication_failed"


def test_the_admin_manages_tokens(admin_client: Client) -> None:
    assert admin_client.get("/admin/knox/authtoken/").status_code == 200


@pytest.mark.usefixtures("mongo_db", "champion")
def test_readyz_reports_the_loaded_model() -> None:
    response = Client().get("/readyz")
    checks = response.json()["checks"]
    assert checks["model"]["ok"] is True
    assert checks["model"]["detail"] == "parivision-test-serving v1 (xgboost) loaded"
    assert response.status_code == 200


@pytest.mark.usefixtures("no_champion")
def test_readyz_reports_that_there_is_no_model() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["model"]["ok"] is False
    assert "no 'champion' alias" in response.json()["checks"]["model"]["detail"]


@pytest.mark.usefixtures("champion")
def test_readyz_reports_a_mongodb_that_is_down(settings) -> None:
    settings.MONGODB_URI = f"mongodb://127.0.0.1:{free_port()}/"  # nothing listens there
    mongo.reset_client()
    try:
        response = Client().get("/readyz")
    finally:
        mongo.reset_client()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["mongodb"]["ok"] is False
    assert "ServerSelectionTimeoutError" in body["checks"]["mongodb"]["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["model"]["ok"] is True
