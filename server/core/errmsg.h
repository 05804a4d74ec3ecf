/* Error messages for callers that pass a buffer: parsers and option readers report what went
 * wrong as text the caller prints (with its own context), and return -1. */
#ifndef WSGIHOST_ERRMSG_H
#define WSGIHOST_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (size bytes, always NUL-terminated when size > 0); returns -1 so
 * that `return wh_errorf(err, size, "...", ...);` ends a failing function. */
int wh_errorf(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
