"""Django settings. Everything a deployment changes comes from the environment:

DJANGO_SECRET_KEY   secret key (default: a key generated once and kept in var/secret_key)
DJANGO_DEBUG        "1"/"0" (default "1": `make run` is a development server)
DJANGO_ALLOWED_HOSTS comma-separated host names (default: localhost, 127.0.0.1, [::1], testserver)
DATABASE_URL        any dj-database-url URL (default: SQLite file var/db.sqlite3)
REDIS_URL           redis://host:port/db for the Channels layer (default: in-memory, one process)
CLUSTER_IDLE_MINUTES, CLUSTER_RETENTION_DAYS, CLUSTER_PERSISTENCE   see docs/persistence.md
"""
import os
import secrets
from pathlib import Path

import dj_database_url
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


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _development_secret_key(VAR_DIR / "secret_key")
DEBUG = _env_flag("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip() for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin.strip()
]

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
    "default": dj_database_url.config(default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:": ChannelsLiveServerTestCase serves the test database from another
    # process.  One file per test run (the first process's PID, inherited through the
    # environment by the live server it spawns) so several test runs in one checkout don't collide.
    os.environ.setdefault("WEB_TEST_DATABASE_NAME", str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3"))
    DATABASES["default"]["TEST"] = {"NAME": os.environ["WEB_TEST_DATABASE_NAME"]}

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
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}},
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

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
STATIC_ROOT = VAR_DIR / "staticfiles"  # `manage.py collectstatic` target for deployments
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
# Serve straight from static/ so no collectstatic step is needed; vendored files carry their
# version in the file name.
WHITENOISE_USE_FINDERS = True

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
