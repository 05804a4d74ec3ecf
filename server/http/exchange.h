/* The application-runner interface: how a worker's loop hands complete requests to runner
 * threads (pyglue/ implements the runner) and gets their responses back.
 *
 * Threading and ownership rules:
 *  - The loop thread creates one exchange per request and pushes it on the worker's job queue.
 *    A runner thread pops it and owns the producing side: it alone calls wh_exchange_start,
 *    _write, _sendfile and _wait_writable, from its own thread, and ends with exactly one
 *    wh_exchange_finish. After that call the runner must not touch the exchange or its request.
 *  - With --threads 0 the loop thread itself is the runner (wh_worker_t.run_app): between two
 *    turns of the loop it pops and runs exchanges for a slice of WH_WAKE_HOLD_MS, holding the
 *    GIL while the app runs, and wh_exchange_wait_writable (and wh_exchange_flush) write the
 *    output instead of waiting for a loop that cannot run. Nothing else the worker does
 *    (other clients, static files, probes, signals, the heartbeat) runs until the slice ends.
 *  - The request is read-only and valid from pop until finish.
 *  - A runner never touches a socket: output is queued in the exchange and handed to the loop,
 *    which writes it. Hand-offs are batched both ways (wh_notifier_t in exchange_loop.h): the
 *    loop wakes runners once a turn, a runner wakes the loop only when it is about to block or
 *    its debt is WH_WAKE_HOLD_MS old, and the loop takes output without a wake-up whenever it
 *    runs. So a response may wait up to WH_WAKE_HOLD_MS after a producing call returns.
 *  - The loop never waits for a runner for longer than WH_WAKE_HOLD_MS at a time: while
 *    runners have queued work it yields to them (wh_notifier_wait) instead of polling, and its
 *    own work (static files, probes, slow clients, signals, the scoreboard) still runs at least
 *    that often. The loop never holds the GIL (except as the runner, with --threads 0).
 *  - Nothing here takes or needs Python's GIL. The calls that may block (wh_jobq_pop,
 *    wh_exchange_wait_writable) must be made with the GIL released; they first pay the loop
 *    the wake-up this runner owes it.
 *  - If the client goes away, producing calls return WH_ECLIENT: stop producing (still call
 *    close() on the app's iterable) and finish. */
#ifndef WSGIHOST_EXCHANGE_H
#define WSGIHOST_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include "server/http/jobq.h" /* where a runner takes exchanges from */
#include "server/http/request.h"

typedef struct wh_exchange wh_exchange_t;

enum {
    WH_OK = 0,
    WH_FULL = 1,     /* queued, but the response buffer is above its high-water mark: call
                        wh_exchange_wait_writable (GIL released) before producing more */
    WH_ECLIENT = -1, /* the client is gone or the connection failed: stop producing */
    WH_EINVAL = -2,  /* invalid status or header (nothing was queued): answer 500 instead */
    WH_ESTATE = -3,  /* called out of order (write before start, start twice) */
};

const wh_request_t *wh_exchange_request(const wh_exchange_t *ex);

/* Queues the status line and headers. `status` is the WSGI status string ("200 OK"); it and
 * every header are validated (token names, no CR/LF/NUL or other controls in values): on
 * WH_EINVAL nothing was queued. The server adds Date, Server and the framing headers itself:
 * Content-Length when the app gave one, or from `body_len_hint` (>= 0 when the runner knows
 * the whole body length), else chunked for HTTP/1.1 (close-delimited for HTTP/1.0).
 * Hop-by-hop headers from the app are not forwarded, except that "Connection: close" is honoured.
 */
int wh_exchange_start(wh_exchange_t *ex, const char *status, size_t status_len,
                      const wh_header_t *headers, size_t header_count, int64_t body_len_hint);

/* Queues body bytes (copied). Empty writes are ignored. For HEAD the bytes are dropped. */
int wh_exchange_write(wh_exchange_t *ex, const void *data, size_t len);

/* Queues `count` bytes of a regular file from `offset`, sent with sendfile(2). The descriptor
 * is duplicated: the caller keeps and closes its own. count < 0 means "to the end of file". */
int wh_exchange_sendfile(wh_exchange_t *ex, int fd, int64_t offset, int64_t count);

/* Blocks until the queued output is below the low-water mark (WH_OK) or the client is gone
 * (WH_ECLIENT). On the loop thread (--threads 0) it writes the output itself meanwhile. */
int wh_exchange_wait_writable(wh_exchange_t *ex);

/* What wh_exchange_start accepts, for a runner to check an app's head when it is handed over.
 * Parses a WSGI status ("200 OK": three digits, a space, a reason of visible text): the code,
 * or -1 when it is not valid on the wire. An app's code must be at least WH_APP_STATUS_MIN
 * (1xx interim answers are the server's business). */
int wh_status_parse(const char *status, size_t len);
enum { WH_APP_STATUS_MIN = 200 };
/* True when the name is an RFC 9110 token and the value holds no CR, LF, NUL or other
 * control bytes except HTAB. */
bool wh_header_valid(const wh_header_t *h);

/* The app's response is complete, but the runner has work left before wh_exchange_finish (the
 * iterable's close(), freeing the request's objects). On the loop thread (--threads 0) it
 * writes what is queued now instead of after that work, so the answer, and the client's next
 * request, are on their way meanwhile (one connection, /plain/: 4,000 -> 5,400+ requests/s,
 * and less CPU a request, as the loop less often sleeps between two). That costs a write of
 * its own, so the runner calls it only when no other request is waiting for it. A runner
 * thread does nothing here: on one core the loop it would wake does not preempt it, and the
 * wake-up measured as a cost, not a gain. */
void wh_exchange_flush(wh_exchange_t *ex);

enum wh_finish {
    WH_FINISH_OK,    /* the response is complete */
    WH_FINISH_ERROR, /* the app failed: a 500 if nothing was started yet, else the connection is
                        closed after what was queued (the response is cut short) */
};

/* Ends the runner's part. The exchange must not be used afterwards. */
void wh_exchange_finish(wh_exchange_t *ex, enum wh_finish how);

#endif
