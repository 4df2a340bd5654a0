"""Shot features: one pipeline object, fitted once, pickled with the model.

Training (a DataFrame of canonical shots) and serving (one dict, or a handful) go
through the same ``ShotFeaturePipeline._encode``: the batch path only turns the
DataFrame into per-column arrays first.  The encoding itself is plain numpy so that
one shot costs tens of microseconds rather than the milliseconds a pandas or
ColumnTransformer round trip would.

The shooter's form comes from a ``PlayerHistory``: cumulative attempts and makes per
player and game date, queried *strictly before* the shot's game date, so a shot never
sees its own game (or anything later).  Serving rebuilds that table from the
warehouse and passes it in; the copy stored at fit time is only the default.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from ingestion.shots import ZONE_AREAS as SHOT_ZONE_AREAS
from ingestion.shots import ZONE_BASIC as SHOT_ZONE_BASIC
from ingestion.shots import ZONE_RANGES as SHOT_ZONE_RANGES
from training.ml.context import OPPONENT_CONTEXT, PREVIOUS_SHOTS, TEAM_CONTEXT, previous_shots_frame

# Raw columns the pipeline reads; anything else (made, source, names...) is ignored, so
# the label can never leak into the features however the caller builds the frame.
INPUT_COLUMNS = (
    "player_id",
    "game_date",
    "season",
    "season_type",
    "is_home",
    "position",
    "period",
    "seconds_left",
    "action_type",
    "shot_type",
    "zone_basic",
    "zone_area",
    "zone_range",
    "distance_ft",
    "x_ft",
    "y_ft",
    *PREVIOUS_SHOTS,
)
LABEL_COLUMN = "made"
# The canonical fields a shooter history is built from (history_daily_counts).
HISTORY_INPUTS = ("player_id", "game_date", "shot_type", "distance_ft", "zone_basic", "action_type", LABEL_COLUMN)

# Shot families for the shooter's history: a 3 and a layup are different skills.
FAMILIES = ("all", "close2", "mid2", "three")
CLOSE_RANGE_FT = 10.0
# Finer groups, only looked up for the shot's own zone and kind of action.
ACTION_CLASSES = ("putback", "dunk", "layup", "hook", "floater", "jump")
BASE_POSITIONS = ("PG", "SG", "SF", "PF", "C")
# The canonical shot's zone vocabularies (one definition, ingestion/shots.py).
ZONE_BASIC = SHOT_ZONE_BASIC
ZONE_AREA = tuple(SHOT_ZONE_AREAS)
ZONE_RANGE = SHOT_ZONE_RANGES
OTHER = "Other"

# Columns of the history table: the overall record, the three families, each zone, each action class.
GROUPS = (*FAMILIES, *(f"zone_{z}" for z in ZONE_BASIC), *(f"action_{c}" for c in ACTION_CLASSES))
_ZONE_OFFSET = len(FAMILIES)
_ACTION_OFFSET = _ZONE_OFFSET + len(ZONE_BASIC)
# Recent form: the same table queried twice, at the shot's date and this many days earlier.
RECENT_DAYS = 45
# The one shooter-history rule: a shot sees its shooter's shots of the HISTORY_DAYS days before its
# game date (training, serving and backtests alike; settings.SHOOTER_HISTORY_DAYS, 0 = no limit).
HISTORY_DAYS = 730

REGULATION_PERIODS = 4
PERIOD_SECONDS = 720
OVERTIME_SECONDS = 300
END_OF_PERIOD_SECONDS = 5  # heaves and hurried last shots
CLUTCH_SECONDS = 300  # the NBA's "clutch": last five minutes of the fourth or overtime

# A day number fits in 17 bits until the year 2328, so (player, day) packs into one int64
# and a single searchsorted answers a whole batch of as-of queries.
_DAY_BITS = 17
_DAY_MASK = (1 << _DAY_BITS) - 1


def _day_numbers(values: Any) -> np.ndarray:
    """Days since 1970 for datetimes, dates, ISO strings or a datetime64 column (NaT -> -1)."""
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.datetime64):
        array = np.array(list(array), dtype="datetime64[D]")
    days = array.astype("datetime64[D]")
    missing = np.isnat(days)
    numbers = days.astype(np.int64)
    numbers[missing] = -1
    return numbers


def _to_float(values: Any) -> np.ndarray:
    """Floats with None/NaN/<NA> as NaN (bools become 0/1)."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64)
    out = np.empty(len(array), dtype=np.float64)
    for i, value in enumerate(array):
        try:
            out[i] = np.nan if value is None or value is pd.NA else float(value)
        except (TypeError, ValueError):
            out[i] = np.nan
    return out


