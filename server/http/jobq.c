/* The job queue (see server/http/jobq.h): a mutex-protected doubly-linked list of exchanges,
 * oldest at the head (wh_jobq_take_stale takes a prefix, a congested pop the tail). Runners pop
 * with wh_jobq_try_pop first, so a busy runner takes queued work without sleeping; the condition
 * variable is only signalled when some runner is waiting, and only by wh_jobq_wake, once per
 * loop turn: a runner woken at each push would, on one core, preempt the loop once a request. */
#include "server/http/jobq.h"

#include <pthread.h>
#include <stdlib.h>

#include "server/core/util.h"
#include "server/http/exchange_loop.h"

struct wh_jobq {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    wh_exchange_t *head;
    wh_exchange_t *tail;
    size_t depth;
    uint64_t standing_since_ms; /* see wh_jobq_standing_since */
    uint64_t lifo_after_ms;     /* 0: always FIFO */
    int waiting;
    bool shutdown;
};

wh_jobq_t *wh_jobq_new(void)
{
    wh_jobq_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->nonempty, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    return q;
}

void wh_jobq_free(wh_jobq_t *q)
{
    if (q == NULL)
        return;
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void wh_jobq_set_lifo_after(wh_jobq_t *q, uint64_t ms)
{
    pthread_mutex_lock(&q->mu);
    q->lifo_after_ms = ms;
    pthread_mutex_unlock(&q->mu);
}

void wh_jobq_push(wh_jobq_t *q, wh_exchange_t *ex)
{
    atomic_fetch_add(&ex->refs, 1); /* the runner's reference */
    atomic_fetch_add(&ex->notifier->outstanding, 1);
    ex->next_job = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->standing_since_ms == 0)
        q->standing_since_ms = ex->queued_ms;
    ex->prev_job = q->tail;
    if (q->tail)
        q->tail->next_job = ex;
    else
        q->head = ex;
    q->tail = ex;
    q->depth++;
    pthread_mutex_unlock(&q->mu);
}

void wh_jobq_wake(wh_jobq_t *q)
{
    pthread_mutex_lock(&q->mu);
    size_t wake = q->depth < (size_t)q->waiting ? q->depth : (size_t)q->waiting;
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < wake; i++)
        pthread_cond_signal(&q->nonempty);
}

static wh_exchange_t *take_oldest_locked(wh_jobq_t *q)
{
    wh_exchange_t *ex = q->head;
    if (ex) {
        q->head = ex->next_job;
        if (q->head)
            q->head->prev_job = NULL;
        else
            q->tail = NULL;
        q->depth--;
    }
    return ex;
}

/* What a runner takes: the oldest, or the newest while the oldest has waited lifo_after_ms.
 * A runner that takes the last request (or finds none) has drained the queue. */
static wh_exchange_t *take_locked(wh_jobq_t *q)
{
    if (q->depth <= 1)
        q->standing_since_ms = 0;
    wh_exchange_t *oldest = q->head, *newest = q->tail;
    /* With one queued, newest has no predecessor: that is the oldest. */
    if (q->lifo_after_ms == 0 || oldest == NULL || newest == NULL || newest->prev_job == NULL ||
        wh_monotonic_ms() - oldest->queued_ms < q->lifo_after_ms)
        return take_oldest_locked(q);
    q->tail = newest->prev_job;
    q->tail->next_job = NULL;
    newest->prev_job = NULL;
    q->depth--;
    return newest;
}

wh_exchange_t *wh_jobq_try_pop(wh_jobq_t *q)
{
    wh_notifier_pay(true); /* between two requests: pay a wake-up held too long */
    pthread_mutex_lock(&q->mu);
    wh_exchange_t *ex = take_locked(q);
    pthread_mutex_unlock(&q->mu);
    return ex;
}

wh_exchange_t *wh_jobq_pop(wh_jobq_t *q)
{
    wh_notifier_pay(false); /* about to sleep: the loop writes what this runner produced */
    pthread_mutex_lock(&q->mu);
    while (q->head == NULL && !q->shutdown) {
        q->waiting++;
        pthread_cond_wait(&q->nonempty, &q->mu);
        q->waiting--;
    }
    wh_exchange_t *ex = take_locked(q);
    pthread_mutex_unlock(&q->mu);
    return ex;
}

wh_exchange_t *wh_jobq_take_stale(wh_jobq_t *q, uint64_t cutoff_ms, uint64_t *oldest_left_ms)
{
    wh_exchange_t *stale = NULL, **tail = &stale;
    pthread_mutex_lock(&q->mu);
    /* The list is in push order, so the stale ones are a prefix. */
    while (q->head && q->head->queued_ms <= cutoff_ms) {
        wh_exchange_t *ex = take_oldest_locked(q);
        ex->next_job = NULL;
        *tail = ex;
        tail = &ex->next_job;
    }
    *oldest_left_ms = q->head ? q->head->queued_ms : 0;
    pthread_mutex_unlock(&q->mu);
    return stale;
}

uint64_t wh_jobq_standing_since(wh_jobq_t *q)
{
    pthread_mutex_lock(&q->mu);
    uint64_t since = q->standing_since_ms;
    pthread_mutex_unlock(&q->mu);
    return since;
}

void wh_jobq_shutdown(wh_jobq_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutdown = true;
    pthread_mutex_unlock(&q->mu);
    pthread_cond_broadcast(&q->nonempty);
}

size_t wh_jobq_depth(wh_jobq_t *q)
{
    pthread_mutex_lock(&q->mu);
    size_t depth = q->depth;
    pthread_mutex_unlock(&q->mu);
    return depth;
}
