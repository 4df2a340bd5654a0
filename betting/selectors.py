"""Reads for the betting pages, the stream endpoint and the services: nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from betting import market
from betting.models import Bankroll, Bet, LiveShot, StreamState
from parivision import mongo

MARKET_RATES_CACHE_KEY = "betting:market-rates:v1"
RECENT_SHOTS = 8


def market_rates() -> market.MakeRates:
    """League make rates by zone x action type from the warehouse (cached ``MARKET_RATES_TTL_SECONDS``)."""
    cached = cache.get(MARKET_RATES_CACHE_KEY)
    if cached is not None:
        return market.MakeRates.from_dict(cached)
    projection = {"_id": 0, "zone_basic": 1, "action_type": 1, "made": 1}
    rates = market.make_rates_count(mongo.warehouse_collection(mongo.SHOTS).find({}, projection))
    if rates.attempts:  # an empty warehouse is not worth remembering
        cache.set(MARKET_RATES_CACHE_KEY, rates.as_dict(), settings.MARKET_RATES_TTL_SECONDS)
    return rates


def stream_state() -> StreamState | None:
    return StreamState.objects.filter(pk=StreamState.SINGLETON).first()


def open_shot() -> LiveShot | None:
    return LiveShot.objects.filter(status=LiveShot.Status.OPEN).order_by("-sequence").first()


def next_queued_shot(*, load_id: str | None) -> LiveShot | None:
    """The next queued shot of the feed's current dataset (queued shots of an older load are skipped)."""
    if load_id is None:
        return None
    return LiveShot.objects.filter(status=LiveShot.Status.QUEUED, feed_load_id=load_id).order_by("sequence").first()


@dataclass(frozen=True)
class Outcome:
    made: bool
    at: dt.datetime | None  # when it entered the warehouse


def warehouse_outcomes(*, keys: list[str]) -> dict[str, Outcome]:
    """The outcomes of the shots among ``keys`` that the warehouse has (one read by ``_id``)."""
    if not keys:
        return {}
    found = mongo.warehouse_collection(mongo.SHOTS).find({"_id": {"$in": list(keys)}},
                                                         {"made": 1, "ingested_at": 1})
    return {
        str(doc["_id"]): Outcome(made=bool(doc["made"]), at=_aware(doc.get("ingested_at")))
        for doc in found
    }


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def recent_taken_shots(*, limit: int = RECENT_SHOTS) -> list[LiveShot]:
    taken = (LiveShot.Status.TAKEN, LiveShot.Status.SETTLED)
    return list(LiveShot.objects.filter(status__in=taken).order_by("-sequence")[:limit])


def bankroll_of(*, user: Any) -> Bankroll | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Bankroll.objects.filter(user=user).first()


def bets_of(*, user: Any, status: str | None = None) -> QuerySet[Bet]:
    """Only ``user``'s bets, newest first."""
    bets = Bet.objects.filter(user=user).select_related("shot").order_by("-placed_at", "-pk")
    return bets.filter(status=status) if status else bets


def pnl_series(*, user: Any) -> list[dict[str, Any]]:
    """Cumulative profit after each settled bet (starting at 0), oldest first."""
    points: list[dict[str, Any]] = []
    total = Decimal("0")
    settled = Bet.objects.filter(user=user).exclude(status=Bet.Status.OPEN).order_by("settled_at", "pk")
    for bet in settled.only("stake", "payout", "settled_at", "status"):
        total += bet.payout - bet.stake
        points.append({"t": bet.settled_at.isoformat() if bet.settled_at else None, "pnl": float(total)})
    return [{"t": None, "pnl": 0.0}, *points]


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of ``now``'s day in the site's time zone (``TIME_ZONE``): when daily limits reset."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def loss_today(*, user_id: int, now: dt.datetime) -> Decimal:
    """What the bettor has lost today: stakes of bets placed since midnight minus what they paid
    back; an open bet counts as lost (its stake is at risk). Never below 0 (a winning day)."""
    totals = Bet.objects.filter(user_id=user_id, placed_at__gte=day_start(now)).aggregate(
        staked=Coalesce(Sum("stake"), Value(Decimal("0")), output_field=DecimalField()),
        paid=Coalesce(Sum("payout"), Value(Decimal("0")), output_field=DecimalField()),
    )
    return max(totals["staked"] - totals["paid"], Decimal("0")).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class BettorLimits:
    stake_limit: Decimal | None
    daily_loss_limit: Decimal | None
    cooldown_until: dt.datetime | None  # only while it runs
    lost_today: Decimal

    @property
    def loss_left_today(self) -> Decimal | None:
        if self.daily_loss_limit is None:
            return None
        return max(self.daily_loss_limit - self.lost_today, Decimal("0"))

    @property
    def max_stake(self) -> Decimal | None:
        """The largest stake the limits allow now (None: no limit applies)."""
        caps = [cap for cap in (self.stake_limit, self.loss_left_today) if cap is not None]
        if self.cooldown_until is not None:
            return Decimal("0")
        return min(caps) if caps else None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.stake_limit, self.daily_loss_limit, self.cooldown_until))


