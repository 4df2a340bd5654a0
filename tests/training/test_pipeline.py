"""The ML pipeline end to end on a real (temporary) MLflow store and the MongoDB warehouse."""

from __future__ import annotations

import time

import pytest

from ingestion.generator import generate_rows, write_csv
from ingestion.services import shots_import_file
from training.ml.pipeline import model_rescore
from training.ml.split import shots_split_by_date
from training.models import DriftReport, ModelVersion, PipelineRun, PromotionDecision
from training.registry import get_registry
from training.services import data
from training.services.pipeline import pipeline_enqueue, pipeline_execute
from training.services.promotion import champion_promote, champion_rollback, champion_version

pytestmark = [pytest.mark.usefixtures("mongo_db")]

GAMES_FIRST, GAMES_MORE = 50, 25


@pytest.fixture
def mlflow_store(tmp_path, settings):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    return get_registry()


def import_games(folder, *, start: int, stop: int) -> None:
    """Games [start, stop) of a deterministic synthetic season (extending never changes earlier games)."""
    order: dict[str, int] = {}
    rows = []
    for row in generate_rows(games=stop, seed=11):
        index = order.setdefault(row["GAME_ID"], len(order))
        if index >= start:
            rows.append(row)
    path = folder / f"games-{start}-{stop}.csv"
    write_csv(path, rows)
    shots_import_file(location=str(path))


def run_pipeline(*, force: bool = False) -> PipelineRun:
    run = PipelineRun.objects.create(trigger="test", forced=force)
    return pipeline_execute(pipeline_run_id=run.pk)


def first_champion(run: PipelineRun) -> int:
    """The champion after a first run. On these few synthetic games no challenger beats the lookup
    baseline significantly, so none is promoted: an operator promotes the run's choice by hand."""
    if champion_version() is None:
        decision = PromotionDecision.objects.get(pipeline_run=run)
        champion_promote(version=decision.challenger_version, triggered_by="test operator")
    return champion_version()


@pytest.mark.django_db
def test_the_first_run_registers_both_challengers_and_judges_the_best_against_the_baseline(tmp_path, mlflow_store):
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    run = run_pipeline()

    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    versions = ModelVersion.objects.order_by("version")
    assert sorted(v.algorithm for v in versions) == ["random_forest", "xgboost"]
    decision = PromotionDecision.objects.get()
    assert decision.kind == PromotionDecision.Kind.AUTOMATIC
    assert decision.champion_version is None
    assert decision.compared_with == PromotionDecision.Against.BASELINE
    assert decision.metric == "log_loss"
    # The best is chosen on the validation slice, then judged on the holdout against the baseline.
    validation = run.data["validation_scores"]
    chosen = min(validation, key=lambda name: validation[name]["log_loss"])
    assert chosen.endswith(f"v{decision.challenger_version}")
    holdout = run.data["holdout_scores"]
    assert decision.challenger_score == pytest.approx(holdout[chosen]["log_loss"])
    assert decision.champion_score == pytest.approx(holdout["baseline (zone x action)"]["log_loss"])
    assert decision.gain == pytest.approx(decision.champion_score - decision.challenger_score)
    assert decision.gain_low <= decision.gain <= decision.gain_high
    assert decision.confidence == 0.95
    frame = data.shots_frame()
    holdout_games = frame.loc[frame["game_date"] >= run.data["test"]["first"], "game_id"].nunique()
    assert decision.games == holdout_games > 1  # whole games are resampled
    assert decision.promoted is (decision.gain_low > 0)
    assert "vs baseline" in decision.reason
    assert champion_version() == (decision.challenger_version if decision.promoted else None)
    tags = mlflow_store.version_tags(version=decision.challenger_version)
    assert tags["compared_with"] == "baseline"
    assert float(tags["gain_low"]) == pytest.approx(decision.gain_low)
    assert run.data["test"]["rows"] > 0
    assert run.data["train"]["last"] < run.data["test"]["first"]  # the holdout is the latest dates


