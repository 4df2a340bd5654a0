"""DRF fields that accept exactly the JSON type the OpenAPI schema states.

DRF's ``CharField`` turns ``123`` into ``"123"``, ``IntegerField`` takes ``"12"`` and
``FloatField`` takes ``"1.5"`` and ``true``: lenient, but not what the schema promises, so a
client (or schemathesis) sending the wrong type is told so with a 400 naming the field.
Each keeps its DRF base as ``fast_kind`` for the fast validation path (predictions/validation.py),
which already accepts only the exact type and defers anything else to these fields.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

# The largest id any API accepts (NBA player, team and event ids are far below it; the stores'
# 64-bit integers and numpy's int64 far above): a larger number is a 400, never an OverflowError.
MAX_ID = 2**31 - 1
# How every API writes a season: 2023-24.
SEASON_PATTERN = r"^\d{4}-\d{2}$"


class StrictCharField(serializers.CharField):
    fast_kind = serializers.CharField
    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    fast_kind = serializers.RegexField
    default_error_messages = {"invalid_type": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_type")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    fast_kind = serializers.IntegerField

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, (str, bool)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    fast_kind = serializers.FloatField

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, (str, bool)):
            self.fail("invalid")
        return super().to_internal_value(data)
