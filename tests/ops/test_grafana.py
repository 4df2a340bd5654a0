"""Grafana provisioning: the data source the dashboards use, valid dashboards, parseable queries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ops.monitoring import DASHBOARDS, MONITORING, dashboard, dashboard_queries, tool

PROVISIONING = MONITORING / "grafana" / "provisioning"


def test_the_three_dashboards_are_valid_json_with_unique_uids_and_panel_ids() -> None:
    assert {path.name for path in DASHBOARDS} == {"parivision.json", "host-and-containers.json", "mongodb.json"}
    uids = [dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids)
    for path in DASHBOARDS:
        ids = [panel["id"] for panel in dashboard(path)["panels"]]
        assert len(set(ids)) == len(ids), path.name


def test_every_panel_queries_the_provisioned_prometheus_data_source() -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    (prometheus,) = datasources
    assert prometheus["type"] == "prometheus"
    assert prometheus["url"] == "http://prometheus:9090"
    for path in DASHBOARDS:
        for panel in dashboard(path)["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"
            for target in [panel, *panel["targets"]]:
                assert target["datasource"] == {"type": "prometheus", "uid": prometheus["uid"]}, panel["title"]


def test_the_dashboard_provider_reads_the_folder_compose_mounts() -> None:
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "parivision.yml").read_text())["providers"]
    compose = (MONITORING.parent / "docker-compose.yml").read_text()
    for provider in providers:
        assert f"./monitoring/grafana/dashboards:{provider['options']['path']}:ro" in compose


def test_the_parivision_dashboard_shows_what_the_issue_asks_for() -> None:
    titles = " | ".join(panel["title"] for panel in dashboard(MONITORING / "grafana/dashboards/parivision.json")["panels"])
    for part in ("Requests per second", "latency percentiles by model version", "predicted per second",
                 "Live vs holdout accuracy", "Drift", "Ingestion", "Celery"):  # fmt: skip
        assert part in titles


def test_every_dashboard_query_parses_as_promql(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert len(queries) > 40
    # One group per query, so promtool names the panel whose query does not parse.
    groups = [{"name": query.where, "rules": [{"record": f"dashboard:query_{i}", "expr": query.expr}]}
              for i, query in enumerate(queries)]  # fmt: skip
    rule_file = tmp_path / "dashboards.rules"
    rule_file.write_text(yaml.safe_dump({"groups": groups}))
    result = subprocess.run([tool("promtool"), "check", "rules", str(rule_file)], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("expr", ["rate(foo[5m]", 'sum by (job) (up{job="x"}) >'])
def test_the_parse_check_does_catch_a_broken_query(tmp_path: Path, expr: str) -> None:
    rule_file = tmp_path / "broken.rules"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r:x", "expr": expr}]}]}))
    result = subprocess.run([tool("promtool"), "check", "rules", str(rule_file)], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode != 0
