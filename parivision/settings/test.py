"""The test suite: same services as a laptop, each test session on its own throw-away stores.

tests/conftest.py starts a private MongoDB stand-in and Redis and points these settings
at them; Celery integration tests run a real worker process against the same stores.
"""

import os

from parivision.settings.base import *  # noqa: F403
from parivision.settings.base import DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the Celery worker process of the integration tests opens it too.
    # One per test process, so two suites running at once never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("PARIVISION_TEST_SQLITE", str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3"))
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = VAR_DIR / "staticfiles-test"
# Many tests sign up and reset passwords from 127.0.0.1: the abuse limits are tested with their own values.
SIGNUP_RATE_PER_IP = "100000/day"
SIGNUP_RATE_GLOBAL = "100000/hour"
PASSWORD_RESET_RATE_PER_EMAIL = "100000/hour"
PASSWORD_RESET_RATE_PER_IP = "100000/hour"
# Figures are recomputed by the tests that exercise it, not behind every promotion and import.
FIGURES_AUTO_REFRESH = False
MODEL_CARD_AUTO_REFRESH = False  # likewise the model cards after each decision
