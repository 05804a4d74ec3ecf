/* Fuzz target: trusting proxies (server/ops/forwarded.c): --real-ip-from style lists, the client
 * address walked out of X-Forwarded-For or Forwarded chains, the scheme headers.
 *
 * Input: byte 0 picks the header (bit 0: X-Forwarded-For or Forwarded) and how many other
 * fields to mix in (bits 1-3); then lines separated by '\n': the first is the trusted list
 * text, each other one a header value (the same field repeated, as a client or a chain of
 * proxies may send it). NUL bytes in values become spaces, as no field value can hold one.
 *
 * Checked: a parsed list keeps its bounds, its networks are masked to their prefix and match
 * themselves; a client address found is a slice of one of the values, without brackets, and
 * an IP address wh_ipaddr_parse accepts (it becomes REMOTE_ADDR); wh_ipaddr_parse agrees with
 * inet_pton; the scheme headers give -1, 0 or 1. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "server/ops/forwarded.h"
#include "tests/fuzz/fuzz.h"

enum { MAX_VALUES = 32 };

static bool within(wh_str_t s, const wh_header_t *hs, size_t n)
{
    if (s.len == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (s.ptr >= hs[i].value.ptr && s.ptr + s.len <= hs[i].value.ptr + hs[i].value.len)
            return true;
    return false;
}

static void check_ipaddr(const char *text, size_t len)
{
    wh_ipaddr_t a;
    int rc = wh_ipaddr_parse(text, len, &a);
    char buf[64];
    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len)) {
        if (len == 0 || len >= sizeof(buf))
            FUZZ_CHECK(rc == -1, "accepted %zu bytes", len);
        return;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    uint8_t b[16];
    bool v6 = memchr(buf, ':', len) != NULL;
    int want = inet_pton(v6 ? AF_INET6 : AF_INET, buf, b) == 1 ? 0 : -1;
    FUZZ_CHECK(rc == want, "wh_ipaddr_parse('%s') %d, inet_pton %d", buf, rc, want);
    if (rc == 0 && a.family == 4 && !v6)
        FUZZ_CHECK(memcmp(a.bytes, b, 4) == 0, "bytes of %s", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool xff = data[0] & 1;
    int others = (data[0] >> 1) & 7;
    char *text = malloc(size);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t text_len = size - 1;

    /* the trusted list: the first line */
    char *nl = memchr(text, '\n', text_len);
    size_t list_len = nl ? (size_t)(nl - text) : text_len;
    char *list_text = malloc(list_len + 1);
    FUZZ_CHECK(list_text != NULL, "out of memory");
    memcpy(list_text, text, list_len);
    list_text[list_len] = '\0';
    wh_cidr_list_t *list = malloc(sizeof(*list));
    FUZZ_CHECK(list != NULL, "out of memory");
    char err[128];
    if (wh_cidr_list_parse(list, list_text, err, sizeof(err)) == 0) {
        FUZZ_CHECK(list->count <= WH_CIDR_MAX, "count");
        for (size_t i = 0; i < list->count; i++) {
            const wh_cidr_t *n = &list->nets[i];
            unsigned bits = n->net.family == 4 ? 32 : 128;
            FUZZ_CHECK(n->net.family == 4 || n->net.family == 6, "family");
            FUZZ_CHECK(n->prefix <= bits, "prefix %u", n->prefix);
            for (unsigned b = n->prefix; b < bits; b++)
                FUZZ_CHECK(!(n->net.bytes[b / 8] & (0x80u >> (b % 8))), "unmasked bit %u", b);
            FUZZ_CHECK(wh_cidr_list_match(list, &n->net), "a network does not match itself");
        }
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)), "error without a reason");
        memset(list, 0, sizeof(*list));
        list->any = list_len % 2 == 0; /* trust everything or nothing */
    }
    check_ipaddr(list_text, list_len);

    /* the header values: the other lines, each its own allocation */
    wh_header_t hs[MAX_VALUES + 8];
    char *values[MAX_VALUES];
    size_t n = 0, nv = 0;
    static const char *const OTHER[] = {"X-Forwarded-Proto", "X-Forwarded-Ssl",
                                        "X-Forwarded-Protocol", "Host"};
    static const char *const OTHER_VALUE[] = {"https", "on", "http", "x"};
    for (int i = 0; i < others && i < 4; i++)
        hs[n++] =
            (wh_header_t){{OTHER[i], strlen(OTHER[i])},
                          {OTHER_VALUE[(i + others) % 4], strlen(OTHER_VALUE[(i + others) % 4])}};
    const char *name = xff ? "X-Forwarded-For" : "Forwarded";
    char *p = nl ? nl + 1 : NULL, *end = text + text_len;
    while (p && p <= end && nv < MAX_VALUES) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        size_t len = e ? (size_t)(e - p) : (size_t)(end - p);
        values[nv] = malloc(len ? len : 1);
        FUZZ_CHECK(values[nv] != NULL, "out of memory");
        memcpy(values[nv], p, len);
        /* Field values never hold NUL (server/http/http1.c refuses it); wh_ipaddr_parse would read
         * "1.2.3.4\0junk" as 1.2.3.4, since inet_pton stops at the NUL. */
        for (size_t k = 0; k < len; k++)
            if (values[nv][k] == '\0')
                values[nv][k] = ' ';
        hs[n++] = (wh_header_t){{name, strlen(name)}, {values[nv], len}};
        nv++;
        check_ipaddr(values[nv - 1], len);
        p = e ? e + 1 : NULL;
    }
    wh_request_t req;
    memset(&req, 0, sizeof(req));
    req.headers = hs;
    req.header_count = n;

    wh_str_t addr = {0}, port = {0};
    if (wh_realip_find(&req, xff ? WH_REALIP_XFF : WH_REALIP_FORWARDED, list, &addr, &port)) {
        FUZZ_CHECK(addr.len > 0 && within(addr, hs, n) && within(port, hs, n),
                   "address or port outside the values");
        FUZZ_CHECK(!memchr(addr.ptr, '[', addr.len) && !memchr(addr.ptr, ']', addr.len),
                   "brackets in %.*s", (int)addr.len, addr.ptr);
        wh_ipaddr_t ip;
        FUZZ_CHECK(wh_ipaddr_parse(addr.ptr, addr.len, &ip) == 0, "REMOTE_ADDR would be '%.*s'",
                   (int)addr.len, addr.ptr);
    }
    bool present = false;
    static wh_scheme_headers_t scheme_headers; /* gunicorn's default */
    if (scheme_headers.count == 0) {
        char why[128];
        FUZZ_CHECK(wh_scheme_headers_parse(&scheme_headers,
                                           "X-Forwarded-Protocol=ssl,X-Forwarded-Proto=https,"
                                           "X-Forwarded-Ssl=on",
                                           why, sizeof(why)) == 0,
                   "%s", why);
    }
    int scheme = wh_forwarded_scheme(&req, &scheme_headers, &present);
    FUZZ_CHECK(scheme >= -1 && scheme <= 1 && (scheme != 1 || present), "scheme %d", scheme);

    for (size_t i = 0; i < nv; i++)
        free(values[i]);
    free(list);
    free(list_text);
    free(text);
    return 0;
}
