"""FlexPool settings: one module, read from the environment (see README "Settings").

Development defaults just work (SQLite and a filesystem broker under ./var); production
sets DEBUG=false and must then provide SECRET_KEY and ALLOWED_HOSTS, or start-up fails.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from flexpool.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FLEXPOOL_VAR_DIR", str(BASE_DIR / "var")))

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY in ("", DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        "DEBUG is false but SECRET_KEY is unset or the development default: "
        "set SECRET_KEY (or SECRET_KEY_FILE) to a long random value."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DEBUG is false: set ALLOWED_HOSTS to the site's host names.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "accounts.admin_apps.SecondFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "accounts",
    "pools",
    "providers",
    "workers",
    "shifts",
    "notifications",
    "geo",
    "reports",
    "outbox",
    "lab",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "flexpool.outages.UnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "flexpool.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "flexpool.urls"
WSGI_APPLICATION = "flexpool.wsgi.application"

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
                "accounts.context_processors.navigation",
                "notifications.context_processors.worker_messages",
            ],
            # {% url %} keeping the URLs it reverses without arguments (flexpool/template_urls.py).
            "builtins": ["flexpool.template_urls"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'flexpool.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
# A database that does not answer fails a request in seconds (a 503), not at gunicorn's timeout.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the embedded database: wait for locks
    # rather than failing, and write through a WAL so readers do not block writers.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# What Celery workers add to the database's OPTIONS (flexpool/celery.py): psycopg binds
# parameters server-side and prepares a statement once it has run this many times on a
# connection, so PostgreSQL parses a matching wave's ~20 statements once per worker
# connection rather than once per wave, and plans most of them once too (a generic plan,
# where PostgreSQL finds it no worse than the custom plans of the first five runs). CPU a
# first wave in the surge: PostgreSQL about -4 ms of ~30 (docs/benchmarks.md, "## Surge").
# Workers only: the web's queries were not measured with it. A ROLLBACK makes psycopg
# forget every prepared statement of its connection (rare here: a failing handler). Django leaves both off by default for connection poolers in
# transaction mode (PgBouncer), which this deployment does not use; 0 turns it off.
WORKER_DATABASE_OPTIONS: dict[str, object] = {}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _prepare_threshold = env_int("WORKER_PREPARE_THRESHOLD", 5)
    if _prepare_threshold > 0:
        WORKER_DATABASE_OPTIONS = {
            "server_side_binding": True,
            "prepare_threshold": _prepare_threshold,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Falls back to a per-process cache while Redis is unreachable (flexpool/cache.py).
            "BACKEND": "flexpool.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "flexpool",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # A task reserved by a worker that was killed goes back to the queue after this
        # long. The outbox relay recovers lost work sooner (OUTBOX_REPUBLISH_AFTER_SECONDS);
        # this only has to outlast the longest task (CELERY_TASK_TIME_LIMIT, 90 s), or a
        # slow task would be delivered twice while still running.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
        # Publishing (web requests, beat) tries the broker once, quickly: with Redis down the
        # outbox keeps the work and the request must not wait out kombu's default retries.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
        "socket_connect_timeout": 2,
    }
else:
    # The embedded default: a broker that is a folder, so `make run` needs no server.
    _broker_dir = VAR_DIR / "broker"
    # kombu's filesystem transport expects its folders to exist.
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Poll the folder often: at the default 1 s a backlog of messages drains slowly.
        "polling_interval": 0.1,
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker logs through LOGGING below (JSON with ids when LOG_FORMAT=json), not its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# On SIGTERM a worker finishes its task for up to 10 s, then hands reserved messages back to
# Redis at once instead of leaving them to the visibility timeout (docs/reliability.md).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # The outbox relay republishes after-commit work whose publish failed or whose task was
    # lost; with OUTBOX_REPUBLISH_AFTER_SECONDS it bounds recovery (see docs/reliability.md).
    "outbox-relay": {
        "task": "outbox.tasks.outbox_relay",
        "schedule": timedelta(seconds=env_int("OUTBOX_RELAY_EVERY_SECONDS", 10)),
    },
    "outbox-purge": {"task": "outbox.tasks.outbox_purge", "schedule": crontab(hour=3, minute=30)},
    "matching-sweep": {
        "task": "shifts.tasks.matching_sweep",
        "schedule": timedelta(seconds=env_int("MATCHING_SWEEP_EVERY_SECONDS", 30)),
    },
    "offers-expire": {"task": "shifts.tasks.offers_expire", "schedule": timedelta(minutes=1)},
    "shifts-escalate": {"task": "shifts.tasks.shifts_escalate", "schedule": timedelta(minutes=1)},
    "shifts-close-past": {
        "task": "shifts.tasks.shifts_close_past",
        "schedule": timedelta(minutes=5),
    },
    "bookings-send-reminders": {
        "task": "workers.tasks.bookings_send_reminders",
        "schedule": timedelta(minutes=5),
    },
    "notifications-deliver-due": {
        "task": "notifications.tasks.notifications_deliver_due",
        "schedule": timedelta(seconds=env_int("NOTIFICATIONS_RETRY_EVERY_SECONDS", 30)),
    },
    "documents-expiry-reminders": {
        "task": "pools.tasks.documents_send_expiry_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    "workers-erase-after-retention": {
        "task": "pools.tasks.workers_erase_after_retention",
        "schedule": crontab(hour=2, minute=40),
    },
    "dashboard-rollups": {
        "task": "reports.tasks.rollups_refresh_recent",
        "schedule": timedelta(minutes=5),
    },
    "workforce-return-reminders": {
        "task": "reports.tasks.returns_send_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "timesheets-auto-approve": {
        "task": "providers.tasks.timesheets_auto_approve",
        "schedule": crontab(minute=20),
    },
}

# --- Auth ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked account is refused whatever the password (form and API alike).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions live in PostgreSQL and are read through the cache, each cached copy for at most
# SESSION_CACHE_SECONDS (flexpool/sessions.py: what that bounds during a Redis outage).
SESSION_ENGINE = "flexpool.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 60)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "FlexPool: "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# The client's address for lock-outs and rate limits: how many proxies we run in front of
# the app, each appending to X-Forwarded-For (0: use REMOTE_ADDR; see accounts/client_ip.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# django-axes: failed sign-ins lock the account (by e-mail) for the form and the API alike.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.axes_lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
MFA_TOTP_ISSUER = "FlexPool"

# --- E-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FlexPool <no-reply@flexpool.test>")

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its scheme is the WWW-Authenticate header of a 401. DRF's, loading
        # the user's role records in the same query (accounts/authentication.py).
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every endpoint says whom it is for with accounts.access.allow; one that does not is refused.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.access.AccessPermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON bodies nest at most flexpool.input.MAX_JSON_DEPTH deep (else 400, not a crash).
    "DEFAULT_PARSER_CLASSES": [
        "flexpool.input.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_TOKEN_THROTTLE_RATE", "10/min")},
    # Lists come in pages of 50 (?limit= up to 200, ?offset=): flexpool/pagination.py.
    "DEFAULT_PAGINATION_CLASS": "flexpool.pagination.Pagination",
    # DRF's own throttles key on the client address the same way (accounts/client_ip.py).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FlexPool API",
    "DESCRIPTION": "Shift requests, offers and bookings for a council-run care-worker pool.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.schema.declare_error_responses",
    ],
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded compliance documents live outside the web root and are served only by views
    # that check who is asking.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("MEDIA_ROOT", str(VAR_DIR / "private-media"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "flexpool.storage.StaticStorage"  # WhiteNoise's, URLs kept (flexpool/storage.py)
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security headers (every environment: nothing exists only in production) --------------
# No inline script or style anywhere: scripts and styles are files under static/; the one
# inline <style> (the committee report's print sheet) carries the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Browser features no page uses (web push needs none of these).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "flexpool.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if env_str("LOG_FORMAT", "text") == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Observability (README "Watching it") ---------------------------------------------------
# /metrics answers only a request with "Authorization: Bearer <METRICS_TOKEN>"; unset, 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Logs as one JSON object a line (with shift, offer and notification ids) when "json".
LOG_FORMAT = env_str("LOG_FORMAT", "text")
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
        send_default_pii=False,  # workers' contact details never leave the council
    )

# --- FlexPool -----------------------------------------------------------------------------
# The outbox (outbox/services.py): a row not done is republished this long after it was
# last handed to Celery; a failing handler backs off up to the maximum.
OUTBOX_REPUBLISH_AFTER_SECONDS = env_int("OUTBOX_REPUBLISH_AFTER_SECONDS", 20)
OUTBOX_MAX_BACKOFF_SECONDS = env_int("OUTBOX_MAX_BACKOFF_SECONDS", 600)
# Delivery per message and channel (notifications/services.py): a failed channel is tried
# again after 30 s, 60 s, 120 s, 240 s, then given up (shown to coordinators). A sender
# holds a delivery for the lease; one killed mid-send is retried when it runs out.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)
NOTIFICATION_RETRY_BASE_SECONDS = env_int("NOTIFICATION_RETRY_BASE_SECONDS", 30)
NOTIFICATION_SEND_LEASE_SECONDS = env_int("NOTIFICATION_SEND_LEASE_SECONDS", 60)
# How long recording a sent message is tried again after losing the database (a restart,
# a failover): well inside the lease, or the message would be claimed and sent again.
NOTIFICATION_OUTCOME_RETRY_SECONDS = env_int("NOTIFICATION_OUTCOME_RETRY_SECONDS", 30)
# A delivery batch works this long at most, then queues the rest behind matching again.
NOTIFICATION_BATCH_BUDGET_SECONDS = env_int("NOTIFICATION_BATCH_BUDGET_SECONDS", 5)
NOTIFICATION_BACKENDS = env_list("NOTIFICATION_BACKENDS", ["notifications.backends.ConsoleBackend"])
# GOV.UK Notify (the official notifications-python-client): texts when an API key is set,
# e-mail through Notify too when an e-mail template is named (never in tests or development).
NOTIFY_API_KEY = env_str("NOTIFY_API_KEY", "")
NOTIFY_SMS_TEMPLATE_ID = env_str("NOTIFY_SMS_TEMPLATE_ID", "")
NOTIFY_EMAIL_TEMPLATE_ID = env_str("NOTIFY_EMAIL_TEMPLATE_ID", "")
NOTIFY_BASE_URL = env_str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# The bearer token Notify sends with its inbound-SMS callbacks (reply to accept); the
# callback answers 404 while it is unset.
NOTIFY_INBOUND_SMS_TOKEN = env_str("NOTIFY_INBOUND_SMS_TOKEN", "")
if NOTIFY_API_KEY:
    NOTIFICATION_BACKENDS = [*NOTIFICATION_BACKENDS, "notifications.backends.NotifySmsBackend"]
    if NOTIFY_EMAIL_TEMPLATE_ID:
        NOTIFICATION_BACKENDS = [
            *NOTIFICATION_BACKENDS,
            "notifications.backends.NotifyEmailBackend",
        ]
# Web push to workers' phones: on only when a VAPID private key is set (make one with
# `manage.py vapid_keys`). The subject is a contact address the push services may use.
WEBPUSH_VAPID_PUBLIC_KEY = env_str("WEBPUSH_VAPID_PUBLIC_KEY", "")
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "mailto:pool@flexpool.test")
if WEBPUSH_VAPID_PRIVATE_KEY:
    NOTIFICATION_BACKENDS = [*NOTIFICATION_BACKENDS, "notifications.backends.WebPushBackend"]
