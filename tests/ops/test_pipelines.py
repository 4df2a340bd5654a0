"""The GitHub Actions workflows (actionlint) and the Jenkinsfile's stages."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ops.monitoring import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
JENKINSFILE = ROOT / "Jenkinsfile"


def actionlint() -> str:
    path = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(path).exists():
        pytest.skip("actionlint is not installed (requirements/dev.txt)")
    return path


def test_actionlint_accepts_every_workflow() -> None:
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "deploy.yml"}
    result = subprocess.run([actionlint(), "-color=false", *map(str, WORKFLOWS)], capture_output=True, text=True,
                            timeout=120, check=False, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command_on_push_and_pull_request() -> None:
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    assert {"push", "pull_request"} <= set(ci[True])  # PyYAML reads the key `on` as True
    steps = [step.get("run", "") for step in ci["jobs"]["test"]["steps"]]
    assert any("scripts/test.sh" in run for run in steps)
    assert any("ruff check" in step.get("run", "") for step in ci["jobs"]["lint"]["steps"])


def test_deploy_runs_only_when_its_secrets_exist() -> None:
    deploy = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    jobs = deploy["jobs"]
    assert "needs.configured.outputs.enabled == 'true'" in jobs["deploy"]["if"]
    check = jobs["configured"]["steps"][0]
    assert set(check["env"]) == {"DEPLOY_HOST", "DEPLOY_USER", "DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS"}
    script = " ".join(step.get("run", "") for step in jobs["deploy"]["steps"])
    assert "docker compose up -d" in script
    assert "git fetch" in script
    assert "ssh " in script


def test_the_jenkinsfile_stages_call_commands_that_exist() -> None:
    text = JENKINSFILE.read_text()
    stages = re.findall(r"stage\('([^']+)'\)", text)
    assert [s for s in stages if s.startswith(("ETL", "ML"))] == [
        "ETL: pull feed", "ETL: transform lake → warehouse", "ML: drift report", "ML: train, evaluate, promote",
        "ML: promote by hand", "ML: rollback", "ML: reload serving",
    ]  # fmt: skip
    called = set(re.findall(r"manage\([\"'](\w+)", text))
    assert called == {"pull_feed", "transform_lake", "drift_report", "train", "promote", "rollback"}
    commands = {path.stem for path in ROOT.glob("*/management/commands/*.py")}
    assert called <= commands
    assert "/api/v1/models/champion" in text
    for parameter in ("PIPELINE", "FEED_BATCHES", "FEED_PULL_SIZE", "FORCE_TRAIN", "PROMOTE_VERSION", "ROLLBACK"):
        assert f"name: '{parameter}'" in text


def test_the_jenkinsfile_braces_and_parentheses_balance() -> None:
    text = re.sub(r'""".*?"""', "", JENKINSFILE.read_text(), flags=re.S)  # the reload stage's script
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)  # comments
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", text)  # strings may hold any character
    for opening, closing in ("{}", "()", "[]"):
        assert text.count(opening) == text.count(closing), opening + closing
