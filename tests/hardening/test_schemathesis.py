"""The API against its own OpenAPI schema: schemathesis, bounded, inside the suite.

Every operation under /api/ gets generated requests, valid and invalid (schemathesis' positive
and negative modes), sent in-process to the WSGI application with a token of its own (a plain,
non-staff user: the staff-only pipeline endpoints must refuse it). Any 5xx, an undocumented
status, a response that does not match its schema, an invalid request accepted or a valid one
refused fails the test. ``SCHEMATHESIS_MAX_EXAMPLES`` (default 60 per operation) bounds it;
the run is derandomized, so CI sees the same cases every time. The figures (operations, cases,
failures) are printed at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.hardening import conftest as figures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db", "champion")]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"))


def _load_schema() -> Any:
    """The schema /api/schema/ serves, generated in-process, with the WSGI application to call."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from parivision.wsgi import application

    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document).include(path_regex=r"^/api/v1/")
    loaded.app = application
    return loaded


@pytest.fixture(autouse=True)
def _in_process_requests(settings: Any) -> Iterator[None]:
    from django.core import signals
    from django.db import close_old_connections

    # Generated traffic from one user: the per-user budget is not what is tested here.
    settings.API_THROTTLE_USER_RATE = "1000000/minute"
    settings.API_THROTTLE_ANON_RATE = "1000000/minute"
    # As Django's test client does: a request must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def schemathesis_token(django_user_model: Any) -> str:
    from predictions.services import token_create

    user = django_user_model.objects.create_user(username="schemathesis", password="pw-schemathesis-123")
    return token_create(user=user).key


schema = _load_schema()


# Requests a schema cannot tell apart from valid ones, refused by state: a backtest of a model
# version that does not exist (400 naming it) and a shots cursor the API never issued (400). Every
# other check still runs on these operations.
STATE_DEPENDENT = {"POST /api/v1/backtests", "GET /api/v1/shots"}
# Shots refused by value rules JSON Schema cannot state: court geometry (a location 4 ft from the hoop
# with distance_ft 25) and a shot_key that must describe the shot's own fields. For these operations a
# refused schema-valid request must be explained by one of those rules (_check_value_rules).
VALUE_DEPENDENT = {"POST /api/v1/predictions", "POST /api/v1/predictions/batch"}


@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
def test_the_api_matches_its_schema(case: Any, schemathesis_token: str) -> None:
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    label = case.operation.label
    figures.schemathesis_case(label)
    excluded = [positive_data_acceptance] if label in STATE_DEPENDENT | VALUE_DEPENDENT else []
    try:
        response = case.call_and_validate(headers={"Authorization": f"Token {schemathesis_token}"},
                                          excluded_checks=excluded)
        if label in VALUE_DEPENDENT:
            _check_value_rules(case, response)
    except BaseException:
        figures.schemathesis_failure(label)
        raise


def _check_value_rules(case: Any, response: Any) -> None:
    """A schema-valid shot may be refused only by a value rule: its fields contradict each other
    (court geometry) or its shot_key does not describe it. Anything else refused is a failure."""
    from schemathesis.generation.modes import GenerationMode

    from ingestion import court

    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or response.status_code != 400:
        return
    body = case.body if isinstance(case.body, dict) else {}
    shots = body.get("shots", [body]) if "shots" in body else [body]
    explained = any(
        isinstance(shot, dict) and (
            shot.get("shot_key") is not None
            or court.contradictions(x_ft=shot.get("x_ft"), y_ft=shot.get("y_ft"), distance_ft=shot.get("distance_ft"),
                                    zone_basic=shot.get("zone_basic"), zone_area=shot.get("zone_area"),
                                    zone_range=shot.get("zone_range"), shot_type=shot.get("shot_type"))
        )
        for shot in (shots if isinstance(shots, list) else [])
    )
    assert explained, f"a schema-valid request without contradictions was refused: {response.text[:500]}"
