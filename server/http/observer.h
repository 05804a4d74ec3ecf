/* Watching the request path: what the HTTP core tells an observer (server/ops registers one:
 * access log, metrics, proxies, request IDs), so the core neither includes nor links what
 * watches it. One observer per worker, set before the loop runs (wh_worker_t.observer).
 *
 * Each event is one indirect call. Every event but response_head comes on the loop thread and
 * gets the connection; response_head comes from whoever produces the response (a runner
 * thread, or the loop for its own answers) and gets only the exchange. The HTTP core allocates
 * nothing for an observer per request: a connection keeps conn_state_size zeroed bytes for it
 * (wh_conn_observer_state), and an exchange has room for the strings an observer sets on the
 * request (wh_exchange_keep_text) and one pointer it owns (observer_data). */
#ifndef WSGIHOST_OBSERVER_H
#define WSGIHOST_OBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/http/request.h"

struct wh_conn;
struct wh_exchange;

typedef enum {
    WH_REQUEST_ANSWERED, /* the whole response was written */
    WH_REQUEST_ABORTED,  /* the connection closed with the request unanswered */
} wh_request_end_t;

typedef struct wh_observer {
    void *self;
    size_t conn_state_size; /* bytes each connection keeps for the observer, zeroed */

    /* A connection was accepted from `peer`. May set c->preamble (bytes come before HTTP).
     * false: the connection is closed at once. */
    bool (*conn_open)(void *self, struct wh_conn *c, const struct sockaddr *peer);
    /* With c->preamble, before any request: look at c->pending. 1 when the preamble is done
     * (its bytes consumed and c->preamble cleared), 0 when more bytes are needed, -1 to close. */
    int (*preamble)(void *self, struct wh_conn *c);
    /* A complete request was parsed (c->start_ns is when) and is about to be answered. 0, or
     * an HTTP status the server answers instead, with a reason in *why (that answer is then
     * a server_answer, and the request gets no request_done). */
    int (*request_start)(void *self, struct wh_conn *c, struct wh_exchange *ex, const char **why);
    /* The response head goes out (producer's thread): `status` and the app's headers. */
    void (*response_head)(void *self, struct wh_exchange *ex, int status,
                          const wh_header_t *headers, size_t count);
    /* `n` bytes went to the client's socket. */
    void (*bytes_written)(void *self, struct wh_conn *c, uint64_t n);
    /* c->ex (the request of request_start) is over. */
    void (*request_done)(void *self, struct wh_conn *c, wh_request_end_t how);
    /* The server answered `status` itself (a bad request, a timeout), with no request taken. */
    void (*server_answer)(void *self, struct wh_conn *c, int status);
    /* The exchange is freed: release its observer_data (called only when that is not NULL). */
    void (*exchange_free)(void *self, void *observer_data);
} wh_observer_t;

#endif
