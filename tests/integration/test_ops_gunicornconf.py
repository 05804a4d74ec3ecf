"""`wsgihost -c gunicorn.conf.py`: settings, precedence (flags > env > file > defaults), raw_env,
warnings for unsupported settings, and every supported server hook's effect."""

import json
import os
import re
import signal
import subprocess
import textwrap

import pytest

from conftest import APPS, binary, child_env, wait_until

APP = "opsapp:application"

HOOKS = textwrap.dedent('''
    import json, os
    LOG = os.environ["HOOK_LOG"]

    def note(event, **extra):
        extra.update(event=event, pid=os.getpid())
        with open(LOG, "a") as f:
            f.write(json.dumps(extra) + "\\n")

    def on_starting(server):
        note("on_starting", server_pid=server.pid, workers=server.cfg.workers)
    def when_ready(server):
        note("when_ready", bind=server.cfg.bind)
        server.log.info("when_ready says hello")
        server.log.debug("a debug line from %s", "when_ready")
    def pre_fork(server, worker):
        note("pre_fork")
    def post_fork(server, worker):
        note("post_fork", worker_pid=worker.pid, ppid=worker.ppid)
    def post_worker_init(worker):
        note("post_worker_init", worker_pid=worker.pid)
        os.environ["WSGIHOST_TEST_HOOK"] = "set by post_worker_init"
    def worker_exit(server, worker):
        note("worker_exit", worker_pid=worker.pid)
    def child_exit(server, worker):
        note("child_exit", worker_pid=worker.pid)
    def on_reload(server):
        note("on_reload")
    def on_exit(server):
        note("on_exit")
''')


def write_conf(tmp_path, body, extra=""):
    path = tmp_path / "gunicorn.conf.py"
    path.write_text(textwrap.dedent(body) + extra)
    return path


def events(log):
    if not log.exists():
        return []
    return [json.loads(l) for l in log.read_text().splitlines()]


def names(log):
    return [e["event"] for e in events(log)]


def test_settings_and_every_hook(start_server, tmp_path):
    log = tmp_path / "hooks.log"
    conf = write_conf(tmp_path, '''
        workers = 2
        threads = 3
        timeout = 25
        graceful_timeout = 7
        keepalive = 9
        max_requests = 1000
        max_requests_jitter = 10
        loglevel = "debug"
        accesslog = "-"
        forwarded_allow_ips = ["10.0.0.1", "127.0.0.1"]
        raw_env = ["WSGIHOST_TEST_RAW=raw-value"]
    ''', HOOKS)
    srv = start_server(app=APP, args=["-c", str(conf)], env={"HOOK_LOG": str(log),
                                                              "WEB_CONCURRENCY": "1"})
    wait_until(lambda: names(log).count("post_worker_init") == 2, 20, "two workers booted")
    err = srv.stderr.text()
    assert "2 worker(s), 3 thread(s) each" in err
    assert "when_ready says hello" in err  # server.log goes to the error log
    assert "[DEBUG] a debug line from when_ready" in err  # loglevel = "debug"
    ev = events(log)
    first = ev[0]
    assert first["event"] == "on_starting" and first["pid"] == srv.pid
    assert first["workers"] == 2
    order = [e["event"] for e in ev]
    assert order.index("when_ready") < order.index("pre_fork") < order.index("post_fork")
    forks = [e for e in ev if e["event"] == "post_fork"]
    assert all(e["ppid"] == srv.pid and e["worker_pid"] == e["pid"] != srv.pid for e in forks)
    # raw_env reached the app; post_worker_init ran in the worker, before the app was called.
    assert srv.get("/hookfile").body == b"set by post_worker_init"
    # access log on stdout (accesslog = "-")
    wait_until(lambda: "GET /hookfile" in srv.stdout.text(), 10, "an access line")
    # HUP: on_reload, then new workers, old ones exit (worker_exit in them, child_exit here).
    srv.send_signal(signal.SIGHUP)
    wait_until(lambda: names(log).count("child_exit") == 2, 30, "the old workers reaped")
    assert names(log).count("on_reload") == 1
    assert names(log).count("worker_exit") >= 2
    srv.stop()
    assert names(log)[-1] == "on_exit"
    assert [e for e in events(log) if e["event"] == "on_exit"][0]["pid"] == srv.pid


