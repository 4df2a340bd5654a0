#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: the MLflow tracking server's backend
# store gets a database of its own next to Django's.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE DATABASE mlflow OWNER "$POSTGRES_USER";
SQL
