/* Operations parsers: CIDR lists, scheme headers, X-Forwarded-For / Forwarded chains, PROXY
 * protocol v1/v2, the access log format (gunicorn atoms, JSON), request IDs, metrics text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/ops/accesslog.h"
#include "server/ops/forwarded.h"
#include "server/ops/metrics.h"
#include "server/ops/ops.h"
#include "server/ops/proxyproto.h"
#include "server/ops/requestid.h"

#define S(lit) ((wh_str_t){(lit), sizeof(lit) - 1})

static wh_ipaddr_t ip(const char *text)
{
    wh_ipaddr_t a;
    assert_int_equal(wh_ipaddr_parse(text, strlen(text), &a), 0);
    return a;
}

static bool matches(const char *list_text, const char *addr)
{
    wh_cidr_list_t list;
    char err[128];
    assert_int_equal(wh_cidr_list_parse(&list, list_text, err, sizeof(err)), 0);
    wh_ipaddr_t a = ip(addr);
    return wh_cidr_list_match(&list, &a);
}

static void test_cidr_match(void **state)
{
    (void)state;
    assert_true(matches("127.0.0.1", "127.0.0.1"));
    assert_false(matches("127.0.0.1", "127.0.0.2"));
    assert_true(matches("10.0.0.0/8", "10.255.1.2"));
    assert_false(matches("10.0.0.0/8", "11.0.0.1"));
    assert_true(matches("192.168.1.77/24", "192.168.1.1")); /* host bits are ignored */
    assert_true(matches("10.0.0.0/8, 172.16.0.0/12", "172.31.0.1"));
    assert_false(matches("10.0.0.0/8 172.16.0.0/12", "172.32.0.1"));
    assert_true(matches("0.0.0.0/0", "8.8.8.8"));
    assert_false(matches("0.0.0.0/0", "::1"));
    assert_true(matches("*", "2001:db8::1"));
    assert_true(matches("::1", "::1"));
    assert_true(matches("fd00::/8", "fd12:3456::1"));
    assert_false(matches("fd00::/8", "fe80::1"));
    assert_true(matches("2001:db8::/33", "2001:db8:7fff::1"));
    assert_false(matches("2001:db8::/33", "2001:db8:8000::1"));
    /* IPv4-mapped addresses (a dual-stack listener's IPv4 clients) are IPv4. */
    assert_true(matches("127.0.0.1", "::ffff:127.0.0.1"));
    assert_true(matches("::ffff:10.0.0.0/104", "10.1.2.3"));
    assert_false(matches("", "127.0.0.1"));
    /* Unix-socket peers (family 0) are always trusted. */
    wh_cidr_list_t list;
    char err[128];
    assert_int_equal(wh_cidr_list_parse(&list, "10.0.0.1", err, sizeof(err)), 0);
    wh_ipaddr_t unix_peer = {0};
    assert_true(wh_cidr_list_match(&list, &unix_peer));
}

