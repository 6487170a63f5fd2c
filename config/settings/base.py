"""Django core: apps, middleware, templates, static files, auth."""

from __future__ import annotations

import django_stubs_ext

from config.env import BASE_DIR, env

# Lets admin and other generic classes be subscripted at run time (ModelAdmin[Model]).
django_stubs_ext.monkeypatch()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Missing required environment variable SECRET_KEY (or set DEBUG=true for local development)."
        )
    SECRET_KEY = "insecure-local-development-key"  # noqa: S105 - only with DEBUG on

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "pgvector.django",
    # Ours, bottom layer first: core <- observability <- memory <- agents <- workflows <- evals;
    # charts sits on agents beside evals;
    # storage_kit stands alone beside them; chat sits on top.
    "core",
    "observability",
    "memory",
    "agents",
    "storage_kit",
    "workflows",
    "evals",
    "charts",
    "chat",
]

MIDDLEWARE = [
    # First: every answer under /api/ is JSON in the error shape, and bad paths, queries and
    # oversized bodies are refused before anything else reads them.
    "core.api.middleware.ApiEdgeMiddleware",
    "core.middleware.SecurityMiddleware",  # Django's, on the event loop
    "core.staticfiles.StaticFilesMiddleware",  # WhiteNoise, async capable
    # Django's, synchronous only: under ASGI they run as one block on the request's thread,
    # entered and left once, instead of two thread hops each (core.middleware).
    "core.middleware.SessionMiddleware",
    "core.middleware.CommonMiddleware",
    "core.middleware.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "core.middleware.XFrameOptionsMiddleware",
    "core.middleware.release_connections_after_view",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files served at the site's root (the favicon the admin's pages make the browser ask for).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# Encrypts credentials stored in the database (Fernet keys, comma-separated, newest first).
# Unset: derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# The garbage collector (core.collector): what is alive once the apps are ready is frozen out
# of collection, and the youngest generation is collected every this many net allocations
# (the interpreter's default is 700). 0: the interpreter's defaults.
GC_GEN0_THRESHOLD = env.int("GC_GEN0_THRESHOLD", default=10000)

# Where `make run` serves (config.supervisor starts daphne there); `seed_demo`'s banner prints it.
WEB_HOST = env.str("HOST", default="127.0.0.1")
WEB_PORT = env.int("WEB_PORT", default=8000)
