"""
Settings for the recipes project.

All deployment configuration comes from the environment (12-factor); see
README.md for the variables. Differences between Django versions are kept
together in one block near the end of this file.
"""
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import django
from django.core.exceptions import ImproperlyConfigured

from recipes import database

BASE_DIR = Path(__file__).resolve().parent.parent

# True under "manage.py test". An embedded interpreter may have no sys.argv.
TESTING = getattr(sys, "argv", [])[1:2] == ["test"]


def env_bool(name, default=False):
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}.")


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured(
            "The SECRET_KEY environment variable is required when DEBUG is off. "
            "Set SECRET_KEY to a long random string (or set DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cookbook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "recipes.urls"
WSGI_APPLICATION = "recipes.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# DATABASE_URL (e.g. postgres://user:pass@host:5432/name) selects the database;
# without it a SQLite file is used (SQLITE_PATH, default app/db.sqlite3).

CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60)

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database.parse(os.environ["DATABASE_URL"], conn_max_age=CONN_MAX_AGE)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            "CONN_MAX_AGE": CONN_MAX_AGE,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cookbook:recipe_list"
LOGOUT_REDIRECT_URL = "cookbook:recipe_list"

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------
# The WSGI server (or a proxy) should serve STATIC_ROOT at STATIC_URL and
# MEDIA_ROOT at MEDIA_URL. SERVE_STATIC / SERVE_MEDIA make Django serve them
# itself, which is simple but slow; with DEBUG on both are served anyway.

STATIC_URL = os.environ.get("STATIC_URL", "/static/")
STATIC_ROOT = os.environ.get("STATIC_ROOT") or str(BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or str(BASE_DIR / "media")
SERVE_STATIC = env_bool("SERVE_STATIC", False)
SERVE_MEDIA = env_bool("SERVE_MEDIA", False)

FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
# Tests render templates without running collectstatic, so they cannot use
# the manifest.
STATICFILES_BACKEND = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if TESTING
    else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
)

# Largest accepted recipe image, in bytes.
RECIPE_IMAGE_MAX_BYTES = env_int("RECIPE_IMAGE_MAX_BYTES", 5 * 1024 * 1024)

# --- Security ---------------------------------------------------------------
# Meant to run behind a TLS-terminating proxy. Cookies are secure-only unless
# DEBUG is on (SECURE_COOKIES=0 allows plain-HTTP logins, e.g. local tests).
# Redirects to HTTPS and HSTS are opt-in because they depend on the proxy.

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging (to stdout) ----------------------------------------------------

LOG_LEVEL = os.environ.get("LOG_LEVEL", "ERROR" if TESTING else "INFO").upper()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} {process:d} {message}", "style": "{"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"},
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
    },
}

# Under test, what the next Django release removes is an error, so the matrix
# (scripts/test-matrix) catches it on every version it runs.
if TESTING:
    import warnings

    from django.utils.deprecation import RemovedInNextVersionWarning

    warnings.simplefilter("error", RemovedInNextVersionWarning)

# --- Differences between Django versions (3.2, 4.2, 5.x, 6.x) --------------

if django.VERSION >= (4, 2):
    STORAGES = {
        "default": {"BACKEND": FILE_STORAGE_BACKEND},
        "staticfiles": {"BACKEND": STATICFILES_BACKEND},
    }
else:
    DEFAULT_FILE_STORAGE = FILE_STORAGE_BACKEND
    STATICFILES_STORAGE = STATICFILES_BACKEND

if django.VERSION >= (4, 1):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

if django.VERSION < (4, 0):
    # Django 4.0 made localised formatting the default and requires a scheme
    # in CSRF_TRUSTED_ORIGINS; before that the entries were bare hosts.
    USE_L10N = True
    CSRF_TRUSTED_ORIGINS = [urlsplit(origin).netloc or origin for origin in CSRF_TRUSTED_ORIGINS]
