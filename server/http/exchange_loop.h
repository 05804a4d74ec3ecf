/* The loop's side of an exchange (see server/http/exchange.h for the runner's side and the
 * threading rules): for the loop's own code (worker, conn, jobq), the handlers that answer on the
 * loop (static files, probes) and the observer (server/http/observer.h).
 *
 * An exchange is reference-counted: the loop holds one reference from creation until its
 * connection is done with it, the runner one from submit until wh_exchange_finish, and the
 * notifier's ready list one while the exchange sits in it. The last unref frees it. */
#ifndef WSGIHOST_EXCHANGE_LOOP_H
#define WSGIHOST_EXCHANGE_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "server/core/buf.h"
#include "server/http/exchange.h"
#include "server/http/observer.h"

/* Room in an exchange for strings an observer sets on its request (a request ID). */
enum { WH_EXCHANGE_TEXT_MAX = 160 };

/* Queued response output: memory bytes, or a file range sent with sendfile(2). */
typedef struct wh_outseg {
    struct wh_outseg *next;
    int fd;          /* -1 for memory */
    uint64_t offset; /* file: next byte to send; memory: bytes already written */
    uint64_t len;    /* file: bytes left to send; memory: bytes stored in data */
    size_t cap;      /* memory capacity */
    char data[];
} wh_outseg_t;

/* Hands exchanges with output to the loop (runner threads push, the loop takes).
 *
 * On one core every hand-off between the loop and a runner is a context switch, and waking the
 * other thread at each request cost ~0.8 switches a request. So both sides batch:
 *  - A runner puts the exchange on the ready list at once but only owes the loop a wake-up,
 *    paid when it is about to block (wh_jobq_pop, wh_exchange_wait_writable), or between two
 *    requests once the debt is WH_WAKE_HOLD_MS old.
 *  - The loop wakes runners once a turn, just before it would sleep (wh_jobq_wake). While
 *    every runner is busy and work is still queued, reading more requests would only queue
 *    them, so it does not sleep in the poller, where each arriving request would wake it and
 *    preempt a runner, but in wh_notifier_wait until a runner pays or is about to block, or
 *    WH_WAKE_HOLD_MS pass; then it takes the ready list, reads what arrived, and goes on.
 *  - While runners are busy the loop also looks at the ready list every WH_WAKE_HOLD_MS (a
 *    response held behind a long request, a stream).
 * So a response waits at most WH_WAKE_HOLD_MS for the loop, and while runners are saturated
 * the loop's own work (static files, probes, slow clients, signals) runs at least that often. */
enum { WH_WAKE_HOLD_MS = 4 };
typedef struct wh_notifier {
    pthread_mutex_t mu;
    struct wh_exchange *head;
    struct wh_exchange *tail;
    bool closed;            /* the loop is gone: runners finishing late must not touch the handle */
    bool owed;              /* the ready list has entries the loop was not woken for */
    uint64_t owed_since_ms; /* CLOCK_MONOTONIC */
    bool loop_waiting;      /* the loop is in wh_notifier_wait: signal paid_cond */
    uint64_t pays;          /* wake-ups paid (and runners about to block) so far */
    pthread_cond_t paid_cond;
    atomic_int outstanding; /* exchanges handed to runners and not finished yet */
    uv_async_t async;
    /* --threads 0, the loop thread running the app itself (wh_worker_t.run_app): the app must
     * not wait for a loop that cannot run, so wh_exchange_wait_writable calls this, on the loop
     * thread, with the exchange's owner. It writes what is queued, waiting for the socket to
     * take some (at most --write-timeout); -1 once the connection is closed. NULL otherwise. */
    int (*write_now)(void *owner);
} wh_notifier_t;

/* Output state the loop reads with wh_exchange_take_output. */
enum {
    WH_EX_STARTED = 1u << 0,  /* the head is queued */
    WH_EX_FINISHED = 1u << 1, /* the runner is done: everything is queued */
    WH_EX_CLOSE = 1u << 2,    /* close the connection after this response */
};

