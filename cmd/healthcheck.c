/* `wsgihost healthcheck [--url URL] [--timeout SECONDS]`: GETs the URL (default
 * http://127.0.0.1:${PORT:-8000}${WSGIHOST_HEALTH_PATH:-/}), prints one line, and exits 0 when
 * the status is 2xx, 1 otherwise (2 for bad usage). The client is
 * server/container/healthcheck.h. */
#include "cmd/subcommands.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/container/healthcheck.h"
#include "server/container/httpurl.h"

extern char **environ;

enum { EXIT_HEALTHY = 0, EXIT_UNHEALTHY = 1, EXIT_BAD_USAGE = 2 };
enum { URL_MAX = 4096, ERR_MAX = 512, STATUS_LINE_MAX = 1024 };
#define DEFAULT_TIMEOUT_S 5.0

static const char USAGE[] =
    "usage: wsgihost healthcheck [--url URL] [--timeout SECONDS]\n"
    "GETs URL (default http://127.0.0.1:${PORT:-8000}${WSGIHOST_HEALTH_PATH:-/}) and exits 0\n"
    "on a 2xx answer, 1 otherwise. For Docker: HEALTHCHECK CMD [\"wsgihost\", \"healthcheck\"]\n";

static int parse_args(int argc, char **argv, const char **url, double *timeout)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 1;
        }
        int is_url = strncmp(a, "--url", 5) == 0 && (a[5] == '\0' || a[5] == '=');
        int is_timeout = strncmp(a, "--timeout", 9) == 0 && (a[9] == '\0' || a[9] == '=');
        if (!is_url && !is_timeout) {
            fprintf(stderr, "wsgihost healthcheck: unknown argument '%s'\n%s", a, USAGE);
            return -1;
        }
        const char *eq = strchr(a, '=');
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "wsgihost healthcheck: %s needs a value\n", a);
            return -1;
        }
        if (is_url) {
            *url = value;
            continue;
        }
        char *end;
        errno = 0;
        *timeout = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !isfinite(*timeout) || *timeout <= 0) {
            fprintf(stderr, "wsgihost healthcheck: invalid --timeout '%s': expected seconds\n",
                    value);
            return -1;
        }
    }
    return 0;
}

int wh_healthcheck_main(int argc, char **argv)
{
    const char *url_text = NULL;
    double timeout = DEFAULT_TIMEOUT_S;
    int parsed = parse_args(argc, argv, &url_text, &timeout);
    if (parsed != 0)
        return parsed > 0 ? EXIT_HEALTHY : EXIT_BAD_USAGE;
    char default_url[URL_MAX];
    if (url_text == NULL) {
        if (wh_url_default(environ, default_url, sizeof(default_url)) != 0) {
            fprintf(stderr, "wsgihost healthcheck: PORT or WSGIHOST_HEALTH_PATH is too long\n");
            return EXIT_BAD_USAGE;
        }
        url_text = default_url;
    }
    wh_url_t url;
    char err[ERR_MAX], line[STATUS_LINE_MAX];
    if (wh_url_parse(url_text, &url, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsgihost healthcheck: %s\n", err);
        return EXIT_BAD_USAGE;
    }
    int code = wh_healthcheck_fetch(&url, timeout, line, sizeof(line), err, sizeof(err));
    if (code < 0) {
        printf("healthcheck %s: unhealthy: %s\n", url_text, err);
        return EXIT_UNHEALTHY;
    }
    int healthy = code >= 200 && code <= 299;
    printf("healthcheck %s: %s: %s\n", url_text, healthy ? "healthy" : "unhealthy", line);
    return healthy ? EXIT_HEALTHY : EXIT_UNHEALTHY;
}
