"""Training over the REST API: a version's model card as JSON, Markdown or HTML (by the Accept header), and the
champion's drift story as the Celery task stored it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from parivision.errors import ApplicationError
from parivision.negotiation import AcceptHeaderNegotiation
from parivision.renderers import JSONRenderer
from predictions.api import ApiView, _errors
from training import selectors
from training.models import ModelVersion


class _TextRenderer(BaseRenderer):
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode() if isinstance(data, str) else b""  # refusals are switched to JSON below


class MarkdownRenderer(_TextRenderer):
    media_type = "text/markdown"
    format = "md"


class CardHtmlRenderer(_TextRenderer):
    media_type = "text/html"
    format = "html"


CARD_EXAMPLE = {
    "version": 7, "generated_at": "2024-04-01T03:41:20+00:00",
    "card": {"version": 7, "algorithm": "xgboost", "is_champion": True, "features": ["distance_ft", "is_three"],
             "data": {"window": ["2023-10-24", "2024-03-31"], "seasons": ["2023-24"]},
             "holdout": {"rows": 12040, "games": 180, "confidence": 0.95, "scores": [
                 {"metric": "log_loss", "estimate": 0.6157, "low": 0.6101, "high": 0.6214, "resamples": 1000}]},
             "walkforward": None, "drift": None, "promotions": [],
             "limits": ["No walk-forward evaluation: stability over successive periods has not been measured."]},
}  # fmt: skip


class ModelCardApi(ApiView):
    renderer_classes = [JSONRenderer, MarkdownRenderer, CardHtmlRenderer]
    content_negotiation_class = AcceptHeaderNegotiation

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ModelCardOutput"

        version = serializers.IntegerField()
        generated_at = serializers.CharField(help_text="ISO 8601, when the card was last built.")
        card = serializers.JSONField(help_text="Data window and slices, features, holdout scores with 95% "
                                               "game-bootstrap intervals, calibration by shot family, walk-forward, "
                                               "drift, promotion history and known limits.")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:  # the one JSON error shape
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="model_card", tags=["models"], summary="A version's model card",
        description=("The card stored when the version was registered (refreshed after each promotion decision "
                     "about it). `Accept: application/json` (default) for the data, `text/markdown` or `text/html` "
                     "for a download."),
        request=None,
        responses={(200, "application/json"): OutputSerializer, (200, "text/markdown"): OpenApiTypes.STR,
                   (200, "text/html"): OpenApiTypes.STR, **_errors(404, 429)},
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, OpenApiParameter.PATH),
                    OpenApiParameter("format", exclude=True)],  # Accept only (AcceptHeaderNegotiation)
        examples=[OpenApiExample("A card", response_only=True, media_type="application/json", value=CARD_EXAMPLE)],
    )  # fmt: skip
    def get(self, request: Request, version: int) -> Response:
        if not ModelVersion.objects.filter(version=version).exists():
            raise ApplicationError(f"No model version {version}.", field="version", value=version, code="not_found",
                                   status=404)
        stored = selectors.model_card_of(version=version) or {}
        if not stored.get("card"):
            reason = f"card not generated: {stored['error']}" if stored.get("error") else "no card generated yet"
            raise ApplicationError(f"Model version {version} has no card ({reason}).", field="version", value=version,
                                   code="not_found", status=404)
        fmt = request.accepted_renderer.format
        if fmt in ("md", "html"):
            key = "markdown" if fmt == "md" else "html"
            return Response(stored[key], headers={
                "Content-Disposition": f'attachment; filename="parivision-v{version}-model-card.{fmt}"'})
        return Response(self.OutputSerializer({"version": version, "generated_at": stored["card"]["generated_at"],
                                               "card": stored["card"]}).data)


STORY_EXAMPLE = {
    "story_status": "stored", "computing": False,
    "story": {
        "schema": 1, "state": "ready", "message": "", "computed_at": "2024-04-01T04:00:12+00:00", "window_days": 30,
        "champion": {"version": 7, "algorithm": "xgboost"},
        "reference": {"rows": 401233, "first_date": "2022-10-18", "last_date": "2024-01-20", "three_share": 0.392,
                      "mean_distance_ft": 13.41, "made_rate": 0.4712, "seasons": ["2022-23", "2023-24"]},
        "current": {"rows": 21045, "first_date": "2024-03-02", "last_date": "2024-03-31", "three_share": 0.4105,
                    "mean_distance_ft": 13.95, "made_rate": 0.4689, "seasons": ["2023-24"]},
        "drift": {"share_drifted": 0.1538, "dataset_drift": False, "target_drift": False,
                  "drifted_columns": ["shot_type", "zone_basic"]},
        "inputs": [{"column": "shot_type", "kind": "categorical", "method": "Jensen-Shannon distance", "score": 0.1321,
                    "threshold": 0.1, "drifted": True, "severity": 1.321, "comparison": {"kind": "categorical",
                    "categories": [{"value": "3PT", "reference": 0.392, "current": 0.4105, "change": 0.0185}]}}],
        "calibration": {"families": [{"family": "3PT", "group": "shot type", "preferred": "log",
                                      "log": {"n": 5120, "predicted": 0.3412, "observed": 0.3671, "gap": -0.0259,
                                              "ece": 0.0281, "log_loss": 0.6431,
                                              "curve": [{"predicted": 0.3391, "observed": 0.3702, "count": 4100}]},
                                      "replay": None}],
                        "logged_forecasts": 9876, "settled_shots": 21045, "min_logged": 200, "recalibration": True},
        "sources": {"log": "the prediction log: ...", "replay": "the champion re-predicted ..."},
    },
}  # fmt: skip


class DriftStoryApi(ApiView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DriftStoryOutput"

        # Not "status": drf-spectacular would give two different choice sets named "status" one enum name.
        story_status = serializers.ChoiceField(
            choices=("stored", "computing", "failed", "missing"),
            help_text="stored: a story is stored (its own `state` says whether it has figures); computing: none yet, "
                      "a worker is computing it; failed: none yet, the last computation failed; missing: never computed.")
        computing = serializers.BooleanField(help_text="A refresh is queued or running.")
        story = serializers.JSONField(allow_null=True, help_text=(
            "The stored document the model page shows: `state` (ready, no_champion, no_window, no_new_shots) and "
            "`message`; when ready, the champion's window (`reference`) and the newest shots (`current`) at a glance, "
            "Evidently's verdict per input drifted first (`inputs`), and per shot family the champion's calibration "
            "on the newest settled shots from each source (`calibration.families[].log` / `.replay`, `preferred`: "
            "the one to read first; `sources` says what each is)."))

    @extend_schema(
        operation_id="model_champion_drift", tags=["models"], summary="The champion's drift story",
        description=("Which inputs drifted between the champion's training window and the newest shots, and the "
                     "champion's calibration per shot family on the newest settled shots. Computed by Celery after "
                     "each promotion, after new shots and hourly; this only reads the stored document."),
        request=None, responses={200: OutputSerializer, **_errors(429)},
        examples=[OpenApiExample("A story", response_only=True, value=STORY_EXAMPLE)],
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        story = selectors.drift_story()
        status = selectors.drift_story_status()
        state = "stored" if story is not None else "computing" if status.computing else (
            "failed" if status.state == "failed" else "missing")
        return Response(self.OutputSerializer({"story_status": state, "computing": status.computing,
                                               "story": story}).data)
