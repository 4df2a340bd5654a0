"""Court geometry, in one place: dimensions, NBA.com zone labels, distances, and the
cross-field rule that checks a shot's location, distance, zones and shot type agree.

Plain Python (no Django). The generator, the mappers, the importer's convention
detection and the prediction API all read the court from here.

Canonical coordinates are feet from the hoop: x < 0 is the side NBA.com labels
"Left Side" (the 1997-2020 data draws it so), y grows towards half court. Zone
boundaries are tested in integer tenths of a foot, which keeps them exact: NBA.com
publishes locations in tenths of a foot.

The tolerances of the cross-field rule were measured on the seven real NBA.com seasons
and the 1997-2020 sample with ``bench/geometry.py`` (see the README's data section).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

# --- dimensions (feet) ---------------------------------------------------------------
HOOP_FROM_BASELINE_FT = 5.25  # the hoop centre is 5.25 ft from the baseline
COURT_HALF_WIDTH_FT = 25.0
COURT_LENGTH_FT = 94.0
# Real data puts a few shots a hair outside the lines (rounding of the tracking).
COURT_TOLERANCE_FT = 0.5
X_RANGE = (-COURT_HALF_WIDTH_FT - COURT_TOLERANCE_FT, COURT_HALF_WIDTH_FT + COURT_TOLERANCE_FT)
Y_RANGE = (
    -HOOP_FROM_BASELINE_FT - COURT_TOLERANCE_FT,
    COURT_LENGTH_FT - HOOP_FROM_BASELINE_FT + COURT_TOLERANCE_FT,
)
DISTANCE_RANGE = (0.0, COURT_LENGTH_FT)

# Zone boundaries in tenths of a foot from the hoop (they reproduce NBA.com's labels).
HOOP_Y_HUNDREDTHS = 525
COURT_HALF_WIDTH_TENTHS = 250
RESTRICTED_R2 = 40 * 40  # r < 4 ft
PAINT_HALF_WIDTH = 80  # 16 ft wide lane
PAINT_DEPTH = 138  # free-throw line, 19 ft from the baseline
CORNER_DEPTH = 87  # the 3PT line is straight (22 ft) up to 14 ft from the baseline
CORNER_X = 220
ARC_R2 = 237.5**2  # 23.75 ft arc above the break
BACKCOURT_Y = 420  # beyond half court (47 ft from the baseline)
EIGHT_FT_R2 = 80 * 80
SIXTEEN_FT_R2 = 160 * 160

SHOT_TYPES = ("2PT", "3PT")
ZONE_BASIC = (
    "Restricted Area",
    "In The Paint (Non-RA)",
    "Mid-Range",
    "Left Corner 3",
    "Right Corner 3",
    "Above the Break 3",
    "Backcourt",
)
THREE_POINT_ZONES = frozenset({"Left Corner 3", "Right Corner 3", "Above the Break 3", "Backcourt"})
ZONE_AREAS = {
    "Left Side": "L",
    "Left Side Center": "LC",
    "Center": "C",
    "Right Side Center": "RC",
    "Right Side": "R",
    "Back Court": "BC",
}
ZONE_RANGES = ("Less Than 8 ft.", "8-16 ft.", "16-24 ft.", "24+ ft.", "Back Court Shot")


class CourtZone(NamedTuple):
    basic: str  # BASIC_ZONE
    name: str  # ZONE_NAME (the zone area)
    abbreviation: str  # ZONE_ABB
    range: str  # ZONE_RANGE
    shot_type: str  # SHOT_TYPE


def _zone(basic: str, name: str, zone_range: str, shot_type: str) -> CourtZone:
    return CourtZone(basic, name, ZONE_AREAS[name], zone_range, shot_type)


def classify_tenths(x: int, y: int) -> CourtZone:
    """NBA.com's zone labels of a location in tenths of a foot from the hoop (x < 0: Left Side)."""
    side = "Left" if x < 0 else "Right"
    r2 = x * x + y * y
    if y >= BACKCOURT_Y:
        return _zone("Backcourt", "Back Court", "Back Court Shot", "3PT Field Goal")
    if r2 < RESTRICTED_R2:
        return _zone("Restricted Area", "Center", "Less Than 8 ft.", "2PT Field Goal")
    angle = math.degrees(math.atan2(abs(x), y))
    if y <= CORNER_DEPTH and abs(x) >= CORNER_X:
        return _zone(f"{side} Corner 3", f"{side} Side", "24+ ft.", "3PT Field Goal")
    if y > CORNER_DEPTH and r2 > ARC_R2:
        name = "Center" if angle < 18 else f"{side} Side Center"
        return _zone("Above the Break 3", name, "24+ ft.", "3PT Field Goal")
    if r2 <= EIGHT_FT_R2:
        zone_range = "Less Than 8 ft."
    elif r2 <= SIXTEEN_FT_R2:
        zone_range = "8-16 ft."
    else:
        zone_range = "16-24 ft."
    if abs(x) <= PAINT_HALF_WIDTH and y <= PAINT_DEPTH:
        name = "Center" if zone_range == "Less Than 8 ft." or angle < 30 else f"{side} Side"
        return _zone("In The Paint (Non-RA)", name, zone_range, "2PT Field Goal")
    if zone_range == "16-24 ft.":
        name = "Center" if angle < 18 else f"{side} Side Center" if angle < 54 else f"{side} Side"
    else:
        name = "Center" if angle < 30 else f"{side} Side"
    return _zone("Mid-Range", name, zone_range, "2PT Field Goal")


