/* http:// URLs for the healthcheck client: parsing and the default URL. Pure string work. */
#ifndef WSGIHOST_HTTPURL_H
#define WSGIHOST_HTTPURL_H

#include <stddef.h>

enum { WH_URL_HOST_MAX = 256, WH_URL_PORT_MAX = 6, WH_URL_PATH_MAX = 2048 };
#define WH_URL_DEFAULT_PORT "80"

typedef struct {
    char host[WH_URL_HOST_MAX]; /* name or address, IPv6 without its brackets */
    char port[WH_URL_PORT_MAX]; /* digits, 1..65535 */
    char path[WH_URL_PATH_MAX]; /* the request-target: "/" when the URL has none */
    int ipv6;                   /* the host was [bracketed] (the Host header needs them back) */
} wh_url_t;

/* Parses "http://HOST[:PORT][/PATH[?QUERY]]" (no user info, no fragment, no https). 0, or -1
 * with a one-line reason in err. */
int wh_url_parse(const char *text, wh_url_t *url, char *err, size_t err_size);

/* The healthcheck's default URL: http://127.0.0.1:${PORT:-8000}${WSGIHOST_HEALTH_PATH:-/}.
 * 0, or -1 when it does not fit. */
int wh_url_default(char *const *envp, char *out, size_t cap);

#endif