def test_raw_env_reaches_the_app_environment(start_server, tmp_path):
    conf = write_conf(tmp_path, '''
        raw_env = ["WSGIHOST_TEST_HOOK=from raw_env=with equals"]
    ''')
    srv = start_server(app=APP, args=["-c", str(conf)])
    assert srv.get("/hookfile").body == b"from raw_env=with equals"


def test_precedence_flags_over_env_over_file(start_server, tmp_path):
    conf = write_conf(tmp_path, '''
        threads = 2
        workers = 1
        timeout = 11
        bind = "127.0.0.1:1"   # replaced by the test's --bind (a flag)
    ''')
    # file only
    srv = start_server(app=APP, args=["-c", str(conf)])
    srv.stderr.wait_for(re.escape("1 worker(s), 2 thread(s) each"), 10)
    # env over file
    srv = start_server(app=APP, args=["-c", str(conf)], env={"WSGIHOST_THREADS": "3"})
    srv.stderr.wait_for(re.escape("1 worker(s), 3 thread(s) each"), 10)
    # flag over env over file
    srv = start_server(app=APP, args=["-c", str(conf), "--threads", "4"],
                       env={"WSGIHOST_THREADS": "3"})
    srv.stderr.wait_for(re.escape("1 worker(s), 4 thread(s) each"), 10)
    # the config file itself from the environment, the app from the file
    conf2 = write_conf(tmp_path, '''
        wsgi_app = "opsapp:application"
        threads = 5
    ''')
    srv = start_server(app=None, env={"WSGIHOST_CONFIG": str(conf2)})
    srv.stderr.wait_for(re.escape("Serving opsapp:application: 1 worker(s), 5 thread(s) each"), 10)


def test_unsupported_settings_are_named(start_server, tmp_path):
    conf = write_conf(tmp_path, '''
        import multiprocessing        # not a setting: ignored quietly
        helper = 42                   # not a setting either
        worker_class = "gevent"
        statsd_host = "localhost:8125"
        def pre_request(worker, req):
            pass
        worker_class_ok = "sync"
    ''')
    srv = start_server(app=APP, args=["-c", str(conf)])
    err = srv.stderr.text()
    assert "--worker-class gevent is ignored" in err, err
    assert "statsd_host = 'localhost:8125'" in err and "has no effect in wsgihost" in err, err
    # a hook is named readably, not as <function pre_request at 0x...>
    assert "pre_request (a function)" in err and "not supported by wsgihost" in err, err
    assert "<function" not in err, err
    assert "multiprocessing" not in err and "helper" not in err


def test_settings_at_gunicorns_defaults_are_not_warned(start_server, tmp_path):
    """A file that spells out gunicorn's defaults changes nothing, so it gets no warning."""
    conf = write_conf(tmp_path, '''
        certfile = None
        keyfile = None
        tmp_upload_dir = None
        daemon = False
        worker_connections = 1000
        sendfile = True
        spew = False
        logconfig_dict = {}
        secure_scheme_headers = {"X-FORWARDED-PROTOCOL": "ssl", "X-FORWARDED-PROTO": "https",
                                 "X-FORWARDED-SSL": "on"}
    ''')
    srv = start_server(app=APP, args=["-c", str(conf)])
    err = srv.stderr.text()
    assert "WARNING" not in err, err
    assert "Configuration read from %s" % conf in err, err


@pytest.mark.parametrize("body", [
    'secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}\n',
    'secure_scheme_headers = {"X-Scheme": "https"}\n',
])
def test_secure_scheme_headers(start_server, tmp_path, body):
    """gunicorn's setting: the named headers (from trusted proxies) say the scheme."""
    conf = write_conf(tmp_path, body)
    srv = start_server(app=APP, args=["-c", str(conf)])
    custom = "X-Scheme" in body
    scheme = lambda headers: srv.get("/", headers=headers).json()["wsgi.url_scheme"]
    assert scheme([("X-Scheme", "https")]) == ("https" if custom else "http")
    assert scheme([("X-Forwarded-Proto", "https")]) == ("http" if custom else "https")
    assert scheme([("X-Forwarded-Ssl", "on")]) == "http"  # not in either setting
    assert "WARNING" not in srv.stderr.text()


