/* The master (see server/proc/master.h). */
#include "server/proc/master.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/core/util.h"
#include "server/proc/cpus.h"
#include "server/core/log.h"
#include "server/ops/metrics.h"

/* How often the master looks at its workers when no signal arrives. */
enum { TICK_MS = 250 };
/* Respawn back-off after crashes: doubles from the first to the last, reset after a worker
 * has run for STABLE_MS. */
enum { BACKOFF_FIRST_MS = 100, BACKOFF_MAX_MS = 10000, STABLE_MS = 10000 };
/* After the graceful timeout, workers get this much more before SIGKILL (their own timer
 * fires first; this is for a worker whose loop is stuck). */
enum { KILL_MARGIN_MS = 2000 };
/* A quick stop waits this long before SIGKILL. */
enum { QUICK_STOP_MS = 5000 };
enum { MS_PER_S = 1000 };

typedef struct {
    pid_t pid;
    int slot;
    unsigned generation;
    bool retiring;
    bool recycling; /* stopping by itself (--max-requests): counted as a recycle at exit */
    uint64_t started_ms;
    uint64_t kill_at_ms; /* 0: not scheduled */
} worker_proc_t;

typedef struct {
    const wh_config_t *cfg;
    wh_listener_t *listeners;
    size_t listener_count;
    wh_scoreboard_t *sb;
    const wh_master_hooks_t *hooks;
    int sigfd;
    sigset_t handled;

    worker_proc_t procs[WH_SCOREBOARD_SLOTS];
    size_t proc_count;
    int target;
    unsigned generation;
    bool reloading; /* waiting for the new generation to be ready */
    bool stopping;
    bool quick;
    uint64_t stop_deadline_ms;
    uint64_t next_spawn_ms;
    uint64_t backoff_ms;
    int exit_status;
} master_t;

static const int handled_signals[] = {SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
                                      SIGTTIN, SIGTTOU, SIGUSR1, SIGCHLD};

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
        sigaddset(set, handled_signals[i]);
}

int wh_master_block_signals(void)
{
    sigset_t set;
    handled_set(&set);
    return sigprocmask(SIG_BLOCK, &set, NULL);
}

static uint64_t ms_of(double seconds)
{
    return (uint64_t)(seconds * MS_PER_S);
}

static int free_slot(master_t *m)
{
    for (int i = 0; i < WH_SCOREBOARD_SLOTS; i++) {
        if (atomic_load(&m->sb->slots[i].state) == WH_SLOT_FREE)
            return i;
    }
    return -1;
}

static void child_reset_signals(master_t *m)
{
    close(m->sigfd);
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
        signal(handled_signals[i], SIG_DFL);
    /* The master's business; a worker must not stop on them. */
    signal(SIGHUP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    sigprocmask(SIG_UNBLOCK, &m->handled, NULL);
}

static int spawn(master_t *m)
{
    int slot = free_slot(m);
    if (slot < 0 || m->proc_count == WH_SCOREBOARD_SLOTS) {
        wh_log(WH_LOG_ERROR, "no free worker slot (at most %d workers)", WH_SCOREBOARD_SLOTS);
        return -1;
    }
    wh_slot_t *s = &m->sb->slots[slot];
    atomic_store(&s->pid, 0);
    atomic_store(&s->heartbeat_ms, 0);
    atomic_store(&s->busy_since_ms, 0);
    atomic_store(&s->requests, 0);
    atomic_store(&s->conns, 0);
    atomic_store(&s->accepting, 0);
    atomic_store(&s->stuck, 0);
    atomic_store(&s->state, WH_SLOT_BOOTING);
    if (m->hooks->before_fork)
        m->hooks->before_fork(m->hooks->ctx);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (m->hooks->after_fork_child)
            m->hooks->after_fork_child(m->hooks->ctx);
        child_reset_signals(m);
        for (size_t i = 0; i < m->listener_count; i++)
            m->listeners[i].owner = false; /* the master removes Unix socket files */
        atomic_store(&s->pid, getpid());
        int status = m->hooks->worker_main(m->hooks->ctx, slot);
        exit(status);
    }
    if (m->hooks->after_fork_parent)
        m->hooks->after_fork_parent(m->hooks->ctx);
    if (pid < 0) {
        wh_log(WH_LOG_ERROR, "cannot fork a worker: %s", strerror(errno));
        atomic_store(&s->state, WH_SLOT_FREE);
        return -1;
    }
    atomic_store(&s->pid, pid);
    m->procs[m->proc_count++] = (worker_proc_t){
        .pid = pid, .slot = slot, .generation = m->generation, .started_ms = wh_monotonic_ms()};
    wh_log(WH_LOG_INFO, "Booting worker with pid: %ld", (long)pid);
    return 0;
}

