#include "server/core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "server/core/buf.h"
#include "server/core/util.h"

/* One error-log line is formatted on the stack and written whole; longer ones are cut. */
enum { LOG_LINE_MAX = 4096 };
/* Access lines are flushed once per loop turn or when this much is buffered. */
enum { ACCESS_FLUSH_BYTES = 64 * 1024 };

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

static struct {
    int error_fd;
    int access_fd;
    char *error_path;
    char *access_path;
    wh_log_level_t level;
    wh_buf_t access_buf;
    bool json;
} logs = {STDERR_FILENO, -1, NULL, NULL, WH_LOG_INFO, WH_BUF_INIT, false};

void wh_log_set_json(bool json)
{
    logs.json = json;
}

bool wh_log_json(void)
{
    return logs.json;
}

/* One JSON object per line: {"time", "level", "pid", "message"} (message without its final
 * newline). Written with one write(2) like the text lines. */
static void write_json(const char *level, const char *msg, size_t len)
{
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char stamp[64];
    size_t stamp_len = wh_iso8601(stamp, sizeof(stamp), &now);
    wh_buf_t out = WH_BUF_INIT;
    if (wh_buf_append_str(&out, "{\"time\":\"") == 0 &&
        wh_buf_append(&out, stamp, stamp_len) == 0 &&
        wh_buf_printf(&out, "\",\"level\":\"%s\",\"pid\":%ld,\"message\":\"", level,
                      (long)getpid()) == 0 &&
        wh_json_escape(&out, msg, len) == 0 && wh_buf_append_str(&out, "\"}\n") == 0)
        (void)wh_write_all(logs.error_fd, out.data, out.len); /* nowhere to report a failing log */
    wh_buf_free(&out);
}

int wh_log_level_parse(const char *name)
{
    static const char *const lower[] = {"debug", "info", "warning", "error", "critical"};
    for (size_t i = 0; i < sizeof(lower) / sizeof(lower[0]); i++) {
        if (strcasecmp(name, lower[i]) == 0)
            return (int)i;
    }
    return -1;
}

static int open_log_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* Opens `path` (or the standard stream for "-"), replacing *fd. */
static int open_target(const char *path, int std_fd, int *fd)
{
    int new_fd = std_fd;
    if (path != NULL && strcmp(path, "-") != 0) {
        new_fd = open_log_file(path);
        if (new_fd < 0)
            return -1;
    }
    if (*fd > STDERR_FILENO && new_fd > STDERR_FILENO) {
        /* Keep the descriptor number: others hold it (faulthandler writes stacks to it). */
        int rc = dup3(new_fd, *fd, O_CLOEXEC);
        close(new_fd);
        return rc < 0 ? -1 : 0;
    }
    if (*fd > STDERR_FILENO)
        close(*fd);
    *fd = new_fd;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int wh_log_open(const char *error_path, const char *access_path, wh_log_level_t level)
{
    logs.level = level;
    free(logs.error_path);
    free(logs.access_path);
    logs.error_path = dup_or_null(error_path);
    logs.access_path = dup_or_null(access_path);
    if ((error_path && !logs.error_path) || (access_path && !logs.access_path)) {
        errno = ENOMEM;
        return -1;
    }
    return wh_log_reopen();
}

int wh_log_reopen(void)
{
    if (open_target(logs.error_path, STDERR_FILENO, &logs.error_fd) != 0)
        return -1;
    if (logs.access_path == NULL)
        return 0;
    wh_log_access_flush();
    return open_target(logs.access_path, STDOUT_FILENO, &logs.access_fd);
}

void wh_log_close(void)
{
    wh_log_access_flush();
    wh_buf_free(&logs.access_buf);
    if (logs.error_fd > STDERR_FILENO)
        close(logs.error_fd);
    if (logs.access_fd > STDERR_FILENO)
        close(logs.access_fd);
    logs.error_fd = STDERR_FILENO;
    logs.access_fd = -1;
    free(logs.error_path);
    free(logs.access_path);
    logs.error_path = logs.access_path = NULL;
}

int wh_log_error_fd(void)
{
    return logs.error_fd;
}

bool wh_log_enabled(wh_log_level_t level)
{
    return level >= logs.level;
}

void wh_log(wh_log_level_t level, const char *fmt, ...)
{
    if (!wh_log_enabled(level))
        return;
    char line[LOG_LINE_MAX];
    if (logs.json) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
        write_json(level_names[level], line, len);
        return;
    }
    struct timeval now;
    struct tm tm;
    gettimeofday(&now, NULL);
    localtime_r(&now.tv_sec, &tm);
    /* gunicorn's prefix: "[2026-11-26 07:49:29 +0000] [pid] [LEVEL] " */
    size_t len = strftime(line, sizeof(line), "[%Y-%m-%d %H:%M:%S %z] ", &tm);
    int n =
        snprintf(line + len, sizeof(line) - len, "[%ld] [%s] ", (long)getpid(), level_names[level]);
    if (n > 0)
        len += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    if (n > 0)
        len += (size_t)n;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    (void)wh_write_all(logs.error_fd, line, len); /* nowhere to report a failing log */
}

void wh_log_write_raw(const char *data, size_t len)
{
    if (logs.json) {
        if (len > 0 && !(len == 1 && data[0] == '\n'))
            write_json("ERROR", data, len); /* wsgi.errors and tracebacks */
        return;
    }
    (void)wh_write_all(logs.error_fd, data, len); /* nowhere to report a failing log */
}

wh_buf_t *wh_log_access_buffer(void)
{
    return logs.access_fd >= 0 ? &logs.access_buf : NULL;
}

void wh_log_access_added(void)
{
    if (logs.access_buf.len >= ACCESS_FLUSH_BYTES)
        wh_log_access_flush();
}

size_t wh_log_access_pending(void)
{
    return logs.access_buf.len;
}

void wh_log_access_flush(void)
{
    if (logs.access_fd >= 0 && logs.access_buf.len > 0)
        (void)wh_write_all(logs.access_fd, logs.access_buf.data,
                           logs.access_buf.len); /* nowhere to report a failing log */
    wh_buf_reset(&logs.access_buf);
}