def _to_int_ids(values: Any) -> np.ndarray:
    """Player ids as int64, with -1 for anything that is not a whole number."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    floats = _to_float(array)
    ids = np.full(len(floats), -1, dtype=np.int64)
    ok = np.isfinite(floats)
    ids[ok] = floats[ok].astype(np.int64)
    return ids


@functools.lru_cache(maxsize=64)
def _index(vocabulary: tuple[str, ...]) -> dict[str, int]:
    """value -> position in a vocabulary; built once per vocabulary (serving encodes one shot at a time)."""
    return {v: i for i, v in enumerate(vocabulary)}


def shot_families(*, shot_type: Any, distance_ft: Any, close_range_ft: float = CLOSE_RANGE_FT) -> np.ndarray:
    """Index into FAMILIES[1:] (0 close 2, 1 mid 2, 2 three) for each shot."""
    is_three = np.asarray(shot_type, dtype=object) == "3PT"
    distance = _to_float(distance_ft)
    # A missing distance is treated as mid-range, the least informative family (NaN < x is False).
    close = distance < close_range_ft
    return np.where(is_three, 2, np.where(close, 0, 1)).astype(np.int64)


_ACTION_CLASS_CACHE: dict[str, int] = {}


def action_class(action_type: Any) -> int:
    """Index into ACTION_CLASSES from the words of an action type ('Tip Dunk Shot' -> putback)."""
    if not isinstance(action_type, str):
        return len(ACTION_CLASSES) - 1
    cached = _ACTION_CLASS_CACHE.get(action_type)
    if cached is not None:
        return cached
    text = action_type.lower()
    if "tip" in text or "putback" in text:
        found = 0
    elif "dunk" in text:
        found = 1
    elif "layup" in text or "finger roll" in text:
        found = 2
    elif "hook" in text:
        found = 3
    elif "float" in text:
        found = 4
    else:
        found = 5
    if len(_ACTION_CLASS_CACHE) < 1000:  # bounded: unknown strings arrive from the API
        _ACTION_CLASS_CACHE[action_type] = found
    return found


def shot_groups(*, shot_type: Any, distance_ft: Any, zone_basic: Any, action_type: Any,
                close_range_ft: float = CLOSE_RANGE_FT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column in GROUPS of each shot's family, zone (-1 when unknown) and action class."""
    family = shot_families(shot_type=shot_type, distance_ft=distance_ft, close_range_ft=close_range_ft) + 1
    zone_index = _index(ZONE_BASIC)
    zones = np.fromiter((zone_index.get(z, -1) for z in zone_basic), dtype=np.int64, count=len(family))
    zones = np.where(zones >= 0, zones + _ZONE_OFFSET, -1)
    actions = np.fromiter((action_class(a) for a in action_type), dtype=np.int64, count=len(family))
    return family, zones, actions + _ACTION_OFFSET


