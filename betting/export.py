"""A bettor's bets as CSV, streamed row by row (the portal's link and ``GET /api/v1/bets/export``).

Only the bettor's own bets are read. A shot's outcome (and its key in the warehouse, which
would give the outcome away) is written only once the stream has taken the shot: an open
shot's outcome stays hidden here as everywhere else (``hidden_made`` is never read).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from betting.models import Bet, LiveShot

COLUMNS = (
    "bet_id", "placed_at", "settled_at", "status", "side", "stake", "odds", "payout", "profit",
    "model_probability", "shot_sequence", "shot_status", "game_date", "player", "team", "opponent",
    "period", "clock", "action_type", "shot_type", "zone", "distance_ft", "shot_key", "shot_made",
)  # fmt: skip
REVEALED = (LiveShot.Status.TAKEN, LiveShot.Status.SETTLED)
CHUNK = 500
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """Free text a spreadsheet could read as a formula gets a leading apostrophe."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else ""


def bet_row(bet: Bet) -> list[Any]:
    shot = bet.shot
    revealed = shot.status in REVEALED and shot.made is not None
    profit = bet.payout - bet.stake if bet.status != Bet.Status.OPEN else ""
    return [
        bet.pk, _when(bet.placed_at), _when(bet.settled_at), bet.status, bet.side, f"{bet.stake:.2f}",
        f"{bet.odds:.3f}", f"{bet.payout:.2f}" if bet.status != Bet.Status.OPEN else "",
        f"{profit:.2f}" if profit != "" else "",
        f"{bet.model_probability:.4f}" if bet.model_probability is not None else "", shot.sequence,
        shot.status, shot.game_date.isoformat(), _text(shot.player_name), _text(shot.team_code),
        _text(shot.opponent_code), shot.period, shot.clock, _text(shot.action_type), shot.shot_type,
        _text(shot.zone_basic), f"{shot.distance_ft:.1f}", shot.shot_key if revealed else "",
        ("made" if shot.made else "missed") if revealed else "",
    ]  # fmt: skip


class _Line:
    """csv.writer's file: hands back each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def bets_csv_lines(*, user: Any) -> Iterator[str]:
    """The header, then one line per bet of ``user``, oldest first (read in chunks)."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    bets = Bet.objects.filter(user=user).select_related("shot").order_by("placed_at", "pk")
    for bet in bets.iterator(chunk_size=CHUNK):
        yield writer.writerow(bet_row(bet))


def bets_csv_response(*, user: Any) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(bets_csv_lines(user=user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="parivision-bets-{user.pk}-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