static void test_cidr_errors(void **state)
{
    (void)state;
    wh_cidr_list_t list;
    char err[128];
    const char *bad[] = {"10.0.0.0/33", "10.0.0.0/",   "10.0.0/8",   "example.com",
                         "::1/129",     "10.0.0.1/-1", "1.2.3.4/8x", "fe80::1%eth0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(wh_cidr_list_parse(&list, bad[i], err, sizeof(err)), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_ipaddr_from_sockaddr(void **state)
{
    (void)state;
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &in6.sin6_addr);
    wh_ipaddr_t a;
    wh_ipaddr_from_sockaddr((struct sockaddr *)&in6, &a);
    assert_int_equal(a.family, 4);
    assert_memory_equal(a.bytes, "\xc0\x00\x02\x01", 4);
    struct sockaddr un = {.sa_family = AF_UNIX};
    wh_ipaddr_from_sockaddr(&un, &a);
    assert_int_equal(a.family, 0);
}

static wh_request_t request_with(const wh_header_t *headers, size_t count)
{
    wh_request_t r;
    memset(&r, 0, sizeof(r));
    r.method = S("GET");
    r.target = S("/path?q=1");
    r.path = S("/path");
    r.query = S("q=1");
    r.version = S("HTTP/1.1");
    r.remote_addr = S("10.1.2.3");
    r.remote_port = S("5555");
    r.url_scheme = S("http");
    r.headers = headers;
    r.header_count = count;
    return r;
}

static void test_scheme_headers(void **state)
{
    (void)state;
    bool present;
    wh_scheme_headers_t g; /* gunicorn's default */
    char err[128];
    assert_int_equal(wh_scheme_headers_parse(&g,
                                             "X-FORWARDED-PROTOCOL=ssl, X-FORWARDED-PROTO=https,"
                                             "X-FORWARDED-SSL=on",
                                             err, sizeof(err)),
                     0);
    assert_int_equal(g.count, 3);
    wh_header_t h1[] = {{S("X-Forwarded-Proto"), S("https")}};
    wh_request_t r = request_with(h1, 1);
    assert_int_equal(wh_forwarded_scheme(&r, &g, &present), 1);
    assert_true(present);
    wh_header_t h2[] = {{S("x-forwarded-proto"), S("HTTP")}};
    r = request_with(h2, 1);
    assert_int_equal(wh_forwarded_scheme(&r, &g, &present), 0);
    assert_true(present);
    wh_header_t h3[] = {{S("X-Forwarded-Ssl"), S("on")}, {S("X-Forwarded-Protocol"), S("ssl")}};
    r = request_with(h3, 2);
    assert_int_equal(wh_forwarded_scheme(&r, &g, &present), 1);
    wh_header_t h4[] = {{S("X-Forwarded-Proto"), S("https")}, {S("X-Forwarded-Ssl"), S("off")}};
    r = request_with(h4, 2);
    assert_int_equal(wh_forwarded_scheme(&r, &g, &present), -1);
    wh_header_t h5[] = {{S("Host"), S("x")}, {S("X-Forwarded-Host"), S("https")}};
    r = request_with(h5, 2);
    assert_int_equal(wh_forwarded_scheme(&r, &g, &present), 0);
    assert_false(present);
    /* A setting of its own: only the named header counts. */
    wh_scheme_headers_t own;
    assert_int_equal(wh_scheme_headers_parse(&own, "X-Scheme=https", err, sizeof(err)), 0);
    wh_header_t h6[] = {{S("x-scheme"), S("HTTPS")}};
    r = request_with(h6, 1);
    assert_int_equal(wh_forwarded_scheme(&r, &own, &present), 1);
    r = request_with(h1, 1);
    assert_int_equal(wh_forwarded_scheme(&r, &own, &present), 0);
    assert_false(present);
    assert_int_equal(wh_scheme_headers_parse(&own, "", err, sizeof(err)), 0);
    assert_int_equal(own.count, 0);
    assert_int_equal(wh_scheme_headers_parse(&own, "X-Scheme", err, sizeof(err)), -1);
    assert_int_equal(wh_scheme_headers_parse(&own, "Bad Name=https", err, sizeof(err)), -1);
}

static const char *realip(const wh_header_t *headers, size_t count, wh_realip_header_t which,
                          const char *trusted, char *port_out)
{
    static char out[64];
    wh_cidr_list_t list;
    char err[128];
    assert_int_equal(wh_cidr_list_parse(&list, trusted, err, sizeof(err)), 0);
    wh_request_t r = request_with(headers, count);
    wh_str_t addr, port;
    if (!wh_realip_find(&r, which, &list, &addr, &port))
        return NULL;
    snprintf(out, sizeof(out), "%.*s", (int)addr.len, addr.ptr);
    if (port_out)
        snprintf(port_out, 16, "%.*s", (int)port.len, port.ptr);
    return out;
}

/* ops checks the settings it owns when the configuration is loaded (wh_config_add_check). */
static void test_check_config(void **state)
{
    (void)state;
    wh_config_t cfg;
    wh_config_init(&cfg);
    char err[256];
    assert_int_equal(wh_ops_check_config(&cfg, err, sizeof(err)), 0);
    const char *saved = cfg.secure_scheme_headers;
    cfg.secure_scheme_headers = "X-Proto";
    assert_int_equal(wh_ops_check_config(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid --secure-scheme-headers"));
    cfg.secure_scheme_headers = saved;
    wh_config_free(&cfg);
}

static void test_xff(void **state)
{
    (void)state;
    wh_header_t h[] = {{S("X-Forwarded-For"), S("203.0.113.7, 10.0.0.2, 10.0.0.3")}};
    assert_string_equal(realip(h, 1, WH_REALIP_XFF, "10.0.0.0/8", NULL), "203.0.113.7");
    /* A client's forged left part is ignored: the right-most untrusted wins. */
    wh_header_t forged[] = {{S("X-Forwarded-For"), S("1.1.1.1, 198.51.100.9, 10.0.0.3")}};
    assert_string_equal(realip(forged, 1, WH_REALIP_XFF, "10.0.0.0/8", NULL), "198.51.100.9");
    /* Every hop trusted: the left-most. */
    wh_header_t all[] = {{S("X-Forwarded-For"), S("10.0.0.1,10.0.0.2")}};
    assert_string_equal(realip(all, 1, WH_REALIP_XFF, "10.0.0.0/8", NULL), "10.0.0.1");
    /* Several header lines form one list, in order. */
    wh_header_t two[] = {{S("X-Forwarded-For"), S("192.0.2.1")},
                         {S("Host"), S("h")},
                         {S("x-forwarded-for"), S("10.0.0.5")}};
    assert_string_equal(realip(two, 3, WH_REALIP_XFF, "10.0.0.0/8", NULL), "192.0.2.1");
    /* Garbage stops the walk at the last address walked over. */
    wh_header_t junk[] = {{S("X-Forwarded-For"), S("192.0.2.1, unknown, 10.0.0.5")}};
    assert_string_equal(realip(junk, 1, WH_REALIP_XFF, "10.0.0.0/8", NULL), "10.0.0.5");
    wh_header_t only_junk[] = {{S("X-Forwarded-For"), S("nonsense")}};
    assert_null(realip(only_junk, 1, WH_REALIP_XFF, "10.0.0.0/8", NULL));
    assert_null(realip(h, 0, WH_REALIP_XFF, "10.0.0.0/8", NULL));
    /* Ports and brackets some proxies add. */
    char port[16];
    wh_header_t ported[] = {{S("X-Forwarded-For"), S("[2001:db8::5]:4433, 192.0.2.9:80")}};
    assert_string_equal(realip(ported, 1, WH_REALIP_XFF, "192.0.2.9", port), "2001:db8::5");
    assert_string_equal(port, "4433");
    wh_header_t v6[] = {{S("X-Forwarded-For"), S("2001:db8::1")}};
    assert_string_equal(realip(v6, 1, WH_REALIP_XFF, "", NULL), "2001:db8::1");
}

static void test_forwarded_header(void **state)
{
    (void)state;
    char port[16];
    wh_header_t h[] = {
        {S("Forwarded"),
         S("for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\"")}};
    assert_string_equal(realip(h, 1, WH_REALIP_FORWARDED, "192.0.2.0/24", port),
                        "2001:db8:cafe::17");
    assert_string_equal(port, "4711");
    assert_string_equal(realip(h, 1, WH_REALIP_FORWARDED, "2001:db8::/32", port), "192.0.2.60");
    assert_string_equal(port, "");
    wh_header_t quoted[] = {{S("Forwarded"), S("For=\"198.51.100.17:8080\";proto=https")}};
    assert_string_equal(realip(quoted, 1, WH_REALIP_FORWARDED, "", port), "198.51.100.17");
    assert_string_equal(port, "8080");
    wh_header_t obfport[] = {{S("Forwarded"), S("for=\"198.51.100.17:_p1\"")}};
    assert_string_equal(realip(obfport, 1, WH_REALIP_FORWARDED, "", port), "198.51.100.17");
    assert_string_equal(port, "");
    /* RFC 7239 strictly: an element that does not parse gives nothing (and stops the walk). */
    const char *bad[] = {
        "for=192.0.2.1;for=192.0.2.2", /* a parameter twice */
        "for=192.0.2.1;FOR=192.0.2.2", /* names are case-insensitive */
        "for=\"192.0.2.1:99999\"",     /* not a port */
        "for=\"192.0.2.1:\"",
        "for = 192.0.2.1", /* no whitespace around '=' */
        "for=192.0.2.1 ;proto=http",
        "for=192.0.2.1:80",       /* ':' is not a token character: must be quoted */
        "for=\"2001:db8::1\"",    /* IPv6 needs brackets */
        "for=\"[192.0.2.1]\"",    /* and brackets IPv6 */
        "for=\"192.0.2.1\\:80\"", /* a quoted-pair in a node */
        "for=\"192.0.2.1",        /* unterminated */
        "for=192.0.2.1;=x",
        "for=192.0.2.1;proto",
        "for=",
        "for=nothing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wh_header_t one[] = {{S("Forwarded"), {bad[i], strlen(bad[i])}}};
        if (realip(one, 1, WH_REALIP_FORWARDED, "", NULL) != NULL)
            fail_msg("accepted Forwarded: %s", bad[i]);
    }
    /* A malformed element behind a trusted proxy is not walked over to the one before it: the
     * walk stops at the last trusted hop, as at "unknown". */
    wh_header_t behind[] = {{S("Forwarded"), S("for=192.0.2.8, for = 10.0.0.2, for=10.0.0.3")}};
    assert_string_equal(realip(behind, 1, WH_REALIP_FORWARDED, "10.0.0.0/8", NULL), "10.0.0.3");
    /* Empty list elements are skipped (RFC 9110 5.6.1.2). */
    wh_header_t empty[] = {{S("Forwarded"), S(", for=192.0.2.8 ,, for=10.0.0.2,")}};
    assert_string_equal(realip(empty, 1, WH_REALIP_FORWARDED, "10.0.0.0/8", NULL), "192.0.2.8");
    /* "unknown" and obfuscated nodes are not addresses. */
    wh_header_t unknown[] = {{S("Forwarded"), S("for=unknown, for=10.0.0.1")}};
    assert_string_equal(realip(unknown, 1, WH_REALIP_FORWARDED, "10.0.0.0/8", NULL), "10.0.0.1");
    wh_header_t obf[] = {{S("Forwarded"), S("for=_hidden")}};
    assert_null(realip(obf, 1, WH_REALIP_FORWARDED, "", NULL));
    /* Commas and semicolons inside quoted values do not split. */
    wh_header_t tricky[] = {{S("Forwarded"), S("by=\"a,b;c\";for=192.0.2.8, for=10.0.0.2")}};
    assert_string_equal(realip(tricky, 1, WH_REALIP_FORWARDED, "10.0.0.0/8", NULL), "192.0.2.8");
    /* An element without "for" ends the walk. */
    wh_header_t nofor[] = {{S("Forwarded"), S("for=192.0.2.8, proto=https, for=10.0.0.2")}};
    assert_string_equal(realip(nofor, 1, WH_REALIP_FORWARDED, "10.0.0.0/8", NULL), "10.0.0.2");
    wh_realip_header_t which;
    assert_int_equal(wh_realip_header_parse("x-forwarded-for", &which), 0);
    assert_int_equal(which, WH_REALIP_XFF);
    assert_int_equal(wh_realip_header_parse("FORWARDED", &which), 0);
    assert_int_equal(which, WH_REALIP_FORWARDED);
    assert_int_equal(wh_realip_header_parse("X-Real-IP", &which), -1);
}

/* ---- PROXY protocol ---------------------------------------------------------------------- */

static wh_proxy_status_t proxy(const char *data, size_t len, wh_proxy_result_t *r)
{
    return wh_proxy_parse(data, len, r);
}

static void test_proxy_v1(void **state)
{
    (void)state;
    wh_proxy_result_t r;
    const char ok[] = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n";
    assert_int_equal(proxy(ok, sizeof(ok) - 1, &r), WH_PROXY_DONE);
    assert_int_equal(r.consumed, 45);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.family, AF_INET);
    assert_memory_equal(r.src_addr, "\xc0\x00\x02\x01", 4);
    assert_int_equal(r.src_port, 56324);
    assert_int_equal(r.dst_port, 443);
    /* Every prefix of it asks for more. */
    for (size_t n = 0; n < 45; n++)
        assert_int_equal(proxy(ok, n, &r), WH_PROXY_MORE);
    const char v6[] = "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n";
    assert_int_equal(proxy(v6, sizeof(v6) - 1, &r), WH_PROXY_DONE);
    assert_int_equal(r.family, AF_INET6);
    assert_int_equal(r.src_port, 1);
    const char unknown[] = "PROXY UNKNOWN whatever follows\r\n";
    assert_int_equal(proxy(unknown, sizeof(unknown) - 1, &r), WH_PROXY_DONE);
    assert_int_equal(r.family, 0);
    assert_int_equal(r.consumed, sizeof(unknown) - 1);
    const char *bad[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 extra\r\n",
        "PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 0443 443\r\n",
        "PROXY TCP4 192.0.2.1  198.51.100.2 1 443\r\n",
        "PROXY UDP4 192.0.2.1 198.51.100.2 1 443\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 443\n",
        "proxy TCP4 192.0.2.1 198.51.100.2 1 443\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(proxy(bad[i], strlen(bad[i]), &r), WH_PROXY_ERROR);
    /* No CRLF within v1's 107 bytes: refused, not waited for. */
    char longline[200];
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "PROXY TCP4 ", 11);
    assert_int_equal(proxy(longline, sizeof(longline), &r), WH_PROXY_ERROR);
}

static size_t v2_header(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body,
                        uint16_t len)
{
    static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    memcpy(out, sig, 12);
    out[12] = ver_cmd;
    out[13] = fam;
    out[14] = (uint8_t)(len >> 8);
    out[15] = (uint8_t)len;
    if (len)
        memcpy(out + 16, body, len);
    return 16u + len;
}

static void test_proxy_v2(void **state)
{
    (void)state;
    uint8_t buf[4096];
    wh_proxy_result_t r;
    /* TCP over IPv4, with a TLV after the addresses. */
    uint8_t v4[12 + 7] = {192,  0,    2,    1,    198,  51,  100, 2,   0xdc, 0x04,
                          0x01, 0xbb, 0x04, 0x00, 0x04, 'a', 'b', 'c', 'd'};
    size_t n = v2_header(buf, 0x21, 0x11, v4, sizeof(v4));
    memcpy(buf + n, "GET", 3);
    assert_int_equal(proxy((char *)buf, n + 3, &r), WH_PROXY_DONE);
    assert_int_equal(r.consumed, n);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.family, AF_INET);
    assert_memory_equal(r.src_addr, "\xc0\x00\x02\x01", 4);
    assert_int_equal(r.src_port, 56324);
    assert_int_equal(r.dst_port, 443);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(proxy((char *)buf, k, &r), WH_PROXY_MORE);
    /* IPv6. */
    uint8_t v6[36] = {0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 1;
    v6[32] = 0x12;
    v6[33] = 0x34;
    n = v2_header(buf, 0x21, 0x21, v6, sizeof(v6));
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_DONE);
    assert_int_equal(r.family, AF_INET6);
    assert_int_equal(r.src_port, 0x1234);
    /* LOCAL (the balancer's health check): addresses are the connection's own. */
    n = v2_header(buf, 0x20, 0x00, NULL, 0);
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_DONE);
    assert_int_equal(r.family, 0);
    assert_int_equal(r.consumed, 16);
    /* UNIX family: known header, unknown address. */
    uint8_t unix_body[216] = {0};
    n = v2_header(buf, 0x21, 0x31, unix_body, sizeof(unix_body));
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_DONE);
    assert_int_equal(r.family, 0);
    /* Errors: bad version, bad command, an address block too short, too long. */
    n = v2_header(buf, 0x11, 0x11, v4, 12);
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_ERROR);
    n = v2_header(buf, 0x22, 0x11, v4, 12);
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_ERROR);
    n = v2_header(buf, 0x21, 0x11, v4, 8);
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_ERROR);
    n = v2_header(buf, 0x21, 0x21, v6, 20);
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_ERROR);
    buf[14] = 0xff;
    assert_int_equal(proxy((char *)buf, 16, &r), WH_PROXY_ERROR);
    /* A wrong byte inside the signature. */
    n = v2_header(buf, 0x21, 0x11, v4, 12);
    buf[5] = 0;
    assert_int_equal(proxy((char *)buf, n, &r), WH_PROXY_ERROR);
}

