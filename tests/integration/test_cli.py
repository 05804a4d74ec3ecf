"""The command line (gunicorn-compatible flags, WSGIHOST_* environment), binding, start-up
errors, signals and logs."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import conftest
import wire
from conftest import APPS, REPO, binary, child_env, parse_url, wait_until
from support import free_port

ERROR_EXIT_TIMEOUT = 20


def run_cli(args, env=None, cwd=None, prefix=(), **kw):
    """Runs wsgihost expecting it to exit by itself (errors, --help, --version)."""
    start = time.monotonic()
    try:
        proc = subprocess.run([*prefix, binary(), *args], stdin=subprocess.DEVNULL,
                              capture_output=True,
                              env=child_env(env), cwd=cwd or REPO, timeout=ERROR_EXIT_TIMEOUT, **kw)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("wsgihost %s did not exit within %ds; stderr:\n%s"
                             % (args, ERROR_EXIT_TIMEOUT, (e.stderr or b"").decode())) from None
    proc.elapsed = time.monotonic() - start
    proc.err = proc.stderr.decode("utf-8", "replace")
    proc.out = proc.stdout.decode("utf-8", "replace")
    assert "Sanitizer" not in proc.err, proc.err
    return proc


def assert_fails(proc, *needles):
    assert proc.returncode not in (0, None) and proc.returncode > 0, (
        "expected a non-zero exit status, got %r; stderr:\n%s" % (proc.returncode, proc.err))
    for needle in needles:
        assert needle.lower() in proc.err.lower(), (
            "stderr does not mention %r:\n%s" % (needle, proc.err))


def project_version():
    text = (REPO / "CMakeLists.txt").read_text()
    return re.search(r"project\(wsgihost\s+VERSION\s+([0-9.]+)", text).group(1)


def multithread(srv):
    with srv.conn() as c:
        return c.request("GET", "/_t/environ").json()["wsgi.multithread"]["value"]


# --- informational flags ----------------------------------------------------------------------

def test_help():
    proc = run_cli(["--help"])
    assert proc.returncode == 0, proc.err
    text = proc.out + proc.err
    for flag in ("--bind", "--threads", "--keep-alive", "--chdir", "--pythonpath",
                 "--access-logfile", "--error-logfile", "--max-request-body"):
        assert flag in text, "--help does not mention %s:\n%s" % (flag, text)


def test_version():
    proc = run_cli(["--version"])
    assert proc.returncode == 0, proc.err
    assert project_version() in proc.out + proc.err


# --- errors at start-up -----------------------------------------------------------------------

def test_no_app_given():
    proc = run_cli(["--bind", "127.0.0.1:0"])
    assert_fails(proc)
    assert proc.err.strip(), "no message on stderr"


def test_unknown_flag():
    assert_fails(run_cli(["--no-such-flag", "testapp"]), "--no-such-flag")


@pytest.mark.parametrize("args, needle", [
    (["--threads", "abc"], "threads"),
    (["--threads=-1"], "threads"),
    (["--backlog", "many"], "backlog"),
    (["--keep-alive", "soon"], "keep-alive"),
    (["--header-timeout", "-3"], "header-timeout"),
    (["--limit-request-line", "12x"], "limit-request-line"),
    (["--max-request-body", "lots"], "max-request-body"),
    (["--bind", "127.0.0.1:notaport"], "notaport"),
    (["--bind", "127.0.0.1:70000"], "70000"),
    (["--log-level", "chatty"], "chatty"),
])
def test_bad_values(args, needle):
    proc = run_cli(["--pythonpath", str(APPS), *args, "testapp"])
    assert_fails(proc, needle)


def test_flag_without_value():
    assert_fails(run_cli(["testapp", "--threads"]), "threads")


def test_module_not_importable():
    proc = run_cli(["--bind", "127.0.0.1:0", "--pythonpath", str(APPS),
                    "no_such_module_for_wsgihost"])
    assert_fails(proc, "no module named 'no_such_module_for_wsgihost'",
                 "check --app, --chdir and --pythonpath")


def test_module_import_raises_shows_traceback():
    """The module was found: its traceback, and no hint about --app or the paths."""
    proc = run_cli(["--bind", "127.0.0.1:0", "--pythonpath", str(APPS), "broken_import"])
    assert_fails(proc, "Traceback", "broken_import fails at import time on purpose",
                 "module 'broken_import' raised")
    assert "--pythonpath" not in proc.err, proc.err
    assert proc.elapsed < ERROR_EXIT_TIMEOUT


def test_missing_django_settings_says_so():
    proc = run_cli(["--check-config", "--pythonpath", str(APPS), "needs_django_settings"])
    assert proc.returncode == 1, proc.err
    assert "set DJANGO_SETTINGS_MODULE" in proc.err, proc.err
    assert "--pythonpath" not in proc.err, proc.err


def test_callable_missing():
    assert_fails(run_cli(["--bind", "127.0.0.1:0", "--pythonpath", str(APPS),
                          "testapp:no_such_callable"]), "no_such_callable")


def test_callable_not_callable():
    assert_fails(run_cli(["--bind", "127.0.0.1:0", "--pythonpath", str(APPS),
                          "testapp:NOT_CALLABLE"]), "NOT_CALLABLE")


def test_default_callable_missing():
    """flaskapp has no `application`; the default callable name must be reported."""
    assert_fails(run_cli(["--bind", "127.0.0.1:0", "--pythonpath", str(APPS), "flaskapp"]),
                 "application")


@pytest.mark.parametrize("spec, body", [
    ("factoryapp:create_app()", b"hello from default"),
    ("factoryapp:create_app('staging')", b"hello from staging"),
    ('factoryapp:create_app("prod", greeting="hi")', b"hi from prod"),
    ("factoryapp:Factories.make(name='nested')", b"hello from nested"),
])
def test_application_factories(start_server, spec, body):
    """gunicorn evaluates a call with literal arguments: an application factory."""
    srv = start_server(app=spec)
    assert srv.get("/").body == body


@pytest.mark.parametrize("spec, needle", [
    ("factoryapp:create_app(os.environ)", "literal arguments only"),
    ("factoryapp:not_a_factory()", "'not_a_factory' in module 'factoryapp' is not callable"),
    ("factoryapp:broken_factory()", "broken_factory fails on purpose"),
    ("factoryapp:create_app(", "is not a name or a call"),
])
def test_application_factory_errors(spec, needle):
    proc = run_cli(["--check-config", "--pythonpath", str(APPS), spec])
    assert proc.returncode == 1, proc.err
    assert needle in proc.err, proc.err


def test_address_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = run_cli(["--pythonpath", str(APPS), "--bind", "127.0.0.1:%d" % port, "testapp"])
    assert_fails(proc, "in use", str(port))


def test_permission_denied():
    # root may bind any port: run the server as root without CAP_NET_BIND_SERVICE (as nobody
    # it could not even reach a binary under /root)
    prefix = ()
    if os.geteuid() == 0:
        prefix = ("setpriv", "--bounding-set", "-net_bind_service", "--inh-caps",
                  "-net_bind_service")
    start = int(open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read())
    if start == 0:
        pytest.skip("every port is unprivileged on this machine")
    port = None
    for candidate in range(start - 1, max(start - 200, 1), -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
                port = candidate
                break
            except OSError:
                continue
    assert port, "no free privileged port to try"
    proc = run_cli(["--pythonpath", str(APPS), "--bind", "127.0.0.1:%d" % port, "testapp"],
                   prefix=prefix)
    assert_fails(proc, "permission denied")


def test_unix_socket_in_missing_directory(tmp_path):
    path = tmp_path / "missing" / "s.sock"
    assert_fails(run_cli(["--pythonpath", str(APPS), "--bind", "unix:%s" % path, "testapp"]),
                 str(path))


# --- flag spellings and the environment -------------------------------------------------------

def test_equals_and_space_forms(start_server):
    srv = start_server(app=None, bind=None, args=["--bind=127.0.0.1:0", "--threads=2",
                                                  "--app=testapp:application"])
    assert multithread(srv) is True
    srv2 = start_server(app=None, bind=None, args=["--bind", "127.0.0.1:0", "--threads", "2",
                                                   "--app", "testapp:application"])
    assert multithread(srv2) is True


def test_field_size_flag_spellings(start_server):
    for flag in ("--limit-request-field_size", "--limit-request-field-size"):
        srv = start_server(args=[flag, "200"])
        with srv.conn() as c:
            c.send(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"v" * 300 + b"\r\n\r\n")
            assert c.read_response().status == 431, flag
        srv.stop()


def test_env_flag(start_server):
    assert multithread(start_server(env={"WSGIHOST_THREADS": "1"})) is False
    assert multithread(start_server()) is True  # the default, 2 threads


def idle_close_seconds(srv):
    """How long the server keeps an idle keep-alive connection open after a response."""
    with srv.conn(timeout=30) as c:
        assert c.request("GET", "/_t/hello").status == 200
        t0 = time.monotonic()
        assert c.wait_closed(30), "an idle connection still open after 30 s"
        return time.monotonic() - t0


def test_env_cmd_args(start_server):
    srv = start_server(env={"WSGIHOST_CMD_ARGS": "--threads 3 --keep-alive 1"})
    assert multithread(srv) is True
    assert 0.9 <= idle_close_seconds(srv) < 3


def test_port_env_binds_all_interfaces(start_server):
    port = free_port()
    srv = start_server(bind=None, env={"PORT": str(port)})
    assert parse_url(srv.urls[0]) == ("0.0.0.0", port)
    with wire.Conn(("127.0.0.1", port)) as c:
        assert c.request("GET", "/_t/hello").status == 200


def test_default_bind(start_server):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8000))
        except OSError:
            pytest.skip("port 8000 is busy here; the default bind cannot be tried")
    srv = start_server(bind=None)
    assert parse_url(srv.urls[0]) == ("127.0.0.1", 8000)
    assert srv.get("/_t/hello").status == 200


def test_chdir(start_server, tmp_path):
    srv = start_server(pythonpath=False, cwd=tmp_path, args=["--chdir", str(APPS)])
    assert srv.get("/_t/hello").body == b"Hello, World!\n"


def test_pythonpath_list(start_server, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "otherapp.py").write_text(
        "from testapp import t_hello as application\n")
    srv = start_server(app="otherapp", pythonpath=False, cwd=tmp_path,
                       args=["--pythonpath", "%s,%s" % (other, APPS)])
    assert srv.get("/_t/hello").body == b"Hello, World!\n"


@pytest.mark.parametrize("how", ["flag", "VIRTUAL_ENV"])
def test_virtualenv(start_server, tmp_path, how):
    """--virtualenv DIR, and $VIRTUAL_ENV as its default (an activated venv)."""
    venv = make_venv(tmp_path)
    if how == "flag":
        srv = start_server(app="venvonly", pythonpath=False, args=["--virtualenv", str(venv)])
    else:
        srv = start_server(app="venvonly", pythonpath=False, env={"VIRTUAL_ENV": str(venv)})
    resp = srv.get("/")
    assert resp.status == 200 and resp.body.decode() == str(venv), resp


def listen_backlog(port):
    """The backlog of the TCP listener on 127.0.0.1:port (ss shows it as Send-Q)."""
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    (row,) = out.splitlines()
    return int(row.split()[2])


def make_venv(tmp_path, version=None):
    """A venv of Debian's python3 holding the module venvonly (its app answers sys.prefix); with
    `version`, its pyvenv.cfg says that version, as a venv of that Python would."""
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "venvonly.py").write_text(
        "import sys\n"
        "def application(environ, start_response):\n"
        "    body = sys.prefix.encode()\n"
        "    start_response('200 OK', [('Content-Length', str(len(body)))])\n"
        "    return [body]\n")
    if version:
        cfg = venv / "pyvenv.cfg"
        cfg.write_text(re.sub(r"(?m)^version\s*=.*$", "version = %s.0" % version, cfg.read_text()))
    return venv


def embedded_and_other_minor():
    """("3.11", "3.12"): the Python wsgihost embeds and the next minor version."""
    out = run_cli(["--version"]).out
    major, minor = re.search(r"Python (\d+)\.(\d+)", out).groups()
    return "%s.%s" % (major, minor), "%s.%d" % (major, int(minor) + 1)


def installed_in(venv):
    """This wsgihost copied into the venv's bin/, as installing it there would put it."""
    exe = venv / "bin" / "wsgihost"
    shutil.copy2(binary(), exe)
    return exe


