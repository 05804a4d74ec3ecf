/* The worker loop (see server/http/worker.h): accepting, signals, shutdown, and the async wake-up
 * through which runner threads hand back output. */
#include "server/http/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/core/util.h"
#include "server/http/conn.h"
#include "server/core/log.h"

/* Connections accepted per wake-up of a single worker's listener: bounded, so one busy listener
 * cannot starve the others, yet enough for accepting to keep up with new connections when the
 * loop turns only every few milliseconds (Python threads holding the core under overload): with
 * 64 a turn a burst of new connections waited 100-250 ms in the accept queue, where no
 * --queue-timeout counts (bench/results/overload.md). */
enum { ACCEPT_BATCH = 1024 };
/* After running out of file descriptors, wait this long before accepting again. */
enum { ACCEPT_PAUSE_MS = 100 };
/* Fair spread: how many more connections than another worker one may hold and still accept,
 * and how soon a worker that left a connection to others looks again. */
enum { ACCEPT_FAIRNESS_SLACK = 1, ACCEPT_DEFER_MS = 1 };
enum { MS_PER_SECOND = 1000 };
/* Access lines are written in batches: once this much is buffered, else this long after the
 * first buffered line (one write(2) per loop turn cost ~4% of a hello-world request). */
enum { LOG_FLUSH_BYTES = 16 * 1024, LOG_FLUSH_MS = 50 };
/* How often the loop reports to the master through the scoreboard. */
enum { HEARTBEAT_MS = 1000 };
/* A graceful stop takes the accept queue a second time this long after new connection attempts
 * are dropped, before the last close: a handshake half done at that instant passes the filter
 * (it drops only SYNs) and completes into the queue after the first look (microseconds on one
 * host); the close would reset it after its client thought it connected. */
enum { LAST_ACCEPT_DELAY_MS = 10 };

static void on_accept(uv_poll_t *handle, int status, int events);

/* This process's worker, for the fork handler below (one worker per process). */
static wh_worker_t *this_worker;

/* In a process the app forks (os.fork, multiprocessing, a C extension's fork()): the listening
 * sockets are not its to keep. Held there, they would outlive the server (the port stays in
 * LISTEN, the kernel queues connections nobody answers, a new server cannot bind). close(2) is
 * async-signal-safe, as a fork handler must be. */
static void close_listeners_in_child(void)
{
    wh_worker_t *w = this_worker;
    for (size_t i = 0; w && i < w->listener_count; i++) {
        if (w->listeners[i].fd >= 0)
            close(w->listeners[i].fd);
        w->listeners[i].fd = -1;
    }
}

static void set_accepting(wh_worker_t *w, bool on)
{
    if (w->accepting == on)
        return;
    w->accepting = on;
    if (w->slot)
        atomic_store(&w->slot->accepting, on);
    for (size_t i = 0; i < w->listener_count; i++) {
        int rc = on ? uv_poll_start(&w->listen_polls[i], UV_READABLE, on_accept)
                    : uv_poll_stop(&w->listen_polls[i]);
        if (rc != 0)
            wh_log(WH_LOG_ERROR, "cannot %s accepting on %s: %s", on ? "start" : "stop",
                   w->listeners[i].display, uv_strerror(rc));
    }
}

static void on_accept_resume(uv_timer_t *timer)
{
    wh_worker_t *w = timer->data;
    if (!w->stopping && !w->accept_gated)
        set_accepting(w, true);
}

/* Accepts up to `max` pending connections on one listener. */
static void accept_some(wh_worker_t *w, const wh_listener_t *l, int max)
{
    for (int i = 0; i < max; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                wh_log(WH_LOG_WARNING,
                       "cannot accept on %s: %s; pausing %d ms (raise the "
                       "file descriptor limit, ulimit -n)",
                       l->display, strerror(errno), ACCEPT_PAUSE_MS);
                set_accepting(w, false);
                if (!w->stopping)
                    uv_timer_start(&w->accept_resume, on_accept_resume, ACCEPT_PAUSE_MS, 0);
                return;
            }
            wh_log(WH_LOG_ERROR, "accept on %s failed: %s", l->display, strerror(errno));
            return;
        }
        if (!l->is_unix) {
            /* Without it, Nagle plus delayed ACKs stall small keep-alive answers ~40 ms. */
            int one = 1;
            if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
                wh_log(WH_LOG_DEBUG, "TCP_NODELAY: %s", strerror(errno));
        } else {
            ((struct sockaddr *)&peer)->sa_family = AF_UNIX;
        }
        if (wh_conn_start(w, l, fd, (struct sockaddr *)&peer) != 0)
            wh_log(WH_LOG_ERROR, "out of memory accepting a connection");
    }
}

