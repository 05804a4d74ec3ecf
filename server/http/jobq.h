/* The job queue between a worker's loop thread and its runner threads: a queue of exchanges
 * (server/http/exchange.h). The loop pushes each complete request that no local handler took;
 * runners pop them, oldest first, or newest first while the queue is congested (see
 * wh_jobq_set_lifo_after). Thread-safe; the blocking pop must be called with the GIL released. */
#ifndef WSGIHOST_JOBQ_H
#define WSGIHOST_JOBQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct wh_jobq wh_jobq_t;
typedef struct wh_exchange wh_exchange_t;

wh_jobq_t *wh_jobq_new(void);
/* Wakes every waiting runner; pop returns NULL once the queue is empty. */
void wh_jobq_shutdown(wh_jobq_t *q);
void wh_jobq_free(wh_jobq_t *q);

/* Under overload (--queue-timeout) runners take the newest request first once the oldest has
 * waited `ms` (0: never, the default): a queue that stands that long is not draining, and
 * serving in arrival order would make every answer late, while newest first keeps the served
 * ones fast and leaves the oldest to be shed (adaptive LIFO). */
void wh_jobq_set_lifo_after(wh_jobq_t *q, uint64_t ms);

/* Loop: hands the exchange to the runners (takes a reference for them). Nobody is woken:
 * call wh_jobq_wake before the loop sleeps. */
void wh_jobq_push(wh_jobq_t *q, wh_exchange_t *ex);
/* Loop: wakes as many waiting runners as there are queued exchanges. */
void wh_jobq_wake(wh_jobq_t *q);

/* Runner: takes the next exchange, blocking while the queue is empty (after paying the loop
 * the wake-up this thread owes it, see exchange_loop.h). Returns NULL once the queue is shut
 * down and drained: the runner thread should then exit. */
wh_exchange_t *wh_jobq_pop(wh_jobq_t *q);
/* Runner: takes the next exchange without blocking; NULL when none is waiting. Pays an owed
 * wake-up once it is WH_WAKE_HOLD_MS old. */
wh_exchange_t *wh_jobq_try_pop(wh_jobq_t *q);

/* Loop (--queue-timeout): takes back every exchange pushed at or before `cutoff_ms` (its
 * queued_ms, wh_monotonic_ms's clock) that no runner has popped, oldest first, linked through
 * next_job. The loop then holds the runner's reference and plays the runner's part for them
 * (exchange.h), answering them itself. *oldest_left_ms is the queued_ms of the oldest exchange
 * still waiting, 0 when none is. */
wh_exchange_t *wh_jobq_take_stale(wh_jobq_t *q, uint64_t cutoff_ms, uint64_t *oldest_left_ms);

/* Since when runners have not drained the queue: the queued_ms of the request that found it
 * drained, 0 once a runner takes the last request or finds none. Requests taken back by
 * wh_jobq_take_stale do not drain it: a queue emptied only by shedding is still one the runners
 * cannot keep up with (--queue-timeout's sustained-overload rule, shed.h). */
uint64_t wh_jobq_standing_since(wh_jobq_t *q);

/* Exchanges waiting for a runner (for metrics and health). */
size_t wh_jobq_depth(wh_jobq_t *q);

#endif
