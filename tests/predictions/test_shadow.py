"""Shadow challengers: scoring live requests off the request path, the log, the review, start/stop, admin."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from parivision import mongo
from parivision.errors import ApplicationError
from predictions import shadow
from predictions.log import LoggedPrediction, log_document, prediction_log
from predictions.models import ShadowDeployment
from predictions.services import predictions_join_outcomes
from tests.logs import logged_rows
from tests.predictions.conftest import shot, warehouse_documents
from training.models import PromotionDecision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db", "champion")]


@pytest.fixture(autouse=True)
def _fresh_scorer(settings: Any, champion: Any) -> Any:
    settings.SHADOW_FLUSH_SECONDS = 60.0  # the tests drive the scorer themselves
    shadow.reset()
    if champion.alias_version(alias=shadow.SHADOW_ALIAS) is not None:
        champion.alias_delete(alias=shadow.SHADOW_ALIAS)
    yield
    shadow.reset()
    if champion.alias_version(alias=shadow.SHADOW_ALIAS) is not None:
        champion.alias_delete(alias=shadow.SHADOW_ALIAS)


def logged() -> list[LoggedPrediction]:
    """Every logged prediction (one row each, whatever the bundle it was written in)."""
    prediction_log.flush()
    return logged_rows()


def identified(doc: dict[str, Any]) -> dict[str, Any]:
    """A shot the client identifies by its warehouse key (so it is joined to its outcome)."""
    return shot(shot_key=doc["_id"], player_id=int(doc["player_id"]), period=int(doc["period"]),
                seconds_left=int(doc["seconds_left"]), x_ft=float(doc["x_ft"]), y_ft=float(doc["y_ft"]))


def post_identified(api: APIClient, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [api.post("/api/v1/predictions", identified(d), format="json").json() for d in docs]


# --- scoring ------------------------------------------------------------------------------------


def test_without_a_shadow_requests_queue_nothing_and_only_the_champion_is_logged(api: APIClient, mlflow_store):
    docs = warehouse_documents(mlflow_store.frame.head(2))
    post_identified(api, docs)
    assert shadow.scorer().pending() == 0
    assert {d.version for d in logged()} == {"1"}
    assert all(d.role is None for d in logged())


def test_a_shadow_scores_each_identified_shot_with_its_own_version_and_the_champions_time(api, mlflow_store):
    shadow.shadow_start(version=2, triggered_by="test")
    assert shadow.scorer().refresh() == "2"
    docs = warehouse_documents(mlflow_store.frame.head(3))
    answers = post_identified(api, docs)
    api.post("/api/v1/predictions", shot(), format="json")  # no shot key: never joined, so not scored
    assert all(a["model"]["version"] == "1" for a in answers)  # the response is the champion's
    assert shadow.scorer().pending() == 3

    assert shadow.scorer().drain() == 3
    entries = logged()
    champion = {d.key: d for d in entries if d.role is None and d.key is not None}
    shadows = {d.key: d for d in entries if d.role == "shadow"}
    assert set(shadows) == set(champion) == {d["_id"] for d in docs}
    for key, doc in shadows.items():
        assert doc.version == "2"
        assert doc.made_at == champion[key].made_at  # the same moment: joined alike
        assert doc.made is None  # not joined yet
        assert 0 < doc.p < 1
        assert doc.p != champion[key].p  # another model (depth 3 against depth 2)


def test_a_batch_request_is_scored_in_shadow_too(api, mlflow_store):
    shadow.shadow_start(version=2, triggered_by="test")
    shadow.scorer().refresh()
    docs = warehouse_documents(mlflow_store.frame.head(5))
    body = {"shots": [identified(d) for d in docs]}
    assert api.post("/api/v1/predictions/batch", body, format="json").status_code == 200
    assert shadow.scorer().drain() == 5
    prediction_log.flush()
    # One log document per request, for the champion and for the shadow alike.
    bundles = list(mongo.warehouse_collection(mongo.PREDICTIONS).find({}, {"n": 1, "role": 1, "key": 1}))
    assert sorted((b.get("role") or "champion", b["n"]) for b in bundles) == [("champion", 5), ("shadow", 5)]
    assert all(b["key"] == [d["_id"] for d in docs] for b in bundles)


def test_the_sample_rate_chooses_the_share_of_requests_the_shadow_scores(api, mlflow_store, settings):
    shadow.shadow_start(version=2, triggered_by="test")
    shadow.scorer().refresh()
    docs = warehouse_documents(mlflow_store.frame.head(4))
    settings.SHADOW_SAMPLE_RATE = 0.0
    post_identified(api, docs)
    assert shadow.scorer().pending() == 0
    settings.SHADOW_SAMPLE_RATE = 1.0
    post_identified(api, docs)
    assert shadow.scorer().pending() == 4


def test_a_full_queue_drops_the_oldest_requests_and_counts_them(api, mlflow_store, settings):
    settings.SHADOW_QUEUE_MAX = 10
    shadow.reset()
    shadow.shadow_start(version=2, triggered_by="test")
    shadow.scorer().refresh()
    docs = warehouse_documents(mlflow_store.frame.head(20))
    accepted = sum("probability_made" in answer for answer in post_identified(api, docs))
    assert accepted > 10
    assert shadow.scorer().pending() == 10
    assert shadow.scorer().dropped == accepted - 10
    assert shadow.scorer().drain() == 10
    assert 'parivision_shadow_dropped_total' in api.get("/metrics").content.decode()


def test_stopping_the_shadow_stops_the_scoring(api, mlflow_store):
    shadow.shadow_start(version=2, triggered_by="test")
    shadow.scorer().refresh()
    stopped = shadow.shadow_stop(triggered_by="test", reason="enough")
    assert (stopped.status, stopped.stop_reason) == ("stopped", "enough")
    assert shadow.scorer().refresh() is None
    post_identified(api, warehouse_documents(mlflow_store.frame.head(2)))
    assert shadow.scorer().pending() == 0
    assert shadow.shadow_stop(triggered_by="test") is None  # nothing left to stop


def test_the_background_thread_loads_the_shadow_and_scores_by_itself(api, mlflow_store, settings):
    settings.SHADOW_FLUSH_SECONDS = 0.05
    shadow.reset()
    shadow.shadow_start(version=2, triggered_by="test")
    docs = warehouse_documents(mlflow_store.frame.head(2))
    post_identified(api, docs)  # starts the thread; it finds the alias within a poll
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and shadow.scorer().version is None:
        time.sleep(0.05)
    post_identified(api, docs)
    while time.monotonic() < deadline and shadow.scorer().scored < 2:
        time.sleep(0.05)
    assert shadow.scorer().scored >= 2
    assert any(d.role == "shadow" for d in logged())


# --- starting, stopping, the pipeline -----------------------------------------------------------


def test_start_refuses_the_champion_and_unknown_versions_and_one_shadow_at_a_time(champion):
    with pytest.raises(ApplicationError, match="is the champion") as caught:
        shadow.shadow_start(version=1, triggered_by="test")
    assert (caught.value.field, caught.value.value) == ("version", 1)
    with pytest.raises(ApplicationError, match="not registered"):
        shadow.shadow_start(version=99, triggered_by="test")
    with pytest.raises(ApplicationError, match="registered model version number"):
        shadow.shadow_start(version="2", triggered_by="test")
    first = shadow.shadow_start(version=2, triggered_by="test")
    assert shadow.shadow_start(version=2, triggered_by="again").pk == first.pk  # already running: the same
    assert champion.alias_version(alias="shadow") == "2"
    assert ShadowDeployment.objects.filter(status="active").count() == 1


def test_after_a_pipeline_run_the_best_challenger_that_did_not_win_goes_to_shadow(settings):
    from training.models import PipelineRun

    run = PipelineRun.objects.create(trigger="test")
    started = shadow.shadow_after_pipeline(run=run, ranked_versions=[1, 2])  # v1 won: it is the champion
    assert (started.version, started.pipeline_run_id) == (2, run.pk)
    settings.SHADOW_AUTO_START = False
    shadow.shadow_stop(triggered_by="test")
    assert shadow.shadow_after_pipeline(run=run, ranked_versions=[1, 2]) is None
    settings.SHADOW_REQUIRED_FOR_PROMOTION = True  # a held winner always gets its shadow period
    assert shadow.shadow_after_pipeline(run=run, ranked_versions=[2, 1]).version == 2
    assert shadow.promotion_held(has_champion=True)
    assert not shadow.promotion_held(has_champion=False)  # the first champion needs no shadow


# --- the review -----------------------------------------------------------------------------------


def settled_pairs(n: int, *, shadow_better: bool, seed: int = 5) -> None:
    """n shots both models scored live, already joined to outcomes."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.1, 0.9, n)
    made = rng.uniform(size=n) < truth
    docs = []
    joined = {"settled": True, "live": True}
    for i in range(n):
        key, at, outcome = f"00{i:08d}:1", 1_700_000_000.0 + i, bool(made[i])
        sharp, blunt = float(truth[i]), float(made.mean())
        docs.append({**log_document(version="1", probability=blunt if shadow_better else sharp, shot_key=key,
                                    made_at=at), **joined, "made": outcome})
        docs.append({**log_document(version="2", probability=sharp if shadow_better else blunt, shot_key=key,
                                    made_at=at, role="shadow"), **joined, "made": outcome})
    mongo.warehouse_collection(mongo.PREDICTIONS).insert_many(docs)


