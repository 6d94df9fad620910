"""Settings from the environment.

Two modes (DESIGN §4):
- embedded default (no DATABASE_URL / REDIS_URL): SQLite file, Celery over kombu's filesystem
  transport, results and cache in the database; keys generated once into ``FLXHUB_DATA_DIR``.
- production: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (broker, cache, throttles).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from .keys import new_django_secret, new_fernet_key, persisted_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env.str("FLXHUB_DATA_DIR", default=str(BASE_DIR / "var")))
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not env.str("DATABASE_URL", default="") and not REDIS_URL

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _secret(name: str, filename: str, generate) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if not EMBEDDED:
        raise ImproperlyConfigured(f"{name} must be set when DATABASE_URL or REDIS_URL is set (production mode).")
    return persisted_secret(DATA_DIR / filename, generate)


SECRET_KEY = _secret("SECRET_KEY", "secret_key", new_django_secret)
# One or more Fernet keys, comma-separated; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in _secret("FIELD_ENCRYPTION_KEYS", "field_encryption_key", new_fernet_key).split(",") if k.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "flxhub",
    "sources",
    "inventory",
    "orders",
]

# Session, CSRF, auth and messages are Django's own, passed over on /api/v1/ (token requests; flxhub/api/middleware.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "flxhub.api.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "flxhub.api.middleware.CsrfViewMiddleware",
    "flxhub.api.middleware.AuthenticationMiddleware",
    "flxhub.api.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "flxhub.urls"
WSGI_APPLICATION = "flxhub.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'flxhub.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The API's hottest statement (the FR poll page) is prepared once per connection on PostgreSQL. Set
# DB_PREPARE_HOT_QUERIES=false behind a transaction-pooling proxy without prepared-statement support
# (PgBouncer before 1.21); Django itself never prepares.
DB_PREPARE_HOT_QUERIES = env.bool("DB_PREPARE_HOT_QUERIES", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web, worker and beat processes read while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "flxhub_cache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
LOGIN_URL = "admin:login"

# Uploads: feeds can be large, but never unbounded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FLXHUB_MAX_FEED_BYTES = env.int("FLXHUB_MAX_FEED_BYTES", default=1024 * 1024 * 1024)

# Celery
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
else:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["flxhub.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["flxhub.api.permissions.HasTokenKind"],
    "DEFAULT_THROTTLE_CLASSES": ["flxhub.api.throttles.TokenRateThrottle"],
    # Per token; a token's own rate_limit_per_minute overrides it. 600/min lets a source poll every
    # endpoint once a minute with a hundred-fold margin.
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_RATE_LIMIT", default="600/min")},
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "flxhub.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "flxhub API",
    "DESCRIPTION": "Supplier and channel API of flxhub.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "FulfillmentRequestStatusEnum": "orders.models.FulfillmentRequest.Status",
        "ShippingStatusEnum": "orders.models.FulfillmentRequest.ShippingStatus",
        "InvoiceStatusEnum": "orders.models.FulfillmentRequest.InvoiceStatus",
        "InvoiceMatchStatusEnum": "orders.models.SourceInvoice.MatchStatus",
        "OrderStatusEnum": "orders.models.Order.Status",
        "OrderImportStatusEnum": "orders.api.orders.IMPORT_STATUSES",
        "VariantStatusEnum": "inventory.models.InventoryVariant.Status",
        "VariantPushStatusEnum": "inventory.api.views.PUSH_STATUSES",
        "VariantPushModeEnum": "inventory.services.push.MODES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
