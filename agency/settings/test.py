"""The test suite: real PostgreSQL (DATABASE_URL, started by `make services`), fast hashing,
e-mail kept in memory. Celery runs eagerly except in the tests that start a real worker."""

import os

from django.core.exceptions import ImproperlyConfigured

from agency.settings.base import *  # noqa: F403
from agency.settings.base import DATABASES

DEBUG = False
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "The tests run on PostgreSQL: run `make test`, or `make services` and export the "
        "DATABASE_URL and REDIS_URL it prints."
    )
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT", BASE_DIR / ".test-media"))  # noqa: F405
# Ordinary tests run tasks in-process; tests/test_celery_worker.py switches to the real broker.
CELERY_TASK_ALWAYS_EAGER = True
# tests/test_worker_failover.py starts workers, one of which must take back a dead worker's
# message within seconds, not after base.py's hour: it sets TEST_CELERY_VISIBILITY_TIMEOUT for
# them, and TEST_CELERY_UNACKED_KEY so that their "unacked" bookkeeping is their own: a short
# timeout never hands out another worker's message on a shared Redis, nor theirs to another.
if os.environ.get("TEST_CELERY_VISIBILITY_TIMEOUT"):
    _unacked_key = os.environ.get("TEST_CELERY_UNACKED_KEY", "unacked")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ["TEST_CELERY_VISIBILITY_TIMEOUT"]),
        "unacked_key": _unacked_key,
        "unacked_index_key": f"{_unacked_key}_index",
        "unacked_mutex_key": f"{_unacked_key}_mutex",
        "unacked_restore_interval": 1,  # look for expired messages every second
        "unacked_restore_throttle": 1,
    }
ALLOWED_HOSTS = ["*"]
# Tests read English unless they are about language (they set zh-hans themselves); the product's
# default stays zh-hans (base.py), and the factories give agencies English as their default.
LANGUAGE_CODE = "en"
# The API's per-token budget is exercised by its own test (which lowers it); elsewhere, and for
# schemathesis, it must not interfere.
API_THROTTLE_RATE = "100000/minute"
WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # the tests' robots listen on 127.0.0.1
# Test runs of several databases may share one Redis: keep their cache keys (a run's progress)
# apart. The workers the tests start connect to "test_<name>": the same prefix.
CACHES["default"]["KEY_PREFIX"] = DATABASES["default"]["NAME"].removeprefix("test_")  # noqa: F405