def test_the_review_stores_the_comparison_on_the_same_shots_without_promoting_by_default(settings):
    shadow.shadow_start(version=2, triggered_by="test")
    settled_pairs(400, shadow_better=True)
    report = shadow.shadow_review()
    assert (report.shadow_version, report.pairs, report.significant_gain, report.promoted) == (2, 400, True, False)
    row = ShadowDeployment.objects.get(status="active")
    assert row.champion_version == 1
    assert row.comparison["pairs"] == 400
    assert row.comparison["difference"]["log_loss"]["high"] < 0
    assert set(row.comparison["champion"]) == {"log_loss", "brier", "ece"}
    assert row.significant_gain


def test_with_the_gate_on_a_significant_live_gain_promotes_the_shadow_once(settings, champion):
    settings.SHADOW_REQUIRED_FOR_PROMOTION = True
    settings.SHADOW_MIN_SETTLED = 300
    shadow.shadow_start(version=2, triggered_by="test")
    settled_pairs(400, shadow_better=True)
    try:
        report = shadow.shadow_review()
        assert report.promoted
        assert champion.alias_version() == "2"
        assert champion.alias_version(alias="shadow") is None
        decision = PromotionDecision.objects.get(challenger_version=2, promoted=True)
        assert (decision.metric, decision.triggered_by, decision.champion_version) == ("live_log_loss",
                                                                                        "shadow review", 1)
        assert ShadowDeployment.objects.get().status == "promoted"
        assert not shadow.shadow_review().promoted  # nothing active any more
    finally:
        champion.alias_set(version=1)


