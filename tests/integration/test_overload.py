"""--queue-timeout: under overload, requests that waited too long for a Python thread get a
quick 503 with Retry-After (counted in the metrics); requests that reached the app finish."""

import threading
import time

from support import samples

import pytest

# One Python thread, a 200 ms view and 20 requests at once: 4 s of work, so most of them would
# wait far longer than the timeout.
VIEW_MS, CLIENTS, QUEUE_TIMEOUT = 200, 20, 0.5
# threads: (a shed request is answered within, requests run at most).
# With a Python thread the loop answers a shed request just after the timeout, however busy
# that thread is; it takes requests at 0, 200 and 400 ms (one more if the machine is slow
# enough that the third one is taken right at the deadline).
# With --threads 0 the loop runs the app: a request is read once the view running when it
# came is done, and shed before the next view once it has waited past the timeout, so by
# the timeout plus two views (each a little over VIEW_MS, more under ASan: 1.004 s was seen
# on a fresh machine), and one more request may run. Queueing alone would take ~4 s.
EXPECTED = {1: (0.6, 4), 0: (QUEUE_TIMEOUT + 2 * VIEW_MS / 1000 + 0.3, 5)}


@pytest.mark.parametrize("threads", sorted(EXPECTED))
def test_queue_timeout_answers_late_requests_503(start_server, threads):
    shed_within, run_at_most = EXPECTED[threads]
    srv = start_server(args=["--workers", "1", "--threads", str(threads),
                             "--queue-timeout", str(QUEUE_TIMEOUT),
                             "--metrics-bind", "127.0.0.1:0"])
    before = srv.stats()
    assert samples(srv)["wsgihost_queue_timeouts_total"] == 0
    conns = [srv.conn(timeout=15) for _ in range(CLIENTS)]
    results = [None] * CLIENTS
    try:
        sent = []
        for c in conns:
            sent.append(time.monotonic())
            c.send(b"GET /_t/sleep?ms=%d HTTP/1.1\r\nHost: t\r\n\r\n" % VIEW_MS)

        def read(i):
            resp = conns[i].read_final("GET", timeout=15)
            results[i] = (resp, time.monotonic() - sent[i])

        readers = [threading.Thread(target=read, args=(i,)) for i in range(CLIENTS)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(20)
    finally:
        for c in conns:
            c.close()
    assert all(r is not None and r[0] is not None for r in results), results
    served = [(resp, took) for resp, took in results if resp.status == 200]
    shed = [(resp, took) for resp, took in results if resp.status == 503]
    assert len(served) + len(shed) == CLIENTS, [resp.status for resp, _ in results]
    assert 1 <= len(served) <= run_at_most, [resp.status for resp, _ in results]
    for resp, took in shed:
        assert resp.header("Retry-After") == "1", resp
        assert QUEUE_TIMEOUT <= took <= shed_within, "a 503 after %.3f s" % took
    assert samples(srv)["wsgihost_queue_timeouts_total"] == len(shed)
    # Every request that reached the app finished there and got its 200; none is left running.
    after = srv.stats()
    assert after["stats"].get("sleeping", 0) == 0, after
    assert after["stats"].get("slept", 0) - before["stats"].get("slept", 0) == len(served)
    assert all(resp.body == b"slept" for resp, _ in served)
