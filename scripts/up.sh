#!/usr/bin/env bash
# Command 1: set PariVision up on this machine and run it: web, Celery worker and Celery
# beat (and, when nothing answers at the configured URLs, a local Redis and the MongoDB
# stand-in). Ctrl-C stops everything it started. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

if [ -f .env ]; then set -a; . ./.env; set +a; fi
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-parivision.settings.local}
export PORT=${PORT:-8000}
export FEED_URL=${FEED_URL:-http://127.0.0.1:$PORT}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export MONGODB_URI=${MONGODB_URI:-mongodb://127.0.0.1:27017/}
VAR=$(realpath -m "${PARIVISION_VAR_DIR:-var}")
export PARIVISION_VAR_DIR="$VAR"
mkdir -p "$VAR/log"
PY=.venv/bin/python
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping ${#pids[@]} processes"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
# Ctrl-C (or TERM) stops everything quietly; the EXIT trap covers a start-up step that failed.
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

answers() { "$PY" scripts/ping.py "$@" >/dev/null 2>&1; }
port_of() { "$PY" -c 'import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).port or sys.argv[2])' "$1" "$2"; }

if ! answers redis "$REDIS_URL"; then
  redis_bin=$(command -v redis-server || echo .venv/bin/redis-server)
  say "starting Redis on port $(port_of "$REDIS_URL" 6379)"
  mkdir -p "$VAR/redis"
  "$redis_bin" --port "$(port_of "$REDIS_URL" 6379)" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$VAR/redis" --logfile "$VAR/log/redis.log" &
  pids+=($!)
  "$PY" scripts/ping.py redis "$REDIS_URL" --wait 20
fi
if ! answers mongodb "$MONGODB_URI"; then
  say "starting the MongoDB stand-in (nx-27017) on port $(port_of "$MONGODB_URI" 27017), data in $VAR/mongo"
  .venv/bin/nx-27017 --data-dir "$VAR/mongo" --host 127.0.0.1 --port "$(port_of "$MONGODB_URI" 27017)" \
    --log-file "$VAR/log/nx-27017.log" --pid-file "$VAR/nx-27017.pid" > "$VAR/log/nx-27017.out" 2>&1 &
  pids+=($!)
  "$PY" scripts/ping.py mongodb "$MONGODB_URI" --wait 30
fi

say "database migrations, static files, beat schedule, demo data, first champion"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py seed_schedules
"$PY" manage.py shooter_history_backfill --if-missing
"$PY" manage.py demo_data
"$PY" manage.py train --only-if-no-champion
"$PY" manage.py ensure_admin

say "starting web (http://127.0.0.1:$PORT), the Celery workers (live, long) and Celery beat; Ctrl-C stops them"
.venv/bin/gunicorn parivision.wsgi -c parivision/gunicorn.conf.py --bind "127.0.0.1:$PORT" &
pids+=($!)
# Two workers (parivision/queues.py): "live" takes only the short tasks the live product needs
# (stream, settlement, feed pull and transform); "long" takes backtests, imports and the ML work,
# so that none of those can hold the live product up. Each serves its own /metrics port, and its
# children share their Prometheus samples through a folder of its own (fresh per start).
pool() { "$PY" -c 'import sys; from parivision.queues import WORKER_POOLS as p; print(",".join(dict.fromkeys(q for n in sys.argv[1:] for q in p[n])))' "$@"; }
live_queues=$(pool live)
long_queues=$(pool batch ml)
metrics_port=${CELERY_METRICS_PORT:-9808}
rm -rf "$VAR/prometheus/celery" "$VAR/prometheus/celery-long" && mkdir -p "$VAR/prometheus/celery" "$VAR/prometheus/celery-long"
PROMETHEUS_MULTIPROC_DIR="$VAR/prometheus/celery" CELERY_METRICS_PORT="$metrics_port" \
  .venv/bin/celery -A parivision worker -Q "$live_queues" -c "${CELERY_CONCURRENCY:-2}" -l INFO -n "live@%h" &
pids+=($!)
PROMETHEUS_MULTIPROC_DIR="$VAR/prometheus/celery-long" CELERY_METRICS_PORT=$([ "$metrics_port" = 0 ] && echo 0 || echo $((metrics_port + 1))) \
  .venv/bin/celery -A parivision worker -Q "$long_queues" -c "${CELERY_LONG_CONCURRENCY:-1}" -l INFO -n "long@%h" &
pids+=($!)
.venv/bin/celery -A parivision beat -l INFO --schedule "$VAR/celerybeat-schedule" --pidfile= &
pids+=($!)
status=0
wait -n "${pids[@]}" || status=$?
say "a process stopped by itself (exit $status; its output is above); shutting the rest down"
exit 1
