/* A growable byte buffer. Not thread-safe; owned by whoever holds it. */
#ifndef WSGIHOST_BUF_H
#define WSGIHOST_BUF_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} wh_buf_t;

#define WH_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for `extra` more bytes. Returns 0, or -1 when out of memory (buf unchanged). */
int wh_buf_reserve(wh_buf_t *buf, size_t extra);
int wh_buf_append(wh_buf_t *buf, const void *data, size_t len);
int wh_buf_append_str(wh_buf_t *buf, const char *str);
/* Appends printf-formatted text. */
int wh_buf_printf(wh_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first `n` bytes, keeping the rest. */
void wh_buf_consume(wh_buf_t *buf, size_t n);
void wh_buf_reset(wh_buf_t *buf);
void wh_buf_free(wh_buf_t *buf);

#endif
