"""Test settings: PostgreSQL and Redis, as in production, with fixed throwaway keys."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flxhub")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# A fixed Fernet key so a subprocess worker decrypts what the test process wrote.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YWqUoGfdbxvBkt9Lg-behAmx-zenc8RNPifLPzpchhw=")

from .base import *  # noqa: E402,F403
from .base import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False

# One test database per pytest process, so concurrent runs on one machine never drop each other's.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("FLXHUB_TEST_DB", f"test_flxhub_{os.getpid()}")}
