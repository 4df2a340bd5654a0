"""Betting over the REST API: a bettor's own bets as CSV."""

from __future__ import annotations

import json
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from betting.export import COLUMNS, bets_csv_response
from parivision.negotiation import AcceptHeaderNegotiation
from parivision.renderers import JSONRenderer
from predictions.api import ApiView, _errors


class CsvRenderer(BaseRenderer):
    """Lets clients ask for ``text/csv`` (the CSV itself is streamed, never rendered from data)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode()  # not reached: refusals are switched to JSON below


class BetExportApi(ApiView):
    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [CsvRenderer, JSONRenderer]
    content_negotiation_class = AcceptHeaderNegotiation

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response):  # a refusal (401, 429): the one JSON error shape, whatever was asked
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="bets_export", tags=["betting"], summary="Your bets as CSV",
        description=("Every bet of the signed-in user, oldest first, streamed as CSV with the columns "
                     f"{', '.join(COLUMNS)}. A shot's outcome and key are blank until the stream has taken it."),
        request=None, responses={(200, "text/csv"): OpenApiTypes.STR, **_errors(401, 429)},
        parameters=[OpenApiParameter("format", exclude=True)],  # Accept only (AcceptHeaderNegotiation)
        examples=[OpenApiExample("Two bets, one still open", response_only=True, media_type="text/csv", value=(
            ",".join(COLUMNS) + "\n"
            "41,2024-04-02T19:03:11Z,2024-04-02T19:03:31Z,won,made,25.00,1.850,46.25,21.25,0.6210,812,settled,"
            "2024-01-27,Stephen Curry,GSW,LAL,4,1:35,Pullup Jump Shot,3PT,Above the Break 3,26.0,0022300650:4:95:201939:-65:240,made\n"
            "42,2024-04-02T19:03:40Z,,open,missed,10.00,1.720,,,0.4480,813,open,2024-01-27,LeBron James,LAL,GSW,"
            "4,1:12,Driving Layup Shot,2PT,Restricted Area,2.0,,\n"))],
    )  # fmt: skip
    def get(self, request: Request) -> StreamingHttpResponse:
        return bets_csv_response(user=request.user)
