# long-module: one settings module for every environment (12-factor), read top to bottom as the deployment's reference
"""One settings module for every environment, configured from the environment (12-factor).

With nothing set it runs the embedded default: SQLite, local-memory cache, eager tasks.
``SHOP_ENV=production`` turns on every ``check --deploy`` setting.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from shop.registry.contexts import CONTEXTS

django_stubs_ext.monkeypatch()  # lets admin/serializer classes be subscripted for mypy

BASE_DIR = Path(__file__).resolve().parent.parent


class _SecretFiles(environ.FileAwareMapping):
    """``<NAME>_FILE`` names a file holding NAME's value (Docker and Kubernetes secrets mounted as files), so a
    secret need not sit in the environment; the file's trailing newline is not part of the value."""

    def __getitem__(self, key: str) -> str:
        path = self.env.get(f"{key}_FILE")
        if not path:
            return str(self.env[key])
        if key in self.env:
            raise ImproperlyConfigured(f"set {key} or {key}_FILE, not both")
        try:
            value = str(super().__getitem__(key))
        except OSError as exc:
            raise ImproperlyConfigured(f"{key}_FILE: cannot read {path}: {exc.strerror}") from exc
        return value.removesuffix("\n").removesuffix("\r")


env = environ.Env()
env.ENVIRON = _SecretFiles()

SHOP_ENV: str = env.str("SHOP_ENV", default="development")
PRODUCTION = SHOP_ENV == "production"
TESTING = SHOP_ENV == "test" or "pytest" in sys.modules

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"


# HMAC keys (the JWT's HS256, internal-call signatures) of at least the hash's 256 bits (RFC 7518 §3.2).
MIN_HMAC_SECRET_BYTES = 32


def _secret(name: str, dev_default: str, *, min_bytes: int = 0) -> str:
    """Production refuses to start without the secret (an empty JWT key would only fail at the first
    login), or with one shorter than ``min_bytes``; elsewhere a dev-only value keeps the embedded
    default zero-config."""
    value: str = env.str(name, default="" if PRODUCTION else dev_default)
    if PRODUCTION and not value:
        raise ImproperlyConfigured(f"{name} must be set when SHOP_ENV=production")
    if PRODUCTION and len(value.encode()) < min_bytes:
        raise ImproperlyConfigured(f"{name} must be at least {min_bytes} bytes long when SHOP_ENV=production")
    return value


SECRET_KEY: str = _secret("SECRET_KEY", _DEV_SECRET)
# Old keys still accepted for what they signed (sessions, reset links, signed links) while a new SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG: bool = env.bool("DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # search and trigram lookups; inert on SQLite
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",  # admin CSV import/export of the catalog
    "shop.registry",
    "shop.web",  # the pages' shared base template and stylesheet
    *[f"shop.{context}" for context in CONTEXTS],
]

MIDDLEWARE = [
    "shop.web.middleware.RequestIDMiddleware",
    "shop.web.middleware.InClusterMiddleware",
    "shop.web.middleware.MachinePathProblemMiddleware",  # /api/ answers problem+json, even Django's own 404/500
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shop.web.middleware.SlashlessApiMiddleware",  # CommonMiddleware without the slash redirect under /api/
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shop.web.middleware.AccessLogMiddleware",
    "shop.web.middleware.UndocumentedQueryParameterMiddleware",
    "shop.web.middleware.DatabaseUnavailableMiddleware",  # innermost: a view's lost database is a 503
]

# Paths called from inside the cluster (probes with the pod's IP as Host, internal calls by Service name),
# never through the TLS proxy: no ALLOWED_HOSTS check and no HTTPS redirect there (shop.web.middleware).
SHOP_IN_CLUSTER_PATHS: list[str] = [r"^healthz$", r"^readyz$", r"^internal/"]

