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


def sleep_requests(srv, count, view_ms, every_s=0.0):
    """Sends `count` requests for a `view_ms` view, each on a connection of its own, `every_s`
    apart (0: all at once), and reads every answer: [(response, seconds from its send to the
    answer, seconds from the first send to its own)]."""
    conns = [srv.conn(timeout=15) for _ in range(count)]
    results = [None] * count
    sent = [0.0] * count

    def read(i):
        resp = conns[i].read_final("GET", timeout=15)
        results[i] = (resp, time.monotonic() - sent[i], sent[i] - sent[0])

    readers = [threading.Thread(target=read, args=(i,)) for i in range(count)]
    try:
        first = time.monotonic()
        for i, c in enumerate(conns):
            # Pacing the load (the arrival rate is what is tested), not waiting for the server.
            time.sleep(max(0.0, first + i * every_s - time.monotonic()))
            sent[i] = time.monotonic()
            c.send(b"GET /_t/sleep?ms=%d HTTP/1.1\r\nHost: t\r\n\r\n" % view_ms)
            readers[i].start()
        for t in readers:
            t.join(20)
    finally:
        for c in conns:
            c.close()
    assert all(r is not None and r[0] is not None for r in results), results
    return results


@pytest.mark.parametrize("threads", sorted(EXPECTED))
def test_queue_timeout_answers_late_requests_503(start_server, threads):
    shed_within, run_at_most = EXPECTED[threads]
    srv = start_server(args=["--workers", "1", "--threads", str(threads),
                             "--queue-timeout", str(QUEUE_TIMEOUT),
                             "--metrics-bind", "127.0.0.1:0"])
    before = srv.stats()
    assert samples(srv)["wsgihost_queue_timeouts_total"] == 0
    results = sleep_requests(srv, CLIENTS, VIEW_MS)
    served = [(resp, took) for resp, took, _ in results if resp.status == 200]
    shed = [(resp, took, after_first) for resp, took, after_first in results
            if resp.status == 503]
    assert len(served) + len(shed) == CLIENTS, [r[0].status for r in results]
    assert 1 <= len(served) <= run_at_most, [r[0].status for r in results]
    for resp, took, after_first in shed:
        assert resp.header("Retry-After") == "1", resp
        assert took <= shed_within, "a 503 after %.3f s" % took
        # Nothing is shed before the queue has stood a whole timeout; from then on the overload
        # is sustained (shed.h) and a request sent a little after the first may be shed a
        # little before its own timeout.
        assert after_first + took >= QUEUE_TIMEOUT, \
            "a 503 %.3f s after the first request was sent" % (after_first + took)
    assert samples(srv)["wsgihost_queue_timeouts_total"] == len(shed)
    # Every request that reached the app finished there and got its 200; none is left running.
    after = srv.stats()
    assert after["stats"].get("sleeping", 0) == 0, after
    assert after["stats"].get("slept", 0) - before["stats"].get("slept", 0) == len(served)
    assert all(resp.body == b"slept" for resp, _ in served)


# Sustained overload: a request every 25 ms for a 100 ms view, 4x what one thread serves. The
# queue stands from the second request on; once it has stood a whole timeout (0.4 s) a request
# may wait only 25 ms before it is shed (server/http/shed.h), where a burst may wait the whole
# timeout. With --threads 0 a shed request is answered once the view running at its deadline
# is done (one view more).
SUSTAINED_VIEW_MS, SUSTAINED_TIMEOUT, EVERY_S, SUSTAINED_REQUESTS = 100, 0.4, 0.025, 40
# Requests sent this long after the first find the overload established.
OVERLOAD_SEEN_AFTER_S = SUSTAINED_TIMEOUT + 0.2
SUSTAINED_SHED_WITHIN = {1: SUSTAINED_TIMEOUT / 2, 0: SUSTAINED_TIMEOUT / 2 + SUSTAINED_VIEW_MS / 1000}


@pytest.mark.parametrize("threads", sorted(SUSTAINED_SHED_WITHIN))
def test_sustained_overload_sheds_within_milliseconds(start_server, threads):
    srv = start_server(args=["--workers", "1", "--threads", str(threads),
                             "--queue-timeout", str(SUSTAINED_TIMEOUT),
                             "--metrics-bind", "127.0.0.1:0"])
    results = sleep_requests(srv, SUSTAINED_REQUESTS, SUSTAINED_VIEW_MS, EVERY_S)
    statuses = [resp.status for resp, _, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 3, statuses
    late = [took for resp, took, at in results
            if resp.status == 503 and at >= OVERLOAD_SEEN_AFTER_S]
    assert len(late) >= 5, statuses
    # Before this rule every one of them waited the whole timeout.
    assert max(late) < SUSTAINED_SHED_WITHIN[threads], "503s after %s s" % sorted(late)
    assert samples(srv)["wsgihost_queue_timeouts_total"] == statuses.count(503)