def test_worker_class_sync_and_gthread_mean_what_wsgihost_does(start_server, tmp_path):
    """-k/--worker-class and worker_class: sync and gthread (short or full class names) start
    quietly with --threads honoured (else wsgihost's default, 2); an async class starts with a
    warning that says what wsgihost does instead."""
    conf = write_conf(tmp_path, '''
        worker_class = "gthread"
        threads = 1
    ''')
    cases = [(["-c", str(conf)], 1), (["-k", "sync"], 2), (["-k", "gthread", "--threads", "3"], 3),
             (["--worker-class", "gunicorn.workers.gthread.ThreadWorker"], 2),
             (["--worker-class=gunicorn.workers.sync.SyncWorker", "--threads", "1"], 1)]
    for args, threads in cases:
        srv = start_server(app=APP, args=args)
        srv.stderr.wait_for(re.escape("1 worker(s), %d thread(s) each" % threads), 10)
        assert srv.get("/").status == 200
        assert "WARNING" not in srv.stderr.text(), (args, srv.stderr.text())
        srv.stop()
    srv = start_server(app=APP, args=["-k", "gevent"])
    assert srv.get("/").status == 200
    warning = srv.stderr.wait_for(r"WARNING.*--worker-class gevent is ignored[^\n]*", 10).group(0)
    assert "--threads" in warning, warning


def test_tls_in_a_config_file_is_refused(tmp_path):
    conf = write_conf(tmp_path, 'certfile = "/etc/ssl/cert.pem"\nkeyfile = "/etc/ssl/key.pem"\n')
    proc = subprocess.run([binary(), "--pythonpath", str(APPS), "-c", str(conf), "--bind",
                           "127.0.0.1:0", APP],
                          capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode == 2, proc.stderr
    assert "certfile = '/etc/ssl/cert.pem'" in proc.stderr and "terminate TLS in front" in proc.stderr


def test_gunicorn_conf_py_in_the_working_directory_is_read(start_server, tmp_path):
    """Without -c, ./gunicorn.conf.py is read (as gunicorn does) and the log says so."""
    write_conf(tmp_path, 'threads = 3\n')
    srv = start_server(app=APP, cwd=tmp_path)
    srv.stderr.wait_for(re.escape("1 worker(s), 3 thread(s) each"), 10)
    assert "Configuration read from gunicorn.conf.py" in srv.stderr.text()


def test_config_from_a_python_module(start_server, tmp_path):
    (tmp_path / "deploy_settings.py").write_text("threads = 4\n")
    srv = start_server(app=APP, args=["--pythonpath", str(tmp_path), "-c",
                                      "python:deploy_settings"])
    srv.stderr.wait_for(re.escape("1 worker(s), 4 thread(s) each"), 10)
    proc = subprocess.run([binary(), "-c", "python:no_such_settings", APP], capture_output=True,
                          text=True, timeout=30, env=child_env())
    assert proc.returncode == 2
    assert "no module named no_such_settings" in proc.stderr and "Traceback" not in proc.stderr


def test_preload_with_config(start_server, tmp_path):
    log = tmp_path / "hooks.log"
    conf = write_conf(tmp_path, '''
        preload_app = True
    ''', HOOKS)
    srv = start_server(app=APP, args=["-c", str(conf)], env={"HOOK_LOG": str(log)})
    srv.stderr.wait_for(", preloaded", 10)
    assert srv.get("/").status == 200
    srv.stop()
    assert names(log)[0] == "on_starting" and names(log)[-1] == "on_exit"


@pytest.mark.parametrize("body, message", [
    ("workers = \n", "SyntaxError"),
    ("workers = 'many'\n", "invalid value 'many' for --workers"),
    ("raw_env = ['NOEQUALS']\n", "invalid --env 'NOEQUALS': expected KEY=VALUE"),
    ("loglevel = 'loud'\n", "invalid --log-level"),
])
def test_bad_config_file_stops_with_a_reason(tmp_path, body, message):
    conf = write_conf(tmp_path, body)
    proc = subprocess.run([binary(), "--pythonpath", str(APPS), "-c", str(conf), APP],
                          capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_missing_config_file(tmp_path):
    """One line that names the file and says why; no traceback."""
    missing = tmp_path / "nope.py"
    proc = subprocess.run([binary(), "-c", str(missing), APP],
                          capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "wsgihost: error: cannot read the configuration file %s: no such file" % missing]