struct wh_exchange {
    wh_request_t req;
    /* Storage behind req, owned by the exchange. */
    char *req_strings;
    wh_header_t *req_headers;
    char *req_body;

    /* Set by the loop before submit, constant afterwards. */
    void *owner; /* loop only: the connection, NULL once detached */
    wh_notifier_t *notifier;
    bool head_request;
    bool keep_alive_wanted; /* the request allows the connection to stay open */
    bool http10;
    bool local; /* answered by the loop itself (static file, probe): no runner, no wake-ups */
    uint64_t queued_ms;              /* when it was pushed on the job queue (wh_monotonic_ms) */
    const wh_observer_t *observer;   /* NULL when none */
    char text[WH_EXCHANGE_TEXT_MAX]; /* wh_exchange_keep_text's storage */
    size_t text_len;

    /* Runner-only state. */
    bool chunked;
    bool body_dropped;       /* HEAD, 204, 304: no body bytes go out */
    int64_t declared_length; /* -1 when not known up front */
    uint64_t body_written;
    struct wh_exchange *next_job; /* the job queue's links (jobq.c, under its mutex) */
    struct wh_exchange *prev_job;
    /* The observer's, set by its response_head (producer's thread); the loop reads it once
     * the exchange is finished (taken under mu, so it is visible). Freed by exchange_free. */
    void *observer_data;

    /* Shared, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t writable;
    wh_outseg_t *out_head;
    wh_outseg_t *out_tail;
    uint64_t queued_bytes;
    unsigned state;
    bool client_gone;
    bool in_ready;
    struct wh_exchange *next_ready;
    int status_code; /* for the observer; 0 until started */

    atomic_int refs;
};

/* A new exchange with one reference (the loop's). The request fields are filled by the caller;
 * the exchange takes ownership of the storage pointers set on it. NULL on out of memory. */
wh_exchange_t *wh_exchange_new(wh_notifier_t *notifier);
void wh_exchange_unref(wh_exchange_t *ex);

/* Loop, before the request is handed on: copies `len` bytes into the exchange's own room, so
 * a string set on ex->req lives as long as the exchange. NULL when the room is full. */
const char *wh_exchange_keep_text(wh_exchange_t *ex, const char *s, size_t len);

/* Loop: ends an exchange the loop answered itself (ex->local) with the wh_exchange_start,
 * _write and _sendfile calls of exchange.h. The loop's reference stays. */
void wh_exchange_finish_local(wh_exchange_t *ex, enum wh_finish how);

/* Loop: takes every queued output segment (a list the caller now owns) and the state flags. */
wh_outseg_t *wh_exchange_take_output(wh_exchange_t *ex, unsigned *state);
/* Loop: `bytes` of taken output went to the socket; wakes a runner waiting for room. */
void wh_exchange_written(wh_exchange_t *ex, uint64_t bytes);
/* Loop: the connection is gone; producing calls now fail with WH_ECLIENT. */
void wh_exchange_detach(wh_exchange_t *ex);

void wh_outseg_free_list(wh_outseg_t *seg);

int wh_notifier_init(wh_notifier_t *n, uv_loop_t *loop, uv_async_cb cb);
/* Loop: takes the ready list (each entry holds a reference the caller must drop). */
wh_exchange_t *wh_notifier_take(wh_notifier_t *n);
/* Runner: pays the wake-up this thread owes the loop, if any (`stale_only`: only once it is
 * WH_WAKE_HOLD_MS old). wh_jobq_pop and wh_exchange_wait_writable call it before blocking. */
void wh_notifier_pay(bool stale_only);
/* Loop: waits until a runner pays a wake-up or is about to block, or WH_WAKE_HOLD_MS pass.
 * `pays` is wh_notifier_pays read before the loop decided to wait, so that a runner that went
 * idle in between is not missed. */
uint64_t wh_notifier_pays(wh_notifier_t *n);
void wh_notifier_wait(wh_notifier_t *n, uint64_t pays);
/* Closes the async handle; call from the loop thread when the worker stops. */
void wh_notifier_close(wh_notifier_t *n);

#endif
