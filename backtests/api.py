"""Backtests over the REST API: list and queue your backtests, poll one until it has results.

Same conventions as ``predictions.api``: one view per operation, nested serializers, a
request id, and every refusal in the one error shape of ``parivision.errors``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from backtests import selectors, services
from backtests.engine import STRATEGIES
from backtests.models import Backtest
from parivision.errors import ApplicationError
from parivision.fields import MAX_ID, StrictIntegerField
from predictions.api import VALIDATION_ERROR_EXAMPLE, ApiView, _errors


class BacktestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.CharField(source="owner.get_username")
    model_versions = serializers.ListField(child=serializers.IntegerField())
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    strategy = serializers.CharField()
    params = serializers.JSONField(help_text="threshold, stake, kelly_fraction, margin, bankroll, min_stake.")
    status = serializers.CharField(help_text="queued, running, succeeded or failed.")
    progress = serializers.IntegerField(help_text="Percent done.")
    step = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    results = serializers.JSONField(help_text="Per version: bets, wins, hit_rate, roi, final_bankroll, "
                                              "max_drawdown, sharpe (per bet), profit_factor, risk_of_ruin (of "
                                              "losing ruin_fraction of the bankroll), zones [{zone, bets, wins, "
                                              "hit_rate, staked, profit, roi}], curve [{n, bankroll, date}].")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, obj: Backtest) -> str:
        return f"/api/v1/backtests/{obj.pk}"


BACKTEST_EXAMPLE: dict[str, Any] = {
    "id": 12, "owner": "analyst", "model_versions": [5, 7], "date_from": "2024-03-01", "date_to": "2024-04-14",
    "strategy": "kelly", "params": {"strategy": "kelly", "threshold": 0.02, "stake": 10.0, "kelly_fraction": 0.25,
                                    "margin": 0.05, "bankroll": 1000.0, "min_stake": 0.01},
    "status": "succeeded", "progress": 100, "step": "", "error": "",
    "results": {"shots": 21940, "market": {"shots": 180233, "lookback_days": 365, "margin": 0.05},
                "versions": [{"version": 7, "bets": 812, "wins": 455, "hit_rate": 0.5603, "roi": 0.0312,
                              "final_bankroll": 1184.2, "max_drawdown": 0.081, "sharpe": 0.0417,
                              "profit_factor": 1.071, "risk_of_ruin": 0.0132, "ruin_fraction": 0.5,
                              "zones": [{"zone": "Restricted Area", "bets": 301, "wins": 198, "hit_rate": 0.6578,
                                         "staked": 7420.5, "profit": 310.2, "roi": 0.0418}],
                              "curve": [{"n": 0, "bankroll": 1000.0, "date": "2024-03-01"}]}]},
    "created_at": "2024-04-15T09:00:00Z", "started_at": "2024-04-15T09:00:01Z",
    "finished_at": "2024-04-15T09:00:40Z", "url": "/api/v1/backtests/12",
}  # fmt: skip


class BacktestListCreateApi(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BacktestCreateInput"

        model_versions = serializers.ListField(
            child=StrictIntegerField(min_value=1, max_value=MAX_ID), min_length=1,
            max_length=settings.BACKTEST_MAX_VERSIONS,
            help_text="One version, or two compared on the same shots.")
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        strategy = serializers.ChoiceField(choices=STRATEGIES)
        threshold = serializers.FloatField(default=0.02, min_value=0.0, max_value=1.0,
                                           help_text="Bet when the model's edge over the market exceeds this.")
        stake = serializers.FloatField(default=10.0, min_value=0.01, max_value=1e9, help_text="flat: credits per bet.")
        kelly_fraction = serializers.FloatField(default=0.25, min_value=0.01, max_value=1.0,
                                                help_text="kelly: share of the full Kelly stake.")
        margin = serializers.FloatField(required=False, min_value=0.0, max_value=0.5,
                                        help_text="The market's overround (default: the live market's MARKET_MARGIN).")
        bankroll = serializers.FloatField(default=1000.0, min_value=1.0, max_value=1e12)

        def to_internal_value(self, data: Any) -> Any:
            if isinstance(data, dict):
                unknown = sorted(set(data) - set(self.fields))
                if unknown:
                    raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            return super().to_internal_value(data)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["date_from"] > attrs["date_to"]:
                raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BacktestListOutput"

        backtests = BacktestSerializer(many=True)

    @extend_schema(
        operation_id="backtest_list", tags=["backtests"], summary="Your backtests",
        description="Newest first (at most 100); staff see everyone's. Curves are left out: fetch one backtest.",
        responses={200: OutputSerializer, **_errors(401, 429)},
        examples=[OpenApiExample("Your backtests", response_only=True, value={"backtests": [{
            **BACKTEST_EXAMPLE, "results": {**BACKTEST_EXAMPLE["results"], "versions": [
                {k: v for k, v in version.items() if k != "curve"}
                for version in BACKTEST_EXAMPLE["results"]["versions"]]}}]})],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        backtests = list(selectors.backtests_visible(user=request.user)[:100])
        data = self.OutputSerializer({"backtests": backtests}).data
        for row in data["backtests"]:
            for version in (row["results"] or {}).get("versions", []):
                version.pop("curve", None)
                version.pop("bet_details", None)
        return Response(data)

    @extend_schema(
        operation_id="backtest_create", tags=["backtests"], summary="Queue a backtest",
        description=("Validates, stores and queues it; answers 202 with the backtest to poll. Each user may have "
                     "BACKTEST_MAX_ACTIVE_PER_USER backtests queued or running and start BACKTEST_MAX_PER_DAY per "
                     "24 hours: past either, 429 with code `backtest_limit` and a message naming the limit."),
        request=InputSerializer, responses={202: BacktestSerializer, **_errors(400, 401, 429)},
        examples=[
            OpenApiExample("Two versions, fractional Kelly", request_only=True, value={
                "model_versions": [5, 7], "date_from": "2024-03-01", "date_to": "2024-04-14", "strategy": "kelly",
                "kelly_fraction": 0.25, "margin": 0.05, "bankroll": 1000}),
            OpenApiExample("Queued", response_only=True, status_codes=["202"],
                           value={**BACKTEST_EXAMPLE, "status": "queued", "progress": 0, "results": {},
                                  "started_at": None, "finished_at": None}),
            VALIDATION_ERROR_EXAMPLE,
        ],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        backtest = services.backtest_create(owner=request.user, **serializer.validated_data)
        return Response(BacktestSerializer(backtest).data, status=202,
                        headers={"Location": f"/api/v1/backtests/{backtest.pk}"})


class BacktestDetailApi(ApiView):
    permission_classes = [permissions.IsAuthenticated]
    OutputSerializer = BacktestSerializer

    @extend_schema(
        operation_id="backtest_detail", tags=["backtests"], summary="One backtest, with its bankroll curves",
        parameters=[OpenApiParameter("backtest_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: BacktestSerializer, **_errors(401, 404, 429)},
        examples=[OpenApiExample("Finished", response_only=True, value=BACKTEST_EXAMPLE)],
    )  # fmt: skip
    def get(self, request: Request, backtest_id: int) -> Response:
        backtest = selectors.backtest_get(user=request.user, backtest_id=backtest_id)
        if backtest is None:  # someone else's is "not found" too: ids are not a secret worth confirming
            raise ApplicationError("is not one of your backtests", field="backtest_id", value=backtest_id,
                                   code="not_found", status=404)
        return Response(BacktestSerializer(backtest).data)
