#include "server/core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { BUF_MIN_CAPACITY = 256 };

int wh_buf_reserve(wh_buf_t *buf, size_t extra)
{
    if (extra <= buf->cap - buf->len)
        return 0;
    if (extra > SIZE_MAX / 2 - buf->len)
        return -1;
    size_t cap = buf->cap ? buf->cap : BUF_MIN_CAPACITY;
    while (cap - buf->len < extra)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (data == NULL)
        return -1;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int wh_buf_append(wh_buf_t *buf, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (wh_buf_reserve(buf, len) != 0)
        return -1;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return 0;
}

int wh_buf_append_str(wh_buf_t *buf, const char *str)
{
    return wh_buf_append(buf, str, strlen(str));
}

int wh_buf_printf(wh_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int needed = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (needed < 0 || wh_buf_reserve(buf, (size_t)needed + 1) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)needed + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)needed;
    return 0;
}

void wh_buf_consume(wh_buf_t *buf, size_t n)
{
    if (n >= buf->len) {
        buf->len = 0;
        return;
    }
    memmove(buf->data, buf->data + n, buf->len - n);
    buf->len -= n;
}

void wh_buf_reset(wh_buf_t *buf)
{
    buf->len = 0;
}

void wh_buf_free(wh_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
