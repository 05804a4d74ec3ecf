/* Small helpers every part of wsgihost uses: byte strings, the environment, the monotonic
 * clock, whole writes, hex digits and JSON string escaping. No state, no allocation (but the
 * buffer JSON escaping appends to). */
#ifndef WSGIHOST_UTIL_H
#define WSGIHOST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/core/buf.h"

/* Bytes, not NUL-terminated (a piece of a request, a header value). */
typedef struct {
    const char *ptr;
    size_t len;
} wh_str_t;

/* `s` is exactly `literal` (false when literal is NULL: a setting left unset). Inline, so a
 * literal's length is known when compiling (these run several times a request). */
static inline bool wh_str_is(wh_str_t s, const char *literal)
{
    return literal != NULL && s.len == strlen(literal) && memcmp(s.ptr, literal, s.len) == 0;
}

/* `name` is `literal` in ASCII case-insensitive terms (header names, methods). */
static inline bool wh_name_equals(wh_str_t name, const char *literal)
{
    size_t len = strlen(literal);
    return name.len == len && strncasecmp(name.ptr, literal, len) == 0;
}

/* The value of NAME in envp (NAME=value strings, NULL-terminated; NULL envp: none), or NULL. */
const char *wh_env_get(char *const *envp, const char *name);

/* Milliseconds of CLOCK_MONOTONIC (the same clock in every process: the scoreboard's times). */
uint64_t wh_monotonic_ms(void);

/* Writes all of data, retrying short writes and EINTR. 0, or -1 with errno. */
int wh_write_all(int fd, const void *data, size_t len);

/* The value of a hex digit, or -1 when c is none. */
int wh_hex_value(unsigned char c);

/* Appends `s` as the inside of a JSON string: '"', '\\' and control bytes escaped; bytes of
 * 0x80 and above are latin-1 text in WSGI terms and become \u00XX, so the line is ASCII.
 * 0, or -1 on out of memory. */
int wh_json_escape(wh_buf_t *out, const char *s, size_t len);

/* "2025-01-31T13:55:36.123+01:00" (local time) for `now`; the length written. */
size_t wh_iso8601(char *out, size_t size, const struct timespec *now);

/* Scanning 8 bytes at a time for bytes that need attention, with the exact "some byte is
 * zero / below n" word tests (n <= 128). */
typedef uint64_t wh_word_t;
#define WH_WORD_ONES ((wh_word_t)0x0101010101010101ULL)
#define WH_WORD_HIGHS ((wh_word_t)0x8080808080808080ULL)

/* Some byte of x is below n. */
static inline wh_word_t wh_word_has_below(wh_word_t x, unsigned n)
{
    return (x - WH_WORD_ONES * n) & ~x & WH_WORD_HIGHS;
}

/* Some byte of x is c. */
static inline wh_word_t wh_word_has(wh_word_t x, unsigned char c)
{
    wh_word_t y = x ^ (WH_WORD_ONES * c);
    return (y - WH_WORD_ONES) & ~y & WH_WORD_HIGHS;
}

#endif