static void signal_all(master_t *m, int signum)
{
    for (size_t i = 0; i < m->proc_count; i++)
        kill(m->procs[i].pid, signum);
}

static void retire(worker_proc_t *p, uint64_t grace_ms)
{
    if (p->retiring)
        return;
    p->retiring = true;
    p->kill_at_ms = wh_monotonic_ms() + grace_ms + KILL_MARGIN_MS;
    kill(p->pid, SIGTERM);
}

static size_t active_count(const master_t *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->proc_count; i++)
        n += !m->procs[i].retiring && m->procs[i].generation == m->generation;
    return n;
}

static void start_stop(master_t *m, bool quick)
{
    uint64_t now = wh_monotonic_ms();
    if (m->stopping && (!quick || m->quick))
        return;
    m->stopping = true;
    m->quick = quick;
    m->stop_deadline_ms = now + (quick ? QUICK_STOP_MS
                                       : ms_of(m->cfg->drain_delay) +
                                             ms_of(m->cfg->graceful_timeout) + KILL_MARGIN_MS);
    wh_log(WH_LOG_INFO, "Handling signal: %s stop", quick ? "quick" : "graceful");
    /* Close our copies of the listeners first: kept open, they would keep the sockets alive
     * after the workers have taken the last queued connection and closed theirs, and
     * connections queued meanwhile would be reset at exit instead of refused. */
    atomic_store(&m->sb->server_stopping, 1);
    for (size_t i = 0; i < m->listener_count; i++)
        wh_listener_close(&m->listeners[i]);
    signal_all(m, quick ? SIGINT : SIGTERM);
}

static void describe_exit(int status, char *out, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(out, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
}

static void on_worker_exit(master_t *m, size_t index, int status)
{
    worker_proc_t p = m->procs[index];
    m->procs[index] = m->procs[--m->proc_count];
    wh_slot_t *s = &m->sb->slots[p.slot];
    bool booted = atomic_load(&s->state) != WH_SLOT_BOOTING;
    wh_metrics_fold_slot(m->sb, p.slot); /* its counters outlive it (/metrics) */
    atomic_store(&s->state, WH_SLOT_FREE);
    if (m->hooks->worker_exited)
        m->hooks->worker_exited(m->hooks->ctx, p.pid, status);
    if (p.recycling)
        atomic_fetch_add(&m->sb->worker_recycles, 1);
    if (m->stopping || p.retiring) {
        wh_log(WH_LOG_INFO, "Worker exiting (pid: %ld)", (long)p.pid);
        return;
    }
    char how[96];
    describe_exit(status, how, sizeof(how));
    if (!booted && WIFEXITED(status) && WEXITSTATUS(status) == WH_EXIT_BOOT_ERROR) {
        wh_log(WH_LOG_CRITICAL,
               "Worker (pid: %ld) failed to boot: the app could not be loaded "
               "(see the error above); stopping",
               (long)p.pid);
        m->exit_status = WH_EXIT_BOOT_ERROR;
        start_stop(m, true);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        atomic_fetch_add(&m->sb->worker_recycles, 1);
        wh_log(WH_LOG_INFO, "Worker (pid: %ld) recycled", (long)p.pid);
        return; /* --max-requests: replaced at once */
    }
    atomic_fetch_add(&m->sb->worker_restarts, 1);
    uint64_t now = wh_monotonic_ms();
    if (now - p.started_ms >= STABLE_MS)
        m->backoff_ms = 0;
    m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (m->backoff_ms > BACKOFF_MAX_MS)
        m->backoff_ms = BACKOFF_MAX_MS;
    m->next_spawn_ms = now + m->backoff_ms;
    wh_log(WH_LOG_ERROR, "Worker (pid: %ld) %s; replacing it in %llu ms", (long)p.pid, how,
           (unsigned long long)m->backoff_ms);
}

static void reap(master_t *m)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        size_t i = 0;
        while (i < m->proc_count && m->procs[i].pid != pid)
            i++;
        if (i < m->proc_count)
            on_worker_exit(m, i, status);
        else
            wh_log(WH_LOG_DEBUG, "reaped orphan process %ld", (long)pid);
    }
}

