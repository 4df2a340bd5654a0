"""Watch one turn of the honest live loop on a running platform (``scripts/up.sh``).

A demo bettor stakes on the open shot; the worker is asked to take it; the command waits while
the shot's record is released to the feed, pulled into the lake, transformed into the
warehouse, the bet settled from the warehouse's outcome and the stream's prediction joined
(live), then prints each step and one line of JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from betting import selectors, services
from betting.models import Bet

STEPS = ("bet placed", "shot taken", "record in the warehouse (through the feed)", "bet settled",
         "prediction joined")


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo-bettor")
        parser.add_argument("--stake", default="10")
        parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the whole loop")
        parser.add_argument("--no-enqueue", action="store_true",
                            help="do not ask the worker to take the shot now (wait for the stream's pace)")

    def handle(self, *args: Any, **options: Any) -> None:
        shot = selectors.open_shot()
        deadline = time.monotonic() + options["timeout"]
        while shot is None and time.monotonic() < deadline:
            time.sleep(2)  # the stream opens its first shot on beat's next tick
            shot = selectors.open_shot()
        if shot is None:
            raise CommandError("no shot is open: is the worker and beat running, and the feed loaded (demo_data)?")
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        side = "made" if (shot.probability_made or 0.5) >= 0.5 else "missed"
        bet = services.bet_place(user=user, shot_id=shot.pk, side=side, stake=options["stake"],
                                 idempotency_key=f"live-loop-{shot.pk}").bet
        self._step(0, f"{bet.stake} credits on {side} at {bet.odds} on {shot.player_name}'s "
                      f"{shot.action_type} (open shot #{shot.sequence})")
        if not options["no_enqueue"]:
            services.stream_advance_enqueue()
        done = 0
        trace: dict[str, Any] = {}
        while time.monotonic() < deadline and done < len(STEPS) - 1:
            time.sleep(1)
            shot.refresh_from_db()
            bet.refresh_from_db()
            trace = selectors.shot_trace(shot=shot)
            reached = [shot.taken_at is not None, trace["warehouse"] is not None, bet.status != Bet.Status.OPEN,
                       any(p["settled"] for p in trace["predictions"])]
            while done < len(reached) and reached[done]:
                done += 1
                self._step(done, self._detail(done, shot=shot, bet=bet, trace=trace))
        if done < len(STEPS) - 1:
            raise CommandError(f"the loop stopped before '{STEPS[done + 1]}' within {options['timeout']:.0f} s: "
                               "are the worker and beat running?")
        self.stdout.write(json.dumps({"bet": {"id": bet.pk, "side": bet.side, "stake": str(bet.stake),
                                              "odds": str(bet.odds), "status": bet.status,
                                              "payout": str(bet.payout)}, **trace}, default=_json))

    def _step(self, index: int, detail: str) -> None:
        self.stdout.write(f"{index + 1}. {STEPS[index]}: {detail}")

    @staticmethod
    def _detail(index: int, *, shot: Any, bet: Any, trace: dict[str, Any]) -> str:
        if index == 1:
            return f"at {shot.taken_at:%H:%M:%S}; its record is released to the feed"
        if index == 2:
            where = trace["warehouse"]
            return f"source {where['source']}, ingested at {where['ingested_at']}, made={where['made']}"
        if index == 3:
            return f"{bet.status}, payout {bet.payout}"
        joined = [p for p in trace["predictions"] if p["settled"]]
        return ", ".join(f"v{p['version']} p={p['p']} live={p['live']}" for p in joined)


def _json(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
