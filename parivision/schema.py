"""What the OpenAPI schema must say beyond what drf-spectacular reads from the serializers.

``constraints_postprocess`` (a SPECTACULAR_SETTINGS post-processing hook) adds the rules the
server enforces in code rather than in field declarations, so the schema states every one:

* the batch's ``shots`` holds 1 to ``SERVING_BATCH_MAX`` items;
* a shot is located by ``x_ft`` and ``y_ft`` together, or by a ``zone_basic`` without either,
  and carries ``game_id`` and ``event_id`` together or neither;
* an optional query parameter given empty (``?zone=``) is read as absent (``allowEmptyValue``);
* every operation may answer the API's error shape for the statuses any request can get
  (a malformed body, a bad token, a refused media type, a body too large, throttling, a store
  that is down, and a server error), besides the ones its view declares.

The schemathesis run in tests/hardening checks the server against this schema.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Status -> why any operation may answer it.
COMMON_ERRORS = {
    "400": "The request is malformed (JSON, parameters or fields): the field and value are named.",
    "401": "The token is missing, unknown, expired or revoked.",
    "406": "The Accept header asks for something other than JSON.",
    "413": "The request body is larger than API_MAX_BODY_BYTES.",
    "415": "The body is not application/json.",
    "429": "Too many requests (Retry-After says when to try again).",
    "500": "A server error (logged), in the same shape.",
    "503": "A store the request needs (MongoDB, Redis, the database) or the model is unavailable.",
}
BODY_ONLY = {"413", "415"}


def _shot_rules() -> list[dict[str, Any]]:
    """The cross-field rules of services.shot_canonical, as JSON Schema."""
    by_xy = {"required": ["x_ft", "y_ft"]}
    by_zone = {"allOf": [{"required": ["zone_basic"]},
                         {"not": {"anyOf": [{"required": ["x_ft"]}, {"required": ["y_ft"]}]}}]}
    # The shot's identity (services._shot_key_of): event_id only beside game_id, and game_id needs the
    # location the key is built from unless the shot_key itself is given.
    event_needs_game = {"if": {"required": ["event_id"]}, "then": {"required": ["game_id"]}}
    game_needs_location = {"if": {"allOf": [{"required": ["game_id"]}, {"not": {"required": ["shot_key"]}}]},
                           "then": {"required": ["x_ft", "y_ft"]}}
    # The team's and the opponent's previous shot (services._game_context_given): seconds since it exactly
    # when it was made or missed.
    pairs: list[dict[str, Any]] = [{"if": {"required": ["opponent_previous_shot"]},
                                    "then": {"required": ["team_previous_shot"]}}]
    for field in ("team_previous_shot", "opponent_previous_shot"):
        earlier_shot = {"required": [field], "properties": {field: {"enum": ["made", "missed"]}}}
        pairs += [{"if": {"required": [f"{field}_seconds"]}, "then": earlier_shot},
                  {"if": earlier_shot, "then": {"required": [f"{field}_seconds"]}}]
    return [{"oneOf": [by_xy, by_zone]}, event_needs_game, game_needs_location, *pairs]


def constraints_postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.get("components", {}).get("schemas", {})
    batch = schemas.get("PredictionBatchCreateInputRequest", {}).get("properties", {}).get("shots")
    if batch is not None:
        batch["minItems"] = 1
        batch["maxItems"] = settings.SERVING_BATCH_MAX
    shot = schemas.get("ShotInputRequest")
    if shot is not None:
        shot["allOf"] = _shot_rules()
        shot["additionalProperties"] = False  # unknown fields are refused
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                # DRF reads an empty optional query parameter (`?zone=`) as an absent one.
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                if status in BODY_ONLY and "requestBody" not in operation:
                    continue
                responses.setdefault(status, {"content": {"application/json": {"schema": ERROR_REF}},
                                              "description": description})
    return result


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <key>`` (predictions.authentication, hashed knox tokens)."""

    target_class = "predictions.authentication.CachedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Token-based authentication with required prefix \"Token\""}
