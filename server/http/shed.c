/* Load shedding for --queue-timeout (see server/http/shed.h). */
#include "server/http/shed.h"

#include <math.h>
#include <stdio.h>

#include "server/core/scoreboard.h"
#include "server/core/util.h"
#include "server/http/exchange_loop.h"
#include "server/http/response.h"

enum { MS_PER_SECOND = 1000 };
/* Retry-After is whole seconds (RFC 9110 §10.2.3); never tell a client to retry at once. */
enum { RETRY_AFTER_MIN_S = 1 };
/* A longer timeout is as good as none; capped so deadlines cannot overflow. */
enum { QUEUE_TIMEOUT_MAX_S = 24 * 60 * 60 };
/* How long the oldest queued request may wait before runners take the newest first (or half
 * the timeout, when that is less): tens of milliseconds, well above a burst's normal wait. */
enum { QUEUE_CONGESTED_MS = 25 };

static const char SHED_BODY[] = "Service Unavailable: the server is overloaded; retry later\n";

int wh_shed_init(wh_shed_t *s, uv_loop_t *loop, double timeout_s, wh_jobq_t *jobq,
                 _Atomic uint64_t *shed_count)
{
    s->jobq = jobq;
    s->shed_count = shed_count;
    /* A timeout under a millisecond still sheds (the timer's resolution): never 0, which is off. */
    if (timeout_s > QUEUE_TIMEOUT_MAX_S)
        timeout_s = QUEUE_TIMEOUT_MAX_S;
    s->timeout_ms = timeout_s > 0 ? (uint64_t)ceil(timeout_s * MS_PER_SECOND) : 0;
    /* A client told to come back once a full queue has drained. */
    double retry = ceil(timeout_s);
    s->retry_after_s = retry > RETRY_AFTER_MIN_S ? (unsigned)retry : RETRY_AFTER_MIN_S;
    if (s->timeout_ms == 0)
        return 0;
    /* A queue that stands this long is congested: serving the newest first from then on keeps
     * the served requests' latency near the service time, not near the timeout (jobq.h). */
    uint64_t congested_ms = s->timeout_ms / 2;
    if (congested_ms > QUEUE_CONGESTED_MS)
        congested_ms = QUEUE_CONGESTED_MS;
    wh_jobq_set_lifo_after(jobq, congested_ms > 0 ? congested_ms : 1);
    if (uv_timer_init(loop, &s->timer) != 0)
        return -1;
    s->timer.data = s;
    return 0;
}

/* Answers one request the loop took back from the queue, as its runner would have. */
static void answer_503(const wh_shed_t *s, wh_exchange_t *ex)
{
    char retry[16];
    int n = snprintf(retry, sizeof(retry), "%u", s->retry_after_s);
    const wh_header_t headers[] = {
        {{"Content-Type", 12}, {WH_SIMPLE_CONTENT_TYPE, sizeof(WH_SIMPLE_CONTENT_TYPE) - 1}},
        {{"Retry-After", 11}, {retry, (size_t)n}},
    };
    static const char status[] = "503 Service Unavailable";
    int rc = wh_exchange_start(ex, status, sizeof(status) - 1, headers,
                               sizeof(headers) / sizeof(headers[0]), sizeof(SHED_BODY) - 1);
    if (rc == WH_OK)
        rc = wh_exchange_write(ex, SHED_BODY, sizeof(SHED_BODY) - 1);
    /* A client already gone needs no answer; the exchange ends either way. */
    wh_exchange_finish(ex, rc == WH_OK || rc == WH_FULL || rc == WH_ECLIENT ? WH_FINISH_OK
                                                                            : WH_FINISH_ERROR);
}

static void on_deadline(uv_timer_t *timer);

/* Arms the timer for just after the oldest waiting request's deadline ("waited longer than"). */
static void arm(wh_shed_t *s, uint64_t oldest_ms, uint64_t now)
{
    if (uv_is_closing((uv_handle_t *)&s->timer))
        return;
    uint64_t due = oldest_ms + s->timeout_ms + 1; /* timeout_ms is bounded: no overflow */
    /* libuv's clock may run a little behind ours: never a 0 ms timer that finds nothing. */
    uint64_t delay = due > now ? due - now : 1;
    if (uv_timer_start(&s->timer, on_deadline, delay, 0) != 0)
        return; /* only on a closing handle: the worker is gone */
}

static void on_deadline(uv_timer_t *timer)
{
    wh_shed_stale(timer->data);
}

void wh_shed_stale(wh_shed_t *s)
{
    if (s->timeout_ms == 0)
        return;
    uint64_t now = wh_monotonic_ms();
    if (now <= s->timeout_ms) { /* nothing can have waited that long yet */
        arm(s, now, now);
        return;
    }
    uint64_t oldest_left;
    wh_exchange_t *ex = wh_jobq_take_stale(s->jobq, now - s->timeout_ms - 1, &oldest_left);
    uint64_t shed = 0;
    while (ex) {
        wh_exchange_t *next = ex->next_job;
        answer_503(s, ex);
        shed++;
        ex = next;
    }
    if (shed && s->shed_count)
        wh_stat_add(s->shed_count, shed);
    if (oldest_left)
        arm(s, oldest_left, now);
}

void wh_shed_watch(wh_shed_t *s)
{
    if (s->timeout_ms == 0 || uv_is_active((uv_handle_t *)&s->timer))
        return;
    /* Idle timer, so everything queued before this push was taken by a runner or shed: the
     * request just pushed is the oldest. */
    uint64_t now = wh_monotonic_ms();
    arm(s, now, now);
}

void wh_shed_close(wh_shed_t *s)
{
    if (s->timeout_ms && !uv_is_closing((uv_handle_t *)&s->timer))
        uv_close((uv_handle_t *)&s->timer, NULL);
}
