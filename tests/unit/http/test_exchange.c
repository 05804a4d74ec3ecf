/* server/http/exchange + observer.h: what an observer is told from the response side, the room
 * an exchange keeps for its strings, and who frees the observer's data; the batched hand-off
 * between a runner and the loop (wh_notifier_t); the job queue and --queue-timeout's shedding
 * (jobq.h, shed.h). Linked with the HTTP core alone (no ops). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "server/http/exchange_loop.h"
#include "server/core/util.h"
#include "server/http/jobq.h"
#include "server/http/shed.h"

typedef struct {
    int heads;
    int status;
    size_t header_count;
    char first_name[32];
    int freed;
    void *freed_data;
} seen_t;

static void on_head(void *self, wh_exchange_t *ex, int status, const wh_header_t *headers,
                    size_t count)
{
    seen_t *seen = self;
    seen->heads++;
    seen->status = status;
    seen->header_count = count;
    if (count > 0)
        snprintf(seen->first_name, sizeof(seen->first_name), "%.*s", (int)headers[0].name.len,
                 headers[0].name.ptr);
    ex->observer_data = malloc(16); /* freed through exchange_free */
}

static void on_free(void *self, void *data)
{
    seen_t *seen = self;
    seen->freed++;
    seen->freed_data = data;
    free(data);
}

static wh_observer_t observer_for(seen_t *seen)
{
    return (wh_observer_t){.self = seen, .response_head = on_head, .exchange_free = on_free};
}

/* A loop-answered exchange (no runner, no notifier needed). */
static wh_exchange_t *local_exchange(const wh_observer_t *obs)
{
    wh_exchange_t *ex = wh_exchange_new(NULL);
    assert_non_null(ex);
    ex->local = true;
    ex->req.method = (wh_str_t){"GET", 3};
    ex->req.version = (wh_str_t){"HTTP/1.1", 8};
    ex->observer = obs;
    return ex;
}

static void test_response_head_is_observed(void **state)
{
    (void)state;
    seen_t seen = {0};
    wh_observer_t obs = observer_for(&seen);
    wh_exchange_t *ex = local_exchange(&obs);
    wh_header_t h[] = {{{"Content-Type", 12}, {"text/plain", 10}}};
    assert_int_equal(wh_exchange_start(ex, "201 Created", 11, h, 1, 0), WH_OK);
    assert_int_equal(seen.heads, 1);
    assert_int_equal(seen.status, 201);
    assert_int_equal(seen.header_count, 1);
    assert_string_equal(seen.first_name, "Content-Type");
    wh_exchange_finish_local(ex, WH_FINISH_OK);
    void *data = ex->observer_data;
    assert_non_null(data);
    wh_exchange_unref(ex);
    assert_int_equal(seen.freed, 1);
    assert_ptr_equal(seen.freed_data, data);
}

static void test_refused_head_is_not_observed(void **state)
{
    (void)state;
    seen_t seen = {0};
    wh_observer_t obs = observer_for(&seen);
    wh_exchange_t *ex = local_exchange(&obs);
    wh_header_t bad[] = {{{"X-Bad", 5}, {"a\r\nX-Injected: 1", 17}}};
    assert_int_equal(wh_exchange_start(ex, "200 OK", 6, bad, 1, -1), WH_EINVAL);
    assert_int_equal(wh_exchange_start(ex, "103 Early", 9, NULL, 0, -1), WH_EINVAL);
    assert_int_equal(seen.heads, 0);
    /* The app failed before any head: the server's 500 is what the observer sees. */
    wh_exchange_finish_local(ex, WH_FINISH_ERROR);
    assert_int_equal(seen.heads, 1);
    assert_int_equal(seen.status, 500);
    wh_exchange_unref(ex);
    assert_int_equal(seen.freed, 1);
}

static void test_no_observer(void **state)
{
    (void)state;
    wh_exchange_t *ex = local_exchange(NULL);
    assert_int_equal(wh_exchange_start(ex, "200 OK", 6, NULL, 0, 0), WH_OK);
    wh_exchange_finish_local(ex, WH_FINISH_OK);
    assert_null(ex->observer_data);
    wh_exchange_unref(ex);
}

