"""Django settings. Everything a deployment changes comes from the environment:

DJANGO_DEBUG        "1"/"0" (default "1": `make run` is a development server). "0" is production mode:
                    static files from `collectstatic` (hashed, compressed), a required secret key, and
                    the HTTPS settings below
DJANGO_SECRET_KEY   secret key (DEBUG: default a key generated once and kept in var/secret_key;
                    production: required, the same on every process and host)
DJANGO_ALLOWED_HOSTS comma-separated host names (default: localhost, 127.0.0.1, [::1], testserver)
DJANGO_CSRF_TRUSTED_ORIGINS comma-separated origins (https://example.org) allowed to POST
DJANGO_HTTPS        "1": the site is served over HTTPS: redirect http to https, secure cookies, HSTS
                    (default: on in production, off with DEBUG)
DJANGO_TRUST_X_FORWARDED_PROTO "1": a reverse proxy terminates TLS and sets X-Forwarded-Proto
                    (default: on in production; set "0" when clients reach daphne directly)
DJANGO_TRUST_X_FORWARDED_FOR "1": the client's address is X-Forwarded-For's first hop, which the
                    proxy sets (default: on in production; "0" when clients reach daphne directly)
CLUSTERS_PER_ADDRESS_PER_HOUR new clusters one client address may create an hour (default 60)
DJANGO_HSTS_SECONDS, DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD   HSTS header (defaults:
                    one year, on, on; only sent over HTTPS)
DJANGO_STATIC_ROOT  where `collectstatic` puts static files (default var/staticfiles)
DATABASE_URL        any dj-database-url URL (default: SQLite file var/db.sqlite3), e.g.
                    postgres://user:password@host:5432/name
DATABASE_CONN_MAX_AGE seconds a database connection is kept open (default 0: one per request; must be
                    0 with DATABASE_POOL)
DATABASE_POOL       PostgreSQL only: "1": the process's threads share a pool of open connections
                    (psycopg_pool; default on), "0": each thread opens its own
DATABASE_POOL_MAX_SIZE most connections one process's pool opens (default 40)
REDIS_URL           redis://host:port/db for the Channels layer and the cache (default: in memory,
                    which only works with one process)
CHANNEL_LAYER       with REDIS_URL, the channels_redis layer that carries websocket groups: "pubsub"
                    (default) or "core"
CLUSTER_IDLE_MINUTES, CLUSTER_RETENTION_DAYS, CLUSTER_PERSISTENCE   see docs/persistence.md
CLUSTER_OWNERSHIP   "1": processes share clusters through leases and forward requests to the holder
                    (default: on when REDIS_URL is set); APP_PROCESS_NAME names this process (default
                    host:pid; a name kept across restarts lets a restarted process resume at once)
Deployment: docs/deploy.md.
"""
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # run-time files (databases, generated secret), git-ignored
VAR_DIR.mkdir(exist_ok=True)


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key(path: Path) -> str:
    """Generate the key once and share it, so sessions survive restarts and parallel processes agree."""
    try:
        with path.open("x") as key_file:  # "x": only the first process to get here writes it
            key_file.write(secrets.token_urlsafe(50))
    except FileExistsError:
        pass
    return path.read_text().strip()


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """The variable's value (unset or empty: ``default``). A value not in ``choices`` stops the process
    at start: falling back to one of them would quietly run another deployment than the one asked for."""
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)} (see docs/deploy.md)")
    return value


