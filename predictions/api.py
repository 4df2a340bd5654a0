"""The REST API (``/api/v1/``): one view per operation, nested Input/Output serializers.

Views validate, call one service or selector, and serialize; every refusal goes through
``parivision.errors.exception_handler`` and has one JSON shape.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.status import FRESH, NOT_COMPUTED, STALE, live_status, live_status_freshness
from ingestion import shots as canonical
from parivision.errors import ApplicationError
from parivision.fields import (
    MAX_ID,
    SEASON_PATTERN,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictRegexField,
)
from predictions import metrics, selectors, services, serving
from predictions.validation import ShotValidator

# --- shared pieces -----------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    class FieldError(serializers.Serializer):
        field = serializers.CharField(allow_null=True, help_text="Dotted path into the request (shots.3.period).")
        message = serializers.CharField()
        value = serializers.CharField(required=False, help_text="The refused value as text (first 200 characters), "
                                                                "when the request gave one.")

    code = serializers.CharField(help_text="validation_error, not_authenticated, throttled, no_model, ...")
    message = serializers.CharField()
    errors = FieldError(many=True)  # type: ignore[assignment]  # a field named like Serializer.errors
    request_id = serializers.CharField(allow_null=True)


def _errors(*statuses: int) -> dict[int, Any]:
    return dict.fromkeys(statuses, ErrorSerializer)


# The longest game: four quarters and six overtimes (ingestion.shots.PERIOD_RANGE).
MAX_GAME_SECONDS = 4 * 720 + 6 * 300


VALIDATION_ERROR_EXAMPLE = OpenApiExample(
    "Out of range", status_codes=["400"], response_only=True,
    value={"code": "validation_error", "message": "period: Ensure this value is less than or equal to 10.",
           "errors": [{"field": "period", "message": "Ensure this value is less than or equal to 10."}],
           "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b"},
)  # fmt: skip
NO_MODEL_EXAMPLE = OpenApiExample(
    "No champion yet", status_codes=["503"], response_only=True,
    value={"code": "no_model", "message": "No champion model is available yet: train and promote one.",
           "errors": [{"field": None, "message": "No champion model is available yet: train and promote one."}],
           "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b"},
)  # fmt: skip
THROTTLED_EXAMPLE = OpenApiExample(
    "Too many requests", status_codes=["429"], response_only=True,
    value={"code": "throttled", "message": "Too many requests: try again in 12 s.",
           "errors": [{"field": None, "message": "Too many requests: try again in 12 s."}],
           "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b", "retry_after": 12},
)  # fmt: skip


class ApiView(APIView):
    """Every API view: a request id (``X-Request-ID`` in or a new one, echoed back) and a start time."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        request.request_id = (  # type: ignore[attr-defined]  # set here for every API view
            (request.headers.get("X-Request-ID") or "")[:64] or services.request_id_new())
        super().initial(request, *args, **kwargs)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.started = time.perf_counter()
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        request_id = getattr(request, "request_id", None)
        if request_id:
            response["X-Request-ID"] = request_id
        return super().finalize_response(request, response, *args, **kwargs)


@contextlib.contextmanager
def refusals_counted(endpoint: str) -> Iterator[None]:
    """Count prediction requests refused for bad input or for want of a model."""
    try:
        yield
    except serializers.ValidationError:
        metrics.prediction_refused(endpoint=endpoint, reason="validation")
        raise
    except serving.NoModelError:
        metrics.prediction_refused(endpoint=endpoint, reason="no_model")
        raise


# --- predictions ------------------------------------------------------------------------------

# The team's and the opponent's previous shot: one choice set, one enum in the schema (PreviousShotEnum).
PREVIOUS_SHOT_CHOICES = ("made", "missed", "none")


def _previous_shot_fields(which: str) -> tuple[serializers.ChoiceField, StrictIntegerField]:
    """A previous shot of the game and the game seconds since it (services._game_context_given's pair)."""
    return (
        serializers.ChoiceField(
            choices=PREVIOUS_SHOT_CHOICES, required=False,
            help_text=f"{which} Absent: read from the warehouse's shots of the game when game_id or shot_key "
                      "names it, else unknown."),
        StrictIntegerField(
            min_value=0, max_value=MAX_GAME_SECONDS, required=False,
            help_text="Game seconds since that shot; required with made or missed (counted up to 720)."),
    )


