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
        certfile = "/etc/ssl/cert.pem"
        statsd_host = "localhost:8125"
        def pre_request(worker, req):
            pass
        worker_class_ok = "sync"
    ''')
    srv = start_server(app=APP, args=["-c", str(conf)])
    err = srv.stderr.text()
    for name in ("worker_class = 'gevent'", "certfile", "statsd_host", "pre_request"):
        assert name in err and "not supported by wsgihost" in err, name
    assert "multiprocessing" not in err and "helper" not in err


def test_sync_and_gthread_worker_class_are_fine(start_server, tmp_path):
    conf = write_conf(tmp_path, '''
        worker_class = "gthread"
        threads = 2
    ''')
    srv = start_server(app=APP, args=["-c", str(conf)])
    assert "not supported" not in srv.stderr.text()


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
    ("raw_env = ['NOEQUALS']\n", "raw_env entries are KEY=VALUE"),
    ("loglevel = 'loud'\n", "invalid --log-level"),
])
def test_bad_config_file_stops_with_a_reason(tmp_path, body, message):
    conf = write_conf(tmp_path, body)
    proc = subprocess.run([binary(), "--pythonpath", str(APPS), "-c", str(conf), APP],
                          capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_missing_config_file(tmp_path):
    proc = subprocess.run([binary(), "-c", str(tmp_path / "nope.py"), APP],
                          capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode == 2
    assert "nope.py" in proc.stderr
