"""`wsgihost manage`: Django's management command line in the embedded interpreter, configured
like serving (--chdir, --pythonpath, --virtualenv, --app or WSGIHOST_*), with the standard
streams passed through and the command's exit status returned."""

import subprocess

from conftest import binary
from recipesapp import APP_DIR, app_env, manage


def test_check_succeeds(tmp_path):
    proc = manage(app_env(tmp_path), "check")
    assert proc.returncode == 0, proc.stderr
    assert "System check identified no issues" in proc.stdout


def test_help_names_the_program_manage_py(tmp_path):
    proc = manage(app_env(tmp_path), "help")
    assert proc.returncode == 0, proc.stderr
    assert "manage.py help <subcommand>" in proc.stdout


def test_unknown_command_exits_1(tmp_path):
    proc = manage(app_env(tmp_path), "no_such_command")
    assert proc.returncode == 1
    assert "Unknown command: 'no_such_command'" in proc.stderr


def test_shell_reads_a_script_from_stdin_and_its_exit_code_is_returned(tmp_path):
    script = ("from django.conf import settings\n"
              "print('settings from', settings.SETTINGS_MODULE)\n"
              "import sys; sys.exit(7)\n")
    proc = manage(app_env(tmp_path), "shell", input=script)
    assert proc.returncode == 7, proc.stderr
    assert "settings from recipes.settings" in proc.stdout


def test_system_exit_with_a_message_exits_1(tmp_path):
    proc = manage(app_env(tmp_path), "shell", input="raise SystemExit('giving up')\n")
    assert proc.returncode == 1
    assert "giving up" in proc.stderr


def test_migrate_then_query_through_the_orm(tmp_path):
    env = app_env(tmp_path)
    proc = manage(env, "migrate", "--noinput", check=True)
    assert "Applying cookbook." in proc.stdout
    again = manage(env, "migrate", "--noinput", check=True)
    assert "No migrations to apply" in again.stdout
    proc = manage(env, "shell", input="from cookbook.models import Recipe\n"
                                      "print('count', Recipe.objects.count())\n")
    assert proc.returncode == 0, proc.stderr
    assert "count 0" in proc.stdout


def test_configuration_from_wsgihost_environment_variables(tmp_path):
    env = app_env(tmp_path, WSGIHOST_APP="recipes.wsgi", WSGIHOST_CHDIR=str(APP_DIR))
    proc = subprocess.run([binary(), "manage", "check"], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout


def test_django_settings_module_without_an_app(tmp_path):
    env = app_env(tmp_path, DJANGO_SETTINGS_MODULE="recipes.settings")
    proc = manage(env, "check", app=None)
    assert proc.returncode == 0, proc.stderr


def test_no_settings_is_a_usage_error(tmp_path):
    proc = manage(app_env(tmp_path), "check", app=None)
    assert proc.returncode == 2
    assert "DJANGO_SETTINGS_MODULE" in proc.stderr


def test_broken_app_module_fails_clearly(tmp_path):
    proc = manage(app_env(tmp_path), "check", app="no_such_module.wsgi")
    assert proc.returncode == 1
    assert "cannot import 'no_such_module.wsgi'" in proc.stderr
