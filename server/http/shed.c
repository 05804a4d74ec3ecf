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
/* How long the oldest queued request may wait before runners take the newest first, and how
 * long any request may wait once the queue has stood a whole timeout (or half the timeout, when
 * that is less): tens of milliseconds, well above a burst's normal wait. */
enum { QUEUE_CONGESTED_MS = 25 };

static const char SHED_BODY[] = "Service Unavailable: the server is overloaded; retry later\n";

int wh_shed_init(wh_shed_t *s, uv_loop_t *loop, double timeout_s, wh_jobq_t *jobq,
                 _Atomic uint64_t *shed_count)
{
    *s = (wh_shed_t){.jobq = jobq, .shed_count = shed_count};
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
    s->congested_ms = s->timeout_ms / 2;
    if (s->congested_ms > QUEUE_CONGESTED_MS)
        s->congested_ms = QUEUE_CONGESTED_MS;
    if (s->congested_ms == 0)
        s->congested_ms = 1;
    wh_jobq_set_lifo_after(jobq, s->congested_ms);
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

/* The first millisecond at which something that began at `since_ms` has lasted longer than
 * `limit_ms`. The millisecond clock truncates: on since + limit it may have lasted a little
 * less, so every wait here counts from the one after (timeouts are bounded: no overflow). */
static uint64_t past(uint64_t since_ms, uint64_t limit_ms)
{
    return since_ms + limit_ms + 1;
}

/* Sustained overload (shed.h): entered once the runners have not drained the queue for a whole
 * timeout, left once a whole timeout passes with nothing to shed. Draining the queue does not
 * end it: the loop reads requests in turns, and between two turns the runners drain a queue
 * kept short even when twice as many requests arrive as they can serve. */
static void update_overload(wh_shed_t *s, uint64_t now)
{
    bool was = s->overloaded;
    if (was) {
        s->overloaded = now < s->last_shed_ms + s->timeout_ms;
    } else {
        uint64_t standing_ms = wh_jobq_standing_since(s->jobq);
        s->overloaded = standing_ms != 0 && now >= past(standing_ms, s->timeout_ms);
        if (s->overloaded)
            s->last_shed_ms = now;
    }
    /* Overloaded, no queued request is more than congested_ms old: newest first at once. */
    if (s->overloaded != was)
        wh_jobq_set_lifo_after(s->jobq, s->overloaded ? 1 : s->congested_ms);
}

/* Arms the timer for just after the oldest waiting request (queued at `oldest_ms`) has waited
 * longer than it may, or for when the queue will have stood a whole timeout. */
static void arm(wh_shed_t *s, uint64_t oldest_ms, uint64_t now)
{
    if (uv_is_closing((uv_handle_t *)&s->timer))
        return;
    uint64_t due = past(oldest_ms, s->overloaded ? s->congested_ms : s->timeout_ms);
    uint64_t standing_ms = s->overloaded ? 0 : wh_jobq_standing_since(s->jobq);
    if (standing_ms != 0 && past(standing_ms, s->timeout_ms) < due)
        due = past(standing_ms, s->timeout_ms);
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
    update_overload(s, now);
    uint64_t wait_ms = s->overloaded ? s->congested_ms : s->timeout_ms;
    if (now <= wait_ms) { /* nothing can have waited that long yet */
        arm(s, now, now);
        return;
    }
    uint64_t oldest_left;
    /* Those queued at or before the cutoff are past their wait: past(queued, wait) <= now. */
    wh_exchange_t *ex = wh_jobq_take_stale(s->jobq, now - wait_ms - 1, &oldest_left);
    uint64_t shed = 0;
    while (ex) {
        wh_exchange_t *next = ex->next_job;
        answer_503(s, ex);
        shed++;
        ex = next;
    }
    if (shed) {
        s->last_shed_ms = now;
        if (s->shed_count)
            wh_stat_add(s->shed_count, shed);
    }
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
