"""Helpers the test modules share (written once here): a free port, a process's children, and
the load generator that keeps a server busy while a test signals, kills or stalls it."""

import ctypes
import errno
import os
import socket
import struct
import threading
import time

import wire
from conftest import wait_until

LOAD_MAX_SECONDS = 60  # a bound on every load, never reached by the tests
SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture (since 5.6)


# Linux capability numbers (linux/capability.h) that some tests need.
CAP_SYS_ADMIN = 21
CAP_SYS_PTRACE = 19


def has_capability(cap):
    """True when this process has Linux capability `cap` in force (CapEff). An unprivileged
    container (such as ../shared/tools/fresh-machine's) lacks CAP_SYS_ADMIN and CAP_SYS_PTRACE:
    tests that need them skip there with the reason, CI=true or not."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> cap & 1)
    return False


def readable_by_others(path):
    """True when a user other than the owner can reach and read `path` (every directory on the
    way searchable by others): a worker running as nobody can import from it."""
    path = os.path.abspath(path)
    if not os.stat(path).st_mode & 0o004:
        return False
    parent = path
    while parent != "/":
        parent = os.path.dirname(parent)
        if not os.stat(parent).st_mode & 0o001:
            return False
    return True


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    """The live child processes of `pid`, sorted."""
    pids = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            pids += [int(p) for p in f.read().split()]
    return sorted(pids)


def worker_pids(srv):
    """The master's live child processes (its workers)."""
    return children(srv.pid)


def server_side(srv, client):
    """The server's end of the connected TCP socket `client`: a copy of the worker's descriptor
    (pidfd_getfd(2)), found by its peer address. The caller closes it."""
    if not has_capability(CAP_SYS_PTRACE):
        import pytest  # only here: support.py is also used outside pytest's collection

        pytest.skip("no CAP_SYS_PTRACE (an unprivileged container): pidfd_getfd cannot copy "
                    "the worker's socket")
    libc = ctypes.CDLL(None, use_errno=True)
    me = client.getsockname()
    for pid in worker_pids(srv):
        pidfd = os.pidfd_open(pid)
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if not os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                        continue
                except FileNotFoundError:
                    continue  # closed meanwhile
                copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
                if copy < 0:
                    err = ctypes.get_errno()
                    if err == errno.EBADF:
                        continue
                    raise AssertionError("pidfd_getfd on worker %d: %s (needs Linux >= 5.6 and "
                                         "permission to ptrace it)" % (pid, os.strerror(err)))
                sock = socket.socket(fileno=copy)
                try:
                    if sock.type == socket.SOCK_STREAM and sock.getpeername() == me:
                        return sock
                except OSError:
                    pass  # a listener, or another family: no peer
                sock.close()
        finally:
            os.close(pidfd)
    raise AssertionError("no worker of pid %d holds the connection from %s" % (srv.pid, me))


class Hold:
    """A request to testapp's /_t/hold that occupies one Python thread until release():
    `with Hold(srv, tmp_path) as hold:` returns once the request is inside the app; leaving
    the block releases it and checks it ended with a 200."""

    def __init__(self, srv, directory, timeout=30):
        self.srv, self.dir, self.timeout = srv, directory, timeout
        self.dir.mkdir(parents=True, exist_ok=True)
        self.result = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.result["resp"] = self.srv.get("/_t/hold?dir=%s" % self.dir, timeout=self.timeout)
        except Exception as e:  # reported by release()
            self.result["error"] = e

    def __enter__(self):
        self.thread.start()
        wait_until(lambda: (self.dir / "entered").exists() or "error" in self.result,
                   self.timeout, "the held request to reach the app")
        assert "error" not in self.result, self.result["error"]
        return self

    def release(self):
        (self.dir / "release").touch()
        self.thread.join(self.timeout)
        assert not self.thread.is_alive(), "the held request did not end"
        resp = self.result.get("resp")
        assert resp is not None and resp.status == 200 and resp.body == b"released", self.result

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.release()
        else:  # end the request, but let the test's own failure be the one reported
            (self.dir / "release").touch()
            self.thread.join(self.timeout)


def metrics_url(srv):
    """(host, port) of the server's --metrics-bind listener, from its log."""
    m = srv.stderr.wait_for(r"Metrics at: http://([\d.]+):(\d+)/metrics", 10)
    return m.group(1), int(m.group(2))