def test_virtualenv_of_another_python_exits_2(tmp_path):
    ours, other = embedded_and_other_minor()
    venv = make_venv(tmp_path, other)
    proc = run_cli(["--virtualenv", str(venv), "--app", "venvonly"])
    assert proc.returncode == 2, proc.err
    assert "Python %s" % other in proc.err and "Python %s" % ours in proc.err, proc.err


def test_installed_in_a_venv_of_another_python_exits_2(tmp_path, monkeypatch):
    ours, other = embedded_and_other_minor()
    monkeypatch.setattr(conftest, "BIN", installed_in(make_venv(tmp_path, other)))
    proc = run_cli(["--app", "venvonly"])
    assert proc.returncode == 2, proc.err
    assert "Python %s" % other in proc.err and "Python %s" % ours in proc.err, proc.err


def test_installed_in_a_venv_runs_in_it(start_server, tmp_path, monkeypatch):
    venv = make_venv(tmp_path)
    monkeypatch.setattr(conftest, "BIN", installed_in(venv))
    srv = start_server(app="venvonly", pythonpath=False)
    resp = srv.get("/")
    assert resp.status == 200 and resp.body.decode() == str(venv), resp


def test_backlog_flag(start_server):
    srv = start_server(args=["--backlog", "16"])
    assert srv.get("/_t/hello").status == 200
    assert listen_backlog(srv.port) == 16
    assert listen_backlog(start_server().port) == 2048  # the default


