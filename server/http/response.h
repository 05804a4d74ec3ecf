/* Response bytes: status lines, header validation and formatting, chunked framing, the Date
 * header, and the server's own short answers (400, 413, 500, ...). Pure functions over buffers;
 * safe from any thread. */
#ifndef WSGIHOST_RESPONSE_H
#define WSGIHOST_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>

#include "server/core/buf.h"
#include "server/http/exchange.h" /* wh_status_parse, wh_header_valid */
#include "server/http/request.h"

#define WH_SERVER_NAME "wsgihost"
/* "Sun, 06 Nov 1994 08:49:37 GMT" */
enum { WH_HTTP_DATE_LEN = 29 };

/* True for headers a WSGI app must not set (PEP 3333: hop-by-hop). */
bool wh_header_is_hop_by_hop(wh_str_t name);

/* RFC 9110 §5.6.2 tchar: a byte of a token (method, header name, parameter name). */
bool wh_is_tchar(unsigned char c);

/* Parses a Content-Length value (digits only, no sign). Returns 0, or -1 when invalid. */
int wh_parse_content_length(wh_str_t value, uint64_t *out);

/* Writes the current time as an IMF-fixdate; cached per thread per second. */
void wh_http_date(char out[WH_HTTP_DATE_LEN + 1]);

typedef enum {
    WH_FRAMING_NONE,    /* no body (HEAD, 204, 304) or the app's Content-Length */
    WH_FRAMING_LENGTH,  /* add Content-Length: length */
    WH_FRAMING_CHUNKED, /* add Transfer-Encoding: chunked */
    WH_FRAMING_CLOSE,   /* body ends when the connection closes (HTTP/1.0) */
} wh_framing_t;

typedef struct {
    bool http10; /* answer as HTTP/1.0? (we always say HTTP/1.1; see response.c) */
    wh_framing_t framing;
    uint64_t length; /* with WH_FRAMING_LENGTH */
    bool keep_alive;
} wh_head_opts_t;

/* Appends the status line, the app's headers (hop-by-hop ones left out), Date, Server and the
 * framing and Connection headers, and the blank line. Returns 0, or -1 on out of memory. */
int wh_response_head(wh_buf_t *out, const char *status, size_t status_len,
                     const wh_header_t *headers, size_t count, const wh_head_opts_t *opts);

/* Appends one chunk's framing around `len` bytes: call with the size before the data, then
 * wh_chunk_end after it. The last chunk is wh_chunk_last. */
int wh_chunk_begin(wh_buf_t *out, uint64_t len);
int wh_chunk_end(wh_buf_t *out);
int wh_chunk_last(wh_buf_t *out);
/* The framing's size: hex digits plus CRLF (for sizing reservations). */
enum { WH_CHUNK_HEADER_MAX = 16 + 2, WH_CHUNK_TRAILER_LEN = 2, WH_CHUNK_LAST_LEN = 5 };

/* The reason phrase for the codes the server itself sends. */
const char *wh_status_reason(int code);

/* The Content-Type of the server's own short answers (wh_response_simple). */
#define WH_SIMPLE_CONTENT_TYPE "text/plain; charset=utf-8"

/* Appends a complete short plain-text response made by the server itself, e.g. 400 with
 * "Bad Request: <detail>". `close` adds "Connection: close". `extra_headers` is NULL or
 * CRLF-terminated header lines. */
int wh_response_simple(wh_buf_t *out, int code, const char *detail, const char *extra_headers,
                       bool close);

#endif
