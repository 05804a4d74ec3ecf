/* --queue-timeout: load shedding. A request that has waited longer than the timeout on the job
 * queue (server/http/jobq.h) for a Python thread is taken back by the loop and answered
 * "503 Service Unavailable" with Retry-After, instead of running so late that its client has
 * likely given up. A request a runner has popped always runs to the end. Once the oldest
 * queued request has waited 25 ms (half the timeout, if that is less), runners take the newest
 * first (jobq.h), so the requests served under overload are served fast and the shed ones are
 * the oldest. Once the runners have not drained the queue for a whole timeout, the overload is
 * sustained, not a burst: from then on a request may wait only those 25 ms before it is shed,
 * and runners take the newest first at once (CoDel's rule, as in Facebook's "Fail at Scale":
 * a standing queue is kept short). Under newest first a longer wait no longer buys a request a
 * better chance to be served, only a later answer, and it is what made some served requests
 * late (a runner reaching back into the old ones). That lasts until a whole timeout passes
 * with nothing to shed.
 *
 * One timer per worker, armed for the oldest queued request's deadline while the queue holds
 * any: no work at all while requests are taken before they expire. Loop thread only. */
#ifndef WSGIHOST_SHED_H
#define WSGIHOST_SHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "server/http/jobq.h"

typedef struct {
    uv_timer_t timer;
    uint64_t timeout_ms;   /* 0: off (the timer is not even initialised) */
    uint64_t congested_ms; /* the wait that turns the queue to newest first (see above) */
    bool overloaded;       /* sustained overload: requests may wait only congested_ms */
    uint64_t last_shed_ms; /* when the loop last shed a request (wh_monotonic_ms) */
    unsigned retry_after_s;
    wh_jobq_t *jobq;
    _Atomic uint64_t *shed_count; /* the worker's metrics counter, or NULL */
} wh_shed_t;

/* Off when timeout_s is 0. 0, or -1 when the timer cannot be set up. */
int wh_shed_init(wh_shed_t *s, uv_loop_t *loop, double timeout_s, wh_jobq_t *jobq,
                 _Atomic uint64_t *shed_count);

/* A request was pushed on the job queue (its queued_ms set): make sure a deadline is armed. */
void wh_shed_watch(wh_shed_t *s);

/* Answers now every queued request past the timeout (what the timer does when it fires): with
 * --threads 0 the loop calls it before it takes each request to run, since no timer fires
 * while the app runs. Does nothing when shedding is off. */
void wh_shed_stale(wh_shed_t *s);

/* The worker stops: closes the timer (requests still queued are left to the runners). */
void wh_shed_close(wh_shed_t *s);

#endif