def bettor_limits(*, user: Any, now: dt.datetime | None = None) -> BettorLimits | None:
    """The bettor's safeguards as they apply now (the profile and the play page show them)."""
    bankroll = bankroll_of(user=user)
    if bankroll is None:
        return None
    now = now or timezone.now()
    running = bankroll.cooldown_until if bankroll.cooldown_until and bankroll.cooldown_until > now else None
    lost = loss_today(user_id=bankroll.user_id, now=now) if bankroll.daily_loss_limit is not None else Decimal("0")
    return BettorLimits(stake_limit=bankroll.stake_limit, daily_loss_limit=bankroll.daily_loss_limit,
                        cooldown_until=running, lost_today=lost)


@dataclass(frozen=True)
class BettorSummary:
    balance: Decimal
    starting: Decimal
    open_stakes: Decimal
    settled: int
    won: int

    @property
    def net(self) -> Decimal:
        return self.balance + self.open_stakes - self.starting

    @property
    def hit_rate(self) -> float | None:
        return self.won / self.settled if self.settled else None


def bettor_summary(*, user: Any) -> BettorSummary | None:
    bankroll = bankroll_of(user=user)
    if bankroll is None:
        return None
    totals = Bet.objects.filter(user=user).aggregate(
        open_stakes=Coalesce(Sum("stake", filter=Q(status=Bet.Status.OPEN)), Value(Decimal("0")),
                             output_field=DecimalField()),
        settled=Count("pk", filter=~Q(status=Bet.Status.OPEN)),
        won=Count("pk", filter=Q(status=Bet.Status.WON)),
    )
    return BettorSummary(balance=bankroll.balance, starting=bankroll.starting_balance,
                         open_stakes=totals["open_stakes"], settled=totals["settled"], won=totals["won"])


def leaderboard(*, limit: int | None = None) -> list[dict[str, Any]]:
    """Bettors ranked by net result (balance + stakes still open - starting credits)."""
    rows = (
        Bankroll.objects.select_related("user")
        .annotate(
            open_stakes=Coalesce(Sum("user__bets__stake", filter=Q(user__bets__status=Bet.Status.OPEN)),
                                 Value(Decimal("0")), output_field=DecimalField()),
            settled=Count("user__bets", filter=~Q(user__bets__status=Bet.Status.OPEN)),
            won=Count("user__bets", filter=Q(user__bets__status=Bet.Status.WON)),
        )
    )
    board = []
    for row in rows:
        net = row.balance + row.open_stakes - row.starting_balance
        board.append({"username": row.user.get_username(), "user_id": row.user_id, "balance": row.balance,
                      "net": net, "roi": float(net / row.starting_balance) if row.starting_balance else 0.0,
                      "settled": row.settled, "won": row.won,
                      "hit_rate": row.won / row.settled if row.settled else None})
    board.sort(key=lambda entry: (-entry["net"], -entry["settled"], entry["username"]))
    return board[: limit or settings.LEADERBOARD_SIZE]


# --- what the dashboard shows ---------------------------------------------------------------


