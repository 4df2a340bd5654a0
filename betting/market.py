"""The market side of a shot: league make rates, the platform's market maker, BetsAPI odds.

Plain Python (no Django): the services read settings and the warehouse and hand them in.
This is the one market: the live dashboard prices a shot with ``quote_market_maker`` and the
backtests (``backtests.engine.Market``) price a whole window with ``fair_probabilities`` and
``odds_with_margin_many``: the same rates, the same smoothing, the same margin rule and rounding.

The market maker prices a shot from the league's make rate for its zone and action type
(a sparse cell is shrunk toward its zone's rate, an unseen zone falls back to the league
rate) and adds the margin proportionally, so the implied probabilities of "made" and
"missed" sum to ``1 + margin``.

BetsAPI sells no per-shot market. When a token is configured and a BetsAPI NBA event
matches the replayed game (same home and away teams, in play or on the game's day), the
bookmaker's own overround on that game's money line replaces our margin: the price then
carries the real book's margin for that game. No match, no token or any BetsAPI error:
the market maker's margin, and the reason is kept with the quote.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingestion.betsapi import MARKET_MONEY_LINE, BetsApiClient, BetsApiError, BetsApiEvent
from ingestion.shots import TEAM_ABBREVIATIONS, normalise_team_code

logger = logging.getLogger(__name__)

MIN_ODDS = 1.01
MARKET_MAKER = "market_maker"
BETSAPI = "betsapi"


# --- league make rates ----------------------------------------------------------------------


@dataclass
class MakeRates:
    """Attempts and makes by zone x action type, by zone, and for the whole league."""

    cells: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (attempts, makes)
    zones: dict[str, tuple[int, int]] = field(default_factory=dict)
    attempts: int = 0
    makes: int = 0

    def add(self, *, zone: str, action: str, made: bool) -> None:
        made_count = 1 if made else 0
        attempts, makes = self.cells.get((zone, action), (0, 0))
        self.cells[(zone, action)] = (attempts + 1, makes + made_count)
        attempts, makes = self.zones.get(zone, (0, 0))
        self.zones[zone] = (attempts + 1, makes + made_count)
        self.attempts += 1
        self.makes += made_count

    def league_rate(self) -> float:
        return self.makes / self.attempts if self.attempts else 0.45

    def zone_rate(self, zone: str) -> float:
        attempts, makes = self.zones.get(zone, (0, 0))
        return makes / attempts if attempts else self.league_rate()

    def rate(self, *, zone: str, action: str, prior_attempts: int) -> float:
        """The cell's make rate, shrunk toward the zone's rate by ``prior_attempts`` pseudo-shots."""
        attempts, makes = self.cells.get((zone, action), (0, 0))
        prior = self.zone_rate(zone)
        if attempts + prior_attempts == 0:
            return prior
        return (makes + prior_attempts * prior) / (attempts + prior_attempts)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (for a cache)."""
        return {"cells": [[z, a, n, m] for (z, a), (n, m) in self.cells.items()],
                "zones": [[z, n, m] for z, (n, m) in self.zones.items()],
                "attempts": self.attempts, "makes": self.makes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MakeRates:
        return cls(cells={(z, a): (n, m) for z, a, n, m in data["cells"]},
                   zones={z: (n, m) for z, n, m in data["zones"]},
                   attempts=data["attempts"], makes=data["makes"])


def make_rates_count(shots: Iterable[Mapping[str, Any]]) -> MakeRates:
    """Count warehouse shots (``zone_basic``, ``action_type``, ``made``) into make rates."""
    rates = MakeRates()
    for shot in shots:
        rates.add(zone=str(shot["zone_basic"]), action=str(shot["action_type"]), made=bool(shot["made"]))
    return rates


def make_rates_from_columns(zones: Iterable[Any], actions: Iterable[Any], made: Iterable[Any]) -> MakeRates:
    """The same count from three columns (a DataFrame's ``zone_basic``, ``action_type``, ``made``)."""
    rates = MakeRates()
    for zone, action, outcome in zip(zones, actions, made, strict=True):
        rates.add(zone=str(zone), action=str(action), made=bool(outcome))
    return rates


def fair_probability(rates: MakeRates, *, zone: str, action: str, prior_attempts: int) -> float:
    """The market's fair (margin-free) P(made) of one shot: its cell's smoothed rate, kept in 1%..99%."""
    return min(0.99, max(0.01, rates.rate(zone=zone, action=action, prior_attempts=prior_attempts)))


def fair_probabilities(rates: MakeRates, *, zones: Iterable[Any], actions: Iterable[Any],
                       prior_attempts: int) -> np.ndarray:
    """``fair_probability`` of many shots (a backtest window)."""
    return np.fromiter(
        (fair_probability(rates, zone=str(z), action=str(a), prior_attempts=prior_attempts)
         for z, a in zip(zones, actions, strict=True)),
        dtype=np.float64,
    )


# --- prices ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    """The market's decimal odds for both sides of a shot, and where they come from."""

    probability_made: float  # the market's fair (margin-free) P(made)
    margin: float
    odds_made: float
    odds_missed: float
    source: str  # MARKET_MAKER or BETSAPI
    detail: str


def fair_odds(probability: float) -> float:
    """Decimal odds without margin: 1 / p."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability {probability!r} must be strictly between 0 and 1")
    return 1.0 / probability


def odds_with_margin_many(probability_made: Any, *, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """The margin rule: decimal odds (made, missed) whose implied probabilities sum to ``1 + margin``
    (the margin spread in proportion to each side's probability), at least ``MIN_ODDS``, to 3 decimals."""
    p = np.asarray(probability_made, dtype=np.float64)
    if p.size and not bool(np.all((p > 0.0) & (p < 1.0))):
        raise ValueError("every probability must be strictly between 0 and 1")
    if margin < 0:
        raise ValueError(f"margin {margin!r} must be >= 0")
    overround = 1.0 + margin
    made = np.round(np.maximum(MIN_ODDS, 1.0 / (p * overround)), 3)
    missed = np.round(np.maximum(MIN_ODDS, 1.0 / ((1.0 - p) * overround)), 3)
    return made, missed


def odds_with_margin(*, probability_made: float, margin: float) -> tuple[float, float]:
    """(odds on made, odds on missed) of one shot: ``odds_with_margin_many``'s rule."""
    if not 0.0 < probability_made < 1.0:
        raise ValueError(f"probability {probability_made!r} must be strictly between 0 and 1")
    made, missed = odds_with_margin_many([probability_made], margin=margin)
    return float(made[0]), float(missed[0])


def fair_from_odds(odds_made: Any, odds_missed: Any) -> np.ndarray:
    """The market's de-margined P(made) from its two prices (the margin removed proportionally)."""
    implied_made = 1.0 / np.asarray(odds_made, dtype=np.float64)
    implied_missed = 1.0 / np.asarray(odds_missed, dtype=np.float64)
    return implied_made / (implied_made + implied_missed)


def edge(*, probability: float, odds: float) -> float:
    """Expected return per credit staked at ``odds`` when the true chance is ``probability``."""
    return probability * odds - 1.0


def quote_market_maker(*, rates: MakeRates, zone: str, action: str, margin: float, prior_attempts: int,
                       reason: str = "") -> Quote:
    probability = fair_probability(rates, zone=zone, action=action, prior_attempts=prior_attempts)
    made, missed = odds_with_margin(probability_made=probability, margin=margin)
    detail = f"League rate {probability:.1%} ({zone} · {action}), margin {margin:.1%}"
    if reason:
        detail = f"{detail}; {reason}"
    return Quote(probability_made=probability, margin=margin, odds_made=made, odds_missed=missed,
                 source=MARKET_MAKER, detail=detail[:200])


# --- BetsAPI --------------------------------------------------------------------------------


def _code(name: str) -> str | None:
    code = TEAM_ABBREVIATIONS.get(name.strip())
    return normalise_team_code(code) if code else None


def event_matching(events: Iterable[BetsApiEvent], *, home_team: str, away_team: str,
                   game_date: dt.date) -> BetsApiEvent | None:
    """The event between these teams (codes), in play or starting within a day of ``game_date``."""
    home, away = normalise_team_code(home_team), normalise_team_code(away_team)
    for event in events:
        if _code(event.home) != home or _code(event.away) != away:
            continue
        if event.status == "inplay" or abs((event.start_time.date() - game_date).days) <= 1:
            return event
    return None


def betsapi_margin(*, client: BetsApiClient, home_team: str, away_team: str,
                   game_date: dt.date) -> tuple[float, str] | tuple[None, str]:
    """(the bookmaker's money-line overround for the matching event, detail) or (None, why not)."""
    try:
        events = list(client.inplay_nba_events().events)
        events += client.upcoming_nba_events(day=game_date).events
        event = event_matching(events, home_team=home_team, away_team=away_team, game_date=game_date)
        if event is None:
            return None, f"no BetsAPI event for {away_team} @ {home_team}"
        snapshot = client.event_odds(event_id=event.id, markets=[MARKET_MONEY_LINE]).latest(MARKET_MONEY_LINE)
    except BetsApiError as error:  # BetsAPI is best effort: say why and fall back
        logger.warning("BetsAPI odds unavailable: %s", error)
        return None, f"BetsAPI unavailable ({type(error).__name__})"
    if snapshot is None or snapshot.home_od is None or snapshot.away_od is None:
        return None, f"BetsAPI event {event.id} has no money line"
    overround = 1.0 / snapshot.home_od + 1.0 / snapshot.away_od
    detail = f"BetsAPI event {event.id} ({event.away} @ {event.home}) money-line margin {overround - 1.0:.1%}"
    return max(0.0, overround - 1.0), detail


def quote_from_betsapi(*, rates: MakeRates, zone: str, action: str, prior_attempts: int, margin: float,
                       detail: str) -> Quote:
    """League rate priced with the bookmaker's margin for the matched game."""
    probability = fair_probability(rates, zone=zone, action=action, prior_attempts=prior_attempts)
    made, missed = odds_with_margin(probability_made=probability, margin=margin)
    return Quote(probability_made=probability, margin=margin, odds_made=made, odds_missed=missed,
                 source=BETSAPI, detail=detail[:200])