@pytest.mark.django_db
def test_without_new_data_retraining_is_skipped_unless_forced(tmp_path, mlflow_store, settings):
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    first = run_pipeline()
    champion_before = first_champion(first)

    skipped = run_pipeline()
    assert skipped.status == PipelineRun.Status.SKIPPED
    assert "no new data" in skipped.message

    settings.PROMOTION_MIN_GAIN = 0.5  # no challenger can gain half a point of log loss
    forced = run_pipeline(force=True)
    assert forced.status == PipelineRun.Status.SUCCEEDED, forced.error
    decision = PromotionDecision.objects.filter(pipeline_run=forced).get()
    assert not decision.promoted
    assert decision.champion_version == champion_before
    assert champion_version() == champion_before
    assert "kept the champion" in decision.reason
    assert decision.compared_with == PromotionDecision.Against.CHAMPION
    assert first.pk != forced.pk


@pytest.mark.django_db
def test_the_champion_is_rescored_on_the_same_holdout_as_the_challengers(tmp_path, mlflow_store):
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    old_champion = first_champion(run_pipeline())
    import_games(tmp_path, start=GAMES_FIRST, stop=GAMES_FIRST + GAMES_MORE)

    run = run_pipeline()
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    decision = PromotionDecision.objects.filter(pipeline_run=run).get()
    assert decision.champion_version == old_champion

    # Recompute the champion's score on this run's holdout: the decision used exactly that.
    frame = data.shots_frame(seasons=data.window_seasons(2))
    split = shots_split_by_date(frame, test_fraction=0.2, validation_fraction=0.1)
    from training.ml.features import PlayerHistory

    rescored, _ = model_rescore(
        model=mlflow_store.model_load(version=old_champion), split=split, history=PlayerHistory.from_shots(frame)
    )
    assert decision.champion_score == pytest.approx(rescored.log_loss)
    assert run.data["holdout_scores"][f"champion v{old_champion} (re-scored)"]["log_loss"] == pytest.approx(
        rescored.log_loss)
    stored = ModelVersion.objects.get(version=old_champion).holdout_scores["accuracy"]
    assert run.data["test"]["first"] > ModelVersion.objects.get(version=old_champion).data["holdout"]["first_date"]
    assert decision.champion_score is not None
    assert stored is not None  # the stored score is kept for the record, never used to decide


@pytest.mark.django_db
def test_new_data_gets_a_drift_report_stored_in_mlflow(tmp_path, mlflow_store, admin_client):
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    first_champion(run_pipeline())
    import_games(tmp_path, start=GAMES_FIRST, stop=GAMES_FIRST + GAMES_MORE)
    run = run_pipeline()

    report = DriftReport.objects.get(pipeline_run=run)
    assert 0.0 <= report.share_drifted <= 1.0
    assert report.current["rows"] > 0
    assert report.reference["rows"] > 0
    assert report.current["first_date"] > report.reference["last_date"]
    assert "distance_ft" in report.columns
    html = admin_client.get(f"/admin/training/driftreport/{report.pk}/artifact/html/")
    assert html.status_code == 200
    assert b"<html" in html.content.lower()[:2000] or b"<!doctype" in html.content.lower()[:200]
    as_json = admin_client.get(f"/admin/training/driftreport/{report.pk}/artifact/json/")
    assert as_json.status_code == 200


@pytest.mark.django_db
def test_promote_by_hand_and_roll_back_are_audited(tmp_path, mlflow_store):
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    first = first_champion(run_pipeline())
    other = ModelVersion.objects.exclude(version=first).get().version

    manual = champion_promote(version=other, triggered_by="test operator")
    assert champion_version() == other
    assert manual.kind == PromotionDecision.Kind.MANUAL
    assert manual.champion_version == first
    assert ModelVersion.objects.get(is_champion=True).version == other

    back = champion_rollback(triggered_by="test operator")
    assert champion_version() == first
    assert back.kind == PromotionDecision.Kind.ROLLBACK
    assert back.reason == f"rolled back from v{other} to v{first}"
    assert ModelVersion.objects.get(is_champion=True).version == first


