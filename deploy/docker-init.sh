#!/bin/sh
# One-shot set-up run by the `init` service of docker-compose.yml before web, worker and beat
# start: database migrations, the default beat schedule and the admin login; with
# DEMO_DATA=true also the synthetic demo games and a first champion. Safe to run again.
set -eu
python manage.py migrate --noinput
python manage.py seed_schedules
python manage.py ensure_admin
python manage.py shooter_history_backfill --if-missing  # the serving histories' store (a no-op once built)
if [ "${DEMO_DATA:-false}" = "true" ]; then
  python manage.py demo_data
  python manage.py train --only-if-no-champion
fi
