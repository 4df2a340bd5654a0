"""Content negotiation for the API views that offer more than JSON."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class _AcceptOnly:
    URL_FORMAT_OVERRIDE = None


class AcceptHeaderNegotiation(DefaultContentNegotiation):
    """The representation follows the Accept header only: DRF's ``?format=`` override answered an
    unknown value with an undocumented 404 (and put a parameter nobody needs in the schema)."""

    settings = _AcceptOnly  # type: ignore[assignment]
