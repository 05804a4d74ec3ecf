/* A worker: one libuv loop thread that owns every socket (listeners and connections), parses
 * requests, enforces timeouts and limits, and writes responses. Complete requests go to the
 * runner threads through `jobq`, and their output comes back through the notifier
 * (server/http/exchange_loop.h). With --threads 0 there are no runner threads: `run_app` runs
 * each queued request on the loop thread, one at a time, before the loop next sleeps (the
 * rules in server/http/exchange.h). */
#ifndef WSGIHOST_WORKER_H
#define WSGIHOST_WORKER_H

#include <stdbool.h>
#include <uv.h>

#include "server/core/config.h"
#include "server/http/exchange_loop.h"
#include "server/http/http1.h"
#include "server/http/listen.h"
#include "server/http/observer.h"
#include "server/http/shed.h"
#include "server/core/scoreboard.h"

/* Reads land in one worker-wide buffer; only leftovers are copied into a connection. */
enum { WH_READ_SCRATCH_SIZE = 64 * 1024 };

struct wh_conn;

/* Requests the loop answers itself, never reaching Python (static files, health probes). A
 * handler looks at ex->req; when the request is its own it sets ex->local, queues the whole
 * response (wh_exchange_start/_write/_sendfile) and wh_exchange_finish_local, and returns
 * true. Returning false passes the request on. Loop thread only. */
typedef bool (*wh_local_handler_fn)(void *ctx, wh_exchange_t *ex);
typedef struct {
    wh_local_handler_fn fn;
    void *ctx;
} wh_local_handler_t;
enum { WH_MAX_LOCAL_HANDLERS = 8 };

typedef struct wh_worker {
    uv_loop_t loop;
    const wh_config_t *cfg;
    wh_http1_limits_t limits;

    wh_listener_t *listeners;
    uv_poll_t *listen_polls;
    size_t listener_count;
    bool accepting;
    uv_timer_t accept_resume; /* after EMFILE: accept again a little later */

    wh_jobq_t *jobq;
    /* --threads 0: runs one exchange's app to wh_exchange_finish on the calling (loop) thread;
     * set by the program before wh_worker_run. NULL: runner threads take the queue. */
    void (*run_app)(wh_exchange_t *ex);
    wh_shed_t shed; /* --queue-timeout */
    wh_notifier_t notifier;
    uv_prepare_t prepare;  /* before sleeping: held output, runner wake-ups */
    uv_timer_t hold_timer; /* while runners are busy: output they hold back */
    uv_idle_t run_more;    /* --threads 0: requests still queued after a slice, poll on */
    wh_local_handler_t local_handlers[WH_MAX_LOCAL_HANDLERS];
    size_t local_handler_count;

    uv_signal_t sig_term, sig_int, sig_quit, sig_usr1;
    wh_scoreboard_t *sb;  /* shared with the master and the other workers, or NULL */
    wh_slot_t *slot;      /* this worker's slot in it */
    uv_timer_t heartbeat; /* writes the slot once a second, and checks the master is there */
    int accept_batch;     /* 1 when several workers share a listener, for fair spread */
    int accept_gate;      /* with several workers: stop accepting while this many requests
                             wait for or run in Python (0: never), so a busy or stuck worker
                             leaves new connections to the others */
    bool accept_gated;
    uint64_t requests_done;
    uint64_t requests_started; /* handed to the app: the one reaching max_requests says close */
    uint64_t max_requests;     /* stop gracefully after this many (0: never) */
    uv_timer_t shutdown_timer;
    uv_timer_t last_accept; /* a graceful stop's second look at the accept queue (worker.c) */
    uv_timer_t drain_timer; /* --drain-delay: SIGTERM starts the graceful stop when it fires */
    bool draining;          /* SIGTERM came: still serving, readiness answers 503 */
    uv_check_t log_flush;
    uv_timer_t log_timer; /* writes buffered access lines at most WH_LOG_FLUSH_MS after them */
    const wh_observer_t *observer; /* watches the request path (server/ops), or NULL */
    struct {
        void (*fn)(void *ctx); /* closes a module's own loop handles (--reload's watches) */
        void *ctx;
    } stop_hook; /* called once when the worker has stopped, so the loop can end */

    struct wh_conn *conns; /* every open connection, for shutdown */
    size_t conn_count;
    bool stopping;
    bool stopped;
    bool forced; /* in-flight work was cut off (quick stop or graceful timeout) */

    char scratch[WH_READ_SCRATCH_SIZE];
} wh_worker_t;

/* Sets up the loop over already-bound listeners. Returns 0 or -1 (logged). */
int wh_worker_init(wh_worker_t *w, const wh_config_t *cfg, wh_listener_t *listeners,
                   size_t listener_count, wh_jobq_t *jobq, wh_scoreboard_t *sb, int slot);

/* The connection count changed (connections call it as they open and close). */
void wh_worker_conns_changed(wh_worker_t *w);

/* Adds a handler tried, in order, before a request goes to Python. 0, or -1 when full. */
int wh_worker_add_local_handler(wh_worker_t *w, wh_local_handler_fn fn, void *ctx);

/* A request is handed to the app; true when it is the one that reaches --max-requests (its
 * answer then announces the close). */
bool wh_worker_request_started(wh_worker_t *w);
/* A response was sent (counts toward --max-requests). */
void wh_worker_request_done(wh_worker_t *w);

/* Runs until SIGTERM (graceful: in-flight requests finish within --graceful-timeout) or
 * SIGINT/SIGQUIT (quick). Returns 0 when everything in flight finished, 1 otherwise. */
int wh_worker_run(wh_worker_t *w);

/* Starts a graceful (quick = false) or quick stop; loop thread only. */
void wh_worker_stop(wh_worker_t *w, bool quick);

/* Called by connections when they are gone (loop thread). */
void wh_worker_conn_closed(wh_worker_t *w);

#endif
