/* Is PostgreSQL up? libpq's PQping (a connection attempt that needs no credentials: the server
 * says whether it would accept connections). Blocking, bounded by a connect timeout: call it
 * from the master before serving, or from libuv's thread pool, never on a loop thread. */
#ifndef WSGIHOST_PGCHECK_H
#define WSGIHOST_PGCHECK_H

#include <stddef.h>

typedef enum {
    WH_PG_UP,          /* accepting connections */
    WH_PG_REJECTING,   /* answering, but not accepting (starting up, shutting down, full) */
    WH_PG_NO_RESPONSE, /* nothing answered (down, unreachable, wrong host or port) */
    WH_PG_BAD_CONFIG,  /* the connection string is invalid: retrying will not help */
} wh_pg_status_t;

/* libpq rounds connect_timeout below 2 s up to 2 s. */
enum { WH_PG_MIN_CONNECT_TIMEOUT = 2 };

/* Pings the server `conninfo` (a libpq key=value string or URI; "" for the PG* variables),
 * giving up on an attempt after connect_timeout_s seconds. Thread-safe. */
wh_pg_status_t wh_pg_ping(const char *conninfo, int connect_timeout_s);

/* A short phrase for a status ("no response"), for logs and probe bodies. */
const char *wh_pg_status_text(wh_pg_status_t status);

/* "host:port/dbname" for logs, never the password. */
void wh_pg_describe(const char *conninfo, char *out, size_t cap);

#endif
