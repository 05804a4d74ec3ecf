/* The master process: binds nothing itself (main does, once), forks and supervises the
 * workers, and turns signals into actions, as gunicorn's arbiter does:
 *   TERM         graceful stop: workers finish in-flight requests within --graceful-timeout
 *   INT, QUIT    quick stop
 *   HUP          replace every worker: new ones start (importing the app afresh unless
 *                --preload), the old ones stop gracefully once the new ones are ready
 *   TTIN, TTOU   one worker more, one fewer
 *   USR1         reopen log files (and tell the workers to)
 *   CHLD         reap: a worker that dies is replaced (with back-off if it keeps dying); a
 *                worker that fails to boot stops the master with exit status 3; any other
 *                child (an orphan reparented to us as PID 1) is simply reaped.
 * A worker whose loop stops beating, or whose app keeps one request longer than --timeout,
 * gets its Python stacks dumped (SIGUSR2 → faulthandler), then a graceful stop, then SIGKILL.
 *
 * The master is single-threaded and runs no event loop: signals arrive through a signalfd, so
 * a forked child inherits no loop state. Python runs in the master only with --preload. */
#ifndef WSGIHOST_MASTER_H
#define WSGIHOST_MASTER_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "server/core/config.h"
#include "server/http/listen.h"
#include "server/core/scoreboard.h"

/* A worker's exit status when it could not start (the app failed to import): the master gives
 * up instead of respawning it forever. gunicorn uses the same number. */
enum { WH_EXIT_BOOT_ERROR = 3 };

typedef struct {
    /* In the master, around each fork (may be NULL). */
    void (*before_fork)(void *ctx);
    void (*after_fork_parent)(void *ctx);
    /* In the child, first thing after the fork (may be NULL). */
    void (*after_fork_child)(void *ctx);
    /* The worker's whole life, in the child: returns its exit status. `slot` is its scoreboard
     * slot. Signals are unblocked and reset to their defaults before it is called. */
    int (*worker_main)(void *ctx, int slot);
    void *ctx;
    /* Optional: descriptors the master's loop waits on beside its signals (the metrics
     * server): poll_fds fills up to `max` and returns how many; poll_done gets them back with
     * revents after every wait (also when nothing happened, for deadlines). */
    int (*poll_fds)(void *ctx, struct pollfd *fds, int max);
    void (*poll_done)(void *ctx, const struct pollfd *fds, int count);
    /* Optional (gunicorn server hooks): a worker was reaped; a HUP is starting a reload. */
    void (*worker_exited)(void *ctx, pid_t pid, int status);
    void (*reloading)(void *ctx);
} wh_master_hooks_t;

/* Extra descriptors the master polls at most (poll_fds' `max`). */
enum { WH_MASTER_EXTRA_FDS = 16 };

/* Blocks the signals the master handles, so one that arrives before wh_master_run (say, right
 * after "Listening at" is logged) waits for it instead of killing the process. 0 or -1. */
int wh_master_block_signals(void);

/* Runs the master until it stops; returns the process exit status. */
int wh_master_run(const wh_config_t *cfg, wh_listener_t *listeners, size_t listener_count,
                  wh_scoreboard_t *sb, const wh_master_hooks_t *hooks);

#endif
