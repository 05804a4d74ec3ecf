/* gunicorn configuration files: `wsgihost -c gunicorn.conf.py`.
 *
 * Design: the file is Python, and its server hooks (on_starting, when_ready, on_reload,
 * on_exit, pre_fork, child_exit) run in the master, so with -c the master starts an
 * interpreter before anything else (wh_py_boot: the same PyConfig, --virtualenv and
 * --pythonpath as the workers), executes the file with runpy.run_path as gunicorn does, and
 * keeps the interpreter (not the app: that is still imported in each worker after the fork,
 * unless --preload) for the hooks. Workers inherit the interpreter through fork
 * (PyOS_BeforeFork/AfterFork, as with --preload) and import the app into it; post_fork,
 * post_worker_init and worker_exit run there. Without -c the master stays free of Python.
 *
 * Settings the file assigns become wsgihost options applied before the environment and the
 * command line (precedence: flags > WSGIHOST_CMD_ARGS > WSGIHOST_<FLAG> > file > defaults).
 * gunicorn settings with no wsgihost equivalent are named in a warning; names that are not
 * gunicorn settings (imports, helpers) are ignored, as gunicorn ignores them. An exception in
 * a hook is logged with its traceback and the server carries on.
 *
 * All calls from the process's main thread. */
#ifndef WSGIHOST_GUNICORNCONF_H
#define WSGIHOST_GUNICORNCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "pyglue/pyglue.h"
#include "server/core/config.h"

/* Starts the interpreter (with `boot`'s virtualenv and pythonpath), runs the file and applies
 * its settings to `cfg` (fresh from wh_config_init, before wh_config_load). `path` may be
 * python:MODULE. 0, or -1 with a one-line reason in err (with a traceback printed when the
 * file itself raised). */
int wh_gconf_load(const char *path, const wh_py_options_t *boot, wh_config_t *cfg, char *err,
                  size_t err_size);

/* Sets an environment variable (--env, raw_env) in the process and, once Python runs, in
 * os.environ. 0, or -1. */
int wh_gconf_setenv(const char *key, const char *value);

/* True once a file was loaded (the hooks below then do something). */
bool wh_gconf_active(void);

/* Gives the hooks' `server` object the final settings (server.cfg.workers, .bind, ...). */
void wh_gconf_describe(const wh_config_t *cfg);

/* Server hooks, called with the server object: "on_starting", "when_ready", "on_reload",
 * "on_exit". */
void wh_gconf_server_hook(const char *name);

/* Worker hooks: "pre_fork" and "child_exit" (master), "post_fork", "post_worker_init" and
 * "worker_exit" (in the worker), called with (server, worker) except post_worker_init
 * (worker). `pid` is the worker's (0 before the fork), `age` its number. */
void wh_gconf_worker_hook(const char *name, long pid, int age);

/* At the master's exit: finalizes the interpreter the file needed (unless --preload's
 * wh_py_finalize already did). Returns Py_FinalizeEx's status. */
int wh_gconf_finish(void);

#endif