DEBUG = _env_flag("DJANGO_DEBUG", default=True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # Several processes or hosts must share one key (sessions, CSRF tokens): never guess it.
        raise ImproperlyConfigured("DJANGO_DEBUG=0 needs DJANGO_SECRET_KEY (see docs/deploy.md)")
    SECRET_KEY = _development_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- HTTPS (production) -----------------------------------------------------------------------
# TLS ends at the reverse proxy (nginx, an Ingress); it tells daphne the original scheme in
# X-Forwarded-Proto.  Trust that header only behind a proxy that overwrites it.
if _env_flag("DJANGO_TRUST_X_FORWARDED_PROTO", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client's address (per-address limits, web/limits.py) is the first X-Forwarded-For hop: the
# proxy must set the header itself, not append to one the client sent.
TRUST_X_FORWARDED_FOR = _env_flag("DJANGO_TRUST_X_FORWARDED_FOR", default=not DEBUG)
CLUSTERS_PER_ADDRESS_PER_HOUR = int(os.environ.get("CLUSTERS_PER_ADDRESS_PER_HOUR", "60"))
HTTPS = _env_flag("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# HSTS applies to this host name and its own subdomains, never to sibling sites of the school's
# domain, so includeSubDomains is safe; "preload" only makes the site eligible for the browsers'
# list, nothing happens until someone submits it.
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = _env_flag("DJANGO_HSTS_PRELOAD", default=True)

INSTALLED_APPS = [
    "daphne",  # first: its runserver replaces Django's, serving HTTP and websockets over ASGI
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",  # tokens for scripts that run workshops (POST /api/auth/token/)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc files served locally: the docs pages work offline
    "django_htmx",
    "web",
    "lessons",
    "workshops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "web.middleware.ClusterElsewhereMiddleware",
]

ROOT_URLCONF = "web.urls"
ASGI_APPLICATION = "web.asgi.application"

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
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
                                      conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
                                      conn_health_checks=True),
}
# PostgreSQL: one pool of open connections per process, shared by its threads (psycopg_pool through
# Django's OPTIONS["pool"]). Worker threads give their connection back after each job (in_worker in
# web/persistence.py, the periodic threads); without a pool that closed it, and the next job made
# PostgreSQL start a new backend (~12 a second per process with 300 learners). CONN_MAX_AGE must
# then stay 0: the pool keeps connections open itself (Django refuses both).
# Max size: the threads that may hold a connection at once are asyncio's default executor
# (asyncio.to_thread, sync_to_async(thread_sensitive=False); min(32, CPUs + 4) threads, and one
# keeps its connection until its next in_worker job), asgiref's sync thread, the three periodic
# threads and one thread per request in progress. 40 = 32 + 1 + 3 + 4 requests, so the executor's
# threads never take every connection, on any machine; the pool opens them only as they are asked
# for (and closes idle ones above min_size after 10 minutes). Two processes (`make serve-prod`)
# then use at most 80 of PostgreSQL's default max_connections of 100: with more processes lower it
# or raise max_connections. A thread that waits `timeout` seconds for a connection fails with
# OperationalError "couldn't get a connection after 10.00 sec" rather than hanging (pool too small,
# or the database unreachable). CONN_HEALTH_CHECKS becomes the pool's check on lending.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _env_flag("DATABASE_POOL", default=True):
    if DATABASES["default"]["CONN_MAX_AGE"] != 0:
        raise ImproperlyConfigured(
            f"DATABASE_CONN_MAX_AGE={os.environ.get('DATABASE_CONN_MAX_AGE')!r} keeps connections open, which the"
            " connection pool (DATABASE_POOL, on by default with PostgreSQL) does itself: unset"
            " DATABASE_CONN_MAX_AGE, or set DATABASE_POOL=0 (see docs/deploy.md)")
    _pool_max_size = os.environ.get("DATABASE_POOL_MAX_SIZE") or "40"
    if not _pool_max_size.isdigit() or int(_pool_max_size) < 1:
        raise ImproperlyConfigured(f"DATABASE_POOL_MAX_SIZE={_pool_max_size!r} is not a positive whole number"
                                   " (see docs/deploy.md)")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": min(2, int(_pool_max_size)),
                                                               "max_size": int(_pool_max_size), "timeout": 10}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:": ChannelsLiveServerTestCase serves the test database from another
    # process.  One file per test run (the first process's PID, inherited through the
    # environment by the live server it spawns) so several test runs in one checkout don't collide.
    os.environ.setdefault("WEB_TEST_DATABASE_NAME", str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3"))
    DATABASES["default"]["TEST"] = {"NAME": os.environ["WEB_TEST_DATABASE_NAME"]}
    # Many requests and the persistence thread write at once (300 learners joining): writers take
    # the lock when their transaction starts and wait up to 20 s for it, instead of failing with
    # "database is locked" midway; WAL lets pages read while a journal entry is written.
    # synchronous=NORMAL: a commit reaches the WAL file without waiting for the disk, so it
    # survives the process being killed (kill -9); only an operating-system crash or power loss
    # can lose the last commits (docs/deploy.md). FULL waited for the disk on every action.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- channels -------------------------------------------------------------------------------
# Simulated clusters are kept in the database (docs/persistence.md): a cluster unused this long
# leaves memory (its clock stops until someone comes back); one unused for the retention period
# is deleted by `manage.py expire_clusters`.
CLUSTER_PERSISTENCE = os.environ.get("CLUSTER_PERSISTENCE", "1") not in ("0", "false", "no")
CLUSTER_IDLE_MINUTES = float(os.environ.get("CLUSTER_IDLE_MINUTES", "30"))
CLUSTER_RETENTION_DAYS = float(os.environ.get("CLUSTER_RETENTION_DAYS", "14"))

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Group messages (a cluster's events, a workshop's banners) reach websockets held by any process.
    # A process's own channels share one Redis key, and so one capacity: a process with hundreds of
    # sockets and forwarded requests (web/tunnel.py) needs far more than the default 100 messages.
    # redis-py 8 times socket reads out after 5 s, exactly channels_redis's blocking-pop timeout: the
    # two race, and a lost race kills a websocket's receive (1011). Reads may take longer here.
    if _env_choice("CHANNEL_LAYER", "pubsub", ("pubsub", "core")) == "pubsub":
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                      "CONFIG": {"hosts": [{"address": REDIS_URL}]}}}
    else:
        CHANNEL_LAYERS = {
            "default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                                   "capacity": 10_000, "expiry": 60}},
        }
    # One cache for every process, so whatever is counted in it (rate limits) is counted once.
    # A Redis that stops answering must not hang requests: the rate limiter then fails open.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "app", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "web.channel_layer.SweptInMemoryChannelLayer"}}
# Several processes on one database and Redis: each cluster is leased to the one process that
# advances it, and requests about it are forwarded there (web/ownership.py, web/tunnel.py).
CLUSTER_OWNERSHIP = os.environ.get("CLUSTER_OWNERSHIP", "1" if REDIS_URL else "0") not in ("0", "false", "no")

# --- internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"  # used when neither the cookie nor Accept-Language names ko or en
LANGUAGES = [
    ("ko", _("Korean")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- static files (served by WhiteNoise, also under daphne) -----------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or VAR_DIR / "staticfiles")  # `collectstatic` target
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
if DEBUG:
    # Serve straight from static/ so no collectstatic step is needed; vendored files carry their
    # version in the file name.
    WHITENOISE_USE_FINDERS = True
else:
    # `collectstatic` writes every file under a content-hashed name plus a .gz (and .br with the
    # Brotli package) copy; pages link the hashed names, so browsers cache them for good ("immutable")
    # and a new release changes the names.  Needs `manage.py collectstatic` before serving.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kubernetes, from the inside",
    "DESCRIPTION": "API of the learning app that runs one simulated Kubernetes cluster per learner.",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request and response bodies get separate components ("ClusterCreateRequest"), so the
    # schema says exactly what each direction carries.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # the default
        "web.api.schema.forbid_unknown_fields",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