@dataclass(slots=True)
class PlayerHistory:
    """Per-player cumulative attempts/makes by group (GROUPS), as of the end of each game date.

    ``keys`` is sorted and packs (player_id, day); row i of ``attempts``/``makes`` holds the
    totals *including* that day, so "before day d" is the row just left of (player, d).
    """

    keys: np.ndarray
    attempts: np.ndarray  # (rows, len(GROUPS)) float64
    makes: np.ndarray
    last_day: int = -1

    @classmethod
    def empty(cls) -> PlayerHistory:
        width = len(GROUPS)
        return cls(np.empty(0, np.int64), np.empty((0, width)), np.empty((0, width)))

    @classmethod
    def from_shots(cls, frame: pd.DataFrame, *, close_range_ft: float = CLOSE_RANGE_FT) -> PlayerHistory:
        """Build from canonical shots (player_id, game_date, shot_type, distance_ft, zone_basic,
        action_type, made)."""
        return cls.from_daily_counts(history_daily_counts(frame, close_range_ft=close_range_ft))

    @classmethod
    def from_daily_counts(cls, counts: pd.DataFrame) -> PlayerHistory:
        """Build from per (player_id, day or game_date) totals: ``attempts_<group>``/``makes_<group>``.

        This is the shape a warehouse aggregation returns, so serving need not load every shot.
        """
        if counts.empty:
            return cls.empty()
        day = counts["day"].to_numpy() if "day" in counts else _day_numbers(counts["game_date"].to_numpy())
        return cls.from_daily_arrays(player=_to_int_ids(counts["player_id"].to_numpy()), day=day,
                                     attempts=counts[[f"attempts_{g}" for g in GROUPS]].to_numpy(np.float64),
                                     makes=counts[[f"makes_{g}" for g in GROUPS]].to_numpy(np.float64))

    @classmethod
    def from_daily_arrays(cls, *, player: np.ndarray, day: np.ndarray, attempts: np.ndarray,
                          makes: np.ndarray) -> PlayerHistory:
        """``from_daily_counts`` on arrays: row i is (player[i], day[i]) with that day's counts
        (``attempts``/``makes``: one column per group of GROUPS); serving's cold path, no DataFrame."""
        if not len(player):
            return cls.empty()
        player = np.asarray(player, np.int64)
        order = np.lexsort((day, player))
        player, day = player[order], np.asarray(day, np.int64)[order]
        attempts = np.asarray(attempts, np.float64)[order]
        makes = np.asarray(makes, np.float64)[order]
        if len(player) > 1 and np.any((player[1:] == player[:-1]) & (day[1:] == day[:-1])):
            raise ValueError("daily counts hold the same (player_id, day) twice; aggregate them first")
        # Cumulative sums restart at each player: subtract the running total at each player's start.
        starts = np.r_[True, player[1:] != player[:-1]]
        group = np.cumsum(starts) - 1
        for table in (attempts, makes):
            running = np.cumsum(table, axis=0)
            before_group = (running - table)[starts]
            table[:] = running - before_group[group]
        keys = (player << _DAY_BITS) | (day & _DAY_MASK)
        return cls(keys, attempts, makes, int(day.max()))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def players(self) -> int:
        return len(np.unique(self.keys >> _DAY_BITS)) if len(self.keys) else 0

    def lookup(self, *, player_ids: Any, game_dates: Any, days_back: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(attempts, makes), each (n, len(GROUPS)), from games strictly before each date.

        ``days_back`` moves the as-of date earlier (for "the last N days" as a difference of two lookups).
        """
        return self._lookup(_to_int_ids(player_ids), _day_numbers(game_dates) - days_back)

    def _lookup(self, player: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(player)
        if not len(self.keys) or not n:
            return np.zeros((n, len(GROUPS))), np.zeros((n, len(GROUPS)))
        # np.minimum/np.maximum rather than np.clip: the same values, without np.clip's Python layers
        # (this runs for every served shot).
        query = (player << _DAY_BITS) | np.minimum(np.maximum(day, 0), _DAY_MASK)
        # side="left": an entry for the same day is *not* before the query, so it is excluded.
        index = self.keys.searchsorted(query, side="left") - 1
        safe = np.maximum(index, 0)
        found = ((index >= 0) & ((self.keys[safe] >> _DAY_BITS) == player) & (player >= 0) & (day >= 0))[:, None]
        return np.where(found, self.attempts[safe], 0.0), np.where(found, self.makes[safe], 0.0)

    def lookup_back(self, player: np.ndarray, day: np.ndarray, days_back: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        """``_lookup`` as of ``day - b`` for each ``b`` of ``days_back``, in one search (one shot costs
        one numpy pass instead of one per look-back)."""
        n, k = len(player), len(days_back)
        attempts, makes = self._lookup(np.tile(player, k), np.concatenate([day - b for b in days_back]))
        return [(attempts[i * n:(i + 1) * n], makes[i * n:(i + 1) * n]) for i in range(k)]


def history_daily_counts(frame: pd.DataFrame, *, close_range_ft: float = CLOSE_RANGE_FT) -> pd.DataFrame:
    """Per (player_id, day) attempts and makes by group: the input of ``PlayerHistory.from_daily_counts``."""
    columns = ["player_id", "day", *(f"attempts_{g}" for g in GROUPS), *(f"makes_{g}" for g in GROUPS)]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    family, zone, action = shot_groups(
        shot_type=frame["shot_type"].to_numpy(), distance_ft=frame["distance_ft"].to_numpy(),
        zone_basic=frame["zone_basic"].to_numpy(), action_type=frame["action_type"].to_numpy(),
        close_range_ft=close_range_ft,
    )
    n = len(frame)
    member = np.zeros((n, len(GROUPS)))
    rows = np.arange(n)
    member[:, 0] = 1.0
    member[rows, family] = 1.0
    member[rows[zone >= 0], zone[zone >= 0]] = 1.0
    member[rows, action] = 1.0
    made = frame["made"].to_numpy().astype(np.float64)[:, None]
    player = _to_int_ids(frame["player_id"].to_numpy())
    day = _day_numbers(frame["game_date"].to_numpy())
    keep = (player >= 0) & (day >= 0)
    daily = pd.DataFrame(np.hstack([member, member * made])[keep], columns=columns[2:])
    daily.insert(0, "day", day[keep])
    daily.insert(0, "player_id", player[keep])
    return daily.groupby(["player_id", "day"], sort=True).sum().reset_index()


def _beta_prior_strength(*, attempts: np.ndarray, makes: np.ndarray, rate: float, floor: float = 20.0,
                         ceiling: float = 2000.0, min_attempts: int = 50) -> float:
    """Empirical-Bayes pseudo-count k of a Beta prior around ``rate`` (method of moments).

    The spread of per-player rates, minus the spread binomial noise alone would give, is the
    real between-player variance tau^2; a Beta with that variance has k = p(1-p)/tau^2 - 1.
    """
    enough = attempts >= min_attempts
    if enough.sum() < 10 or not 0 < rate < 1:
        return 200.0
    observed = makes[enough] / attempts[enough]
    noise = np.mean(rate * (1 - rate) / attempts[enough])
    tau2 = np.var(observed) - noise
    if tau2 <= 0:
        return ceiling
    return float(np.clip(rate * (1 - rate) / tau2 - 1, floor, ceiling))


@dataclass
class ShotFeaturePipeline:
    """Learns vocabularies and priors from training shots and encodes shots into a float32 matrix."""

    min_action_count: int = 200
    close_range_ft: float = CLOSE_RANGE_FT
    action_smoothing: float = 50.0
    history_days: int = HISTORY_DAYS  # the shooter-history window; 0 counts every earlier shot
    # The team's and the opponent's previous shot of the game (training/ml/context.py: PREVIOUS_SHOTS).
    game_context: bool = True
    context_names: tuple[str, ...] = PREVIOUS_SHOTS
    # The shooter's shots of this season so far (measured in the walk-forward, --season-form; not served).
    season_form: bool = False
    action_types: tuple[str, ...] = ()
    league_rate: float = 0.5
    group_rates: tuple[float, ...] = ()
    group_strengths: tuple[float, ...] = ()
    action_rates: dict[str, float] = field(default_factory=dict)
    # Where the training shots of each zone were taken (ZONE_SPOTS of them, x, y, distance): a shot known
    # only by its zone is priced at each and averaged (spread_records), as the model never saw one unlocated.
    zone_spots: dict[tuple[str, ...], tuple[tuple[float, float, float], ...]] = field(default_factory=dict)
    history: PlayerHistory = field(default_factory=PlayerHistory.empty)
    feature_names: tuple[str, ...] = ()
    fitted: bool = False

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Pipelines pickled before the history window existed counted every earlier shot.
        state.setdefault("history_days", 0)
        # ... and those pickled before the game context had no such columns.
        state.setdefault("game_context", False)
        # ... and those pickled before the opponent's previous shot read the team's two.
        state.setdefault("context_names", TEAM_CONTEXT)
        state.setdefault("season_form", False)
        # ... and those pickled before the zone spots left a shot without a location blank.
        state.setdefault("zone_spots", {})
        self.__dict__.update(state)

    # ------------------------------------------------------------------ fitting
    def fit(self, frame: pd.DataFrame, *, history: PlayerHistory | None = None) -> Self:
        """Learn from training shots (with ``made``); ``history`` defaults to one built from them."""
        if frame.empty:
            raise ValueError("cannot fit the feature pipeline on an empty frame")
        if self.history_days and self.history_days <= RECENT_DAYS:
            raise ValueError(f"history_days must be 0 (no limit) or more than the recent-form window "
                             f"({RECENT_DAYS} days), got {self.history_days}")
        made = frame[LABEL_COLUMN].to_numpy().astype(np.float64)
        self.league_rate = float(made.mean())

        counts = frame["action_type"].value_counts()
        # Rare actions get one shared column: too few shots to learn them, and new ones land there too.
        self.action_types = tuple(sorted(str(a) for a in counts[counts >= self.min_action_count].index))
        grouped = self._group_actions(frame["action_type"].to_numpy())
        by_action = pd.DataFrame({"a": grouped, "m": made}).groupby("a")["m"].agg(["sum", "count"])
        k = self.action_smoothing
        self.action_rates = {
            str(a): float((row["sum"] + k * self.league_rate) / (row["count"] + k)) for a, row in by_action.iterrows()
        }

        # League rate and empirical-Bayes prior strength per history group, from per-player totals.
        daily = history_daily_counts(frame, close_range_ft=self.close_range_ft)
        totals = daily.drop(columns="day").groupby("player_id").sum()
        rates, strengths = [], []
        for group in GROUPS:
            attempts = totals[f"attempts_{group}"].to_numpy(np.float64)
            makes = totals[f"makes_{group}"].to_numpy(np.float64)
            rate = float(makes.sum() / attempts.sum()) if attempts.sum() > 0 else self.league_rate
            rates.append(rate)
            strengths.append(_beta_prior_strength(attempts=attempts, makes=makes, rate=rate))
        self.group_rates = tuple(rates)
        self.group_strengths = tuple(strengths)
        self.zone_spots = zone_spots(frame)
        self.history = history if history is not None else PlayerHistory.from_shots(
            frame, close_range_ft=self.close_range_ft
        )
        self.feature_names = tuple(self._names())
        self.fitted = True
        return self

    def _group_actions(self, values: Iterable[Any]) -> list[str]:
        known = _index(self.action_types)
        return [v if v in known else OTHER for v in values]

    def _names(self) -> list[str]:
        names = [
            "x_ft", "abs_x_ft", "y_ft", "distance_ft", "angle_deg", "is_three", "period", "is_overtime",
            "seconds_left", "game_seconds_elapsed", "end_of_period", "clutch", "is_home", "is_playoffs",
            "season_start", "position_known", "action_rate",
        ]  # fmt: skip
        names += [f"position_{p}" for p in BASE_POSITIONS]
        names += [f"action_{a}" for a in (*self.action_types, OTHER)]
        names += [f"zone_basic_{z}" for z in ZONE_BASIC]
        names += [f"zone_area_{z}" for z in ZONE_AREA]
        names += [f"zone_range_{z}" for z in ZONE_RANGE]
        for family in FAMILIES:
            names += [f"player_rate_{family}", f"player_log_attempts_{family}"]
        names += [
            "player_rate_shot_family", "player_log_attempts_shot_family", "player_rate_vs_league",
            "player_rate_shot_zone", "player_log_attempts_shot_zone",
            "player_rate_shot_action", "player_log_attempts_shot_action",
            "player_three_share", "player_rim_share", "player_dunk_share",
            "player_recent_rate_all", "player_recent_rate_shot_family", "player_recent_log_attempts",
        ]  # fmt: skip
        if self.season_form:
            names += ["player_season_rate_all", "player_season_rate_shot_family", "player_season_log_attempts"]
        if self.game_context:
            names += list(self.context_names)
        return names

    def action_columns(self) -> dict[str, int]:
        """Action type (the pooled ``Other`` included) -> its one-hot column in an encoded row."""
        names = _index(self.feature_names)
        return {action: names[f"action_{action}"] for action in (*self.action_types, OTHER)}

    @property
    def context_columns(self) -> list[int]:
        """Positions of the game-context columns in an encoded row (none for a pipeline without them)."""
        return [self.feature_names.index(name) for name in self.context_names] if self.game_context else []

    @property
    def opponent_columns(self) -> list[int]:
        """Positions of the opponent's previous-shot columns (none for a pipeline fitted before them)."""
        names = set(self.context_names) if self.game_context else set()
        return [self.feature_names.index(name) for name in OPPONENT_CONTEXT if name in names]

    # ---------------------------------------------------------------- transform
    def transform(self, frame: pd.DataFrame, *, history: PlayerHistory | None = None) -> np.ndarray:
        """Batch path: a DataFrame of canonical shots -> float32 matrix (len(frame), n_features).

        Without the ``PREVIOUS_SHOTS`` columns, a frame's game context is computed from its own rows
        (``training.ml.context.previous_shots_frame``): pass whole games, or the columns."""
        n = len(frame)
        columns = {c: (frame[c].to_numpy() if c in frame else np.full(n, None, object)) for c in INPUT_COLUMNS}
        if self.game_context and any(c not in frame for c in self.context_names):
            columns.update({name: values for name, values in previous_shots_frame(frame).items() if name not in frame})
        return self._encode(columns, n, history)

    def transform_frame(self, frame: pd.DataFrame, *, history: PlayerHistory | None = None) -> pd.DataFrame:
        """The batch matrix with feature names (for importance plots and drift reports)."""
        return pd.DataFrame(self.transform(frame, history=history), columns=list(self.feature_names),
                            index=frame.index)

    def transform_records(self, records: Sequence[Mapping[str, Any]], *,
                          history: PlayerHistory | None = None) -> np.ndarray:
        """Fast path for serving: a few dicts with the canonical keys; missing keys count as unknown."""
        columns = {c: [r.get(c) for r in records] for c in INPUT_COLUMNS}
        return self._encode(columns, len(records), history)

    def _encode(self, columns: Mapping[str, Any], n: int, history: PlayerHistory | None) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("the feature pipeline is not fitted")
        out = np.zeros((n, len(self.feature_names)), dtype=np.float32)
        rows = np.arange(n)

        x = _to_float(columns["x_ft"])
        y = _to_float(columns["y_ft"])
        distance = _to_float(columns["distance_ft"])
        shot_type = np.asarray(columns["shot_type"], dtype=object)
        is_three = (shot_type == "3PT").astype(np.float64)
        period = _to_float(columns["period"])
        seconds = _to_float(columns["seconds_left"])
        overtime = period > REGULATION_PERIODS
        # Elapsed game time, so trees can tell a first-quarter shot from a late one without period x clock.
        elapsed = np.where(
            overtime,
            REGULATION_PERIODS * PERIOD_SECONDS + (period - REGULATION_PERIODS - 1) * OVERTIME_SECONDS
            + (OVERTIME_SECONDS - seconds),
            (period - 1) * PERIOD_SECONDS + (PERIOD_SECONDS - seconds),
        )
        season_type = np.asarray(columns["season_type"], dtype=object)
        position = columns["position"]

        col = 0

        def put(values: Any) -> None:
            nonlocal col
            out[:, col] = values
            col += 1

        put(x)
        put(np.abs(x))
        put(y)
        put(distance)
        # 0 degrees is straight at the rim, 90 the baseline; behind the board goes past 90.
        put(np.degrees(np.arctan2(np.abs(x), y)))
        put(is_three)
        put(period)
        put(overtime)
        put(seconds)
        put(elapsed)
        put(seconds <= END_OF_PERIOD_SECONDS)
        put((period >= REGULATION_PERIODS) & (seconds <= CLUTCH_SECONDS))
        put(_to_float(columns["is_home"]))
        put(season_type == "Playoffs")
        season_starts = self._season_starts(columns["season"], columns["game_date"])
        put(season_starts)

        position_vectors = [_position_vector(p) for p in position]
        put([v is not None for v in position_vectors])

        grouped = self._group_actions(columns["action_type"])
        put([self.action_rates.get(a, self.league_rate) for a in grouped])

        for index, vector in enumerate(position_vectors):
            if vector is not None:
                out[index, col:col + len(BASE_POSITIONS)] = vector
        col += len(BASE_POSITIONS)

        col = self._one_hot(out, rows, col, grouped, (*self.action_types, OTHER))
        col = self._one_hot(out, rows, col, columns["zone_basic"], ZONE_BASIC)
        col = self._one_hot(out, rows, col, columns["zone_area"], ZONE_AREA)
        col = self._one_hot(out, rows, col, columns["zone_range"], ZONE_RANGE)

        source = history if history is not None else self.history
        player = _to_int_ids(columns["player_id"])
        day = _day_numbers(columns["game_date"])
        # Counts as of the shot's date, minus those as of HISTORY_DAYS earlier: the shooter's shots in
        # [date - history_days, date). Counts are whole numbers in float64, so the difference is exact
        # whatever earlier shots the history holds: any history covering the window gives the same row.
        looks = source.lookup_back(player, day, (0, RECENT_DAYS, *((self.history_days,) if self.history_days else ())))
        (all_attempts, all_makes), (old_attempts, old_makes) = looks[0], looks[1]
        attempts, makes = all_attempts, all_makes
        if self.history_days:
            before_attempts, before_makes = looks[2]
            attempts, makes = all_attempts - before_attempts, all_makes - before_makes
        rates = np.asarray(self.group_rates)
        strengths = np.asarray(self.group_strengths)
        smoothed = (makes + strengths * rates) / (attempts + strengths)
        log_attempts = np.log1p(attempts)
        for index in range(len(FAMILIES)):
            put(smoothed[:, index])
            put(log_attempts[:, index])
        family, zone, action = shot_groups(
            shot_type=shot_type, distance_ft=distance, zone_basic=columns["zone_basic"],
            action_type=columns["action_type"], close_range_ft=self.close_range_ft,
        )
        put(smoothed[rows, family])
        put(log_attempts[rows, family])
        put(smoothed[rows, family] - rates[family])
        # An unknown zone falls back to the shot's family, which is always known.
        zone = np.where(zone >= 0, zone, family)
        put(smoothed[rows, zone])
        put(log_attempts[rows, zone])
        put(smoothed[rows, action])
        put(log_attempts[rows, action])
        # Shot selection says something about role (a stretch big vs a rim runner) even with few makes.
        total = attempts[:, 0] + 3.0
        put((attempts[:, 3] + 1.0) / total)
        put((attempts[:, _ZONE_OFFSET] + 1.0) / total)
        put((attempts[:, _ACTION_OFFSET + 1] + 0.2) / total)
        # Recent form: the last RECENT_DAYS as the difference of two as-of lookups, shrunk to the career rate.
        recent_attempts = all_attempts - old_attempts
        recent_makes = all_makes - old_makes
        recent_strength = 2.0 * strengths
        put((recent_makes[:, 0] + recent_strength[0] * smoothed[:, 0]) / (recent_attempts[:, 0] + recent_strength[0]))
        put((recent_makes[rows, family] + recent_strength[family] * smoothed[rows, family])
            / (recent_attempts[rows, family] + recent_strength[family]))
        put(np.log1p(recent_attempts[:, 0]))
        if self.season_form:
            # This season so far (from August 1st of its first year), shrunk to the window's rate like recent form.
            known = np.isfinite(season_starts)
            months = (np.where(known, season_starts, 1970.0).astype(np.int64) - 1970) * 12 + 7
            august = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
            start_attempts, start_makes = source._lookup(player, np.where(known, august, -1))
            season_attempts = np.where(known[:, None], all_attempts - start_attempts, 0.0)
            season_makes = np.where(known[:, None], all_makes - start_makes, 0.0)
            put((season_makes[:, 0] + recent_strength[0] * smoothed[:, 0])
                / (season_attempts[:, 0] + recent_strength[0]))
            put((season_makes[rows, family] + recent_strength[family] * smoothed[rows, family])
                / (season_attempts[rows, family] + recent_strength[family]))
            put(np.log1p(season_attempts[:, 0]))
        if self.game_context:  # NaN: not known (see training/ml/context.py)
            for name in self.context_names:
                put(_to_float(columns[name]))
        if col != out.shape[1]:  # pragma: no cover - guards the names list against drift
            raise AssertionError(f"encoded {col} columns for {out.shape[1]} names")
        return out

    def spots_of(self, record: Mapping[str, Any]) -> tuple[tuple[float, float, float], ...] | None:
        """The training spots to price a shot at when it has no x/y: those of its most specific known zone
        (basic + area + range, then basic + area, then basic); None when it has a location or no such zone."""
        if not self.zone_spots or not (_missing(record.get("x_ft")) or _missing(record.get("y_ft"))):
            return None
        zones = [record.get(name) for name in ZONE_KEYS]
        for depth in range(len(ZONE_KEYS), 0, -1):
            key = zones[:depth]
            if all(isinstance(part, str) for part in key) and (spots := self.zone_spots.get(tuple(map(str, key)))):
                return spots
        return None

    def spread_records(self, records: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], np.ndarray | None]:
        """Each shot known only by its zone becomes one copy per training spot of that zone (a given distance
        is kept); the rest stay as they are. Returns the rows and, when any shot was spread, each row's index
        in ``records`` (None: nothing to spread, the rows are ``records``)."""
        spread = [self.spots_of(record) for record in records]
        if all(spots is None for spots in spread):
            return list(records), None
        rows: list[Mapping[str, Any]] = []
        owners: list[int] = []
        for index, (record, spots) in enumerate(zip(records, spread, strict=True)):
            if spots is None:
                rows.append(record)
                owners.append(index)
                continue
            keep_distance = not _missing(record.get("distance_ft"))
            for x, y, distance in spots:
                rows.append({**record, "x_ft": x, "y_ft": y,
                             "distance_ft": record["distance_ft"] if keep_distance else distance})
                owners.append(index)
        return rows, np.asarray(owners, dtype=np.int64)

    @staticmethod
    def _one_hot(out: np.ndarray, rows: np.ndarray, col: int, values: Iterable[Any], vocabulary: Sequence[str]) -> int:
        lookup = _index(tuple(vocabulary))
        codes = np.fromiter((lookup.get(v, -1) for v in values), dtype=np.int64, count=len(rows))
        known = codes >= 0  # an unknown zone leaves its block all zero rather than guessing
        out[rows[known], col + codes[known]] = 1.0
        return col + len(vocabulary)

    @staticmethod
    def _season_starts(seasons: Any, game_dates: Any) -> np.ndarray:
        values = np.asarray(seasons, dtype=object)
        starts = np.fromiter((_season_start(s) for s in values), dtype=np.float64, count=len(values))
        missing = np.isnan(starts)
        if missing.any():
            days = _day_numbers(np.asarray(game_dates)[missing])
            dates = days.astype("datetime64[D]")
            years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
            months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
            starts[missing] = np.where(days < 0, np.nan, np.where(months >= 8, years, years - 1))
        return starts


