/* Trusting proxies (see server/ops/forwarded.h). */
#include "server/ops/forwarded.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/core/errmsg.h"
#include "server/http/response.h"

/* Longest address text we look at: a full IPv6 address with an embedded IPv4 one. */
enum { ADDR_TEXT_MAX = 64 };
/* Hops of a forwarding chain kept (the right-most ones: those are the ones walked). */
enum { CHAIN_MAX = 64 };

static const uint8_t V4_MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void normalise(wh_ipaddr_t *a)
{
    if (a->family == 6 && memcmp(a->bytes, V4_MAPPED_PREFIX, sizeof(V4_MAPPED_PREFIX)) == 0) {
        memmove(a->bytes, a->bytes + 12, 4);
        memset(a->bytes + 4, 0, 12);
        a->family = 4;
    }
}

int wh_ipaddr_parse(const char *text, size_t len, wh_ipaddr_t *out)
{
    char buf[ADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (memchr(buf, ':', len) != NULL) {
        if (inet_pton(AF_INET6, buf, out->bytes) != 1)
            return -1;
        out->family = 6;
        normalise(out);
        return 0;
    }
    if (inet_pton(AF_INET, buf, out->bytes) != 1)
        return -1;
    out->family = 4;
    return 0;
}

void wh_ipaddr_from_sockaddr(const struct sockaddr *sa, wh_ipaddr_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        out->family = 4;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(out->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        out->family = 6;
        normalise(out);
    }
}

/* ---- lists ------------------------------------------------------------------------------- */

static bool is_separator(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Clears the bits past `prefix` (so "10.1.2.3/8" means 10.0.0.0/8). */
static void mask(wh_ipaddr_t *a, unsigned prefix)
{
    unsigned bits = a->family == 4 ? 32 : 128;
    for (unsigned i = prefix; i < bits; i++)
        a->bytes[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static int parse_entry(wh_cidr_list_t *list, const char *s, size_t len, char *err, size_t err_size)
{
    if (len == 1 && s[0] == '*') {
        list->any = true;
        return 0;
    }
    if (list->count == WH_CIDR_MAX)
        return wh_errorf(err, err_size, "too many addresses (at most %d)", WH_CIDR_MAX);
    const char *slash = memchr(s, '/', len);
    size_t addr_len = slash ? (size_t)(slash - s) : len;
    wh_cidr_t *net = &list->nets[list->count];
    if (wh_ipaddr_parse(s, addr_len, &net->net) != 0)
        return wh_errorf(err, err_size, "'%.*s' is not an IP address or CIDR", (int)len, s);
    unsigned max = net->net.family == 4 ? 32 : 128;
    unsigned prefix = max;
    if (slash) {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3)
            return wh_errorf(err, err_size, "bad prefix length in '%.*s'", (int)len, s);
        prefix = 0;
        for (; p < end; p++) {
            if (!isdigit((unsigned char)*p))
                return wh_errorf(err, err_size, "bad prefix length in '%.*s'", (int)len, s);
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        /* ::ffff:10.0.0.0/104 was stored as IPv4: its prefix counts from the mapped part. */
        bool mapped = net->net.family == 4 && memchr(s, ':', addr_len) != NULL;
        if (mapped) {
            if (prefix < 96 || prefix > 128)
                return wh_errorf(err, err_size, "bad prefix length in '%.*s'", (int)len, s);
            prefix -= 96;
        } else if (prefix > max) {
            return wh_errorf(err, err_size, "prefix /%u is too long for '%.*s'", prefix,
                             (int)addr_len, s);
        }
    }
    net->prefix = (uint8_t)prefix;
    mask(&net->net, prefix);
    list->count++;
    return 0;
}

int wh_cidr_list_parse(wh_cidr_list_t *list, const char *text, char *err, size_t err_size)
{
    memset(list, 0, sizeof(*list));
    const char *p = text ? text : "";
    for (;;) {
        while (*p && is_separator(*p))
            p++;
        if (*p == '\0')
            return 0;
        const char *start = p;
        while (*p && !is_separator(*p))
            p++;
        if (parse_entry(list, start, (size_t)(p - start), err, err_size) != 0)
            return -1;
    }
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & m) == (b[whole] & m);
}

bool wh_cidr_list_match(const wh_cidr_list_t *list, const wh_ipaddr_t *addr)
{
    if (addr->family == 0 || list->any)
        return true; /* Unix sockets: only local processes reach them */
    for (size_t i = 0; i < list->count; i++) {
        const wh_cidr_t *n = &list->nets[i];
        if (n->net.family == addr->family && prefix_equal(n->net.bytes, addr->bytes, n->prefix))
            return true;
    }
    return false;
}

/* ---- scheme headers ---------------------------------------------------------------------- */

static bool value_is(wh_str_t v, const char *literal)
{
    return wh_name_equals(v, literal);
}

static bool header_token_valid(const char *s, size_t len)
{
    static const char TCHAR[] = "!#$%&'*+-.^_`|~";
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && strchr(TCHAR, s[i]) == NULL)
            return false;
    }
    return len > 0;
}

int wh_scheme_headers_parse(wh_scheme_headers_t *out, const char *text, char *err, size_t err_size)
{
    out->count = 0;
    for (const char *p = text ? text : ""; *p;) {
        size_t len = strcspn(p, ",");
        const char *item = p, *end = p + len;
        p = *end ? end + 1 : end;
        while (item < end && isspace((unsigned char)*item))
            item++;
        while (end > item && isspace((unsigned char)end[-1]))
            end--;
        if (item == end)
            continue;
        const char *eq = memchr(item, '=', (size_t)(end - item));
        size_t name_len = eq ? (size_t)(eq - item) : 0;
        size_t value_len = eq ? (size_t)(end - eq - 1) : 0;
        if (eq == NULL || !header_token_valid(item, name_len) || value_len == 0)
            return wh_errorf(err, err_size, "'%.*s' is not HEADER=VALUE", (int)(end - item), item);
        if (out->count == WH_SCHEME_HEADERS_MAX || name_len >= WH_SCHEME_HEADER_TEXT_MAX ||
            value_len >= WH_SCHEME_HEADER_TEXT_MAX)
            return wh_errorf(err, err_size, "at most %d headers of %d bytes", WH_SCHEME_HEADERS_MAX,
                             WH_SCHEME_HEADER_TEXT_MAX - 1);
        memcpy(out->items[out->count].name, item, name_len);
        out->items[out->count].name[name_len] = '\0';
        memcpy(out->items[out->count].value, eq + 1, value_len);
        out->items[out->count].value[value_len] = '\0';
        out->count++;
    }
    return 0;
}

int wh_forwarded_scheme(const wh_request_t *req, const wh_scheme_headers_t *headers, bool *present)
{
    int scheme = -1; /* -1: none seen yet; 0 http; 1 https */
    for (size_t i = 0; i < req->header_count; i++) {
        const wh_header_t *h = &req->headers[i];
        for (size_t k = 0; k < headers->count; k++) {
            if (!wh_name_equals(h->name, headers->items[k].name))
                continue;
            int secure = value_is(h->value, headers->items[k].value) ? 1 : 0;
            if (scheme >= 0 && scheme != secure) {
                *present = true;
                return -1;
            }
            scheme = secure;
        }
    }
    *present = scheme >= 0;
    return scheme > 0 ? 1 : 0;
}

/* ---- client address chains -------------------------------------------------------------- */

int wh_realip_header_parse(const char *name, wh_realip_header_t *out)
{
    if (name == NULL || *name == '\0' || strcasecmp(name, "none") == 0) {
        *out = WH_REALIP_NONE;
        return 0;
    }
    if (strcasecmp(name, "X-Forwarded-For") == 0) {
        *out = WH_REALIP_XFF;
        return 0;
    }
    if (strcasecmp(name, "Forwarded") == 0) {
        *out = WH_REALIP_FORWARDED;
        return 0;
    }
    return -1;
}

typedef struct {
    wh_str_t addr; /* empty: not an address */
    wh_str_t port;
} hop_t;

typedef struct {
    hop_t hops[CHAIN_MAX];
    size_t count;   /* kept */
    size_t dropped; /* left-most hops that did not fit */
} chain_t;

static void chain_add(chain_t *c, hop_t hop)
{
    if (c->count == CHAIN_MAX) {
        memmove(c->hops, c->hops + 1, sizeof(c->hops[0]) * (CHAIN_MAX - 1));
        c->count--;
        c->dropped++;
    }
    c->hops[c->count++] = hop;
}

static wh_str_t trim(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (wh_str_t){p, (size_t)(end - p)};
}

static bool is_ip(wh_str_t s)
{
    wh_ipaddr_t a;
    return wh_ipaddr_parse(s.ptr, s.len, &a) == 0;
}

/* "[IPv6]" or "[IPv6]:port" (item starts with '['): the hop, empty when it is not that. */
static hop_t bracketed_hop(wh_str_t item)
{
    hop_t hop = {{item.ptr, 0}, {item.ptr, 0}};
    const char *p = item.ptr, *end = item.ptr + item.len;
    const char *close = memchr(p, ']', item.len);
    if (close && (close + 1 == end || close[1] == ':')) {
        wh_str_t a = {p + 1, (size_t)(close - p - 1)};
        if (is_ip(a)) {
            hop.addr = a;
            if (close + 1 < end)
                hop.port = (wh_str_t){close + 2, (size_t)(end - close - 2)};
        }
    }
    return hop;
}

/* X-Forwarded-For: "client, proxy1, proxy2". Entries are plain addresses; an IPv4 address
 * with a port ("1.2.3.4:5678") or a bracketed IPv6 one ("[::1]:5678", as some proxies send)
 * is accepted too. */
static hop_t xff_hop(wh_str_t item)
{
    hop_t hop = {{item.ptr, 0}, {item.ptr, 0}};
    if (is_ip(item)) {
        hop.addr = item;
        return hop;
    }
    const char *p = item.ptr, *end = item.ptr + item.len;
    if (item.len > 2 && *p == '[')
        return bracketed_hop(item);
    const char *colon = memchr(p, ':', item.len);
    if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL) {
        wh_str_t a = {p, (size_t)(colon - p)};
        wh_ipaddr_t ip;
        if (wh_ipaddr_parse(a.ptr, a.len, &ip) == 0 && ip.family == 4) {
            hop.addr = a;
            hop.port = (wh_str_t){colon + 1, (size_t)(end - colon - 1)};
        }
    }
    return hop;
}

