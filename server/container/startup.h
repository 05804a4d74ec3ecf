/* Start-up tasks the master runs before it binds and forks (replacing a container's
 * entrypoint.sh, which a distroless image cannot run):
 *   --wait-for-db[=SECONDS]  poll PostgreSQL with PQping until it accepts connections, logging
 *                            progress; fail with a clear message at the deadline. Without a
 *                            PostgreSQL configuration (SQLite) it only logs that.
 *   --migrate                run `wsgihost manage migrate --noinput` in a child process (the
 *                            same binary, same --chdir/--pythonpath/--virtualenv/--app), under
 *                            a PostgreSQL advisory lock when PostgreSQL is configured, so
 *                            replicas starting together migrate one at a time.
 * The master keeps no database connection afterwards: the lock's session is closed before
 * returning, and the migration ran in another process. */
#ifndef WSGIHOST_STARTUP_H
#define WSGIHOST_STARTUP_H

#include "server/core/config.h"

/* The program --migrate runs: /proc/self/exe unless set. A hosted wsgihost (pyglue/pyglue.h)
 * sets its launcher, since /proc/self/exe is then `python`. path must outlive the start-up. */
void wh_startup_set_program(const char *path);

/* Runs the tasks cfg asks for; the working directory is already --chdir. 0, or -1 (logged). */
int wh_startup_run(const wh_config_t *cfg, char *const *envp);

#endif
