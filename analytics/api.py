"""Shot-making over expected over the REST API: the season's leaderboard and one player's detail.

Both only read what ``analytics.refresh_figures`` stored. Same conventions as the other
``api.py`` modules: one view per operation, nested serializers, one error shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics import selectors
from parivision.errors import ApplicationError
from parivision.fields import SEASON_PATTERN, StrictRegexField
from predictions.api import VALIDATION_ERROR_EXAMPLE, ApiView, _errors


def _season_field(help_text: str) -> StrictRegexField:
    """The ``season`` filter of both endpoints: 2023-24 and nothing else (schema pattern and 400)."""
    return StrictRegexField(SEASON_PATTERN, required=False, help_text=help_text,
                            error_messages={"invalid": "Not a season; expected e.g. 2023-24."})


class _StrictFilters(serializers.Serializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: "Unknown parameter."})
        return attrs


class ShotMakingRowSerializer(serializers.Serializer):
    player_id = serializers.IntegerField()
    player_name = serializers.CharField()
    team = serializers.CharField(help_text="The team of the player's latest shot that season.")
    season = serializers.CharField()
    attempts = serializers.IntegerField(help_text="Field-goal attempts in the warehouse.")
    made = serializers.IntegerField()
    fg_pct = serializers.FloatField(help_text="Actual FG%: made / attempts.")
    xfg_pct = serializers.FloatField(help_text="Expected FG%: the mean of the champion's probabilities.")
    diff_raw = serializers.FloatField(help_text="fg_pct - xfg_pct, before shrinkage.")
    diff = serializers.FloatField(help_text="Shot-making over expected: the difference shrunk toward 0 by attempts.")
    diff_low = serializers.FloatField(help_text="Lower end of its 95% interval.")
    diff_high = serializers.FloatField(help_text="Upper end of its 95% interval.")
    pps = serializers.FloatField(help_text="Actual points per shot (2 or 3 per make).")
    xpps = serializers.FloatField(help_text="Expected points per shot (2 or 3 times the probability).")


ROW_EXAMPLE = {
    "player_id": 201939, "player_name": "Stephen Curry", "team": "GSW", "season": "2023-24", "attempts": 1381,
    "made": 627, "fg_pct": 0.454, "xfg_pct": 0.4312, "diff_raw": 0.0228, "diff": 0.0187, "diff_low": 0.0006,
    "diff_high": 0.0368, "pps": 1.1513, "xpps": 1.0958,
}  # fmt: skip


class ShotMakingListApi(ApiView):
    class FilterSerializer(_StrictFilters):
        season = _season_field("e.g. 2023-24 (default: the latest).")
        team = serializers.CharField(required=False, max_length=3, help_text="Franchise code, e.g. BOS.")
        min_attempts = serializers.IntegerField(required=False, min_value=1, max_value=5000,
                                                help_text="Default SMOE_MIN_ATTEMPTS (100).")
        sort = serializers.ChoiceField(choices=selectors.SMOE_SORTS, required=False, default="diff")
        order = serializers.ChoiceField(choices=("asc", "desc"), required=False, default="desc")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShotMakingLeaderboard"

        class PriorSerializer(serializers.Serializer):
            tau = serializers.FloatField(help_text="Spread of true differences in the season (the shrinkage prior).")
            players = serializers.IntegerField(help_text="Players it was estimated from.")
            min_attempts = serializers.IntegerField()

        season = serializers.CharField(allow_null=True)
        seasons = serializers.ListField(child=serializers.CharField(), help_text="Seasons with figures, newest first.")
        status = serializers.ChoiceField(choices=("ready", "computing", "no_data"),
                                         help_text="computing: a worker is computing the figures; no_data: none yet.")
        version = serializers.IntegerField(allow_null=True, help_text="The champion version that priced the shots.")
        min_attempts = serializers.IntegerField()
        prior = PriorSerializer(allow_null=True)
        count = serializers.IntegerField(help_text="Players matching, before the limit.")
        results = ShotMakingRowSerializer(many=True)

    @extend_schema(
        operation_id="shot_making_list",
        summary="Shot-making over expected: the season's leaderboard",
        description=(
            "Per player and season: attempts, actual and expected FG% (the champion's mean probability), their "
            "difference shrunk toward 0 by the number of attempts with a 95% interval, and actual and expected "
            "points per shot. Computed by Celery after each promotion and after new shots; this only reads it."
        ),
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **_errors(400, 429)},
        examples=[
            OpenApiExample("Leaderboard", response_only=True, status_codes=["200"], value={
                "season": "2023-24", "seasons": ["2023-24", "2022-23"], "status": "ready", "version": 7,
                "min_attempts": 100, "prior": {"tau": 0.021, "players": 402, "min_attempts": 100}, "count": 402,
                "results": [ROW_EXAMPLE]}),
            VALIDATION_ERROR_EXAMPLE,
        ],
        tags=["analytics"],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        board = selectors.smoe_board(season=data.get("season", ""), sort=data["sort"], order=data["order"],
                                     min_attempts=data.get("min_attempts"), team=data.get("team", ""),
                                     limit=data["limit"])  # fmt: skip
        return Response(self.OutputSerializer(board).data)


class ShotMakingPlayerApi(ApiView):
    class FilterSerializer(_StrictFilters):
        season = _season_field("e.g. 2023-24 (default: the player's latest season).")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShotMakingPlayer"

        class ZoneSerializer(serializers.Serializer):
            zone = serializers.CharField()
            n = serializers.IntegerField()
            made = serializers.IntegerField()
            fg_pct = serializers.FloatField()
            xfg_pct = serializers.FloatField()

        class TrendSerializer(serializers.Serializer):
            dates = serializers.ListField(child=serializers.CharField())
            n = serializers.ListField(child=serializers.IntegerField(), help_text="Attempts per game date.")
            made = serializers.ListField(child=serializers.IntegerField())
            p_sum = serializers.ListField(child=serializers.FloatField(), help_text="Expected makes per game date.")

        player_id = serializers.IntegerField()
        player_name = serializers.CharField()
        team = serializers.CharField()
        season = serializers.CharField()
        seasons = serializers.ListField(child=serializers.CharField())
        status = serializers.ChoiceField(choices=("ready", "computing", "no_data"))
        version = serializers.IntegerField(allow_null=True)
        summary = ShotMakingRowSerializer(allow_null=True)
        zones = ZoneSerializer(many=True)
        trend = TrendSerializer(allow_null=True)
        chart = serializers.JSONField(help_text="2.5 ft squares: x, y (feet from the hoop), n, rate (actual), "
                                                "p (expected).")

    @extend_schema(
        operation_id="shot_making_player",
        summary="Shot-making over expected: one player's season",
        description="The season's summary row, actual vs expected by zone and by location, and game by game.",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **_errors(400, 404, 429)},
        examples=[
            OpenApiExample("A player's season", response_only=True, status_codes=["200"], value={
                "player_id": 201939, "player_name": "Stephen Curry", "team": "GSW", "season": "2023-24",
                "seasons": ["2023-24", "2022-23"], "status": "ready", "version": 7, "summary": ROW_EXAMPLE,
                "zones": [{"zone": "Above the Break 3", "n": 781, "made": 319, "fg_pct": 0.4085, "xfg_pct": 0.3762}],
                "trend": {"dates": ["2023-10-24", "2023-10-27"], "n": [21, 19], "made": [9, 10], "p_sum": [8.9, 8.4]},
                "chart": {"shots": 1381, "bin_ft": 2.5, "version": 7, "make_rate": 0.454, "mean_probability": 0.4312,
                          "bins": [{"x": -1.25, "y": 0.0, "n": 143, "rate": 0.6713, "p": 0.6402}],
                          "first_date": "2023-10-24", "last_date": "2024-04-14"}}),
            OpenApiExample("Unknown player", response_only=True, status_codes=["404"], value={
                "code": "not_found", "message": "player_id: has no shots in the stored figures",
                "errors": [{"field": "player_id", "message": "has no shots in the stored figures"}],
                "request_id": "5f0c3a7e9b2d4e8f8a6b1c2d3e4f5a6b"}),
        ],
        tags=["analytics"],
    )  # fmt: skip
    def get(self, request: Request, player_id: int) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        detail = selectors.smoe_player(player_id=player_id, season=filters.validated_data.get("season", ""))
        if detail is None:
            raise ApplicationError("has no shots in the stored figures", field="player_id", value=player_id,
                                   code="not_found", status=404)  # fmt: skip
        return Response(self.OutputSerializer(detail).data)