static void parse_xff(chain_t *c, wh_str_t v)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        wh_str_t item = trim(p, stop);
        if (item.len > 0 || comma) /* "a, , b": an empty hop is not an address */
            chain_add(c, xff_hop(item));
        if (!comma)
            break;
        p = comma + 1;
    }
}

/* RFC 7239 §6 node-port: port (1*5DIGIT, here also at most 65535) or an obfuscated "_name". */
static bool node_port_valid(wh_str_t p, bool *numeric)
{
    *numeric = p.len > 0 && p.ptr[0] != '_';
    if (p.len == 0)
        return false;
    if (!*numeric) {
        for (size_t i = 1; i < p.len; i++) {
            unsigned char c = (unsigned char)p.ptr[i];
            if (!isalnum(c) && c != '.' && c != '_' && c != '-')
                return false;
        }
        return p.len > 1;
    }
    if (p.len > 5)
        return false;
    unsigned long n = 0;
    for (size_t i = 0; i < p.len; i++) {
        if (p.ptr[i] < '0' || p.ptr[i] > '9')
            return false;
        n = n * 10 + (unsigned long)(p.ptr[i] - '0');
    }
    return n <= UINT16_MAX;
}

/* RFC 7239 §6 obfnode: "_" 1*( ALPHA / DIGIT / "." / "_" / "-" ). */
static bool obfuscated_name(wh_str_t v)
{
    bool ok;
    return v.len > 1 && v.ptr[0] == '_' && node_port_valid(v, &ok) && !ok;
}

