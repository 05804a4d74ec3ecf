#include "server/container/startup.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/core/log.h"
#include "server/container/pgcheck.h"
#include "server/container/pgconf.h"
#include "server/container/pglock.h"
#include "server/container/pq.h"
#include "server/core/util.h"

/* Seconds between two pings while waiting, and the most one attempt may take. */
enum { WAIT_INTERVAL_MS = 1000, ATTEMPT_TIMEOUT_S = 5, MS_PER_S = 1000 };
enum { DESCRIBE_MAX = 512, ERROR_MAX = 1024 };
/* argv of the migration child: fixed words plus two per --pythonpath entry. */
enum { FIXED_ARGS = 12, CHILD_ARGS_MAX = FIXED_ARGS + 2 * WH_CONFIG_MAX_PYTHONPATH };
static const char *program = "/proc/self/exe";

/* SIGTERM/SIGINT during start-up: stop waiting (the master's own handlers come later; as PID 1
 * in a container the default action would be ignored). */
static volatile sig_atomic_t interrupted;

static void on_stop_signal(int signum)
{
    (void)signum;
    interrupted = 1;
}

typedef struct {
    struct sigaction term, intr;
} saved_signals_t;

static int catch_signals(saved_signals_t *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: sleeps and waitpid return EINTR */
    if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGTERM, &sa, &saved->term) != 0 ||
        sigaction(SIGINT, &sa, &saved->intr) != 0) {
        wh_log(WH_LOG_ERROR, "cannot set signal handlers: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void restore_signals(const saved_signals_t *saved)
{
    if (sigaction(SIGTERM, &saved->term, NULL) != 0 || sigaction(SIGINT, &saved->intr, NULL) != 0)
        wh_log(WH_LOG_WARNING, "cannot restore signal handlers: %s", strerror(errno));
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / MS_PER_S), (long)(ms % MS_PER_S) * 1000000L};
    (void)nanosleep(&ts, NULL); /* EINTR (a stop signal) just ends the sleep early */
}

/* --wait-for-db: ping until up, the deadline, or a stop signal. */
static int wait_for_db(const char *conninfo, double seconds)
{
    char where[DESCRIBE_MAX];
    wh_pg_describe(conninfo, where, sizeof(where));
    uint64_t start = wh_monotonic_ms();
    uint64_t deadline = start + (uint64_t)(seconds * MS_PER_S);
    for (unsigned attempt = 1;; attempt++) {
        uint64_t left_ms = deadline > wh_monotonic_ms() ? deadline - wh_monotonic_ms() : 0;
        int timeout_s = (int)(left_ms / MS_PER_S);
        if (timeout_s > ATTEMPT_TIMEOUT_S)
            timeout_s = ATTEMPT_TIMEOUT_S;
        wh_pg_status_t st = wh_pg_ping(conninfo, timeout_s);
        double waited = (double)(wh_monotonic_ms() - start) / MS_PER_S;
        if (st == WH_PG_UP) {
            wh_log(WH_LOG_INFO, "Database at %s is accepting connections (waited %.1f s)", where,
                   waited);
            return 0;
        }
        if (st == WH_PG_BAD_CONFIG) {
            wh_log(WH_LOG_CRITICAL,
                   "--wait-for-db: invalid connection settings for %s; check DATABASE_URL "
                   "(postgres://USER:PASSWORD@HOST:PORT/NAME) or the PG* variables",
                   where);
            return -1;
        }
        if (interrupted) {
            wh_log(WH_LOG_CRITICAL, "--wait-for-db: interrupted by a signal");
            return -1;
        }
        if (wh_monotonic_ms() >= deadline) {
            wh_log(WH_LOG_CRITICAL,
                   "--wait-for-db: the database at %s did not accept connections within %g s "
                   "(last attempt: %s); is it running and reachable, and is DATABASE_URL right?",
                   where, seconds, wh_pg_status_text(st));
            return -1;
        }
        wh_log(WH_LOG_INFO, "Waiting for the database at %s: %s (attempt %u, %.0f of %g s)", where,
               wh_pg_status_text(st), attempt, waited, seconds);
        uint64_t pause = deadline - wh_monotonic_ms() < WAIT_INTERVAL_MS
                             ? deadline - wh_monotonic_ms()
                             : WAIT_INTERVAL_MS;
        sleep_ms(deadline > wh_monotonic_ms() ? pause : 0);
    }
}

/* Fills argv for `wsgihost manage ... migrate --noinput` run from `cwd`. */
static void migrate_argv(const wh_config_t *cfg, char *cwd, char **argv)
{
    size_t n = 0;
    argv[n++] = (char *)program;
    argv[n++] = "manage";
    argv[n++] = "--chdir"; /* absolute: a relative WSGIHOST_CHDIR must not apply twice */
    argv[n++] = cwd;
    for (size_t i = 0; i < cfg->pythonpath_count; i++) {
        argv[n++] = "--pythonpath";
        argv[n++] = (char *)cfg->pythonpath[i];
    }
    if (cfg->virtualenv != NULL && cfg->virtualenv[0] != '\0') {
        argv[n++] = "--virtualenv";
        argv[n++] = (char *)cfg->virtualenv;
    }
    if (cfg->app != NULL) {
        argv[n++] = "--app";
        argv[n++] = (char *)cfg->app;
    }
    argv[n++] = "migrate";
    argv[n++] = "--noinput";
    argv[n] = NULL;
}

