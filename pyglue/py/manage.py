"""`wsgihost manage`: runs Django's command line (pyglue/manage.c calls run) and turns its end
into an exit status the way `python manage.py` does: SystemExit(None) 0, SystemExit(int) that
int, SystemExit(other) printed and 1, Ctrl-C 130, any other exception its traceback and 1."""

import signal
import sys
import traceback


def run(module, argv):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if module:
            import importlib
            try:
                importlib.import_module(module)
            except Exception:
                traceback.print_exc()
                print('wsgihost manage: cannot import %r (from --app/WSGIHOST_APP) to find\n'
                      'the Django settings; set DJANGO_SETTINGS_MODULE instead, or fix\n'
                      '--app, --chdir and --pythonpath' % module, file=sys.stderr)
                return 1
        sys.argv = argv
        from django.core.management import execute_from_command_line
        execute_from_command_line(argv)
        return 0
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code & 0xff
        print(e.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BaseException:
        traceback.print_exc()
        return 1
