/* Trusting proxies: address lists (--forwarded-allow-ips, --real-ip-from, --proxy-allow-from),
 * the scheme headers gunicorn trusts from them (secure_scheme_headers), and the client address
 * a chain of proxies reports in X-Forwarded-For or RFC 7239 Forwarded.
 *
 * Pure functions over bytes, no allocation after parsing a list; safe from any thread. */
#ifndef WSGIHOST_FORWARDED_H
#define WSGIHOST_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/http/request.h"

/* An IP address in binary: family 4 (first 4 bytes used) or 6; 0 means "not an IP peer"
 * (a Unix socket). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack listener
 * reports for IPv4 clients) are stored as IPv4, so "127.0.0.1" matches them. */
typedef struct {
    uint8_t family;
    uint8_t bytes[16];
} wh_ipaddr_t;

/* Parses a numeric IPv4 or IPv6 address (no brackets, no port). 0, or -1 when invalid. */
int wh_ipaddr_parse(const char *text, size_t len, wh_ipaddr_t *out);
/* From a socket address (AF_INET, AF_INET6; anything else gives family 0). */
void wh_ipaddr_from_sockaddr(const struct sockaddr *sa, wh_ipaddr_t *out);

typedef struct {
    wh_ipaddr_t net;
    uint8_t prefix; /* bits */
} wh_cidr_t;

enum { WH_CIDR_MAX = 64 };

/* A list of networks: "*" (everything), addresses and CIDRs ("10.0.0.0/8", "fd00::/8"),
 * separated by commas and/or blanks. An empty list trusts no IP peer. Unix-socket peers are
 * always trusted (gunicorn's rule: only a local process can connect there). */
typedef struct {
    bool any;
    size_t count;
    wh_cidr_t nets[WH_CIDR_MAX];
} wh_cidr_list_t;

/* Parses `text`. 0, or -1 with a one-line reason in err. */
int wh_cidr_list_parse(wh_cidr_list_t *list, const char *text, char *err, size_t err_size);
bool wh_cidr_list_match(const wh_cidr_list_t *list, const wh_ipaddr_t *addr);

/* gunicorn's secure_scheme_headers: header names and the value that means https (compared
 * case-insensitively), e.g. "X-Forwarded-Proto=https,X-Forwarded-Ssl=on". */
enum { WH_SCHEME_HEADERS_MAX = 8, WH_SCHEME_HEADER_TEXT_MAX = 64 };
typedef struct {
    size_t count;
    struct {
        char name[WH_SCHEME_HEADER_TEXT_MAX];
        char value[WH_SCHEME_HEADER_TEXT_MAX];
    } items[WH_SCHEME_HEADERS_MAX];
} wh_scheme_headers_t;

/* Parses "NAME=VALUE[,NAME=VALUE...]" (blanks around items ignored; "" is no header). 0, or -1
 * with a one-line reason in err. */
int wh_scheme_headers_parse(wh_scheme_headers_t *out, const char *text, char *err, size_t err_size);

/* Looks at the request's headers named in `headers`: 1 when one says https, 0 when they say
 * something else or none is present, -1 when they contradict each other (gunicorn answers 400
 * "Contradictory scheme headers"). Only call it for a trusted peer. */
int wh_forwarded_scheme(const wh_request_t *req, const wh_scheme_headers_t *headers, bool *present);

/* Which header carries the chain of client addresses for --real-ip-header. */
typedef enum { WH_REALIP_NONE, WH_REALIP_XFF, WH_REALIP_FORWARDED } wh_realip_header_t;

/* Parses the --real-ip-header value ("X-Forwarded-For" or "Forwarded", any case). -1 if
 * neither. */
int wh_realip_header_parse(const char *name, wh_realip_header_t *out);

/* The client's address by nginx's realip rule (recursive): walking the chain from the right
 * (the hop nearest to us), addresses in `trusted` are proxies and are skipped; the first one
 * that is not is the client. If every hop is trusted the left-most is taken. A hop that is
 * not an IP address ("unknown", an obfuscated Forwarded node, garbage) ends the walk: the
 * address walked over last is used, or nothing when there was none. Every instance of the
 * header counts, in order. Returns true and sets *addr (a slice of a header value, without
 * brackets or port) and *port (the Forwarded node's port, or empty) when an address was
 * found. The caller checks first that the connection's peer itself is trusted. */
bool wh_realip_find(const wh_request_t *req, wh_realip_header_t which,
                    const wh_cidr_list_t *trusted, wh_str_t *addr, wh_str_t *port);

#endif
