"""Fixtures that run the real wsgihost binary.

The binary is $WSGIHOST_BIN, else <repo>/build/wsgihost; a missing binary fails every test that
needs it with a message saying how to build it (nothing is skipped). With
$WSGIHOST_TEST_VIRTUALENV set, every server runs in that virtualenv (the binary must embed its
Python): scripts/test-matrix tests Django from PyPI so. Each server gets an
ephemeral port (--bind 127.0.0.1:0) and is found through the "Listening at: URL" line it
writes to its error log (stderr). Stopping one sends SIGTERM and requires exit status 0 within
a deadline; sanitizer reports (an ASan build) on its stderr fail the test.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import wire

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "apps"
BIN = Path(os.environ.get("WSGIHOST_BIN") or REPO / "build" / "wsgihost")
sys.path.insert(0, str(APPS))  # the tests share helpers (testapp.pattern) with the apps

# A virtualenv every server and `wsgihost manage` runs in (VIRTUAL_ENV), for Django from PyPI.
TEST_VIRTUALENV = os.environ.get("WSGIHOST_TEST_VIRTUALENV", "")
LSAN_SUPPRESSIONS = Path(__file__).resolve().parent / "lsan.supp"
START_TIMEOUT = float(os.environ.get("WSGIHOST_TEST_START_TIMEOUT", "30"))
STOP_TIMEOUT = 15.0
LISTENING = re.compile(r"Listening at: (\S+)")
SANITIZER = re.compile(r"(AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|"
                       r"UndefinedBehaviorSanitizer|runtime error:)")


def binary():
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        pytest.fail("wsgihost binary not found at %s: build it with `cmake -S %s -B %s/build && "
                    "cmake --build %s/build -j2`, or point WSGIHOST_BIN at it"
                    % (BIN, REPO, REPO, REPO), pytrace=False)
    return str(BIN)


def llhttp_major():
    """The major version of the llhttp wsgihost was built with, from `wsgihost --version`."""
    out = subprocess.run([binary(), "--version"], capture_output=True, text=True, timeout=10,
                         check=True).stdout
    m = re.search(r"llhttp (\d+)\.", out)
    assert m, "no llhttp version in %r" % out
    return int(m.group(1))


# The server's own scan of chunk-size lines (server/http/prescan.c) accepts the RFC 9112 section
# 7.1.1 extensions, lists with values and quoted strings included, with either llhttp (llhttp 8,
# the host build, refused lists with values). It refuses the BWS the grammar allows around ';'
# and '=' with 400, as llhttp 9 strict mode does: whitespace after a chunk size is read
# differently by different parsers. Refused whole, never misread.
CHUNK_EXT_LIMIT = ("whitespace around ';'/'=' in chunk extensions is refused with 400 (RFC 9112 "
                   "7.1.1 allows it; refused whole, never misread, as llhttp 9 does)")


def chunk_ext_refused(ext):
    """Whether our parser refuses this chunk extension (see CHUNK_EXT_LIMIT)."""
    return b" " in ext or b"\t" in ext


def child_env(extra=None):
    """The environment for a server: ours without WSGIHOST_* settings, PORT or VIRTUAL_ENV
    (they would change the server's configuration), plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WSGIHOST_") and k not in ("PORT", "VIRTUAL_ENV", "WEB_CONCURRENCY")}
    if TEST_VIRTUALENV:  # the matrix's rows with Django from PyPI (scripts/test-matrix)
        env["VIRTUAL_ENV"] = TEST_VIRTUALENV
    # One worker process unless a test asks for more: the test apps count calls per process.
    env["WEB_CONCURRENCY"] = "1"
    # An ASan build: CPython's own leftovers at exit are not our leaks (see lsan.supp).
    env.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0" % LSAN_SUPPRESSIONS)
    env.update(extra or {})
    return env


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls predicate() until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Output:
    """A pipe drained by a thread into a buffer that tests can search with a deadline."""

    def __init__(self, pipe):
        self.data = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe):
        while True:
            chunk = pipe.read1(65536)
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.data += chunk
                self.cond.notify_all()

    def text(self):
        with self.cond:
            return self.data.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout, proc=None):
        """The first match of the regex `pattern`; fails at the deadline or when the output
        ends (the process exited) without it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.data.decode("utf-8", "replace"))
                if m:
                    return m
                remaining = deadline - time.monotonic()
                if self.closed or remaining <= 0:
                    why = "the output ended" if self.closed else "%.1fs passed" % timeout
                    raise AssertionError("%s before %r appeared; output so far:\n%s"
                                         % (why, pattern, self.data.decode("utf-8", "replace")))
                self.cond.wait(min(remaining, 0.1))


class Server:
    """One wsgihost process."""

    def __init__(self, app="testapp:application", args=(), env=None, bind="127.0.0.1:0",
                 cwd=None, pythonpath=True, wait=True, prefix=(), **popen):
        self.cmd = list(prefix) + [binary()]
        if bind:
            self.cmd += ["--bind", bind]
        if pythonpath:
            self.cmd += ["--pythonpath", str(APPS)]
        self.cmd += list(args)
        if app:
            self.cmd.append(app)
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=child_env(env),
                                     cwd=cwd or REPO, **popen)
        self.pid = self.proc.pid
        self.stdout = Output(self.proc.stdout)
        self.stderr = Output(self.proc.stderr)
        self.urls = []
        self.stopped = False
        if wait:
            self.wait_listening()

    # --- start-up -------------------------------------------------------------------------
    def wait_listening(self, count=1):
        """Waits for `count` "Listening at:" lines and records their URLs."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self.urls = LISTENING.findall(self.stderr.text())
            if len(self.urls) >= count:
                break
            self.stderr.wait_for(r"(?s)(Listening at: \S+.*){%d}" % count,
                                 max(0.0, deadline - time.monotonic()))
        self.check_sanitizers()
        return self.urls

    @property
    def address(self):
        """(host, port) of the first TCP listener, or the path of a unix one."""
        return parse_url(self.urls[0])

    @property
    def host(self):
        return self.address[0]

    @property
    def port(self):
        return self.address[1]

    # --- talking to it --------------------------------------------------------------------
    def conn(self, timeout=10.0):
        return wire.Conn(self.address, timeout)

    def get(self, target, headers=(), method="GET", body=b"", timeout=10.0, host="test"):
        """One request on a new connection; returns the final wire.Response."""
        with self.conn(timeout) as c:
            resp = c.request(method, target, headers=headers, body=body, host=host)
            assert resp is not None, ("connection closed without a response to %s %s; stderr:\n%s"
                                      % (method, target, self.stderr.text()[-3000:]))
            return resp

    def stats(self):
        # as small as a request gets: it must pass servers run with tiny header limits
        resp = self.get("/_t/stats", host="t")
        assert resp.status == 200, resp
        return resp.json()

    def stat(self, key):
        return self.stats()["stats"].get(key, 0)

    def rss_kib(self):
        """VmRSS summed over the server and its descendants (a master and its workers)."""
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            try:
                with open("/proc/%d/status" % pid) as f:
                    total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
                for task in os.listdir("/proc/%d/task" % pid):
                    with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                        todo += [int(c) for c in f.read().split()]
            except (FileNotFoundError, ProcessLookupError, StopIteration):
                continue  # exited meanwhile
        assert total, "no RSS for wsgihost (pid %d)" % self.pid
        return total

    # --- stopping -------------------------------------------------------------------------
    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("wsgihost (pid %d) did not exit within %.0fs; killed it; "
                                 "stderr:\n%s" % (self.pid, timeout, self.stderr.text()[-5000:]))
        finally:
            self.stopped = True
            self.stdout.thread.join(5)
            self.stderr.thread.join(5)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT, expect=0):
        """Signals the server, waits for it and checks its exit status and stderr."""
        if not self.stopped:
            if self.alive():
                self.send_signal(sig)
            rc = self.wait_exit(timeout)
            if expect is not None:
                assert rc == expect, ("wsgihost exited with %r after %s, expected %r; stderr:\n%s"
                                      % (rc, signal.Signals(sig).name, expect,
                                         self.stderr.text()[-5000:]))
        self.check_sanitizers()
        return self.proc.returncode

    def check_sanitizers(self):
        text = self.stderr.text()
        m = SANITIZER.search(text)
        assert not m, "sanitizer report on wsgihost's stderr:\n%s" % text[max(0, m.start() - 2000):]