/* A Forwarded node (RFC 7239 §6): IPv4 [":" port], "[" IPv6 "]" [":" port], "unknown" or an
 * obfuscated "_name" (the last two are valid but not addresses). `v` is the value with its
 * quotes removed. False when the node does not parse. */
static bool forwarded_node(wh_str_t v, hop_t *hop)
{
    *hop = (hop_t){{v.ptr, 0}, {v.ptr, 0}};
    const char *p = v.ptr, *end = v.ptr + v.len;
    wh_str_t name = v, port = {end, 0};
    bool has_port = false;
    if (v.len > 0 && *p == '[') {
        const char *close = memchr(p, ']', v.len);
        if (close == NULL || (close + 1 < end && close[1] != ':'))
            return false;
        name = (wh_str_t){p + 1, (size_t)(close - p - 1)};
        has_port = close + 1 < end;
        if (has_port)
            port = (wh_str_t){close + 2, (size_t)(end - close - 2)};
        wh_ipaddr_t ip;
        if (wh_ipaddr_parse(name.ptr, name.len, &ip) != 0 || ip.family != 6)
            return false;
    } else {
        const char *colon = memchr(p, ':', v.len);
        if (colon) {
            name = (wh_str_t){p, (size_t)(colon - p)};
            port = (wh_str_t){colon + 1, (size_t)(end - colon - 1)};
            has_port = true;
        }
        wh_ipaddr_t ip;
        if (wh_ipaddr_parse(name.ptr, name.len, &ip) != 0 || ip.family != 4) {
            /* "unknown" and "_hidden" are nodes, but not addresses */
            bool named = (name.len == 7 && strncasecmp(name.ptr, "unknown", 7) == 0) ||
                         obfuscated_name(name);
            bool numeric;
            return named && (!has_port || node_port_valid(port, &numeric));
        }
    }
    bool numeric = false;
    if (has_port && !node_port_valid(port, &numeric))
        return false;
    hop->addr = name;
    if (numeric)
        hop->port = port;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A forwarded-pair's value: token / quoted-string (RFC 7239 §4). Returns where it ends, or
 * NULL when malformed; *value is without the quotes, *escaped says it held a quoted-pair. */
static const char *pair_value(const char *p, const char *end, wh_str_t *value, bool *escaped)
{
    *escaped = false;
    if (p < end && *p == '"') {
        const char *start = ++p;
        while (p < end && *p != '"') {
            unsigned char c = (unsigned char)*p;
            if (c == '\\') {
                if (p + 1 == end)
                    return NULL;
                *escaped = true;
                p += 2;
                continue;
            }
            if (c != '\t' && (c < 0x20 || c == 0x7f))
                return NULL;
            p++;
        }
        if (p == end)
            return NULL;
        *value = (wh_str_t){start, (size_t)(p - start)};
        return p + 1;
    }
    const char *start = p;
    while (p < end && wh_is_tchar((unsigned char)*p))
        p++;
    if (p == start)
        return NULL;
    *value = (wh_str_t){start, (size_t)(p - start)};
    return p;
}

/* Parameters one element may carry; more than this and it is not taken as well-formed. */
enum { FORWARDED_PAIRS_MAX = 16 };

/* One forwarded-element: [ pair ] *( ";" [ pair ] ), pair = token "=" value, each parameter at
 * most once (names case-insensitive), no whitespace inside. Returns where it ends (at ',' or
 * OWS or the end), or NULL when it does not parse; *hop is its "for" node. */
static const char *forwarded_element(const char *p, const char *end, hop_t *hop)
{
    wh_str_t names[FORWARDED_PAIRS_MAX];
    size_t count = 0;
    *hop = (hop_t){{p, 0}, {p, 0}};
    while (p < end && *p != ',' && !is_ows(*p)) {
        if (*p == ';') {
            p++;
            continue;
        }
        const char *start = p;
        while (p < end && wh_is_tchar((unsigned char)*p))
            p++;
        wh_str_t name = {start, (size_t)(p - start)};
        if (name.len == 0 || p == end || *p != '=' || count == FORWARDED_PAIRS_MAX)
            return NULL;
        for (size_t i = 0; i < count; i++) {
            if (names[i].len == name.len && strncasecmp(names[i].ptr, name.ptr, name.len) == 0)
                return NULL; /* §4: each parameter MUST NOT occur more than once */
        }
        names[count++] = name;
        wh_str_t value;
        bool escaped;
        p = pair_value(p + 1, end, &value, &escaped);
        if (p == NULL || (p < end && *p != ';' && *p != ',' && !is_ows(*p)))
            return NULL;
        /* a node never needs a quoted-pair: one there is not an address we would read alike */
        if (wh_name_equals(name, "for") && (escaped || !forwarded_node(value, hop)))
            return NULL;
    }
    return p;
}

/* Forwarded = 1#forwarded-element (RFC 7239 §4), elements separated by OWS "," OWS; empty
 * elements are skipped (RFC 9110 §5.6.1.2). Each element adds one hop: its "for" node, or a
 * non-address hop when it has none, names no address, or does not parse (its parameters are
 * ignored, and the walk for the client stops there as at "unknown"). */
static void parse_forwarded(chain_t *c, wh_str_t v)
{
    if (v.ptr == NULL || v.len == 0)
        return;
    const char *p = v.ptr, *end = v.ptr + v.len;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        if (p == end)
            break;
        hop_t hop;
        const char *next = forwarded_element(p, end, &hop);
        if (next != NULL) {
            while (next < end && is_ows(*next))
                next++;
        }
        if (next == NULL || (next < end && *next != ',')) {
            hop = (hop_t){{p, 0}, {p, 0}};
            /* skip the rest of the element, quoted strings included */
            bool quoted = false;
            while (p < end && (quoted || *p != ',')) {
                if (quoted && *p == '\\' && p + 1 < end)
                    p++;
                else if (*p == '"')
                    quoted = !quoted;
                p++;
            }
            next = p;
        }
        chain_add(c, hop);
        p = next;
    }
}

bool wh_realip_find(const wh_request_t *req, wh_realip_header_t which,
                    const wh_cidr_list_t *trusted, wh_str_t *addr, wh_str_t *port)
{
    if (which == WH_REALIP_NONE)
        return false;
    const char *name = which == WH_REALIP_XFF ? "X-Forwarded-For" : "Forwarded";
    chain_t chain;
    chain.count = chain.dropped = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        const wh_header_t *h = &req->headers[i];
        if (!wh_name_equals(h->name, name))
            continue;
        if (which == WH_REALIP_XFF)
            parse_xff(&chain, h->value);
        else
            parse_forwarded(&chain, h->value);
    }
    const hop_t *found = NULL;
    for (size_t i = chain.count; i-- > 0;) {
        const hop_t *hop = &chain.hops[i];
        if (hop->addr.len == 0)
            break; /* not an address: stop at the last one walked over */
        found = hop;
        wh_ipaddr_t ip;
        if (wh_ipaddr_parse(hop->addr.ptr, hop->addr.len, &ip) != 0 ||
            !wh_cidr_list_match(trusted, &ip))
            break; /* the first untrusted hop: the client */
    }
    if (found == NULL)
        return false;
    *addr = found->addr;
    *port = found->port;
    return true;
}