/* ---- access log -------------------------------------------------------------------------- */

static char *format_line(const char *fmt, bool json, const wh_access_entry_t *e)
{
    char err[256];
    wh_accesslog_t *log = wh_accesslog_new(fmt, json, err, sizeof(err));
    assert_non_null(log);
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_accesslog_format(log, e, &out), 0);
    wh_accesslog_free(log);
    char *s = strndup(out.data, out.len);
    wh_buf_free(&out);
    return s;
}

static wh_access_entry_t entry(const wh_request_t *r)
{
    wh_access_entry_t e;
    memset(&e, 0, sizeof(e));
    e.req = r;
    e.status = 200;
    e.body_bytes = 14;
    e.duration_us = 1234567;
    e.now.tv_sec = 1000000000; /* 2001-09-09 01:46:40 UTC */
    e.now.tv_nsec = 5000000;
    return e;
}

static void test_access_default(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    wh_header_t h[] = {{S("Referer"), S("http://r/")}, {S("User-Agent"), S("curl \"x\"")}};
    wh_request_t r = request_with(h, 2);
    wh_access_entry_t e = entry(&r);
    char *line = format_line(NULL, false, &e);
    assert_string_equal(line, "10.1.2.3 - - [09/Sep/2001:01:46:40 +0000] \"GET /path?q=1 "
                              "HTTP/1.1\" 200 14 \"http://r/\" \"curl \\\"x\\\"\"\n");
    free(line);
    /* No Referer or User-Agent: "-". */
    r = request_with(NULL, 0);
    e = entry(&r);
    line = format_line(NULL, false, &e);
    assert_string_equal(line, "10.1.2.3 - - [09/Sep/2001:01:46:40 +0000] \"GET /path?q=1 "
                              "HTTP/1.1\" 200 14 \"-\" \"-\"\n");
    free(line);
}

