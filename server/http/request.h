/* A complete, parsed HTTP request as the application runner sees it.
 *
 * The loop thread fills it in (server/http/http1.c); once it is handed to a runner through a job
 * queue (server/http/exchange.h) it is read-only and stays valid until the runner finishes the
 * exchange. Strings are bytes, not NUL-terminated; each one stands for latin-1 text in WSGI terms.
 */
#ifndef WSGIHOST_REQUEST_H
#define WSGIHOST_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/util.h" /* wh_str_t */

/* One header field line. The name keeps the case it was sent in; the value has surrounding
 * SP/HTAB trimmed. Fields whose names contain '_' never appear here (dropped by the parser, so
 * X_Forwarded_For cannot pose as X-Forwarded-For). Repeated fields appear once per line, in wire
 * order; joining them is the runner's business. */
typedef struct {
    wh_str_t name;
    wh_str_t value;
} wh_header_t;

typedef struct wh_request {
    wh_str_t method;  /* "GET", "POST", ... */
    wh_str_t target;  /* the raw request-target, as sent (RAW_URI) */
    wh_str_t path;    /* the target's path, percent-decoded (PATH_INFO bytes); no NUL */
    wh_str_t query;   /* the raw query, without '?' (QUERY_STRING) */
    wh_str_t version; /* "HTTP/1.1" or "HTTP/1.0" (SERVER_PROTOCOL) */

    const wh_header_t *headers;
    size_t header_count;

    /* The whole body has arrived before the runner sees the request, de-chunked if it came
     * chunked. It is either in memory (body_fd < 0: body_len bytes at body) or spooled to an
     * unlinked temporary file (body_fd >= 0: body_len bytes from offset 0; use pread, the
     * descriptor is shared). */
    bool has_body; /* Content-Length or Transfer-Encoding was sent: set CONTENT_LENGTH */
    bool chunked;  /* the body came chunked (its length is the decoded one) */
    uint64_t body_len;
    const char *body;
    int body_fd;

    /* Where it came from and where it arrived. Addresses are numeric text; for a Unix socket
     * remote_addr and remote_port are empty and server_name is the socket path. */
    wh_str_t remote_addr;
    wh_str_t remote_port;
    wh_str_t server_name;
    wh_str_t server_port;
    wh_str_t url_scheme; /* "http", or "https" from a trusted proxy's scheme header */
    /* --request-id (server/ops/requestid.h): the ID, also HTTP_X_REQUEST_ID in environ and an
     * X-Request-ID response header; empty when off. */
    wh_str_t request_id;
} wh_request_t;

/* Finds the first header with this name (ASCII case-insensitive), or NULL. */
const wh_header_t *wh_request_header(const wh_request_t *req, const char *name);

#endif
