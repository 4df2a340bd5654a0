"""Betting services: bankrolls, bets, settlement, and the live shot stream.

Money moves only here, inside transactions: placing a bet locks the bankroll row
(``select_for_update``) before checking the balance; settling claims each open bet with a
conditional update (``status=open`` → won/lost) and pays only when that update changed a
row, so a settlement that runs twice (a retried task, beat's catch-up) never pays twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from betting import market, selectors
from betting.models import Bankroll, Bet, LiveShot, StreamState
from ingestion import feed, lake
from ingestion.services import map_raw_document
from ingestion.shots import ShotValidationError
from parivision.errors import ApplicationError

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
LOAD_AHEAD = 50  # feed records the stream reads ahead at a time
LOAD_ROUNDS = 20  # at most this many reads per call (a long run of known records goes on next call)


# --- bankrolls ------------------------------------------------------------------------------


def bankroll_open(*, user: Any) -> Bankroll:
    """The user's bankroll, opened with ``STARTING_BANKROLL`` credits the first time."""
    start = Decimal(settings.STARTING_BANKROLL).quantize(CENT)
    bankroll, _ = Bankroll.objects.get_or_create(user=user, defaults={"balance": start, "starting_balance": start})
    return bankroll


# --- safeguards -----------------------------------------------------------------------------

LIMIT_MAX = Decimal("1000000000")