void wh_worker_conns_changed(wh_worker_t *w)
{
    if (w->slot)
        atomic_store(&w->slot->conns, (uint32_t)w->conn_count);
}

/* Every worker wakes for a new connection on the shared listener, and the one that runs first
 * would take most of them. A worker with more connections than the least loaded worker that
 * is accepting (plus a little slack) lets that one have it. */
static bool leave_to_others(const wh_worker_t *w)
{
    if (w->sb == NULL || w->cfg->workers < 2)
        return false;
    uint32_t mine = (uint32_t)w->conn_count;
    for (int i = 0; i < WH_SCOREBOARD_SLOTS; i++) {
        const wh_slot_t *s = &w->sb->slots[i];
        if (s == w->slot || atomic_load(&s->state) != WH_SLOT_READY || !atomic_load(&s->accepting))
            continue;
        if (mine > atomic_load(&s->conns) + ACCEPT_FAIRNESS_SLACK)
            return true;
    }
    return false;
}

static bool python_saturated(wh_worker_t *w)
{
    return w->accept_gate && atomic_load(&w->notifier.outstanding) >= w->accept_gate;
}

static void on_accept(uv_poll_t *handle, int status, int events)
{
    (void)events;
    wh_worker_t *w = handle->loop->data;
    const wh_listener_t *l = handle->data;
    if (status < 0) {
        wh_log(WH_LOG_ERROR, "listener %s failed: %s", l->display, uv_strerror(status));
        return;
    }
    if (python_saturated(w)) {
        set_accepting(w, false);
        w->accept_gated = true;
        return;
    }
    if (leave_to_others(w)) {
        /* Look again shortly (the listener is level-triggered: polling it now would spin). */
        set_accepting(w, false);
        uv_timer_start(&w->accept_resume, on_accept_resume, ACCEPT_DEFER_MS, 0);
        return;
    }
    accept_some(w, l, w->accept_batch);
}

/* Writes the output runners have handed over (see wh_notifier_t for when the loop looks). */
static void take_ready(wh_worker_t *w)
{
    wh_exchange_t *ex = wh_notifier_take(&w->notifier);
    while (ex) {
        /* Read the link first: once its output is taken the exchange may be queued again. */
        wh_exchange_t *next = ex->next_ready;
        if (ex->owner)
            wh_conn_on_output(ex->owner);
        wh_exchange_unref(ex);
        ex = next;
    }
    if (w->accept_gated && !python_saturated(w) && !w->stopping) {
        w->accept_gated = false;
        set_accepting(w, true);
    }
}

static void on_output_ready(uv_async_t *async)
{
    take_ready(async->loop->data);
}

/* Nothing to do: while active, the loop polls without sleeping (run_queued_here). */
static void on_run_more(uv_idle_t *idle)
{
    (void)idle;
}

static void on_hold_timer(uv_timer_t *timer)
{
    take_ready(timer->data);
}

/* Every runner is busy and work is queued: requests read now would only wait in the queue. */
static bool runners_saturated(wh_worker_t *w)
{
    return atomic_load(&w->notifier.outstanding) >= w->cfg->threads && wh_jobq_depth(w->jobq) > 0;
}

/* --threads 0 (wh_notifier_t.write_now): takes the ready list, as the loop's turn would, so that
 * the exchange is off it before its output is written, then waits for its socket. */
static int write_for_app(void *owner)
{
    take_ready(this_worker);
    return wh_conn_wait_writable(owner);
}

/* --threads 0: runs what is queued for one time slice, WH_WAKE_HOLD_MS (the view running when
 * it ends finishes), then writes the responses and lets the loop poll before the next slice.
 * Written together, not each as it is made (each written at once wakes its client on another
 * core every time: -18% on /plain/, bench/results/profile.md). Polling between slices reads
 * what arrived meanwhile, so under overload --queue-timeout and newest-first see the requests
 * waiting on the sockets, not only those read before the slice (shed.h), and static files,
 * probes and signals wait at most a slice. A response that completes its connection's exchange
 * may parse the next request already buffered on it: it is queued for the next slice. */