# --- binding ----------------------------------------------------------------------------------

def test_unix_socket(start_server, tmp_path):
    path = str(tmp_path / "wsgihost.sock")
    srv = start_server(bind="unix:" + path)
    assert srv.urls == ["unix:" + path]
    with wire.Conn(path) as c:
        resp = c.request("GET", "/over-unix")
    seen = resp.json()
    assert resp.status == 200 and seen["path_info"] == "/over-unix"
    assert isinstance(seen["server_name"], str) and isinstance(seen["server_port"], str)


@pytest.mark.parametrize("host, version, name, port", [
    ("example.com:8080", "HTTP/1.1", "example.com", "8080"),
    ("example.com", "HTTP/1.1", "example.com", "80"),
    ("[2001:db8::1]:8443", "HTTP/1.1", "[2001:db8::1]", "8443"),
    ("", "HTTP/1.1", None, "80"),  # an empty Host: the socket path and 80
    (None, "HTTP/1.0", None, "80"),  # no Host at all
])
def test_unix_socket_server_name_and_port(start_server, tmp_path, host, version, name, port):
    """PEP 3333: SERVER_NAME and SERVER_PORT are never empty. A Unix socket has neither: they
    come from Host (as gunicorn takes them), else the socket path and 80."""
    path = str(tmp_path / "wsgihost.sock")
    srv = start_server(bind="unix:" + path)
    with wire.Conn(path) as c:
        seen = c.request("GET", "/", version=version, host=host).json()
    assert seen["server_name"] == (path if name is None else name), seen
    assert seen["server_port"] == port, seen