def test_with_the_gate_on_a_worse_or_too_short_shadow_is_not_promoted(settings, champion):
    settings.SHADOW_REQUIRED_FOR_PROMOTION = True
    settings.SHADOW_MIN_SETTLED = 300
    shadow.shadow_start(version=2, triggered_by="test")
    settled_pairs(100, shadow_better=True)
    assert "the gate needs 300" in shadow.shadow_review().reason
    mongo.warehouse_collection(mongo.PREDICTIONS).delete_many({})
    settled_pairs(400, shadow_better=False)
    report = shadow.shadow_review()
    assert not report.promoted
    assert "no significant live gain" in report.reason
    assert champion.alias_version() == "1"


def test_shadow_predictions_are_joined_to_outcomes_like_the_champions(api, mlflow_store):
    shadow.shadow_start(version=2, triggered_by="test")
    shadow.scorer().refresh()
    docs = warehouse_documents(mlflow_store.frame.head(4))
    post_identified(api, docs)
    shadow.scorer().drain()
    prediction_log.flush()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    mongo.warehouse_collection(mongo.SHOTS).insert_many([{**d, "ingested_at": now} for d in docs])
    predictions_join_outcomes()
    entries = logged()
    assert all(d.made is not None and d.live for d in entries if d.key is not None)
    made, p_champion, p_shadow = shadow.paired_predictions(champion_version="1", shadow_version="2", limit=100)
    assert len(made) == len(p_champion) == len(p_shadow) == 4


# --- pages, metrics, admin ----------------------------------------------------------------------


