"""The court geometry and the cross-field rule (pure: no I/O)."""

from __future__ import annotations

import pytest

from ingestion import court, generator


def test_the_generator_uses_the_court_module_mirrored_to_nba_com_orientation():
    assert generator.classify_location is court.classify_location
    assert generator._classify_tenths(120, 50) == court.classify_tenths(-120, 50)
    assert court.zone_of(-12.0, 5.0).name == "Left Side"  # canonical x < 0: the Left Side


def test_a_consistent_shot_has_no_contradiction():
    assert court.contradictions(x_ft=-6.5, y_ft=24.0, distance_ft=24, zone_basic="Above the Break 3",
                                zone_area="Left Side Center", zone_range="24+ ft.", shot_type="3PT") == []  # fmt: skip


def test_a_34_ft_three_placed_4_ft_from_the_rim_contradicts_distance_zone_and_type():
    found = court.contradictions(x_ft=0.0, y_ft=3.9, distance_ft=34, zone_basic="Above the Break 3",
                                 zone_area="Center", zone_range="24+ ft.", shot_type="3PT")  # fmt: skip
    fields = {c.fields for c in found}
    assert ("distance_ft", "x_ft", "y_ft") in fields
    assert ("zone_basic", "x_ft", "y_ft") in fields
    assert ("zone_range", "x_ft", "y_ft") in fields
    assert ("shot_type", "x_ft", "y_ft") in fields
    assert "the location is 3.9 ft from the hoop, not 34 ft" in found[0].message


@pytest.mark.parametrize(("x", "y", "shot_type", "ok"), [
    (0.0, 22.9, "3PT", True),   # the referee's call a foot inside the arc: real data has it
    (0.0, 10.0, "3PT", False),  # 10 ft out: no
    (0.0, 0.0, "3PT", False),   # a "3PT" restricted-area shot (23 such rows in the real seasons)
])  # fmt: skip
def test_the_shot_type_may_differ_from_the_zone_only_near_the_line(x, y, shot_type, ok):
    assert (court.contradictions(x_ft=x, y_ft=y, shot_type=shot_type) == []) is ok


def test_zone_area_back_court_starts_short_of_the_basic_backcourt_zone():
    # Measured: NBA.com labels "Back Court" area from about 40 ft, the basic zone from 42 ft.
    assert court.contradictions(x_ft=-7.2, y_ft=40.9, distance_ft=41, zone_basic="Above the Break 3",
                                zone_area="Back Court", zone_range="Back Court Shot", shot_type="3PT") == []  # fmt: skip


def test_labels_without_a_location_are_checked_against_the_distance():
    (found,) = court.contradictions(distance_ft=30, zone_basic="Restricted Area")
    assert found.fields == ("zone_basic", "distance_ft")
    assert court.contradictions(distance_ft=2, zone_basic="Restricted Area", zone_range="Less Than 8 ft.") == []
    (found,) = court.contradictions(zone_basic="Left Corner 3", zone_area="Right Side")
    assert found.fields == ("zone_basic", "zone_area")
