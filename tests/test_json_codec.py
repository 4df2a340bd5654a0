"""The API's orjson parser and renderer give exactly what DRF's own would (parivision/parsers.py, renderers.py)."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import uuid
from typing import Any

import numpy as np
import pytest
from django.utils.translation import gettext_lazy
from rest_framework import parsers, renderers
from rest_framework.exceptions import ErrorDetail, ParseError

from parivision.parsers import JSONParser
from parivision.renderers import JSONRenderer

VALUES: dict[Any, Any] = {
    "aware": dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC),
    "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
    "day": dt.date(2024, 1, 2),
    "clock": dt.time(1, 2, 3),
    "span": dt.timedelta(seconds=5),
    "decimal": decimal.Decimal("1.5"),
    "uuid": uuid.UUID("d38e511b-c9d8-47ed-b1b5-28e9d9a37a84"),
    "numpy": [np.float64(0.25), np.int64(3), np.array([1.5, 2.0])],
    "detail": ErrorDetail("Unknown field.", code="invalid"),
    "lazy": gettext_lazy("Not found."),
    7: "an integer key",
    "text": "Dončić, 東京, line\u2028and paragraph\u2029separators",
    "floats": [0.1, 1e-12, 123456789.123, -0.0, 0.4012345678901234],
    "nested": {"a": [None, True, False, {"b": []}]},
}


def test_the_renderer_writes_the_bytes_drf_writes() -> None:
    assert JSONRenderer().render(VALUES) == renderers.JSONRenderer().render(VALUES)
    assert JSONRenderer().render(None) == b""


def test_what_orjson_refuses_is_rendered_by_drf() -> None:
    huge = {"value": 2**70}
    assert JSONRenderer().render(huge) == renderers.JSONRenderer().render(huge) == b'{"value":1180591620717411303424}'


def test_an_indented_answer_is_drf_s() -> None:
    indented = JSONRenderer().render(VALUES, "application/json; indent=2")
    assert indented == renderers.JSONRenderer().render(VALUES, "application/json; indent=2")
    assert b'\n  "aware"' in indented


def test_a_nan_is_written_as_null_instead_of_failing() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        renderers.JSONRenderer().render({"p": float("nan")})
    assert JSONRenderer().render({"p": float("nan"), "q": float("inf")}) == b'{"p":null,"q":null}'


def _parse(parser: parsers.BaseParser, body: bytes, encoding: str = "utf-8") -> Any:
    return parser.parse(io.BytesIO(body), "application/json", {"encoding": encoding})


@pytest.mark.parametrize("body", [
    b'{"shots": [{"player_id": 201939, "x_ft": -6.5, "y_ft": 24.0, "game_date": "2024-01-27"}]}',
    '{"name": "Dončić", "s": "\\u00e9\\ud83c\\udfc0"}'.encode(),
    b"[1, 2.5, -0.0, 1e300, null, true, false, \"\"]",
    b'{"big": 123456789012345678901234567890}',  # orjson refuses it; DRF parses it
    b'{"a": 1, "a": 2}',
])  # fmt: skip
def test_the_parser_gives_what_drf_parses(body: bytes) -> None:
    assert _parse(JSONParser(), body) == _parse(parsers.JSONParser(), body)


@pytest.mark.parametrize("body", [b'{"p": NaN}', b'{"p": Infinity}', b"{", b"", b'{"a": 1} trailing', b"\xff\xfe"])
def test_what_drf_refuses_is_refused_with_drf_s_message(body: bytes) -> None:
    with pytest.raises(ParseError) as ours:
        _parse(JSONParser(), body)
    with pytest.raises(ParseError) as theirs:
        _parse(parsers.JSONParser(), body)
    assert str(ours.value.detail) == str(theirs.value.detail)


def test_a_body_in_another_charset_is_decoded_as_declared() -> None:
    body = '{"name": "Dončić"}'.encode("utf-16")
    assert _parse(JSONParser(), body, "utf-16") == {"name": "Dončić"}
