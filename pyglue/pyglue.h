/* pyglue: the application runner built on embedded CPython. The only module that includes
 * Python.h; cmd/main.c wires it to the worker through the job queue of server/http/exchange.h.
 *
 * Lifecycle, all from the process's main thread:
 *   wh_py_init      start the interpreter (PyConfig, like `python` would: PYTHONPATH, site,
 *                   sitecustomize, a real sys.executable, an optional virtualenv) and import
 *                   the app; on failure print a clear error (with the Python traceback) to
 *                   stderr and return -1 having bound nothing.
 *   wh_py_start     start `threads` runner threads that pop exchanges from the queue, call the
 *                   app with the GIL held, and feed the response back. The main thread releases
 *                   the GIL here and never takes it again until wh_py_finalize. On failure
 *                   (-1, logged) the runners already started are running: shut the queue
 *                   down and call wh_py_join before freeing it, as after a normal run.
 *                   With threads 0 none is started: the loop thread calls wh_py_run_here
 *                   for each request instead, taking the GIL for the app's call.
 *   wh_py_join      after wh_jobq_shutdown: waits for every runner thread to finish.
 *   wh_py_finalize  runs atexit handlers and Py_FinalizeEx; returns its status.
 * The loop thread never calls into pyglue, except wh_py_run_here with threads 0.
 *
 * Hosted (wh_py_set_hosted, by pyglue/hosted.c before the program's main runs): wsgihost runs
 * inside a `python` process, the pip build's way on an interpreter with no libpython of the
 * same build beside it (cmd/launcher.c). The interpreter is then already started, its
 * virtualenv chosen, and the main thread holds the GIL: wh_py_init and wh_py_boot only import
 * and set sys.path, and the master runs Python as with --preload (fork hooks). Only a process
 * that exits without returning to the host (a worker) finalizes the interpreter. */
#ifndef WSGIHOST_PYGLUE_H
#define WSGIHOST_PYGLUE_H

#include <stdbool.h>
#include <stddef.h>
#include "server/http/exchange.h"

typedef struct {
    const char *app_spec;          /* "package.module[:callable]", callable default application */
    const char *const *pythonpath; /* extra sys.path entries, put first, in order */
    size_t pythonpath_count;
    const char *virtualenv; /* a venv directory, or NULL */
    int threads;            /* runner threads; 0: the loop thread runs the app */
    bool multiprocess;      /* wsgi.multiprocess */
} wh_py_options_t;

int wh_py_init(const wh_py_options_t *opts);

void wh_py_set_hosted(void);
bool wh_py_hosted(void);

/* --reload: no bytecode cache for the modules imported from here on, in the interpreter
 * running now (if any) and in those started later. 0, or -1 (errno set when from setenv). */
int wh_py_skip_bytecode_cache(void);

/* The interpreter to start when no --virtualenv is given (PyConfig's program_name), chosen by
 * the pip build's launcher (cmd/launcher.c). Without it: the virtualenv wsgihost is installed
 * in, else the Python it was built with (pyglue/pyhome.h). */
void wh_py_set_executable(const char *path);

/* Before starting: 0 when the virtualenv wsgihost would run in (the one given, else the one it
 * is installed in) is one for the Python it embeds, or when there is none; else -1, printed
 * (naming both versions when they differ). */
int wh_py_check_virtualenv(const char *virtualenv);

/* The version of the Python headers wsgihost was built with ("3.11.2"). */
const char *wh_py_version(void);

/* Starts the interpreter and sets sys.path as wh_py_init does, without importing the app
 * (for pyglue/manage.c). -1 (printed) on failure. */
int wh_py_boot(const wh_py_options_t *opts);

/* Py_FinalizeEx for a caller that returns (pyglue's own: manage, the config file); hosted, 0
 * and nothing done: the host finalizes its interpreter when wsgihost returns to it. */
int wh_py_release(void);

/* `wsgihost manage ARGS...` (pyglue/manage.c): Django's management command line in this
 * process, with stdin/stdout/stderr as they are. The settings come from DJANGO_SETTINGS_MODULE,
 * else from importing opts->app_spec's module (as recipes/wsgi.py sets it). Returns the exit
 * status (SystemExit codes honoured) after finalizing Python. */
int wh_py_manage(const wh_py_options_t *opts, int argc, char **argv);

/* With --preload, before forking: closes Django's database connections (when Django is
 * loaded) so no worker inherits one. 0, or -1 (printed). */
int wh_py_close_db_connections(void);

/* Django's static and media settings (pyglue/django.c): the URLs as local prefixes ("/static/";
 * NULL when unset or a full URL such as a CDN's) and the directories (NULL when unset). The
 * static ones come from the staticfiles storage when it is a local one (STORAGES' OPTIONS and
 * subclasses may move it), else from STATIC_URL and STATIC_ROOT. */
typedef struct {
    char *static_url;
    char *static_root;
    char *media_url;
    char *media_root;
    char *manifest; /* ManifestStaticFilesStorage's manifest (a subclass may rename it), or NULL */
} wh_django_paths_t;

/* After wh_py_init, before wh_py_start: 1 when the app configured Django's settings (fields
 * filled, free with wh_django_paths_free), 0 when it is not a Django app. */
int wh_py_django_paths(wh_django_paths_t *out);
void wh_django_paths_free(wh_django_paths_t *p);

/* --preload, before forking: builds a Django app's lazy caches (URL resolver, translations,
 * every template its cached loaders find) so the workers share them (pyglue/py/preload.py).
 * Does nothing for other apps; never fails the start (what it did or skipped is logged). */
void wh_py_preload_warm(void);

/* Forking a process that runs Python (--preload): the master calls before_fork and
 * after_fork_parent around fork(), the child after_fork_child first thing. wh_py_freeze runs
 * gc.freeze() once the app is imported (in the master with --preload, so workers share its
 * memory copy-on-write; else in each worker), so full collections no longer walk it. */
void wh_py_before_fork(void);
void wh_py_after_fork_parent(void);
void wh_py_after_fork_child(void);
int wh_py_freeze(void);

/* Makes `signum` write every Python thread's stack to `fd` (faulthandler), for the worker
 * timeout. Call before wh_py_start. */
int wh_py_dump_stacks_on(int signum, int fd);
int wh_py_start(wh_jobq_t *queue);
/* threads 0, on the thread that called wh_py_start (the loop): runs the app for one exchange,
 * to its wh_exchange_finish, with the GIL taken for the call. */
void wh_py_run_here(wh_exchange_t *ex);
void wh_py_join(void);
/* process_exits: the caller exits next without returning to a host (a worker), so a hosted
 * interpreter is finalized too. */
int wh_py_finalize(bool process_exits);

#endif
