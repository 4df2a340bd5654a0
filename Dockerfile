# syntax=docker/dockerfile:1
# PariVision's one image (web, feed, Celery worker and beat) and, as the `mlflow` target, the
# MLflow tracking server built from the same pinned lock. Used by docker-compose.yml.
#   docker build -t parivision .                  # the application
#   docker build --target mlflow -t parivision-mlflow .

ARG PYTHON_VERSION=3.11

# --- front-end assets from the npm registry (served by whitenoise, never from a CDN) ----------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor-assets.js scripts/
RUN npm ci --no-audit --no-fund --loglevel=error && npm run --silent vendor

# --- Python packages from the pinned lock, in a virtualenv copied into the runtime ------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements/base.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements/base.txt

# The tracking server needs MLflow's basic-auth app (Flask-WTF) and boto3 for S3-compatible
# artifact stores; every package the lock pins keeps its pinned version.
FROM builder AS mlflow-builder
RUN /opt/venv/bin/pip install -c /tmp/requirements/base.txt "mlflow[auth]" boto3

# --- what every runtime image shares --------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS base
# libgomp1: OpenMP for XGBoost and scikit-learn.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 parivision \
    && useradd --system --uid 10001 --gid parivision --home-dir /app --shell /usr/sbin/nologin parivision
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# --- MLflow tracking server -----------------------------------------------------------------
FROM base AS mlflow
COPY --from=mlflow-builder /opt/venv /opt/venv
COPY deploy/mlflow/basic_auth.ini /etc/mlflow/basic_auth.ini
RUN mkdir -p /mlflow/auth /mlflow/artifacts && chown -R parivision:parivision /mlflow
ENV MLFLOW_AUTH_CONFIG_PATH=/etc/mlflow/basic_auth.ini
USER parivision
WORKDIR /mlflow
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]
CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--app-name", "basic-auth"]

# --- the application (last: the default target) ----------------------------------------------
FROM base AS app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=parivision:parivision . .
COPY --from=assets --chown=parivision:parivision /src/static/vendor static/vendor
# collectstatic needs settings but no secret: the local settings are enough at build time.
RUN DJANGO_SETTINGS_MODULE=parivision.settings.local PARIVISION_VAR_DIR=/tmp/build-var STATIC_ROOT=/app/staticfiles \
        python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var \
    && chown -R parivision:parivision /app/var /app/staticfiles \
    && chmod +x deploy/docker-entrypoint.sh
ENV DJANGO_SETTINGS_MODULE=parivision.settings.production \
    STATIC_ROOT=/app/staticfiles \
    PARIVISION_VAR_DIR=/app/var \
    PORT=8000
USER parivision
EXPOSE 8000 9808
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "parivision.wsgi", "-c", "parivision/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
