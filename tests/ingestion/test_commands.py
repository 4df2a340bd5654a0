"""The ingestion commands and admin pages operators use."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from ingestion.models import IngestionRun
from parivision import mongo
from tests.factories import nba_com_game, write_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


def test_seed_schedules_creates_the_defaults_once_and_keeps_edits():
    call_command("seed_schedules", stdout=StringIO())
    pull = PeriodicTask.objects.get(name="Pull the feed")
    assert pull.task == "ingestion.pull_feed"
    assert pull.interval.every == 60
    nightly = PeriodicTask.objects.get(name="Nightly ML pipeline")
    assert (nightly.crontab.minute, nightly.crontab.hour) == ("30", "3")
    assert json.loads(nightly.kwargs) == {"trigger": "beat (nightly)"}

    pull.enabled = False
    pull.save()
    out = StringIO()
    call_command("seed_schedules", stdout=out)
    assert "kept" in out.getvalue()
    assert PeriodicTask.objects.filter(name="Pull the feed").count() == 1
    assert not PeriodicTask.objects.get(name="Pull the feed").enabled
    call_command("seed_schedules", "--reset", stdout=StringIO())
    assert PeriodicTask.objects.get(name="Pull the feed").interval.every == 60


def test_import_shots_prints_a_summary_with_rejections_by_reason(tmp_path):
    rows = nba_com_game("22300001", 4)
    rows[0]["SHOT_TYPE"] = "4PT Field Goal"
    out = StringIO()
    call_command("import_shots", str(write_csv(tmp_path / "s.csv", rows)), "--no-progress", stdout=out)
    text = out.getvalue()
    assert "read 4, inserted 3, duplicates 0, corrected 0, rejected 1" in text
    assert "shot_type: is not a known shot type (2PT or 3PT)" in text
    assert "coordinates in feet, origin at the baseline, x > 0 is the Left Side" in text


def test_import_shots_explains_a_refused_file_once(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CommandError, match=r"^broken\.zip: is a damaged zip"):
        call_command("import_shots", str(path), "--no-progress")


def test_import_shots_names_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("import_shots", str(tmp_path / "missing.csv"))


def test_generate_shots_writes_and_imports_synthetic_games(tmp_path):
    out = StringIO()
    call_command("generate_shots", "--games", "3", "--output", str(tmp_path / "g.csv"), stdout=out)
    shots = mongo.warehouse_collection(mongo.SHOTS)
    assert shots.count_documents({}) > 200
    assert shots.count_documents({"source": "generator"}) == shots.count_documents({})
    assert IngestionRun.objects.get().kind == IngestionRun.Kind.GENERATOR


def test_the_admin_lists_runs_and_browses_the_quarantine(admin_client, tmp_path):
    rows = nba_com_game("22300001", 3)
    rows[1]["QUARTER"] = "15"
    call_command("import_shots", str(write_csv(tmp_path / "s.csv", rows)), "--no-progress", stdout=StringIO())

    runs = admin_client.get("/admin/ingestion/ingestionrun/")
    assert runs.status_code == 200
    assert b"s.csv" in runs.content
    quarantine = admin_client.get("/admin/ingestion/quarantinedrecord/")
    assert quarantine.status_code == 200
    assert b"period: is out of range 1..10" in quarantine.content
    filtered = admin_client.get("/admin/ingestion/quarantinedrecord/", {"reason": "x: is off the court"})
    assert b"Nothing in quarantine" in filtered.content


def test_the_quarantine_is_not_for_anonymous_users(client):
    assert client.get("/admin/ingestion/quarantinedrecord/").status_code == 302
