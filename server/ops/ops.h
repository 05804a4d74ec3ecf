/* Operations features on the request path, for the connection code (server/http/conn.c): the
 * PROXY protocol header, trusted proxies (scheme and client address), request IDs, the access
 * log line and the metrics counters. Everything is decided from bytes on the loop thread;
 * nothing here takes the GIL or blocks.
 *
 * The settings are compiled once in the master (wh_ops_init, before binding, so a bad CIDR or
 * log format stops wsgihost with a message); each worker then calls wh_ops_worker_start after
 * the fork to seed its request IDs and find its metrics slot. */
#ifndef WSGIHOST_OPS_H
#define WSGIHOST_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/ops/accesslog.h"
#include "server/core/config.h"
#include "server/ops/forwarded.h"
#include "server/ops/metrics.h"
#include "server/ops/requestid.h"
#include "server/core/scoreboard.h"

struct wh_conn;
struct wh_exchange;

typedef struct wh_ops {
    wh_accesslog_t *accesslog; /* NULL: no access log */
    /* The response headers the access log shows ({Name}o), NULL-terminated; NULL when none,
     * so requests keep no response headers (the default format has none). */
    const char *const *log_header_names;
    wh_cidr_list_t forwarded_allow;
    wh_scheme_headers_t scheme_headers; /* --secure-scheme-headers */
    wh_realip_header_t realip_header;
    wh_cidr_list_t realip_from;
    bool proxy_protocol;
    wh_cidr_list_t proxy_allow;
    bool request_id;
    bool metrics; /* --metrics-bind: count into the scoreboard */
    bool timing;  /* request durations are needed (access log or metrics) */
    const char *health_path, *ready_path;

    /* Per worker, after the fork. */
    wh_slot_stats_t *stats; /* NULL without --metrics-bind */
    wh_request_id_gen_t ids;
} wh_ops_t;

/* Compiles the settings. 0, or -1 with a one-line reason in err. */
int wh_ops_init(wh_ops_t *ops, const wh_config_t *cfg, bool metrics, char *err, size_t err_size);
/* In the worker, after the fork; `slot` is its scoreboard slot (NULL: no scoreboard). */
void wh_ops_worker_start(wh_ops_t *ops, wh_slot_t *slot);
void wh_ops_free(wh_ops_t *ops);

/* A connection was accepted: remember the peer's address for the trust decisions and whether
 * a PROXY header must come first. Returns false when the connection must be closed (a PROXY
 * port reached by a peer outside --proxy-allow-from). */
bool wh_ops_conn_start(struct wh_conn *c, const struct sockaddr *peer);

/* With c->proxy_wait: looks at the bytes pending on the connection. Returns 1 when the header
 * was complete (it has been dropped from c->pending and the client's address taken), 0 when
 * more bytes are needed, -1 when the connection must be closed. */
int wh_ops_proxy_header(struct wh_conn *c);

/* A complete request was taken from the parser (c->start_ns is when): scheme, client address,
 * request ID. Returns 0, or an HTTP status to answer instead (400 for contradictory scheme
 * headers). */
int wh_ops_request(struct wh_conn *c, struct wh_exchange *ex);

/* The response to c->ex has been written whole: access log line and metrics. */
void wh_ops_response_done(struct wh_conn *c);
/* The connection is closing with c->ex unanswered. */
void wh_ops_request_aborted(struct wh_conn *c);
/* The server answered a bad request itself (send_error). */
void wh_ops_error_response(struct wh_conn *c, int status);

/* Bytes were written to the client (loop thread). */
void wh_ops_bytes_written(struct wh_conn *c, uint64_t n);

#endif
