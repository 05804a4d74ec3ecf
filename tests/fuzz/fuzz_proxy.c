/* Fuzz target: the PROXY protocol header (wh_proxy_parse), v1 text and v2 binary, the first
 * bytes of every connection when --proxy-protocol is on.
 *
 * Input: the bytes a connection starts with. The server calls the parser again each time more
 * bytes arrive, so besides the sanitizers this checks that the answer only ever moves forward
 * as bytes are added: MORE while the header is incomplete, then DONE with the same result for
 * every longer input, or ERROR from some length on; a DONE header lies within the bytes, has a
 * known version and family, and v1's TCP4/TCP6 addresses are what inet_pton reads. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "server/ops/proxyproto.h"
#include "tests/fuzz/fuzz.h"

static wh_proxy_status_t parse_copy(const uint8_t *data, size_t len, wh_proxy_result_t *out)
{
    char *copy = malloc(len ? len : 1); /* exact size: a read past `len` is caught */
    FUZZ_CHECK(copy != NULL, "out of memory");
    memcpy(copy, data, len);
    wh_proxy_status_t st = wh_proxy_parse(copy, len, out);
    free(copy);
    return st;
}

static bool same_result(const wh_proxy_result_t *a, const wh_proxy_result_t *b)
{
    return a->consumed == b->consumed && a->version == b->version && a->family == b->family &&
           memcmp(a->src_addr, b->src_addr, sizeof(a->src_addr)) == 0 &&
           memcmp(a->dst_addr, b->dst_addr, sizeof(a->dst_addr)) == 0 &&
           a->src_port == b->src_port && a->dst_port == b->dst_port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wh_proxy_result_t full;
    wh_proxy_status_t st = parse_copy(data, size, &full);
    FUZZ_CHECK(st == WH_PROXY_MORE || st == WH_PROXY_DONE || st == WH_PROXY_ERROR, "status %d", st);
    if (st == WH_PROXY_DONE) {
        FUZZ_CHECK(full.consumed > 0 && full.consumed <= size, "consumed %zu of %zu", full.consumed,
                   size);
        FUZZ_CHECK(full.version == 1 || full.version == 2, "version %d", full.version);
        FUZZ_CHECK(full.family == 0 || full.family == AF_INET || full.family == AF_INET6,
                   "family %d", full.family);
        if (full.version == 1) {
            FUZZ_CHECK(full.consumed <= WH_PROXY_V1_MAX, "v1 of %zu bytes", full.consumed);
            FUZZ_CHECK(data[full.consumed - 2] == '\r' && data[full.consumed - 1] == '\n',
                       "v1 line does not end in CRLF");
            FUZZ_CHECK(memchr(data, '\n', full.consumed - 1) == NULL, "LF inside the v1 line");
        } else {
            FUZZ_CHECK(full.consumed >= 16 && full.consumed <= WH_PROXY_V2_MAX, "v2 of %zu",
                       full.consumed);
        }
        if (full.version == 1 && full.family != 0) {
            /* "PROXY TCPx SRC DST SPORT DPORT": inet_pton agrees on both addresses */
            char line[WH_PROXY_V1_MAX + 1];
            memcpy(line, data, full.consumed - 2);
            line[full.consumed - 2] = '\0';
            char *save = NULL, *f[6] = {0};
            int n = 0;
            for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
                f[n++] = t;
            FUZZ_CHECK(n == 6, "v1 fields: %d", n);
            uint8_t a[16], b[16];
            FUZZ_CHECK(inet_pton(full.family, f[2], a) == 1 && inet_pton(full.family, f[3], b) == 1,
                       "addresses %s %s", f[2], f[3]);
            size_t alen = full.family == AF_INET ? 4 : 16;
            FUZZ_CHECK(memcmp(a, full.src_addr, alen) == 0 && memcmp(b, full.dst_addr, alen) == 0,
                       "addresses differ from inet_pton's");
            FUZZ_CHECK(strtol(f[4], NULL, 10) == full.src_port &&
                           strtol(f[5], NULL, 10) == full.dst_port,
                       "ports");
        }
    }
    /* Every shorter input: MORE before the end of the header, the same result after it. */
    size_t step = size > 512 ? size / 256 : 1;
    bool error_seen = false;
    for (size_t len = 0; len <= size;
         len += (len + step > size && len != size) ? size - len : step) {
        wh_proxy_result_t part;
        wh_proxy_status_t s = parse_copy(data, len, &part);
        if (st == WH_PROXY_DONE && len < full.consumed)
            FUZZ_CHECK(s == WH_PROXY_MORE, "%zu of a %zu-byte header: %d", len, full.consumed, s);
        if (st == WH_PROXY_DONE && len >= full.consumed)
            FUZZ_CHECK(s == WH_PROXY_DONE && same_result(&part, &full),
                       "%zu bytes: %d, not the header of %zu bytes", len, s, full.consumed);
        if (st == WH_PROXY_MORE)
            FUZZ_CHECK(s == WH_PROXY_MORE, "%zu bytes: %d, but %zu: more", len, s, size);
        if (st == WH_PROXY_ERROR) {
            FUZZ_CHECK(s != WH_PROXY_DONE, "%zu bytes: a header, %zu: an error", len, size);
            FUZZ_CHECK(!error_seen || s == WH_PROXY_ERROR, "an error, then not at %zu", len);
            error_seen |= s == WH_PROXY_ERROR;
        }
        if (len == size)
            break;
    }
    return 0;
}