def tenths(value_ft: float) -> int:
    """Feet -> whole tenths of a foot (the precision every source publishes)."""
    return math.floor(value_ft * 10.0 + 0.5)


def zone_of(x_ft: float, y_ft: float) -> CourtZone:
    """The zone labels of a canonical location (feet from the hoop, x < 0: Left Side)."""
    return classify_tenths(tenths(x_ft), tenths(y_ft))


def distance_of(x_ft: float, y_ft: float) -> int:
    """SHOT_DISTANCE as NBA.com computes it: whole feet from the hoop, rounded down."""
    x, y = tenths(x_ft), tenths(y_ft)
    return math.isqrt(x * x + y * y) // 10


def classify_location(loc_x: float, loc_y: float) -> CourtZone:
    """The zone labels of a location given as NBA.com's LOC_X/LOC_Y (feet, baseline at y=0, left at x>0)."""
    return zone_of(-loc_x, loc_y - HOOP_FROM_BASELINE_FT)


def shot_distance(loc_x: float, loc_y: float) -> int:
    """SHOT_DISTANCE of an NBA.com LOC_X/LOC_Y."""
    return distance_of(-loc_x, loc_y - HOOP_FROM_BASELINE_FT)


def shot_type_of(zone_basic: str) -> str:
    return "3PT" if zone_basic in THREE_POINT_ZONES else "2PT"


