/* Configuration: defaults, then WSGIHOST_<FLAG> environment variables, then WSGIHOST_CMD_ARGS,
 * then the command line, each overriding the one before (gunicorn's order with
 * GUNICORN_CMD_ARGS). Flag names and meanings follow gunicorn where gunicorn has the flag. */
#ifndef WSGIHOST_CONFIG_H
#define WSGIHOST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { WH_CONFIG_MAX_BINDS = 16, WH_CONFIG_MAX_PYTHONPATH = 32, WH_CONFIG_MAX_STATIC = 16 };
enum { WH_CONFIG_MAX_RELOAD_FILES = 32, WH_CONFIG_MAX_ENV = 64, WH_CONFIG_MAX_NOTICES = 16 };

typedef struct {
    const char *app;
    const char *binds[WH_CONFIG_MAX_BINDS];
    size_t bind_count;
    const char *chdir;
    const char *pythonpath[WH_CONFIG_MAX_PYTHONPATH];
    size_t pythonpath_count;
    const char *virtualenv;
    int workers; /* 0: WEB_CONCURRENCY or the usable CPUs (server/proc/cpus.h) */
    int threads;
    int backlog;
    double timeout;        /* seconds a request may stay in the app before its worker is
                              retired (gunicorn's worker timeout); 0 disables */
    double queue_timeout;  /* seconds a request may wait for a Python thread before it is
                              answered 503 (load shedding); 0 disables */
    uint32_t max_requests; /* recycle a worker after this many requests; 0 never */
    uint32_t max_requests_jitter;
    bool preload; /* import the app in the master before forking */
    const char *pidfile;
    double keep_alive;       /* seconds an idle keep-alive connection stays open */
    double header_timeout;   /* seconds to receive a whole request head */
    double body_timeout;     /* seconds without progress while receiving a body */
    double receive_timeout;  /* seconds to receive a whole request, head and body; 0 never */
    double write_timeout;    /* seconds without progress while sending a response */
    double graceful_timeout; /* seconds in-flight requests get after SIGTERM */
    uint32_t limit_request_line;
    uint32_t limit_request_fields;
    uint32_t limit_request_field_size;
    uint64_t max_request_body;
    uint64_t body_buffer_size; /* bodies above this are spooled to a temporary file */
    const char *access_logfile;
    const char *error_logfile;
    const char *log_level;
    double wait_for_db;      /* --wait-for-db: seconds to wait for the database, 0 = don't */
    bool migrate;            /* run `manage migrate --noinput` before starting workers */
    const char *health_path; /* liveness probe path answered by the loop, or NULL */
    const char *ready_path;  /* readiness probe path answered by the loop, or NULL */
    double health_timeout;   /* a request in the app longer than this fails liveness; 0 never */
    double drain_delay;      /* seconds to keep serving (readiness 503) after SIGTERM */
    bool app_optional;       /* set before loading: no app is fine (the manage subcommand) */
    /* Static files (server/static/serve.h). */
    const char *statics[WH_CONFIG_MAX_STATIC]; /* "--static /prefix/=DIR" values */
    size_t static_count;
    bool no_static;          /* no static files, not even Django's STATIC_ROOT */
    bool static_fallthrough; /* unmatched paths under a static prefix go to the app */
    bool static_index;       /* directories serve index.html */
    double static_max_age;   /* Cache-Control max-age for files without a manifest hash */
    bool no_static_cors;     /* leave out Access-Control-Allow-Origin: * */
    bool serve_media;        /* serve Django's MEDIA_ROOT at MEDIA_URL too */
    /* Operations: logs, proxies, request IDs, metrics, reload (server/ops/ops.h). */
    const char *access_logformat;      /* gunicorn's atoms; NULL: the combined line */
    const char *log_format;            /* "text" (default) or "json" */
    const char *forwarded_allow_ips;   /* peers whose scheme headers count (gunicorn's) */
    const char *real_ip_header;        /* X-Forwarded-For or Forwarded: rewrite REMOTE_ADDR */
    const char *real_ip_from;          /* proxies trusted for it (NULL: forwarded_allow_ips) */
    bool proxy_protocol;               /* every connection starts with a PROXY v1/v2 header */
    const char *proxy_allow_from;      /* peers allowed to send one (gunicorn's) */
    bool request_id;                   /* X-Request-ID: keep a trusted one or make one */
    const char *metrics_bind;          /* HOST:PORT the master serves /metrics on, or NULL */
    const char *config_file;           /* -c gunicorn.conf.py */
    const char *secure_scheme_headers; /* "HEADER=VALUE,..." meaning https (gunicorn's) */
    bool reload;                       /* restart workers when the app's Python files change */
    const char *reload_extra_files[WH_CONFIG_MAX_RELOAD_FILES];
    size_t reload_extra_file_count;
    /* gunicorn's process settings. */
    const char *raw_env[WH_CONFIG_MAX_ENV]; /* -e KEY=VALUE, put into the environment */
    size_t raw_env_count;
    const char *proc_name;    /* -n: the process title */
    const char *user;         /* -u: workers run as this user (name or uid) */
    const char *group;        /* -g: and group (name or gid) */
    int umask;                /* -m: the Unix sockets' umask (gunicorn's: 0, so 0777) */
    bool initgroups;          /* the user's supplementary groups too */
    const char *worker_class; /* -k: only sync/gthread mean what wsgihost does */
    bool check_config;        /* load the app and exit 0 or 1 */
    bool print_config;        /* print the effective settings and exit */
    bool help;
    bool version;
    /* Warnings about settings that have no effect here, logged once the log is open. */
    const char *notices[WH_CONFIG_MAX_NOTICES];
    size_t notice_count;

    /* Storage for strings made while parsing (split lists, env words). */
    char *owned[128];
    size_t owned_count;
} wh_config_t;

/* Sets the defaults. */
void wh_config_init(wh_config_t *cfg);

/* Reads the environment and then argv (argv[0] is the program). On error writes one line
 * saying what is wrong and how to fix it into `err` and returns -1. */
int wh_config_load(wh_config_t *cfg, int argc, char **argv, char **envp, char *err,
                   size_t err_size);

/* Applies one setting read from a configuration file (-c) as if it were --NAME VALUE (NAME
 * without dashes, e.g. "workers"; a flag takes "1"/"0"), before wh_config_load so the
 * environment and the command line override it; a list setting given several times adds to
 * its list. The value is copied. 0, or -1 with err set. */
int wh_config_apply(wh_config_t *cfg, const char *name, const char *value, const char *source,
                    char *err, size_t err_size);

/* A module's check of the settings it owns (ops: proxy lists, the access log format), run at
 * the end of every wh_config_load: 0, or -1 with a one-line reason in err. */
typedef int (*wh_config_check_fn)(const wh_config_t *cfg, char *err, size_t err_size);
enum { WH_CONFIG_CHECKS_MAX = 8 };
/* Registers a check (once; before wh_config_load). 0, or -1 when there are too many. */
int wh_config_add_check(wh_config_check_fn fn);

/* Frees strings the config made. */
void wh_config_free(wh_config_t *cfg);

/* Writes the --help text. */
void wh_config_usage(FILE *stream);

/* Writes every setting's effective value, one "name = value" line each (--print-config). */
void wh_config_print(const wh_config_t *cfg, FILE *stream);

/* Logs the warnings collected while reading the settings (cfg->notices). */
void wh_config_log_notices(const wh_config_t *cfg);

/* One row of the options table, for the gunicorn configuration file reader: the gunicorn
 * setting `gunicorn` means wsgihost's --`name`, whose value is written as `kind` says: "value",
 * "flag" (True/False), "list" (one --name per item), "joined" (items joined by commas),
 * "dict" (KEY=VALUE joined by commas), "ignored" (no effect here: `why`) or "refused" (going on
 * would be wrong: `why`). Returns false past the last row. */
typedef struct {
    const char *gunicorn;
    const char *name;
    const char *kind;
    const char *why;
} wh_config_gunicorn_t;
bool wh_config_gunicorn_row(size_t index, wh_config_gunicorn_t *out);

/* The current value of --`name` as --print-config writes it (lists comma-joined, flags
 * true/false). False for a name without a value. */
bool wh_config_value(const wh_config_t *cfg, const char *name, char *out, size_t size);

#endif
