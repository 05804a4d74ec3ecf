/* Request IDs (--request-id): an X-Request-ID from a trusted proxy is kept when it is sane,
 * else one is made: 16 hex digits (64 bits) from a per-worker random seed and a counter put
 * through the splitmix64 mixer, so IDs are unique within a worker and collide across workers
 * or restarts only by chance (one in 2^64). No system call per request. Loop thread only. */
#ifndef WSGIHOST_REQUESTID_H
#define WSGIHOST_REQUESTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http/request.h"

/* Room for an ID: an accepted incoming one is at most this long. */
enum { WH_REQUEST_ID_MAX = 128, WH_REQUEST_ID_GENERATED = 16 };

typedef struct {
    uint64_t seed;
    uint64_t counter;
} wh_request_id_gen_t;

/* Seeds from getrandom(2) (falling back to the time and pid). Call in each worker after fork. */
void wh_request_id_init(wh_request_id_gen_t *g);

/* Writes a new ID (WH_REQUEST_ID_GENERATED hex digits and a NUL) into out. */
void wh_request_id_next(wh_request_id_gen_t *g, char out[WH_REQUEST_ID_GENERATED + 1]);

/* An incoming ID worth keeping: 1 to WH_REQUEST_ID_MAX bytes of visible ASCII other than
 * '"' and '\\' (so it is safe in headers, logs and JSON as it is). */
bool wh_request_id_valid(wh_str_t id);

#endif
