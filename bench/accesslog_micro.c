/* accesslog_micro: CPU time of formatting access-log lines (bench/results/ops_overhead.md).
 *
 *   cc -O2 -I. -o /tmp/accesslog_micro bench/accesslog_micro.c build/libwsgihost_server.a
 *   /tmp/accesslog_micro [LINES]
 *
 * Formats LINES (2 million) combined and JSON lines for a request with wrk's one header and
 * with a browser's thirteen, each after one CLOCK_REALTIME read (as the server once did per
 * line), and prints the thread CPU time per line; then the cost of the clocks themselves. Use
 * a Release build of the library and take the best of several runs on a busy machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/ops/accesslog.h"

#define S(x)                                                                                       \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }

enum { DEFAULT_LINES = 2000000 };

static double cpu_seconds(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const wh_header_t WRK[] = {{S("Host"), S("127.0.0.1:8000")}};
static const wh_header_t BROWSER[] = {
    {S("Host"), S("example.com")},
    {S("Connection"), S("keep-alive")},
    {S("Cache-Control"), S("max-age=0")},
    {S("sec-ch-ua"), S("\"Chromium\";v=\"124\"")},
    {S("Upgrade-Insecure-Requests"), S("1")},
    {S("User-Agent"), S("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/124.0.0.0 Safari/537.36")},
    {S("Accept"), S("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")},
    {S("Sec-Fetch-Site"), S("same-origin")},
    {S("Sec-Fetch-Mode"), S("navigate")},
    {S("Referer"), S("https://example.com/recipes/")},
    {S("Accept-Encoding"), S("gzip, deflate, br")},
    {S("Accept-Language"), S("en-US,en;q=0.9")},
    {S("Cookie"), S("sessionid=abcdefghijklmnopqrstuvwxyz; csrftoken=0123456789abcdef")}};

static int run(const char *label, bool json, const wh_header_t *headers, size_t count, long n)
{
    wh_request_t r;
    memset(&r, 0, sizeof(r));
    r.method = (wh_str_t)S("GET");
    r.target = (wh_str_t)S("/recipes/12/?page=2");
    r.path = (wh_str_t)S("/recipes/12/");
    r.query = (wh_str_t)S("page=2");
    r.version = (wh_str_t)S("HTTP/1.1");
    r.remote_addr = (wh_str_t)S("127.0.0.1");
    r.headers = headers;
    r.header_count = count;
    char err[256];
    wh_accesslog_t *log = wh_accesslog_new(NULL, json, err, sizeof(err));
    if (log == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    wh_buf_t out = WH_BUF_INIT;
    wh_access_entry_t e = {.req = &r, .status = 200, .body_bytes = 14, .duration_us = 123};
    size_t bytes = 0;
    int rc = 0;
    double t0 = cpu_seconds();
    for (long i = 0; i < n && rc == 0; i++) {
        rc |= clock_gettime(CLOCK_REALTIME, &e.now);
        wh_buf_reset(&out);
        rc |= wh_accesslog_format(log, &e, &out);
        bytes += out.len;
    }
    double t1 = cpu_seconds();
    printf("%-8s %-8s %6.1f ns/line (with a CLOCK_REALTIME read), %zu bytes\n",
           json ? "json" : "combined", label, (t1 - t0) / (double)n * 1e9, bytes / (size_t)n);
    wh_accesslog_free(log);
    wh_buf_free(&out);
    return rc;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : DEFAULT_LINES;
    if (n <= 0)
        return 2;
    for (int json = 0; json <= 1; json++) {
        if (run("wrk", json, WRK, sizeof(WRK) / sizeof(WRK[0]), n) != 0 ||
            run("browser", json, BROWSER, sizeof(BROWSER) / sizeof(BROWSER[0]), n) != 0)
            return 1;
    }
    static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC};
    static const char *const names[] = {"REALTIME", "REALTIME_COARSE", "MONOTONIC"};
    for (size_t c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++) {
        struct timespec ts;
        int rc = 0;
        double t0 = cpu_seconds();
        for (long i = 0; i < n; i++)
            rc |= clock_gettime(clocks[c], &ts);
        if (rc != 0)
            return 1;
        printf("clock %-16s %5.1f ns\n", names[c], (cpu_seconds() - t0) / (double)n * 1e9);
    }
    return 0;
}
