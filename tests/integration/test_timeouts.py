"""Timeouts (header, body, keep-alive, write) and slow clients that must not block others.

Tiny timeouts (1 s) keep these quick; each test waits for the close with a deadline and checks
that it did not happen much before the timeout. Clients that trickle bytes do so with short
pauses between sends: that is the workload being tested, not synchronisation.
"""

import threading
import time

import pytest

from conftest import wait_until


def closed_after(conn, timeout):
    """Seconds until the server closed the connection (reading and discarding), or None."""
    start = time.monotonic()
    if conn.wait_closed(timeout):
        return time.monotonic() - start
    return None


def trickle_until_closed(c, byte, interval, tries):
    """Sends `byte` every `interval` seconds (at most `tries` times) until the server closes
    the connection: (closed, seconds it took)."""
    start = time.monotonic()
    for _ in range(tries):
        try:
            c.send(byte)
        except (BrokenPipeError, ConnectionResetError):
            return True, time.monotonic() - start
        if c.wait_closed(interval):
            return True, time.monotonic() - start
    return False, time.monotonic() - start


def test_header_timeout_closes_idle_partial_head(start_server):
    srv = start_server(args=["--header-timeout", "1"])
    with srv.conn() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: test\r\n")
        elapsed = closed_after(c, 10)
        assert elapsed is not None, "a partial head was kept open for 10 s with --header-timeout 1"
        assert elapsed > 0.5, "closed after %.2fs, before the 1 s timeout" % elapsed
        assert b"HTTP/1.1 2" not in c.received
    assert srv.stat("calls") == 0


def test_header_timeout_is_a_deadline_not_an_idle_timer(start_server):
    """A slowloris client sending one header byte every 0.2 s is cut off after the header
    timeout even though it is never idle for that long."""
    srv = start_server(args=["--header-timeout", "1"])
    with srv.conn() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: test\r\n")
        closed, elapsed = trickle_until_closed(c, b"X", 0.2, 50)  # at most 10 s
    assert closed, "trickling header bytes kept the connection open past the header timeout"
    assert elapsed < 5, "closed only after %.1fs with --header-timeout 1" % elapsed


def test_body_timeout_closes_stalled_body(start_server):
    srv = start_server(args=["--body-timeout", "1"])
    with srv.conn() as c:
        c.send(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        elapsed = closed_after(c, 10)
        assert elapsed is not None, "a stalled body was kept open for 10 s with --body-timeout 1"
        assert elapsed > 0.5, "closed after %.2fs" % elapsed
    assert srv.stat("calls") == 0


def test_receive_timeout_caps_a_body_trickled_inside_the_body_timeout(start_server):
    """One body byte every 0.7 s never lets --body-timeout 1 fire; --receive-timeout 3 is the
    ceiling on the whole request: a 408, and the app never called."""
    srv = start_server(args=["--body-timeout", "1", "--receive-timeout", "3"])
    with srv.conn() as c:
        c.send(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n")
        closed, elapsed = trickle_until_closed(c, b"x", 0.7, 30)  # at most ~21 s
        assert closed, "a body trickled inside --body-timeout was received for %.0f s" % elapsed
        assert 2.5 < elapsed < 6, "closed after %.1f s with --receive-timeout 3" % elapsed
        assert b"HTTP/1.1 408 " in c.received, c.received[:200]
    assert srv.stat("calls") == 0


def test_keep_alive_timeout_closes_idle_connection(start_server):
    srv = start_server(args=["--keep-alive", "1"])
    with srv.conn() as c:
        assert c.request("GET", "/_t/hello").status == 200
        elapsed = closed_after(c, 10)
    assert elapsed is not None, "an idle keep-alive connection lived 10 s with --keep-alive 1"
    assert elapsed > 0.5, "closed after %.2fs" % elapsed


def test_write_timeout_drops_a_client_that_does_not_read(start_server):
    srv = start_server(args=["--write-timeout", "1", "--threads", "2"])
    total, tag = 200 * (1 << 20), "writetimeout"
    with srv.conn(timeout=30) as c:
        c.send(b"GET /_t/stream?total=%d&tag=%s HTTP/1.1\r\nHost: test\r\n\r\n"
               % (total, tag.encode()))
        # Not reading: the server must give up on us and close the app's iterable.
        wait_until(lambda: srv.stat("stream.%s.closed" % tag) == 1, 15,
                   "the server to drop a client that stopped reading (--write-timeout 1)")
        assert c.wait_closed(30), "the connection was not closed"
        assert len(c.received) < total
    assert srv.get("/_t/hello").status == 200


def trickle(conn, data, pause, stop):
    """Sends data one byte at a time until done or stop is set; returns bytes sent."""
    for i in range(len(data)):
        if stop.is_set():
            return i
        conn.send(data[i:i + 1])
        stop.wait(pause)
    return len(data)


@pytest.mark.parametrize("phase", ["head", "body"])
def test_slow_client_does_not_block_others(start_server, phase):
    """With one Python thread, a client trickling its request (head or body) for ~3 s does
    not delay others: requests are handed to the app only once complete."""
    srv = start_server(args=["--threads", "1", "--header-timeout", "30", "--body-timeout", "30"])
    if phase == "head":
        slow = b"GET /slow HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"s" * 40 + b"\r\n\r\n"
    else:
        slow = b"POST /slow HTTP/1.1\r\nHost: test\r\nContent-Length: 60\r\n\r\n" + b"b" * 60
    stop = threading.Event()
    with srv.conn(timeout=30) as slow_conn:
        # the head of a slow body arrives at once; the rest trickles
        start = slow.index(b"\r\n\r\n") + 4 if phase == "body" else 0
        slow_conn.send(slow[:start])
        sender = threading.Thread(target=trickle, args=(slow_conn, slow[start:], 0.05, stop))
        sender.start()
        try:
            t0 = time.monotonic()
            with srv.conn() as fast:
                for i in range(20):
                    resp = fast.request("GET", "/fast/%d" % i)
                    assert resp.status == 200 and resp.json()["path_info"] == "/fast/%d" % i
            fast_time = time.monotonic() - t0
            assert sender.is_alive(), "the slow client finished first; the test proved nothing"
            assert fast_time < 2, "20 requests took %.1fs beside a slow client" % fast_time
        except BaseException:
            stop.set()
            raise
        finally:
            sender.join(10)
        resp = slow_conn.read_final(timeout=10)
        assert resp.status == 200 and resp.json()["path_info"] == "/slow"


@pytest.mark.parametrize("kind", ["list", "iterable"])
def test_slow_reader_does_not_hold_the_only_thread(start_server, kind):
    """A client that never reads an 8 MB response made of one piece does not stop others being
    served with --threads 1: the loop holds the buffered response, not the Python thread
    (back-pressure only makes the app wait before it produces more)."""
    srv = start_server(args=["--threads", "1"])
    with srv.conn(timeout=30) as lazy:
        lazy.send(b"GET /_t/large?size=%d&kind=%s HTTP/1.1\r\nHost: test\r\n\r\n"
                  % (8 << 20, kind.encode()))
        # /_t/stats itself needs the only Python thread: it answers only once that is free
        wait_until(lambda: srv.stat("large.returned") == 1, 10,
                   "the app's thread to be free while the client is not reading")
        if kind == "iterable":
            assert srv.stat("closes.large") == 1
        for i in range(5):
            assert srv.get("/others/%d" % i, timeout=5).status == 200
        resp = lazy.read_final(timeout=30)
        assert resp.status == 200 and len(resp.body) == 8 << 20
