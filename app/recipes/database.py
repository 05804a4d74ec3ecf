"""DATABASE_URL to a Django DATABASES entry, with the standard library only.

The URLs dj-database-url reads for the two databases this app supports:
  postgres://USER:PASSWORD@HOST:PORT/NAME?sslmode=require   (also postgresql://, pgsql://)
  sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3, sqlite://:memory:
Query parameters become OPTIONS (libpq's keywords: sslmode, connect_timeout, ...). A host
starting with "/" (percent-encoded: postgres://%2Fvar%2Frun%2Fpostgresql/app) is a socket
directory, as libpq and dj-database-url both take it.
"""
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")


def parse(url, conn_max_age=0):
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///x is the relative path "x", sqlite:////x the absolute "/x".
        name = ":memory:" if parts.netloc == ":memory:" else unquote(parts.path[1:])
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name or ":memory:",
            "CONN_MAX_AGE": conn_max_age,
        }
    if scheme not in POSTGRES_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL has the scheme {scheme or '(none)'!r}; this app supports "
            "postgres://USER:PASSWORD@HOST:PORT/NAME and sqlite:///PATH."
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL ({exc}).") from None
    # Not parts.hostname: it lower-cases, and a socket directory must keep its case.
    host = parts.netloc.rpartition("@")[2]
    if port is not None:
        host = host.rsplit(":", 1)[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path[1:]),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(host).strip("[]"),
        "PORT": str(port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": conn_max_age,
    }
