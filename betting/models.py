"""Virtual-credit betting on the live shot stream: bankrolls, the stream and its shots, bets."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class Bankroll(models.Model):
    """A user's virtual credits; only services change ``balance`` (under a row lock)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bankroll")
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    starting_balance = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Safeguards the bettor sets on their profile (betting.services.bettor_limits_set); null: none.
    stake_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                      help_text="Largest stake of one bet.")
    daily_loss_limit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                           help_text="Most credits the bettor may lose in a day (open stakes count).")
    cooldown_until = models.DateTimeField(null=True, blank=True,
                                          help_text="No bets until then (self-set; cannot be shortened).")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="bankroll_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(stake_limit__isnull=True) | models.Q(stake_limit__gt=0),
                                   name="bankroll_stake_limit_positive"),
            models.CheckConstraint(
                condition=models.Q(daily_loss_limit__isnull=True) | models.Q(daily_loss_limit__gt=0),
                name="bankroll_daily_loss_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.balance} credits"


class StreamState(models.Model):
    """The one live stream (row 1): its pace, whether it is paused, and where it stands."""

    SINGLETON = 1

    pace_seconds = models.PositiveIntegerField(help_text="Seconds between two shots.")
    paused = models.BooleanField(default=False)
    last_advanced_at = models.DateTimeField(null=True, blank=True)
    replay_round = models.PositiveIntegerField(default=1, help_text="Kept for older shots (the stream no longer starts over).")
    shots_played = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "stream state"
        verbose_name_plural = "stream state"

    def __str__(self) -> str:
        return f"Live stream ({'paused' if self.paused else f'every {self.pace_seconds} s'})"


class LiveShot(models.Model):
    """One upcoming shot of the replay feed: queued → open (bets taken) → taken → settled.

    The stream reads the shot from the feed's dataset *before* the feed serves it: the platform
    has not ingested it, and nothing here holds its outcome. Taking the shot releases its record
    to the feed; the record reaches the lake and the warehouse through the ordinary pull →
    transform, and settlement reads the outcome from the warehouse (``made``, ``outcome_at``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        OPEN = "open", "Open for bets"
        TAKEN = "taken", "Taken"
        SETTLED = "settled", "Settled"

    sequence = models.PositiveBigIntegerField(unique=True, help_text="Stream order.")
    replay_round = models.PositiveIntegerField(default=1)
    shot_key = models.CharField(max_length=120, help_text="The canonical shot's key (its warehouse _id): server side only.")
    feed_position = models.PositiveBigIntegerField(null=True, blank=True, help_text="Its record's place in the feed.")
    feed_load_id = models.CharField(max_length=32, blank=True, help_text="Which loading of the feed's dataset.")
    game_id = models.CharField(max_length=10)
    event_id = models.PositiveIntegerField()
    game_date = models.DateField()
    season = models.CharField(max_length=9)
    season_type = models.CharField(max_length=20, default="Regular Season")
    player_id = models.BigIntegerField()
    player_name = models.CharField(max_length=100)
    position = models.CharField(max_length=10, blank=True)
    team_name = models.CharField(max_length=60)
    home_team = models.CharField(max_length=5)
    away_team = models.CharField(max_length=5)
    is_home = models.BooleanField(null=True)
    period = models.PositiveSmallIntegerField()
    seconds_left = models.PositiveSmallIntegerField()
    action_type = models.CharField(max_length=60)
    shot_type = models.CharField(max_length=3)
    zone_basic = models.CharField(max_length=30)
    zone_area = models.CharField(max_length=30)
    zone_range = models.CharField(max_length=30)
    distance_ft = models.FloatField()
    x_ft = models.FloatField()
    y_ft = models.FloatField()
    # Unknown until the shot's record has reached the warehouse (then copied from there).
    made = models.BooleanField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True, help_text="When its outcome entered the warehouse.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Prices, fixed before the shot opens.
    priced_at = models.DateTimeField(null=True, blank=True)
    probability_made = models.FloatField(null=True, blank=True, help_text="The champion's P(made).")
    model_version = models.CharField(max_length=20, blank=True)
    league_rate = models.FloatField(null=True, blank=True, help_text="League make rate (zone x action type).")
    market_odds_made = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    market_odds_missed = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    market_source = models.CharField(max_length=20, blank=True)
    market_detail = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["replay_round", "shot_key"], name="live_shot_once_per_round")]
        indexes = [models.Index(fields=["status", "sequence"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.player_name} · {self.action_type} ({self.shot_key})"

    @property
    def team_code(self) -> str:
        return self.away_team if self.is_home is False else self.home_team

    @property
    def opponent_code(self) -> str:
        return self.home_team if self.is_home is False else self.away_team

    @property
    def clock(self) -> str:
        return f"{self.seconds_left // 60}:{self.seconds_left % 60:02d}"

    @property
    def period_label(self) -> str:
        return f"Q{self.period}" if self.period <= 4 else f"OT{self.period - 4}"


class Bet(models.Model):
    class Side(models.TextChoices):
        MADE = "made", "Made"
        MISSED = "missed", "Missed"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bets")
    shot = models.ForeignKey(LiveShot, on_delete=models.PROTECT, related_name="bets")
    side = models.CharField(max_length=6, choices=Side.choices)
    stake = models.DecimalField(max_digits=12, decimal_places=2)
    odds = models.DecimalField(max_digits=8, decimal_places=3, help_text="The market's decimal odds when placed.")
    model_probability = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    payout = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    idempotency_key = models.CharField(max_length=64, help_text="From the bet form: a resubmitted form places nothing.")
    placed_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="bet_idempotency_key_per_user"),
            models.CheckConstraint(condition=models.Q(stake__gt=0), name="bet_stake_positive"),
        ]
        indexes = [models.Index(fields=["user", "-placed_at"]), models.Index(fields=["shot", "status"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.stake} on {self.side} @ {self.odds} ({self.status})"

    @property
    def profit(self) -> Decimal:
        return self.payout - self.stake if self.status != self.Status.OPEN else Decimal("0")

    @property
    def potential_payout(self) -> Decimal:
        return (self.stake * self.odds).quantize(Decimal("0.01"))