static void test_access_atoms(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    /* "Basic dXNlcjpwYXNz" is user:pass. */
    wh_header_t h[] = {{S("Authorization"), S("Basic dXNlcjpwYXNz")},
                       {S("X-Forwarded-For"), S("1.2.3.4")},
                       {S("X-Evil"), S("a\tb")}};
    wh_request_t r = request_with(h, 3);
    wh_header_t out_headers[] = {{S("Content-Type"), S("text/html")}};
    wh_access_entry_t e = entry(&r);
    e.resp_headers = out_headers;
    e.resp_header_count = 1;
    e.request_id = S("abc123");
    char *line = format_line("%(u)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(T)s|%(M)s|%(D)s|"
                             "%(L)s|%({x-forwarded-for}i)s|%({X-Missing}i)s|%({content-type}o)s|"
                             "%({remote_addr}e)s|%({HTTP_X_FORWARDED_FOR}e)s|%({request_id}x)s|"
                             "%(zz)s|%(Z)s|100%%|%({x-evil}i)s",
                             false, &e);
    assert_string_equal(line, "user|GET|/path|q=1|HTTP/1.1|200|14|1|1234|1234567|1.234567|"
                              "1.2.3.4|-|text/html|10.1.2.3|1.2.3.4|abc123|-|-|100%|a\\x09b\n");
    free(line);
    char pid[32];
    snprintf(pid, sizeof(pid), "<%ld>\n", (long)getpid());
    line = format_line("%(p)s", false, &e);
    assert_string_equal(line, pid);
    free(line);
    /* A malformed format is refused with a reason. */
    char err[256] = "";
    assert_null(wh_accesslog_new("%(h", false, err, sizeof(err)));
    assert_non_null(strstr(err, "unterminated"));
    assert_null(wh_accesslog_new("%(h)", false, err, sizeof(err)));
    /* The {Name}o atoms are listed for the runner. */
    wh_accesslog_t *log =
        wh_accesslog_new("%({Content-Type}o)s %({X-A}o)s", false, err, sizeof(err));
    assert_non_null(log);
    const char *const *names = wh_accesslog_response_headers(log);
    assert_string_equal(names[0], "Content-Type");
    assert_string_equal(names[1], "X-A");
    assert_null(names[2]);
    wh_accesslog_free(log);
}