def parse_url(url):
    """'http://127.0.0.1:8000' -> ('127.0.0.1', 8000); 'http://[::1]:8000' -> ('::1', 8000);
    'unix:/path' -> '/path'."""
    if url.startswith("unix:"):
        return url[len("unix:"):]
    m = re.fullmatch(r"http://(\[[^\]]+\]|[^:/]+):(\d+)/?", url)
    assert m, "unexpected listening URL %r" % url
    return m.group(1).strip("[]"), int(m.group(2))


@pytest.fixture
def start_server():
    """A factory: start_server(app=..., args=[...], env={...}) -> Server. Every server still
    running at the end of the test is stopped with SIGTERM and must exit 0."""
    servers = []

    def start(*a, **kw):
        srv = Server(*a, **kw)
        servers.append(srv)
        return srv

    yield start
    errors = []
    for srv in servers:
        try:
            srv.stop()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n\n".join(errors)


@pytest.fixture(scope="module")
def server():
    """One shared server per test module: testapp:application, --threads 4."""
    srv = Server(args=["--threads", "4"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def cluster():
    """A throw-away PostgreSQL cluster per test module (tests/integration/pgcluster.py)."""
    from pgcluster import Cluster  # imported here: most modules need no PostgreSQL

    c = Cluster()
    c.start()
    yield c
    c.cleanup()


def http_get(srv, path, timeout=10.0):
    """A plain http.client GET (a second, independent client implementation)."""
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def json_of(resp):
    return json.loads(resp.body)


# The conformance module fills this; the summary prints it after the run.
CORPUS_TALLY = {}


def pytest_terminal_summary(terminalreporter):
    if CORPUS_TALLY:
        terminalreporter.write_sep("-", "gunicorn request corpus")
        terminalreporter.write_line(
            ", ".join("%s: %s" % (k, v) for k, v in CORPUS_TALLY.items()))
