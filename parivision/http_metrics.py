"""django-prometheus' per-request metrics, limited to the series this project reads.

django-prometheus' ``PrometheusAfterMiddleware`` records some twenty samples per request: request
and response body sizes (two histograms), transport, AJAX, template name, charset and streaming
counters beside the counts and latencies by view and status. Under gunicorn every sample is a
write to a memory-mapped file shared between the workers (``PROMETHEUS_MULTIPROC_DIR``), and on
the prediction endpoint the middleware cost about a twentieth of a request's CPU.

``PrometheusAfterMiddleware`` keeps what the recording rules, the dashboards, the alerts and the
tests read (``monitoring/prometheus/rules``, ``docs/metrics.md``):

* ``django_http_requests_total_by_method`` and ``..._by_view_transport_method``,
* ``django_http_responses_total_by_status`` and ``..._by_status_view_method``,
* ``django_http_requests_latency_seconds_by_view_method`` (histogram),
* ``django_http_exceptions_total_by_type`` and ``..._by_view``,

and drops the others. ``PrometheusBeforeMiddleware`` (first in ``MIDDLEWARE``: it also counts
answers that never reach the views, such as a 413) is django-prometheus' own.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django_prometheus import middleware
from django_prometheus.utils import Time, TimeSince


class PrometheusAfterMiddleware(middleware.PrometheusAfterMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        self.label_metric(self.metrics.requests_by_method, request, method=self._method(request)).inc()
        request.prometheus_after_middleware_event = Time()  # type: ignore[attr-defined]

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        return response

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        method = self._method(request)
        view = self._get_view_name(request)
        status = str(response.status_code)
        self.label_metric(self.metrics.responses_by_status, request, response, status=status).inc()
        self.label_metric(self.metrics.responses_by_status_view_method, request, response, status=status,
                          view=view, method=method).inc()  # fmt: skip
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is not None:
            self.label_metric(self.metrics.requests_latency_by_view_method, request, response, view=view,
                              method=request.method).observe(TimeSince(started))  # fmt: skip
        else:
            self.label_metric(self.metrics.requests_unknown_latency, request, response).inc()
        return response
