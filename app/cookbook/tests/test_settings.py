import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

APP_DIR = Path(settings.BASE_DIR)

CONFIG_VARIABLES = {
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "SQLITE_PATH",
    "CONN_MAX_AGE", "STATIC_ROOT", "STATIC_URL", "MEDIA_ROOT", "MEDIA_URL", "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "TRUST_X_FORWARDED_PROTO", "LOG_LEVEL",
    "SERVE_STATIC", "SERVE_MEDIA", "DJANGO_SETTINGS_MODULE",
}

PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"],
    "NAME": db["NAME"],
    "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "STATIC_ROOT": settings.STATIC_ROOT,
}))
"""


class EnvironmentSettingsTests(SimpleTestCase):
    """Load the settings in a fresh interpreter with a controlled environment."""

    def load(self, **env):
        clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
        clean.update(env, DJANGO_SETTINGS_MODULE="recipes.settings")
        return subprocess.run(
            [sys.executable, "-c", PRINT_SETTINGS], cwd=APP_DIR, env=clean, capture_output=True, text=True
        )

    def test_secret_key_is_required_without_debug(self):
        result = self.load()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImproperlyConfigured", result.stderr)
        self.assertIn("SECRET_KEY environment variable is required", result.stderr)

    def test_debug_allows_a_development_key(self):
        result = self.load(DEBUG="1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('"DEBUG": true', result.stdout)
        self.assertIn('"SESSION_COOKIE_SECURE": false', result.stdout)

    def test_production_defaults(self):
        result = self.load(SECRET_KEY="x" * 50)
        self.assertEqual(result.returncode, 0, result.stderr)
        values = json.loads(result.stdout)
        self.assertFalse(values["DEBUG"])
        self.assertEqual(values["ALLOWED_HOSTS"], ["localhost", "127.0.0.1", "[::1]"])
        self.assertEqual(values["ENGINE"], "django.db.backends.sqlite3")
        self.assertEqual(values["NAME"], str(APP_DIR / "db.sqlite3"))
        self.assertEqual(values["CONN_MAX_AGE"], 60)
        self.assertTrue(values["SESSION_COOKIE_SECURE"])
        self.assertFalse(values["SECURE_SSL_REDIRECT"])
        self.assertEqual(values["STATIC_ROOT"], str(APP_DIR / "staticfiles"))

    def test_environment_overrides(self):
        result = self.load(
            SECRET_KEY="x" * 50,
            ALLOWED_HOSTS="example.com, .example.org",
            DATABASE_URL="postgres://u:p@db.internal:5432/recipes",
            CONN_MAX_AGE="0",
            SECURE_COOKIES="0",
            SECURE_SSL_REDIRECT="1",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        values = json.loads(result.stdout)
        self.assertEqual(values["ALLOWED_HOSTS"], ["example.com", ".example.org"])
        self.assertEqual(values["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual(values["NAME"], "recipes")
        self.assertEqual(values["CONN_MAX_AGE"], 0)
        self.assertFalse(values["SESSION_COOKIE_SECURE"])
        self.assertTrue(values["SECURE_SSL_REDIRECT"])

    def test_bad_boolean_is_reported(self):
        result = self.load(DEBUG="maybe")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DEBUG must be a boolean", result.stderr)

