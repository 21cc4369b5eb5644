"""The one settings module, driven by environment variables.

Embedded default (no variables set): SQLite file, Celery tasks run eagerly in-process,
local-memory cache, DEBUG off. ``DATABASE_URL=postgres://…`` switches to PostgreSQL
(psycopg 3); ``REDIS_URL=redis://…`` switches the Celery broker, result backend and
cache to Redis. Every variable is listed in README.md and ``.env.example``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")  # real environment variables win

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-dev-only-key-set-DJANGO_SECRET_KEY-in-production",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "tourism.apps.TourismAdminConfig",  # django.contrib.admin with our AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "catalogue",
    "providers",
    "itineraries",
    "agencies",
    "web",
    "octo",
    "outbox",
]

MIDDLEWARE = [
    # PostgreSQL or Redis down: 503 with Retry-After, not 500 (tourism/unavailable.py).
    "tourism.unavailable.DependencyUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its page
]

ROOT_URLCONF = "tourism.urls"
WSGI_APPLICATION = "tourism.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",  # CSP_NONCE for inline <script>/<style>
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
# postgres://user:pass@host:port/name uses django.db.backends.postgresql, which picks
# psycopg 3 (psycopg[binary] is pinned; psycopg2 is not installed).
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when PostgreSQL is down (503 with Retry-After, not a hung request).
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DB_CONNECT_TIMEOUT", default=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery ---------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "tourism.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="tourism"),
            # Fail fast when Redis is down (the callers fall back or answer 503).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Per-process caches of hot rows (tourism/localcache.py) need a cache every process
# shares for their version tokens: on by default only with Redis.
LOCAL_CACHES = env.bool("LOCAL_CACHES", default=bool(REDIS_URL))

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Workers that come back: retry the broker forever (at start-up too), and cancel
# the acks_late tasks running when the connection drops (Celery 6's default): left
# running through an outage they can overrun their soft time limit, whose signal
# then lands while the pool sends a result and kills the worker (billiard:
# "Unrecoverable error: UnicodeDecodeError"). Every task is idempotent (claims) and
# the sweeps pick up what a cancelled one left; a message sent just before the
# cancel may go out again under the same idempotency key. Result writes are not
# retried (nobody waits on them; a task must not hang on a Redis that is down).
# tourism/celery_app.py also works around kombu's exit on a connection loss under
# load.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_BROKER_HEARTBEAT = 30  # AMQP only; Redis uses health checks (below)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = 10
# Publishing from a web request (booking emails, webhooks, plans) gives up on a
# broker that is down after one quick retry instead of holding the request for
# seconds; the callers then fall back (send now, or leave it to the sweep).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "socket_connect_timeout": 5,
    "health_check_interval": 10,
}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Syncs with other systems (calendar feeds, providers' OCTO systems) run on their own
# queue, consumed by their own worker (docker-compose.yml: sync-worker), so a slow
# or hostile feed never holds up plan solving, emails or webhooks on the default
# queue ("celery"). A worker started without -Q consumes only the default queue.
SYNC_TASK_QUEUE = "sync"
CELERY_TASK_ROUTES = {
    "providers.tasks.calendar_feed_sync_task": {"queue": SYNC_TASK_QUEUE},
    "providers.tasks.octo_connection_sync_task": {"queue": SYNC_TASK_QUEUE},
}

# The solver's own limit stays below the task's soft limit (the task can then report a
# clean "no solution in time" instead of being killed).
SOLVER_TIME_LIMIT_SECONDS = env.float("SOLVER_TIME_LIMIT_SECONDS", default=10.0)
SOLVER_NUM_WORKERS = env.int("SOLVER_NUM_WORKERS", default=2)
CELERY_TASK_SOFT_TIME_LIMIT = int(SOLVER_TIME_LIMIT_SECONDS) + 20
# Loading the world and storing the plan take a few seconds beyond the solve.
PLAN_TASK_SOFT_TIME_LIMIT = env.int(
    "PLAN_TASK_SOFT_TIME_LIMIT", default=int(SOLVER_TIME_LIMIT_SECONDS) + 20
)
if SOLVER_TIME_LIMIT_SECONDS >= PLAN_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "SOLVER_TIME_LIMIT_SECONDS must stay below PLAN_TASK_SOFT_TIME_LIMIT"
    )
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30

CELERY_BEAT_SCHEDULE = {
    "catalogue-audit-daily": {
        "task": "catalogue.tasks.catalogue_audit_run_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "booking-expire-holds": {
        "task": "providers.tasks.booking_expire_holds_task",
        "schedule": 60.0,
    },
    "trip-expire-holds": {  # whole-itinerary holds follow their parts
        "task": "itineraries.trip_expire_holds",
        "schedule": 60.0,
    },
    "ical-sync-due": {
        "task": "providers.tasks.calendar_feed_sync_due_task",
        "schedule": 60.0,
    },
    "octo-sync-due": {
        "task": "providers.tasks.octo_connection_sync_due_task",
        "schedule": 300.0,
    },
    "webhook-deliveries-due": {  # re-enqueues deliveries whose message was lost
        "task": "agencies.tasks.webhook_deliver_due_task",
        "schedule": env.float("WEBHOOK_SWEEP_SECONDS", default=60.0),
    },
    "outbox-sweep": {  # e-mails due: retries, and those whose task was lost
        "task": "outbox.tasks.outbox_sweep_task",
        "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=30.0),
    },
    "plans-stuck": {  # plans left queued or solving past their deadline
        "task": "itineraries.plans_sweep_stuck",
        "schedule": env.float("PLAN_SWEEP_SECONDS", default=60.0),
    },
}

# --- Outbox (outbox/): every e-mail sent on a state change -----------------------
# Attempts before a message is given up (then FAILED in the admin), the first
# retry delay (doubling, at most 1 h), how long one attempt may take before the
# sweep may try again, how long a due message is left to its own task before the
# sweep takes it, and how long a worker keeps trying to record a sent e-mail while
# the database is down (so it is not sent twice).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=30.0)
OUTBOX_LEASE_SECONDS = env.float("OUTBOX_LEASE_SECONDS", default=120.0)
OUTBOX_SWEEP_GRACE_SECONDS = env.float("OUTBOX_SWEEP_GRACE_SECONDS", default=10.0)
OUTBOX_MARK_RETRY_SECONDS = env.float("OUTBOX_MARK_RETRY_SECONDS", default=60.0)

# --- Plans never stuck (itineraries.services.plans_sweep_stuck) -------------------
# A plan still queued or solving this long after its last (re)queue is queued again,
# at most PLAN_MAX_REQUEUES times; then it fails with a reason.
PLAN_STUCK_AFTER_SECONDS = env.float(
    "PLAN_STUCK_AFTER_SECONDS", default=SOLVER_TIME_LIMIT_SECONDS + 60
)
PLAN_MAX_REQUEUES = env.int("PLAN_MAX_REQUEUES", default=2)

# --- Outbound HTTP (feeds, suppliers, webhooks) -------------------------------------
# CIDR ranges the SSRF guard lets through besides public addresses. Empty in
# production; the tests set 127.0.0.0/8 to reach their local servers.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])

# --- iCal availability sync (providers.sync) ----------------------------------------
# Feeds are synced every ICAL_SYNC_INTERVAL_MINUTES (a feed may set its own), with a
# total time limit and a size limit per fetch; failures back off up to 24 h.
ICAL_SYNC_INTERVAL_MINUTES = env.int("ICAL_SYNC_INTERVAL_MINUTES", default=15)
ICAL_FETCH_TIMEOUT_SECONDS = env.float("ICAL_FETCH_TIMEOUT_SECONDS", default=10.0)
ICAL_MAX_BYTES = env.int("ICAL_MAX_BYTES", default=2_000_000)
# What one feed may cost to read (providers.sync.ical, run in a helper process by
# providers.sync.sandbox): occurrences up to the end of the horizon, (date, event)
# blocks, CPU seconds (the helper is killed after 3× that + 10 s of wall-clock time)
# and memory on top of the worker's. Over any of them the feed fails with an error.
ICAL_MAX_INSTANCES = env.int("ICAL_MAX_INSTANCES", default=20_000)
ICAL_MAX_BLOCKS = env.int("ICAL_MAX_BLOCKS", default=50_000)
ICAL_PARSE_CPU_SECONDS = env.int("ICAL_PARSE_CPU_SECONDS", default=10)
ICAL_PARSE_MEMORY_MB = env.int("ICAL_PARSE_MEMORY_MB", default=256)
# Celery time limits of one feed's sync task (fetch + parse + write), carried in
# each message by the process that enqueues it. The soft limit (0: none) records
# the failure on the feed; a sync killed by the hard limit is recorded by the
# dispatcher's sweep once it has been "syncing" for longer than the hard limit.
ICAL_SYNC_TIME_LIMIT = env.int("ICAL_SYNC_TIME_LIMIT", default=90)
ICAL_SYNC_SOFT_TIME_LIMIT = env.int(
    "ICAL_SYNC_SOFT_TIME_LIMIT", default=max(1, ICAL_SYNC_TIME_LIMIT - 30)
)
if ICAL_SYNC_SOFT_TIME_LIMIT > ICAL_SYNC_TIME_LIMIT:
    raise ImproperlyConfigured(
        "ICAL_SYNC_SOFT_TIME_LIMIT must not exceed ICAL_SYNC_TIME_LIMIT"
    )

# --- Internationalisation and time ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # stored in UTC; shown in each place's IANA zone

# --- Static files --------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "media/"
# Listing photos are public. Django serves them itself unless a front server or bucket
# does (set DJANGO_SERVE_MEDIA=false then).
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)

# --- Security (secure unless DEBUG; each overridable, e.g. behind a TLS proxy) -------
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
# The container health check calls http://127.0.0.1:8000/healthz inside the box.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logins: lockout, admin path, staff 2FA (tourism/logins.py, admin_site.py) -----
# django-axes counts failed logins (provider portal, admin) per account and per client
# IP: LOGIN_FAILURE_LIMIT failures within LOGIN_COOLOFF_MINUTES lock that account, and
# that IP, until the cool-off has passed since the last failure (failures while locked
# restart it). The client IP is the rate limits' (REMOTE_ADDR, or through
# TRUSTED_PROXY_COUNT proxies; an IPv6 client by its /64): tourism.logins.client_ip.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out logins first
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each one on its own
AXES_RESET_ON_SUCCESS = False  # a success elsewhere must not clear an IP's failures
AXES_CLIENT_IP_CALLABLE = "tourism.logins.client_ip"
AXES_USERNAME_CALLABLE = "tourism.logins.login_username"
AXES_LOCKOUT_CALLABLE = "tourism.logins.lockout_response"
# Logged failures show the client IP (to block it further out), not what was typed.
AXES_SENSITIVE_PARAMETERS = ["username", "otp_token"]
AXES_VERBOSE = False  # no banner at every start; lockouts are still logged
# The admin's address: the repository is public, so any default is known; set your
# own per deployment (``check --deploy`` warns while it is ``admin/``).
ADMIN_PATH = env.str("DJANGO_ADMIN_PATH", default="admin/").strip("/") + "/"
if ADMIN_PATH == "/":
    raise ImproperlyConfigured("DJANGO_ADMIN_PATH cannot be empty")
# Staff two-factor (django-otp TOTP): staff with an authenticator enrolled
# (``manage.py staff_totp``) always give its code at the admin login; with
# STAFF_2FA_REQUIRED every staff account must.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = "Titicaca route"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # secrets are shown once, by staff_totp

# Content-Security-Policy on every response (django-csp): scripts and styles from our
# own origin or inline with the request's nonce (``nonce="{{ CSP_NONCE }}"``), no
# inline event handlers or style attributes; Leaflet and the OpenStreetMap tiles are
# allowed by their exact addresses for the home page's map on request.
LEAFLET = "https://unpkg.com/leaflet@1.9.4/dist/"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, LEAFLET + "leaflet.js"],
        "style-src": [SELF, NONCE, LEAFLET + "leaflet.css"],
        "img-src": [
            SELF,
            "data:",
            LEAFLET + "images/",
            "https://tile.openstreetmap.org",
        ],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# --- Email ---------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
# For DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend.
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # seconds per SMTP operation
if OUTBOX_LEASE_SECONDS <= OUTBOX_MARK_RETRY_SECONDS + EMAIL_TIMEOUT:
    # A worker still recording a sent e-mail must keep its claim meanwhile, or the
    # sweep would send it again.
    raise ImproperlyConfigured(
        "OUTBOX_LEASE_SECONDS must exceed OUTBOX_MARK_RETRY_SECONDS + EMAIL_TIMEOUT"
    )
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[Titicaca route] "
ADMINS = [("Staff", address) for address in env.list("DJANGO_ADMINS", default=[])]

# --- Agencies: API keys, OCTO holds, webhooks ----------------------------------------
# Requests per key when the key has no limit of its own (DRF rate: "600/min").
API_KEY_RATE_LIMIT = env.str("API_KEY_RATE_LIMIT", default="600/min")
# Holds: OCTO ``expirationMinutes`` and whole-itinerary holds, default and cap. An
# agency's contract may set a lower cap (Agency.hold_max_minutes, in the admin).
HOLD_DEFAULT_MINUTES = env.int("HOLD_DEFAULT_MINUTES", default=30)
HOLD_MAX_MINUTES = env.int("HOLD_MAX_MINUTES", default=24 * 60)
# Holds without an agency API key (website visitors, keyless API calls) last at most
# this long, one at a time per visitor.
VISITOR_HOLD_MAX_MINUTES = env.int("VISITOR_HOLD_MAX_MINUTES", default=20)
# A trip's manage token (the emailed link, X-Manage-Token) stops working this many
# days after the trip's last day; opening the link gives the browser access to the
# trip for MANAGE_SESSION_MINUTES.
MANAGE_TOKEN_DAYS_AFTER_TRIP = env.int("MANAGE_TOKEN_DAYS_AFTER_TRIP", default=14)
MANAGE_SESSION_MINUTES = env.int("MANAGE_SESSION_MINUTES", default=60)

# --- Rate limits (tourism/ratelimit.py) ---------------------------------------------
# Proxies of our own in front of the app: the client's address is read from
# X-Forwarded-For through exactly this many of them (0: REMOTE_ADDR only).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Per client (agency, signed-in user, else IP): plans made (plan API, re-plans, the
# website's plan form and fixes) and holds made (visitors only: an agency's holds are
# bounded by its key's rate and its contract). "0/min" turns a limit off.
PLAN_RATE_LIMIT = env.str("PLAN_RATE_LIMIT", default="10/min")
HOLD_RATE_LIMIT = env.str("HOLD_RATE_LIMIT", default="10/hour")
# Solver runs queued per minute, all clients together (0: no limit).
SOLVER_RUNS_PER_MINUTE = env.int("SOLVER_RUNS_PER_MINUTE", default=60)
# Webhook deliveries: attempts before an event is given up, consecutive failed events
# before an endpoint is disabled, the first retry delay (doubling each time) and the
# request timeout.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=5)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# The sweep re-sends a pending delivery this long after it was due (its message lost).
WEBHOOK_SWEEP_GRACE_SECONDS = env.float("WEBHOOK_SWEEP_GRACE_SECONDS", default=120.0)

# --- API -----------------------------------------------------------------------------
# JSON bodies of both APIs (tourism/parsers.py): larger → 413, nested deeper → 400.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_000_000)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tourism.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tourism.parsers.LimitedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Titicaca route API",
    "DESCRIPTION": (
        "Route catalogue (places, border crossings, timetabled departures) of the "
        "Cusco – Puno – Copacabana – La Paz route, plans and webhooks. Agencies "
        "book through the OCTO API: its document with this supplier's specifics "
        "is at [/api/octo/openapi.json](/api/octo/openapi.json), browsable at "
        "[/api/octo/docs/](/api/octo/docs/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # self-hosted: the docs work without a CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge image from validator.swagger.io (it would send our schema's address
    # to a third party, and the CSP refuses it).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # django-axes logs every failed login at INFO; its warnings (lockouts) stay.
    "loggers": {"axes": {"level": "WARNING"}},
}