ROOT_URLCONF = "shop.urls"
CSRF_FAILURE_VIEW = "shop.web.pages.csrf_failure"  # the pages' own 403, not Django's technical one
WSGI_APPLICATION = "shop.wsgi.application"
AUTH_USER_MODEL = "users.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Databases: one default, optionally one per context (SHOP_DB_<CTX>) ----------------------
_CONN = {"CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=600), "CONN_HEALTH_CHECKS": True}


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = env.db_url_config(url)
    if config["ENGINE"].endswith("sqlite3"):
        # The embedded default writes from request threads and the embedded scheduler's thread at once:
        # BEGIN IMMEDIATE takes the write lock up front (a deferred transaction upgrading to a writer fails
        # at once with "database is locked", whatever the timeout); WAL lets readers run beside the writer.
        config.setdefault("OPTIONS", {}).update(
            timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
        )
        return config
    config.update(_CONN)
    config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config


DATABASES: dict[str, dict[str, Any]] = {
    "default": _database(env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
for _context in CONTEXTS:
    _url = env.str(f"SHOP_DB_{_context.upper()}", default="")
    if _url:
        DATABASES[_context] = _database(_url)
DATABASE_ROUTERS = ["shop.registry.router.ContextRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when given (errors ignored: an outage falls back to the database) ------------
REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shop"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Celery: a real broker when given, else eager (and the startup log says so) -------------
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default="")
# Publish through another address than the one workers consume from (a local proxy, a publish-only node);
# unset: the same. Workers consume on CELERY_BROKER_URL whatever this says.
CELERY_BROKER_WRITE_URL: str | None = env.str("CELERY_BROKER_WRITE_URL", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
# Workers log through settings.LOGGING (JSON lines, secrets redacted), not through a handler of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# RabbitMQ: confirm_publish makes a publish return only once the broker has the message, so the outbox never
# marks sent what a dead or partitioned connection swallowed; read/write timeouts (SO_RCVTIMEO/SO_SNDTIMEO) bound
# every wait on an unresponsive broker, which otherwise blocks forever (e.g. closing a stalled channel).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 2,
    "confirm_publish": True,
    "read_timeout": 1.0,
    "write_timeout": 1.0,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
SHOP_OUTBOX_SWEEP_SECONDS: float = env.float("SHOP_OUTBOX_SWEEP_SECONDS", default=10.0)
SHOP_EVENT_MAX_RETRIES: int = env.int("SHOP_EVENT_MAX_RETRIES", default=5)
SHOP_EVENT_RETRY_BACKOFF_MAX: int = env.int("SHOP_EVENT_RETRY_BACKOFF_MAX", default=300)
SHOP_EVENT_RETRY_BACKOFF_BASE: float = env.float("SHOP_EVENT_RETRY_BACKOFF_BASE", default=1.0)  # s; tests shrink it
SHOP_EVENT_QUEUE_PREFIX: str = env.str("SHOP_EVENT_QUEUE_PREFIX", default="")  # share a vhost between deployments
# Durable tasks (deliveries, emails, webhooks; shop.registry.bus.retries): a failed attempt is recorded in the task's
# database and run again by the retry sweep; a message whose failure cannot be recorded goes back to the broker
# after this wait (bounded, so a database outage does not spin the worker).
SHOP_RETRY_SWEEP_SECONDS: float = env.float("SHOP_RETRY_SWEEP_SECONDS", default=5.0)
SHOP_TASK_REQUEUE_DELAY_S: float = env.float("SHOP_TASK_REQUEUE_DELAY_S", default=2.0)
# A context's own tasks (sends, sweeps, expiries) run on its queue, so the worker of a split-out
# context, the one with its database, is the one that runs them. Registry tasks choose their queue.
CELERY_TASK_ROUTES = ("shop.registry.bus.route_task",)

# --- Context bindings (ARCHITECTURE §3) -------------------------------------------------------
SHOP_INTERNAL_SECRET: str = _secret(
    "SHOP_INTERNAL_SECRET", "dev-only-internal-secret-0123456789abcdef", min_bytes=MIN_HMAC_SECRET_BYTES
)
# Accepted too while a new SHOP_INTERNAL_SECRET rolls out across processes.
SHOP_INTERNAL_SECRET_PREVIOUS: str = env.str("SHOP_INTERNAL_SECRET_PREVIOUS", default="")
if PRODUCTION and SHOP_INTERNAL_SECRET_PREVIOUS and len(SHOP_INTERNAL_SECRET_PREVIOUS.encode()) < MIN_HMAC_SECRET_BYTES:
    raise ImproperlyConfigured(
        f"SHOP_INTERNAL_SECRET_PREVIOUS must be at least {MIN_HMAC_SECRET_BYTES} bytes long when SHOP_ENV=production"
    )
# Contexts whose /internal/ endpoints this process serves (empty: all of them).
SHOP_SERVE: list[str] = env.list("SHOP_SERVE", default=[])
# Which listener this process is: "all" routes, "public" (no /internal/ routes: the internet-facing one) or
# "internal" (only /internal/ and the probes: a listener reachable from inside the cluster only). shop/urls.py.
SHOP_LISTENER: str = env.str("SHOP_LISTENER", default="all")
# Periodic work per context, declared by each context (shop/<context>/periodic.py). A process schedules
# (celery beat) only what its contexts own: every
# split-out service runs its own beat, and each context's outbox is swept by its own worker, the
# one that has its database. Entries of contexts sharing a database sweep that database once.
_PERIODIC: dict[str, dict[str, tuple[str, float]]] = {
    context: dict(importlib.import_module(f"shop.{context}.periodic").PERIODIC) for context in CONTEXTS
}
if env.str("SHOP_PAYMENT_GATEWAY", default="simulated") == "simulated":
    from shop.payments.periodic import WITH_SIMULATED_GATEWAY

    _PERIODIC["payments"].update(WITH_SIMULATED_GATEWAY)


def _periodic_seconds(known: set[str]) -> dict[str, float]:
    """SHOP_PERIODIC_SECONDS ("cancel-unpaid-orders=5,settle-simulated-payments=1"): other periods for
    some jobs (demos, process tests). An unknown job or a period that is not > 0 refuses to start."""
    periods: dict[str, float] = {}
    for name, raw in env.dict("SHOP_PERIODIC_SECONDS", default={}).items():
        try:
            seconds = float(raw)
        except ValueError:
            seconds = 0.0
        if name not in known or not seconds > 0:
            raise ImproperlyConfigured(
                f"SHOP_PERIODIC_SECONDS: {name}={raw} must name one of {', '.join(sorted(known))} "
                "and give it a positive number of seconds"
            )
        periods[name] = seconds
    return periods


_PERIODIC_SECONDS = _periodic_seconds({name for jobs in _PERIODIC.values() for name in jobs})
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {}
_swept: set[str] = set()
for _context in CONTEXTS:
    if SHOP_SERVE and _context not in SHOP_SERVE:
        continue
    _alias = _context if _context in DATABASES else "default"
    if _alias not in _swept:
        _swept.add(_alias)
        CELERY_BEAT_SCHEDULE[f"sweep-outbox-{_alias}"] = {
            "task": "shop.registry.sweep_outbox",
            "schedule": SHOP_OUTBOX_SWEEP_SECONDS,
            "kwargs": {"context": _context},
            "options": {"queue": f"{SHOP_EVENT_QUEUE_PREFIX}{_context}"},
        }
        CELERY_BEAT_SCHEDULE[f"retry-due-{_alias}"] = {
            "task": "shop.registry.retry_due",
            "schedule": SHOP_RETRY_SWEEP_SECONDS,
            "kwargs": {"context": _context},
            "options": {"queue": f"{SHOP_EVENT_QUEUE_PREFIX}{_context}"},
        }
        CELERY_BEAT_SCHEDULE[f"purge-internal-nonces-{_alias}"] = {
            "task": "shop.registry.purge_internal_nonces",
            "schedule": 600.0,
            "kwargs": {"context": _context},
            "options": {"queue": f"{SHOP_EVENT_QUEUE_PREFIX}{_context}"},
        }
    for _name, (_task, _every) in _PERIODIC[_context].items():
        CELERY_BEAT_SCHEDULE[_name] = {"task": _task, "schedule": _PERIODIC_SECONDS.get(_name, _every)}
# Without a broker nobody runs celery beat: a thread of the serving process (runserver, gunicorn) runs
# CELERY_BEAT_SCHEDULE itself (shop.registry.scheduler). Off: nothing periodic runs, and the log says so.
SHOP_EMBEDDED_SCHEDULER: bool = env.bool("SHOP_EMBEDDED_SCHEDULER", default=not TESTING)
SHOP_CONTEXTS: dict[str, dict[str, Any]] = {context: {"BACKEND": "local"} for context in CONTEXTS}
SHOP_CONTEXTS.update(json.loads(env.str("SHOP_CONTEXTS", default="") or "{}"))  # set but empty: none
_remote = env.list("SHOP_REMOTE_CONTEXTS", default=[])
for _context in CONTEXTS if _remote == ["all"] else _remote:
    # Test mode: the HTTP client reaches this same app in-process through httpx.WSGITransport.
    SHOP_CONTEXTS[_context] = {
        "BACKEND": "remote",
        "URLS": ["http://testserver"],
        "TRANSPORT": "wsgi",
        "TIMEOUT": 5.0,
    }

# --- Auth --------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# Reset emails per account and hour; further requests still answer 202 (a stranger cannot mail-bomb
# a customer, nor make the customer's own request fail) and the links already sent stay valid.
SHOP_PASSWORD_RESET_EMAILS_PER_HOUR: int = env.int("SHOP_PASSWORD_RESET_EMAILS_PER_HOUR", default=3)
# Where a reset email sends the customer: a storefront's own page (a template with {uid} and {token}),
# or, when empty, the built-in reset page on SHOP_PUBLIC_URL.
SHOP_PASSWORD_RESET_URL: str = env.str("SHOP_PASSWORD_RESET_URL", default="")

# --- DRF and the HTTP edge ------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["shop.web.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["shop.web.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "shop.web.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Counted in Redis, or per process while Redis is unreachable (shop.web.counters): limits never switch off.
    "DEFAULT_THROTTLE_CLASSES": [
        "shop.web.throttles.AnonRateThrottle",
        "shop.web.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("SHOP_THROTTLE_ANON", default="120/min"),
        "user": env.str("SHOP_THROTTLE_USER", default="600/min"),
        # Sign-in: per IP; per account and client (IP, or the device cookie of an earlier sign-in) by minute
        # and hour; failed sign-ins per account from clients without its device cookie (shop.web.throttles).
        "login": env.str("SHOP_THROTTLE_LOGIN", default="10/min"),
        "login_account": env.str("SHOP_THROTTLE_LOGIN_ACCOUNT", default="5/min"),
        "login_account_hour": env.str("SHOP_THROTTLE_LOGIN_ACCOUNT_HOUR", default="20/hour"),
        "login_failures": env.str("SHOP_THROTTLE_LOGIN_FAILURES", default="100/hour"),
        "register": env.str("SHOP_THROTTLE_REGISTER", default="5/min"),
        "password_reset": env.str("SHOP_THROTTLE_PASSWORD_RESET", default="5/min"),
        "password_reset_confirm": env.str("SHOP_THROTTLE_PASSWORD_RESET_CONFIRM", default="10/min"),
        "webhook": env.str("SHOP_THROTTLE_WEBHOOK", default="1200/min"),
        "voucher": env.str("SHOP_THROTTLE_VOUCHER", default="10/min"),  # codes tried per customer (or IP)
    },
    # Trust X-Forwarded-For only from this many proxies: with DRF's default (None) any client rotates the
    # header and escapes the per-IP throttles. Production sits behind one TLS proxy (SECURE_PROXY_SSL_HEADER).
    "NUM_PROXIES": env.int("SHOP_NUM_PROXIES", default=1 if PRODUCTION else 0),
    "EXCEPTION_HANDLER": "shop.web.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "shop.web.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if not DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
else:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ]

# Customers' JWTs are signed with an asymmetric key (shop.web.tokens; docs/deploy.md "Rotating keys"): the process
# that mints them (users) holds JWT_PRIVATE_KEY (PEM, Ed25519 or RSA); every process accepts the public keys of
# JWT_PUBLIC_KEYS (a JWKS document; a retired key with its "exp"), so a split service needs no private key.
# Outside production, with neither set, a development key is made once in .jwt-dev-key.pem (in memory in tests).
if env.str("JWT_SIGNING_KEY", default=""):
    raise ImproperlyConfigured(
        "JWT_SIGNING_KEY (HS256) is refused: tokens are signed with JWT_PRIVATE_KEY (EdDSA or RS256) and verified "
        "with JWT_PUBLIC_KEYS; see docs/deploy.md"
    )
SHOP_JWT_PRIVATE_KEY: str = env.str("JWT_PRIVATE_KEY", default="")
SHOP_JWT_PUBLIC_KEYS: str = env.str("JWT_PUBLIC_KEYS", default="")
if not (SHOP_JWT_PRIVATE_KEY or SHOP_JWT_PUBLIC_KEYS):
    if PRODUCTION:
        raise ImproperlyConfigured(
            "JWT_PRIVATE_KEY (where tokens are minted) or JWT_PUBLIC_KEYS (verify only) must be set when "
            "SHOP_ENV=production"
        )
    from shop.web.jwt_keys import development_key, generate_private_key_pem

    SHOP_JWT_PRIVATE_KEY = generate_private_key_pem() if TESTING else development_key(BASE_DIR / ".jwt-dev-key.pem")
if not SHOP_JWT_PRIVATE_KEY and (not SHOP_SERVE or "users" in SHOP_SERVE):
    raise ImproperlyConfigured(
        "this process serves users (sign-in, token refresh) and so needs JWT_PRIVATE_KEY; JWT_PUBLIC_KEYS alone "
        "is for processes that only verify tokens (SHOP_SERVE without users)"
    )
# Every JSON body is read up to this many bytes (then 413 body_too_large) and nests at most this deep (400
# body_too_deep), checked before parsing: json.loads recurses per level and a deep body would exhaust the stack.
SHOP_MAX_BODY_BYTES: int = env.int("SHOP_MAX_BODY_BYTES", default=1024 * 1024)
SHOP_MAX_JSON_DEPTH: int = env.int("SHOP_MAX_JSON_DEPTH", default=32)

SIMPLE_JWT: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "CHECK_REVOKE_TOKEN": True,
    # Signed and verified by shop.web.tokens with the keys below; these two only make simplejwt's own
    # backend, should it ever be used, refuse every token instead of falling back to HS256 with SECRET_KEY.
    "ALGORITHM": "EdDSA",
    "SIGNING_KEY": None,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "shop API",
    "DESCRIPTION": "The customer JSON API of shop. Errors are RFC 9457 problem+json with a stable `code`.",
    "VERSION": "1.0.0",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "shop.orders.api.STATUSES",
        "PaymentStatusEnum": "shop.payments.api.STATUSES",
        "CountryEnum": "shop.web.serializers.COUNTRY_CODES",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The edge's base classes describe nothing in the API (their docstrings are notes to developers).
    "GET_LIB_DOC_EXCLUDES": "shop.web.openapi.lib_doc_excludes",
}

# --- I18N, static ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
if PRODUCTION:
    # Admin and Swagger UI assets served by the app itself (no CDN, no proxy config); dev uses runserver's.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (run `manage.py collectstatic`); plain files elsewhere.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
SHOP_CURRENCY: str = env.str("SHOP_CURRENCY", default="EUR")
# Catalog inventory: StockLow fires when available stock drops to this or below; callers' default hold time.
SHOP_STOCK_LOW_THRESHOLD: int = env.int("SHOP_STOCK_LOW_THRESHOLD", default=5)
SHOP_RESERVATION_TTL_S: int = env.int("SHOP_RESERVATION_TTL_S", default=15 * 60)
# Carts: quantity per line 1..max, different items per cart, lifetime of an untouched guest cart.
SHOP_CART_MAX_QUANTITY: int = env.int("SHOP_CART_MAX_QUANTITY", default=99)
SHOP_CART_MAX_LINES: int = env.int("SHOP_CART_MAX_LINES", default=100)
SHOP_GUEST_CART_TTL_DAYS: int = env.int("SHOP_GUEST_CART_TTL_DAYS", default=30)
# Orders: unpaid orders are cancelled (stock released) after this. Tax and shipping are pricing's (below).
SHOP_ORDER_PAYMENT_TTL_S: int = env.int("SHOP_ORDER_PAYMENT_TTL_S", default=30 * 60)
# A refund an order owes (cancelled after payment, money for a cancelled order) is retried with
# exponential backoff from this many seconds (capped at an hour) until payments confirms it; after
# SHOP_REFUND_MAX_ATTEMPTS it is dead: shown to staff ("refund pending" filter), retried by hand.
SHOP_REFUND_RETRY_BASE_S: int = env.int("SHOP_REFUND_RETRY_BASE_S", default=60)
SHOP_REFUND_MAX_ATTEMPTS: int = env.int("SHOP_REFUND_MAX_ATTEMPTS", default=12)
# Pricing (docs/pricing.md). Prices (catalog and shipping methods) are entered with tax (gross, as EU shops
# do: they include the rates of SHOP_TAX_ORIGIN_COUNTRY) or without it (net, as US shops do). The origin is
# also where a quote without a destination is estimated for. Rates come from the admin's table, or from an
# external tax service (SHOP_TAX_PROVIDER=http); when that service fails, SHOP_TAX_FAIL_CLOSED refuses the
# quote (503 tax_unavailable) instead of falling back to the table's rates.
SHOP_PRICES_INCLUDE_TAX: bool = env.bool("SHOP_PRICES_INCLUDE_TAX", default=False)
SHOP_TAX_ORIGIN_COUNTRY: str = env.str("SHOP_TAX_ORIGIN_COUNTRY", default="").strip().upper()
SHOP_TAX_PROVIDER: str = env.str("SHOP_TAX_PROVIDER", default="table")
SHOP_TAX_SERVICE_URL: str = env.str("SHOP_TAX_SERVICE_URL", default="")
SHOP_TAX_SERVICE_TOKEN: str = env.str("SHOP_TAX_SERVICE_TOKEN", default="")
SHOP_TAX_SERVICE_TIMEOUT_S: float = env.float("SHOP_TAX_SERVICE_TIMEOUT_S", default=2.0)
SHOP_TAX_FAIL_CLOSED: bool = env.bool("SHOP_TAX_FAIL_CLOSED", default=True)
if SHOP_TAX_ORIGIN_COUNTRY and not (len(SHOP_TAX_ORIGIN_COUNTRY) == 2 and SHOP_TAX_ORIGIN_COUNTRY.isalpha()):
    raise ImproperlyConfigured("SHOP_TAX_ORIGIN_COUNTRY must be an ISO 3166-1 alpha-2 code such as DE")
if SHOP_PRICES_INCLUDE_TAX and not SHOP_TAX_ORIGIN_COUNTRY:
    raise ImproperlyConfigured("SHOP_PRICES_INCLUDE_TAX needs SHOP_TAX_ORIGIN_COUNTRY (whose tax the prices include)")
if SHOP_TAX_PROVIDER not in ("table", "http"):
    raise ImproperlyConfigured("SHOP_TAX_PROVIDER must be 'table' or 'http'")
if SHOP_TAX_PROVIDER == "http" and not SHOP_TAX_SERVICE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SHOP_TAX_PROVIDER=http needs SHOP_TAX_SERVICE_URL (an http(s) URL)")
if not SHOP_TAX_SERVICE_TIMEOUT_S > 0:
    raise ImproperlyConfigured("SHOP_TAX_SERVICE_TIMEOUT_S must be a positive number of seconds")
# Payments: which gateway adapter charges ("simulated" or "stripe"); every gateway call has a
# timeout, bounded retries with jittered backoff for transient errors, and a circuit breaker.
SHOP_PAYMENT_GATEWAY: str = env.str("SHOP_PAYMENT_GATEWAY", default="simulated")
# Production refuses the simulator (its test tokens pay orders without money): `check --deploy` fails and
# no payment starts. A staging shop may opt in explicitly.
SHOP_ALLOW_SIMULATED_GATEWAY: bool = env.bool("SHOP_ALLOW_SIMULATED_GATEWAY", default=False)
SHOP_GATEWAY_TIMEOUT_S: float = env.float("SHOP_GATEWAY_TIMEOUT_S", default=5.0)
SHOP_GATEWAY_MAX_ATTEMPTS: int = env.int("SHOP_GATEWAY_MAX_ATTEMPTS", default=3)
SHOP_GATEWAY_BACKOFF_S: float = env.float("SHOP_GATEWAY_BACKOFF_S", default=0.2)  # first retry's base wait
SHOP_WEBHOOK_TOLERANCE_S: int = env.int("SHOP_WEBHOOK_TOLERANCE_S", default=300)
# Payments still pending / requires_action after this are settled by asking the gateway.
SHOP_PAYMENT_RECONCILE_AFTER_S: int = env.int("SHOP_PAYMENT_RECONCILE_AFTER_S", default=15 * 60)
# The base URL customers reach this shop at: every absolute link (emails, 3-D Secure, password reset,
# gateway return, order status) starts with it. `make run` derives it from HOST and PORT.
SHOP_PUBLIC_URL: str = env.str("SHOP_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long the signed link to an order's status page (sent in every order email) stays valid.
SHOP_ORDER_STATUS_LINK_TTL_S: int = env.int("SHOP_ORDER_STATUS_LINK_TTL_S", default=90 * 24 * 3600)
# No default in production: with an empty secret every simulated webhook is refused (never forgeable).
SHOP_SIMULATED_WEBHOOK_SECRET: str = env.str(
    "SHOP_SIMULATED_WEBHOOK_SECRET", default="" if PRODUCTION else "whsec_simulated_dev_only"
)
# tok_timeout: how many calls per idempotency key the simulator times out before it succeeds.
SHOP_SIMULATED_GATEWAY_TIMEOUTS: int = env.int("SHOP_SIMULATED_GATEWAY_TIMEOUTS", default=1)
# tok_delayed_success: the simulated provider clears the payment this long after it was made and sends
# its webhook (the periodic job settle-simulated-payments plays the provider).
SHOP_SIMULATED_SETTLE_AFTER_S: float = env.float("SHOP_SIMULATED_SETTLE_AFTER_S", default=30.0)
SHOP_STRIPE_SECRET_KEY: str = env.str("SHOP_STRIPE_SECRET_KEY", default="")
SHOP_STRIPE_WEBHOOK_SECRET: str = env.str("SHOP_STRIPE_WEBHOOK_SECRET", default="")
SHOP_STRIPE_API_BASE: str = env.str("SHOP_STRIPE_API_BASE", default="https://api.stripe.com")

# --- Email (SMTP from EMAIL_URL; console in the embedded default) ----------------------------
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    vars().update(env.email_url_config(_email_url))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="shop <no-reply@shop.example>")
SHOP_NAME: str = env.str("SHOP_NAME", default="shop")
# Sending: attempts per email (then ``failed``, resendable in the admin) and the first retry's wait (doubles).
SHOP_EMAIL_MAX_ATTEMPTS: int = env.int("SHOP_EMAIL_MAX_ATTEMPTS", default=6)
SHOP_EMAIL_RETRY_BACKOFF_S: float = env.float("SHOP_EMAIL_RETRY_BACKOFF_S", default=10.0)
EMAIL_TIMEOUT = 10

# --- Logging: JSON lines carrying the request id ---------------------------------------------
SHOP_LOG_FORMAT: str = env.str("SHOP_LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": f"shop.web.logging.{SHOP_LOG_FORMAT}_formatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One line per request, the access log's (with status and request id). Django's own loggers would add
        # a "Bad Request: …" warning per 4xx, print it again through their console handler in DEBUG, and
        # runserver a third line: so "django" keeps no handler of its own, and per-request lines stay quiet
        # below ERROR (5xx keep their traceback).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "CRITICAL"},  # also keeps a reset link's token out of runserver's lines
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}

# --- Production hardening (check --deploy clean) ---------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = SHOP_IN_CLUSTER_PATHS  # probes and internal calls speak plain HTTP in the cluster
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
