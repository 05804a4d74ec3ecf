"""Reading a gunicorn configuration file (pyglue/gunicornconf.c runs this once in the master).

load() runs the file as gunicorn does and sorts what it assigns: settings with a wsgihost
option (the rows of server/core/config.c's table, passed in) become options; gunicorn
settings with no meaning here are named in a warning when they would change behaviour (a
value other than gunicorn's default); other names (imports, helpers) are ignored, as gunicorn
ignores them.
"""

import importlib
import os
import runpy
import traceback
import types

# Every gunicorn 27 setting that wsgihost has no option row for, with gunicorn's default: a file
# that leaves it at its default changes nothing. FUNCTION stands for gunicorn's default hook.
FUNCTION = object()
DEFAULTS = {
    "config": "./gunicorn.conf.py", "spew": False, "sendfile": None, "daemon": False,
    "tmp_upload_dir": None, "disable_redirect_access_to_syslog": False, "capture_output": False,
    "logger_class": "gunicorn.glogging.Logger", "logconfig": None, "logconfig_dict": {},
    "logconfig_json": None, "syslog_addr": "udp://localhost:514", "syslog": False,
    "syslog_prefix": None, "syslog_facility": "user", "enable_stdio_inheritance": False,
    "dogstatsd_tags": "", "statsd_prefix": "", "enable_backlog_metric": False,
    "default_proc_name": "gunicorn", "raw_paste_global_conf": [], "protocol": "http",
    "uwsgi_allow_ips": "127.0.0.1,::1", "ssl_version": 2, "cert_reqs": 0,
    "suppress_ragged_eofs": True, "do_handshake_on_connect": False, "ciphers": None,
    "http_protocols": "h1", "http2_cleartext": "off", "http2_max_concurrent_streams": 100,
    "http2_initial_window_size": 65535, "http2_max_frame_size": 16384,
    "http2_max_header_list_size": 65536, "permit_obsolete_folding": False,
    "strip_header_spaces": False, "permit_unconventional_http_method": False,
    "permit_unconventional_http_version": False, "casefold_http_method": False,
    "forwarder_headers": "SCRIPT_NAME,PATH_INFO", "header_map": "drop",
    "tolerate_dangerous_framing": False, "asgi_loop": "auto", "asgi_lifespan": "auto",
    "asgi_disconnect_grace_period": 3, "websocket_max_message_size": 16 * 1024 * 1024,
    "http_parser": "auto", "root_path": "", "dirty_apps": [], "dirty_workers": 0,
    "dirty_timeout": 300, "dirty_threads": 1, "dirty_graceful_timeout": 30,
    "control_socket": None, "control_socket_mode": 0o600, "control_socket_disable": False,
    "ssl_context": FUNCTION, "worker_int": FUNCTION, "worker_abort": FUNCTION,
    "pre_exec": FUNCTION, "pre_request": FUNCTION, "post_request": FUNCTION,
    "nworkers_changed": FUNCTION, "on_dirty_starting": FUNCTION, "dirty_post_fork": FUNCTION,
    "dirty_worker_init": FUNCTION, "dirty_worker_exit": FUNCTION,
    # Settings with a row of kind "ignored" in the table:
    "worker_connections": 1000, "reload_engine": "auto", "reuse_port": False,
    "worker_tmp_dir": None, "statsd_host": None,
}
# Other values that mean what wsgihost does anyway.
SAME_HERE = {
    "sendfile": {True},  # files always go out with sendfile
    "reload_engine": {"inotify"},  # what --reload uses
    "control_socket": {None},  # its default depends on the user: any path is harmless
}
# Settings that do not matter whatever their value.
ALWAYS_FINE = {"config", "default_proc_name", "control_socket", "control_socket_mode"}

WHY = {
    "ssl_context": "TLS is terminated in front of wsgihost",
    "ssl_version": "no TLS", "cert_reqs": "no TLS", "ciphers": "no TLS",
    "do_handshake_on_connect": "no TLS", "suppress_ragged_eofs": "no TLS",
    "pre_request": "per-request hooks are not supported",
    "post_request": "per-request hooks are not supported",
    "worker_int": "workers are stopped by the master, without a Python signal handler",
    "worker_abort": "a worker past --timeout gets its stacks dumped to the error log instead",
    "pre_exec": "wsgihost never re-executes itself (USR2)",
    "daemon": "run it under a supervisor (a container, systemd) instead",
    "logconfig_dict": "use --log-format json for structured logs",
}

# The server hooks wsgihost calls (pyglue/gunicornconf.h).
HOOKS = {"on_starting", "on_reload", "when_ready", "pre_fork", "post_fork", "post_worker_init",
         "child_exit", "worker_exit", "on_exit"}


class ConfigError(Exception):
    """A configuration file that cannot be used: the message says why, no traceback."""


def _text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict):  # secure_scheme_headers
        return ",".join("%s=%s" % item for item in value.items())
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(item) for item in value)
    return str(value)


def _setting(name, value):
    """`name = value` as a reader wants it: `name (a function)` for hooks, long values cut."""
    if callable(value):
        return "%s (a %s)" % (name, "function" if isinstance(value, types.FunctionType)
                              else "callable")
    text = repr(value)
    return "%s = %s" % (name, text if len(text) <= 80 else text[:77] + "...")