def _odds(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def shot_payload(shot: LiveShot, *, reveal: bool) -> dict[str, Any]:
    """A shot as the dashboard shows it; the outcome only when ``reveal`` and the warehouse has it.

    Never its key, game id or event id: nothing that finds the shot elsewhere.
    """
    payload: dict[str, Any] = {
        "id": shot.pk, "sequence": shot.sequence, "status": shot.status,
        "player": shot.player_name, "position": shot.position, "team": shot.team_name, "team_code": shot.team_code,
        "opponent": shot.opponent_code, "home": shot.is_home, "period": shot.period, "period_label": shot.period_label,
        "clock": shot.clock, "action_type": shot.action_type, "shot_type": shot.shot_type,
        "zone": shot.zone_basic, "zone_area": shot.zone_area, "distance_ft": round(shot.distance_ft, 1),
        "x_ft": round(shot.x_ft, 2), "y_ft": round(shot.y_ft, 2), "game_date": shot.game_date.isoformat(),
        "season": shot.season,
    }  # fmt: skip
    if reveal:
        payload["made"] = shot.made  # None while its record is on its way to the warehouse
        payload["ingested"] = shot.made is not None
        return payload
    probability = shot.probability_made
    odds_made, odds_missed = _odds(shot.market_odds_made), _odds(shot.market_odds_missed)
    prices: dict[str, Any] = {
        "model_probability": probability, "model_version": shot.model_version or None,
        "model_probability_missed": 1 - probability if probability is not None else None,
        "fair_odds_made": round(market.fair_odds(probability), 3) if probability else None,
        "fair_odds_missed": round(market.fair_odds(1 - probability), 3) if probability else None,
        "market_odds_made": odds_made, "market_odds_missed": odds_missed,
        "market_source": shot.market_source or None, "market_detail": shot.market_detail,
        "league_rate": shot.league_rate, "edge_made": None, "edge_missed": None, "value_side": None,
    }  # fmt: skip
    if probability is not None and odds_made and odds_missed:
        prices["edge_made"] = round(market.edge(probability=probability, odds=odds_made), 4)
        prices["edge_missed"] = round(market.edge(probability=1 - probability, odds=odds_missed), 4)
        best = max(("made", prices["edge_made"]), ("missed", prices["edge_missed"]), key=lambda pair: pair[1])
        if best[1] >= settings.VALUE_EDGE_THRESHOLD:
            prices["value_side"] = best[0]
    payload.update(prices)
    return payload


def bet_payload(bet: Bet) -> dict[str, Any]:
    return {"id": bet.pk, "shot": bet.shot_id, "player": bet.shot.player_name, "side": bet.side,
            "stake": float(bet.stake), "odds": float(bet.odds), "status": bet.status, "payout": float(bet.payout),
            "potential_payout": float(bet.potential_payout), "placed_at": bet.placed_at.isoformat()}


def stream_snapshot(*, user: Any) -> dict[str, Any]:
    """Everything the dashboard polls: the stream, the open shot, the last results, the user's book."""
    state = stream_state()
    shot = open_shot()
    snapshot: dict[str, Any] = {
        "stream": {
            "paused": state.paused if state else False,
            "pace_seconds": state.pace_seconds if state else settings.STREAM_PACE_SECONDS,
            "last_advanced_at": state.last_advanced_at.isoformat() if state and state.last_advanced_at else None,
            "shots_played": state.shots_played if state else 0,
        },
        "shot": shot_payload(shot, reveal=False) if shot else None,
        "recent": [shot_payload(taken, reveal=True) for taken in recent_taken_shots()],
        "value_threshold": settings.VALUE_EDGE_THRESHOLD,
        "me": None,
    }
    summary = bettor_summary(user=user)
    if summary is not None:
        open_bets = list(bets_of(user=user, status=Bet.Status.OPEN)[:20])
        snapshot["me"] = {
            "balance": float(summary.balance), "net": float(summary.net), "open_stakes": float(summary.open_stakes),
            "settled": summary.settled, "won": summary.won,
            "open_bets": [bet_payload(bet) for bet in open_bets],
            "recent_bets": [bet_payload(bet) for bet in bets_of(user=user).exclude(status=Bet.Status.OPEN)[:5]],
            "pnl": pnl_series(user=user),
        }  # fmt: skip
    return snapshot


def bettors_today(*, top: int = 3) -> dict[str, Any]:
    """Bets settled since midnight (UTC): how many, how many won, stakes, the bettors' net and the best of them."""
    from django.utils import timezone

    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    settled = Bet.objects.filter(settled_at__gte=midnight).exclude(status=Bet.Status.OPEN)
    totals = settled.aggregate(
        bets=Count("pk"), won=Count("pk", filter=Q(status=Bet.Status.WON)),
        staked=Coalesce(Sum("stake"), Value(Decimal("0")), output_field=DecimalField()),
        paid=Coalesce(Sum("payout"), Value(Decimal("0")), output_field=DecimalField()),
        bettors=Count("user", distinct=True),
    )  # fmt: skip
    best = (settled.values("user__username")
            .annotate(net=Sum("payout") - Sum("stake"), bets=Count("pk")).order_by("-net", "user__username")[:top])  # fmt: skip
    return {
        "bets": totals["bets"], "won": totals["won"], "bettors": totals["bettors"],
        "staked": float(totals["staked"]), "net": float(totals["paid"] - totals["staked"]),
        "hit_rate": totals["won"] / totals["bets"] if totals["bets"] else None,
        "best": [{"username": b["user__username"], "net": float(b["net"] or 0), "bets": b["bets"]} for b in best],
    }  # fmt: skip


def shot_trace(*, shot: LiveShot) -> dict[str, Any]:
    """Where a stream shot stands in the loop (operators and ``manage.py live_loop`` only: it names
    the shot's key, so it must never reach a page while the shot is open)."""
    warehouse = mongo.warehouse_collection(mongo.SHOTS).find_one(
        {"_id": shot.shot_key}, {"source": 1, "ingested_at": 1, "made": 1})
    from predictions.log import logged_predictions

    # A bundle's "key" is an array: equality finds the documents holding the key among others.
    logged = [row for document in mongo.warehouse_collection(mongo.PREDICTIONS).find({"key": shot.shot_key})
              for row in logged_predictions(document) if row.key == shot.shot_key]
    return {
        "shot": shot.pk, "key": shot.shot_key, "status": shot.status, "feed_position": shot.feed_position,
        "opened_at": shot.opened_at, "taken_at": shot.taken_at, "settled_at": shot.settled_at,
        "warehouse": None if warehouse is None else {
            "source": warehouse.get("source"), "ingested_at": warehouse.get("ingested_at"),
            "made": bool(warehouse.get("made"))},
        "predictions": [{"version": row.version, "p": row.p, "settled": row.made is not None, "live": row.live}
                        for row in logged],
    }  # fmt: skip
