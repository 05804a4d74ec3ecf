/* The PROXY protocol (HAProxy's, versions 1 and 2): the header a layer-4 load balancer sends
 * first on each connection, naming the client it accepted. With --proxy-protocol every
 * connection must start with one; it is parsed by the loop before any HTTP, and anything else
 * closes the connection. Pure function over bytes; safe from any thread. */
#ifndef WSGIHOST_PROXYPROTO_H
#define WSGIHOST_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

/* Longest header accepted: v1's own limit is 107 bytes; v2 may carry TLVs (AWS, Azure and GCP
 * add a few dozen bytes), so allow a reasonable amount of them. */
enum { WH_PROXY_V1_MAX = 107, WH_PROXY_V2_MAX = 16 + 2048 };

typedef enum {
    WH_PROXY_MORE = 0,   /* not enough bytes yet */
    WH_PROXY_DONE = 1,   /* a whole header: see the result */
    WH_PROXY_ERROR = -1, /* not a valid PROXY header: close the connection */
} wh_proxy_status_t;

typedef struct {
    size_t consumed; /* header bytes to drop before HTTP starts */
    int version;     /* 1 or 2 */
    /* 0: keep the connection's own addresses (v1 "UNKNOWN", v2 LOCAL, or an address family
     * other than TCP over IPv4/IPv6, e.g. a health check from the balancer itself); else
     * AF_INET or AF_INET6 with the source (client) address and port. */
    int family;
    uint8_t src_addr[16];
    uint16_t src_port;
    uint8_t dst_addr[16];
    uint16_t dst_port;
} wh_proxy_result_t;

/* Looks at the first `len` bytes received on a connection. */
wh_proxy_status_t wh_proxy_parse(const char *data, size_t len, wh_proxy_result_t *out);

#endif