class ShotInputSerializer(serializers.Serializer):
    """One shot, as a client describes it. Location by x/y (feet from the hoop) or by zone."""

    player_id = StrictIntegerField(min_value=0, max_value=MAX_ID,
                                   help_text="NBA player id; unknown players get the league prior.")
    player_name = StrictCharField(required=False, max_length=100)
    team = StrictCharField(required=False, max_length=60, help_text="Shooter's team (code or name).")
    opponent = StrictCharField(required=False, max_length=60)
    home_away = serializers.ChoiceField(choices=["home", "away"], required=False)
    game_date = serializers.DateField()
    season = StrictRegexField(SEASON_PATTERN, required=False, help_text="2023-24; derived from the date.")
    season_type = serializers.ChoiceField(choices=canonical.SEASON_TYPES, required=False)
    position = StrictCharField(required=False, max_length=10, help_text="PG, SG, SF, PF, C or PG-SG...")
    period = StrictIntegerField(min_value=canonical.PERIOD_RANGE[0], max_value=canonical.PERIOD_RANGE[1])
    seconds_left = StrictIntegerField(min_value=canonical.SECONDS_RANGE[0], max_value=canonical.SECONDS_RANGE[1],
                                      help_text="Seconds left in the period (0-720).")
    action_type = StrictCharField(required=False, max_length=60, help_text="Any NBA action type.")
    shot_type = serializers.ChoiceField(choices=canonical.SHOT_TYPES, required=False,
                                        help_text="Derived from the location or zone when absent.")
    x_ft = StrictFloatField(min_value=canonical.X_RANGE[0], max_value=canonical.X_RANGE[1], required=False,
                            help_text="Feet from the hoop, shooter's left < 0. Give both x_ft and y_ft, or neither "
                                      "and a zone_basic.")
    y_ft = StrictFloatField(min_value=canonical.Y_RANGE[0], max_value=canonical.Y_RANGE[1], required=False,
                            help_text="Feet from the hoop towards half court. Given with x_ft.")
    distance_ft = StrictFloatField(min_value=canonical.DISTANCE_RANGE[0], max_value=canonical.DISTANCE_RANGE[1],
                                   required=False)
    zone_basic = serializers.ChoiceField(choices=canonical.ZONE_BASIC, required=False,
                                         help_text="Required when x_ft/y_ft are absent: the shot is then priced "
                                                   "as the mean over the zone's training spots.")
    zone_area = serializers.ChoiceField(choices=list(canonical.ZONE_AREAS), required=False)
    zone_range = serializers.ChoiceField(choices=canonical.ZONE_RANGES, required=False)
    game_id = StrictRegexField(r"^\d{1,10}$", required=False,
                               help_text="With x_ft/y_ft: identifies the shot (its outcome is joined later).")
    event_id = StrictIntegerField(min_value=0, max_value=MAX_ID, required=False,
                                  help_text="Accepted for older clients; not part of the shot's identity.")
    shot_key = StrictRegexField(canonical.SHOT_KEY_PATTERN, required=False, max_length=48,
                                help_text="The shot's warehouse key (`key` of GET /api/v1/shots).")
    team_previous_shot, team_previous_shot_seconds = _previous_shot_fields(
        "The shooter's team's previous shot of this game (none: this is its first).")
    opponent_previous_shot, opponent_previous_shot_seconds = _previous_shot_fields(
        "The other team's previous shot of this game (none: it has not shot yet).")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return services.shot_canonical(attrs)
        except services.ShotInputError as error:
            raise serializers.ValidationError({error.field: [error.message]}) from None