def scrape(srv, path="/metrics", method="GET"):
    host, port = metrics_url(srv)
    with wire.Conn((host, port), 10) as c:
        return c.request(method, path, host="m")


def samples(srv):
    """The /metrics samples: {'name{labels}': value}."""
    resp = scrape(srv)
    assert resp.status == 200, resp
    assert resp.header("Content-Type").startswith("text/plain; version=0.0.4")
    out = {}
    for line in resp.body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def one_request(address, path, timeout=10.0):
    """GET `path` on a new connection. Returns (outcome, detail): ("ok", body) for a 200,
    ("refused", None) when the connection was refused, ("reset", None) when it was reset
    before one byte of answer came back, else ("failed", the status or the error)."""
    try:
        c = wire.Conn(address, timeout)
    except ConnectionRefusedError:
        return "refused", None
    except OSError as e:
        return "failed", repr(e)
    with c:
        try:
            c.send(b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path.encode())
            c.sock.recv(1, socket.MSG_PEEK)  # the first byte, or the reset
        except ConnectionResetError:
            return "reset", None
        except OSError as e:
            return "failed", repr(e)
        try:
            resp = c.read_final()
        except (OSError, wire.ProtocolError) as e:
            return "failed", repr(e)
    if resp is None:
        return "failed", "closed without a response"
    if resp.status != 200:
        return "failed", resp.status
    return "ok", resp.body


SO_ATTACH_FILTER = 26  # <asm-generic/socket.h>
# Runs a command as this root would, less CAP_NET_ADMIN (as a container's root runs).
WITHOUT_NET_ADMIN = ("setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin")
# What the server says at a stop where it cannot drop new connection attempts.
CANNOT_DROP_NEW = "new connections cannot be dropped before the close"


def syn_filter_allowed():
    """Whether this process, and so a server it starts, may attach a socket filter to a TCP
    socket: what a graceful stop uses to drop new connection attempts before its last close
    (server/http/listen.h). Linux asks CAP_NET_ADMIN for it; without (a container), a
    connection completing at the instant of that close is reset, as with any server."""
    keep_all = ctypes.create_string_buffer(struct.pack("@HBBI", 0x06, 0, 0, 0xFFFFFFFF))
    prog = struct.pack("@HP", 1, ctypes.addressof(keep_all))  # struct sock_fprog
    with socket.socket() as s:
        try:
            s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
        except PermissionError:
            return False
    return True


class Load:
    """Client threads sending GET `path` on fresh connections until stopped (at most
    LOAD_MAX_SECONDS). Records every request that did not get a 200 with its start and end
    times, which requests are in flight, and how many 200s each body got (e.g. /pid)."""

    def __init__(self, srv, path="/hello", clients=4, max_seconds=LOAD_MAX_SECONDS):
        self.srv, self.path = srv, path
        self.ok = 0
        self.failures = []  # (start, end, outcome or status or error) for every non-200
        self.bodies = {}  # body of a 200 -> how many
        self.in_flight = {}  # client index -> start time
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.deadline = time.monotonic() + max_seconds
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self, i):
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            t0 = time.monotonic()
            with self.lock:
                self.in_flight[i] = t0
            outcome, detail = one_request(self.srv.address, self.path)
            t1 = time.monotonic()
            with self.lock:
                del self.in_flight[i]
                if outcome == "ok":
                    self.ok += 1
                    self.bodies[detail] = self.bodies.get(detail, 0) + 1
                else:
                    self.failures.append((t0, t1, detail if outcome == "failed" else outcome))
            if outcome == "refused":
                self.stopping.wait(0.01)  # back off like a client would; not synchronisation

    def count(self, outcome):
        with self.lock:
            return sum(1 for f in self.failures if f[2] == outcome)

    @property
    def refused(self):
        """Connections refused (the server stopped listening: a client retries elsewhere)."""
        return self.count("refused")

    @property
    def reset(self):
        """Connections reset before one byte of answer came back."""
        return self.count("reset")

    @property
    def failed(self):
        """Requests accepted that got no complete 200: (start, end, status or error)."""
        with self.lock:
            return [f for f in self.failures if f[2] not in ("refused", "reset")]

    def started_before(self, t):
        """How many requests in flight now had started by `t`."""
        with self.lock:
            return sum(1 for s in self.in_flight.values() if s <= t)

    def wait_for(self, count, timeout=30):
        wait_until(lambda: self.ok >= count, timeout, "%d successful requests" % count)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(20)
        return self
