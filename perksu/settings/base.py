"""Settings shared by every environment; values come from the environment.

Every variable read here is documented in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tenants",
    "points",
    "wallets",
    "recognition",
    "people",
    "django_tasks",
    "django_tasks_db",
    "events",
    "insights",
    "webhooks",
    "identity",
    "automation",
    "perksu.apps.PerksuConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise so static files get the headers too (perksu/security.py).
    "perksu.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's session, authentication and message middleware, passing API requests that carry a
    # Bearer/Token header straight through: those are authenticated by the token only (perksu/middleware.py).
    "perksu.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "perksu.middleware.AuthenticationMiddleware",
    # A member who just wrote reads from the primary (perksu/replica.py).
    "perksu.replica.ReplicaPinMiddleware",
    # Oversized bodies and NUL characters are refused here, before any view (perksu/edge.py).
    "perksu.edge.EdgeMiddleware",
    # Numbers and times in the member's tenant locale and time zone (SPEC §9).
    "perksu.formatting.TenantFormattingMiddleware",
    "perksu.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "perksu.urls"
WSGI_APPLICATION = "perksu.wsgi.application"

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
                "events.context_processors.notifications",
            ],
        },
    },
]

# SQLite is the zero-setup default; IMMEDIATE transactions take the write lock
# at BEGIN, so two writers queue instead of failing with "database is locked"
# when a read lock would otherwise be upgraded mid-transaction.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"transaction_mode": "IMMEDIATE", "timeout": 20})
else:
    # Django's PostgreSQL backend writing (tenant_id, id) keys (perksu/backends/postgresql/schema.py).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "perksu.backends.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Statements run through perksu.db.prepared_cursor (the award's) are prepared on
    # their first run on a connection, and PostgreSQL keeps one generic plan for
    # them instead of planning each run: about 30 % of its CPU per award
    # (docs/PERFORMANCE.md). Every other query binds on the client, unprepared, as
    # Django's default, so only those statements are affected. Behind a pooler that
    # cannot carry prepared statements (PgBouncer in transaction mode before 1.21),
    # set DATABASE_PREPARED_STATEMENTS=False.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        _options.setdefault("prepare_threshold", 0)
        _options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
# Services own their transactions (STYLE.md): no ATOMIC_REQUESTS.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Optional streaming replica for the reads that tolerate a second of lag (perksu/replica.py):
# absent, everything reads from the primary. Never migrated; in tests a mirror of default.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["perksu.replica.ReplicaRouter"]
# After a write, a member's reads stay on the primary this long (their own writes are always visible).
REPLICA_PIN_SECONDS = env.float("REPLICA_PIN_SECONDS", default=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenants.User"
# ModelBackend plus the wrong-password lockout (perksu/throttling.py).
AUTHENTICATION_BACKENDS = ["perksu.throttling.ThrottledModelBackend"]
# The login e-mail is unique across tenants through `user_emails` (tenants.models.UserEmail), and
# within a tenant by a unique constraint on `users`, not by a unique column: `users` is distributed by
# tenant on Citus. The backend finds the user through `UserManager.get_by_natural_key`, which reads
# `user_emails`, so the e-mail is unique where the login looks: auth.W004 says what is true here.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

# Throttle counters live here. LocMemCache is per process: behind several
# workers or hosts, point CACHE_URL at a shared cache (redis://…) so the limits
# hold across them.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://perksu")}
# API tokens are refused this long after they were issued; the token endpoint then issues a new one.
API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=7 * 24))
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=300)
MONEY_POST_RATE = env.str("MONEY_POST_RATE", default="1200/min")
# Behind a reverse proxy: the META key of the header carrying the client address
# (e.g. HTTP_X_FORWARDED_FOR); empty = REMOTE_ADDR.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Jobs (events/jobs.py): django-tasks with its database backend, so enqueueing is part of the
# caller's transaction and `manage.py worker` processes run them (README, "Jobs and e-mail").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A job still running after this long is taken to have lost its worker and runs again.
JOB_TIMEOUT_SECONDS = env.int("JOB_TIMEOUT_SECONDS", default=900)
# False records no events (and so sends nothing): the benchmark's baseline only.
EVENTS_ENABLED = env.bool("EVENTS_ENABLED", default=True)
# How PostgreSQL runs a plain award (recognition/statements.py): "function", one call of the PL/pgSQL
# function perksu_award (routable by tenant on Citus); "statement", the one-statement award it replaced,
# kept as the bench's baseline (docs/PERFORMANCE.md). Both do the same.
AWARD_SQL = env.str("AWARD_SQL", default="function")
if AWARD_SQL not in ("function", "statement"):
    raise ImproperlyConfigured(f"AWARD_SQL must be 'function' or 'statement', not {AWARD_SQL!r}.")

# E-mail: printed on the console unless EMAIL_URL names an SMTP server
# (smtp+tls://user:password@smtp.example.com:587).
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Perksu <no-reply@perksu.example>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# The address people reach the site at: the links in e-mails start with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

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
# Uploaded files (profile photos) go through Django's storage API: local files under
# MEDIA_ROOT by default; docs/PEOPLE.md shows S3-compatible storage with django-storages.
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Password-reset and invitation links are valid 72 hours (SPEC §11).
PASSWORD_RESET_TIMEOUT = 72 * 3600

# Serve static files from the app directories too, so `runserver` with DEBUG
# off works without a collectstatic step.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "perksu.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "perksu.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    # JSON nested too deeply or carrying NUL is a 400 parse_error (perksu/edge.py).
    "DEFAULT_PARSER_CLASSES": [
        "perksu.edge.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "perksu.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # DRF's negotiation, without parsing an absent, `*/*` or `application/json` Accept header.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "perksu.api.negotiation.ContentNegotiation",
    # Counts only views marked `throttle_scope = "money"`, at MONEY_POST_RATE per user.
    "DEFAULT_THROTTLE_CLASSES": ["perksu.throttling.MoneyScopeThrottle"],
    "DEFAULT_METADATA_CLASS": "perksu.api.metadata.Metadata",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Perksu API",
    "DESCRIPTION": "The points backbone: allocations, delegations, awards, wallets and rewards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers of every operation, documented once (checked by schemathesis in CI).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "perksu.api.schema.document_error_responses",
    ],
}

# Webhooks (SPEC §12, webhooks/delivery.py). Private, loopback and link-local addresses are refused
# unless WEBHOOK_ALLOW_PRIVATE (development and tests only).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_CONCURRENCY = env.int("WEBHOOK_CONCURRENCY", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_WINDOW_SECONDS = env.int("WEBHOOK_RETRY_WINDOW_SECONDS", default=24 * 3600)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=50)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