def test_ipv6(start_server):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    srv = start_server(bind="[::1]:0")
    assert srv.host == "::1"
    resp = srv.get("/v6")
    assert resp.status == 200 and resp.json()["remote_addr"] == "::1"


def test_several_binds(start_server, tmp_path):
    path = str(tmp_path / "second.sock")
    srv = start_server(bind=None, wait=False, args=["--bind", "127.0.0.1:0",
                                                    "--bind", "unix:" + path])
    urls = srv.wait_listening(count=2)
    assert len(urls) == 2 and "unix:" + path in urls
    for url in urls:
        with wire.Conn(parse_url(url)) as c:
            assert c.request("GET", "/via").json()["path_info"] == "/via"


# --- signals ----------------------------------------------------------------------------------

def test_sigterm_is_graceful(start_server):
    srv = start_server(args=["--threads", "2"])
    result = {}

    def slow():
        result["resp"] = srv.get("/_t/sleep?ms=1500", timeout=20)

    t = threading.Thread(target=slow)
    t.start()
    wait_until(lambda: srv.stat("sleeping") == 1, 10, "the slow request to reach the app")
    srv.send_signal(signal.SIGTERM)
    t.join(20)
    assert result.get("resp") is not None and result["resp"].status == 200, (
        "the in-flight request was not completed after SIGTERM: %r" % result)
    assert result["resp"].body == b"slept"
    rc = srv.wait_exit()  # no second signal: the first one must be enough
    assert rc == 0, "exit status %r after SIGTERM; stderr:\n%s" % (rc, srv.stderr.text()[-3000:])
    srv.check_sanitizers()


