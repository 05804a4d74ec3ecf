"""Running the Django recipes app (app/) under wsgihost in the tests: its environment, with a
SQLite file, media and static directories of the test's own, and `wsgihost manage`."""

import os
import subprocess

from conftest import REPO, binary, child_env

APP_DIR = REPO / "app"
APP = "recipes.wsgi"
SECRET_KEY = "wsgihost-tests-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
# The app's own configuration must not leak in from the caller's environment.
APP_VARIABLES = ("DATABASE_URL", "SQLITE_PATH", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS",
                 "CSRF_TRUSTED_ORIGINS", "CONN_MAX_AGE", "STATIC_ROOT", "STATIC_URL", "MEDIA_ROOT",
                 "MEDIA_URL", "SECURE_COOKIES", "SERVE_STATIC", "SERVE_MEDIA",
                 "DJANGO_SETTINGS_MODULE", "PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE",
                 "PGPORT", "PGUSER")


def app_env(tmp_path, database_url=None, **extra):
    """Environment for the recipes app with state under tmp_path."""
    env = {k: v for k, v in child_env().items() if k not in APP_VARIABLES}
    env.update(SECRET_KEY=SECRET_KEY, SECURE_COOKIES="0", SQLITE_PATH=str(tmp_path / "db.sqlite3"),
               MEDIA_ROOT=str(tmp_path / "media"), STATIC_ROOT=str(tmp_path / "static"),
               PYTHONDONTWRITEBYTECODE="1", LOG_LEVEL="WARNING", ALLOWED_HOSTS="*")
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def manage(env, *args, input=None, timeout=120, app=APP, check=False):
    """`wsgihost manage --chdir app/ --app recipes.wsgi ARGS`: the CompletedProcess (text)."""
    cmd = [binary(), "manage", "--chdir", str(APP_DIR)]
    if app:
        cmd += ["--app", app]
    proc = subprocess.run(cmd + list(args), env=env, input=input, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          stdin=None if input is not None else subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, ("manage %s exited %d\nstdout:\n%s\nstderr:\n%s"
                                      % (" ".join(args), proc.returncode, proc.stdout,
                                         proc.stderr))
    return proc


def wsgihost_env_keys():
    return [k for k in os.environ if k.startswith("WSGIHOST_")]
