from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from recipes import database


class DatabaseUrlTests(SimpleTestCase):
    def test_postgres_url_with_every_part(self):
        db = database.parse("postgres://us%40er:p%3Ass@db.example:6432/recipes?sslmode=require", 30)
        self.assertEqual(db["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual(db["NAME"], "recipes")
        self.assertEqual(db["USER"], "us@er")
        self.assertEqual(db["PASSWORD"], "p:ss")
        self.assertEqual(db["HOST"], "db.example")
        self.assertEqual(db["PORT"], "6432")
        self.assertEqual(db["OPTIONS"], {"sslmode": "require"})
        self.assertEqual(db["CONN_MAX_AGE"], 30)

    def test_other_postgres_spellings_and_defaults(self):
        for scheme in ("postgresql", "pgsql", "POSTGRES"):
            db = database.parse(f"{scheme}://localhost/app")
            self.assertEqual(db["ENGINE"], "django.db.backends.postgresql")
            self.assertEqual((db["HOST"], db["PORT"], db["USER"], db["PASSWORD"]), ("localhost", "", "", ""))

    def test_socket_directory_keeps_its_case(self):
        db = database.parse("postgres://app@%2Fvar%2Frun%2FPG/app")
        self.assertEqual(db["HOST"], "/var/run/PG")
        self.assertEqual(db["USER"], "app")

    def test_ipv6_host(self):
        db = database.parse("postgres://[::1]:5433/app")
        self.assertEqual((db["HOST"], db["PORT"]), ("::1", "5433"))

    def test_sqlite_paths(self):
        self.assertEqual(database.parse("sqlite:////tmp/x.sqlite3")["NAME"], "/tmp/x.sqlite3")
        self.assertEqual(database.parse("sqlite:///x.sqlite3")["NAME"], "x.sqlite3")
        self.assertEqual(database.parse("sqlite://:memory:")["NAME"], ":memory:")
        self.assertEqual(database.parse("sqlite:///x")["ENGINE"], "django.db.backends.sqlite3")

    def test_unsupported_scheme_says_what_works(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "mysql"):
            database.parse("mysql://localhost/app")

    def test_bad_port_is_a_clear_error(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "not a valid URL"):
            database.parse("postgres://localhost:notaport/app")
