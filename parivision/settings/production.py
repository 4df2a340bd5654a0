"""Production: secrets are required, DEBUG is off and ``manage.py check --deploy`` is clean."""

from django.core.exceptions import ImproperlyConfigured

from parivision.env import env_bool, env_choice, env_int, env_list, env_str, secret_key_weakness
from parivision.settings.base import *  # noqa: F403

SECRET_KEY = env_str("SECRET_KEY")  # no default: refuse to start without it
_weakness = secret_key_weakness(SECRET_KEY)
if _weakness:
    raise ImproperlyConfigured(
        f"SECRET_KEY must be a long random value (50+ characters, e.g. "
        f"`python -c 'import secrets; print(secrets.token_urlsafe(64))'`): {_weakness}.")
DEBUG = env_bool("DEBUG", False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
FEED_TOKEN = env_str("FEED_TOKEN")  # the replay feed's token: no default in production
if len(FEED_TOKEN) < 32:
    raise ImproperlyConfigured("FEED_TOKEN must be a long random value (32+ characters).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts this site answers for.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Health checks and Prometheus scrape plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# A shadow challenger's model work runs in Celery (predictions.shadow_score), not in the web
# processes: their CPU stays with the requests (bench/serve.py --shadow measures it).
SHADOW_SCORER = env_choice("SHADOW_SCORER", "worker", ("thread", "worker"))