SHOT_EXAMPLE = {
    "player_id": 201939, "player_name": "Stephen Curry", "team": "GSW", "opponent": "LAL", "home_away": "home",
    "game_date": "2024-01-27", "period": 4, "seconds_left": 95, "action_type": "Pullup Jump Shot",
    "shot_type": "3PT", "x_ft": -6.5, "y_ft": 24.0, "game_id": "0022300650", "event_id": 512,
    "team_previous_shot": "missed", "team_previous_shot_seconds": 14,
    "opponent_previous_shot": "made", "opponent_previous_shot_seconds": 20,
}  # fmt: skip
PREDICTION_EXAMPLE = {
    "probability_made": 0.4012, "predicted_outcome": "missed", "odds_made": 2.4925, "odds_missed": 1.6700,
    "shot_key": "0022300650:4:95:201939:-65:240",
}  # fmt: skip
MODEL_EXAMPLE = {"name": "parivision-shot-model", "version": "7", "algorithm": "xgboost"}


class PredictionSerializer(serializers.Serializer):
    probability_made = serializers.FloatField(help_text="Calibrated P(made).")
    predicted_outcome = serializers.ChoiceField(choices=["made", "missed"])
    odds_made = serializers.FloatField(help_text="Fair decimal odds (1 / p), no margin.")
    odds_missed = serializers.FloatField(help_text="Fair decimal odds (1 / (1 - p)).")
    shot_key = serializers.CharField(allow_null=True, help_text="The shot's warehouse key, when the shot was identified.")


class ModelRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    algorithm = serializers.CharField()


def _prediction_dict(prediction: services.Prediction) -> dict[str, Any]:
    return {
        "probability_made": prediction.probability_made,  # unrounded: exactly what the model scored
        "predicted_outcome": prediction.predicted_outcome,
        "odds_made": round(prediction.odds_made, 4),
        "odds_missed": round(prediction.odds_missed, 4),
        "shot_key": prediction.shot_key,
    }


def _model_dict(batch: services.PredictionBatch) -> dict[str, str]:
    return {"name": batch.model_name, "version": batch.model_version, "algorithm": batch.algorithm}


