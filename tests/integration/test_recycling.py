"""Workers through their life as the README tells it: `--max-requests` recycles a worker after
exactly N requests, `--max-requests-jitter` spreads when workers recycle, and the metrics that
count it (`wsgihost_worker_recycles_total`, `_timeouts_total`, `wsgihost_workers{state}` for
booting and stopping workers)."""

import re
import socket

from conftest import wait_until
from support import samples, worker_pids

PROCAPP = "procapp:application"  # /pid: which worker answered
RECYCLED = re.compile(r"Autorestarting worker after (\d+) requests")


def recycle_lines(srv, count):
    """The request counts of the first `count` "Autorestarting worker" log lines."""
    found = wait_until(lambda: (lambda f: f if len(f) >= count else None)(
        RECYCLED.findall(srv.stderr.text())), 10, "%d recycle log lines" % count)
    return [int(n) for n in found[:count]]


def requests_per_connection(srv, limit=50):
    """Requests on one keep-alive connection until the server closes it (its worker recycles):
    (how many were answered, the worker's pid)."""
    pids = set()
    with srv.conn() as c:
        for n in range(limit + 1):
            try:
                resp = c.request("GET", "/pid")
            except (BrokenPipeError, ConnectionResetError):
                resp = None
            if resp is None:  # closed, idle, after the last answer
                assert n > 0 and len(pids) == 1, (n, pids)
                return n, pids.pop()
            assert resp.status == 200, resp
            pids.add(resp.body)
    raise AssertionError("no recycle within %d requests" % limit)


def test_max_requests_recycles_after_exactly_n_requests(start_server):
    srv = start_server(app=PROCAPP, args=["--max-requests", "5"])
    served = [requests_per_connection(srv) for _ in range(3)]
    assert [n for n, _ in served] == [5, 5, 5], served
    assert len({pid for _, pid in served}) == 3, "each run should be a new worker: %s" % served
    assert recycle_lines(srv, 3) == [5, 5, 5]


def test_max_requests_jitter_spreads_recycling(start_server):
    """Each worker draws its own limit in [N, N + jitter]: over 8 workers, not all the same
    (all 8 equal by chance: 5 x (1/5)^8, about 1 in 80,000)."""
    srv = start_server(app=PROCAPP, args=["--max-requests", "3", "--max-requests-jitter", "4"])
    counts = [requests_per_connection(srv)[0] for _ in range(8)]
    assert all(3 <= n <= 7 for n in counts), counts
    assert len(set(counts)) > 1, "every worker recycled after %d requests" % counts[0]
    assert recycle_lines(srv, len(counts)) == counts


def test_metrics_count_recycles(start_server):
    srv = start_server(app=PROCAPP, args=["--max-requests", "2", "--metrics-bind", "127.0.0.1:0"])
    for _ in range(3):
        requests_per_connection(srv)
    wait_until(lambda: samples(srv)["wsgihost_worker_recycles_total"] == 3, 10, "3 recycles")
    s = samples(srv)
    assert s["wsgihost_worker_restarts_total"] == 0
    assert s["wsgihost_worker_timeouts_total"] == 0


def test_metrics_count_a_timeout(start_server, tmp_path):
    srv = start_server(app=PROCAPP,
                       args=["--timeout", "1", "--graceful-timeout", "1",
                             "--metrics-bind", "127.0.0.1:0"])
    mark = tmp_path / "in-app"
    with socket.create_connection(srv.address, timeout=30) as hung:
        hung.sendall(b"GET /sleep?s=60&mark=%s HTTP/1.1\r\nHost: t\r\n\r\n" % str(mark).encode())
        wait_until(mark.exists, 10, "the request in the app")
        srv.stderr.wait_for(r"WORKER TIMEOUT \(pid: \d+\)", 20)
        wait_until(lambda: samples(srv)["wsgihost_worker_timeouts_total"] == 1, 10,
                   "the timeout counted")
    assert samples(srv)["wsgihost_worker_recycles_total"] == 0


def test_metrics_show_a_booting_worker(start_server, tmp_path):
    """A worker still importing the app counts as booting, then as ready."""
    (tmp_path / "slowboot.py").write_text(
        "import os, time\n"
        "open(os.path.join(%r, 'entered'), 'w').close()\n"
        "deadline = time.monotonic() + 30\n"
        "while not os.path.exists(os.path.join(%r, 'release')) and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "from testapp import application\n" % (str(tmp_path), str(tmp_path)))
    srv = start_server(app="slowboot:application",
                       args=["--pythonpath", str(tmp_path), "--metrics-bind", "127.0.0.1:0"])
    wait_until((tmp_path / "entered").exists, 30, "the worker importing the app")
    s = samples(srv)
    assert (s['wsgihost_workers{state="booting"}'], s['wsgihost_workers{state="ready"}']) == (1, 0)
    (tmp_path / "release").touch()
    wait_until(lambda: samples(srv)['wsgihost_workers{state="ready"}'] == 1, 30, "ready")
    assert samples(srv)['wsgihost_workers{state="booting"}'] == 0


def test_metrics_show_a_stopping_worker(start_server, tmp_path):
    """A recycled worker whose app left a non-daemon thread running stays stopping (its
    interpreter waits for the thread) until the thread ends; its replacement is ready."""
    srv = start_server(args=["--max-requests", "2", "--graceful-timeout", "30",
                             "--metrics-bind", "127.0.0.1:0"])
    (first,) = wait_until(lambda: worker_pids(srv), 10, "the worker")
    hold = tmp_path / "hold"
    hold.mkdir()
    with srv.conn() as c:
        assert c.request("GET", "/_t/hold-thread?dir=%s" % hold).body == b"holding"
        assert c.request("GET", "/_t/hello").status == 200  # the 2nd: the worker recycles

    def stopping():
        s = samples(srv)
        return s['wsgihost_workers{state="stopping"}'] == 1 and s if (
            s['wsgihost_workers{state="ready"}'] == 1) else None
    wait_until(stopping, 20, "one worker stopping, its replacement ready")
    assert first in worker_pids(srv)
    (hold / "release").touch()
    wait_until(lambda: first not in worker_pids(srv), 20, "the old worker gone")
    wait_until(lambda: samples(srv)['wsgihost_workers{state="stopping"}'] == 0, 10,
               "no worker stopping")
    assert samples(srv)["wsgihost_worker_recycles_total"] == 1
