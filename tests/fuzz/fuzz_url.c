/* Fuzz target: the healthcheck's URL parser (wh_url_parse), its default URL (wh_url_default)
 * and the database settings read from the environment (wh_pgconf_from_env).
 *
 * Input: NUL-separated words: the first is the URL, all of them form the environment.
 * Checked: a parsed URL has a host, a port of 1..65535 and a path starting with '/', none with
 * spaces or control bytes; errors come with a reason; every output is NUL-terminated within
 * its buffer, including buffers too small for the answer. */
#include <stdbool.h>
#include <string.h>

#include "server/container/httpurl.h"
#include "server/container/pgconf.h"
#include "tests/fuzz/fuzz.h"

enum { MAX_WORDS = 64 };

static bool clean(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *words[MAX_WORDS + 1];
    size_t count = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p <= end && count < MAX_WORDS) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        words[count] = malloc(len + 1);
        FUZZ_CHECK(words[count] != NULL, "out of memory");
        memcpy(words[count], p, len);
        words[count++][len] = '\0';
        if (nul == NULL)
            break;
        p = nul + 1;
    }
    words[count] = NULL;

    wh_url_t url;
    char err[128];
    memset(err, 0x55, sizeof(err));
    if (wh_url_parse(words[0], &url, err, sizeof(err)) == 0) {
        FUZZ_CHECK(url.host[0] != '\0' && clean(url.host), "host '%s'", url.host);
        long port = strtol(url.port, NULL, 10);
        FUZZ_CHECK(port >= 1 && port <= 65535 && strspn(url.port, "0123456789") == strlen(url.port),
                   "port '%s'", url.port);
        FUZZ_CHECK(url.path[0] == '/' && clean(url.path) && !strchr(url.path, '#'), "path '%s'",
                   url.path);
        FUZZ_CHECK(url.ipv6 || !strchr(url.host, ':'), "':' in host '%s'", url.host);
    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0], "error without a reason");
    }

    char out[300];
    for (size_t cap = 1; cap <= sizeof(out); cap += 37) {
        memset(out, 0x55, sizeof(out));
        int rc = wh_url_default(words, out, cap);
        FUZZ_CHECK(memchr(out, '\0', cap) != NULL, "default URL not terminated (cap %zu)", cap);
        FUZZ_CHECK(out[cap] == 0x55 || cap == sizeof(out), "default URL overran (cap %zu)", cap);
        if (rc == 0)
            FUZZ_CHECK(strncmp(out, "http://127.0.0.1:", 17) == 0, "default URL %s", out);
    }

    char conninfo[WH_CONNINFO_MAX];
    for (size_t cap = 0; cap <= 64; cap += 16) {
        char *small = malloc(cap ? cap : 1);
        FUZZ_CHECK(small != NULL, "out of memory");
        wh_db_kind_t kind = wh_pgconf_from_env(words, small, cap);
        if (cap)
            FUZZ_CHECK(memchr(small, '\0', cap) != NULL, "conninfo not terminated");
        else
            FUZZ_CHECK(kind == WH_DB_INVALID, "no room, yet kind %d", kind);
        free(small);
    }
    wh_db_kind_t kind = wh_pgconf_from_env(words, conninfo, sizeof(conninfo));
    FUZZ_CHECK(memchr(conninfo, '\0', sizeof(conninfo)) != NULL, "conninfo not terminated");
    if (kind == WH_DB_POSTGRES && conninfo[0])
        FUZZ_CHECK(strncmp(conninfo, "postgresql://", 13) == 0, "conninfo %s", conninfo);
    else if (kind != WH_DB_POSTGRES)
        FUZZ_CHECK(conninfo[0] == '\0', "conninfo for kind %d", kind);

    for (size_t i = 0; i < count; i++)
        free(words[i]);
    return 0;
}
