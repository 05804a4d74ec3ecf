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

/* Wakes the loop when exchanges have output (runner threads push, the loop takes). */
typedef struct wh_notifier {
    pthread_mutex_t mu;
    struct wh_exchange *head;
    struct wh_exchange *tail;
    bool closed;            /* the loop is gone: runners finishing late must not touch the handle */
    atomic_int outstanding; /* exchanges handed to runners and not finished yet */
    uv_async_t async;
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
    const wh_observer_t *observer;   /* NULL when none */
    char text[WH_EXCHANGE_TEXT_MAX]; /* wh_exchange_keep_text's storage */
    size_t text_len;

    /* Runner-only state. */
    bool chunked;
    bool body_dropped;       /* HEAD, 204, 304: no body bytes go out */
    int64_t declared_length; /* -1 when not known up front */
    uint64_t body_written;
    struct wh_exchange *next_job;
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
/* Closes the async handle; call from the loop thread when the worker stops. */
void wh_notifier_close(wh_notifier_t *n);

#endif
