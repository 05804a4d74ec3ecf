/* Error and access logs.
 *
 * The error log (stderr unless --error-logfile) takes whole lines: each wh_log call is one
 * write(2), so lines from the loop thread and from runner threads never interleave. Thread-safe.
 * The access log is written by the loop thread only (buffered, flushed once per loop turn). */
#ifndef WSGIHOST_LOG_H
#define WSGIHOST_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/buf.h"

typedef enum {
    WH_LOG_DEBUG,
    WH_LOG_INFO,
    WH_LOG_WARNING,
    WH_LOG_ERROR,
    WH_LOG_CRITICAL,
} wh_log_level_t;

/* Parses "debug", "info", "warning", "error", "critical"; -1 when unknown. */
int wh_log_level_parse(const char *name);

/* Opens the logs: NULL or "-" for the error log means stderr; for the access log NULL means
 * none and "-" stdout. Returns 0, or -1 with errno set. */
int wh_log_open(const char *error_path, const char *access_path, wh_log_level_t level);
/* Reopens the same paths (log rotation: SIGUSR1). */
int wh_log_reopen(void);
void wh_log_close(void);

/* --log-format json: every error-log line (and each wsgi.errors write) becomes one JSON object
 * {"time", "level", "pid", "message"}. Faulthandler's stack dumps stay plain text. */
void wh_log_set_json(bool json);
bool wh_log_json(void);

/* The error log's descriptor; it keeps its number across reopening. */
int wh_log_error_fd(void);

bool wh_log_enabled(wh_log_level_t level);
void wh_log(wh_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes text as it is to the error log, with no prefix or added newline (wsgi.errors). */
void wh_log_write_raw(const char *data, size_t len);

/* The buffer access lines wait in, for formatting a line straight into it (loop thread
 * only): append one whole line, then call wh_log_access_added; on a failure, cut the buffer
 * back to its length before. NULL when no access log is open. */
wh_buf_t *wh_log_access_buffer(void);
void wh_log_access_added(void);
/* Bytes of access lines buffered and not written yet (loop thread only). */
size_t wh_log_access_pending(void);
/* Flushes buffered access lines (loop thread only). */
void wh_log_access_flush(void);

#endif