static void test_keep_text_is_bounded(void **state)
{
    (void)state;
    wh_exchange_t *ex = local_exchange(NULL);
    const char *a = wh_exchange_keep_text(ex, "abc", 3);
    assert_non_null(a);
    assert_memory_equal(a, "abc", 3);
    char big[WH_EXCHANGE_TEXT_MAX];
    memset(big, 'x', sizeof(big));
    assert_null(wh_exchange_keep_text(ex, big, sizeof(big) - 2)); /* 3 + 158 > the room */
    const char *b = wh_exchange_keep_text(ex, big, sizeof(big) - 3);
    assert_non_null(b);
    assert_memory_equal(a, "abc", 3); /* earlier strings stay put */
    assert_null(wh_exchange_keep_text(ex, "y", 1));
    wh_exchange_unref(ex);
}

static int wakeups;

static void on_wakeup(uv_async_t *async)
{
    (void)async;
    wakeups++;
}

/* A loop with a notifier on it, and its end once the test is done with both. */
static void notifier_up(uv_loop_t *loop, wh_notifier_t *n)
{
    assert_int_equal(uv_loop_init(loop), 0);
    assert_int_equal(wh_notifier_init(n, loop, on_wakeup), 0);
}

static void notifier_down(uv_loop_t *loop, wh_notifier_t *n)
{
    wh_notifier_close(n);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* A runner's finished response goes on the ready list at once but does not wake the loop while
 * the runner may take more work; the wake-up is paid when the runner would block. */
static void test_wakeup_is_paid_when_the_runner_blocks(void **state)
{
    (void)state;
    uv_loop_t loop;
    wh_notifier_t n;
    notifier_up(&loop, &n);
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    wh_exchange_t *ex = wh_exchange_new(&n);
    assert_non_null(ex);
    ex->req.method = (wh_str_t){"GET", 3};
    ex->keep_alive_wanted = true;
    wh_jobq_push(q, ex);
    wh_jobq_wake(q); /* nobody waits: nothing to do */

    /* The runner's side, on this thread. */
    assert_ptr_equal(wh_jobq_try_pop(q), ex);
    static const wh_header_t headers[] = {{{"Content-Length", 14}, {"2", 1}}};
    assert_int_equal(wh_exchange_start(ex, "200 OK", 6, headers, 1, -1), WH_OK);
    assert_int_equal(wh_exchange_write(ex, "ok", 2), WH_OK);
    wh_exchange_finish(ex, WH_FINISH_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
    assert_int_equal(wakeups, 0); /* held: the runner may have more work */

    wh_jobq_shutdown(q);
    assert_null(wh_jobq_pop(q)); /* would block: pays the wake-up first */
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(wakeups, 1);

    /* The loop takes the response: head and body, finished. */
    wh_exchange_t *ready = wh_notifier_take(&n);
    assert_ptr_equal(ready, ex);
    assert_null(ready->next_ready);
    unsigned st = 0;
    wh_outseg_t *out = wh_exchange_take_output(ex, &st);
    assert_non_null(out);
    assert_true(st & WH_EX_FINISHED);
    wh_outseg_free_list(out);
    wh_exchange_unref(ready); /* the ready list's reference */
    wh_exchange_unref(ex);    /* the loop's */
    wh_jobq_free(q);
    notifier_down(&loop, &n);
}

/* --threads 0's stand-in for the connection (wh_notifier_t.write_now): the owner is the
 * exchange itself; the "socket" takes everything queued, or the client is gone. */
static int loop_writes;
static bool client_leaves;

static int write_all_now(void *owner)
{
    wh_exchange_t *ex = owner;
    loop_writes++;
    for (wh_exchange_t *r = wh_notifier_take(ex->notifier); r;) {
        wh_exchange_t *next = r->next_ready;
        wh_exchange_unref(r); /* the ready list's reference */
        r = next;
    }
    unsigned st = 0;
    uint64_t bytes = 0;
    wh_outseg_t *out = wh_exchange_take_output(ex, &st);
    for (wh_outseg_t *s = out; s; s = s->next)
        bytes += s->len;
    wh_outseg_free_list(out);
    if (client_leaves) {
        wh_exchange_detach(ex);
        return -1;
    }
    wh_exchange_written(ex, bytes);
    return 0;
}

static void *pop_job(void *q)
{
    return wh_jobq_pop(q);
}

/* wh_jobq_pop from a thread of its own: a runner's call pays its thread's wake-up debt, and this
 * test thread's may point at an earlier test's notifier. */
static wh_exchange_t *pop_as_runner(wh_jobq_t *q)
{
    pthread_t t;
    void *ex = NULL;
    assert_int_equal(pthread_create(&t, NULL, pop_job, q), 0);
    assert_int_equal(pthread_join(t, &ex), 0);
    return ex;
}

/* A GET exchange pushed on q and popped as a runner would; its owner is itself (the
 * connection's stand-in for write_all_now). */
static wh_exchange_t *popped_exchange(wh_jobq_t *q, wh_notifier_t *n)
{
    wh_exchange_t *ex = wh_exchange_new(n);
    assert_non_null(ex);
    ex->req.method = (wh_str_t){"GET", 3};
    ex->owner = ex;
    wh_jobq_push(q, ex);
    assert_ptr_equal(pop_as_runner(q), ex);
    return ex;
}

/* With the loop thread running the app there is nobody to wait for: a full buffer is written
 * by the waiting call itself, and a client gone while it writes ends the response. */
static void test_loop_runner_writes_instead_of_waiting(void **state)
{
    (void)state;
    uv_loop_t loop;
    wh_notifier_t n;
    notifier_up(&loop, &n);
    n.write_now = write_all_now;
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    static char big[2 << 20]; /* past the high-water mark */
    for (int leaves = 0; leaves <= 1; leaves++) {
        client_leaves = leaves;
        loop_writes = 0;
        wh_exchange_t *ex = popped_exchange(q, &n);
        assert_int_equal(wh_exchange_start(ex, "200 OK", 6, NULL, 0, -1), WH_OK);
        assert_int_equal(wh_exchange_write(ex, big, sizeof(big)), WH_FULL);
        assert_int_equal(wh_exchange_wait_writable(ex), leaves ? WH_ECLIENT : WH_OK);
        assert_int_equal(loop_writes, 1);
        if (!leaves)
            assert_int_equal(wh_exchange_write(ex, "ok", 2), WH_OK);
        wh_exchange_finish(ex, WH_FINISH_OK);
        assert_int_equal(write_all_now(ex), leaves ? -1 : 0); /* the loop's turn after it */
        wh_exchange_unref(ex);                                /* the loop's */
    }
    wh_jobq_free(q);
    notifier_down(&loop, &n);
}

/* A whole answer with the runner's clean-up still to come: the loop runner writes it at once
 * (wh_exchange_flush); a runner thread leaves it for the loop's turn. */
static void test_flush_writes_on_the_loop_only(void **state)
{
    (void)state;
    uv_loop_t loop;
    wh_notifier_t n;
    notifier_up(&loop, &n);
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    client_leaves = false;
    for (int on_loop = 0; on_loop <= 1; on_loop++) {
        n.write_now = on_loop ? write_all_now : NULL;
        loop_writes = 0;
        wh_exchange_t *ex = popped_exchange(q, &n);
        assert_int_equal(wh_exchange_start(ex, "200 OK", 6, NULL, 0, 2), WH_OK);
        assert_int_equal(wh_exchange_write(ex, "ok", 2), WH_OK);
        wh_exchange_flush(ex);
        assert_int_equal(loop_writes, on_loop);
        wh_exchange_finish(ex, WH_FINISH_OK);
        n.write_now = write_all_now;
        assert_int_equal(write_all_now(ex), 0); /* the loop's turn: what is left, finished */
        wh_exchange_unref(ex);                  /* the loop's */
    }
    wh_jobq_free(q);
    notifier_down(&loop, &n);
}

/* Pushes `count` new exchanges on q, the i-th queued at first_ms + i * step_ms. */
static void push_queued(wh_jobq_t *q, wh_notifier_t *n, wh_exchange_t **ex, int count,
                        uint64_t first_ms, uint64_t step_ms)
{
    for (int i = 0; i < count; i++) {
        ex[i] = wh_exchange_new(n);
        assert_non_null(ex[i]);
        ex[i]->req.method = (wh_str_t){"GET", 3};
        ex[i]->queued_ms = first_ms + step_ms * (uint64_t)i;
        wh_jobq_push(q, ex[i]);
    }
}

/* Drops the runner's and the loop's references of exchanges the test took back or popped. */
static void unref_taken(wh_exchange_t **ex, int count)
{
    for (int i = 0; i < count; i++) {
        wh_exchange_unref(ex[i]); /* the runner's reference */
        wh_exchange_unref(ex[i]); /* the loop's */
    }
}

/* --queue-timeout's take-back (server/http/jobq.h): the stale ones, oldest first, are a prefix
 * of the queue; the rest stay for the runners. */
static void test_jobq_take_stale(void **state)
{
    (void)state;
    wh_notifier_t n = {0};
    atomic_init(&n.outstanding, 0);
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    wh_exchange_t *ex[3];
    push_queued(q, &n, ex, 3, 100, 10); /* queued at 100, 110, 120 */
    uint64_t oldest = 0;
    assert_null(wh_jobq_take_stale(q, 99, &oldest));
    assert_int_equal(oldest, 100);
    wh_exchange_t *stale = wh_jobq_take_stale(q, 110, &oldest);
    assert_ptr_equal(stale, ex[0]);
    assert_ptr_equal(stale->next_job, ex[1]);
    assert_null(ex[1]->next_job);
    assert_int_equal(oldest, 120);
    assert_int_equal(wh_jobq_depth(q), 1);
    /* (not wh_jobq_try_pop: a runner's call, it would pay this thread's wake-up debt) */
    assert_ptr_equal(wh_jobq_take_stale(q, 1000, &oldest), ex[2]);
    assert_int_equal(oldest, 0);
    assert_int_equal(wh_jobq_depth(q), 0);
    unref_taken(ex, 3);
    wh_jobq_free(q);
}

/* Adaptive LIFO (jobq.h): oldest first until the oldest has waited lifo_after_ms, then newest
 * first; the stale take-back still finds the oldest at the head afterwards. */
static void test_jobq_newest_first_when_congested(void **state)
{
    (void)state;
    wh_notifier_t n = {0};
    atomic_init(&n.outstanding, 0);
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    uint64_t now = wh_monotonic_ms();
    wh_exchange_t *ex[4];
    push_queued(q, &n, ex, 4, now - 400, 100); /* waited 400, 300, 200, 100 ms */
    /* Not congested yet (the oldest waited 400 ms of 10 s): oldest first. */
    wh_jobq_set_lifo_after(q, 10000);
    assert_ptr_equal(pop_as_runner(q), ex[0]);
    /* Congested (the oldest left waited 300 ms >= 250): newest first. */
    wh_jobq_set_lifo_after(q, 250);
    assert_ptr_equal(pop_as_runner(q), ex[3]);
    assert_int_equal(wh_jobq_depth(q), 2);
    uint64_t oldest = 0;
    assert_ptr_equal(wh_jobq_take_stale(q, now - 250, &oldest), ex[1]);
    assert_null(ex[1]->next_job);
    assert_int_equal(oldest, ex[2]->queued_ms);
    /* One left: nothing to reorder. */
    assert_ptr_equal(pop_as_runner(q), ex[2]);
    assert_int_equal(wh_jobq_depth(q), 0);
    unref_taken(ex, 4);
    wh_jobq_free(q);
}

/* Which runs of the queue count as standing (jobq.h): from the first push onto a drained queue
 * until a runner takes the last request; shedding that empties it does not end the run. */
static void test_jobq_standing_since(void **state)
{
    (void)state;
    wh_notifier_t n = {0};
    atomic_init(&n.outstanding, 0);
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    assert_int_equal(wh_jobq_standing_since(q), 0);
    wh_exchange_t *ex[4];
    push_queued(q, &n, ex, 2, 100, 10);
    assert_int_equal(wh_jobq_standing_since(q), 100);
    uint64_t oldest = 0;
    assert_ptr_equal(wh_jobq_take_stale(q, 1000, &oldest), ex[0]);
    assert_int_equal(wh_jobq_depth(q), 0);
    assert_int_equal(wh_jobq_standing_since(q), 100); /* emptied by shedding */
    push_queued(q, &n, ex + 2, 2, 200, 10);
    assert_int_equal(wh_jobq_standing_since(q), 100);
    assert_ptr_equal(pop_as_runner(q), ex[2]);
    assert_int_equal(wh_jobq_standing_since(q), 100); /* one still waits */
    assert_ptr_equal(pop_as_runner(q), ex[3]);
    assert_int_equal(wh_jobq_standing_since(q), 0); /* a runner drained it */
    unref_taken(ex, 4);
    wh_jobq_free(q);
}

/* The loop's answers to shed requests, as its next turn takes them; how many. */
static int take_answers(wh_notifier_t *n)
{
    int count = 0;
    for (wh_exchange_t *ex = wh_notifier_take(n); ex; count++) {
        wh_exchange_t *next = ex->next_ready;
        unsigned st = 0;
        wh_outseg_free_list(wh_exchange_take_output(ex, &st));
        assert_true(st & WH_EX_FINISHED);
        wh_exchange_unref(ex); /* the ready list's reference */
        ex = next;
    }
    return count;
}

/* --queue-timeout (shed.h), 200 ms: a burst may wait the whole timeout; once runners have not
 * drained the queue for a whole timeout, only 25 ms, newest first, and that lasts after the
 * queue is drained until a timeout passes with nothing to shed. */
static void test_shed_keeps_a_standing_queue_short(void **state)
{
    (void)state;
    uv_loop_t loop;
    wh_notifier_t n;
    notifier_up(&loop, &n);
    wh_jobq_t *q = wh_jobq_new();
    assert_non_null(q);
    _Atomic uint64_t shed_count;
    atomic_init(&shed_count, 0);
    wh_shed_t s;
    assert_int_equal(wh_shed_init(&s, &loop, 0.2, q, &shed_count), 0);
    uint64_t now = wh_monotonic_ms();
    wh_exchange_t *ex[9];

    /* A burst: waited 150 and 100 ms, standing for less than the timeout. Nothing shed. */
    push_queued(q, &n, ex, 2, now - 150, 50);
    wh_shed_stale(&s);
    assert_int_equal(atomic_load(&shed_count), 0);
    assert_ptr_equal(pop_as_runner(q), ex[1]); /* congested (waited 25 ms): newest first */
    assert_ptr_equal(pop_as_runner(q), ex[0]);

    /* Standing for 300 ms: everything that waited over 25 ms is shed (each < the timeout but
     * the first); the one that waited 5 ms stays. */
    push_queued(q, &n, ex + 2, 4, now - 300, 90); /* waited 300, 210, 120, 30 ms */
    push_queued(q, &n, ex + 6, 1, now - 5, 0);
    wh_shed_stale(&s);
    assert_int_equal(atomic_load(&shed_count), 4);
    assert_int_equal(take_answers(&n), 4);
    assert_int_equal(wh_jobq_depth(q), 1);
    /* Newest first at once: the request just pushed goes before the one that waited 5 ms. */
    push_queued(q, &n, ex + 7, 1, wh_monotonic_ms(), 0);
    assert_ptr_equal(pop_as_runner(q), ex[7]);
    assert_ptr_equal(pop_as_runner(q), ex[6]); /* drained */

    /* Still overloaded: a request that waited 30 ms is shed, though the queue just formed. */
    push_queued(q, &n, ex + 8, 1, wh_monotonic_ms() - 30, 0);
    wh_shed_stale(&s);
    assert_int_equal(atomic_load(&shed_count), 5);
    assert_int_equal(take_answers(&n), 1);

    unref_taken(ex, 2);     /* popped */
    unref_taken(ex + 6, 2); /* popped */
    /* Shed: the loop's reference (take_answers dropped the runner's). */
    wh_exchange_t *shed[] = {ex[2], ex[3], ex[4], ex[5], ex[8]};
    for (size_t i = 0; i < sizeof(shed) / sizeof(shed[0]); i++)
        wh_exchange_unref(shed[i]);
    wh_shed_close(&s);
    wh_jobq_free(q);
    notifier_down(&loop, &n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_head_is_observed),
        cmocka_unit_test(test_refused_head_is_not_observed),
        cmocka_unit_test(test_no_observer),
        cmocka_unit_test(test_keep_text_is_bounded),
        cmocka_unit_test(test_wakeup_is_paid_when_the_runner_blocks),
        cmocka_unit_test(test_loop_runner_writes_instead_of_waiting),
        cmocka_unit_test(test_flush_writes_on_the_loop_only),
        cmocka_unit_test(test_jobq_take_stale),
        cmocka_unit_test(test_jobq_newest_first_when_congested),
        cmocka_unit_test(test_jobq_standing_since),
        cmocka_unit_test(test_shed_keeps_a_standing_queue_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
