"""What tests/ops reads from monitoring/: rules, dashboard queries and the metric names in them."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
PROMETHEUS_DIR = MONITORING / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.rules"))
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))

# Grafana's own variables, replaced by a value Prometheus accepts before an expression is parsed.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

# Metrics of the exporters in docker-compose.yml that rules and dashboards may use, by exporter.
EXPORTER_METRICS = {
    "prometheus": {"up"},
    "node-exporter": {
        "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", "node_load1",
        "node_load5", "node_filesystem_avail_bytes", "node_filesystem_size_bytes",
        "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
    },
    "cadvisor": {
        "container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
        "container_network_receive_bytes_total", "container_network_transmit_bytes_total",
    },
    "mongodb_exporter": {
        "mongodb_up", "mongodb_ss_connections", "mongodb_ss_opcounters", "mongodb_ss_mem_resident",
        "mongodb_ss_network_bytesIn", "mongodb_ss_network_bytesOut",
    },
}  # fmt: skip

_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "inf", "nan",
    # aggregation operators, followed by `by (...)` rather than by their argument
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


@dataclass(frozen=True)
class Query:
    where: str  # "alerting.rules: PariVisionApiDown" or "parivision.json: panel title"
    expr: str


def metric_names(expr: str) -> set[str]:
    """The metric (and recording-rule) names a PromQL expression reads.

    Strings, label matchers, ranges, label lists, function calls, keywords and numbers are
    removed; what is left are the selectors' names.
    """
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub(r"\1", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def rule_groups(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["groups"]


def rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in RULE_FILES:
        for group in rule_groups(path):
            for rule in group["rules"]:
                yield path, rule


def recorded_names() -> set[str]:
    return {rule["record"] for _, rule in rules() if "record" in rule}


def rule_queries() -> list[Query]:
    return [Query(f"{path.name}: {rule.get('alert') or rule.get('record')}", rule["expr"]) for path, rule in rules()]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def dashboard_queries() -> list[Query]:
    queries = []
    for path in DASHBOARDS:
        for panel in _panels(dashboard(path)["panels"]):
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                queries.append(Query(f"{path.name}: {panel['title']} ({target['refId']})", expr))
    return queries


def tool(name: str) -> str:
    """A Prometheus tool from Debian's packages (scripts/bootstrap.sh --ops), or skip with why."""
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/bootstrap.sh --ops installs Debian's prometheus packages)")
    return path