def test_sigterm_idle_exits_zero(start_server):
    srv = start_server()
    start = time.monotonic()
    assert srv.stop(signal.SIGTERM) == 0
    assert time.monotonic() - start < 5


def test_sigint_is_quick(start_server):
    srv = start_server(args=["--threads", "2"])
    holder = threading.Thread(target=lambda: wire.exchange(
        srv.address, b"GET /_t/sleep?ms=10000 HTTP/1.1\r\nHost: test\r\n\r\n", timeout=20))
    holder.start()
    wait_until(lambda: srv.stat("sleeping") == 1, 10, "the slow request to reach the app")
    start = time.monotonic()
    srv.send_signal(signal.SIGINT)
    rc = srv.wait_exit(15)
    elapsed = time.monotonic() - start
    holder.join(20)
    assert elapsed < 5, "SIGINT took %.1fs (an in-flight request sleeps 10 s)" % elapsed
    # 0, or 1 when requests were cut off, or death by SIGINT itself: not a crash
    assert rc in (0, 1, -signal.SIGINT, 128 + signal.SIGINT), rc
    srv.check_sanitizers()


# --- logs -------------------------------------------------------------------------------------

def test_access_logfile(start_server, tmp_path):
    log = tmp_path / "access.log"
    srv = start_server(args=["--access-logfile", str(log)])
    assert srv.get("/_t/hello?from=access-test").status == 200
    wait_until(lambda: log.exists() and "/_t/hello?from=access-test" in log.read_text(), 5,
               "the request in the access log")
    line = [l for l in log.read_text().splitlines() if "access-test" in l][0]
    assert "GET" in line and " 200 " in line, line


def test_access_log_to_stdout(start_server):
    srv = start_server(args=["--access-logfile", "-"])
    assert srv.get("/_t/hello?from=stdout-test").status == 200
    srv.stdout.wait_for(r"GET /_t/hello\?from=stdout-test.* 200 ", 5)


def test_no_access_log_by_default(start_server):
    srv = start_server()
    assert srv.get("/_t/hello?from=nolog-test").status == 200
    srv.stop()
    assert "nolog-test" not in srv.stdout.text() + srv.stderr.text()


def test_log_level_debug_logs_debug_lines(start_server):
    """A request the server refuses is logged at debug level only."""
    for level, shown in (("debug", True), ("info", False)):
        srv = start_server(args=["--log-level", level])
        assert srv.get("/_t/hello").status == 200
        with srv.conn() as c:
            c.send(b"GET /bad%00 HTTP/1.1\r\nHost: t\r\n\r\n")
            assert c.read_final().status == 400
        srv.stop()
        assert (": 400 Bad Request" in srv.stderr.text()) == shown, (level, srv.stderr.text())
