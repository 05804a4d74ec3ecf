/* --queue-timeout: load shedding. A request that has waited longer than the timeout on the job
 * queue (server/http/jobq.h) for a Python thread is taken back by the loop and answered
 * "503 Service Unavailable" with Retry-After, instead of running so late that its client has
 * likely given up. A request a runner has popped always runs to the end. Once the oldest
 * queued request has waited 25 ms (half the timeout, if that is less), runners take the newest
 * first (jobq.h), so the requests served under overload are served fast and the shed ones are
 * the oldest.
 *
 * One timer per worker, armed for the oldest queued request's deadline while the queue holds
 * any: no work at all while requests are taken before they expire. Loop thread only. */
#ifndef WSGIHOST_SHED_H
#define WSGIHOST_SHED_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "server/http/jobq.h"

typedef struct {
    uv_timer_t timer;
    uint64_t timeout_ms; /* 0: off (the timer is not even initialised) */
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
