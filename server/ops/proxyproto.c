/* PROXY protocol v1 and v2 headers (see server/ops/proxyproto.h and HAProxy's proxy-protocol.txt).
 */
#include "server/ops/proxyproto.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static const char V1_PREFIX[] = "PROXY ";
static const uint8_t V2_SIGNATURE[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
enum { V2_HEADER = 16, V2_IPV4_LEN = 12, V2_IPV6_LEN = 36 };
enum { V2_CMD_LOCAL = 0x0, V2_CMD_PROXY = 0x1 };
enum { V2_AF_INET = 0x1, V2_AF_INET6 = 0x2, V2_PROTO_STREAM = 0x1 };

/* A decimal port 0..65535 without a sign or leading zeros (v1's rules). */
static int parse_port(const char *s, size_t len, uint16_t *out)
{
    if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static int parse_addr(int family, const char *s, size_t len, uint8_t *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(family, buf, out) == 1 ? 0 : -1;
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\r\n". */
static wh_proxy_status_t parse_v1(const char *data, size_t len, wh_proxy_result_t *out)
{
    /* 107 bytes at most with the CRLF: the CR is among the first 106. */
    size_t limit = len < WH_PROXY_V1_MAX - 1 ? len : WH_PROXY_V1_MAX - 1;
    const char *cr = memchr(data, '\r', limit);
    const char *lf = memchr(data, '\n', limit);
    if (lf != NULL && (cr == NULL || lf < cr))
        return WH_PROXY_ERROR; /* a bare LF */
    if (cr == NULL)
        return len >= WH_PROXY_V1_MAX - 1 ? WH_PROXY_ERROR : WH_PROXY_MORE;
    size_t line_len = (size_t)(cr - data);
    if (line_len + 1 >= len)
        return WH_PROXY_MORE;
    if (cr[1] != '\n')
        return WH_PROXY_ERROR;
    for (size_t i = 0; i < line_len; i++) {
        if ((unsigned char)data[i] < 0x20 || (unsigned char)data[i] > 0x7e)
            return WH_PROXY_ERROR;
    }
    out->consumed = line_len + 2;
    out->version = 1;
    /* Split on single spaces: protocol, source, destination, source port, destination port. */
    const char *fields[6];
    size_t lens[6];
    size_t n = 0;
    const char *p = data + sizeof(V1_PREFIX) - 1, *end = cr;
    for (;;) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *stop = sp ? sp : end;
        fields[n] = p;
        lens[n] = (size_t)(stop - p);
        n++;
        if (!sp || n == 6)
            break;
        p = sp + 1;
    }
    if (lens[0] == 7 && memcmp(fields[0], "UNKNOWN", 7) == 0) {
        out->family = 0; /* the rest of the line is to be ignored */
        return WH_PROXY_DONE;
    }
    if (n != 5)
        return WH_PROXY_ERROR;
    int family;
    if (lens[0] == 4 && memcmp(fields[0], "TCP4", 4) == 0)
        family = AF_INET;
    else if (lens[0] == 4 && memcmp(fields[0], "TCP6", 4) == 0)
        family = AF_INET6;
    else
        return WH_PROXY_ERROR;
    if (parse_addr(family, fields[1], lens[1], out->src_addr) != 0 ||
        parse_addr(family, fields[2], lens[2], out->dst_addr) != 0 ||
        parse_port(fields[3], lens[3], &out->src_port) != 0 ||
        parse_port(fields[4], lens[4], &out->dst_port) != 0)
        return WH_PROXY_ERROR;
    out->family = family;
    return WH_PROXY_DONE;
}

static wh_proxy_status_t parse_v2(const uint8_t *data, size_t len, wh_proxy_result_t *out)
{
    if (len < V2_HEADER)
        return WH_PROXY_MORE;
    uint8_t ver_cmd = data[12], fam = data[13];
    size_t body = (size_t)data[14] << 8 | data[15];
    if ((ver_cmd >> 4) != 2 || V2_HEADER + body > WH_PROXY_V2_MAX)
        return WH_PROXY_ERROR;
    unsigned cmd = ver_cmd & 0x0f;
    if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
        return WH_PROXY_ERROR;
    if (len < V2_HEADER + body)
        return WH_PROXY_MORE;
    out->consumed = V2_HEADER + body;
    out->version = 2;
    out->family = 0;
    if (cmd == V2_CMD_LOCAL)
        return WH_PROXY_DONE; /* the balancer's own connection (a health check) */
    unsigned af = fam >> 4, proto = fam & 0x0f;
    const uint8_t *a = data + V2_HEADER;
    if (af == V2_AF_INET && proto == V2_PROTO_STREAM) {
        if (body < V2_IPV4_LEN)
            return WH_PROXY_ERROR;
        memcpy(out->src_addr, a, 4);
        memcpy(out->dst_addr, a + 4, 4);
        out->src_port = (uint16_t)(a[8] << 8 | a[9]);
        out->dst_port = (uint16_t)(a[10] << 8 | a[11]);
        out->family = AF_INET;
    } else if (af == V2_AF_INET6 && proto == V2_PROTO_STREAM) {
        if (body < V2_IPV6_LEN)
            return WH_PROXY_ERROR;
        memcpy(out->src_addr, a, 16);
        memcpy(out->dst_addr, a + 16, 16);
        out->src_port = (uint16_t)(a[32] << 8 | a[33]);
        out->dst_port = (uint16_t)(a[34] << 8 | a[35]);
        out->family = AF_INET6;
    }
    /* Other families (UNSPEC, UNIX, datagrams): addresses unknown, keep the connection's. */
    return WH_PROXY_DONE;
}

wh_proxy_status_t wh_proxy_parse(const char *data, size_t len, wh_proxy_result_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return WH_PROXY_MORE;
    /* Decide on the bytes we have: a prefix of either signature is "more", anything else an
     * error at once (so plain HTTP sent to a PROXY port is refused on its first bytes). */
    size_t n1 = len < sizeof(V1_PREFIX) - 1 ? len : sizeof(V1_PREFIX) - 1;
    if (memcmp(data, V1_PREFIX, n1) == 0)
        return n1 < sizeof(V1_PREFIX) - 1 ? WH_PROXY_MORE : parse_v1(data, len, out);
    size_t n2 = len < sizeof(V2_SIGNATURE) ? len : sizeof(V2_SIGNATURE);
    if (memcmp(data, V2_SIGNATURE, n2) == 0)
        return n2 < sizeof(V2_SIGNATURE) ? WH_PROXY_MORE
                                         : parse_v2((const uint8_t *)data, len, out);
    return WH_PROXY_ERROR;
}
