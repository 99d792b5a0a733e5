"""Production: everything from the environment; refuses the development secret key."""

from django.core.exceptions import ImproperlyConfigured

from agency.settings.base import *  # noqa: F403
from agency.settings.base import BUYER_ID_HASH_KEY, DEVELOPMENT_SECRET_KEY, SECRET_KEY, env_bool

if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "Set SECRET_KEY to a random value of at least 50 characters (as Django's deploy check "
        "asks); production refuses the development key."
    )
if len(BUYER_ID_HASH_KEY) < 32:
    # Derived from SECRET_KEY it would change with it, and every buyer of the orders imported
    # before would become a stranger (the raw ids are never kept, so nothing can be re-hashed).
    raise ImproperlyConfigured(
        "Set BUYER_ID_HASH_KEY to a random value of at least 32 characters, once: buyer ids of "
        "order imports are hashed with it, and changing it later splits every buyer in two."
    )

DEBUG = env_bool("DEBUG", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind TLS (SITE_URL https://...) cookies are sent over HTTPS only; SECURE_COOKIES overrides.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SITE_URL.startswith("https://"))  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = [
    origin
    for origin in env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)  # noqa: F405
]
# Behind TLS: plain HTTP is redirected (the health check stays reachable for the load balancer)
# and browsers are told to use HTTPS only (HSTS, a year by default; HSTS_SECONDS=0 turns it off).
_HTTPS = SITE_URL.startswith("https://")  # noqa: F405
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env_str("HSTS_SECONDS", "31536000" if _HTTPS else "0"))  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