static void handle_signal(master_t *m, int signum)
{
    switch (signum) {
    case SIGCHLD:
        reap(m);
        break;
    case SIGTERM:
        start_stop(m, false);
        break;
    case SIGINT:
    case SIGQUIT:
        start_stop(m, true);
        break;
    case SIGHUP:
        if (m->stopping)
            break;
        wh_log(WH_LOG_INFO, "Handling signal: hup: replacing the workers");
        if (m->hooks->reloading)
            m->hooks->reloading(m->hooks->ctx);
        m->generation++;
        m->reloading = true;
        m->next_spawn_ms = 0;
        break;
    case SIGTTIN:
        m->target++;
        wh_log(WH_LOG_INFO, "Handling signal: ttin: %d workers", m->target);
        break;
    case SIGTTOU:
        if (m->target > 1)
            m->target--;
        wh_log(WH_LOG_INFO, "Handling signal: ttou: %d workers", m->target);
        break;
    case SIGUSR1:
        if (wh_log_reopen() != 0)
            wh_log(WH_LOG_ERROR, "cannot reopen the log files: %s", strerror(errno));
        signal_all(m, SIGUSR1);
        break;
    default:
        break;
    }
}

/* A worker whose loop stopped beating or whose app holds a request past --timeout. */
static void check_timeouts(master_t *m, uint64_t now)
{
    if (m->cfg->timeout <= 0)
        return;
    uint64_t limit = ms_of(m->cfg->timeout);
    for (size_t i = 0; i < m->proc_count; i++) {
        worker_proc_t *p = &m->procs[i];
        wh_slot_t *s = &m->sb->slots[p->slot];
        if (p->retiring || atomic_load(&s->state) != WH_SLOT_READY)
            continue;
        uint64_t beat = atomic_load(&s->heartbeat_ms);
        uint64_t busy = atomic_load(&s->busy_since_ms);
        bool loop_stuck = beat && now > beat && now - beat > limit;
        bool app_stuck = busy && now > busy && now - busy > limit;
        if (!loop_stuck && !app_stuck)
            continue;
        char request[WH_SCOREBOARD_REQUEST_TEXT];
        memcpy(request, s->busy_request, sizeof(request));
        request[sizeof(request) - 1] = '\0';
        wh_log(WH_LOG_CRITICAL,
               "WORKER TIMEOUT (pid: %ld): %s for more than %g s%s%s; its "
               "Python stacks follow, then it is replaced",
               (long)p->pid,
               app_stuck ? "a request has been in the app" : "its event loop has not run",
               m->cfg->timeout, app_stuck ? ": " : "", app_stuck ? request : "");
        kill(p->pid, SIGUSR2); /* faulthandler writes every thread's stack */
        atomic_store(&s->stuck, 1);
        atomic_fetch_add(&m->sb->worker_timeouts, 1);
        retire(p, ms_of(m->cfg->graceful_timeout));
    }
}