static void test_access_json(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    wh_header_t h[] = {{S("User-Agent"), S("a\"b\\c\xe9")}};
    wh_request_t r = request_with(h, 1);
    wh_access_entry_t e = entry(&r);
    e.request_id = S("rid");
    char *line = format_line(NULL, true, &e);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "{\"time\":\"2001-09-09T01:46:40.005+00:00\",\"type\":\"access\","
             "\"remote_addr\":\"10.1.2.3\",\"method\":\"GET\",\"uri\":\"/path?q=1\","
             "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":14,\"duration_us\":1234567,"
             "\"referer\":null,\"user_agent\":\"a\\\"b\\\\c\\u00e9\",\"request_id\":\"rid\","
             "\"pid\":%ld}\n",
             (long)getpid());
    assert_string_equal(line, expected);
    free(line);
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_json_escape(&out, "\n\r\t\x01\x7f", 5), 0);
    assert_int_equal(out.len, strlen("\\n\\r\\t\\u0001\\u007f"));
    assert_memory_equal(out.data, "\\n\\r\\t\\u0001\\u007f", out.len);
    wh_buf_free(&out);
}

/* The escaping as the byte-at-a-time rules say, to check the word-at-a-time scanning
 * against: text lines write '"' as \\" and controls and DEL as \\xNN; JSON strings also escape
 * '\\' and bytes from 0x7f up. */
