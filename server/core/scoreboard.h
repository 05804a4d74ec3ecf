/* The scoreboard: one slot per worker in memory shared between the master and its workers
 * (mmap'ed before the first fork). A worker's loop thread writes its own slot once a second;
 * the master only reads. The master uses it for readiness (after HUP), for the heartbeat
 * timeout and to name the request a stuck worker was running.
 *
 * Fields are written with relaxed atomics or as plain text guarded by a sequence number; a
 * torn read of the text only garbles a log line, never a decision. */
#ifndef WSGIHOST_SCOREBOARD_H
#define WSGIHOST_SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

enum { WH_SCOREBOARD_SLOTS = 256, WH_SCOREBOARD_REQUEST_TEXT = 160 };

/* Request statistics for --metrics-bind (server/ops/metrics.h). Each slot's are written by its
 * worker's loop thread only (single writer: relaxed loads and stores, no locks, no atomic
 * read-modify-write); the master reads them and, when a worker exits, adds them to the
 * scoreboard's `retired` totals so counters never go backwards. */
enum {
    WH_STAT_HANDLERS = 4, /* app, static (loop-served files), probe, error (the server's own) */
    WH_STAT_METHODS = 8,  /* GET HEAD POST PUT DELETE PATCH OPTIONS other */
    WH_STAT_CLASSES = 5,  /* 1xx .. 5xx */
    WH_STAT_BUCKETS = 15, /* request duration histogram, the last one +Inf */
};

typedef struct {
    _Atomic uint64_t requests[WH_STAT_HANDLERS][WH_STAT_METHODS][WH_STAT_CLASSES];
    _Atomic uint64_t duration_buckets[WH_STAT_HANDLERS][WH_STAT_BUCKETS]; /* not cumulative */
    _Atomic uint64_t duration_us_sum[WH_STAT_HANDLERS];
    _Atomic uint64_t bytes_sent[WH_STAT_HANDLERS];
    _Atomic uint64_t connections_total;
    _Atomic uint64_t queue_timeouts; /* requests answered 503 by --queue-timeout */
    _Atomic uint32_t in_flight;      /* requests received and not yet answered */
    _Atomic uint32_t queue_depth;    /* requests waiting for a Python thread (each heartbeat) */
} wh_slot_stats_t;

/* Adds to a counter that only this thread writes (no locked instruction needed). */
static inline void wh_stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void wh_stat_set32(_Atomic uint32_t *c, uint32_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

typedef enum { WH_SLOT_FREE, WH_SLOT_BOOTING, WH_SLOT_READY, WH_SLOT_STOPPING } wh_slot_state_t;

typedef struct {
    _Atomic int state;
    _Atomic pid_t pid;
    _Atomic uint64_t heartbeat_ms;  /* the loop ran at this monotonic time */
    _Atomic uint64_t busy_since_ms; /* oldest request still in the app (0: none) */
    _Atomic uint64_t requests;
    _Atomic uint32_t conns; /* open connections, for spreading new ones evenly */
    _Atomic int accepting;  /* polling the listeners now */
    _Atomic int stuck;      /* set by the master when it retires the worker for a timeout:
                               its Python cannot serve, so it must not take queued
                               connections on its way out */
    char busy_request[WH_SCOREBOARD_REQUEST_TEXT]; /* "GET /path" of that request */
    wh_slot_stats_t stats;
} wh_slot_t;

typedef struct {
    wh_slot_t slots[WH_SCOREBOARD_SLOTS];
    /* Written by the master only. */
    wh_slot_stats_t retired;          /* counters of workers that have exited */
    _Atomic uint64_t worker_restarts; /* workers replaced after dying unexpectedly */
    _Atomic uint64_t worker_timeouts; /* workers retired for --timeout */
    _Atomic uint64_t worker_recycles; /* workers recycled after --max-requests */
    /* --reload: set by the worker that saw a change when it asks the master for a HUP; the
     * master clears it once the new workers are ready, so one change makes one reload. */
    _Atomic int reload_requested;
    /* The whole server is stopping (not a reload): the listeners' last close is coming. */
    _Atomic int server_stopping;
    pid_t master_pid; /* the process that made it: workers stop once it is not their parent */
} wh_scoreboard_t;

/* Maps a zeroed scoreboard shared with future children (the caller is their master). NULL on
 * failure. */
wh_scoreboard_t *wh_scoreboard_new(void);
void wh_scoreboard_free(wh_scoreboard_t *sb);

#endif