def _limit_clean(value: Any, *, field: str) -> Decimal | None:
    """A limit from a form or an API body: empty means no limit; else credits > 0 with two decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(f"The {field.replace('_', ' ')} {value!r} is not a number.", field=field,
                               value=value) from None
    if not amount.is_finite() or amount <= 0 or amount > LIMIT_MAX:
        raise ApplicationError(f"The {field.replace('_', ' ')} must be more than 0 and at most {LIMIT_MAX:,} "
                               "credits (leave it empty for no limit).", field=field, value=str(value))
    if amount != amount.quantize(CENT):
        raise ApplicationError(f"The {field.replace('_', ' ')} can have at most two decimals.", field=field,
                               value=str(value))
    return amount.quantize(CENT)


def bettor_limits_set(*, user: Any, stake_limit: Any, daily_loss_limit: Any, cooldown_hours: int | None = None,
                      now: dt.datetime | None = None) -> Bankroll:
    """Set the bettor's own safeguards: a stake limit, a daily loss limit (empty: none) and, when
    ``cooldown_hours`` is given, a cool-down of that many hours from now.

    A cool-down is a commitment: a shorter one never replaces a longer one already running.
    """
    stake = _limit_clean(stake_limit, field="stake_limit")
    daily = _limit_clean(daily_loss_limit, field="daily_loss_limit")
    now = now or timezone.now()
    until = None
    if cooldown_hours is not None:
        if isinstance(cooldown_hours, bool) or not isinstance(cooldown_hours, int) or not (
                1 <= cooldown_hours <= settings.BETTOR_COOLDOWN_MAX_HOURS):
            raise ApplicationError(f"The cool-down must be a whole number of hours from 1 to "
                                   f"{settings.BETTOR_COOLDOWN_MAX_HOURS}.", field="cooldown_hours",
                                   value=cooldown_hours)
        until = now + dt.timedelta(hours=cooldown_hours)
    bankroll_open(user=user)
    with transaction.atomic():
        bankroll = Bankroll.objects.select_for_update().get(user=user)
        bankroll.stake_limit, bankroll.daily_loss_limit = stake, daily
        fields = ["stake_limit", "daily_loss_limit", "updated_at"]
        if until is not None and (bankroll.cooldown_until is None or bankroll.cooldown_until < until):
            bankroll.cooldown_until = until
            fields.append("cooldown_until")
        bankroll.save(update_fields=fields)
    return bankroll


def _safeguards_check(*, bankroll: Bankroll, amount: Decimal, now: dt.datetime) -> None:
    """Refuse a stake that breaks one of the bettor's own limits (called under the bankroll's lock)."""
    if bankroll.cooldown_until is not None and bankroll.cooldown_until > now:
        until = timezone.localtime(bankroll.cooldown_until).strftime("%Y-%m-%d %H:%M %Z")
        raise ApplicationError(f"You are in the cool-down you set: no bets until {until}.", field="cooldown_until",
                               value=bankroll.cooldown_until.isoformat(), code="cooldown", status=403)
    if bankroll.stake_limit is not None and amount > bankroll.stake_limit:
        raise ApplicationError(f"The stake ({amount} credits) is above your stake limit "
                               f"({bankroll.stake_limit} credits).", field="stake_limit",
                               value=str(bankroll.stake_limit), code="stake_limit", status=403)
    if bankroll.daily_loss_limit is not None:
        lost = selectors.loss_today(user_id=bankroll.user_id, now=now)
        if lost + amount > bankroll.daily_loss_limit:
            left = max(bankroll.daily_loss_limit - lost, Decimal("0"))
            raise ApplicationError(f"The stake ({amount} credits) would take today's losses past your daily loss "
                                   f"limit ({bankroll.daily_loss_limit} credits): {lost} lost or in play today, "
                                   f"{left} left until midnight ({settings.TIME_ZONE}).", field="daily_loss_limit",
                                   value=str(bankroll.daily_loss_limit), code="daily_loss_limit", status=403)


# --- bets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BetPlacement:
    bet: Bet
    created: bool  # False: this idempotency key had already placed ``bet``


def idempotency_key_new() -> str:
    return uuid.uuid4().hex


def _stake_clean(stake: Any) -> Decimal:
    try:
        value = Decimal(str(stake))
    except (InvalidOperation, ValueError):
        raise ApplicationError(f"The stake {stake!r} is not a number.", field="stake", value=stake) from None
    if not value.is_finite() or value <= 0:
        raise ApplicationError("The stake must be more than 0 credits.", field="stake", value=str(stake))
    if value != value.quantize(CENT):
        raise ApplicationError("The stake can have at most two decimals.", field="stake", value=str(stake))
    return value.quantize(CENT)


def bet_place(*, user: Any, shot_id: int, side: str, stake: Decimal | str | int, idempotency_key: str) -> BetPlacement:
    """Stake credits on ``side`` of an open shot at the market's current odds.

    Refused (``ApplicationError``, nothing changed): a stake ≤ 0 or above the balance, an
    unknown shot, a shot not open yet (without a word about it) or no longer open, and anything
    the bettor's own safeguards forbid (a cool-down running, a stake above their stake limit, a
    stake that could take the day's losses past their daily loss limit). The same
    ``idempotency_key`` twice returns the bet the first request placed instead of placing another.
    """
    if side not in Bet.Side.values:
        raise ApplicationError("Choose made or missed.", field="side", value=side)
    if not idempotency_key or len(idempotency_key) > 64:
        raise ApplicationError("The bet form has expired: reload the page.", field="idempotency_key",
                               value=idempotency_key)
    amount = _stake_clean(stake)
    bankroll_open(user=user)
    try:
        with transaction.atomic():
            # Lock order everywhere: bankroll, then shot.
            bankroll = Bankroll.objects.select_for_update().get(user=user)
            existing = Bet.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if existing is not None:
                return BetPlacement(bet=existing, created=False)
            shot = LiveShot.objects.select_for_update().filter(pk=shot_id).first()
            if shot is None:
                raise ApplicationError("That shot does not exist.", field="shot", value=shot_id, code="unknown_shot",
                                       status=404)
            if shot.status == LiveShot.Status.QUEUED:
                # Nothing about a shot still to come: who takes it would hint at the open shot's outcome
                # (a made basket hands the ball to the other team).
                raise ApplicationError("This shot is not open for betting yet.", field="shot", value=shot_id,
                                       code="shot_not_open", status=409)
            if shot.status != LiveShot.Status.OPEN:
                raise ApplicationError(f"Betting on {shot.player_name}'s shot is closed: the shot has been taken.",
                                       field="shot", value=shot_id, code="shot_closed", status=409)
            odds = shot.market_odds_made if side == Bet.Side.MADE else shot.market_odds_missed
            if odds is None:
                raise ApplicationError("This shot has no market price yet.", field="shot", value=shot_id,
                                       code="shot_unpriced", status=409)
            _safeguards_check(bankroll=bankroll, amount=amount, now=timezone.now())
            if amount > bankroll.balance:
                raise ApplicationError(f"The stake ({amount} credits) is more than your balance "
                                       f"({bankroll.balance} credits).", field="stake", value=str(amount))
            bet = Bet.objects.create(user=user, shot=shot, side=side, stake=amount, odds=odds,
                                     model_probability=shot.probability_made, idempotency_key=idempotency_key)
            Bankroll.objects.filter(pk=bankroll.pk).update(balance=F("balance") - amount)
    except IntegrityError:
        # Two submissions of one form raced past the check (databases without row locks).
        existing = Bet.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return BetPlacement(bet=existing, created=False)
    return BetPlacement(bet=bet, created=True)


@dataclass(frozen=True)
class SettlementReport:
    shot_id: int
    settled: int
    won: int
    paid: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"shot_id": self.shot_id, "settled": self.settled, "won": self.won, "paid": str(self.paid)}


def bets_settle(*, shot_id: int) -> SettlementReport:
    """Settle every open bet on a taken shot whose record has reached the warehouse.

    The outcome is read from the warehouse (the shot's canonical key), never from anything the
    stream held: until the feed's record has been pulled and transformed, nothing is settled
    (``settled == 0``). Idempotent: each bet is claimed once.
    """
    shot = LiveShot.objects.filter(pk=shot_id).first()
    if shot is None:
        raise ApplicationError("That shot does not exist.", field="shot", value=shot_id, code="unknown_shot",
                               status=404)
    if shot.status not in (LiveShot.Status.TAKEN, LiveShot.Status.SETTLED):
        raise ApplicationError("The shot has not been taken yet.", field="shot", value=shot_id, code="shot_open",
                               status=409)
    if shot.made is None:
        outcome = selectors.warehouse_outcomes(keys=[shot.shot_key]).get(shot.shot_key)
        if outcome is None:
            return SettlementReport(shot_id=shot_id, settled=0, won=0, paid=Decimal("0"))
        LiveShot.objects.filter(pk=shot_id, made__isnull=True).update(made=outcome.made, outcome_at=outcome.at)
        shot.refresh_from_db()
    winner = Bet.Side.MADE if shot.made else Bet.Side.MISSED
    now = timezone.now()
    settled = won = 0
    paid = Decimal("0")
    for bet in Bet.objects.filter(shot_id=shot_id, status=Bet.Status.OPEN).only("pk", "user_id", "side", "stake",
                                                                                  "odds"):
        wins = bet.side == winner
        payout = (bet.stake * bet.odds).quantize(CENT, rounding=ROUND_HALF_UP) if wins else Decimal("0")
        with transaction.atomic():
            claimed = Bet.objects.filter(pk=bet.pk, status=Bet.Status.OPEN).update(
                status=Bet.Status.WON if wins else Bet.Status.LOST, payout=payout, settled_at=now)
            if not claimed:
                continue  # another run settled it
            if payout:
                Bankroll.objects.filter(user_id=bet.user_id).update(balance=F("balance") + payout)
        settled += 1
        won += int(wins)
        paid += payout
    if not Bet.objects.filter(shot_id=shot_id, status=Bet.Status.OPEN).exists():
        LiveShot.objects.filter(pk=shot_id, status=LiveShot.Status.TAKEN).update(status=LiveShot.Status.SETTLED,
                                                                                   settled_at=now)
    if settled:
        logger.info("settled %d bet(s) on shot %s: %d won, %s paid", settled, shot_id, won, paid)
    return SettlementReport(shot_id=shot_id, settled=settled, won=won, paid=paid)


def bets_settle_pending() -> list[SettlementReport]:
    """Settle every taken shot whose record has reached the warehouse (one keyed read for all)."""
    waiting = list(LiveShot.objects.filter(status=LiveShot.Status.TAKEN).order_by("sequence")
                   .values_list("pk", "shot_key"))
    if not waiting:
        return []
    arrived = selectors.warehouse_outcomes(keys=[key for _pk, key in waiting])
    return [bets_settle(shot_id=pk) for pk, key in waiting if key in arrived]


# --- the live stream ------------------------------------------------------------------------


def stream_state_get() -> StreamState:
    state, _ = StreamState.objects.get_or_create(pk=StreamState.SINGLETON,
                                                 defaults={"pace_seconds": settings.STREAM_PACE_SECONDS})
    return state


def stream_set(*, paused: bool | None = None, pace_seconds: int | None = None) -> StreamState:
    state = stream_state_get()
    changes: dict[str, Any] = {}
    if paused is not None:
        changes["paused"] = paused
    if pace_seconds is not None:
        if not 1 <= pace_seconds <= 86_400:
            raise ApplicationError("The pace must be between 1 second and a day.", field="pace_seconds",
                                   value=pace_seconds)
        changes["pace_seconds"] = pace_seconds
    if changes:
        StreamState.objects.filter(pk=state.pk).update(**changes, updated_at=timezone.now())
        state.refresh_from_db()
    return state


def _day(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day)


def _live_shot_from(position: int, record: dict[str, Any], *, load_id: str) -> LiveShot | None:
    """A feed record as a stream shot (no outcome kept), or None when the record cannot be mapped."""
    try:
        # The mapping the transform applies to this record: the key is the one the warehouse will use.
        shot = map_raw_document({"record": record, "source": "feed", "format": None}, ingested_at=lake.utcnow())
    except ShotValidationError:
        return None  # a bad record: nothing to bet on (it still reaches the lake's quarantine)
    doc = shot.to_document()
    return LiveShot(
        feed_position=position, feed_load_id=load_id, shot_key=str(doc["_id"]),
        game_id=doc["game_id"], event_id=doc["event_id"], game_date=doc["game_date"].date(),
        season=doc.get("season") or "", season_type=doc.get("season_type") or "Regular Season",
        player_id=doc["player_id"], player_name=doc.get("player_name") or f"Player {doc['player_id']}",
        position=doc.get("position") or "", team_name=doc.get("team_name") or "",
        home_team=doc.get("home_team") or "", away_team=doc.get("away_team") or "", is_home=doc.get("is_home"),
        period=doc["period"], seconds_left=doc["seconds_left"], action_type=doc["action_type"],
        shot_type=doc["shot_type"], zone_basic=doc["zone_basic"], zone_area=doc["zone_area"],
        zone_range=doc["zone_range"], distance_ft=doc["distance_ft"], x_ft=doc["x_ft"], y_ft=doc["y_ft"],
    )  # fmt: skip


def _next_position(load_id: str) -> int:
    """The first feed position the stream has not looked at yet."""
    last = LiveShot.objects.filter(feed_load_id=load_id).order_by("-feed_position").first()
    start = feed.feed_released()
    if not settings.FEED_PACED_BY_STREAM:
        start = max(start, feed.feed_status()["position"])  # never a shot somebody has already pulled
    if last is not None and last.feed_position is not None:
        start = max(start, last.feed_position + 1)
    return start


def _feed_exhausted() -> bool:
    """Nothing after what the stream has looked at: the feed's dataset is played out."""
    load_id = feed.feed_load_id()
    return load_id is None or not feed.feed_peek(start=_next_position(load_id), n=1)


def stream_load(*, ahead: int = LOAD_AHEAD) -> int:
    """Queue the next shots of the replay feed (its records not served yet); 0 when none is left.

    The records are read ahead of the feed without serving them. A shot the warehouse already
    has is skipped (its outcome is known: it is not the future), and so is a record that cannot
    be mapped. The feed never wraps around: at its end the stream stops.
    """
    load_id = feed.feed_load_id()
    if load_id is None:
        return 0
    start = _next_position(load_id)
    state = stream_state_get()
    # Records nobody can bet on (known or unreadable) may be played out at once, but only while no
    # shot of this load waits before them: releasing a position releases everything before it.
    nothing_waiting = not LiveShot.objects.filter(
        feed_load_id=load_id, status__in=(LiveShot.Status.QUEUED, LiveShot.Status.OPEN)).exists()
    created = 0
    for _ in range(LOAD_ROUNDS):
        peeked = feed.feed_peek(start=start, n=ahead)
        if not peeked:
            return 0
        start = peeked[-1][0] + 1
        candidates = [shot for position, record in peeked
                      if (shot := _live_shot_from(position, record, load_id=load_id)) is not None]
        known = selectors.warehouse_outcomes(keys=[shot.shot_key for shot in candidates])
        rows = [shot for shot in candidates if shot.shot_key not in known]
        if not rows:
            if nothing_waiting:
                feed.feed_release(through=peeked[-1][0])
            continue
        sequence = (LiveShot.objects.aggregate(top=Max("sequence"))["top"] or 0) + 1
        for offset, shot in enumerate(rows):
            shot.sequence, shot.replay_round = sequence + offset, state.replay_round
        LiveShot.objects.bulk_create(rows, ignore_conflicts=True)
        created = len(rows)
        break
    return created


def _model_probability(shot: LiveShot) -> tuple[float | None, str]:
    """The champion's P(made) for a stream shot (None without a champion)."""
    from predictions import history, serving

    try:
        served = serving.champion()
    except ApplicationError as error:  # no champion yet: the stream runs without model prices
        logger.info("stream shot %s unpriced by the model: %s", shot.pk, error.message)
        return None, ""
    record = {
        "player_id": shot.player_id, "game_date": _day(shot.game_date), "season": shot.season,
        "season_type": shot.season_type, "is_home": shot.is_home, "position": shot.position or None,
        "period": shot.period, "seconds_left": shot.seconds_left, "action_type": shot.action_type,
        "shot_type": shot.shot_type, "zone_basic": shot.zone_basic, "zone_area": shot.zone_area,
        "zone_range": shot.zone_range, "distance_ft": shot.distance_ft, "x_ft": shot.x_ft, "y_ft": shot.y_ft,
    }  # fmt: skip
    model = served.model
    if model.pipeline.game_context:
        # The team's and the opponent's previous shot of this game among those the warehouse holds now.
        from predictions.game_context import records_with_game_context

        records_with_game_context([{"record": record, "shot_key": shot.shot_key, "game_id": shot.game_id,
                                    "event_id": shot.event_id}])
    histories = history.cache().histories([shot.player_id], close_range_ft=model.pipeline.close_range_ft)
    probability = float(model.predict_proba_records([record], history=histories)[0])
    # Logged like any served prediction: the join scores it once the shot's record is ingested.
    from predictions.log import log_document, prediction_log_append

    prediction_log_append([log_document(version=served.version, probability=probability, shot_key=shot.shot_key,
                                        source="stream")], flush=True)
    return probability, served.version


def _market_quote(shot: LiveShot, rates: market.MakeRates) -> market.Quote:
    zone, action = shot.zone_basic, shot.action_type
    prior, margin = settings.MARKET_PRIOR_ATTEMPTS, settings.MARKET_MARGIN
    token = settings.BETSAPI_TOKEN
    if not token:
        return market.quote_market_maker(rates=rates, zone=zone, action=action, margin=margin, prior_attempts=prior)
    key = f"betting:betsapi:{shot.game_id}:{shot.home_team}:{shot.away_team}"
    found = cache.get(key)
    if found is None:
        from ingestion.betsapi import BetsApiClient

        with BetsApiClient(token=token, base_url=settings.BETSAPI_BASE_URL, timeout=settings.BETSAPI_TIMEOUT_S,
                           max_retries=1) as client:
            found = market.betsapi_margin(client=client, home_team=shot.home_team, away_team=shot.away_team,
                                          game_date=shot.game_date)
        cache.set(key, list(found), settings.BETSAPI_ODDS_CACHE_SECONDS)
    book_margin, detail = found
    if book_margin is None:
        return market.quote_market_maker(rates=rates, zone=zone, action=action, margin=margin, prior_attempts=prior,
                                         reason=detail)
    return market.quote_from_betsapi(rates=rates, zone=zone, action=action, prior_attempts=prior,
                                     margin=book_margin, detail=detail)


def live_shot_price(*, shot_id: int) -> LiveShot:
    """Fix a queued shot's prices: the champion's probability and the market's odds."""
    shot = LiveShot.objects.get(pk=shot_id)
    probability, version = _model_probability(shot)
    quote = _market_quote(shot, selectors.market_rates())
    LiveShot.objects.filter(pk=shot.pk).update(
        probability_made=probability, model_version=version, league_rate=quote.probability_made,
        market_odds_made=Decimal(str(quote.odds_made)), market_odds_missed=Decimal(str(quote.odds_missed)),
        market_source=quote.source, market_detail=quote.detail, priced_at=timezone.now(),
    )  # fmt: skip
    shot.refresh_from_db()
    return shot


@dataclass(frozen=True)
class AdvanceReport:
    advanced: bool
    reason: str = ""
    taken_shot_id: int | None = None
    opened_shot_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"advanced": self.advanced, "reason": self.reason, "taken_shot_id": self.taken_shot_id,
                "opened_shot_id": self.opened_shot_id}