static void reference_escape(wh_buf_t *out, const unsigned char *s, size_t len, bool json)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        char esc[8];
        if (c == '"')
            snprintf(esc, sizeof(esc), "\\\"");
        else if (json && c == '\\')
            snprintf(esc, sizeof(esc), "\\\\");
        else if (json && c == '\n')
            snprintf(esc, sizeof(esc), "\\n");
        else if (json && c == '\r')
            snprintf(esc, sizeof(esc), "\\r");
        else if (json && c == '\t')
            snprintf(esc, sizeof(esc), "\\t");
        else if (c < 0x20 || c == 0x7f || (json && c > 0x7f))
            snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x", c);
        else
            snprintf(esc, sizeof(esc), "%c", c);
        assert_int_equal(wh_buf_append_str(out, esc), 0);
    }
}

static void test_access_escaping_every_position(void **state)
{
    (void)state;
    /* Each special byte at each position of values longer than two words, so the escape
     * lands in the first word, a later one, and the byte-wise tail. */
    static const unsigned char specials[] = {'"',  '\\', 0x00, 0x01, '\t', '\n', 0x1f,
                                             0x7f, 0x80, 0xe9, 0xff, ' ',  '~'};
    enum { VALUE_LEN = 21 };
    char err[256];
    wh_accesslog_t *log = wh_accesslog_new("%({X-V}i)s", false, err, sizeof(err));
    assert_non_null(log);
    for (size_t k = 0; k < sizeof(specials); k++) {
        for (size_t pos = 0; pos < VALUE_LEN; pos++) {
            unsigned char v[VALUE_LEN];
            memset(v, 'a', sizeof(v));
            v[pos] = specials[k];
            for (int json = 0; json <= 1; json++) {
                wh_buf_t want = WH_BUF_INIT, got = WH_BUF_INIT;
                reference_escape(&want, v, sizeof(v), json);
                if (json) {
                    assert_int_equal(wh_json_escape(&got, (const char *)v, sizeof(v)), 0);
                } else {
                    wh_header_t h[] = {{S("X-V"), {(const char *)v, sizeof(v)}}};
                    wh_request_t r = request_with(h, 1);
                    wh_access_entry_t e = entry(&r);
                    assert_int_equal(wh_accesslog_format(log, &e, &got), 0);
                    assert_int_equal(wh_buf_append(&want, "\n", 1), 0);
                }
                assert_int_equal(got.len, want.len);
                assert_memory_equal(got.data, want.data, want.len);
                wh_buf_free(&want);
                wh_buf_free(&got);
            }
        }
    }
    wh_accesslog_free(log);
}

