"""Production settings: refuse to start without secrets, and pass Django's deployment checklist."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Only what a production process would have: no secrets, no test-only switches.
    dropped = ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "parivision.settings.production",
             "FEED_TOKEN": "f" * 8 + secrets.token_urlsafe(32), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", ALLOWED_HOSTS="parivision.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_or_default_secret_key():
    result = manage("check", SECRET_KEY="insecure-development-key-never-use-in-production", ALLOWED_HOSTS="x.example")
    assert result.returncode != 0
    assert "long random value" in result.stderr


def test_production_refuses_a_missing_or_short_feed_token():
    result = manage("check", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="x.example", FEED_TOKEN="short")
    assert result.returncode != 0
    assert "FEED_TOKEN must be a long random value" in result.stderr


def test_production_refuses_debug():
    result = manage("check", SECRET_KEY=secrets.token_urlsafe(64), DEBUG="true", ALLOWED_HOSTS="x.example")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_the_deployment_checklist_is_clean(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="parivision.example.com",
        PARIVISION_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_scores_a_shadow_off_the_web_processes_unless_told_otherwise():
    shell = "from django.conf import settings; print(settings.SHADOW_SCORER)"
    common = {"SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "x.example"}
    assert manage("shell", "-v", "0", "-c", shell, **common).stdout.split() == ["worker"]
    assert manage("shell", "-v", "0", "-c", shell, SHADOW_SCORER="thread", **common).stdout.split() == ["thread"]