def _release_taken() -> None:
    """Make sure the feed serves every shot the stream has taken (repairs a release lost in a crash)."""
    load_id = feed.feed_load_id()
    if load_id is None:
        return
    last = (LiveShot.objects.filter(feed_load_id=load_id, feed_position__isnull=False,
                                    status__in=(LiveShot.Status.TAKEN, LiveShot.Status.SETTLED))
            .order_by("-feed_position").values_list("feed_position", flat=True).first())
    if last is not None and feed.feed_released() <= last:
        feed.feed_release(through=last)


def _taken_released(position: int | None, *, to_the_end: bool) -> None:
    """Once the take is committed: the feed may serve the taken shot's record."""
    if position is not None:
        feed.feed_release(through=position)
    if to_the_end:  # nothing left to open: records after the last shot (bad ones) are played out too
        total = feed.feed_status()["total"]
        if total:
            feed.feed_release(through=total - 1)


def _pull_enqueue() -> None:
    """Ingestion pulls the released record at once (beat's "Pull the feed" would within a minute)."""
    from ingestion.tasks import pull_feed

    try:
        pull_feed.delay()
    except Exception:  # the broker is away: beat's "Pull the feed" catches up
        logger.exception("could not enqueue a pull of the feed")


def stream_advance(*, force: bool = False, now: dt.datetime | None = None) -> AdvanceReport:
    """Take the open shot (bets close, its record released to the feed) and open the next one.

    Beat calls this every few seconds. Each call first settles the taken shots whose records
    have reached the warehouse; then the stream moves only when the pace says so (``force``
    moves it at once, even paused). Two callers at once move it once: the move is claimed with
    a conditional update on the stream's ``last_advanced_at``.
    """
    now = now or timezone.now()
    _release_taken()
    bets_settle_pending()
    state = stream_state_get()
    if not force:
        if state.paused:
            return AdvanceReport(advanced=False, reason="paused")
        if state.last_advanced_at and now < state.last_advanced_at + dt.timedelta(seconds=state.pace_seconds):
            return AdvanceReport(advanced=False, reason="not due")
    # Prepare the next shot outside the lock: loading and pricing talk to MongoDB and the model.
    upcoming = selectors.next_queued_shot(load_id=feed.feed_load_id())
    if upcoming is None and stream_load():
        upcoming = selectors.next_queued_shot(load_id=feed.feed_load_id())
    if upcoming is not None and upcoming.priced_at is None:
        upcoming = live_shot_price(shot_id=upcoming.pk)

    with transaction.atomic():
        claimed = StreamState.objects.filter(pk=state.pk, last_advanced_at=state.last_advanced_at).update(
            last_advanced_at=now, shots_played=F("shots_played") + 1, updated_at=now)
        if not claimed:
            return AdvanceReport(advanced=False, reason="advanced by another worker")
        taken = LiveShot.objects.select_for_update().filter(status=LiveShot.Status.OPEN).order_by("sequence").first()
        if taken is not None:
            taken.status, taken.taken_at = LiveShot.Status.TAKEN, now
            taken.save(update_fields=["status", "taken_at"])
            transaction.on_commit(_pull_enqueue)
        opened = None
        if upcoming is not None:
            opened = LiveShot.objects.filter(pk=upcoming.pk, status=LiveShot.Status.QUEUED).update(
                status=LiveShot.Status.OPEN, opened_at=now)
    # Released only after the take is committed, so an open shot's record never leaves the feed
    # (a crash in between is repaired by the next call's ``_release_taken``).
    at_the_end = upcoming is None and _feed_exhausted()
    if taken is not None or at_the_end:
        _taken_released(taken.feed_position if taken is not None else None, to_the_end=at_the_end)
    reason = "" if upcoming else "the feed has no more shots" if at_the_end else "no shot ready yet"
    return AdvanceReport(advanced=True, reason=reason,
                         taken_shot_id=taken.pk if taken else None,
                         opened_shot_id=upcoming.pk if upcoming is not None and opened else None)


def _settlement_enqueue(shot_id: int) -> None:
    from betting.tasks import settle_shot

    try:
        settle_shot.delay(shot_id=shot_id)
    except Exception:  # the broker is away: beat's "Settle taken shots" catches up
        logger.exception("could not enqueue the settlement of shot %s", shot_id)


def stream_advance_enqueue() -> None:
    """Ask a worker to move the stream now (the admin's and the operator's button)."""
    from betting.tasks import advance_stream

    transaction.on_commit(lambda: advance_stream.delay(force=True))