def test_the_model_page_and_the_metrics_show_champion_and_shadow_on_the_same_shots(client, staff, settings):
    shadow.shadow_start(version=2, triggered_by="test")
    settled_pairs(400, shadow_better=True)
    shadow.shadow_review()
    client.force_login(staff)
    page = client.get(reverse("portal:model")).content.decode()
    assert 'id="shadow-card"' in page
    assert "400 settled shots scored by both" in page
    text = client.get("/metrics").content.decode()
    assert 'parivision_shadow_live_score{bound="value",metric="log_loss",role="shadow",version="2"}' in text
    assert 'parivision_shadow_live_score{bound="high",metric="brier",role="champion",version="1"}' in text
    assert 'parivision_shadow_pairs{version="2"} 400.0' in text


def test_the_admin_starts_and_stops_a_shadow(client, staff, champion):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    url = reverse("admin:predictions_shadowdeployment_add")
    refused = client.post(url, {"version": 1, "start_reason": "x"})
    assert "is the champion" in refused.content.decode()
    assert not ShadowDeployment.objects.exists()
    client.post(url, {"version": 2, "start_reason": "try the deeper trees"}, follow=True)
    row = ShadowDeployment.objects.get(status="active")
    assert (row.version, row.started_by, row.start_reason) == (2, "admin", "try the deeper trees")
    assert champion.alias_version(alias="shadow") == "2"
    changelist = reverse("admin:predictions_shadowdeployment_changelist")
    client.post(changelist, {"action": "stop_shadow", "_selected_action": [row.pk]}, follow=True)
    assert ShadowDeployment.objects.get().status == "stopped"
    assert champion.alias_version(alias="shadow") is None


def test_a_shadow_whose_version_became_champion_is_closed_by_the_review(champion):
    shadow.shadow_start(version=2, triggered_by="test")
    champion.alias_set(version=2)
    try:
        report = shadow.shadow_review()
        assert report.reason == "the shadow's version is the champion now"
        assert ShadowDeployment.objects.get().status == "promoted"
        assert champion.alias_version(alias="shadow") is None
    finally:
        champion.alias_set(version=1)


# --- the worker mode ----------------------------------------------------------------------------


def test_in_worker_mode_web_processes_hand_shots_to_redis_and_the_worker_scores_them(api, mlflow_store, settings):
    from django.core.management import call_command

    from predictions.redis_client import redis_client

    settings.SHADOW_SCORER = "worker"
    shadow.reset()
    redis_client().delete(shadow.QUEUE_KEY)
    shadow.shadow_start(version=2, triggered_by="test")
    web = shadow.scorer()
    assert web.refresh() == "2"
    assert web._model is None  # the web side loads no model in worker mode
    docs = warehouse_documents(mlflow_store.frame.head(3))
    post_identified(api, docs)
    assert web.drain() == 3  # handed over, not scored
    assert redis_client().llen(shadow.QUEUE_KEY) == 3
    assert not [d for d in logged() if d.role == "shadow"]

    out = __import__("io").StringIO()
    call_command("shadow_score", "--seconds", "5", stdout=out)
    assert out.getvalue().strip() == "scored 3 shot(s) in shadow"
    assert redis_client().llen(shadow.QUEUE_KEY) == 0
    entries = logged()
    champion = {d.key: d for d in entries if d.role is None and d.key is not None}
    shadows = {d.key: d for d in entries if d.role == "shadow"}
    assert set(shadows) == set(champion)
    assert all(doc.made_at == champion[key].made_at for key, doc in shadows.items())
    assert {d.version for d in shadows.values()} == {"2"}


def test_the_worker_drops_what_arrives_while_no_shadow_is_running(settings):
    from predictions.redis_client import redis_client

    settings.SHADOW_SCORER = "worker"
    redis_client().delete(shadow.QUEUE_KEY)
    work = shadow._Work(records=[{"player_id": 1, "game_date": dt.datetime(2024, 1, 2)}], keys=["0022300001:1"],
                        made_at=1_700_000_000.0)
    redis_client().rpush(shadow.QUEUE_KEY, shadow._encode(work))
    assert shadow._decode(shadow._encode(work)) == work
    assert shadow.shadow_consume(seconds=2) == 0
    assert redis_client().llen(shadow.QUEUE_KEY) == 0