/* ---- request IDs, metrics ---------------------------------------------------------------- */

static void test_request_id(void **state)
{
    (void)state;
    wh_request_id_gen_t g;
    wh_request_id_init(&g);
    char a[WH_REQUEST_ID_GENERATED + 1], b[WH_REQUEST_ID_GENERATED + 1];
    wh_request_id_next(&g, a);
    wh_request_id_next(&g, b);
    assert_int_equal(strlen(a), 16);
    assert_string_not_equal(a, b);
    assert_true(strspn(a, "0123456789abcdef") == 16);
    assert_true(wh_request_id_valid(S("abc-123_X.Y:z/+=")));
    assert_false(wh_request_id_valid(S("")));
    assert_false(wh_request_id_valid(S("has space")));
    assert_false(wh_request_id_valid(S("quote\"")));
    assert_false(wh_request_id_valid(S("bad\x7f")));
    char longid[WH_REQUEST_ID_MAX + 2];
    memset(longid, 'a', sizeof(longid));
    assert_true(wh_request_id_valid((wh_str_t){longid, WH_REQUEST_ID_MAX}));
    assert_false(wh_request_id_valid((wh_str_t){longid, WH_REQUEST_ID_MAX + 1}));
}

static void test_metrics_render(void **state)
{
    (void)state;
    wh_scoreboard_t *sb = wh_scoreboard_new();
    assert_non_null(sb);
    atomic_store(&sb->slots[0].state, WH_SLOT_READY);
    atomic_store(&sb->slots[1].state, WH_SLOT_READY);
    wh_stats_record(&sb->slots[0].stats, WH_HANDLER_APP, S("GET"), 200, 300);
    wh_stats_record(&sb->slots[1].stats, WH_HANDLER_APP, S("GET"), 204, 3000);
    wh_stats_record(&sb->slots[1].stats, WH_HANDLER_STATIC, S("HEAD"), 304, 50);
    wh_stats_record(&sb->slots[1].stats, WH_HANDLER_APP, S("BREW"), 503, 20000000);
    wh_stat_add(&sb->slots[0].stats.bytes_sent[WH_HANDLER_APP], 100);
    /* Worker 1 exits: its counts stay. */
    wh_metrics_fold_slot(sb, 1);
    atomic_store(&sb->slots[1].state, WH_SLOT_FREE);
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_metrics_render(sb, &out), 0);
    assert_int_equal(wh_buf_append(&out, "", 1), 0);
    const char *text = out.data;
    assert_non_null(strstr(text, "wsgihost_requests_total{handler=\"app\",method=\"GET\","
                                 "status=\"2xx\"} 2\n"));
    assert_non_null(strstr(text, "wsgihost_requests_total{handler=\"static\",method=\"HEAD\","
                                 "status=\"3xx\"} 1\n"));
    assert_non_null(strstr(text, "wsgihost_requests_total{handler=\"app\",method=\"other\","
                                 "status=\"5xx\"} 1\n"));
    assert_non_null(strstr(text, "wsgihost_request_duration_seconds_bucket{handler=\"app\","
                                 "le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "wsgihost_request_duration_seconds_bucket{handler=\"app\","
                                 "le=\"0.005\"} 2\n"));
    assert_non_null(strstr(text, "wsgihost_request_duration_seconds_bucket{handler=\"app\","
                                 "le=\"10\"} 2\n"));
    assert_non_null(strstr(text, "wsgihost_request_duration_seconds_bucket{handler=\"app\","
                                 "le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "wsgihost_request_duration_seconds_sum{handler=\"app\"} "
                                 "20.003300\n"));
    assert_non_null(strstr(text, "wsgihost_request_duration_seconds_count{handler=\"app\"} 3\n"));
    assert_non_null(strstr(text, "wsgihost_response_bytes_total{handler=\"app\"} 100\n"));
    assert_non_null(strstr(text, "wsgihost_workers{state=\"ready\"} 1\n"));
    assert_null(strstr(text, "handler=\"probe\",le="));
    wh_buf_free(&out);
    assert_int_equal(wh_stat_method_index(S("OPTIONS")), 6);
    assert_int_equal(wh_stat_method_index(S("get")), 7); /* methods are case-sensitive */
    wh_scoreboard_free(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_match),
        cmocka_unit_test(test_cidr_errors),
        cmocka_unit_test(test_ipaddr_from_sockaddr),
        cmocka_unit_test(test_scheme_headers),
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_xff),
        cmocka_unit_test(test_forwarded_header),
        cmocka_unit_test(test_proxy_v1),
        cmocka_unit_test(test_proxy_v2),
        cmocka_unit_test(test_access_default),
        cmocka_unit_test(test_access_atoms),
        cmocka_unit_test(test_access_json),
        cmocka_unit_test(test_access_escaping_every_position),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
