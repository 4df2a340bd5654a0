"""Content negotiation: DRF's rules, with the common case answered without parsing anything.

Nearly every API request says ``Accept: */*``, ``application/json`` or nothing. For those DRF's
negotiation parses the header into media types, sorts them by precedence and matches each against
each renderer to arrive at the first renderer (or the first JSON one): ``FastNegotiation`` returns
that answer directly and leaves every other header, a ``?format=`` override and a format suffix
to DRF.
"""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation

_ANY = ("*/*", None)


class FastNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        override = self.settings.URL_FORMAT_OVERRIDE
        if renderers and format_suffix is None and not (override and override in request.query_params):
            accept = request.META.get("HTTP_ACCEPT")
            if accept in _ANY:
                return renderers[0], renderers[0].media_type
            if accept == "application/json":
                for renderer in renderers:
                    if renderer.media_type == accept:
                        return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class _AcceptOnly:
    URL_FORMAT_OVERRIDE = None


class AcceptHeaderNegotiation(FastNegotiation):
    """The representation follows the Accept header only: DRF's ``?format=`` override answered an
    unknown value with an undocumented 404 (and put a parameter nobody needs in the schema)."""

    settings = _AcceptOnly  # type: ignore[assignment]
