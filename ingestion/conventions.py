"""Coordinate conventions of shot files, and finding the one a file uses.

Files in circulation store the shot location in different units (feet, tenths of a foot,
...), from different origins (the hoop or the baseline) and with either sign of x. A file
carries its distance column and its zone labels too, so the convention can be fitted: on a
sample of rows, before anything is written, each candidate turns the raw x/y into feet from
the hoop; the distance fits when it agrees with the distance column (within the cross-field
rule's tolerance), the sign of x when "Left" zones land on the canonical left (x < 0). The
convention that fits clearly is used for the whole file; when none does, the file is refused.

Plain Python (no Django).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ingestion import court

BASELINE = "baseline"
HOOP = "hoop"
# Feet per unit: feet, tenths, hundredths of a foot, and tens of feet.
SCALES = (1.0, 0.1, 0.01, 10.0)
ORIGINS = (HOOP, BASELINE)
SAMPLE_ROWS = 2_000
MIN_SAMPLE = 20  # fewer usable rows than this: the format's usual convention, unverified
MIN_FIT = 0.9  # share of the sample the chosen convention must explain
MIN_MARGIN = 0.1  # ... clearly better than the runner-up
_UNIT_NAMES = {1.0: "feet", 0.1: "tenths of a foot", 0.01: "hundredths of a foot", 10.0: "tens of feet"}


class ConventionError(ValueError):
    """No coordinate convention explains the file's locations (nothing of it is written)."""


@dataclass(frozen=True, slots=True)
class Convention:
    """How a file's raw x/y become canonical feet from the hoop (x < 0: the Left Side)."""

    scale: float  # feet per unit
    origin: str  # HOOP or BASELINE (y measured from the hoop or from the baseline)
    mirror_x: bool  # True: the file's x > 0 is the Left Side

    def to_feet(self, raw_x: float, raw_y: float) -> tuple[float, float]:
        x = raw_x * self.scale
        y = raw_y * self.scale
        if self.origin == BASELINE:
            y -= court.HOOP_FROM_BASELINE_FT
        return (-x if self.mirror_x else x), y

    @property
    def label(self) -> str:
        side = "x > 0 is the Left Side" if self.mirror_x else "x < 0 is the Left Side"
        return f"{_UNIT_NAMES.get(self.scale, f'{self.scale:g} ft')}, origin at the {self.origin}, {side}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Convention:
        return cls(scale=float(data["scale"]), origin=str(data["origin"]), mirror_x=bool(data["mirror_x"]))


# What each real format publishes (the seasons in ../shared/data).
NBA_COM_USUAL = Convention(scale=1.0, origin=BASELINE, mirror_x=True)
SHOT_LOCATIONS_USUAL = Convention(scale=0.1, origin=HOOP, mirror_x=False)


@dataclass(frozen=True, slots=True)
class SampleRow:
    raw_x: float
    raw_y: float
    distance_ft: float
    zone_area: str  # 'Left Side', 'Right Side Center', ... (any casing; only the side matters)


@dataclass(frozen=True, slots=True)
class Detection:
    convention: Convention
    sample: int
    fit: float  # share of the sample whose distance the convention explains
    runner_up: float
    side_agreement: float | None  # share of sided rows whose side the chosen sign explains
    verified: bool  # False: too small a sample, the format's usual convention taken as is

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.convention.as_dict(), "sample": self.sample, "fit": round(self.fit, 4),
            "runner_up": round(self.runner_up, 4),
            "side_agreement": None if self.side_agreement is None else round(self.side_agreement, 4),
            "verified": self.verified,
        }  # fmt: skip


def _distance_fits(x_ft: float, y_ft: float, distance_ft: float) -> bool:
    from_hoop = math.hypot(x_ft, y_ft)
    tolerance = court.DISTANCE_TOLERANCE_FT
    return distance_ft - tolerance <= from_hoop < distance_ft + 1.0 + tolerance


def detect(rows: Iterable[SampleRow], *, usual: Convention, what: str) -> Detection:
    """The convention of a file from a sample of its rows; ``ConventionError`` when none fits clearly."""
    sample = list(rows)
    if len(sample) < MIN_SAMPLE:
        return Detection(usual, len(sample), 0.0, 0.0, None, verified=False)
    scores: dict[tuple[float, str], float] = {}
    for scale in SCALES:
        for origin in ORIGINS:
            candidate = Convention(scale, origin, mirror_x=False)
            hits = sum(_distance_fits(*candidate.to_feet(r.raw_x, r.raw_y), r.distance_ft) for r in sample)
            scores[(scale, origin)] = hits / len(sample)
    # Ties are settled in favour of the format's usual convention (a sample of shots all at
    # one distance can fit two units); otherwise the best must be clearly ahead.
    usual_key = (usual.scale, usual.origin)
    ranked = sorted(scores.items(), key=lambda item: (item[1], item[0] == usual_key), reverse=True)
    (best_scale, best_origin), fit = ranked[0]
    runner_up = ranked[1][1]
    usual_fits = scores[usual_key] >= MIN_FIT and scores[usual_key] >= fit - 1e-9
    if usual_fits:
        (best_scale, best_origin), fit = usual_key, scores[usual_key]
        runner_up = max(share for key, share in scores.items() if key != usual_key)
    elif fit < MIN_FIT or fit - runner_up < MIN_MARGIN:
        table = ", ".join(
            f"{_UNIT_NAMES[s]} from the {o}: {share:.0%}" for (s, o), share in ranked[:4]
        )  # fmt: skip
        raise ConventionError(
            f"{what}: no coordinate convention explains the locations: the distance column agrees with "
            f"at best {fit:.0%} of {len(sample)} sampled rows (need {MIN_FIT:.0%}, clearly ahead of the next; "
            f"{table}). The file is refused; nothing was written."
        )
    # The sign of x: "Left" zones are on the canonical left (x < 0).
    sided = [(r.raw_x, "left" in r.zone_area.lower()) for r in sample
             if r.raw_x != 0 and ("left" in r.zone_area.lower() or "right" in r.zone_area.lower())]  # fmt: skip
    side_agreement: float | None = None
    mirror = usual.mirror_x
    if sided:
        plain = sum((x < 0) == left for x, left in sided) / len(sided)
        mirror = plain < 0.5
        side_agreement = max(plain, 1.0 - plain)
        if side_agreement < MIN_FIT:
            raise ConventionError(
                f"{what}: the sign of x does not follow the zone areas: only {side_agreement:.0%} of "
                f"{len(sided)} sampled rows put 'Left' zones on one side. The file is refused; nothing was written."
            )
    convention = Convention(best_scale, best_origin, mirror)
    return Detection(convention, len(sample), fit, runner_up, side_agreement, verified=True)
