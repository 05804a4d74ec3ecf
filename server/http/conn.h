/* One client connection: the state machine from accept to close (read a request, hand it to a
 * runner, write the response, keep alive or close), with its timeouts and back-pressure.
 * Loop thread only. */
#ifndef WSGIHOST_CONN_H
#define WSGIHOST_CONN_H

#include <stddef.h>
#include <sys/socket.h>

#include "server/http/worker.h"

typedef enum {
    WH_CONN_READING, /* receiving a request (or idle between requests) */
    WH_CONN_APP,     /* a runner has the request; output flows as it comes */
    WH_CONN_ERROR,   /* sending the server's own error answer, then closing */
    WH_CONN_LINGER,  /* our side is shut; reading until the client closes, so it sees our
                        answer instead of a reset */
} wh_conn_state_t;

typedef enum {
    WH_TIMER_NONE,
    WH_TIMER_IDLE,
    WH_TIMER_HEAD,
    WH_TIMER_BODY,
    WH_TIMER_RECEIVE, /* --receive-timeout, the ceiling on head and body together */
    WH_TIMER_WRITE,
    WH_TIMER_LINGER
} wh_timer_kind_t;

typedef struct wh_conn {
    wh_worker_t *worker;
    const wh_listener_t *listener;
    struct wh_conn *prev, *next;
    int fd;
    uv_poll_t poll;
    uv_timer_t timer;
    int poll_events;
    int handles_open;
    wh_timer_kind_t timer_kind;
    wh_conn_state_t state;

    wh_http1_t http;
    wh_buf_t pending; /* received bytes not parsed yet (pipelined or while busy) */

    wh_exchange_t *ex;     /* the request in flight */
    uint64_t submitted_ms; /* when it went to the app (for the worker timeout) */
    unsigned ex_state;     /* its flags as last taken */
    uint64_t requests;
    uint64_t receive_start_ms; /* loop time the request being received began; 0 none */

    wh_outseg_t *out; /* output not yet written */
    wh_outseg_t *out_tail;
    bool write_blocked; /* the socket said EAGAIN: wait for POLLOUT */

    bool peer_eof;
    bool closed;
    bool parsing;      /* inside parse(): a response that completes there must not re-enter it */
    uint64_t lingered; /* bytes discarded while lingering */

    char remote_addr[WH_ADDR_TEXT_MAX];
    char remote_port[WH_PORT_TEXT_MAX];

    bool preamble;     /* bytes come before HTTP (the observer's, e.g. a PROXY header) */
    uint64_t start_ns; /* when the request in flight was complete (uv_hrtime, set by submit) */

    /* The observer's own bytes (server/http/observer.h: conn_state_size of them). */
    max_align_t observer_state[];
} wh_conn_t;

static inline void *wh_conn_observer_state(wh_conn_t *c)
{
    return c->observer_state;
}

/* Takes over an accepted, non-blocking socket. Returns 0, or -1 (the socket is closed). */
int wh_conn_start(wh_worker_t *w, const wh_listener_t *l, int fd, const struct sockaddr *peer);

/* The runner queued output for the conn's exchange. */
void wh_conn_on_output(wh_conn_t *c);

/* --threads 0 (wh_notifier_t.write_now), after the conn's output was taken: the app, running on
 * the loop thread, filled its response buffer and the socket is full. Blocks the loop for at
 * most --write-timeout until the socket takes more, and writes. 0, or -1 once the connection
 * is closed (the client is gone, or too slow: the timeout closes it as the loop's write timer
 * would). */
int wh_conn_wait_writable(wh_conn_t *c);

/* Worker stop: with `quick` close at once; otherwise keep reading for the drain window and
 * close after an answer that announced it (or once idle for the window). */
void wh_conn_stop(wh_conn_t *c, bool quick);

#endif