class PredictionCreateApi(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    InputSerializer = ShotInputSerializer

    class OutputSerializer(PredictionSerializer):
        class Meta:
            ref_name = "PredictionCreateOutput"

        model = ModelRefSerializer()
        request_id = serializers.CharField()

    @extend_schema(
        operation_id="prediction_create", tags=["predictions"],
        summary="Predict one shot",
        description="Probability that the shot is made, by the current champion, with fair odds for both outcomes.",
        request=InputSerializer, responses={200: OutputSerializer, **_errors(400, 401, 429, 503)},
        examples=[
            OpenApiExample("A pull-up three", value=SHOT_EXAMPLE, request_only=True),
            OpenApiExample("By zone, no location", request_only=True, value={
                "player_id": 2544, "game_date": "2024-03-02", "period": 2, "seconds_left": 300,
                "action_type": "Driving Layup Shot", "zone_basic": "Restricted Area"}),
            OpenApiExample("Prediction", response_only=True, status_codes=["200"], value={
                **PREDICTION_EXAMPLE, "model": MODEL_EXAMPLE, "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b"}),
            VALIDATION_ERROR_EXAMPLE, THROTTLED_EXAMPLE, NO_MODEL_EXAMPLE,
        ],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        with metrics.prediction_timed(endpoint=metrics.SINGLE, started=self.started) as timer, \
                refusals_counted(metrics.SINGLE):
            # The serializer's rules without building it for every request (predictions/validation.py).
            shot = shot_validator().validate(request.data)
            batch = services.predictions_make(shots=[shot], timer=timer,
                                              request_id=request.request_id,  # type: ignore[attr-defined]
                                              caller=request.user)
        # Built by hand: this is the hot path, and the OutputSerializer above documents the same shape.
        return Response({**_prediction_dict(batch.predictions[0]), "model": _model_dict(batch),
                         "request_id": batch.request_id})


class PredictionBatchCreateApi(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PredictionBatchCreateInput"

        shots = ShotInputSerializer(many=True, min_length=1,  # type: ignore[call-arg]  # ListSerializer's kwargs
                                    max_length=settings.SERVING_BATCH_MAX)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PredictionBatchCreateOutput"

        predictions = PredictionSerializer(many=True, help_text="One per shot, in request order.")
        count = serializers.IntegerField()
        model = ModelRefSerializer()
        request_id = serializers.CharField()

    @extend_schema(
        operation_id="prediction_batch_create", tags=["predictions"],
        summary=f"Predict up to {settings.SERVING_BATCH_MAX} shots",
        description="The same answer as the single endpoint for every shot, in order, from one model version.",
        request=InputSerializer, responses={200: OutputSerializer, **_errors(400, 401, 429, 503)},
        examples=[
            OpenApiExample("Two shots", request_only=True, value={"shots": [SHOT_EXAMPLE, {
                "player_id": 2544, "game_date": "2024-03-02", "period": 2, "seconds_left": 300,
                "zone_basic": "Restricted Area", "action_type": "Driving Layup Shot"}]}),
            OpenApiExample("Predictions", response_only=True, status_codes=["200"], value={
                "predictions": [PREDICTION_EXAMPLE, {**PREDICTION_EXAMPLE, "probability_made": 0.6311,
                                                     "predicted_outcome": "made", "odds_made": 1.5845,
                                                     "odds_missed": 2.7108, "shot_key": None}],
                "count": 2, "model": MODEL_EXAMPLE, "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b"}),
            OpenApiExample("A bad shot in the batch", status_codes=["400"], response_only=True, value={
                "code": "validation_error", "message": "shots.1.seconds_left: Ensure this value is less than or "
                                                       "equal to 720.",
                "errors": [{"field": "shots.1.seconds_left",
                            "message": "Ensure this value is less than or equal to 720."}],
                "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b"}),
            THROTTLED_EXAMPLE, NO_MODEL_EXAMPLE,
        ],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        with metrics.prediction_timed(endpoint=metrics.BATCH, started=self.started) as timer, \
                refusals_counted(metrics.BATCH):
            shots = shot_validator().validate_batch(request.data)
            batch = services.predictions_make(shots=shots, timer=timer,
                                              request_id=request.request_id,  # type: ignore[attr-defined]
                                              caller=request.user)
        return Response({"predictions": [_prediction_dict(p) for p in batch.predictions],
                         "count": len(batch.predictions), "model": _model_dict(batch),
                         "request_id": batch.request_id})


_shot_validator: ShotValidator | None = None


def shot_validator() -> ShotValidator:
    """Built on first use from the serializers above (their fields are the rules)."""
    global _shot_validator
    if _shot_validator is None:
        _shot_validator = ShotValidator(ShotInputSerializer, PredictionBatchCreateApi.InputSerializer)
    return _shot_validator


# --- models -------------------------------------------------------------------------------------


class DecisionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    promoted = serializers.BooleanField()
    champion_version = serializers.IntegerField(allow_null=True, help_text="The champion before the decision.")
    metric = serializers.CharField()
    challenger_score = serializers.FloatField(allow_null=True)
    champion_score = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    triggered_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class LiveScoresSerializer(serializers.Serializer):
    settled = serializers.IntegerField(help_text="Predictions joined to an outcome (the last N of them).")
    accuracy = serializers.FloatField()
    log_loss = serializers.FloatField()
    brier = serializers.FloatField()


class ModelVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    algorithm = serializers.CharField()
    mlflow_run_id = serializers.CharField()
    holdout_scores = serializers.DictField(child=serializers.FloatField(allow_null=True))
    trained_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    is_champion = serializers.BooleanField()
    promoted_at = serializers.DateTimeField(allow_null=True)
    decisions = DecisionSerializer(many=True)
    live = LiveScoresSerializer(allow_null=True, help_text="Only predictions made before the shot's outcome was known.")
    backfill = LiveScoresSerializer(allow_null=True, help_text="Predictions of shots already known: reported apart.")


MODEL_VERSION_EXAMPLE = {
    "version": 7, "algorithm": "xgboost", "mlflow_run_id": "3f2a9c0d1e8b4b7a9d6c5e4f3a2b1c0d",
    "holdout_scores": {"accuracy": 0.6521, "roc_auc": 0.6934, "log_loss": 0.6157, "brier": 0.2134, "ece": 0.0112},
    "trained_until": "2024-03-31T00:00:00Z", "created_at": "2024-04-01T03:41:12Z", "is_champion": True,
    "promoted_at": "2024-04-01T03:41:15Z",
    "decisions": [{"kind": "automatic", "promoted": True, "champion_version": 5, "metric": "accuracy",
                   "challenger_score": 0.6521, "champion_score": 0.6488, "reason": "accuracy 0.6521 > 0.6488",
                   "triggered_by": "beat", "created_at": "2024-04-01T03:41:15Z"}],
    "live": {"settled": 4980, "accuracy": 0.6433, "log_loss": 0.6241, "brier": 0.2171},
    "backfill": {"settled": 120, "accuracy": 0.6583, "log_loss": 0.6102, "brier": 0.2105},
}  # fmt: skip


class LiveStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[NOT_COMPUTED, FRESH, STALE],
        help_text="not_computed: no refresh has run yet (live and backfill are null); stale: older than "
                  "LIVE_STATUS_STALE_SECONDS (beat or the worker is down); fresh otherwise.")  # fmt: skip
    computed_at = serializers.CharField(allow_null=True, help_text="When analytics.refresh_live_status computed them.")
    age_seconds = serializers.FloatField(allow_null=True)


LIVE_STATUS_EXAMPLE = {"state": "fresh", "computed_at": "2024-04-01T12:00:03+00:00", "age_seconds": 41.5}


def _version_dicts(versions: list[Any], stored: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The versions with their live and backfill scores as ``analytics.refresh_live_status`` stored them
    (a request never scans the prediction log)."""
    decisions = selectors.decisions_by_version(v.version for v in versions)
    live = (stored or {}).get("live") or {}
    backfill = (stored or {}).get("backfill") or {}
    rows = []
    for v in versions:
        scores = live.get(str(v.version))
        late = backfill.get(str(v.version))
        rows.append({
            "version": v.version, "algorithm": v.algorithm, "mlflow_run_id": v.mlflow_run_id,
            "holdout_scores": {k: services.finite_or_none(x) for k, x in (v.holdout_scores or {}).items()
                               if not isinstance(x, (dict, list))},
            "trained_until": v.trained_until, "created_at": v.created_at, "is_champion": v.is_champion,
            "promoted_at": v.promoted_at, "decisions": decisions.get(v.version, []),
            "live": scores, "backfill": late,
        })  # fmt: skip
    return rows


class ModelListApi(ApiView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ModelListOutput"

        models = ModelVersionSerializer(many=True)
        live_status = LiveStatusSerializer(help_text="How current the live and backfill scores are.")

    @extend_schema(
        operation_id="model_list", tags=["models"], summary="Registered model versions",
        description=("Newest first (at most 100): holdout scores, promotion decisions and live scores on real "
                     "traffic. The live scores are those analytics.refresh_live_status stored (every minute): "
                     "`live_status` says when, and whether they are not computed yet or stale."),
        responses={200: OutputSerializer, **_errors(429)},
        examples=[OpenApiExample("Versions", response_only=True,
                                 value={"models": [MODEL_VERSION_EXAMPLE], "live_status": LIVE_STATUS_EXAMPLE})],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        versions = selectors.model_versions(limit=100)
        stored = live_status()
        return Response(self.OutputSerializer({"models": _version_dicts(versions, stored),
                                               "live_status": live_status_freshness(stored)}).data)  # fmt: skip


class ModelChampionApi(ApiView):
    class OutputSerializer(ModelVersionSerializer):
        class Meta:
            ref_name = "ModelChampionOutput"

        class ServedSerializer(serializers.Serializer):
            loaded = serializers.BooleanField(help_text="This web process holds a champion in memory.")
            version = serializers.CharField(required=False)
            algorithm = serializers.CharField(required=False)
            loaded_at = serializers.FloatField(required=False, help_text="Unix time it was loaded.")

        served = ServedSerializer(help_text="What this web process is serving right now.")
        live_status = LiveStatusSerializer(help_text="How current the live and backfill scores are.")

    @extend_schema(
        operation_id="model_champion", tags=["models"], summary="The champion",
        description="The version the champion alias points at (as last recorded) and what this process serves.",
        responses={200: OutputSerializer, **_errors(404, 429)},
        examples=[OpenApiExample("Champion", response_only=True, value={
            **MODEL_VERSION_EXAMPLE, "served": {"loaded": True, "version": "7", "algorithm": "xgboost",
                                                "loaded_at": 1711942875.2}, "live_status": LIVE_STATUS_EXAMPLE})],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        champion = selectors.champion_version_row()
        if champion is None:
            raise ApplicationError("No champion has been promoted yet.", code="not_found", status=404)
        stored = live_status()
        data = {**_version_dicts([champion], stored)[0], "served": serving.describe(),
                "live_status": live_status_freshness(stored)}  # fmt: skip
        return Response(self.OutputSerializer(data).data)


# --- warehouse shots -----------------------------------------------------------------------------


def _id_or_name(value: str) -> str:
    """An id (ASCII digits, at most MAX_ID) or a name; digits of other scripts ("²", "٣") are neither."""
    text = value.strip()
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
        raise serializers.ValidationError(f"{value!r} is not an id (use the digits 0-9) or a name.")
    if text.isdigit() and int(text) > MAX_ID:
        raise serializers.ValidationError(f"Ensure this id is less than or equal to {MAX_ID}.")
    return value


class ShotListApi(ApiView):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShotListFilters"

        season = serializers.RegexField(SEASON_PATTERN, required=False, help_text="2023-24")
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        team = serializers.CharField(required=False, max_length=60, help_text="Team id, code (BOS) or full name.")
        player = serializers.CharField(required=False, max_length=100, help_text="Player id or full name.")
        zone = serializers.ChoiceField(choices=canonical.ZONE_BASIC, required=False)
        made = serializers.BooleanField(required=False, allow_null=True, default=None)
        limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
        cursor = serializers.CharField(required=False, max_length=500, help_text="`next_cursor` of the last page.")

        def validate_team(self, value: str) -> str:
            return _id_or_name(value)

        def validate_player(self, value: str) -> str:
            return _id_or_name(value)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
                raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShotListOutput"

        class ShotSerializer(serializers.Serializer):
            key = serializers.CharField(source="_id")
            game_id = serializers.CharField()
            event_id = serializers.IntegerField()
            game_date = serializers.DateTimeField()
            season = serializers.CharField()
            season_type = serializers.CharField()
            player_id = serializers.IntegerField()
            player_name = serializers.CharField()
            team_id = serializers.IntegerField()
            team_name = serializers.CharField()
            home_team = serializers.CharField()
            away_team = serializers.CharField()
            is_home = serializers.BooleanField(allow_null=True)
            position = serializers.CharField(allow_null=True)
            period = serializers.IntegerField()
            seconds_left = serializers.IntegerField()
            action_type = serializers.CharField()
            shot_type = serializers.CharField()
            zone_basic = serializers.CharField()
            zone_area = serializers.CharField()
            zone_range = serializers.CharField()
            distance_ft = serializers.FloatField()
            x_ft = serializers.FloatField()
            y_ft = serializers.FloatField()
            made = serializers.BooleanField()
            source = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.source

        shots = ShotSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page.")

    @extend_schema(
        operation_id="shot_list", tags=["shots"], summary="Warehouse shots",
        description="Canonical shots in (game date, key) order, filtered, a page at a time (keyset cursor).",
        parameters=[FilterSerializer], responses={200: OutputSerializer, **_errors(400, 429)},
        examples=[OpenApiExample("A page", response_only=True, value={"shots": [{
            "key": "0022300650:4:95:201939:-65:240", "game_id": "0022300650", "event_id": 33250, "game_date": "2024-01-27T00:00:00Z",
            "season": "2023-24", "season_type": "Regular Season", "player_id": 201939,
            "player_name": "Stephen Curry", "team_id": 1610612744, "team_name": "Golden State Warriors",
            "home_team": "GSW", "away_team": "LAL", "is_home": True, "position": "PG", "period": 4,
            "seconds_left": 95, "action_type": "Pullup Jump Shot", "shot_type": "3PT",
            "zone_basic": "Above the Break 3", "zone_area": "Left Side Center", "zone_range": "24+ ft.",
            "distance_ft": 25.0, "x_ft": -6.5, "y_ft": 24.0, "made": True, "source": "file:NBA_2024_Shots.csv.zip"}],
            "next_cursor": "eyJkIjoiMjAyNC0wMS0yN1QwMDowMDowMCIsImsiOiIwMDIyMzAwNjUwOjUxMiJ9"})],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        limit, cursor = data.pop("limit"), data.pop("cursor", None)
        page = selectors.shots_page(filters=selectors.ShotFilters(**data), limit=limit, cursor=cursor)
        return Response(self.OutputSerializer(page).data)


# --- pipeline runs (staff) -------------------------------------------------------------------------


class RunSerializer(serializers.Serializer):
    run_id = serializers.CharField(help_text="ml-<id> for the ML pipeline, the Celery task id for ingestion.")
    kind = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text="queued, running, succeeded, skipped or failed.")
    task_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    step = serializers.CharField(allow_blank=True)
    progress = serializers.IntegerField()
    message = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    detail = serializers.JSONField()


RUN_EXAMPLE = {
    "run_id": "ml-12", "kind": "ml_pipeline", "status": "running", "task_id": "8c1d7f0e-3f7b-4b8e-9a51-0f6c2a7e4d11",
    "created_at": "2024-04-01T03:30:00Z", "started_at": "2024-04-01T03:30:02Z", "finished_at": None,
    "step": "training xgboost", "progress": 40, "message": "", "error": "",
    "detail": {"trigger": "api (admin)", "forced": False, "data": {}},
}  # fmt: skip


class PipelineRunCreateApi(ApiView):
    permission_classes = [permissions.IsAdminUser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PipelineRunCreateInput"

        kind = serializers.ChoiceField(choices=services.RUN_KINDS)
        force = serializers.BooleanField(default=False, help_text="ml_pipeline: retrain even without new data.")
        location = serializers.CharField(required=False, max_length=2000, help_text="import_file: path or URL.")
        url = serializers.URLField(required=False, help_text="pull_feed: the feed (default FEED_URL).")
        n = serializers.IntegerField(required=False, min_value=1, max_value=1000, help_text="pull_feed: batch size.")

    OutputSerializer = RunSerializer

    @extend_schema(
        operation_id="pipeline_run_create", tags=["pipeline"], summary="Queue the ML pipeline or an ingestion task",
        description="Staff only. Answers 202 with the run to poll.",
        request=InputSerializer, responses={202: OutputSerializer, **_errors(400, 401, 403, 429)},
        examples=[
            OpenApiExample("Retrain now", request_only=True, value={"kind": "ml_pipeline", "force": True}),
            OpenApiExample("Import a season", request_only=True,
                           value={"kind": "import_file", "location": "/data/NBA_2024_Shots.csv.zip"}),
            OpenApiExample("Queued", response_only=True, status_codes=["202"],
                           value={**RUN_EXAMPLE, "status": "queued", "started_at": None, "step": "", "progress": 0}),
        ],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.pipeline_run_enqueue(user=request.user, **serializer.validated_data)
        status = selectors.pipeline_run_status(run_id=run.run_id)
        return Response(self.OutputSerializer(status).data, status=202,
                        headers={"Location": f"/api/v1/pipeline/runs/{run.run_id}"})


class PipelineRunDetailApi(ApiView):
    permission_classes = [permissions.IsAdminUser]
    OutputSerializer = RunSerializer

    @extend_schema(
        operation_id="pipeline_run_detail", tags=["pipeline"], summary="Where a queued run stands",
        parameters=[OpenApiParameter("run_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: OutputSerializer, **_errors(401, 403, 404, 429)},
        examples=[OpenApiExample("Running", response_only=True, value=RUN_EXAMPLE)],
    )  # fmt: skip
    def get(self, request: Request, run_id: str) -> Response:
        if not RUN_ID.fullmatch(run_id):  # ml-<18 digits at most> or a Celery task id: nothing else exists
            raise ApplicationError(f"No pipeline run {run_id[:80]!r}.", field="run_id", code="not_found", status=404)
        return Response(self.OutputSerializer(selectors.pipeline_run_status(run_id=run_id)).data)


RUN_ID = re.compile(r"ml-[0-9]{1,18}|[0-9a-f]{32}|[0-9a-f-]{36}")

