"""Settings shared by every environment; each value that differs per deployment comes from the
environment. The embedded default (no variable set) is SQLite and eager Celery tasks."""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-never-use-in-production"


def env_str(name: str, default: str) -> str:
    """An empty variable counts as unset, so a blank line in an .env file means "the default"."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# Absolute address of the portal, for links in e-mails (set-password links).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "agency",
    "engagements",
    "execution",
    "diagnostics",
    "proposals",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified once its session passed the code step (django-otp), then holds
    # back a session that still owes its code, or an agency admin without an authenticator app.
    "django_otp.middleware.OTPMiddleware",
    "agency.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "agency.middleware.UserLanguageMiddleware",
    # Last, so that every other middleware's process_view has run before the tenant is resolved.
    "agency.middleware.TenantMiddleware",
    # Last of all, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "agency.urls"
WSGI_APPLICATION = "agency.wsgi.application"

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
                "agency.context_processors.tenant",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
# PostgreSQL's second line of tenancy (agency/rls.py): the portal connects as DATABASE_URL's role,
# which owns no table and is subject to row-level security; `manage.py migrate` connects as the
# owner role of DATABASE_OWNER_URL (same database), which creates the tables, their policies and
# the app role's grants. Empty: migrate uses DATABASE_URL (SQLite, or a single-role setup).
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL", "")
# The role the policies' grants go to: DATABASE_URL's user, when an owner role is set apart.
DATABASE_APP_ROLE = DATABASES["default"].get("USER", "") if DATABASE_OWNER_URL else ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "agency.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a (username, IP) pair that failed too often, before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend; the user it loads per request also says, from the same query, what
    # two-factor sign-in needs to know (agency/two_factor.py).
    "agency.two_factor.UserBackend",
]

# Reverse proxies in front of the portal (nginx, a load balancer) that append to X-Forwarded-For;
# 0 when clients connect directly. Decides the client IP for the lockout and for evidence.
TRUSTED_PROXY_COUNT = int(env_str("TRUSTED_PROXY_COUNT", "0"))
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for one e-mail address from one
# IP, that pair is locked for LOGIN_LOCKOUT_MINUTES; the same user from another IP is not, so an
# attacker cannot lock a user out. A successful login resets the count.
AXES_FAILURE_LIMIT = int(env_str("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(env_str("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "agency.security.login_username"
AXES_CLIENT_IP_CALLABLE = "agency.security.client_ip"
AXES_LOCKOUT_CALLABLE = "agency.views.login_locked"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Two-factor sign-in (agency/two_factor.py): TOTP codes of an authenticator app, required for
# agency admins, optional for everyone else. After each wrong code django-otp ignores codes for
# 1, 2, 4, 8 … seconds (THROTTLE_FACTOR × 2^(failures-1)); a code is accepted once, within one
# 30-second step either side of the server's clock. The issuer names the portal in the app.
OTP_TOTP_ISSUER = env_str("TOTP_ISSUER", "Engagement portal")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_TOTP_SYNC = True
# The Django admin may delete a lost phone's device (the way back in), never show its secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A set-password link works once (the token covers the password hash) and for three days.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600

# Language and time: Simplified Chinese first, per-user choice remembered on the user.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
LANGUAGE_COOKIE_NAME = "portal_language"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
# Agency logos are served through a scoped view, never from MEDIA_URL directly.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")

# Celery: Redis broker when REDIS_URL is set; otherwise every task runs eagerly in-process.
REDIS_URL = env_str("REDIS_URL", "")

# The cache holds what processes share for a moment (an ingestion run's progress): Redis when
# there is one, else this process's memory (the embedded demo runs tasks in-process anyway).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task's message is acknowledged when the task ends (acks_late). If the pool process running it
# dies (SIGKILL, the OOM killer), the worker puts the message back at once (reject on worker
# lost); if the whole worker dies, Redis keeps the message as "unacked" and any worker puts it
# back once it is older than the visibility timeout. So a task still running when that timeout
# passes would be delivered a second time: the hard time limit stays well below it. The soft
# limit comes first and raises inside the task, so an ingestion fails with a message and its
# transaction rolled back instead of being killed. A 1,000,000-row CSV ingests in about 5 s
# (`make bench`); 15 and 20 minutes leave room for the slowest input within the upload limit (a
# large XLSX parses far slower than CSV), a busy database, and still an hour before a redelivery.
# Each ingestion run counts its deliveries and gives up after five
# (execution.metrics.ingestion.MAX_ATTEMPTS), so a file that kills its worker every time ends as
# a failed run instead of looping.
CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
CELERY_TASK_TIME_LIMIT = 20 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# When the broker connection drops, a running task keeps running (Celery 5's default, named so
# Celery stops warning): the database work commits, and the redelivery that may follow finds the
# run finished and does nothing (every task is idempotent). Cancelling would throw away a long
# ingestion and wait for the visibility timeout to start it again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic jobs. Each is idempotent: running it again (or late) does nothing twice.
CELERY_BEAT_SCHEDULE: dict = {
    "pull-connected-stores": {
        "task": "execution.tasks.pull_connected_stores",
        "schedule": 6 * 3600,  # four times a day; pulls overlap, so a missed run costs nothing
    },
    # Every hour: the daily brief of each engagement whose agency's brief hour has come.
    "send-due-briefs": {"task": "reporting.tasks.send_due_briefs", "schedule": 3600},
    # Every hour: draft the weekly (Mondays) and monthly (from the 4th) reviews that are due.
    "draft-due-reviews": {"task": "reporting.tasks.draft_due_reviews", "schedule": 3600},
    # Daily at 01:00 UTC (09:00 in Shanghai): remind owners of qualification documents that
    # expire soon. Idempotent (once per document and expiry date); each agency judges "soon" by
    # its own local date.
    "send-setup-expiry-reminders": {
        "task": "execution.setup.tasks.send_all_setup_expiry_reminders",
        "schedule": crontab(hour=1, minute=0),
    },
}

# The REST API (agency/rest.py holds the frame every endpoint derives from).
REST_FRAMEWORK = {
    # Bearer tokens are added by agency.rest.TenantAPIMixin (naming them here would import
    # agency.rest while DRF is still loading).
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    # The API's views use stricter subclasses of these (agency.rest.TenantAPIMixin): a blank,
    # repeated or unknown filter or ordering is refused rather than ignored.
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "agency.rest.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# One budget per token, shared by every endpoint (DRF's rate syntax: N/second|minute|hour|day).
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Tmall engagement portal API",
    "DESCRIPTION": (
        "Brands, stores, engagements, metrics and ingestion runs of one agency, for "
        "integrations. Authenticate with `Authorization: Bearer <token>`; a token belongs to one "
        "agency (and optionally one brand) and carries scopes. Lists are cursor-paginated "
        '(`next` / `previous` links). Every error is `{"error": {"code", "message", '
        '"details"}}`; a 400\'s `details` names each refused parameter or field. A parameter '
        "takes one value, and no text may hold a NUL character."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: Swagger UI would send the schema's URL to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "EngagementStatusEnum": "engagements.models.EngagementStatus",
        "IngestionRunStatusEnum": "execution.models.IngestionRun.Status",
        "ProposalResourceKindEnum": "proposals.models.ResourceKind",
        "ReportKindEnum": "execution.metrics.schema.ReportKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "agency.rest.schema_add_error_responses",
    ],
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Metrics ingestion: the largest upload accepted (an export of a year of products fits easily).
INGEST_MAX_UPLOAD_MB = int(env_str("INGEST_MAX_UPLOAD_MB", "50"))
# Evidence and creatives of the execution workspace (scans, designs, short videos).
WORKSPACE_FILE_MAX_MB = int(env_str("WORKSPACE_FILE_MAX_MB", "25"))
# Order exports of step 5 (user tiers): the largest upload read, and the key buyer ids are hashed
# with (HMAC-SHA256). Production must set BUYER_ID_HASH_KEY and never change it: a new key makes
# every buyer a stranger to the orders imported before. Empty: derived from SECRET_KEY.
ORDER_IMPORT_MAX_MB = int(env_str("ORDER_IMPORT_MAX_MB", "100"))
BUYER_ID_HASH_KEY = env_str("BUYER_ID_HASH_KEY", "")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Group-robot webhooks (the daily brief) go to public hosts only: an address that is, or resolves
# to, a loopback, private, link-local or reserved IP is refused, so a webhook cannot be aimed at
# the portal's own network. Development and the tests (robots on 127.0.0.1) allow them.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
