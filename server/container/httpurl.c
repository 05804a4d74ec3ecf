#include "server/container/httpurl.h"
#include "server/core/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char SCHEME[] = "http://";
enum { SCHEME_LEN = sizeof(SCHEME) - 1, PORT_MAX_VALUE = 65535 };
static const char DEFAULT_PORT_ENV[] = "8000";

static int fail(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return -1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static int valid_port(const char *s, size_t len)
{
    if (len == 0 || len >= WH_URL_PORT_MAX)
        return 0;
    long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        value = value * 10 + (s[i] - '0');
    }
    return value >= 1 && value <= PORT_MAX_VALUE;
}

/* Controls and spaces cannot go into a request line or a Host header. */
static int has_bad_bytes(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 1;
    }
    return 0;
}

int wh_url_parse(const char *text, wh_url_t *url, char *err, size_t err_size)
{
    memset(url, 0, sizeof(*url));
    if (strncasecmp(text, SCHEME, SCHEME_LEN) != 0)
        return fail(err, err_size, "'%.100s' is not an http:// URL", text);
    if (has_bad_bytes(text))
        return fail(err, err_size, "'%.100s' contains spaces or control characters", text);
    const char *authority = text + SCHEME_LEN;
    size_t auth_len = strcspn(authority, "/?#");
    const char *rest = authority + auth_len;
    if (memchr(authority, '@', auth_len) != NULL)
        return fail(err, err_size, "'%.100s': user info is not supported", text);
    const char *host = authority, *port = NULL;
    size_t host_len = auth_len, port_len = 0;
    if (auth_len > 0 && authority[0] == '[') {
        const char *close = memchr(authority, ']', auth_len);
        if (close == NULL)
            return fail(err, err_size, "'%.100s': unclosed '[' in the host", text);
        host = authority + 1;
        host_len = (size_t)(close - host);
        url->ipv6 = 1;
        if (close + 1 < rest) {
            if (close[1] != ':')
                return fail(err, err_size, "'%.100s': expected ':' after ']'", text);
            port = close + 2;
            port_len = (size_t)(rest - port);
        }
    } else {
        const char *colon = memchr(authority, ':', auth_len);
        if (colon != NULL) {
            host_len = (size_t)(colon - authority);
            port = colon + 1;
            port_len = (size_t)(rest - port);
        }
    }
    if (host_len == 0)
        return fail(err, err_size, "'%.100s' has no host", text);
    if (copy_part(url->host, sizeof(url->host), host, host_len) != 0)
        return fail(err, err_size, "'%.100s': the host is too long", text);
    if (port != NULL && !valid_port(port, port_len))
        return fail(err, err_size, "'%.100s': the port must be a number from 1 to 65535", text);
    if (copy_part(url->port, sizeof(url->port), port ? port : WH_URL_DEFAULT_PORT,
                  port ? port_len : strlen(WH_URL_DEFAULT_PORT)) != 0)
        return fail(err, err_size, "'%.100s': bad port", text);
    size_t target_len = strcspn(rest, "#"); /* a fragment never goes on the wire */
    if (target_len == 0 || rest[0] != '/') {
        /* "http://host" or "http://host?q": the target starts with "/" */
        if (target_len + 2 > sizeof(url->path))
            return fail(err, err_size, "'%.100s': the path is too long", text);
        url->path[0] = '/';
        memcpy(url->path + 1, rest, target_len);
        url->path[target_len + 1] = '\0';
        return 0;
    }
    if (copy_part(url->path, sizeof(url->path), rest, target_len) != 0)
        return fail(err, err_size, "'%.100s': the path is too long", text);
    return 0;
}

int wh_url_default(char *const *envp, char *out, size_t cap)
{
    const char *port = wh_env_get(envp, "PORT");
    const char *path = wh_env_get(envp, "WSGIHOST_HEALTH_PATH");
    if (port == NULL || port[0] == '\0')
        port = DEFAULT_PORT_ENV;
    if (path == NULL || path[0] == '\0')
        path = "/";
    int n = snprintf(out, cap, "http://127.0.0.1:%s%s%s", port, path[0] == '/' ? "" : "/", path);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