def _flag(value):
    if isinstance(value, str):  # gunicorn 27's proxy_protocol: off, v1, v2, auto
        return value.lower() not in ("", "off", "false", "0", "no")
    return bool(value)


def _value(kind, text):
    """A setting's text (as --print-config writes it) as the Python value gunicorn would have."""
    if kind == "flag":
        return text == "true"
    if kind in ("list", "joined"):
        return text.split(",") if text else []
    if text == "":
        return None
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def _namespace(path):
    if path.startswith("python:"):
        name = path[len("python:"):]
        try:
            return vars(importlib.import_module(name))
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                raise ConfigError("cannot read the configuration module %s: no module named %s "
                                  "(check --pythonpath and --chdir)" % (name, e.name)) from None
            raise
    if not os.path.exists(path):
        raise ConfigError("cannot read the configuration file %s: no such file" % path)
    if os.path.isdir(path) or not os.access(path, os.R_OK):
        raise ConfigError("cannot read the configuration file %s: %s"
                          % (path, "it is a directory" if os.path.isdir(path)
                             else "permission denied"))
    return runpy.run_path(path, run_name="__config__")


def _differs(name, value):
    default = DEFAULTS[name]
    if default is FUNCTION:
        return callable(value)
    return value != default and value not in SAME_HERE.get(name, ())


def load(path, rows):
    """(options [(name, text)], warnings [str], hooks {name: fn}); raises ConfigError.

    rows: (gunicorn setting, wsgihost option, kind, why) from server/core/config.c."""
    namespace = _namespace(path)
    table = {row[0]: row[1:] for row in rows}
    options, warnings, hooks = [], [], {}
    for name in sorted(namespace):
        value = namespace[name]
        if isinstance(value, types.ModuleType) or name.startswith("__"):
            continue
        if name in HOOKS:
            if not callable(value):
                raise ConfigError("%s in %s must be a function" % (name, path))
            hooks[name] = value
        elif name in table:
            option, kind, why = table[name]
            if value is None or name == "config":
                continue
            if kind == "list":
                for item in [value] if isinstance(value, str) else value:
                    options.append((option, _text(item)))
            elif kind == "flag":
                options.append((option, "1" if _flag(value) else "0"))
            elif kind in ("value", "joined"):
                options.append((option, _text(value)))
            elif kind == "refused" and value:
                raise ConfigError("%s in %s is not supported: %s"
                                  % (_setting(name, value), path, why))
            elif kind == "ignored" and (name not in DEFAULTS or _differs(name, value)):
                warnings.append("%s in %s has no effect in wsgihost and is ignored: %s"
                                % (_setting(name, value), path, why))
        elif name in DEFAULTS and name not in ALWAYS_FINE and _differs(name, value):
            why = WHY.get(name, "no wsgihost equivalent")
            warnings.append("%s in %s is not supported by wsgihost and is ignored (%s); "
                            "see README, Moving from gunicorn" % (_setting(name, value), path, why))
    return options, warnings, hooks


class Log:
    """The `log` of gunicorn's server and worker objects: lines go to wsgihost's error log."""

    def __init__(self, emit):
        self._emit = emit

    def _log(self, level, msg, args):
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = "%s %r" % (msg, args)
        self._emit(level, text)

    def debug(self, msg, *args, **kw):
        self._log(0, msg, args)

    def info(self, msg, *args, **kw):
        self._log(1, msg, args)

    def warning(self, msg, *args, **kw):
        self._log(2, msg, args)

    warn = warning

    def error(self, msg, *args, **kw):
        self._log(3, msg, args)

    def critical(self, msg, *args, **kw):
        self._log(4, msg, args)

    def exception(self, msg, *args, **kw):
        self._log(3, str(msg) + "\n" + traceback.format_exc().rstrip(), args)

    def reopen_files(self):
        pass


class Server:
    """What gunicorn hooks get as `server` (the arbiter): pid, cfg, num_workers, log."""

    def __init__(self, log):
        self.pid = os.getpid()
        self.log = log
        self.cfg = types.SimpleNamespace()
        self.num_workers = 0
        self.app = None
        self.proc_name = "wsgihost"

    def describe(self, rows):
        """rows: (gunicorn setting, kind, text) of the effective settings, from the C table."""
        settings = {name: _value(kind, text) for name, kind, text in rows}
        self.cfg = types.SimpleNamespace(**settings)
        self.num_workers = settings.get("workers", 0)
        self.pid = os.getpid()


class Worker:
    """What gunicorn hooks get as `worker`: pid, ppid, age, log, cfg, alive."""

    def __init__(self, server, pid, age):
        self.pid = pid
        self.ppid = server.pid
        self.age = age
        self.log = server.log
        self.cfg = server.cfg
        self.alive = True
        self.booted = pid != 0


def call(hooks, name, args):
    fn = hooks.get(name)
    if fn is None:
        return
    try:
        fn(*args)
    except BaseException:  # a hook must not take the server down
        args[0].log.error("the %s hook failed:\n%s", name, traceback.format_exc().rstrip())