static void tick(master_t *m)
{
    uint64_t now = wh_monotonic_ms();
    if (m->stopping) {
        if (now >= m->stop_deadline_ms && m->proc_count > 0) {
            wh_log(WH_LOG_WARNING, "killing %zu worker(s) that did not stop in time",
                   m->proc_count);
            signal_all(m, SIGKILL);
            m->stop_deadline_ms = now + QUICK_STOP_MS;
            if (m->exit_status == 0)
                m->exit_status = 1;
        }
        return;
    }
    check_timeouts(m, now);
    for (size_t i = 0; i < m->proc_count; i++) {
        worker_proc_t *p = &m->procs[i];
        /* A worker stopping by itself (--max-requests) is replaced at once, and killed if it
         * does not exit in time: the app's non-daemon threads can hold Py_FinalizeEx forever. */
        if (!p->retiring && atomic_load(&m->sb->slots[p->slot].state) == WH_SLOT_STOPPING) {
            p->retiring = true;
            p->recycling = true;
            p->kill_at_ms = now + ms_of(m->cfg->graceful_timeout) + KILL_MARGIN_MS;
        }
        if (p->retiring && p->kill_at_ms && now >= p->kill_at_ms) {
            wh_log(WH_LOG_WARNING, "killing worker %ld: it did not stop in time", (long)p->pid);
            kill(p->pid, SIGKILL);
            p->kill_at_ms = 0;
        }
    }
    /* Spawn up to the target (the current generation only). */
    while ((int)active_count(m) < m->target && now >= m->next_spawn_ms) {
        if (spawn(m) != 0) {
            m->next_spawn_ms = now + BACKOFF_MAX_MS;
            break;
        }
    }
    /* Too many (TTOU): retire the newest. */
    for (size_t i = m->proc_count; i-- > 0 && (int)active_count(m) > m->target;) {
        if (!m->procs[i].retiring && m->procs[i].generation == m->generation)
            retire(&m->procs[i], ms_of(m->cfg->graceful_timeout));
    }
    /* HUP: once every new worker is ready, the old generation stops gracefully. */
    if (m->reloading && (int)active_count(m) >= m->target) {
        bool ready = true;
        for (size_t i = 0; i < m->proc_count; i++) {
            const worker_proc_t *p = &m->procs[i];
            if (p->generation == m->generation &&
                atomic_load(&m->sb->slots[p->slot].state) != WH_SLOT_READY)
                ready = false;
        }
        if (ready) {
            m->reloading = false;
            atomic_store(&m->sb->reload_requested, 0); /* --reload may ask again */
            for (size_t i = 0; i < m->proc_count; i++) {
                if (m->procs[i].generation != m->generation)
                    retire(&m->procs[i], ms_of(m->cfg->graceful_timeout));
            }
        }
    }
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f);
}

int wh_master_run(const wh_config_t *cfg, wh_listener_t *listeners, size_t listener_count,
                  wh_scoreboard_t *sb, const wh_master_hooks_t *hooks)
{
    master_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return 1;
    m->cfg = cfg;
    m->listeners = listeners;
    m->listener_count = listener_count;
    m->sb = sb;
    m->hooks = hooks;
    m->target = cfg->workers;
    handled_set(&m->handled);
    if (sigprocmask(SIG_BLOCK, &m->handled, NULL) != 0 ||
        (m->sigfd = signalfd(-1, &m->handled, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        wh_log(WH_LOG_CRITICAL, "cannot set up signal handling: %s", strerror(errno));
        free(m);
        return 1;
    }
    if (cfg->pidfile && write_pidfile(cfg->pidfile) != 0)
        wh_log(WH_LOG_ERROR, "cannot write the pid file %s: %s", cfg->pidfile, strerror(errno));
    wh_log(WH_LOG_INFO, "Arbiter booted: %d worker(s)", m->target);
    for (;;) {
        tick(m);
        if (m->stopping && m->proc_count == 0)
            break;
        struct pollfd pfds[1 + WH_MASTER_EXTRA_FDS];
        pfds[0] = (struct pollfd){.fd = m->sigfd, .events = POLLIN};
        int extra = m->hooks->poll_fds
                        ? m->hooks->poll_fds(m->hooks->ctx, pfds + 1, WH_MASTER_EXTRA_FDS)
                        : 0;
        int n = poll(pfds, 1 + (nfds_t)extra, TICK_MS);
        if (n < 0 && errno != EINTR) {
            wh_log(WH_LOG_CRITICAL, "poll: %s", strerror(errno));
            start_stop(m, true);
        }
        if (extra > 0 && m->hooks->poll_done) {
            if (n <= 0)
                for (int i = 1; i <= extra; i++)
                    pfds[i].revents = 0;
            m->hooks->poll_done(m->hooks->ctx, pfds + 1, extra);
        }
        struct signalfd_siginfo info;
        while (read(m->sigfd, &info, sizeof(info)) == (ssize_t)sizeof(info))
            handle_signal(m, (int)info.ssi_signo);
    }
    reap(m); /* orphans that exited meanwhile */
    if (cfg->pidfile)
        unlink(cfg->pidfile);
    close(m->sigfd);
    sigprocmask(SIG_UNBLOCK, &m->handled, NULL);
    int status = m->exit_status;
    free(m);
    wh_log(WH_LOG_INFO, "Shutting down: Master");
    return status;
}