void wh_startup_set_program(const char *path)
{
    program = path;
}

/* Runs the migration in a child process and waits for it; a stop signal is passed on. */
static int run_migration(const wh_config_t *cfg)
{
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        wh_log(WH_LOG_CRITICAL, "--migrate: cannot get the working directory: %s", strerror(errno));
        return -1;
    }
    char *argv[CHILD_ARGS_MAX];
    migrate_argv(cfg, cwd, argv);
    wh_log(WH_LOG_INFO, "Running migrations (manage migrate --noinput)");
    pid_t pid = fork();
    if (pid < 0) {
        wh_log(WH_LOG_CRITICAL, "--migrate: fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execv(program, argv);
        fprintf(stderr, "wsgihost: --migrate: cannot run %s: %s\n", program, strerror(errno));
        _exit(127);
    }
    bool forwarded = false;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            wh_log(WH_LOG_CRITICAL, "--migrate: waitpid failed: %s", strerror(errno));
            return -1;
        }
        if (interrupted && !forwarded) {
            forwarded = true;
            (void)kill(pid, SIGTERM);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        wh_log(WH_LOG_INFO, "Migrations done");
        return 0;
    }
    if (WIFSIGNALED(status))
        wh_log(WH_LOG_CRITICAL, "--migrate: the migration was killed by signal %d (%s)",
               WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        wh_log(WH_LOG_CRITICAL, "--migrate: the migration failed (exit status %d); see above",
               WEXITSTATUS(status));
    return -1;
}

static void on_lock_wait(void *ctx)
{
    wh_log(WH_LOG_INFO, "Another instance is migrating %s: waiting for its lock", (char *)ctx);
}

static int migrate(const wh_config_t *cfg, wh_db_kind_t kind, const char *conninfo)
{
    if (kind != WH_DB_POSTGRES) {
        wh_log(WH_LOG_INFO, "--migrate: no PostgreSQL configured: migrating without a lock");
        return run_migration(cfg);
    }
    char where[DESCRIBE_MAX], err[ERROR_MAX];
    wh_pg_describe(conninfo, where, sizeof(where));
    wh_pglock_t *lock =
        wh_pglock_acquire(conninfo, WH_PGLOCK_MIGRATE_KEY, on_lock_wait, where, err, sizeof(err));
    if (lock == NULL) {
        wh_log(WH_LOG_CRITICAL, "--migrate: %s", err);
        return -1;
    }
    wh_log(WH_LOG_INFO, "Took the migration lock on %s", where);
    int rc = run_migration(cfg);
    if (wh_pglock_release(lock) != 0)
        wh_log(WH_LOG_WARNING, "--migrate: releasing the lock failed (closing the session "
                               "released it)");
    return rc;
}

int wh_startup_run(const wh_config_t *cfg, char *const *envp)
{
    if (cfg->wait_for_db <= 0 && !cfg->migrate)
        return 0;
    char conninfo[WH_CONNINFO_MAX];
    wh_db_kind_t kind = wh_pgconf_from_env(envp, conninfo, sizeof(conninfo));
    if (kind == WH_DB_INVALID) {
        wh_log(WH_LOG_CRITICAL, "DATABASE_URL is longer than %d bytes", WH_CONNINFO_MAX - 1);
        return -1;
    }
    char pq_err[ERROR_MAX];
    if (kind == WH_DB_POSTGRES && wh_pq(pq_err, sizeof(pq_err)) == NULL) {
        wh_log(WH_LOG_CRITICAL, "%s: %s", cfg->wait_for_db > 0 ? "--wait-for-db" : "--migrate",
               pq_err);
        return -1;
    }
    saved_signals_t saved;
    if (catch_signals(&saved) != 0)
        return -1;
    int rc = 0;
    if (cfg->wait_for_db > 0) {
        if (kind == WH_DB_POSTGRES)
            rc = wait_for_db(conninfo, cfg->wait_for_db);
        else
            wh_log(WH_LOG_INFO, "--wait-for-db: %s: nothing to wait for",
                   kind == WH_DB_NONE ? "no DATABASE_URL (SQLite)"
                                      : "DATABASE_URL is not PostgreSQL");
    }
    if (rc == 0 && cfg->migrate && !interrupted)
        rc = migrate(cfg, kind, conninfo);
    if (interrupted && rc == 0) {
        wh_log(WH_LOG_INFO, "Stopped by a signal during start-up");
        rc = -1;
    }
    restore_signals(&saved);
    return rc;
}
