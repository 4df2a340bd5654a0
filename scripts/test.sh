#!/usr/bin/env bash
# Command 2: the whole test suite, on real local services that the tests start themselves
# (MongoDB stand-in, Redis, a Celery worker): ruff, mypy, then pytest (schemathesis included,
# tests/hardening; SCHEMATHESIS_MAX_EXAMPLES bounds it). Extra arguments go to pytest.
# DATABASE_URL=postgres://... runs it against PostgreSQL instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser --ops
echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy (pyproject.toml [tool.mypy]; cache in var/mypy-cache)"
.venv/bin/mypy
echo "==> pytest (database: ${DATABASE_URL:-SQLite})"
exec .venv/bin/python -m pytest "$@"
