/* Parsers for the request headers a static file answer depends on: Range, Accept-Encoding,
 * If-None-Match and HTTP dates. Pure functions over header values, safe from any thread. */
#ifndef WSGIHOST_STATIC_PARSE_H
#define WSGIHOST_STATIC_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "server/http/request.h"

typedef enum {
    WH_RANGE_NONE,          /* no usable Range (absent, malformed, several ranges, not bytes):
                               answer with the whole file, as RFC 9110 allows */
    WH_RANGE_OK,            /* one satisfiable range: [first, first + length) */
    WH_RANGE_UNSATISFIABLE, /* 416 */
} wh_range_result_t;

/* Parses a Range value against a representation of `size` bytes: "bytes=a-b", "bytes=a-" or
 * "bytes=-n" (a suffix); b is clamped to the end. */
wh_range_result_t wh_range_parse(wh_str_t value, uint64_t size, uint64_t *first, uint64_t *length);

/* Acceptability of the codings we may send, in thousandths (q=1 is 1000, q=0 refuses). */
typedef struct {
    int br;
    int gzip;
    int identity;
} wh_accept_encoding_t;

/* Parses an Accept-Encoding value (RFC 9110 12.5.3): codings with optional q-values, '*' for
 * the codings not named, and identity acceptable unless refused by name or by "*;q=0" (when not
 * named, it gets the lowest weight, 1: acceptable, but after any coding the client listed). An
 * absent header (present false) accepts identity only. */
void wh_accept_encoding_parse(wh_str_t value, bool present, wh_accept_encoding_t *out);

/* True when an If-None-Match value ("*" or a list of entity tags, weak ones compared weakly)
 * matches `etag` (with its quotes). */
bool wh_etag_list_matches(wh_str_t value, const char *etag);
/* The same for If-Match: strong comparison (a weak tag on either side never matches). */
bool wh_etag_list_matches_strong(wh_str_t value, const char *etag);

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime). Returns 0, or -1 when invalid. */
int wh_http_date_parse(wh_str_t value, time_t *out);

/* Formats a time as an IMF-fixdate: out must hold 30 bytes. */
void wh_http_date_format(time_t t, char out[30]);

#endif
