"""Hostile input, outages, abuse limits and the operations surface (issue #12).

Reuses the serving fixtures (a tiny champion on a throw-away MLflow store, clean serving state).
"""

from __future__ import annotations

from typing import Any

from tests.predictions.conftest import (  # noqa: F401  (fixtures)
    _clean_serving_state,
    api,
    champion,
    mlflow_store,
    no_champion,
    shot,
    staff,
    staff_api,
    token_client,
    user,
)


def assert_error_shape(body: Any, *, code: str | None = None) -> None:
    """The one JSON error shape: code, message, errors [{field, message, value (when given, as text)}],
    request_id."""
    assert set(body) >= {"code", "message", "errors", "request_id"}, body
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["errors"], list)
    assert body["errors"]
    assert all(set(e) in ({"field", "message"}, {"field", "message", "value"}) for e in body["errors"]), body
    assert all(isinstance(e["value"], str) and len(e["value"]) <= 200 for e in body["errors"] if "value" in e), body
    if code is not None:
        assert body["code"] == code, body


# --- schemathesis figures (test_schemathesis.py), printed at the end of the session ------------------

_schemathesis: dict[str, dict[str, int]] = {}


def schemathesis_case(operation: str) -> None:
    _schemathesis.setdefault(operation, {"cases": 0, "failures": 0})["cases"] += 1


def schemathesis_failure(operation: str) -> None:
    _schemathesis.setdefault(operation, {"cases": 0, "failures": 0})["failures"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _schemathesis:
        return
    cases = sum(f["cases"] for f in _schemathesis.values())
    failing = sorted(name for name, f in _schemathesis.items() if f["failures"])
    terminalreporter.write_sep("-", "schemathesis")
    terminalreporter.write_line(f"schemathesis: {len(_schemathesis)} operations, {cases} cases, "
                                f"{len(failing)} failing operations{': ' + ', '.join(failing) if failing else ''}")
