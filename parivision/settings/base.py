"""Settings shared by every environment; all of them come from the environment.

Every knob has an embedded default for a laptop (SQLite, the local MongoDB stand-in,
Redis on localhost, an MLflow store under ``var/``) except production secrets, which
``production.py`` requires. ``.env.example`` documents every variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from parivision import queues as _queues
from parivision.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_json,
    env_list,
    env_optional,
    env_str,
    load_dotenv_file,
)

BASE_DIR = Path(__file__).resolve().parents[2]
load_dotenv_file(BASE_DIR / ".env")

# Everything the platform writes locally (SQLite, MongoDB stand-in, MLflow store, demo data).
VAR_DIR = Path(env_str("PARIVISION_VAR_DIR", str(BASE_DIR / "var"))).resolve()
# Where the real NBA seasons are read from (never copied into the project).
PARIVISION_DATA_DIR = env_optional("PARIVISION_DATA_DIR")

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-never-use-in-production")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_celery_beat",
    "ingestion",
    "training",
    "predictions",
    "betting",
    "backtests",
    "portal",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "parivision.http_metrics.PrometheusAfterMiddleware",  # the series this project reads
]

ROOT_URLCONF = "parivision.urls"
WSGI_APPLICATION = "parivision.wsgi.application"
ASGI_APPLICATION = "parivision.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Django's own tables: SQLite on a laptop, PostgreSQL through DATABASE_URL ----------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for a lock instead of failing at once, and take
    # the write lock when a transaction starts (a deferred upgrade fails without waiting).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PariVision <noreply@parivision.local>")

# --- MongoDB: the raw lake and the warehouse ---------------------------------------------
MONGODB_URI = env_str("MONGODB_URI", "mongodb://127.0.0.1:27017/")
MONGODB_LAKE_DB = env_str("MONGODB_LAKE_DB", "parivision_lake")
MONGODB_WAREHOUSE_DB = env_str("MONGODB_WAREHOUSE_DB", "parivision_warehouse")
# The stand-in answers one operation at a time: give pymongo room before it gives up.
MONGODB_TIMEOUT_MS = env_int("MONGODB_TIMEOUT_MS", 120_000, minimum=1_000)

# --- Redis and Celery ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660, minimum=1)
# Queues and routes live in parivision/queues.py (the live queue never carries a long task);
# the broker's visibility timeout is set at the end of this file, above every task's hard limit.
CELERY_TASK_DEFAULT_QUEUE = _queues.LIVE
CELERY_TASK_ROUTES = dict(_queues.ROUTES)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Ingestion ---------------------------------------------------------------------------
INGEST_BATCH_SIZE = env_int("INGEST_BATCH_SIZE", 5_000, minimum=1, maximum=100_000)
# Crash-safe imports (issue #11): a running import renews its lease every few seconds; a run
# whose lease has expired (its worker is gone) is resumed by the sweeper, up to the attempts
# allowed, then marked failed. URL downloads stop at an overall deadline.
INGEST_RUN_LEASE_S = env_int("INGEST_RUN_LEASE_S", 120, minimum=5)
INGEST_HEARTBEAT_S = env_int("INGEST_HEARTBEAT_S", 5, minimum=1)
INGEST_MAX_ATTEMPTS = env_int("INGEST_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
INGEST_URL_DEADLINE_S = env_int("INGEST_URL_DEADLINE_S", 900, minimum=1)
# The import task's time limits (seconds), on the `ingestion` queue (a whole season takes minutes).
INGEST_IMPORT_SOFT_TIME_LIMIT = env_int("INGEST_IMPORT_SOFT_TIME_LIMIT", 1_800, minimum=10)
INGEST_IMPORT_TIME_LIMIT = env_int("INGEST_IMPORT_TIME_LIMIT", 1_900, minimum=10)
# The replay feed: what it serves (a shot file path or "warehouse") and how much of it.
FEED_DATASET = env_str("FEED_DATASET", "warehouse")
FEED_LIMIT = env_int("FEED_LIMIT", 50_000, minimum=1)
# The feed the client pulls from (any VirtualBetsAPI-compatible URL; default: our own).
FEED_URL = env_str("FEED_URL", "http://127.0.0.1:8000")
FEED_PULL_SIZE = env_int("FEED_PULL_SIZE", 100, minimum=1, maximum=1_000)
FEED_TIMEOUT_S = env_float("FEED_TIMEOUT_S", 10.0, minimum=0.1)
FEED_RETRIES = env_int("FEED_RETRIES", 3, minimum=0, maximum=10)
# --- The honest live loop (issue #9): the feed is a protected source, paced by the live stream ---
# The replay feed's token: its server requires it on /getdata and /reset, its client sends it.
# The embedded default only suits a laptop; production refuses it.
FEED_TOKEN = env_str("FEED_TOKEN", "local-feed-token")
# The feed serves only the shots the live stream has played (released); off: everything at once
# (a bulk backfill, a benchmark), and then the stream only opens shots nobody has pulled yet.
FEED_PACED_BY_STREAM = env_bool("FEED_PACED_BY_STREAM", True)
# Logged predictions older than this are rolled up into per-version daily aggregates and purged.
PREDICTION_LOG_RETENTION_DAYS = env_int("PREDICTION_LOG_RETENTION_DAYS", 30, minimum=1, maximum=3_650)
# The nightly roll-up's time limits (seconds), on the `ml` queue.
PREDICTION_ROLLUP_SOFT_TIME_LIMIT = env_int("PREDICTION_ROLLUP_SOFT_TIME_LIMIT", 1_800, minimum=10)
PREDICTION_ROLLUP_TIME_LIMIT = env_int("PREDICTION_ROLLUP_TIME_LIMIT", 1_900, minimum=10)
BETSAPI_TOKEN = env_optional("BETSAPI_TOKEN")
BETSAPI_BASE_URL = env_str("BETSAPI_BASE_URL", "https://api.b365api.com")

# --- MLflow and promotion -------------------------------------------------------------------
MLFLOW_TRACKING_URI = env_str("MLFLOW_TRACKING_URI", f"sqlite:///{VAR_DIR / 'mlflow' / 'mlflow.db'}")
MLFLOW_ARTIFACT_ROOT = env_str("MLFLOW_ARTIFACT_ROOT", str(VAR_DIR / "mlflow" / "artifacts"))
MLFLOW_EXPERIMENT = env_str("MLFLOW_EXPERIMENT", "parivision-shots")
MLFLOW_MODEL_NAME = env_str("MLFLOW_MODEL_NAME", "parivision-shot-model")
MLFLOW_UI_URL = env_str("MLFLOW_UI_URL", "http://127.0.0.1:5000")
PROMOTION_METRIC = env_choice("PROMOTION_METRIC", "log_loss", ("log_loss", "brier", "roc_auc", "accuracy"))
PROMOTION_MIN_GAIN = env_float("PROMOTION_MIN_GAIN", 0.0, minimum=0.0)
# The gain must also be significant: the paired bootstrap interval over holdout games must exclude 0.
PROMOTION_CONFIDENCE = env_float("PROMOTION_CONFIDENCE", 0.95, minimum=0.5, maximum=0.999)
PROMOTION_BOOTSTRAP_RESAMPLES = env_int("PROMOTION_BOOTSTRAP_RESAMPLES", 1000, minimum=100, maximum=100_000)

# --- Training ----------------------------------------------------------------------------
# The training window: the most recent N seasons in the warehouse (the game has changed:
# older seasons hurt more than they help), and the holdout: the last share of game dates.
TRAINING_SEASONS = env_int("TRAINING_SEASONS", 2, minimum=1, maximum=30)
# The one shooter-history rule (training, serving, backtests): a shot sees its shooter's shots of the
# N days before its game date; 0 counts every earlier shot. Over 45 (the recent-form window).
SHOOTER_HISTORY_DAYS = env_int("SHOOTER_HISTORY_DAYS", 730, minimum=0, maximum=36500)
if 0 < SHOOTER_HISTORY_DAYS <= 45:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"SHOOTER_HISTORY_DAYS={SHOOTER_HISTORY_DAYS} must be 0 (no limit) or more than 45.")
TRAINING_HOLDOUT_FRACTION = env_float("TRAINING_HOLDOUT_FRACTION", 0.2, minimum=0.01, maximum=0.5)
TRAINING_VALIDATION_FRACTION = env_float("TRAINING_VALIDATION_FRACTION", 0.1, minimum=0.01, maximum=0.5)
# Overrides of the default hyper-parameters (training/ml/train.py), as JSON objects.
XGBOOST_PARAMS = env_json("XGBOOST_PARAMS", {})
RANDOM_FOREST_PARAMS = env_json("RANDOM_FOREST_PARAMS", {})
ML_PIPELINE_SOFT_TIME_LIMIT = env_int("ML_PIPELINE_SOFT_TIME_LIMIT", 3_600, minimum=60)
ML_PIPELINE_TIME_LIMIT = env_int("ML_PIPELINE_TIME_LIMIT", 3_900, minimum=60)
# Nightly retraining (beat, UTC): "minute hour".
ML_PIPELINE_CRON = env_str("ML_PIPELINE_CRON", "30 3")
# In-season recalibration (issue #13): a logit correction per shot family fitted on the newest settled
# warehouse shots (training/ml/recalibration.py), refitted hourly by `training.refit_recalibration`
# and applied by serving. Off: nothing is refitted, served probabilities are the model's own.
RECALIBRATION_ENABLED = env_bool("RECALIBRATION_ENABLED", True)
RECALIBRATION_HALF_LIFE_DAYS = env_float("RECALIBRATION_HALF_LIFE_DAYS", 21.0, minimum=0.0, maximum=3_650)
RECALIBRATION_WINDOW_DAYS = env_int("RECALIBRATION_WINDOW_DAYS", 90, minimum=1, maximum=3_650)
RECALIBRATION_PRIOR_SHOTS = env_float("RECALIBRATION_PRIOR_SHOTS", 300.0, minimum=1.0, maximum=1e7)
# Also a slope on the logit per family (off: a level shift only); on is the walk-forward's better policy.
RECALIBRATION_SLOPE = env_bool("RECALIBRATION_SLOPE", True)
# Then a shift per action group (action type within 2PT / 3PT), on what the family correction leaves:
# the walk-forward's only policy meeting every target in every season (README, Walk-forward).
RECALIBRATION_BY_ACTION = env_bool("RECALIBRATION_BY_ACTION", True)
# The drift report's story (training/services/drift.py, `training.refresh_drift_story`): the champion's
# training window against the shots of the last DRIFT_WINDOW_DAYS game days after its run, and the
# champion's calibration per shot family on those of them that are settled. A family's forecasts from the
# prediction log (made before the outcome was known) are read first once it has DRIFT_LIVE_MIN_PREDICTIONS.
DRIFT_WINDOW_DAYS = env_int("DRIFT_WINDOW_DAYS", 30, minimum=1, maximum=3_650)
DRIFT_LIVE_MIN_PREDICTIONS = env_int("DRIFT_LIVE_MIN_PREDICTIONS", 200, minimum=1)

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's TokenAuthentication with a few seconds of in-process memory (predictions/authentication.py).
        "predictions.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads may be anonymous (throttled harder); every write needs a user.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # DRF's negotiation, with Accept: */*, application/json or none answered at once.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "parivision.negotiation.FastNegotiation",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "predictions.throttling.UserRateThrottle",
        "predictions.throttling.AnonRateThrottle",
    ],
    "EXCEPTION_HANDLER": "parivision.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PariVision API",
    "DESCRIPTION": (
        "Calibrated make-probabilities for NBA shots from the current champion model, the models "
        "behind them, the warehouse's shots and the pipelines that feed them. Authenticate with "
        "`Authorization: Token <key>` (or a portal session). Every error has one JSON shape: "
        "`{code, message, errors: [{field, message}], request_id}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The team's and the opponent's previous shot share one choice set.
    "ENUM_NAME_OVERRIDES": {"PreviousShotEnum": "predictions.api.PREVIOUS_SHOT_CHOICES"},
}

PROMETHEUS_EXPORT_MIGRATIONS = False

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pymongo": {"level": "WARNING"},
        "mlflow": {"level": "WARNING"},
    },
}

# --- Prediction API: serving, throttling, prediction log and metrics (predictions app) --------
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # Swagger UI assets, served locally
# Each web process asks MLflow where `champion` points at most this often (seconds) and swaps
# in a new version in the background; in-flight requests finish on the model they started with.
SERVING_ALIAS_POLL_SECONDS = env_float("SERVING_ALIAS_POLL_SECONDS", 5.0, minimum=0.05, maximum=3_600)
# Load the champion when a gunicorn worker boots (in the background) rather than on its first request.
SERVING_WARM_UP = env_bool("SERVING_WARM_UP", True)
# Shooter histories (as of each shot's date) come from the shooter-history store, cached per player
# (short: the store follows every write, the cache only saves a read).
SERVING_HISTORY_TTL_SECONDS = env_float("SERVING_HISTORY_TTL_SECONDS", 30.0, minimum=0.0)
SERVING_HISTORY_CACHE_PLAYERS = env_int("SERVING_HISTORY_CACHE_PLAYERS", 20_000, minimum=1)
# Web workers hold every stored shooter's history (loaded when they start) and re-read the store's
# documents written since their last look this often: no shooter is ever a store read away.
SERVING_HISTORY_RESIDENT = env_bool("SERVING_HISTORY_RESIDENT", True)
SERVING_HISTORY_REFRESH_SECONDS = env_float("SERVING_HISTORY_REFRESH_SECONDS", 15.0, minimum=0.5, maximum=600)
# The game context (the team's previous shot) of a shot already in the warehouse is read from a game
# this process read within SERVING_GAME_CONTEXT_MAX_AGE_SECONDS when that copy holds the shot (its earlier
# shots came before it); a shot not ingested yet always reads its game afresh (predictions/game_context.py).
SERVING_GAME_CONTEXT_CACHE_GAMES = env_int("SERVING_GAME_CONTEXT_CACHE_GAMES", 5_000, minimum=0, maximum=1_000_000)
# With SERVING_HISTORY_RESIDENT, the same thread also holds every stored game's shot contexts (16 bytes a
# shot): a shot already ingested is priced without a read, the first time too.
SERVING_GAME_CONTEXT_RESIDENT = env_bool("SERVING_GAME_CONTEXT_RESIDENT", True)
SERVING_GAME_CONTEXT_MAX_AGE_SECONDS = env_float("SERVING_GAME_CONTEXT_MAX_AGE_SECONDS", 300.0, minimum=0.0,
                                                 maximum=86_400)
SERVING_BATCH_MAX = env_int("SERVING_BATCH_MAX", 1_000, minimum=1, maximum=10_000)
# Per-user request rates ("<n>/<second|minute|hour|day>"), counted in Redis across all workers.
def _rate(name: str, default: str) -> str:
    from django.core.exceptions import ImproperlyConfigured

    value = env_str(name, default)
    count, _, period = value.partition("/")
    if not count.strip().isdigit() or not period.strip() or period.strip()[0] not in "smhd":
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 600/minute.")
    return value


API_THROTTLE_USER_RATE = _rate("API_THROTTLE_USER_RATE", "6000/minute")
API_THROTTLE_ANON_RATE = _rate("API_THROTTLE_ANON_RATE", "60/minute")
# A token found in the database is trusted from memory this long (seconds; 0: look it up every
# time). A revoked token stops working at once in the process that revoked it, within this in others.
API_TOKEN_CACHE_SECONDS = env_float("API_TOKEN_CACHE_SECONDS", 5.0, minimum=0.0, maximum=300)
# Every served prediction goes to MongoDB through a buffered background writer.
PREDICTION_LOG_ENABLED = env_bool("PREDICTION_LOG_ENABLED", True)
PREDICTION_LOG_FLUSH_SECONDS = env_float("PREDICTION_LOG_FLUSH_SECONDS", 1.0, minimum=0.05, maximum=60)
PREDICTION_LOG_BATCH_SIZE = env_int("PREDICTION_LOG_BATCH_SIZE", 1_000, minimum=1, maximum=100_000)
# While MongoDB is away the buffer keeps at most this many predictions (the oldest are dropped, logged).
PREDICTION_LOG_MAX_BUFFER = env_int("PREDICTION_LOG_MAX_BUFFER", 200_000, minimum=1_000)
# Live accuracy / log loss / Brier: over the last N predictions joined to outcomes, per model version.
LIVE_SCORES_WINDOW = env_int("LIVE_SCORES_WINDOW", 5_000, minimum=10)
# Gauges read from the database and MongoDB at scrape time are recomputed at most this often.
METRICS_SCRAPE_CACHE_SECONDS = env_float("METRICS_SCRAPE_CACHE_SECONDS", 10.0, minimum=0.0)
# The Celery worker's own /metrics endpoint (0 switches it off).
CELERY_METRICS_PORT = env_int("CELERY_METRICS_PORT", 9808, minimum=0, maximum=65535)
CELERY_METRICS_ADDR = env_str("CELERY_METRICS_ADDR", "127.0.0.1")

# --- Betting and portal ---------------------------------------------------------------------
# The portal's URLs live in the "portal" namespace (auth views included).
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:play"
LOGOUT_REDIRECT_URL = "portal:home"
# Virtual credits every new account starts with.
STARTING_BANKROLL = env_int("STARTING_BANKROLL", 1_000, minimum=1, maximum=1_000_000_000)
# The platform's market maker: league make rate (zone x action type) with this overround.
MARKET_MARGIN = env_float("MARKET_MARGIN", 0.06, minimum=0.0, maximum=0.5)
# League make rates are recomputed from the warehouse at most this often (seconds).
MARKET_RATES_TTL_SECONDS = env_int("MARKET_RATES_TTL_SECONDS", 3_600, minimum=0)
# A zone x action-type cell with fewer attempts is shrunk toward its zone's rate by this weight.
MARKET_PRIOR_ATTEMPTS = env_int("MARKET_PRIOR_ATTEMPTS", 50, minimum=0)
# The edge (expected return per credit at the market's odds) from which a side is shown as value.
VALUE_EDGE_THRESHOLD = env_float("VALUE_EDGE_THRESHOLD", 0.02, minimum=0.0, maximum=1.0)
# The live shot stream: seconds between shots (a new stream state starts with it; the admin edits it).
# Beat asks the stream to move every 5 s ("Advance the live shot stream"); it moves when the pace says so.
STREAM_PACE_SECONDS = env_int("STREAM_PACE_SECONDS", 20, minimum=1, maximum=86_400)
# How often the dashboard polls the stream (seconds).
DASHBOARD_POLL_SECONDS = env_float("DASHBOARD_POLL_SECONDS", 3.0, minimum=0.5, maximum=60.0)
# BetsAPI odds lookups for a replayed game are cached this long (seconds); the client's timeout.
BETSAPI_ODDS_CACHE_SECONDS = env_int("BETSAPI_ODDS_CACHE_SECONDS", 120, minimum=0)
BETSAPI_TIMEOUT_S = env_float("BETSAPI_TIMEOUT_S", 5.0, minimum=0.1, maximum=60.0)
LEADERBOARD_SIZE = env_int("LEADERBOARD_SIZE", 25, minimum=1, maximum=500)
# --- Shadow challengers (issue 14) ---
# A second model scores every identified live prediction off the request path (predictions/shadow.py).
SHADOW_ENABLED = env_bool("SHADOW_ENABLED", True)
# After a pipeline run, its best challenger that did not become champion starts serving in shadow.
SHADOW_AUTO_START = env_bool("SHADOW_AUTO_START", True)
# Promotion over a champion needs a shadow period with a significant live gain first.
SHADOW_REQUIRED_FOR_PROMOTION = env_bool("SHADOW_REQUIRED_FOR_PROMOTION", False)
# The live loss the gate compares (lower is better) and how many settled shots both must have scored.
SHADOW_METRIC = env_choice("SHADOW_METRIC", "log_loss", ("log_loss", "brier"))
SHADOW_MIN_SETTLED = env_int("SHADOW_MIN_SETTLED", 300, minimum=2)
SHADOW_CONFIDENCE = env_float("SHADOW_CONFIDENCE", 0.95, minimum=0.5, maximum=0.999)
# Per web process: requests waiting for the shadow (the oldest fall out when full), shots per batch.
SHADOW_QUEUE_MAX = env_int("SHADOW_QUEUE_MAX", 5_000, minimum=10)
SHADOW_BATCH_SIZE = env_int("SHADOW_BATCH_SIZE", 16, minimum=1, maximum=5_000)
SHADOW_FLUSH_SECONDS = env_float("SHADOW_FLUSH_SECONDS", 0.5, minimum=0.01, maximum=60.0)
# Where the shadow scores: "thread" (a background thread in each web process) or "worker" (web
# processes only hand the shots to Redis; the Celery task predictions.shadow_score, or
# `manage.py shadow_score --loop`, scores them in another process: the web hosts do no model work).
SHADOW_SCORER = env_choice("SHADOW_SCORER", "thread", ("thread", "worker"))
# The share of requests the shadow scores: below 1 bounds its CPU on a saturated host (fewer pairs, same shots).
SHADOW_SAMPLE_RATE = env_float("SHADOW_SAMPLE_RATE", 1.0, minimum=0.0, maximum=1.0)

# --- Bettor safeguards (issue 14) ---
# The longest cool-down a bettor can set on their profile (hours; 720 = 30 days).
BETTOR_COOLDOWN_MAX_HOURS = env_int("BETTOR_COOLDOWN_MAX_HOURS", 720, minimum=1, maximum=24 * 366)

# --- Backtests and insight pages ---
# The backtest market maker prices shots from the league's make rates over this many days before the window.
BACKTEST_MARKET_LOOKBACK_DAYS = env_int("BACKTEST_MARKET_LOOKBACK_DAYS", 365, minimum=1)
BACKTEST_MAX_VERSIONS = env_int("BACKTEST_MAX_VERSIONS", 2, minimum=1, maximum=4)
BACKTEST_SOFT_TIME_LIMIT = env_int("BACKTEST_SOFT_TIME_LIMIT", 1_200, minimum=10)
BACKTEST_TIME_LIMIT = env_int("BACKTEST_TIME_LIMIT", 1_260, minimum=10)
# Backtest risk figures (issue 14): "ruin" is losing this share of the starting bankroll.
BACKTEST_RUIN_FRACTION = env_float("BACKTEST_RUIN_FRACTION", 0.5, minimum=0.01, maximum=1.0)
# Per-user limits (issue #10): backtests queued or running at once, and backtests started per
# rolling 24 hours (re-runs count). 0 switches a limit off. Staff are exempt unless
# BACKTEST_LIMITS_APPLY_TO_STAFF is true.
BACKTEST_MAX_ACTIVE_PER_USER = env_int("BACKTEST_MAX_ACTIVE_PER_USER", 2, minimum=0, maximum=1_000)
BACKTEST_MAX_PER_DAY = env_int("BACKTEST_MAX_PER_DAY", 20, minimum=0, maximum=100_000)
BACKTEST_LIMITS_APPLY_TO_STAFF = env_bool("BACKTEST_LIMITS_APPLY_TO_STAFF", False)

# --- Pages read, never compute: the shared cache and the stored figures (portal, analytics) ---
INSTALLED_APPS += ["analytics"]
# Recomputing a season's figures is CPU work: on the `ml` queue (parivision/queues.py), off the
# queue the live stream and settlement use.
# Django's cache is shared by every process through Redis (CACHE_URL, default REDIS_URL); "locmem"
# keeps it in each process. When Redis does not answer, the cache falls back to process memory
# for CACHE_FALLBACK_SECONDS instead of failing the request (parivision/cache.py).
CACHE_URL = env_str("CACHE_URL", REDIS_URL)
CACHE_FALLBACK_SECONDS = env_float("CACHE_FALLBACK_SECONDS", 30.0, minimum=0.0, maximum=3_600)
CACHES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "parivision"}
    if CACHE_URL == "locmem"
    else {"BACKEND": "parivision.cache.FallbackRedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "pv",
          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}}
}
# Figures the pages show (calibration, importance, shot charts, match views, shot-making over
# expected, ingestion charts, the front page's status) are computed by Celery and stored in the
# warehouse's ``figures`` collection. After new shots arrive, their seasons are recomputed once
# this many seconds have passed (one refresh for a burst of transforms); a promotion recomputes all.
FIGURES_AUTO_REFRESH = env_bool("FIGURES_AUTO_REFRESH", True)  # off: only `manage.py refresh_figures` and beat
FIGURES_REFRESH_DELAY_SECONDS = env_int("FIGURES_REFRESH_DELAY_SECONDS", 300, minimum=0, maximum=86_400)
FIGURES_SOFT_TIME_LIMIT = env_int("FIGURES_SOFT_TIME_LIMIT", 3_000, minimum=10)
FIGURES_TIME_LIMIT = env_int("FIGURES_TIME_LIMIT", 3_300, minimum=10)
# Game resamples behind each model card's holdout intervals (ROC AUC uses at most 200 of them).
MODEL_CARD_RESAMPLES = env_int("MODEL_CARD_RESAMPLES", 1000, minimum=50, maximum=10_000)
# Off: a card changes only when its version is registered and by `manage.py model_cards`.
MODEL_CARD_AUTO_REFRESH = env_bool("MODEL_CARD_AUTO_REFRESH", True)
# Shot-making over expected: the leaderboard lists players with at least this many attempts.
SMOE_MIN_ATTEMPTS = env_int("SMOE_MIN_ATTEMPTS", 100, minimum=1)
# Alertmanager's URL for the front page's "alerts firing" (empty: the platform's own checks).
ALERTMANAGER_URL = env_str("ALERTMANAGER_URL", "")


# --- Hardening (#12): client addresses, request bodies, logins, tokens, operations endpoints ---
import datetime as _dt  # noqa: E402

from django.core.exceptions import ImproperlyConfigured as _ImproperlyConfigured  # noqa: E402


def _networks(name: str, default: list[str]) -> list[str]:
    import ipaddress

    entries = env_list(name, default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise _ImproperlyConfigured(f"{name}: {entry!r} is not an IP address or network.") from None
    return entries


# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; from anyone else the
# peer's own address is the client (parivision/middleware.py). Empty: no proxy, trust no header.
TRUSTED_PROXIES = _networks("TRUSTED_PROXIES", [])
# REMOTE_ADDR already is the resolved client: DRF must not read X-Forwarded-For a second time.
REST_FRAMEWORK["NUM_PROXIES"] = 0
# One JSON error shape for everything under /api/: no browsable HTML renderer, a parser with a depth bound.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["parivision.renderers.JSONRenderer"]
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["parivision.parsers.JSONParser"]
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    # Hashed tokens with an expiry (django-rest-knox), answered from memory for a few seconds.
    "predictions.authentication.CachedTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
# Bodies larger than this are refused with a 413 before anything reads them (bytes).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2_621_440, minimum=1_024, maximum=100_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# JSON bodies nested deeper than this are a 400 (no API body needs more than a few levels).
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32, minimum=4, maximum=500)
# MongoDB: how long an operation waits for a reachable server before failing (a 503 in the API).
# gunicorn.conf.py lowers it for web processes (800 ms) so an outage answers within a second.
MONGODB_SERVER_SELECTION_TIMEOUT_MS = env_int("MONGODB_SERVER_SELECTION_TIMEOUT_MS", 10_000, minimum=100)
MIDDLEWARE = [
    MIDDLEWARE[0],  # django-prometheus first: refused requests (413...) are counted too
    "parivision.middleware.ClientAddressMiddleware",
    "parivision.middleware.RequestBodyMiddleware",
    *MIDDLEWARE[1:],
    "axes.middleware.AxesMiddleware",
    "parivision.middleware.ApiErrorMiddleware",
]

# API tokens (django-rest-knox): only a SHA-512 digest is stored; the key is shown once.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "rest_framework.authtoken"]
INSTALLED_APPS += ["knox", "axes"]
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1, maximum=3_650)
REST_KNOX = {
    "TOKEN_TTL": _dt.timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Logins (portal and admin) through django-axes: after LOGIN_FAILURE_LIMIT failures for a username,
# or from an address, that username / address is locked out for LOGIN_LOCKOUT_MINUTES (429).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=1_000)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=7 * 24 * 60)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = _dt.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "parivision.middleware.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Password-reset emails: per address asked for and per client address ("<n>/<s|m|h|d>").
PASSWORD_RESET_RATE_PER_EMAIL = _rate("PASSWORD_RESET_RATE_PER_EMAIL", "3/hour")
PASSWORD_RESET_RATE_PER_IP = _rate("PASSWORD_RESET_RATE_PER_IP", "10/hour")
# Sign-ups (each opens a bankroll of STARTING_BANKROLL credits): per client address and site-wide.
SIGNUP_RATE_PER_IP = _rate("SIGNUP_RATE_PER_IP", "3/day")
SIGNUP_RATE_GLOBAL = _rate("SIGNUP_RATE_GLOBAL", "200/hour")

# /metrics and the detailed /readyz: a bearer token (METRICS_TOKEN, or the file METRICS_TOKEN_FILE
# names, e.g. a compose secret) or a client address in METRICS_ALLOWED_NETWORKS. Bare /healthz and
# the status of /readyz stay public.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_TOKEN_FILE = env_str("METRICS_TOKEN_FILE", "")
if METRICS_TOKEN_FILE:
    try:
        METRICS_TOKEN = Path(METRICS_TOKEN_FILE).read_text().strip()
    except OSError as _error:
        raise _ImproperlyConfigured(f"METRICS_TOKEN_FILE={METRICS_TOKEN_FILE!r} cannot be read: {_error}") from None
METRICS_ALLOWED_NETWORKS = _networks("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])
# The OpenAPI schema states the rules enforced in code too (parivision/schema.py).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "parivision.schema.constraints_postprocess",
]
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # one line per login otherwise

# The live figures (analytics.refresh_live_status, every minute) read by the front page,
# GET /api/v1/models and /metrics are reported stale when older than this (seconds).
LIVE_STATUS_STALE_SECONDS = env_int("LIVE_STATUS_STALE_SECONDS", 300, minimum=60)

# --- Celery broker: the visibility timeout (issue #10) ----------------------------------------
# With Redis, a message taken but not acknowledged (acks_late) goes back to the queue after the
# visibility timeout, and a second worker runs it again. It must outlast the longest task's hard
# time limit: derived from every limit here (a task with a literal limit is at most a few minutes),
# plus a margin, so raising a limit raises it too. tests/parivision/test_queues.py checks every
# registered task against it.
CELERY_LONGEST_TIME_LIMIT = max(
    CELERY_TASK_TIME_LIMIT, ML_PIPELINE_TIME_LIMIT, BACKTEST_TIME_LIMIT, FIGURES_TIME_LIMIT,
    INGEST_IMPORT_TIME_LIMIT, PREDICTION_ROLLUP_TIME_LIMIT,
)  # fmt: skip
CELERY_VISIBILITY_MARGIN_S = env_int("CELERY_VISIBILITY_MARGIN_S", 600, minimum=60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_LONGEST_TIME_LIMIT + CELERY_VISIBILITY_MARGIN_S}
