/* HTTP/1.1 request parsing: llhttp in strict mode behind the server's own pre-scan
 * (server/http/prescan.h: methods, bare LF, obs-fold, chunk-size lines), plus the RFC 9112
 * rules llhttp leaves to us (versions, Host and request-target forms, transfer codings), the
 * size limits (trailers and chunk extensions included), and body collection (memory up to a
 * threshold, then an unlinked temporary file).
 *
 * One parser per connection, used by the loop thread only. It stops after each complete
 * request so that the connection answers requests strictly one at a time, in order. */
#ifndef WSGIHOST_HTTP1_H
#define WSGIHOST_HTTP1_H

#include <llhttp.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/core/buf.h"
#include "server/http/prescan.h"
#include "server/http/request.h"

typedef struct {
    uint32_t max_request_line;      /* bytes of the request line; 0 = no limit */
    uint32_t max_header_fields;     /* header lines; 0 = no limit */
    uint32_t max_header_field_size; /* bytes of one "name: value" line; 0 = no limit */
    uint64_t max_body;              /* decoded body bytes; 0 = no limit */
    size_t body_memory_max;         /* bodies larger than this are spooled to a file */
    const char *spool_dir;          /* where spooled bodies go (NULL: $TMPDIR or /tmp) */
} wh_http1_limits_t;

typedef enum {
    WH_HTTP1_MORE,    /* every byte was consumed; feed more */
    WH_HTTP1_HEAD,    /* the head is complete, the body is still to come: see expect_continue */
    WH_HTTP1_REQUEST, /* a whole request is ready: take it with wh_http1_take */
    WH_HTTP1_ERROR,   /* answer error_status and close the connection */
} wh_http1_result_t;

/* A header line being collected: offsets into the parser's string buffer. */
typedef struct {
    uint32_t name_off, name_len, value_off, value_len;
} wh_field_t;

typedef struct wh_http1 {
    llhttp_t parser;
    const wh_http1_limits_t *limits;

    wh_buf_t strings; /* method, target, decoded path, header names and values */
    uint32_t method_off, method_len, target_off, target_len;
    uint32_t path_off, path_len, query_off, query_len; /* the decoded path follows the target */
    char version_text[8]; /* what followed "HTTP/", for telling 505 from 400 */
    uint8_t version_len;
    wh_field_t *fields;
    uint32_t field_count, field_cap;
    bool in_name;
    bool in_value;

    wh_prescan_t scan;      /* the method, head checks, chunk-size lines (server/http/prescan.h) */
    uint32_t trailer_count; /* trailer fields so far (counted with the header fields) */
    uint32_t trailer_size;  /* bytes of the trailer field being read */
    bool in_trailer_name;
    bool head_done;
    bool message_done;
    bool started; /* some byte of this request has arrived (for the timeouts) */

    /* Body. */
    wh_buf_t body;
    int body_fd;
    uint64_t body_len;
    bool has_body;
    bool chunked;

    /* Facts about the finished head. */
    bool expect_continue;
    bool keep_alive;
    bool upgrade;

    int error_status;
    const char *error_detail;
} wh_http1_t;

void wh_http1_init(wh_http1_t *p, const wh_http1_limits_t *limits);
/* Forgets the request in progress and gets ready for the next one. */
void wh_http1_reset(wh_http1_t *p);
void wh_http1_free(wh_http1_t *p);

/* Parses up to `len` bytes; *consumed says how many were used. */
wh_http1_result_t wh_http1_feed(wh_http1_t *p, const char *data, size_t len, size_t *consumed);
/* The peer sent EOF: an unfinished request is an error (returns WH_HTTP1_ERROR), nothing
 * started is WH_HTTP1_MORE (a clean end). */
wh_http1_result_t wh_http1_eof(wh_http1_t *p);

/* Where the request arrived, copied into the request. */
typedef struct {
    wh_str_t remote_addr, remote_port, server_name, server_port, url_scheme;
} wh_peer_t;

/* Moves the finished request into `req` (its storage pointers into *strings, *headers,
 * *body, which the caller then owns and frees), then resets the parser. Returns 0, or -1 on
 * out of memory. */
int wh_http1_take(wh_http1_t *p, const wh_peer_t *peer, wh_request_t *req, char **strings,
                  wh_header_t **headers, char **body);

/* For a request that came in on a Unix socket (which has no name or port of its own): takes
 * server_name and server_port from Host, as gunicorn does, with the scheme's default port when
 * Host has none; without Host the socket path stays the name and the port is the scheme's
 * default. PEP 3333 says neither is ever empty. Call it once url_scheme is final. */
void wh_request_server_from_host(wh_request_t *req);

/* Decodes %XX escapes of a path in place. Returns the new length, or -1 on a malformed escape. */
long wh_percent_decode(char *s, size_t len);
/* RFC 9110 §7.2 Host value: uri-host [ ":" port ]. Empty is valid. */
bool wh_host_valid(wh_str_t host);

#endif
