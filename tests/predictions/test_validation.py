"""The fast shot validator agrees with the DRF serializer it is read from, input for input."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from rest_framework import serializers

from predictions.api import PredictionBatchCreateApi, ShotInputSerializer, shot_validator
from predictions.validation import _DEFER
from tests.predictions.conftest import shot

BASES = [
    shot(),
    shot(game_id="22300999", event_id=7, player_name="Stephen Curry", season="2023-24", position="PG-SG",
         season_type="Playoffs", shot_type="3PT", distance_ft=25, x_ft=-6.5, y_ft=24.0),
    shot(x_ft=None, y_ft=None, zone_basic="Above the Break 3", zone_area="Left Side Center",
         zone_range="24+ ft.", home_away="away"),
]
ODD_VALUES: list[Any] = [
    None, "", " ", "\t", True, False, 0, 1, -1, 3.0, 3.5, 10**30, -(10**400), float("nan"), float("inf"),
    "7", " 7 ", "7.0", "1e3", "٣", [], [1], {}, {"a": 1}, "x" * 101, "a\x00b", "a\ud800b", " GSW ", "home",
    "HOME", "Home ", "2PT", "3PT", "Mid-Range", "Restricted Area", "2023-24", "2023-2024", "\uff12\uff10\uff12\uff13-24",
    "2024-01-27", "2024-1-27", "20240127", "2024-02-30", "2024-01-27T10:00:00", "2024-W04-6", "0022300650",
    "00223006501", "22300650 ", 720, 721, 0.0, -0.0, 24.9, 25.0, 94, 94.01, "Less Than 8 ft.", "Playoffs",
]  # fmt: skip
FIELDS = [*ShotInputSerializer().fields, "seconds", "zone"]


def drf_result(data: Any) -> tuple[bool, Any]:
    serializer = ShotInputSerializer(data=data)
    if serializer.is_valid():
        return True, serializer.validated_data
    return False, serializer.errors


def cases() -> list[Any]:
    found: list[Any] = [[], "shot", None, 3, *BASES]
    for base, name, value in itertools.product(BASES, FIELDS, ODD_VALUES):
        found.append({**base, name: value})
    for base, name in itertools.product(BASES, FIELDS):
        found.append({k: v for k, v in base.items() if k != name})
    return found


def test_whatever_the_fast_path_accepts_the_serializer_accepts_with_the_same_result() -> None:
    validator = shot_validator()
    accepted = 0
    for data in cases():
        fast = validator.fast(data)
        if fast is _DEFER:
            continue
        accepted += 1
        valid, expected = drf_result(data)
        assert valid, (data, expected)
        assert fast == expected, data
    assert accepted > 300  # the fast path is really taken, not always deferred


def test_every_input_gets_the_serializers_answer_or_its_exact_error() -> None:
    validator = shot_validator()
    for data in cases():
        valid, expected = drf_result(data)
        if valid:
            assert validator.validate(data) == expected, data
        else:
            with pytest.raises(serializers.ValidationError) as raised:
                validator.validate(data)
            assert raised.value.detail == expected, data


def test_plain_shots_take_the_fast_path() -> None:
    for data in BASES:
        assert shot_validator().fast(data) is not _DEFER


@pytest.mark.parametrize("body", [
    {"shots": BASES}, {"shots": BASES, "other": 1}, {"shots": []}, {"shots": [BASES[0]] * 1001}, {"shots": None},
    {"shots": {"a": BASES[0]}}, {}, [], {"shots": [BASES[0], {**BASES[1], "period": 11}, None, 3]},
    {"shots": [BASES[0], {**BASES[1], "x_ft": None}]}, {"shots": [BASES[0]] * 1000},
])  # fmt: skip
def test_batches_get_the_serializers_answer_or_its_exact_error(body: Any) -> None:
    serializer = PredictionBatchCreateApi.InputSerializer(data=body)
    if serializer.is_valid():
        assert shot_validator().validate_batch(body) == serializer.validated_data["shots"]
    else:
        with pytest.raises(serializers.ValidationError) as raised:
            shot_validator().validate_batch(body)
        assert raised.value.detail == serializer.errors
