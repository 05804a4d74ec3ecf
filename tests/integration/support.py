"""Helpers the test modules share (written once here): a free port, a process's children, and
the load generator that keeps a server busy while a test signals, kills or stalls it."""

import os
import socket
import threading
import time

import wire
from conftest import wait_until

LOAD_MAX_SECONDS = 60  # a bound on every load, never reached by the tests


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