# --- the cross-field rule ----------------------------------------------------------------
#
# Measured with bench/geometry.py on 1,408,030 real shots (seven NBA.com seasons and the
# 1,000-shot 1997-2020 sample), see the README's data section:
# * SHOT_DISTANCE is the distance of the location rounded down to whole feet in every row;
# * BASIC_ZONE is the zone of the location in every row;
# * ZONE_NAME and ZONE_RANGE need the location moved by up to 3 ft in 0.035% of rows (NBA.com
#   labels "Back Court" from about 40 ft out, the basic zone from 42 ft);
# * SHOT_TYPE disagrees with the geometry near the three-point line (the referee's call), by
#   up to 3 ft; beyond that it is wrong (a "3PT" restricted-area shot at 0 ft).
# The tolerances keep a margin over what real data does and still catch a 34-ft three
# placed 4 ft from the rim.
DISTANCE_TOLERANCE_FT = 1.0  # on top of the rounding down to whole feet
ZONE_BASIC_TOLERANCE_FT = 1.0
ZONE_TOLERANCE_FT = 3.5  # zone area and zone range
SHOT_TYPE_TOLERANCE_FT = 3.5
# Distance bounds of each zone label, for a shot described without a location (feet, inclusive).
ZONE_DISTANCE_FT: dict[str, tuple[float, float]] = {
    "Restricted Area": (0.0, 4.0),
    "In The Paint (Non-RA)": (4.0, 19.6),
    "Mid-Range": (4.0, 23.75),
    "Left Corner 3": (22.0, 25.0),
    "Right Corner 3": (22.0, 25.0),
    "Above the Break 3": (22.0, 48.0),
    "Backcourt": (41.75, 94.0),
}
RANGE_DISTANCE_FT: dict[str, tuple[float, float]] = {
    "Less Than 8 ft.": (0.0, 8.0),
    "8-16 ft.": (8.0, 16.0),
    "16-24 ft.": (16.0, 24.0),
    "24+ ft.": (22.0, 94.0),  # corner threes are 22 ft
    "Back Court Shot": (38.0, 94.0),
}
# The three-point line is 22 to 23.75 ft from the hoop.
THREE_POINT_LINE_FT = (22.0, 23.75)
# Basic zone / zone area pairs that label one place (NBA.com's "Back Court" area starts
# short of the basic "Backcourt" zone).
_AREAS_OF_BASIC: dict[str, frozenset[str]] = {
    "Restricted Area": frozenset({"Center"}),
    "In The Paint (Non-RA)": frozenset({"Center", "Left Side", "Right Side"}),
    "Mid-Range": frozenset({"Center", "Left Side", "Right Side", "Left Side Center", "Right Side Center"}),
    "Left Corner 3": frozenset({"Left Side"}),
    "Right Corner 3": frozenset({"Right Side"}),
    "Above the Break 3": frozenset({"Center", "Left Side Center", "Right Side Center", "Back Court"}),
    "Backcourt": frozenset({"Back Court"}),
}
_RING = tuple(
    (math.cos(math.radians(a)), math.sin(math.radians(a))) for a in range(0, 360, 15)
)  # directions probed around a location near a zone boundary


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two or more fields of one shot that cannot all be true."""

    fields: tuple[str, ...]
    values: tuple[object, ...]
    problem: str

    @property
    def field(self) -> str:
        return "/".join(self.fields)

    @property
    def message(self) -> str:
        shown = ", ".join(f"{f}={v!r}" for f, v in zip(self.fields, self.values, strict=True))
        return f"{shown}: {self.problem}"


def _labels_near(x_ft: float, y_ft: float, tolerance_ft: float) -> list[CourtZone]:
    """The zone labels of the location and of points up to ``tolerance_ft`` around it."""
    zones = [zone_of(x_ft, y_ft)]
    steps = max(1, math.ceil(tolerance_ft / 0.5)) if tolerance_ft > 0 else 0
    for step in range(1, steps + 1):
        radius = tolerance_ft * step / steps
        for dx, dy in _RING:
            zones.append(zone_of(x_ft + radius * dx, y_ft + radius * dy))
    return zones


def _has_label_near(x_ft: float, y_ft: float, index: int, label: str, tolerance_ft: float) -> bool:
    return any(zone[index] == label for zone in _labels_near(x_ft, y_ft, tolerance_ft))


def contradictions(
    *,
    x_ft: float | None = None,
    y_ft: float | None = None,
    distance_ft: float | None = None,
    zone_basic: str | None = None,
    zone_area: str | None = None,
    zone_range: str | None = None,
    shot_type: str | None = None,
) -> list[Contradiction]:
    """Every group of given fields that disagree (fields given as None are not checked).

    ``shot_type`` is '2PT' or '3PT'; ``distance_ft`` whole feet rounded down as the
    sources publish it (a fractional one is fine). Location checks need ``x_ft`` and ``y_ft``.
    """
    found: list[Contradiction] = []
    if x_ft is not None and y_ft is not None:
        _location_contradictions(found, x_ft, y_ft, distance_ft, zone_basic, zone_area, zone_range, shot_type)
    else:
        _label_contradictions(found, distance_ft, zone_basic, zone_range, shot_type)
    if zone_basic is not None and zone_area is not None and zone_area not in _AREAS_OF_BASIC.get(zone_basic, ()):
        found.append(Contradiction(
            ("zone_basic", "zone_area"), (zone_basic, zone_area), "are not labels of one place on the court",
        ))  # fmt: skip
    return found


def _location_contradictions(
    found: list[Contradiction], x_ft: float, y_ft: float, distance_ft: float | None, zone_basic: str | None,
    zone_area: str | None, zone_range: str | None, shot_type: str | None,
) -> None:  # fmt: skip
    from_hoop = math.hypot(x_ft, y_ft)
    # The published distance is rounded down: the true one is in [d, d + 1).
    if distance_ft is not None and not (
        distance_ft - DISTANCE_TOLERANCE_FT <= from_hoop < distance_ft + 1.0 + DISTANCE_TOLERANCE_FT
    ):
        found.append(Contradiction(
            ("distance_ft", "x_ft", "y_ft"), (distance_ft, x_ft, y_ft),
            f"the location is {from_hoop:.1f} ft from the hoop, not {distance_ft:g} ft",
        ))  # fmt: skip
    here = zone_of(x_ft, y_ft)
    checks = (
        ("zone_basic", zone_basic, 0, ZONE_BASIC_TOLERANCE_FT),
        ("zone_area", zone_area, 1, ZONE_TOLERANCE_FT),
        ("zone_range", zone_range, 3, ZONE_TOLERANCE_FT),
        ("shot_type", f"{shot_type} Field Goal" if shot_type else None, 4, SHOT_TYPE_TOLERANCE_FT),
    )
    for name, label, index, tolerance in checks:
        if label is None or here[index] == label or _has_label_near(x_ft, y_ft, index, label, tolerance):
            continue
        given = shot_type if name == "shot_type" else label
        actual = here[index].split()[0] if name == "shot_type" else here[index]
        found.append(Contradiction(
            (name, "x_ft", "y_ft"), (given, x_ft, y_ft),
            f"the location is {from_hoop:.1f} ft from the hoop, in {actual!r}, "
            f"and no point within {tolerance:g} ft of it is {given!r}",
        ))  # fmt: skip


def _label_contradictions(
    found: list[Contradiction], distance_ft: float | None, zone_basic: str | None, zone_range: str | None,
    shot_type: str | None,
) -> None:  # fmt: skip
    """The same rule for a shot described by labels (and maybe a distance) without a location."""
    if distance_ft is not None:
        for name, label, table, tolerance in (("zone_basic", zone_basic, ZONE_DISTANCE_FT, ZONE_BASIC_TOLERANCE_FT),
                                              ("zone_range", zone_range, RANGE_DISTANCE_FT, ZONE_TOLERANCE_FT)):
            if label is None or label not in table:
                continue
            low, high = table[label]
            if distance_ft + 1.0 + tolerance <= low or distance_ft - tolerance > high:
                found.append(Contradiction(
                    (name, "distance_ft"), (label, distance_ft), f"a {label} shot is {low:g}-{high:g} ft from the hoop",
                ))  # fmt: skip
    if shot_type is not None and zone_basic is not None and shot_type_of(zone_basic) != shot_type:
        # The referee's call differs from the zone only close to the line.
        near_line = distance_ft is not None and (
            THREE_POINT_LINE_FT[0] - SHOT_TYPE_TOLERANCE_FT <= distance_ft <= THREE_POINT_LINE_FT[1] + SHOT_TYPE_TOLERANCE_FT
        )
        if not near_line:
            found.append(Contradiction(
                ("shot_type", "zone_basic"), (shot_type, zone_basic),
                f"a {zone_basic} shot is a {shot_type_of(zone_basic)}"
                + ("" if distance_ft is None else f" at {distance_ft:g} ft from the hoop"),
            ))  # fmt: skip