static void run_queued_here(wh_worker_t *w)
{
    uint64_t slice_started_ms = 0;
    for (;;) {
        wh_shed_stale(&w->shed); /* no timer fires while the app runs */
        wh_exchange_t *ex = wh_jobq_try_pop(w->jobq);
        if (ex == NULL)
            break;
        if (!slice_started_ms)
            slice_started_ms = wh_monotonic_ms();
        w->run_app(ex);
        if (wh_monotonic_ms() - slice_started_ms >= WH_WAKE_HOLD_MS)
            break;
    }
    take_ready(w);
    /* Work left: poll without sleeping (an active idle handle makes the poll timeout 0). */
    bool more = wh_jobq_depth(w->jobq) > 0 && !w->stopped;
    bool idling = uv_is_active((uv_handle_t *)&w->run_more);
    if (more && !idling)
        uv_idle_start(&w->run_more, on_run_more);
    else if (!more && idling)
        uv_idle_stop(&w->run_more);
}

/* Last thing before the loop sleeps (see wh_notifier_t): take held output, wake runners for
 * what this turn queued, let them work through their queue, and while they are busy look at
 * the ready list every WH_WAKE_HOLD_MS. */
static void on_loop_prepare(uv_prepare_t *prepare)
{
    wh_worker_t *w = prepare->data;
    if (w->run_app) {
        run_queued_here(w);
        return;
    }
    take_ready(w);
    wh_jobq_wake(w->jobq);
    uint64_t pays = wh_notifier_pays(&w->notifier);
    if (runners_saturated(w) && !w->stopping) {
        wh_notifier_wait(&w->notifier, pays);
        take_ready(w);
        wh_jobq_wake(w->jobq);
    }
    bool busy = atomic_load(&w->notifier.outstanding) > 0 && !w->stopped;
    bool polling = uv_is_active((uv_handle_t *)&w->hold_timer);
    if (busy && !polling)
        uv_timer_start(&w->hold_timer, on_hold_timer, WH_WAKE_HOLD_MS, WH_WAKE_HOLD_MS);
    else if (!busy && polling)
        uv_timer_stop(&w->hold_timer);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Everything in flight is done (or given up): close the worker's own handles so the loop ends. */
static void finish_stop(wh_worker_t *w)
{
    if (w->stopped)
        return;
    w->stopped = true;
    for (size_t i = 0; i < w->listener_count; i++)
        close_handle((uv_handle_t *)&w->listen_polls[i]);
    wh_notifier_close(&w->notifier);
    close_handle((uv_handle_t *)&w->prepare);
    close_handle((uv_handle_t *)&w->hold_timer);
    close_handle((uv_handle_t *)&w->run_more);
    close_handle((uv_handle_t *)&w->sig_term);
    close_handle((uv_handle_t *)&w->sig_int);
    close_handle((uv_handle_t *)&w->sig_quit);
    close_handle((uv_handle_t *)&w->sig_usr1);
    close_handle((uv_handle_t *)&w->heartbeat);
    close_handle((uv_handle_t *)&w->shutdown_timer);
    close_handle((uv_handle_t *)&w->last_accept);
    close_handle((uv_handle_t *)&w->drain_timer);
    close_handle((uv_handle_t *)&w->accept_resume);
    close_handle((uv_handle_t *)&w->log_flush);
    close_handle((uv_handle_t *)&w->log_timer);
    wh_shed_close(&w->shed);
    if (w->stop_hook.fn)
        w->stop_hook.fn(w->stop_hook.ctx);
}

/* A stopping worker is done once no connection is left and its listeners are closed (they stay
 * open only while the second look at the accept queue is pending). */
static void stop_if_done(wh_worker_t *w)
{
    if (w->stopping && w->conn_count == 0 && !uv_is_active((uv_handle_t *)&w->last_accept))
        finish_stop(w);
}

void wh_worker_conn_closed(wh_worker_t *w)
{
    w->conn_count--;
    wh_worker_conns_changed(w);
    stop_if_done(w);
}

static void on_shutdown_timeout(uv_timer_t *timer)
{
    wh_worker_t *w = timer->data;
    wh_log(WH_LOG_WARNING, "graceful timeout: closing %zu connection(s) still busy", w->conn_count);
    wh_worker_stop(w, true);
}

/* Closes the listeners (again: a no-op); with `take_queued`, after accepting what is queued. */
static void close_listeners(wh_worker_t *w, bool take_queued)
{
    for (size_t i = 0; i < w->listener_count; i++) {
        if (take_queued)
            accept_some(w, &w->listeners[i], INT32_MAX);
        wh_listener_close(&w->listeners[i]);
    }
}

/* A graceful stop with connections to finish: they get --graceful-timeout, once. */
static void arm_graceful_timeout(wh_worker_t *w)
{
    if (w->conn_count > 0 && !uv_is_active((uv_handle_t *)&w->shutdown_timer))
        uv_timer_start(&w->shutdown_timer, on_shutdown_timeout,
                       (uint64_t)(w->cfg->graceful_timeout * MS_PER_SECOND), 0);
}

static void on_last_accept(uv_timer_t *timer)
{
    wh_worker_t *w = timer->data;
    close_listeners(w, true);
    arm_graceful_timeout(w);
    stop_if_done(w);
}

static void log_cannot_refuse(const wh_listener_t *l, int err)
{
    if (err == EPERM) /* the usual lot in a container (listen.h): nothing to mend there */
        wh_log(WH_LOG_INFO,
               "%s: new connections cannot be dropped before the close (that takes "
               "CAP_NET_ADMIN); one arriving at that instant may be reset (behind a load "
               "balancer, --drain-delay keeps them away)",
               l->display);
    else
        wh_log(WH_LOG_WARNING, "cannot stop new connections on %s before closing it: %s",
               l->display, strerror(err));
}

void wh_worker_stop(wh_worker_t *w, bool quick)
{
    if (quick && w->conn_count > 0)
        w->forced = true;
    if (!w->stopping) {
        w->stopping = true;
        set_accepting(w, false);
        /* A graceful stop first takes every connection already queued (they were promised
         * an answer), then closes its listeners: once every process has, new clients are
         * refused instead of left waiting. When this close may be the last, new attempts are
         * dropped first and the queue is taken once more LAST_ACCEPT_DELAY_MS later. */
        /* Without a master (or when it stops for good) this close may be the last one. */
        bool last = w->sb == NULL || atomic_load(&w->sb->server_stopping);
        bool stuck = w->slot && atomic_load(&w->slot->stuck);
        bool take_queued = !quick && !stuck; /* a stuck worker leaves them to the others */
        for (size_t i = 0; i < w->listener_count; i++) {
            if (last && wh_listener_refuse_new(&w->listeners[i]) != 0)
                log_cannot_refuse(&w->listeners[i], errno);
            if (take_queued)
                accept_some(w, &w->listeners[i], INT32_MAX);
        }
        bool second_look =
            last && take_queued &&
            uv_timer_start(&w->last_accept, on_last_accept, LAST_ACCEPT_DELAY_MS, 0) == 0;
        if (!second_look)
            close_listeners(w, false);
        if (!quick)
            arm_graceful_timeout(w);
    } else if (quick && uv_is_active((uv_handle_t *)&w->last_accept)) {
        /* a quick stop overtakes the second look */
        uv_timer_stop(&w->last_accept);
        close_listeners(w, false);
    }
    for (struct wh_conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        wh_conn_stop(c, quick);
    }
    stop_if_done(w);
}

static void on_drain_done(uv_timer_t *timer)
{
    wh_worker_t *w = timer->data;
    wh_log(WH_LOG_INFO, "drain delay over: graceful stop");
    wh_worker_stop(w, false);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    wh_worker_t *w = handle->data;
    if (signum == SIGUSR1) {
        if (wh_log_reopen() != 0)
            wh_log(WH_LOG_ERROR, "cannot reopen the log files: %s", strerror(errno));
        return;
    }
    bool quick = signum != SIGTERM;
    if (!quick && w->cfg->drain_delay > 0 && !w->stopping) {
        /* Keep serving while readiness fails, so load balancers stop sending us requests
         * before the listeners close. A second SIGTERM does not cut the drain short. */
        if (!w->draining) {
            w->draining = true;
            wh_log(WH_LOG_INFO, "%s: draining for %g s, then graceful stop", strsignal(signum),
                   w->cfg->drain_delay);
            uv_timer_start(&w->drain_timer, on_drain_done,
                           (uint64_t)(w->cfg->drain_delay * MS_PER_SECOND), 0);
        }
        return;
    }
    wh_log(WH_LOG_INFO, "%s: %s stop", strsignal(signum), quick ? "quick" : "graceful");
    wh_worker_stop(w, quick);
}

/* Tells the master the loop runs, and how long the oldest request has been in the app. */
static void on_heartbeat(uv_timer_t *timer)
{
    wh_worker_t *w = timer->data;
    wh_slot_t *slot = w->slot;
    /* A master killed outright (SIGKILL, the OOM killer) cannot stop its workers: each stops
     * itself once it has a new parent, as gunicorn's do, instead of serving on unsupervised. */
    if (getppid() != w->sb->master_pid && !w->stopping) {
        wh_log(WH_LOG_WARNING, "Master (pid: %ld) is gone, stopping this worker",
               (long)w->sb->master_pid);
        wh_worker_stop(w, false);
    }
    const struct wh_conn *oldest = NULL;
    for (const struct wh_conn *c = w->conns; c; c = c->next) {
        if (c->state == WH_CONN_APP && c->ex && !(c->ex_state & WH_EX_FINISHED) &&
            (oldest == NULL || c->submitted_ms < oldest->submitted_ms))
            oldest = c;
    }
    if (oldest) {
        const wh_request_t *r = &oldest->ex->req;
        snprintf(slot->busy_request, sizeof(slot->busy_request), "%.*s %.*s from %s",
                 (int)r->method.len, r->method.ptr, (int)r->target.len, r->target.ptr,
                 oldest->remote_addr);
    }
    atomic_store(&slot->busy_since_ms, oldest ? oldest->submitted_ms : 0);
    /* Requests waiting for a Python thread (--metrics-bind shows it). */
    wh_stat_set32(&slot->stats.queue_depth, (uint32_t)wh_jobq_depth(w->jobq));
    atomic_store(&slot->requests, w->requests_done);
    atomic_store(&slot->heartbeat_ms, wh_monotonic_ms());
}

int wh_worker_add_local_handler(wh_worker_t *w, wh_local_handler_fn fn, void *ctx)
{
    if (w->local_handler_count == WH_MAX_LOCAL_HANDLERS)
        return -1;
    w->local_handlers[w->local_handler_count++] = (wh_local_handler_t){fn, ctx};
    return 0;
}

bool wh_worker_request_started(wh_worker_t *w)
{
    w->requests_started++;
    return w->max_requests && w->requests_started >= w->max_requests;
}

void wh_worker_request_done(wh_worker_t *w)
{
    w->requests_done++;
    if (w->max_requests && w->requests_done == w->max_requests && !w->stopping) {
        wh_log(WH_LOG_INFO, "Autorestarting worker after %llu requests",
               (unsigned long long)w->requests_done);
        wh_worker_stop(w, false);
    }
}

static void on_log_timer(uv_timer_t *timer)
{
    (void)timer;
    wh_log_access_flush();
}

static void on_loop_check(uv_check_t *check)
{
    wh_worker_t *w = check->loop->data;
    size_t pending = wh_log_access_pending();
    if (pending >= LOG_FLUSH_BYTES || (pending > 0 && w->stopping)) {
        uv_timer_stop(&w->log_timer);
        wh_log_access_flush();
    } else if (pending > 0 && !uv_is_active((uv_handle_t *)&w->log_timer) && !w->stopped) {
        uv_timer_start(&w->log_timer, on_log_timer, LOG_FLUSH_MS, 0);
    }
}

static int start_signal(wh_worker_t *w, uv_signal_t *sig, int signum)
{
    if (uv_signal_init(&w->loop, sig) != 0)
        return -1;
    sig->data = w;
    return uv_signal_start(sig, on_signal, signum);
}

int wh_worker_init(wh_worker_t *w, const wh_config_t *cfg, wh_listener_t *listeners,
                   size_t listener_count, wh_jobq_t *jobq, wh_scoreboard_t *sb, int slot)
{
    memset(w, 0, sizeof(*w));
    static bool fork_handler_set;
    int err = fork_handler_set ? 0 : pthread_atfork(NULL, NULL, close_listeners_in_child);
    if (err != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot set up the fork handler: %s", strerror(err));
        return -1;
    }
    fork_handler_set = true;
    this_worker = w;
    w->cfg = cfg;
    w->sb = sb;
    w->slot = sb ? &sb->slots[slot] : NULL;
    /* Several processes wake for each connection on a shared listener; each taking one at a
     * time spreads keep-alive connections evenly instead of the first taking them all. */
    w->accept_batch = cfg->workers > 1 ? 1 : ACCEPT_BATCH;
    w->accept_gate = cfg->workers > 1 ? cfg->threads : 0;
    w->run_app = NULL;
    if (cfg->max_requests) {
        unsigned jitter = cfg->max_requests_jitter;
        srandom((unsigned)getpid());
        w->max_requests = cfg->max_requests + (jitter ? (unsigned)random() % (jitter + 1) : 0);
    }
    w->listeners = listeners;
    w->listener_count = listener_count;
    w->jobq = jobq;
    w->limits = (wh_http1_limits_t){
        .max_request_line = cfg->limit_request_line,
        .max_header_fields = cfg->limit_request_fields,
        .max_header_field_size = cfg->limit_request_field_size,
        .max_body = cfg->max_request_body,
        .body_memory_max = (size_t)cfg->body_buffer_size,
        .spool_dir = NULL,
    };
    int rc = uv_loop_init(&w->loop);
    if (rc != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot start the event loop: %s", uv_strerror(rc));
        return -1;
    }
    w->loop.data = w;
    w->listen_polls = calloc(listener_count, sizeof(*w->listen_polls));
    if (w->listen_polls == NULL)
        return -1;
    for (size_t i = 0; i < listener_count; i++) {
        if (uv_poll_init(&w->loop, &w->listen_polls[i], listeners[i].fd) != 0)
            return -1;
        w->listen_polls[i].data = &listeners[i];
    }
    if (wh_notifier_init(&w->notifier, &w->loop, on_output_ready) != 0 ||
        uv_timer_init(&w->loop, &w->shutdown_timer) != 0 ||
        uv_timer_init(&w->loop, &w->last_accept) != 0 ||
        uv_timer_init(&w->loop, &w->accept_resume) != 0 || uv_check_init(&w->loop, &w->log_flush) ||
        start_signal(w, &w->sig_term, SIGTERM) != 0 || start_signal(w, &w->sig_int, SIGINT) != 0 ||
        start_signal(w, &w->sig_quit, SIGQUIT) != 0 || start_signal(w, &w->sig_usr1, SIGUSR1) ||
        uv_timer_init(&w->loop, &w->heartbeat) != 0 ||
        uv_timer_init(&w->loop, &w->drain_timer) != 0 ||
        uv_timer_init(&w->loop, &w->log_timer) != 0 ||
        uv_timer_init(&w->loop, &w->hold_timer) != 0 || uv_prepare_init(&w->loop, &w->prepare) ||
        uv_idle_init(&w->loop, &w->run_more) != 0 ||
        wh_shed_init(&w->shed, &w->loop, cfg->queue_timeout, jobq,
                     w->slot ? &w->slot->stats.queue_timeouts : NULL) != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot set up the event loop");
        return -1;
    }
    if (cfg->threads == 0)
        w->notifier.write_now = write_for_app;
    w->shutdown_timer.data = w->accept_resume.data = w->heartbeat.data = w->last_accept.data = w;
    w->drain_timer.data = w->hold_timer.data = w->prepare.data = w;
    uv_check_start(&w->log_flush, on_loop_check);
    uv_prepare_start(&w->prepare, on_loop_prepare);
    if (w->slot) {
        on_heartbeat(&w->heartbeat);
        uv_timer_start(&w->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    }
    return 0;
}

int wh_worker_run(wh_worker_t *w)
{
    set_accepting(w, true);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    wh_log_access_flush();
    int rc = uv_loop_close(&w->loop);
    if (rc != 0)
        wh_log(WH_LOG_WARNING, "event loop closed with handles open: %s", uv_strerror(rc));
    free(w->listen_polls);
    w->listen_polls = NULL;
    return w->forced ? 1 : 0;
}
