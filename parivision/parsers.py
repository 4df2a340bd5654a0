"""The API's JSON parser: DRF's, with a bound on nesting.

A body nested a thousand levels deep parses, but then breaks whatever walks it recursively
(``str()`` of a value in an error message, the serializers, the renderer) with a
``RecursionError``: a 500. No request the API accepts is nested deeper than a few levels, so
anything deeper than ``API_JSON_MAX_DEPTH`` is a 400 here, before any view sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` holds containers more than ``limit`` levels deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is not dict and type(node) is not list:
            continue
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if nesting_exceeds(data, settings.API_JSON_MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested more than {settings.API_JSON_MAX_DEPTH} levels deep.")
        return data
