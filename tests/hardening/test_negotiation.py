"""The API's content negotiation answers what DRF's own would, header by header."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from rest_framework import renderers
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from parivision.negotiation import AcceptHeaderNegotiation, FastNegotiation
from parivision.renderers import JSONRenderer


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"


RENDERER_SETS: dict[str, list[Any]] = {
    "json": [JSONRenderer()],
    "json then csv": [JSONRenderer(), CSVRenderer()],
    "csv then json": [CSVRenderer(), JSONRenderer()],
    "csv": [CSVRenderer()],
}
ACCEPTS = [None, "*/*", "application/json", "text/csv", "text/html", "application/json; indent=2",
           "text/csv, application/json;q=0.5", "application/*", ""]


def outcome(negotiation: Any, accept: str | None, renderer_set: list[Any], query: str = "",
            suffix: str | None = None) -> Any:
    headers: dict[str, Any] = {"HTTP_ACCEPT": accept} if accept is not None else {}
    request = Request(APIRequestFactory().get(f"/api/v1/x{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderer_set, suffix)
    except (NotAcceptable, NotFound, Http404) as error:
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("renderer_set", RENDERER_SETS)
@pytest.mark.parametrize("query", ["", "?format=csv", "?format=json", "?format=xml"])
def test_the_fast_answer_is_drfs_answer(accept: str | None, renderer_set: str, query: str) -> None:
    chosen = RENDERER_SETS[renderer_set]
    assert outcome(FastNegotiation(), accept, chosen, query) == outcome(DefaultContentNegotiation(), accept,
                                                                         chosen, query)


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("renderer_set", RENDERER_SETS)
def test_a_format_suffix_is_left_to_drf(accept: str | None, renderer_set: str) -> None:
    chosen = RENDERER_SETS[renderer_set]
    assert outcome(FastNegotiation(), accept, chosen, suffix="csv") == outcome(
        DefaultContentNegotiation(), accept, chosen, suffix="csv")


def test_the_accept_only_negotiation_ignores_the_format_parameter() -> None:
    chosen = RENDERER_SETS["json then csv"]
    assert outcome(AcceptHeaderNegotiation(), None, chosen, "?format=csv") == ("JSONRenderer", "application/json")
    assert outcome(AcceptHeaderNegotiation(), "text/csv", chosen, "?format=json") == ("CSVRenderer", "text/csv")


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_the_common_headers_never_reach_drfs_parsing(accept: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    def parsed(*args: Any) -> Any:
        raise AssertionError("DRF's negotiation ran")

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", parsed)
    assert outcome(FastNegotiation(), accept, RENDERER_SETS["csv then json"]) == (
        ("CSVRenderer", "text/csv") if accept != "application/json" else ("JSONRenderer", "application/json"))
