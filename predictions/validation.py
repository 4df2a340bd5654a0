"""A fast path for validating shots, with DRF's serializer as the one source of truth.

Building a DRF serializer deep-copies its 22 fields and runs each field's validation chain:
most of the time of a single-shot request, and about a tenth of a millisecond per shot
of a batch. ``ShotValidator`` reads the rules (types, ranges, lengths, choices, patterns,
required fields) from the serializer's own field declarations once, and checks an input
with plain comparisons. It only ever *accepts*: an input it is not sure about (any error,
a type it does not handle, a null, an unknown field, a shot ``shot_canonical`` refuses) is
handed to the DRF serializer, which accepts it or raises the error it always raised. So the
rules, the messages and the error shape are DRF's by construction; the fast path only has to
agree with DRF on what it accepts, which ``tests/predictions/test_validation.py`` checks
against the serializer on valid and broken inputs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from django.core import validators as django_validators
from rest_framework import ISO_8601, serializers
from rest_framework import fields as drf
from rest_framework.settings import api_settings

from predictions import services

_DEFER = object()  # "not sure": let DRF decide
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Check = Callable[[Any], Any]  # a value -> the validated value, or _DEFER


def _number_bounds(field: drf.Field) -> tuple[Any, Any]:
    return field.min_value, field.max_value  # type: ignore[attr-defined]


def _integer(field: drf.IntegerField) -> Check:
    low, high = _number_bounds(field)

    def check(value: Any) -> Any:
        # DRF parses int(str(value)): for a JSON integer that is the value itself.
        if type(value) is not int or (low is not None and value < low) or (high is not None and value > high):
            return _DEFER
        return value

    return check


def _float(field: drf.FloatField) -> Check:
    low, high = _number_bounds(field)

    def check(value: Any) -> Any:
        # DRF takes float(value) and refuses NaN and infinities.
        if type(value) is float:
            number = value
        elif type(value) is int:
            try:
                number = float(value)
            except OverflowError:
                return _DEFER
        else:
            return _DEFER
        if not math.isfinite(number) or (low is not None and number < low) or (high is not None and number > high):
            return _DEFER
        return number

    return check


def _string(field: drf.CharField) -> Check:
    max_length = field.max_length
    min_length = field.min_length
    patterns: list[Any] = [v.regex for v in field.validators if isinstance(v, django_validators.RegexValidator)]
    pattern = patterns[0] if patterns else None
    trim = field.trim_whitespace

    def check(value: Any) -> Any:
        if type(value) is not str:
            return _DEFER
        text = value.strip() if trim else value
        if (not text.strip() or (max_length is not None and len(text) > max_length)
                or (min_length is not None and len(text) < min_length) or _NUL_OR_SURROGATE.search(text)
                or (pattern is not None and not pattern.search(text))):
            return _DEFER
        return text

    return check


def _choice(field: drf.ChoiceField) -> Check:
    choices = dict(field.choice_strings_to_values)

    def check(value: Any) -> Any:
        if type(value) is not str or value not in choices:
            return _DEFER
        return choices[value]

    return check


def _date(field: drf.DateField) -> Check:
    formats = getattr(field, "input_formats", api_settings.DATE_INPUT_FORMATS)
    if list(formats) != [ISO_8601]:
        return lambda value: _DEFER

    def check(value: Any) -> Any:
        if type(value) is not str or len(value) != 10 or not _ISO_DATE.fullmatch(value):
            return _DEFER
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return _DEFER

    return check


# Validators each kind of field may carry for the fast path to apply (anything else: always DRF).
_KNOWN_VALIDATORS = {
    "number": (django_validators.MinValueValidator, django_validators.MaxValueValidator),
    "string": (django_validators.MaxLengthValidator, django_validators.MinLengthValidator,
               django_validators.ProhibitNullCharactersValidator,
               drf.ProhibitSurrogateCharactersValidator,  # type: ignore[attr-defined]  # not in the stubs
               django_validators.RegexValidator),
}  # fmt: skip


def _check_for(field: drf.Field) -> Check:
    """The fast check of one DRF field, or one that always defers when it is not a plain case."""
    never: Check = lambda value: _DEFER  # noqa: E731
    if field.allow_null or field.source != field.field_name or field.read_only:
        return never
    # Strict subclasses (parivision/fields.py) only refuse types this path defers anyway.
    kind = getattr(field, "fast_kind", type(field))
    if kind is drf.IntegerField or kind is drf.FloatField:
        if any(not isinstance(v, _KNOWN_VALIDATORS["number"]) for v in field.validators):
            return never
        return _integer(field) if kind is drf.IntegerField else _float(field)  # type: ignore[arg-type]
    if kind is drf.CharField or kind is drf.RegexField:
        regexes = [v for v in field.validators if isinstance(v, django_validators.RegexValidator)]
        if (getattr(field, "allow_blank", False) or any(not isinstance(v, _KNOWN_VALIDATORS["string"]) for v in field.validators)
                or len(regexes) > 1 or any(v.inverse_match for v in regexes)):
            return never
        return _string(field)  # type: ignore[arg-type]
    if kind is drf.ChoiceField:
        if getattr(field, "allow_blank", False) or field.validators:
            return never
        return _choice(field)  # type: ignore[arg-type]
    if kind is drf.DateField:
        return never if field.validators else _date(field)  # type: ignore[arg-type]
    return never


class ShotValidator:
    """``validate(data)`` -> what ``serializer_class(data=data).validated_data`` would be, or its error."""

    def __init__(self, serializer_class: type[serializers.Serializer],
                 batch_serializer_class: type[serializers.Serializer] | None = None) -> None:
        self.serializer_class = serializer_class
        self.batch_serializer_class = batch_serializer_class
        declared = serializer_class().fields
        self.checks = {name: _check_for(field) for name, field in declared.items()}
        self.required = frozenset(name for name, field in declared.items() if field.required)
        if batch_serializer_class is not None:
            shots = batch_serializer_class().fields["shots"]
            self.batch_min = getattr(shots, "min_length", None) or 0
            self.batch_max = getattr(shots, "max_length", None)

    def fast(self, data: Any) -> Any:
        """The canonical shot, or _DEFER."""
        if type(data) is not dict or not self.required.issubset(data):
            return _DEFER
        checks = self.checks
        attrs = {}
        for name, value in data.items():
            check = checks.get(name)
            if check is None:
                return _DEFER  # an unknown field
            checked = check(value)
            if checked is _DEFER:
                return _DEFER
            attrs[name] = checked
        try:
            return services.shot_canonical(attrs)
        except services.ShotInputError:
            return _DEFER

    def validate(self, data: Any) -> dict[str, Any]:
        shot = self.fast(data)
        if shot is _DEFER:
            serializer = self.serializer_class(data=data)
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data  # type: ignore[no-any-return]
        return shot  # type: ignore[no-any-return]

    def validate_batch(self, data: Any) -> list[dict[str, Any]]:
        """The shots of ``{"shots": [...]}`` (other keys ignored, as the serializer does)."""
        if self.batch_serializer_class is None:
            raise TypeError("ShotValidator built without a batch serializer")
        shots = data.get("shots") if type(data) is dict else None
        if type(shots) is list and self.batch_min <= len(shots) and (self.batch_max is None
                                                                     or len(shots) <= self.batch_max):
            fast = self.fast
            out = []
            for item in shots:
                shot = fast(item)
                if shot is _DEFER:
                    break
                out.append(shot)
            else:
                return out
        serializer = self.batch_serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["shots"]  # type: ignore[no-any-return]
