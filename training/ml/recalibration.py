"""In-season recalibration: a small correction per shot family, fitted on settled shots only.

The calibrator a model is trained with is fitted on the end of its training window; the league then
moves (one season's twos go in 4 points less often than the last's, threes drift with the three-point
rate), and every shot of a family is biased by the same amount. This module follows that level with
what is already known: the outcomes of the shots settled *before* the one being predicted.

The correction is a logit shift per family (2PT / 3PT), optionally with a slope::

    p' = sigmoid(slope * logit(p) + intercept)

then, with ``by_action``, a logit shift per *action group* (the model's action type, rare ones pooled,
within a family: ``"Pullup Jump shot|2PT"``) fitted on what the family correction leaves::

    p'' = sigmoid(logit(p') + shift[group])

NBA.com's action labels do not mean the same thing from one era to the next (a "Layup Shot" of 2017-18
went in 8 points more often than the model trained on 2011-16 said, a "Pullup Jump shot" 8 points less):
a family-wide correction cannot see that, the action stage can.

fitted by penalised maximum likelihood on the settled shots of a recent window, each weighed by
``0.5 ** (days before the fit date / half_life_days)``. The penalty is a Gaussian prior centred on
"no correction" worth ``prior_shots`` shots: a family with few settled shots keeps (almost) the
model's own probabilities, one with many follows its observed rate. Plain numpy, no Django, no I/O.

Leakage rule: ``recalibration_fit(..., as_of=D)`` reads only rows dated strictly before ``D``;
``inseason_apply`` predicts each date's shots with a correction fitted on earlier dates only, so no
shot's own outcome, nor any later one, enters its probability.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Same floor as the calibrators (training.ml.train.PROBABILITY_FLOOR): never price a shot at 0 or 1.
PROBABILITY_FLOOR = 1e-3
# The Fisher information of one shot at p = 0.5: turns "worth N shots" into a penalty on the logit scale.
_SHOT_INFORMATION = 0.25
FAMILIES = ("2PT", "3PT")


@dataclass(frozen=True)
class RecalibrationConfig:
    """How the in-season correction is fitted.

    ``half_life_days``: weight of a settled shot halves every so many days before the fit date (0: equal);
    ``window_days``: settled shots older than that are not read at all;
    ``prior_shots``: the shrinkage toward no correction, in (weighted) shots: with ``n`` settled shots a
    level shift is followed by about ``n / (n + prior_shots)`` of its size;
    ``slope``: also fit a slope on the logit (otherwise the intercept alone, a level shift);
    ``by_action``: then a shift per action group (same half-life, window and prior), fitted on the
    family-corrected probabilities.
    """

    half_life_days: float = 21.0
    window_days: int = 90
    prior_shots: float = 300.0
    slope: bool = False
    by_action: bool = False

    def __post_init__(self) -> None:
        if self.half_life_days < 0 or self.window_days <= 0 or self.prior_shots <= 0:
            raise ValueError(f"invalid recalibration config {self}: half-life >= 0, window > 0, prior > 0")

    @property
    def name(self) -> str:
        kind = ("intercept+slope" if self.slope else "intercept") + (" + action shifts" if self.by_action else "")
        return f"{kind}, half-life {self.half_life_days:g} d, window {self.window_days} d, prior {self.prior_shots:g} shots"


@dataclass(frozen=True)
class FamilyShift:
    """The correction of one family on the logit scale, and the weighted settled shots behind it."""

    intercept: float = 0.0
    slope: float = 1.0
    shots: float = 0.0
    observed: float = float("nan")  # weighted make rate of those shots
    predicted: float = float("nan")  # weighted mean probability before the correction


@dataclass(frozen=True)
class Recalibration:
    """A correction per family; ``fitted_before`` is the date its settled shots all precede."""

    two: FamilyShift = field(default_factory=FamilyShift)
    three: FamilyShift = field(default_factory=FamilyShift)
    fitted_before: dt.date | None = None
    config: RecalibrationConfig = field(default_factory=RecalibrationConfig)
    # The action stage: group ("<action>|<2PT or 3PT>") -> its shift (intercept; ``shots`` behind it).
    actions: dict[str, FamilyShift] = field(default_factory=dict)

    def family(self, name: str) -> FamilyShift:
        return self.three if name == "3PT" else self.two

    def apply(self, proba: Any, *, is_three: Any, groups: Any = None) -> np.ndarray:
        """The corrected probabilities (``is_three``: one bool per shot; ``groups``: its action group)."""
        return recalibration_apply(recalibration=self, proba=proba, is_three=is_three, groups=groups)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings), the shape stored beside a model version."""
        return {
            "two": asdict(self.two), "three": asdict(self.three),
            "fitted_before": self.fitted_before.isoformat() if self.fitted_before else None,
            "config": asdict(self.config), "actions": {group: asdict(shift) for group, shift in self.actions.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recalibration:
        before = data.get("fitted_before")
        return cls(
            two=FamilyShift(**data["two"]), three=FamilyShift(**data["three"]),
            fitted_before=dt.date.fromisoformat(before) if before else None,
            config=RecalibrationConfig(**data.get("config", {})),
            actions={str(group): FamilyShift(**shift) for group, shift in (data.get("actions") or {}).items()},
        )


IDENTITY = Recalibration()


def _logit(proba: np.ndarray) -> np.ndarray:
    clipped = np.clip(proba, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _days(dates: Any) -> np.ndarray:
    """Dates (datetime64, Timestamps, datetimes, dates) as integer days since the epoch."""
    values = pd.to_datetime(pd.Series(np.asarray(dates) if not isinstance(dates, pd.Series) else dates.to_numpy()))
    return values.to_numpy().astype("datetime64[D]").astype(np.int64)


def _day(date: Any) -> int:
    return int(np.datetime64(pd.Timestamp(date).date(), "D").astype(np.int64))


def family_shift_fit(
    *, logit: np.ndarray, y_true: np.ndarray, weights: np.ndarray, config: RecalibrationConfig, iterations: int = 25
) -> FamilyShift:
    """Penalised (Gaussian prior at no correction) Newton fit of one family's intercept (and slope)."""
    total = float(weights.sum())
    if total <= 0:
        return FamilyShift()
    observed = float(np.dot(weights, y_true) / total)
    predicted = float(np.dot(weights, _sigmoid(logit)) / total)
    penalty_intercept = config.prior_shots * _SHOT_INFORMATION
    # The slope multiplies the logit: its prior is worth the same shots on the logit's own scale.
    penalty_slope = penalty_intercept * max(float(np.dot(weights, logit * logit) / total), 1e-3)
    intercept, slope = 0.0, 1.0
    for _ in range(iterations):
        q = _sigmoid(slope * logit + intercept)
        residual = weights * (y_true - q)
        curvature = weights * q * (1 - q)
        if config.slope:
            gradient = np.array([residual.sum() - penalty_intercept * intercept,
                                 np.dot(residual, logit) - penalty_slope * (slope - 1.0)])
            hessian = np.array([
                [curvature.sum() + penalty_intercept, np.dot(curvature, logit)],
                [np.dot(curvature, logit), np.dot(curvature, logit * logit) + penalty_slope],
            ])
            step = np.linalg.solve(hessian, gradient)
            intercept, slope = intercept + float(step[0]), slope + float(step[1])
        else:
            step = np.array([(residual.sum() - penalty_intercept * intercept) / (curvature.sum() + penalty_intercept)])
            intercept += float(step[0])
        if np.abs(step).max() < 1e-8:
            break
    return FamilyShift(intercept=intercept, slope=slope, shots=total, observed=observed, predicted=predicted)


def recalibration_fit(
    *,
    proba: Any,
    y_true: Any,
    is_three: Any,
    dates: Any,
    as_of: Any,
    config: RecalibrationConfig = RecalibrationConfig(),
    groups: Any = None,
) -> Recalibration:
    """The correction to apply to shots dated ``as_of``, fitted on the rows dated strictly before it
    (and within ``config.window_days``): ``proba`` the model's probabilities for those settled shots,
    ``y_true`` their outcomes, ``is_three`` their family, ``dates`` their game dates, ``groups`` their
    action groups (``ShotModel.action_groups``; needed with ``config.by_action``)."""
    day = _day(as_of)
    days = _days(dates)
    keep = (days < day) & (days >= day - config.window_days)
    return _fit_rows(
        logit=_logit(np.asarray(proba, np.float64)[keep]), y_true=np.asarray(y_true, np.float64)[keep],
        is_three=np.asarray(is_three, bool)[keep], ages=(day - days[keep]).astype(np.float64), config=config,
        fitted_before=pd.Timestamp(as_of).date(), groups=_groups(groups, config)[keep] if config.by_action else None,
    )


def _groups(groups: Any, config: RecalibrationConfig) -> np.ndarray:
    if groups is None:
        if config.by_action:
            raise ValueError("a recalibration by action needs each shot's action group")
        return np.empty(0, dtype=object)
    return np.asarray(groups, dtype=object)


def _fit_rows(
    *, logit: np.ndarray, y_true: np.ndarray, is_three: np.ndarray, ages: np.ndarray, config: RecalibrationConfig,
    fitted_before: dt.date | None, groups: np.ndarray | None = None,
) -> Recalibration:
    weights = np.power(0.5, ages / config.half_life_days) if config.half_life_days else np.ones_like(ages)
    shifts = {
        family: family_shift_fit(logit=logit[rows], y_true=y_true[rows], weights=weights[rows], config=config)
        for family, rows in (("2PT", ~is_three), ("3PT", is_three))
    }
    fitted = Recalibration(two=shifts["2PT"], three=shifts["3PT"], fitted_before=fitted_before, config=config)
    if not config.by_action or groups is None or not len(logit):
        return fitted
    # The action stage, on what the family stage leaves: an intercept per group, same prior.
    corrected = _logit(_family_apply(fitted, _sigmoid(logit), is_three))
    level = RecalibrationConfig(half_life_days=config.half_life_days, window_days=config.window_days,
                                prior_shots=config.prior_shots)
    codes, names = pd.factorize(pd.Series(groups, dtype=object))
    actions = {}
    for code, name in enumerate(names):
        rows = codes == code
        shift = family_shift_fit(logit=corrected[rows], y_true=y_true[rows], weights=weights[rows], config=level)
        if shift.intercept != 0.0:
            actions[str(name)] = shift
    return Recalibration(two=fitted.two, three=fitted.three, fitted_before=fitted_before, config=config,
                         actions=actions)


def _family_apply(recalibration: Recalibration, proba: np.ndarray, three: np.ndarray) -> np.ndarray:
    logit = _logit(proba)
    out = np.empty_like(proba)
    for shift, rows in ((recalibration.two, ~three), (recalibration.three, three)):
        identity = shift.intercept == 0.0 and shift.slope == 1.0  # exactly the model's (no logit round trip)
        out[rows] = proba[rows] if identity else _sigmoid(shift.slope * logit[rows] + shift.intercept)
    return out


def recalibration_apply(*, recalibration: Recalibration | None, proba: Any, is_three: Any,
                        groups: Any = None) -> np.ndarray:
    """``proba`` corrected per family, then per action group when the correction has an action stage and
    ``groups`` are given (unchanged when ``recalibration`` is None), kept off 0 and 1."""
    proba = np.asarray(proba, dtype=np.float64)
    if recalibration is None:
        return proba
    out = _family_apply(recalibration, proba, np.asarray(is_three, dtype=bool))
    if recalibration.actions and groups is not None:
        shift = np.fromiter((recalibration.actions[g].intercept if g in recalibration.actions else 0.0
                             for g in groups), dtype=np.float64, count=len(out))
        moved = shift != 0.0
        if moved.any():
            out[moved] = _sigmoid(_logit(out[moved]) + shift[moved])
    return np.clip(out, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)


@dataclass
class InSeasonTrace:
    """What ``inseason_apply`` fitted: one correction per refit date (for reports and tests)."""

    dates: list[dt.date] = field(default_factory=list)
    fits: list[Recalibration] = field(default_factory=list)


def inseason_apply(
    *,
    proba: Any,
    y_true: Any,
    is_three: Any,
    dates: Any,
    config: RecalibrationConfig = RecalibrationConfig(),
    refit_days: int = 1,
    groups: Any = None,
) -> tuple[np.ndarray, InSeasonTrace]:
    """Replay a season as serving would live it: the shots of each date get a correction fitted on the
    shots of earlier dates only (refitted every ``refit_days`` days: 1 = every game date), applied to the
    model's probabilities ``proba`` (``groups``: each shot's action group, with ``config.by_action``).
    Returns the corrected probabilities (input order) and the fits."""
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.float64)
    three = np.asarray(is_three, dtype=bool)
    group_values = _groups(groups, config) if config.by_action else None
    days = _days(dates)
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    logit = _logit(proba)[order]
    y_sorted, three_sorted = y[order], three[order]
    groups_sorted = group_values[order] if group_values is not None else None
    out = np.empty_like(proba)
    trace = InSeasonTrace()
    current = IDENTITY
    fitted_on: int | None = None
    for day in np.unique(sorted_days):
        start = int(np.searchsorted(sorted_days, day, side="left"))
        stop = int(np.searchsorted(sorted_days, day, side="right"))
        if fitted_on is None or day - fitted_on >= refit_days:
            lo = np.searchsorted(sorted_days, day - config.window_days, side="left")
            current = _fit_rows(
                logit=logit[lo:start], y_true=y_sorted[lo:start], is_three=three_sorted[lo:start],
                ages=(day - sorted_days[lo:start]).astype(np.float64), config=config,
                fitted_before=dt.date(1970, 1, 1) + dt.timedelta(days=int(day)),
                groups=groups_sorted[lo:start] if groups_sorted is not None else None,
            )
            fitted_on = int(day)
            trace.dates.append(dt.date(1970, 1, 1) + dt.timedelta(days=int(day)))
            trace.fits.append(current)
        rows = order[start:stop]
        out[rows] = recalibration_apply(recalibration=current, proba=proba[rows], is_three=three[rows],
                                        groups=group_values[rows] if group_values is not None else None)
    return out, trace
