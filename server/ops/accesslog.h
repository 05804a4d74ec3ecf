/* Access log lines: gunicorn's --access-logformat, or one JSON object per line.
 *
 * The format is compiled once (at start-up, in the master, so a mistake stops wsgihost before
 * it binds) into a list of literal pieces and atoms; formatting a line is then appends into a
 * buffer, with no parsing and no allocation once the buffer has grown. Atoms are gunicorn's
 * (glogging.py), written %(NAME)s:
 *   h remote address (after --real-ip-header)  l "-"           u user name (Basic auth) or "-"
 *   t [10/Oct/2000:13:55:36 -0700]             r "GET /path?q HTTP/1.1"
 *   m method   U path (decoded, no query)   q query string   H protocol   s status
 *   b body bytes sent (gunicorn's: "-" only when unknown)   B body bytes sent
 *   f Referer or "-"   a User-Agent or "-"   T seconds   M milliseconds   D microseconds
 *   L seconds with 6 decimals   p "<pid>"   {Name}i request header   {Name}o response header
 *   {NAME}e WSGI environ value (REMOTE_ADDR, PATH_INFO, HTTP_..., wsgi.url_scheme, ...)
 * plus wsgihost's {request_id}x for the request ID (--request-id). Unknown atoms give "-" as in
 * gunicorn; '"' in values is written \" (gunicorn's SafeAtoms). Request time runs from the
 * complete request to the last byte of the response handed to the kernel.
 *
 * Used by the loop thread only (the timestamp cache is not locked). */
#ifndef WSGIHOST_ACCESSLOG_H
#define WSGIHOST_ACCESSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "server/core/buf.h"
#include "server/core/util.h"
#include "server/http/request.h"

/* Response headers a format may log with {Name}o, and the longest value kept of each: the
 * access log keeps at most this much per request, whatever the app sends. */
enum { WH_ACCESSLOG_RESPONSE_HEADERS_MAX = 16, WH_ACCESSLOG_VALUE_MAX = 1024 };

/* gunicorn's default, the Apache "combined" line. */
#define WH_ACCESSLOG_DEFAULT_FORMAT                                                                \
    "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\""

typedef struct {
    const wh_request_t *req; /* remote_addr is the address logged as %(h)s */
    int status;
    uint64_t body_bytes; /* body bytes of the response (what the app produced for it) */
    uint64_t duration_us;
    wh_str_t request_id;             /* empty when none */
    const wh_header_t *resp_headers; /* response headers captured for {Name}o, or NULL */
    size_t resp_header_count;
    struct timespec now; /* wall-clock time when the response was done */
} wh_access_entry_t;

typedef struct wh_accesslog wh_accesslog_t;

/* Compiles `format` (NULL: the default); with `json` the format is not used and each line is
 * a JSON object (keys: time, type, remote_addr, method, uri, protocol, status, bytes,
 * duration_us, referer, user_agent, request_id when there is one, pid). NULL with a reason in
 * err on a malformed format or out of memory. */
wh_accesslog_t *wh_accesslog_new(const char *format, bool json, char *err, size_t err_size);
void wh_accesslog_free(wh_accesslog_t *log);

/* Names of the response headers the format logs with {Name}o (NULL-terminated; empty when
 * none): ops keeps their values as the response head goes out (server/ops/ops.c). */
const char *const *wh_accesslog_response_headers(const wh_accesslog_t *log);

/* Appends one line, ending in "\n". 0, or -1 on out of memory. */
int wh_accesslog_format(const wh_accesslog_t *log, const wh_access_entry_t *e, wh_buf_t *out);

#endif
