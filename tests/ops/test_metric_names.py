"""Every metric a rule or a dashboard reads is exposed by the app's /metrics or a listed exporter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from tests.ops.monitoring import (
    EXPORTER_METRICS,
    ROOT,
    dashboard_queries,
    metric_names,
    recorded_names,
    rule_queries,
)

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gauge": (),
}


def exposed_names(text: str) -> set[str]:
    """Sample names in an exposition, plus the series names each declared family can have."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


@pytest.fixture
def app_metrics(django_user_model: Any, mongo_db: None) -> str:
    """/metrics of the app after a little traffic: pages, a 404, a refused prediction."""
    user = django_user_model.objects.create_user(username="ops-metrics", password="pw-ops-metrics-1")
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/healthz").status_code == 200
    assert api.get("/no-such-page").status_code == 404
    assert api.post("/api/v1/predictions", {"period": 99}, format="json").status_code == 400
    response = api.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_traffic_shows_up_in_the_app_metrics(app_metrics: str) -> None:
    assert re.search(r'^django_http_responses_total_by_status_total\{status="404"\} [1-9]', app_metrics, re.M)
    assert re.search(r'^parivision_prediction_errors_total\{endpoint="single",reason="validation"\} [1-9]',
                     app_metrics, re.M)  # fmt: skip


@pytest.mark.django_db
def test_the_http_series_by_view_status_and_method_are_recorded_and_the_unread_ones_not(app_metrics: str) -> None:
    view = 'view="api:prediction-create"'
    assert re.search(r'^django_http_requests_total_by_method_total\{method="POST"\} [1-9]', app_metrics, re.M)
    assert re.search(rf'^django_http_requests_total_by_view_transport_method_total\{{method="POST",transport="http",'
                     rf'{view}\}} [1-9]', app_metrics, re.M)  # fmt: skip
    assert re.search(rf'^django_http_responses_total_by_status_view_method_total\{{method="POST",status="400",'
                     rf'{view}\}} [1-9]', app_metrics, re.M)  # fmt: skip
    assert re.search(rf'^django_http_requests_latency_seconds_by_view_method_count\{{method="POST",{view}\}} [1-9]',
                     app_metrics, re.M)  # fmt: skip
    # parivision/http_metrics.py: written by django-prometheus' own middleware, read by nothing here.
    for unread in ("django_http_requests_body_total_bytes_count", "django_http_responses_body_total_bytes_count",
                   "django_http_responses_total_by_charset_total", "django_http_responses_total_by_templatename_total",
                   "django_http_requests_total_by_transport_total"):
        assert not re.search(rf"^{unread}(\{{.*\}})? [1-9]", app_metrics, re.M), unread


@pytest.mark.django_db
def test_every_metric_in_docs_metrics_md_is_exposed(app_metrics: str) -> None:
    names = set()
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`(parivision_\w+)`", line.split("|")[1]))
    assert len(names) >= 15
    missing = sorted(names - exposed_names(app_metrics))
    assert not missing, f"documented in docs/metrics.md but not on /metrics: {missing}"


@pytest.mark.django_db
def test_every_metric_a_rule_or_dashboard_reads_is_exposed_recorded_or_an_exporters(app_metrics: str) -> None:
    exposed = exposed_names(app_metrics)
    exporters = set().union(*EXPORTER_METRICS.values())
    recorded = recorded_names()
    unknown = []
    for query in rule_queries() + dashboard_queries():
        for name in sorted(metric_names(query.expr)):
            known = name in recorded if ":" in name else name in exposed or name in exporters
            if not known:
                unknown.append(f"{query.where}: {name}")
    assert not unknown, "metrics nobody exposes:\n" + "\n".join(unknown)


@pytest.mark.django_db
def test_the_listed_exporter_metrics_are_not_names_the_app_could_shadow(app_metrics: str) -> None:
    exposed = exposed_names(app_metrics)
    for exporter, names in EXPORTER_METRICS.items():
        if exporter != "prometheus":
            assert not names & exposed, exporter


def test_metric_names_are_read_from_selectors_not_from_labels_functions_or_strings() -> None:
    expr = """
        sum by (job, status) (rate(http_total{status=~"5..", job="web"}[5m] offset 1h))
        / on (job) group_left (instance) max without (le) (label_replace(info_metric, "dst", "$1", "src", "(.+)"))
        and histogram_quantile(0.99, sum by (le) (rate(latency_bucket[$__rate_interval]))) > bool 0.5
        or vector(0) unless absent(up{job="x"}) or topk(3, other:recorded:rate5m) * 1e3
    """
    assert metric_names(expr.replace("$__rate_interval", "5m")) == {
        "http_total", "info_metric", "latency_bucket", "up", "other:recorded:rate5m",
    }  # fmt: skip
