"""monitoring/prometheus and monitoring/alertmanager pass the projects' own checkers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.ops.monitoring import MONITORING, PROMETHEUS_DIR, RULE_FILES, rules, tool

ALERTMANAGER_DIR = MONITORING / "alertmanager"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def test_promtool_accepts_the_prometheus_config_and_its_rule_files(tmp_path: Path) -> None:
    # promtool opens every file the config names: the metrics token is a compose secret at
    # /run/secrets/metrics_token in the container, so the check runs on a copy pointing at a stand-in.
    copy = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS_DIR, copy)
    (tmp_path / "metrics_token").write_text("stand-in\n")
    config = copy / "prometheus.yml"
    config.write_text(config.read_text().replace("/run/secrets/metrics_token", str(tmp_path / "metrics_token")))
    result = run(tool("promtool"), "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout


def test_promtool_accepts_every_rule_file() -> None:
    result = run(tool("promtool"), "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerting_rules_pass_their_promtool_unit_tests() -> None:
    result = run(tool("promtool"), "test", "rules", str(PROMETHEUS_DIR / "tests" / "alerting_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_config_loads_both_rule_files_and_scrapes_the_app_the_worker_and_every_exporter() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert sorted(config["rule_files"]) == sorted(f"rules/{path.name}" for path in RULE_FILES)
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"parivision-web", "parivision-worker", "node", "cadvisor", "mongodb"} <= jobs


def test_every_alert_has_a_severity_a_summary_and_a_description() -> None:
    alerts = [rule for _, rule in rules() if "alert" in rule]
    assert len(alerts) >= 9
    for rule in alerts:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


def test_the_issue_asks_for_these_alerts_and_they_exist() -> None:
    names = {rule["alert"] for _, rule in rules() if "alert" in rule}
    assert {
        "PariVisionApiDown", "PariVisionHigh5xxRatio", "PariVisionPredictionLatencyHigh",
        "PariVisionNoPredictionsServed", "PariVisionIngestionStalled", "PariVisionDriftHigh",
        "PariVisionLiveAccuracyBelowHoldout", "PariVisionCeleryTaskFailures", "MongoDBDown",
    } <= names  # fmt: skip


def test_amtool_accepts_the_alertmanager_config_with_its_templates(tmp_path: Path) -> None:
    # In the container the templates are at /etc/alertmanager/templates; point at the checkout's.
    text = (ALERTMANAGER_DIR / "alertmanager.yml").read_text()
    assert "/etc/alertmanager/templates/" in text
    config = tmp_path / "alertmanager.yml"
    config.write_text(text.replace("/etc/alertmanager/templates/", f"{ALERTMANAGER_DIR / 'templates'}/"))
    result = run(tool("amtool"), "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout


def test_the_slack_templates_render(tmp_path: Path) -> None:
    text = '{{ template "parivision.slack.title" . }}|{{ template "parivision.slack.text" . }}'
    result = run(tool("amtool"), "template", "render", f"--template.glob={ALERTMANAGER_DIR / 'templates'}/*.tmpl",
                 f"--template.text={text}")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("[")


def test_the_slack_webhook_comes_from_a_file_and_no_url_is_committed() -> None:
    config = yaml.safe_load((ALERTMANAGER_DIR / "alertmanager.yml").read_text())
    assert config["global"]["slack_api_url_file"] == "/run/secrets/slack_webhook_url"
    assert "hooks.slack.com" not in (ALERTMANAGER_DIR / "alertmanager.yml").read_text()
    for receiver in config["receivers"]:
        for slack in receiver.get("slack_configs", []):
            assert "api_url" not in slack, receiver["name"]