_POSITION_CACHE: dict[str, np.ndarray | None] = {}


ZONE_KEYS = ("zone_basic", "zone_area", "zone_range")


# How many training spots stand for a zone when a shot has no location (spread_records).
ZONE_SPOTS = 32


def zone_spots(frame: pd.DataFrame, *, per_zone: int = ZONE_SPOTS) -> dict[tuple[str, ...], tuple[tuple[float, float, float], ...]]:
    """Per zone, ``per_zone`` located training shots spread evenly over the zone's shots ordered by distance
    then x: a systematic sample of where its shots are taken, for (basic, area, range), (basic, area), (basic,)."""
    located = frame.loc[frame["x_ft"].notna() & frame["y_ft"].notna() & frame["distance_ft"].notna(),
                        [*ZONE_KEYS, "distance_ft", "x_ft", "y_ft"]]
    located = located.sort_values(["distance_ft", "x_ft", "y_ft"], kind="stable")
    spots: dict[tuple[str, ...], tuple[tuple[float, float, float], ...]] = {}
    for depth in range(1, len(ZONE_KEYS) + 1):
        for key, group in located.groupby(list(ZONE_KEYS[:depth]), observed=True, sort=False):
            parts = key if isinstance(key, tuple) else (key,)
            picks = ((np.arange(min(per_zone, len(group))) + 0.5) * len(group) / min(per_zone, len(group))).astype(int)
            chosen = group.iloc[picks]
            spots[tuple(str(part) for part in parts)] = tuple(
                (float(x), float(y), float(d))
                for x, y, d in zip(chosen["x_ft"], chosen["y_ft"], chosen["distance_ft"], strict=True)
            )
    return spots


def _missing(value: Any) -> bool:
    """None, NaN or <NA>: a record's value that is not known."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list-like value is not a missing scalar
        return False


def _position_vector(value: Any) -> np.ndarray | None:
    """'PG-SG' -> multi-hot (split evenly) over the five positions; None/'NA'/unknown -> None."""
    if not isinstance(value, str):
        return None
    if value in _POSITION_CACHE:
        return _POSITION_CACHE[value]
    vector = None
    parts = [p.strip().upper() for p in value.replace("/", "-").split("-")]
    hits = [BASE_POSITIONS.index(p) for p in parts if p in BASE_POSITIONS]
    if hits:
        vector = np.zeros(len(BASE_POSITIONS), np.float32)
        vector[hits] = 1.0 / len(hits)
    if len(_POSITION_CACHE) < 1000:  # bounded: unknown strings arrive from the API
        _POSITION_CACHE[value] = vector
    return vector


def _season_start(value: Any) -> float:
    """'2023-24' -> 2023.0; anything else -> NaN (the caller falls back to the game date)."""
    if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
        return float(value[:4])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan
