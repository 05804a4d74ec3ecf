/* wsgihost: wires server/ to pyglue/. Configuration; with --preload the interpreter and the app
 * in the master; the listeners, bound once; then the master forks and supervises workers, each
 * running the app's Python threads beside its event loop (server/proc/master.h,
 * server/http/worker.h). */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <llhttp.h>
#include <uv.h>

#include "pyglue/gunicornconf.h"
#include "pyglue/pyglue.h"
#include "pyglue/reloadpy.h"
#include "server/core/config.h"
#include "server/core/errmsg.h"
#include "server/proc/cpus.h"
#include "server/http/exchange_loop.h"
#include "server/http/listen.h"
#include "server/core/log.h"
#include "server/proc/identity.h"
#include "server/proc/master.h"
#include "server/ops/metrics.h"
#include "server/ops/ops.h"
#include "server/container/probes.h"
#include "server/proc/reload.h"
#include "server/container/startup.h"
#include "server/http/worker.h"
#include "cmd/manage.h"
#include "cmd/subcommands.h"
#include "cmd/static_setup.h"

enum { EXIT_USAGE = 2 };
enum { ERROR_TEXT_MAX = 512 };
static const char CGROUP_ROOT[] = "/sys/fs/cgroup";

extern char **environ;

typedef struct {
    const wh_config_t *cfg;
    wh_py_options_t py;
    bool preloaded;
    wh_listener_t *listeners;
    size_t listener_count;
    wh_scoreboard_t *sb;
    wh_ops_t ops;                 /* access log, proxies, request IDs, metrics counters */
    wh_metrics_server_t *metrics; /* --metrics-bind, served by the master */
    wh_identity_t identity;       /* --user, --group: the workers' */
} app_t;

static wh_worker_t worker; /* big (read scratch): not on the stack */

/* The argv strings, contiguous in memory: the process title (ps) is written over them, so the
 * settings (which point into argv) are read from copies. */
static char *title_area;
static size_t title_size;

static void title_init(int argc, char **argv)
{
    title_area = argv[0];
    for (int i = 0; i < argc && argv[i] == title_area + title_size; i++)
        title_size += strlen(argv[i]) + 1;
    for (int i = 0; i < argc; i++) {
        char *copy = strdup(argv[i]); /* for the life of the process */
        if (copy == NULL) {
            title_size = 0; /* keep the originals; no title */
            return;
        }
        argv[i] = copy;
    }
}

/* Hosted (pyglue/pyglue.h), the process is `python`: --migrate runs the launcher (argv[0])
 * again, and top and pkill see "wsgihost" rather than "python". */
static void name_hosted_process(const char *launcher)
{
    wh_startup_set_program(launcher);
    if (prctl(PR_SET_NAME, "wsgihost", 0, 0, 0) != 0)
        wh_log(WH_LOG_WARNING, "cannot set the process name: %s", strerror(errno));
}

/* -n NAME: "wsgihost: master [NAME]" in ps, NAME in /proc/PID/comm (top, pkill), as
 * gunicorn's setproctitle does. */
static void set_title(const char *role, const char *name)
{
    if (name == NULL || *name == '\0')
        return;
    if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
        wh_log(WH_LOG_WARNING, "cannot set the process name: %s", strerror(errno));
    if (title_size == 0)
        return;
    memset(title_area, 0, title_size);
    snprintf(title_area, title_size, "wsgihost: %s [%s]", role, name);
}

/* The master runs Python with --preload, for a gunicorn config file's hooks (-c), and hosted
 * (the interpreter is the process's). */
static bool master_python(const app_t *app)
{
    return app->preloaded || wh_gconf_active() || wh_py_hosted();
}

static void before_fork(void *ctx)
{
    wh_gconf_worker_hook("pre_fork", 0, 0);
    if (master_python(ctx))
        wh_py_before_fork();
}

static void after_fork_parent(void *ctx)
{
    if (master_python(ctx))
        wh_py_after_fork_parent();
}

static void worker_exited(void *ctx, pid_t pid, int status)
{
    (void)ctx;
    (void)status;
    wh_gconf_worker_hook("child_exit", (long)pid, 0);
}

static void reloading(void *ctx)
{
    (void)ctx;
    wh_gconf_server_hook("on_reload");
}

static void after_fork_child(void *ctx)
{
    if (master_python(ctx))
        wh_py_after_fork_child();
    wh_metrics_server_forget(((app_t *)ctx)->metrics); /* the master's, not the worker's */
}

static int metrics_poll_fds(void *ctx, struct pollfd *fds, int max)
{
    app_t *app = ctx;
    return app->metrics ? wh_metrics_server_pollfds(app->metrics, fds, max) : 0;
}

static void metrics_poll_done(void *ctx, const struct pollfd *fds, int count)
{
    app_t *app = ctx;
    if (app->metrics)
        wh_metrics_server_handle(app->metrics, fds, count);
}

/* --reload: watch the directories of the modules just imported (GIL held, before the runner
 * threads start). */
static wh_reload_t *start_reload(wh_worker_t *w, const wh_config_t *cfg)
{
    char **dirs = NULL;
    size_t count = 0;
    if (wh_py_module_dirs(&dirs, &count) != 0)
        wh_log(WH_LOG_WARNING, "--reload: cannot list the app's modules");
    wh_reload_t *r =
        wh_reload_start(w, dirs, count, cfg->reload_extra_files, cfg->reload_extra_file_count);
    wh_py_module_dirs_free(dirs, count);
    return r;
}

/* One worker's life, in the forked child. */
static int worker_main(void *ctx, int slot_index)
{
    app_t *app = ctx;
    const wh_config_t *cfg = app->cfg;
    wh_slot_t *slot = &app->sb->slots[slot_index];
    wh_gconf_worker_hook("post_fork", (long)getpid(), slot_index);
    set_title("worker", cfg->proc_name);
    char why[ERROR_TEXT_MAX];
    if (wh_identity_apply(&app->identity, why, sizeof(why)) != 0) {
        wh_log(WH_LOG_CRITICAL, "%s", why);
        return WH_EXIT_BOOT_ERROR;
    }
    if (!app->preloaded) {
        if (wh_py_init(&app->py) != 0)
            return WH_EXIT_BOOT_ERROR;
        /* What the import built lives as long as the worker: out of the collector's sight, a
         * full collection no longer walks it (10-20 ms on a Django app, every few thousand
         * requests, the whole worker stopped). --preload froze it in the master. */
        if (wh_py_freeze() != 0)
            wh_log(WH_LOG_WARNING, "gc.freeze() failed: full collections will take longer");
    }
    wh_gconf_worker_hook("post_worker_init", (long)getpid(), slot_index);
    if (wh_py_dump_stacks_on(SIGUSR2, wh_log_error_fd()) != 0)
        wh_log(WH_LOG_WARNING, "cannot set up stack dumps for the worker timeout");
    wh_jobq_t *jobq = wh_jobq_new();
    if (jobq == NULL || wh_worker_init(&worker, cfg, app->listeners, app->listener_count, jobq,
                                       app->sb, slot_index) != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot set up the worker (out of memory?)");
        wh_jobq_free(jobq);
        return WH_EXIT_BOOT_ERROR;
    }
    wh_ops_worker_start(&app->ops, slot);
    worker.observer = wh_ops_observer(&app->ops);
    char err[ERROR_TEXT_MAX];
    wh_probes_t *probes = NULL;
    wh_static_t *statics = NULL;
    if (wh_probes_install(&worker, environ, &probes, err, sizeof(err)) != 0 ||
        wh_static_setup(&worker, cfg, slot_index == 0, &statics, err, sizeof(err)) != 0) {
        wh_log(WH_LOG_CRITICAL, "%s", err);
        wh_probes_free(probes);
        return WH_EXIT_BOOT_ERROR;
    }
    wh_reload_t *reloader = cfg->reload ? start_reload(&worker, cfg) : NULL;
    if (wh_py_start(jobq) != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot start the Python threads");
        return WH_EXIT_BOOT_ERROR;
    }
    if (cfg->threads == 0)
        worker.run_app = wh_py_run_here;
    atomic_store(&slot->state, WH_SLOT_READY);
    wh_log(WH_LOG_INFO, "Worker ready (pid: %ld)", (long)getpid());
    int loop_status = wh_worker_run(&worker);
    wh_probes_free(probes); /* the loop is done: no probe is in flight */
    wh_reload_free(reloader);
    wh_static_free(statics);
    atomic_store(&slot->state, WH_SLOT_STOPPING);
    wh_jobq_shutdown(jobq);
    if (loop_status != 0) {
        /* Requests were cut off; a runner may be stuck in the app, so don't wait for it. */
        wh_log(WH_LOG_WARNING, "worker stopped with requests in flight");
        wh_log_close();
        _exit(1);
    }
    wh_py_join();
    wh_jobq_free(jobq);
    wh_gconf_worker_hook("worker_exit", (long)getpid(), slot_index);
    return wh_py_finalize(true) == 0 ? 0 : 1; /* server/proc/master.c exits with it */
}

/* Binds every --bind address, or takes systemd's sockets (LISTEN_FDS) when it passed some. */
static int bind_all(const wh_config_t *cfg, const wh_identity_t *identity, wh_listener_t *listeners,
                    size_t *count)
{
    char err[ERROR_TEXT_MAX];
    *count = 0;
    int inherited = wh_listen_systemd(listeners, WH_CONFIG_MAX_BINDS, err, sizeof(err));
    if (inherited < 0) {
        fprintf(stderr, "wsgihost: %s\n", err);
        return -1;
    }
    if (inherited > 0) {
        *count = (size_t)inherited;
        return 0;
    }
    for (; *count < cfg->bind_count; (*count)++) {
        wh_listener_t *l = &listeners[*count];
        if (wh_listen(cfg->binds[*count], cfg->backlog, l, err, sizeof(err))) {
            fprintf(stderr, "wsgihost: %s\n", err);
            return -1;
        }
        if (l->is_unix && l->owner &&
            wh_identity_socket(identity, l->host, cfg->umask, err, sizeof(err)) != 0) {
            (*count)++; /* closed (and removed) by the caller */
            fprintf(stderr, "wsgihost: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static int serve(wh_config_t *cfg, const wh_identity_t *identity)
{
    if (cfg->chdir && chdir(cfg->chdir) != 0) {
        fprintf(stderr, "wsgihost: cannot change to --chdir %s: %s\n", cfg->chdir, strerror(errno));
        return WH_EXIT_BOOT_ERROR;
    }
    if (cfg->workers == 0)
        cfg->workers = wh_default_workers(getenv("WEB_CONCURRENCY"), CGROUP_ROOT);
    wh_gconf_describe(cfg); /* -c: the hooks' server.cfg */
    if (cfg->reload && cfg->preload)
        wh_log(WH_LOG_WARNING,
               "--reload with --preload: workers are replaced on changes, but "
               "they reuse the master's copy of the app; drop --preload to see new code");
    /* A module rewritten within a second of its last import, at the same size, looks
     * unchanged to the bytecode cache (it checks mtime in seconds and size), and a reloaded
     * worker would import the old code. --reload is for development: no bytecode cache. */
    if (cfg->reload && wh_py_skip_bytecode_cache() != 0)
        wh_log(WH_LOG_WARNING, "--reload: cannot turn the bytecode cache off");
    wh_gconf_server_hook("on_starting");
    app_t app = {
        .cfg = cfg,
        .py = {.app_spec = cfg->app,
               .pythonpath = cfg->pythonpath,
               .pythonpath_count = cfg->pythonpath_count,
               .virtualenv = cfg->virtualenv,
               .threads = cfg->threads,
               .multiprocess = cfg->workers > 1},
        .identity = *identity,
    };
    /* --wait-for-db, --migrate: before Python (if any) and before binding. */
    if (wh_startup_run(cfg, environ) != 0)
        return WH_EXIT_BOOT_ERROR;
    if (cfg->preload) {
        /* The app is imported before any socket is bound: a broken app fails here. */
        if (wh_py_init(&app.py) != 0)
            return WH_EXIT_BOOT_ERROR;
        app.preloaded = true;
        wh_py_preload_warm();
        /* A connection opened while importing must not be shared by forked workers. */
        if (wh_py_close_db_connections() != 0)
            wh_log(WH_LOG_WARNING, "closing the database connections before forking failed");
        if (wh_py_freeze() != 0)
            wh_log(WH_LOG_WARNING, "gc.freeze() failed: workers will share less memory");
    }
    /* Settings were checked by wh_config_load: only running out of memory fails here. */
    char ops_err[ERROR_TEXT_MAX];
    if (wh_ops_init(&app.ops, cfg, cfg->metrics_bind != NULL, ops_err, sizeof(ops_err)) != 0) {
        fprintf(stderr, "wsgihost: error: %s\n", ops_err);
        wh_ops_free(&app.ops);
        if (app.preloaded)
            (void)wh_py_finalize(false);
        return WH_EXIT_BOOT_ERROR;
    }
    wh_listener_t listeners[WH_CONFIG_MAX_BINDS];
    size_t bound = 0;
    int status = WH_EXIT_BOOT_ERROR;
    app.sb = wh_scoreboard_new();
    if (app.sb == NULL) {
        fprintf(stderr, "wsgihost: cannot map the scoreboard: %s\n", strerror(errno));
        goto out;
    }
    if (wh_master_block_signals() != 0 || bind_all(cfg, identity, listeners, &bound) != 0)
        goto out;
    app.listeners = listeners;
    app.listener_count = bound;
    char metrics_url[WH_ADDR_TEXT_MAX + 32] = "";
    if (cfg->metrics_bind) {
        char err[ERROR_TEXT_MAX];
        wh_listener_t ml;
        if (wh_listen(cfg->metrics_bind, cfg->backlog, &ml, err, sizeof(err)) != 0) {
            fprintf(stderr, "wsgihost: --metrics-bind: %s\n", err);
            goto out;
        }
        snprintf(metrics_url, sizeof(metrics_url), "%s", ml.display);
        app.metrics = wh_metrics_server_new(&ml, app.sb);
        if (app.metrics == NULL) {
            wh_listener_close(&ml);
            goto out;
        }
    }
    wh_log(WH_LOG_INFO, "Starting wsgihost %s", WSGIHOST_VERSION);
    for (size_t i = 0; i < bound; i++)
        wh_log(WH_LOG_INFO, "Listening at: %s (%ld)", listeners[i].display, (long)getpid());
    if (app.metrics)
        wh_log(WH_LOG_INFO, "Metrics at: %s/metrics", metrics_url);
    wh_log(WH_LOG_INFO, "Serving %s: %d worker(s), %d thread(s) each%s", cfg->app, cfg->workers,
           cfg->threads, cfg->preload ? ", preloaded" : "");
    wh_master_hooks_t hooks = {.before_fork = before_fork,
                               .after_fork_parent = after_fork_parent,
                               .after_fork_child = after_fork_child,
                               .worker_main = worker_main,
                               .ctx = &app,
                               .poll_fds = metrics_poll_fds,
                               .poll_done = metrics_poll_done,
                               .worker_exited = worker_exited,
                               .reloading = reloading};
    wh_gconf_server_hook("when_ready");
    status = wh_master_run(cfg, listeners, bound, app.sb, &hooks);
    wh_gconf_server_hook("on_exit");
out:
    for (size_t i = 0; i < bound; i++)
        wh_listener_close(&listeners[i]);
    wh_metrics_server_free(app.metrics);
    wh_ops_free(&app.ops);
    wh_scoreboard_free(app.sb);
    if (app.preloaded && wh_py_finalize(false) != 0 && status == 0)
        status = 1;
    return status;
}

/* `wsgihost NAME ARGS...` runs a subcommand instead of serving. Each gets argv from NAME on
 * and returns the exit status. */
typedef struct {
    const char *name;
    int (*main)(int argc, char **argv);
} subcommand_t;

static const subcommand_t subcommands[] = {
    {"manage", wh_manage_main},
    {"healthcheck", wh_healthcheck_main},
    {"compress-static", wh_compress_static_main},
    {NULL, NULL}, /* (add entries above this line) */
};

/* gunicorn reads ./gunicorn.conf.py when no -c is given: so does wsgihost. */
static const char DEFAULT_CONFIG_FILE[] = "gunicorn.conf.py";

/* -c FILE: the file's settings under the environment's and the command line's (which are
 * read again over them). The interpreter started for it stays for the hooks. */
static int read_config_file(wh_config_t *cfg, int argc, char **argv, char *err, size_t err_size)
{
    wh_py_options_t boot = {.app_spec = cfg->app,
                            .pythonpath = cfg->pythonpath,
                            .pythonpath_count = cfg->pythonpath_count,
                            .virtualenv = cfg->virtualenv,
                            .threads = 1};
    wh_config_t merged;
    wh_config_init(&merged);
    if (wh_gconf_load(cfg->config_file, &boot, &merged, err, err_size) != 0 ||
        wh_config_load(&merged, argc, argv, environ, err, err_size) != 0) {
        wh_config_free(&merged);
        return -1;
    }
    wh_config_free(cfg);
    *cfg = merged;
    return 0;
}

/* --env KEY=VALUE (checked by wh_config_load), into the environment the app sees. */
static int set_env(const wh_config_t *cfg, char *err, size_t err_size)
{
    for (size_t i = 0; i < cfg->raw_env_count; i++) {
        const char *entry = cfg->raw_env[i], *eq = strchr(entry, '=');
        char key[ERROR_TEXT_MAX];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - entry), entry);
        if (wh_gconf_setenv(key, eq + 1) != 0)
            return wh_errorf(err, err_size, "--env: cannot set %s: %s", key, strerror(errno));
    }
    return 0;
}

/* --check-config: the settings were read; load the app as a worker would. 0 or 1. */
static int check_config(const wh_config_t *cfg)
{
    if (cfg->chdir && chdir(cfg->chdir) != 0) {
        fprintf(stderr, "wsgihost: cannot change to --chdir %s: %s\n", cfg->chdir, strerror(errno));
        return 1;
    }
    wh_py_options_t py = {.app_spec = cfg->app,
                          .pythonpath = cfg->pythonpath,
                          .pythonpath_count = cfg->pythonpath_count,
                          .virtualenv = cfg->virtualenv,
                          .threads = cfg->threads};
    if (wh_py_init(&py) != 0)
        return 1;
    wh_log(WH_LOG_INFO, "--check-config: the settings and the app %s load", cfg->app);
    return wh_py_finalize(false) == 0 ? 0 : 1;
}

/* A response's buffers are allocated on a Python thread and freed on the loop thread. With
 * glibc's default trim threshold (128 KiB) the Python thread's heap handed its top pages back to
 * the kernel and faulted them in again about every other request (hello world: 0.49 minor page
 * faults a request; none with these). Allocations below MALLOC_MMAP_THRESHOLD come from the
 * heap, where glibc's own sliding threshold settles once it has seen such blocks, and a heap
 * keeps up to MALLOC_TRIM_THRESHOLD free before giving memory back. */
enum { MALLOC_MMAP_THRESHOLD = 4 * 1024 * 1024, MALLOC_TRIM_THRESHOLD = 2 * MALLOC_MMAP_THRESHOLD };

static void tune_malloc(void)
{
#ifdef M_TRIM_THRESHOLD
    /* An optimisation only: where mallopt refuses (a sanitizer's allocator), the defaults stay. */
    if (mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD) == 1)
        (void)mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD);
#endif
}

int main(int argc, char **argv)
{
    tune_malloc();
    /* Writes to a closed socket report EPIPE instead of killing the process. */
    signal(SIGPIPE, SIG_IGN);
    /* A write past RLIMIT_FSIZE (ulimit -f) reports EFBIG, so a spooled body gets a 503,
     * instead of killing the worker and its requests in flight (CPython ignores it too). */
    signal(SIGXFSZ, SIG_IGN);
    /* ops checks its own settings (proxy lists, the access log format) when they are loaded. */
    if (wh_config_add_check(wh_ops_check_config) != 0)
        return EXIT_USAGE;
    for (const subcommand_t *sub = subcommands; argc > 1 && sub->name; sub++) {
        if (strcmp(argv[1], sub->name) == 0)
            return sub->main(argc - 1, argv + 1);
    }
    /* Hosted, argv is not the process's: its command line belongs to python. */
    if (wh_py_hosted())
        name_hosted_process(argv[0]);
    else
        title_init(argc, argv);
    wh_config_t cfg;
    wh_config_init(&cfg);
    cfg.app_optional = true; /* a config file (-c) may name it */
    char err[ERROR_TEXT_MAX];
    int loaded = wh_config_load(&cfg, argc, argv, environ, err, sizeof(err));
    if (loaded == 0 && cfg.config_file == NULL && access(DEFAULT_CONFIG_FILE, F_OK) == 0)
        cfg.config_file = DEFAULT_CONFIG_FILE;
    /* JSON from the first line on, the config file's warnings included. */
    wh_log_set_json(loaded == 0 && cfg.log_format && strcmp(cfg.log_format, "json") == 0);
    if (loaded != 0 || (cfg.config_file && !cfg.help && !cfg.version &&
                        read_config_file(&cfg, argc, argv, err, sizeof(err)) != 0)) {
        fprintf(stderr, "wsgihost: error: %s\n", err);
        wh_config_free(&cfg);
        (void)wh_gconf_finish();
        return EXIT_USAGE;
    }
    if (!cfg.help && !cfg.version && (cfg.app == NULL || *cfg.app == '\0')) {
        fprintf(stderr, "wsgihost: error: no application given: wsgihost --app "
                        "MODULE[:CALLABLE] (for example wsgihost recipes.wsgi)\n");
        wh_config_free(&cfg);
        return EXIT_USAGE;
    }
    wh_identity_t identity;
    if (!cfg.help && !cfg.version &&
        (set_env(&cfg, err, sizeof(err)) != 0 ||
         wh_identity_resolve(&identity, cfg.user, cfg.group, cfg.initgroups, err, sizeof(err)) !=
             0)) {
        fprintf(stderr, "wsgihost: error: %s\n", err);
        wh_config_free(&cfg);
        (void)wh_gconf_finish();
        return EXIT_USAGE;
    }
    if (cfg.print_config) {
        if (cfg.workers == 0)
            cfg.workers = wh_default_workers(getenv("WEB_CONCURRENCY"), CGROUP_ROOT);
        wh_config_log_notices(&cfg);
        wh_config_print(&cfg, stdout);
        wh_config_free(&cfg);
        return wh_gconf_finish() == 0 ? 0 : 1;
    }
    if (cfg.help || cfg.version) {
        if (cfg.help)
            wh_config_usage(stdout);
        else
            printf("wsgihost %s (Python %s, libuv %s, llhttp %d.%d.%d)\n", WSGIHOST_VERSION,
                   wh_py_version(), uv_version_string(), LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR,
                   LLHTTP_VERSION_PATCH);
        wh_config_free(&cfg);
        return 0;
    }
    /* A virtualenv for another Python is a usage error, found before anything starts. */
    if (wh_py_check_virtualenv(cfg.virtualenv) != 0) {
        wh_config_free(&cfg);
        return EXIT_USAGE;
    }
    if (wh_log_open(cfg.error_logfile, cfg.access_logfile,
                    (wh_log_level_t)wh_log_level_parse(cfg.log_level)) != 0) {
        fprintf(stderr, "wsgihost: cannot open the log file: %s\n", strerror(errno));
        wh_config_free(&cfg);
        return EXIT_USAGE;
    }
    wh_log_set_json(cfg.log_format && strcmp(cfg.log_format, "json") == 0);
    wh_config_log_notices(&cfg);
    set_title("master", cfg.proc_name);
    int status = cfg.check_config ? check_config(&cfg) : serve(&cfg, &identity);
    if (wh_gconf_finish() != 0 && status == 0)
        status = 1;
    wh_log_close();
    wh_config_free(&cfg);
    return status;
}