@pytest.mark.django_db
def test_promoting_an_unknown_version_is_refused(mlflow_store):
    from parivision.errors import ApplicationError

    with pytest.raises(ApplicationError, match="not registered"):
        champion_promote(version=999, triggered_by="test")
    with pytest.raises(ApplicationError, match="no earlier champion"):
        champion_rollback(triggered_by="test")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_the_whole_pipeline_runs_in_a_real_celery_worker(tmp_path):
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    before = champion_version()  # the worker's registry may hold an earlier test's champion
    run = pipeline_enqueue(trigger="test")  # autocommit: on_commit fires at once
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (PipelineRun.Status.SUCCEEDED, PipelineRun.Status.FAILED, PipelineRun.Status.SKIPPED):
            break
        time.sleep(0.5)
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    assert run.task_id
    decision = PromotionDecision.objects.get(pipeline_run=run)
    assert decision.compared_with == (PromotionDecision.Against.BASELINE if before is None
                                      else PromotionDecision.Against.CHAMPION)
    assert decision.gain_low is not None
    assert champion_version() == (decision.challenger_version if decision.promoted else before)


@pytest.mark.django_db
def test_the_commands_train_report_drift_promote_and_roll_back(tmp_path, mlflow_store):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    call_command("train", stdout=out)
    printed = out.getvalue()
    assert "succeeded" in printed
    # Every model's scores, then the decision with its interval.
    for model in ("baseline (zone x action)", "random_forest v", "xgboost v"):
        assert model in printed
    for column in ("accuracy", "roc_auc", "log_loss", "brier", "ece"):
        assert column in printed
    assert "decision on log_loss" in printed
    assert "95% interval" in printed
    first_champion(PipelineRun.objects.get())
    with pytest.raises(Exception, match="no shots since"):
        call_command("drift_report", stdout=out)
    import_games(tmp_path, start=GAMES_FIRST, stop=GAMES_FIRST + GAMES_MORE)
    call_command("drift_report", stdout=out)
    assert DriftReport.objects.filter(pipeline_run=None).count() == 1
    assert "of inputs drifted" in out.getvalue()

    first = champion_version()
    other = ModelVersion.objects.exclude(version=first).get().version
    call_command("promote", "--version", str(other), stdout=out)
    assert champion_version() == other
    call_command("rollback", stdout=out)
    assert champion_version() == first
    assert PromotionDecision.objects.filter(triggered_by__startswith="manage.py").count() == 2


@pytest.mark.django_db
def test_after_a_run_the_runner_up_serves_in_shadow_and_with_the_gate_a_winner_waits_in_shadow(
        tmp_path, mlflow_store, settings, monkeypatch):
    from predictions.models import ShadowDeployment
    from training.ml.promotion import Verdict
    from training.services import pipeline

    import_games(tmp_path, start=0, stop=GAMES_FIRST)
    before = run_pipeline()
    assert not ShadowDeployment.objects.exists()  # no champion yet: nothing to shadow
    champion = first_champion(before)
    first = run_pipeline(force=True)
    assert champion_version() == champion  # the same data: nothing beats it significantly
    ranked = PromotionDecision.objects.get(pipeline_run=first).challenger_version
    runner_up = ranked if ranked != champion else ModelVersion.objects.filter(pipeline_run=first).exclude(
        version=ranked).get().version
    shadow = ShadowDeployment.objects.get(status="active")
    assert (shadow.version, shadow.pipeline_run_id) == (runner_up, first.pk)
    assert mlflow_store.alias_version(alias="shadow") == str(runner_up)
    assert first.message.endswith(f"v{runner_up} serves in shadow")

    settings.SHADOW_REQUIRED_FOR_PROMOTION = True
    monkeypatch.setattr(pipeline, "promotion_decide", lambda **_: Verdict(True, 0.01, "the challenger wins"))
    held = run_pipeline(force=True)
    assert held.status == PipelineRun.Status.SUCCEEDED, held.error
    decision = PromotionDecision.objects.get(pipeline_run=held)
    assert not decision.promoted
    assert "held for a shadow period" in decision.reason
    assert champion_version() == champion  # not replaced directly
    waiting = ShadowDeployment.objects.get(status="active")
    assert waiting.version == decision.challenger_version  # the held winner is the one in shadow
    assert ShadowDeployment.objects.get(version=runner_up, pipeline_run=first).status == "stopped"
