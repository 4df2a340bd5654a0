#!/usr/bin/env bash
# Command 2: the whole test suite, on real local services that the tests start themselves
# (MongoDB stand-in, Redis, a Celery worker). Extra arguments go to pytest.
# DATABASE_URL=postgres://... runs it against PostgreSQL instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser --ops
echo "==> ruff"
.venv/bin/ruff check .
echo "==> pytest (database: ${DATABASE_URL:-SQLite})"
exec .venv/bin/python -m pytest "$@"
