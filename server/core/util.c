/* Small shared helpers (see server/core/util.h). */
#include "server/core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum { MS_PER_S = 1000, NS_PER_MS = 1000000 };

static const char HEX[] = "0123456789abcdef";

const char *wh_env_get(char *const *envp, const char *name)
{
    size_t len = strlen(name);
    for (char *const *e = envp; e != NULL && *e != NULL; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    }
    return NULL;
}

uint64_t wh_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * MS_PER_S + (uint64_t)ts.tv_nsec / NS_PER_MS;
}

int wh_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int wh_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t wh_iso8601(char *out, size_t size, const struct timespec *now)
{
    struct tm tm;
    localtime_r(&now->tv_sec, &tm);
    char zone[8];
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || strftime(zone, sizeof(zone), "%z", &tm) != 5)
        return n;
    int m =
        snprintf(out + n, size - n, ".%03ld%.3s:%.2s", now->tv_nsec / NS_PER_MS, zone, zone + 3);
    return m > 0 && (size_t)m < size - n ? n + (size_t)m : n;
}

static inline bool json_needs_escape(unsigned char c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* How many bytes of s a JSON string takes as they are. */
static size_t json_plain_prefix(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + sizeof(wh_word_t) <= len; i += sizeof(wh_word_t)) {
        wh_word_t x;
        memcpy(&x, s + i, sizeof(x));
        if (wh_word_has_below(x, 0x20) | (x & WH_WORD_HIGHS) | wh_word_has(x, 0x7f) |
            wh_word_has(x, '"') | wh_word_has(x, '\\'))
            break;
    }
    while (i < len && !json_needs_escape((unsigned char)s[i]))
        i++;
    return i;
}

int wh_json_escape(wh_buf_t *out, const char *s, size_t len)
{
    for (;;) {
        size_t n = json_plain_prefix(s, len);
        if (n > 0 && wh_buf_append(out, s, n) != 0)
            return -1;
        if (n == len)
            return 0;
        unsigned char c = (unsigned char)s[n];
        char esc[6] = {'\\', 0};
        size_t esc_len = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = HEX[c >> 4];
            esc[5] = HEX[c & 0xf];
            esc_len = 6;
        }
        if (wh_buf_append(out, esc, esc_len) != 0)
            return -1;
        s += n + 1;
        len -= n + 1;
    }
}
