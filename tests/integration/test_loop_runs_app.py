"""--threads 0: no Python threads; the worker's event loop runs the app itself, one request at
a time (server/http/exchange.h). What must still hold: keep-alive and pipelined requests are
answered in order, a response larger than the output buffer reaches a client that reads it,
and a client that goes away or stops reading releases the loop and the app's iterable."""

import hashlib
import os
import socket

from conftest import wait_until
from support import worker_pids

STREAM_TOTAL = 8 << 20  # 8 times the output buffer's high-water mark
STALLED_TOTAL = 256 << 20  # more than any socket buffer holds


def start(start_server, *args):
    srv = start_server(args=["--workers", "1", "--threads", "0"] + list(args))
    srv.stderr.wait_for(r"1 worker\(s\), 0 thread\(s\) each", 10)
    return srv


def threads_of(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def test_the_worker_has_no_python_threads(start_server):
    srv = start(start_server)
    resp = srv.get("/_t/environ")
    assert resp.status == 200
    assert b'"wsgi.multithread": {"type": "bool", "value": false}' in resp.body, resp.body
    (worker,) = worker_pids(srv)
    assert threads_of(worker) == 1  # the loop's own: no runner was started


def test_keep_alive_and_pipelined_requests_in_order(start_server):
    srv = start(start_server)
    with srv.conn() as c:
        for i in range(20):
            resp = c.request("GET", "/_t/write?parts=a,%d&tail=z" % i)
            assert (resp.status, resp.body) == (200, b"a%dz" % i)
        c.send(b"".join(b"GET /_t/write?parts=p%d HTTP/1.1\r\nHost: t\r\n\r\n" % i
                        for i in range(5)))
        bodies = [c.read_final("GET").body for _ in range(5)]
    assert bodies == [b"p%d" % i for i in range(5)]


def test_a_response_past_the_buffer_reaches_a_reader(start_server):
    srv = start(start_server)
    with srv.conn(timeout=30) as c:
        resp = c.request("GET", "/_t/stream?total=%d&chunk=65536&tag=big" % STREAM_TOTAL)
    assert resp.status == 200
    assert hashlib.sha256(resp.body).digest() == hashlib.sha256(b"s" * STREAM_TOTAL).digest()
    wait_until(lambda: srv.stat("stream.big.closed") == 1, 10, "the stream's close()")
    assert srv.get("/_t/hello").status == 200


def test_a_client_gone_mid_response_releases_the_loop(start_server):
    srv = start(start_server)
    c = socket.create_connection(srv.address, timeout=10)
    c.sendall(b"GET /_t/stream?total=%d&tag=gone HTTP/1.1\r\nHost: t\r\n\r\n" % STALLED_TOTAL)
    assert c.recv(65536).startswith(b"HTTP/1.1 200 OK")
    # An RST rather than a FIN: the server's next write fails at once.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    wait_until(lambda: srv.stat("stream.gone.closed") == 1, 10, "the stream's close()")
    assert srv.stat("stream.gone.yielded") < STALLED_TOTAL
    assert srv.get("/_t/hello").status == 200


def test_a_client_that_stops_reading_is_cut_at_the_write_timeout(start_server):
    srv = start(start_server, "--write-timeout", "1")
    with srv.conn(timeout=30) as stuck:
        stuck.send(b"GET /_t/stream?total=%d&tag=stuck HTTP/1.1\r\nHost: t\r\n\r\n"
                   % STALLED_TOTAL)
        # /_t/stats needs the loop, which runs the app: it answers once the loop is free.
        wait_until(lambda: srv.stat("stream.stuck.closed") == 1, 20,
                   "the write timeout to end the response")
        assert stuck.wait_closed(timeout=20)
    assert srv.stat("stream.stuck.yielded") < STALLED_TOTAL
    assert srv.get("/_t/hello").status == 200
