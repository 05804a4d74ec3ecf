#include "server/core/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/core/errmsg.h"
#include "server/core/log.h"

/* Why some defaults are what they are:
 * - --keep-alive 75: longer than the idle timeouts of the load balancers in front (AWS ALB and
 *   nginx 60 s), so the balancer, not wsgihost, closes idle connections and never reuses one we
 *   just closed: gunicorn's 2 s default is a known source of random 502s. nginx's is 75 s too.
 * - --health-timeout 30: as long as gunicorn's worker timeout, and independent of --timeout.
 * - --static-max-age 60: whitenoise's, short, as these names do not change.
 * - --forwarded-allow-ips, --proxy-allow-from: gunicorn's (22+) defaults; gunicorn also takes
 *   the former from $FORWARDED_ALLOW_IPS.
 * - --receive-timeout 300: a ceiling, so a body trickled just inside --body-timeout cannot
 *   hold a connection forever; long enough for a 100 MB body (the default limit) at 3 Mbit/s.
 * - --secure-scheme-headers: gunicorn's default. */
#define DEFAULT_TRUSTED_PROXIES "127.0.0.1,::1"
/* --wait-for-db without a value: long enough for a database container started alongside. */
#define DEFAULT_WAIT_FOR_DB "60"

typedef enum {
    OPT_STRING,
    OPT_LIST,         /* repeatable: each value one item */
    OPT_PATHS,        /* repeatable: each value a comma-separated list of items */
    OPT_INT,          /* int field, bounds min..max */
    OPT_U32,          /* uint32_t field, bounds min..max */
    OPT_MODE,         /* int field, C notation: 022 octal, 0x12 hex */
    OPT_SIZE,         /* uint64_t bytes, K/M/G suffixes */
    OPT_SECONDS,      /* double */
    OPT_FLAG,         /* bool, no value */
    OPT_FLAG_SECONDS, /* --name alone (its `implied` value) or --name=SECONDS */
    OPT_IGNORED,      /* gunicorn's, no effect here: accepted with a warning (`help` says why) */
    OPT_IGNORED_FLAG, /* the same, for a flag that takes no value */
    OPT_REFUSED,      /* gunicorn's, going on would be wrong: exit 2 (`help` says why) */
    OPT_REFUSED_FLAG,
} opt_type_t;

/* One row per setting: everything about a flag is here, and the parser, --help, the
 * WSGIHOST_<NAME> variables, --print-config and the gunicorn configuration file's mapping
 * (pyglue/py/gunicornconf.py) are derived from it. */
typedef struct {
    const char *name;  /* --name */
    const char *alias; /* another accepted spelling (-x or --other), or NULL */
    opt_type_t type;
    size_t offset;       /* the field in wh_config_t */
    size_t count_offset; /* OPT_LIST, OPT_PATHS: the item count (size_t) */
    long min, max;       /* OPT_INT, OPT_U32: bounds; lists: most items */
    const char *def;     /* the default, parsed as if given; NULL: none (or help says) */
    const char *implied; /* OPT_FLAG_SECONDS: the value of the bare flag */
    const char *metavar;
    const char *help;     /* for OPT_IGNORED/OPT_REFUSED: the reason */
    const char *gunicorn; /* gunicorn's setting with this meaning, or NULL */
    const char *env;      /* NULL: WSGIHOST_<NAME>; ENV_NONE: not read from the environment */
} option_t;

/* For flags whose WSGIHOST_<NAME> could well be an app's own variable (WSGIHOST_ENV). */
static const char ENV_NONE[] = "";

#define OFF(field) offsetof(wh_config_t, field)
#define LIST(field, count, most) OFF(field), OFF(count), 0, (most)
#define NUM(field, lo, hi) OFF(field), 0, (lo), (hi)
#define FIELD(field) OFF(field), 0, 0, 0
#define NOFIELD 0, 0, 0, 0
#define SYSLOG_WHY "logs go to files or stdout/stderr for the runtime to ship"
#define LOGCONFIG_WHY "use --log-format json for structured logs"
#define STRICT_WHY "requests are parsed by RFC 9112's strict rules, always"
#define TLS_WHY                                                                                    \
    "wsgihost serves plain HTTP only: terminate TLS in front (a load balancer, nginx, the "        \
    "platform's router) and remove this flag"

static const option_t options[] = {
    {"app", NULL, OPT_STRING, FIELD(app), NULL, NULL, "MODULE[:CALLABLE]",
     "the WSGI application (also the first positional argument); CALLABLE defaults to "
     "application, and may be a factory call: create_app() or create_app('arg')",
     "wsgi_app", NULL},
    {"bind", "b", OPT_LIST, LIST(binds, bind_count, WH_CONFIG_MAX_BINDS), NULL, NULL, "ADDRESS",
     "HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N to listen on; repeatable (default "
     "127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set)",
     "bind", NULL},
    {"chdir", NULL, OPT_STRING, FIELD(chdir), NULL, NULL, "DIR",
     "change to DIR before loading the app", "chdir", NULL},
    {"pythonpath", NULL, OPT_PATHS, LIST(pythonpath, pythonpath_count, WH_CONFIG_MAX_PYTHONPATH),
     NULL, NULL, "DIR[,DIR]", "directories to put first on sys.path", "pythonpath", NULL},
    {"virtualenv", NULL, OPT_STRING, FIELD(virtualenv), NULL, NULL, "DIR",
     "a virtual environment to run in (default $VIRTUAL_ENV)", NULL, NULL},
    {"workers", "w", OPT_INT, NUM(workers, 1, INT32_MAX), NULL, NULL, "N",
     "worker processes (default $WEB_CONCURRENCY, else the CPUs this container may use)", "workers",
     NULL},
    {"threads", NULL, OPT_INT, NUM(threads, 0, INT32_MAX), "2", NULL, "N",
     "Python threads running the app (2: one runs while the other waits on the database; 0: "
     "the event loop runs it, one request at a time)",
     "threads", NULL},
    {"timeout", "t", OPT_SECONDS, FIELD(timeout), "30", NULL, "SECONDS",
     "a request in the app longer than this retires its worker, 0 never", "timeout", NULL},
    {"queue-timeout", NULL, OPT_SECONDS, FIELD(queue_timeout), "0", NULL, "SECONDS",
     "a request that waited longer than this for a Python thread gets a quick 503 with "
     "Retry-After instead of running late, 0 never",
     NULL, NULL},
    {"max-requests", NULL, OPT_U32, NUM(max_requests, 0, INT32_MAX), "0", NULL, "N",
     "recycle a worker after N requests, 0 never", "max_requests", NULL},
    {"max-requests-jitter", NULL, OPT_U32, NUM(max_requests_jitter, 0, INT32_MAX), "0", NULL, "N",
     "add up to N at random to --max-requests per worker", "max_requests_jitter", NULL},
    {"preload", NULL, OPT_FLAG, FIELD(preload), NULL, NULL, NULL,
     "import the app in the master before forking (workers share its memory)", "preload_app", NULL},
    {"pid", "p", OPT_STRING, FIELD(pidfile), NULL, NULL, "FILE", "write the master's PID to FILE",
     "pidfile", NULL},
    {"backlog", NULL, OPT_INT, NUM(backlog, 1, INT32_MAX), "2048", NULL, "N", "listen backlog",
     "backlog", NULL},
    {"keep-alive", NULL, OPT_SECONDS, FIELD(keep_alive), "75", NULL, "SECONDS",
     "idle keep-alive timeout (longer than load balancers' 60)", "keepalive", NULL},
    {"header-timeout", NULL, OPT_SECONDS, FIELD(header_timeout), "30", NULL, "SECONDS",
     "time to receive a request head", NULL, NULL},
    {"receive-timeout", NULL, OPT_SECONDS, FIELD(receive_timeout), "300", NULL, "SECONDS",
     "time to receive a whole request, head and body, 0 for no limit", NULL, NULL},
    {"body-timeout", NULL, OPT_SECONDS, FIELD(body_timeout), "60", NULL, "SECONDS",
     "time without progress receiving a body", NULL, NULL},
    {"write-timeout", NULL, OPT_SECONDS, FIELD(write_timeout), "60", NULL, "SECONDS",
     "time without progress sending a response", NULL, NULL},
    {"graceful-timeout", NULL, OPT_SECONDS, FIELD(graceful_timeout), "30", NULL, "SECONDS",
     "time in-flight requests get after SIGTERM", "graceful_timeout", NULL},
    {"limit-request-line", NULL, OPT_U32, NUM(limit_request_line, 0, INT32_MAX), "4094", NULL,
     "BYTES", "maximum request line size, 0 for no limit", "limit_request_line", NULL},
    {"limit-request-fields", NULL, OPT_U32, NUM(limit_request_fields, 0, INT32_MAX), "100", NULL,
     "N", "maximum number of header fields, 0 for no limit", "limit_request_fields", NULL},
    {"limit-request-field_size", "limit-request-field-size", OPT_U32,
     NUM(limit_request_field_size, 0, INT32_MAX), "8190", NULL, "BYTES",
     "maximum size of one header field, 0 for no limit", "limit_request_field_size", NULL},
    {"max-request-body", NULL, OPT_SIZE, FIELD(max_request_body), "100M", NULL, "BYTES",
     "maximum request body, 0 for no limit", NULL, NULL},
    {"body-buffer-size", NULL, OPT_SIZE, FIELD(body_buffer_size), "1M", NULL, "BYTES",
     "bodies above this are spooled to a temporary file", NULL, NULL},
    {"access-logfile", NULL, OPT_STRING, FIELD(access_logfile), NULL, NULL, "PATH",
     "access log file, - for stdout (default none)", "accesslog", NULL},
    {"error-logfile", "log-file", OPT_STRING, FIELD(error_logfile), "-", NULL, "PATH",
     "error log file, - for stderr", "errorlog", NULL},
    {"log-level", NULL, OPT_STRING, FIELD(log_level), "info", NULL, "LEVEL",
     "debug, info, warning, error or critical", "loglevel", NULL},
    {"wait-for-db", NULL, OPT_FLAG_SECONDS, FIELD(wait_for_db), NULL, DEFAULT_WAIT_FOR_DB,
     "[=SECONDS]",
     "before serving, wait until the database (DATABASE_URL or PG*) accepts connections "
     "(default 60 s)",
     NULL, NULL},
    {"migrate", NULL, OPT_FLAG, FIELD(migrate), NULL, NULL, NULL,
     "before serving, run `manage migrate --noinput` (under a PostgreSQL advisory lock)", NULL,
     NULL},
    {"health-path", NULL, OPT_STRING, FIELD(health_path), NULL, NULL, "PATH",
     "liveness probe answered by the event loop, e.g. /healthz", NULL, NULL},
    {"ready-path", NULL, OPT_STRING, FIELD(ready_path), NULL, NULL, "PATH",
     "readiness probe (checks PostgreSQL when configured), e.g. /readyz", NULL, NULL},
    {"health-timeout", NULL, OPT_SECONDS, FIELD(health_timeout), "30", NULL, "SECONDS",
     "liveness fails while a request has been in the app longer than this, 0 never", NULL, NULL},
    {"drain-delay", NULL, OPT_SECONDS, FIELD(drain_delay), "0", NULL, "SECONDS",
     "after SIGTERM keep serving this long with readiness failing", NULL, NULL},
    {"static", NULL, OPT_LIST, LIST(statics, static_count, WH_CONFIG_MAX_STATIC), NULL, NULL,
     "/PREFIX/=DIR",
     "serve the files of DIR at /PREFIX/ from the event loop; repeatable (Django's "
     "STATIC_URL and STATIC_ROOT are served without it)",
     NULL, NULL},
    {"no-static", NULL, OPT_FLAG, FIELD(no_static), NULL, NULL, NULL,
     "serve no static files, not even Django's STATIC_ROOT", NULL, NULL},
    {"static-fallthrough", NULL, OPT_FLAG, FIELD(static_fallthrough), NULL, NULL, NULL,
     "requests under a static prefix that match no file go to the app (default 404)", NULL, NULL},
    {"static-index", NULL, OPT_FLAG, FIELD(static_index), NULL, NULL, NULL,
     "a static directory serves its index.html", NULL, NULL},
    {"static-max-age", NULL, OPT_SECONDS, FIELD(static_max_age), "60", NULL, "SECONDS",
     "Cache-Control max-age of static files without a manifest hash", NULL, NULL},
    {"no-static-cors", NULL, OPT_FLAG, FIELD(no_static_cors), NULL, NULL, NULL,
     "leave out Access-Control-Allow-Origin: * on static files", NULL, NULL},
    {"serve-media", NULL, OPT_FLAG, FIELD(serve_media), NULL, NULL, NULL,
     "serve Django's MEDIA_ROOT at MEDIA_URL too (uploads: nosniff, risky types as "
     "attachments)",
     NULL, NULL},
    {"access-logformat", NULL, OPT_STRING, FIELD(access_logformat), NULL, NULL, "FORMAT",
     "gunicorn's access log format, e.g. '%(h)s \"%(r)s\" %(s)s %(D)s' (default: the combined "
     "line)",
     "access_log_format", NULL},
    {"log-format", NULL, OPT_STRING, FIELD(log_format), "text", NULL, "text|json",
     "json: one JSON object per line in the access and error logs", NULL, NULL},
    {"forwarded-allow-ips", NULL, OPT_STRING, FIELD(forwarded_allow_ips), NULL, NULL, "CIDRS",
     "proxies whose --secure-scheme-headers set wsgi.url_scheme, '*' for all "
     "(default $FORWARDED_ALLOW_IPS or " DEFAULT_TRUSTED_PROXIES ")",
     "forwarded_allow_ips", NULL},
    {"secure-scheme-headers", NULL, OPT_STRING, FIELD(secure_scheme_headers),
     "X-Forwarded-Protocol=ssl,X-Forwarded-Proto=https,X-Forwarded-Ssl=on", NULL,
     "HEADER=VALUE[,...]", "headers (from --forwarded-allow-ips) whose value means https",
     "secure_scheme_headers", NULL},
    {"real-ip-header", NULL, OPT_STRING, FIELD(real_ip_header), NULL, NULL, "HEADER",
     "X-Forwarded-For or Forwarded: REMOTE_ADDR becomes the right-most address not in "
     "--real-ip-from",
     NULL, NULL},
    {"real-ip-from", NULL, OPT_STRING, FIELD(real_ip_from), NULL, NULL, "CIDRS",
     "proxies trusted for --real-ip-header (default --forwarded-allow-ips)", NULL, NULL},
    {"proxy-protocol", NULL, OPT_FLAG, FIELD(proxy_protocol), NULL, NULL, NULL,
     "every connection starts with a PROXY protocol v1 or v2 header (all binds)", "proxy_protocol",
     NULL},
    {"proxy-allow-from", NULL, OPT_STRING, FIELD(proxy_allow_from), DEFAULT_TRUSTED_PROXIES, NULL,
     "CIDRS", "peers allowed to send PROXY headers, '*' for all", "proxy_allow_ips", NULL},
    {"request-id", NULL, OPT_FLAG, FIELD(request_id), NULL, NULL, NULL,
     "give each request an X-Request-ID (kept from trusted proxies, else made), in environ, "
     "the response and the access log",
     NULL, NULL},
    {"metrics-bind", NULL, OPT_STRING, FIELD(metrics_bind), NULL, NULL, "HOST:PORT",
     "serve Prometheus metrics at http://HOST:PORT/metrics from the master", NULL, NULL},
    {"config", "c", OPT_STRING, FIELD(config_file), NULL, NULL, "FILE",
     "read a gunicorn configuration file (Python: bind, workers, hooks, ...), or "
     "python:MODULE; the environment and the command line override it (default "
     "./gunicorn.conf.py if it exists)",
     "config", NULL},
    {"reload", NULL, OPT_FLAG, FIELD(reload), NULL, NULL, NULL,
     "restart the workers when a Python file of the app changes (development)", "reload", NULL},
    {"reload-extra-file", NULL, OPT_LIST,
     LIST(reload_extra_files, reload_extra_file_count, WH_CONFIG_MAX_RELOAD_FILES), NULL, NULL,
     "FILE", "also restart when FILE changes (with --reload); repeatable", "reload_extra_files",
     NULL},
    {"env", "e", OPT_LIST, LIST(raw_env, raw_env_count, WH_CONFIG_MAX_ENV), NULL, NULL, "KEY=VALUE",
     "set an environment variable for the app; repeatable", "raw_env", ENV_NONE},
    {"name", "n", OPT_STRING, FIELD(proc_name), NULL, NULL, "NAME",
     "the process title: wsgihost: master [NAME], wsgihost: worker [NAME]", "proc_name", ENV_NONE},
    {"user", "u", OPT_STRING, FIELD(user), NULL, NULL, "USER",
     "workers run as USER (a name or uid); bind first as root", "user", NULL},
    {"group", "g", OPT_STRING, FIELD(group), NULL, NULL, "GROUP",
     "workers run as GROUP (a name or gid)", "group", NULL},
    {"umask", "m", OPT_MODE, FIELD(umask), "0", NULL, "MASK",
     "umask of Unix sockets wsgihost creates (0: mode 0777, as gunicorn)", "umask", NULL},
    {"initgroups", NULL, OPT_FLAG, FIELD(initgroups), NULL, NULL, NULL,
     "with --user, give the workers that user's supplementary groups", "initgroups", NULL},
    {"worker-class", "k", OPT_STRING, FIELD(worker_class), "sync", NULL, "CLASS",
     "sync or gthread (the same here: an event loop plus --threads Python threads); others "
     "are warned about",
     "worker_class", NULL},
    {"check-config", NULL, OPT_FLAG, FIELD(check_config), NULL, NULL, NULL,
     "load the settings and the app, then exit 0 (or 1 if the app does not load)", "check_config",
     ENV_NONE},
    {"print-config", NULL, OPT_FLAG, FIELD(print_config), NULL, NULL, NULL,
     "print the effective settings and exit", "print_config", ENV_NONE},
    {"worker-connections", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "N",
     "idle connections cost the event loop almost nothing; the limit is the file descriptors",
     "worker_connections", NULL},
    {"reload-engine", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "ENGINE",
     "--reload always uses inotify (libuv)", "reload_engine", NULL},
    {"reuse-port", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     "the workers share one socket with a fair accept", "reuse_port", NULL},
    {"no-sendfile", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     "files are always sent with sendfile", NULL, NULL},
    {"worker-tmp-dir", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "DIR",
     "workers report to a shared scoreboard, not heartbeat files", "worker_tmp_dir", NULL},
    {"capture-output", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     "the app's stdout and stderr are the process's", "capture_output", NULL},
    {"enable-stdio-inheritance", "R", OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     "the app's stdout and stderr are the process's", "enable_stdio_inheritance", NULL},
    {"statsd-host", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "HOST:PORT",
     "use --metrics-bind (Prometheus)", "statsd_host", NULL},
    {"spew", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL, "no line tracing: use a debugger",
     "spew", NULL},
    {"log-syslog", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL, SYSLOG_WHY, "syslog", NULL},
    {"log-syslog-to", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "ADDRESS", SYSLOG_WHY, "syslog_addr",
     NULL},
    {"log-syslog-prefix", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "PREFIX", SYSLOG_WHY,
     "syslog_prefix", NULL},
    {"log-syslog-facility", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "FACILITY", SYSLOG_WHY,
     "syslog_facility", NULL},
    {"disable-redirect-access-to-syslog", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     SYSLOG_WHY, "disable_redirect_access_to_syslog", NULL},
    {"logger-class", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "CLASS", LOGCONFIG_WHY, "logger_class",
     NULL},
    {"log-config", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "FILE", LOGCONFIG_WHY, "logconfig",
     NULL},
    {"log-config-json", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "FILE", LOGCONFIG_WHY,
     "logconfig_json", NULL},
    {"statsd-prefix", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "PREFIX",
     "use --metrics-bind (Prometheus)", "statsd_prefix", NULL},
    {"dogstatsd-tags", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "TAGS",
     "use --metrics-bind (Prometheus)", "dogstatsd_tags", NULL},
    {"strip-header-spaces", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL, STRICT_WHY,
     "strip_header_spaces", NULL},
    {"permit-unconventional-http-method", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     STRICT_WHY, "permit_unconventional_http_method", NULL},
    {"permit-unconventional-http-version", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL,
     STRICT_WHY, "permit_unconventional_http_version", NULL},
    {"casefold-http-method", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL, STRICT_WHY,
     "casefold_http_method", NULL},
    {"permit-obsolete-folding", NULL, OPT_IGNORED_FLAG, NOFIELD, NULL, NULL, NULL, STRICT_WHY,
     "permit_obsolete_folding", NULL},
    {"forwarder-headers", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "HEADERS",
     "header names with _ are always dropped", "forwarder_headers", NULL},
    {"header-map", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "MODE",
     "header names with _ are always dropped", "header_map", NULL},
    {"paste-global", NULL, OPT_IGNORED, NOFIELD, NULL, NULL, "KEY=VALUE",
     "no PasteDeploy: point --app at the WSGI callable", "raw_paste_global_conf", NULL},
    {"suppress-ragged-eofs", NULL, OPT_REFUSED_FLAG, NOFIELD, NULL, NULL, NULL, TLS_WHY, NULL,
     NULL},
    {"do-handshake-on-connect", NULL, OPT_REFUSED_FLAG, NOFIELD, NULL, NULL, NULL, TLS_WHY, NULL,
     NULL},
    {"daemon", "D", OPT_REFUSED_FLAG, NOFIELD, NULL, NULL, NULL,
     "a daemon detaches from its supervisor (a container runtime, systemd), which then "
     "believes it exited: run wsgihost in the foreground and let the supervisor restart it",
     "daemon", NULL},
    {"paste", "paster", OPT_REFUSED, NOFIELD, NULL, NULL, "INI",
     "wsgihost does not read PasteDeploy files: point --app at the WSGI callable "
     "(MODULE:CALLABLE)",
     "paste", NULL},
    {"certfile", NULL, OPT_REFUSED, NOFIELD, NULL, NULL, "FILE", TLS_WHY, "certfile", NULL},
    {"keyfile", NULL, OPT_REFUSED, NOFIELD, NULL, NULL, "FILE", TLS_WHY, "keyfile", NULL},
    {"ca-certs", NULL, OPT_REFUSED, NOFIELD, NULL, NULL, "FILE", TLS_WHY, "ca_certs", NULL},
    {"ssl-version", NULL, OPT_REFUSED, NOFIELD, NULL, NULL, "VERSION", TLS_WHY, NULL, NULL},
    {"cert-reqs", NULL, OPT_REFUSED, NOFIELD, NULL, NULL, "N", TLS_WHY, NULL, NULL},
    {"ciphers", NULL, OPT_REFUSED, NOFIELD, NULL, NULL, "CIPHERS", TLS_WHY, NULL, NULL},
    /* WSGIHOST_HELP/_VERSION could be an unrelated app's variables: not flags here. */
    {"help", "h", OPT_FLAG, FIELD(help), NULL, NULL, NULL, "show this help and exit", NULL,
     ENV_NONE},
    {"version", "v", OPT_FLAG, FIELD(version), NULL, NULL, NULL, "show the version and exit", NULL,
     ENV_NONE},
};

enum { OPTION_COUNT = sizeof(options) / sizeof(options[0]) };

static bool takes_no_value(const option_t *o)
{
    return o->type == OPT_FLAG || o->type == OPT_IGNORED_FLAG || o->type == OPT_REFUSED_FLAG;
}

static bool is_list(const option_t *o)
{
    return o->type == OPT_LIST || o->type == OPT_PATHS;
}

/* Tracks which list options were set in the current stage, so a later stage replaces an
 * earlier stage's list instead of adding to it. */
typedef struct {
    bool list_set[OPTION_COUNT];
} stage_t;

static int set_option(wh_config_t *cfg, stage_t *stage, const option_t *o, const char *value,
                      const char *source, char *err, size_t err_size);

void wh_config_init(wh_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    stage_t stage = {0};
    char err[256];
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        /* The table's defaults are literals checked by the unit test: they parse. */
        if (options[i].def)
            (void)set_option(cfg, &stage, &options[i], options[i].def, "the defaults", err,
                             sizeof(err));
    }
}

void wh_config_free(wh_config_t *cfg)
{
    for (size_t i = 0; i < cfg->owned_count; i++)
        free(cfg->owned[i]);
    cfg->owned_count = 0;
}

static char *keep(wh_config_t *cfg, char *s)
{
    if (s == NULL || cfg->owned_count == sizeof(cfg->owned) / sizeof(cfg->owned[0])) {
        free(s);
        return NULL;
    }
    cfg->owned[cfg->owned_count++] = s;
    return s;
}

static const option_t *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        if ((strlen(o->name) == len && strncmp(o->name, name, len) == 0) ||
            (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0))
            return o;
    }
    return NULL;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned long long mult = 1;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        mult = 1ull << 10;
        end++;
        break;
    case 'M':
        mult = 1ull << 20;
        end++;
        break;
    case 'G':
        mult = 1ull << 30;
        end++;
        break;
    default:
        return -1;
    }
    if (*end != '\0' || (n && mult > UINT64_MAX / n))
        return -1;
    *out = n * mult;
    return 0;
}

/* Adds a warning for the log (kept until the config is freed). */
static void notice(wh_config_t *cfg, const char *fmt, const char *a, const char *b)
{
    char text[512];
    snprintf(text, sizeof(text), fmt, a, b);
    for (size_t i = 0; i < cfg->notice_count; i++) {
        if (strcmp(cfg->notices[i], text) == 0)
            return; /* -c reads the settings twice */
    }
    char *copy = cfg->notice_count < WH_CONFIG_MAX_NOTICES ? keep(cfg, strdup(text)) : NULL;
    if (copy)
        cfg->notices[cfg->notice_count++] = copy;
}

static int parse_long(const char *value, int base, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(value, &end, base);
    if (errno || end == value || *end != '\0')
        return -1;
    *out = n;
    return 0;
}

static int add_item(wh_config_t *cfg, const option_t *o, const char *item, char *err,
                    size_t err_size)
{
    const char **list = (const char **)((char *)cfg + o->offset);
    size_t *count = (size_t *)((char *)cfg + o->count_offset);
    if (*count == (size_t)o->max)
        return wh_errorf(err, err_size, "too many --%s values (at most %ld)", o->name, o->max);
    list[(*count)++] = item;
    return 0;
}

static int set_option(wh_config_t *cfg, stage_t *stage, const option_t *o, const char *value,
                      const char *source, char *err, size_t err_size)
{
    void *base = (char *)cfg + o->offset;
    if (is_list(o)) {
        size_t idx = (size_t)(o - options);
        if (!stage->list_set[idx]) {
            *(size_t *)((char *)cfg + o->count_offset) = 0;
            stage->list_set[idx] = true;
        }
    }
    switch (o->type) {
    case OPT_STRING:
        *(const char **)base = value;
        return 0;
    case OPT_LIST:
        return add_item(cfg, o, value, err, err_size);
    case OPT_PATHS: {
        char *copy = keep(cfg, strdup(value));
        if (copy == NULL)
            return wh_errorf(err, err_size, "out of memory");
        for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
             item = strtok_r(NULL, ",", &save)) {
            if (add_item(cfg, o, item, err, err_size) != 0)
                return -1;
        }
        return 0;
    }
    case OPT_INT:
    case OPT_U32: {
        long n;
        if (parse_long(value, 10, &n) != 0 || n < o->min || n > o->max)
            return wh_errorf(err, err_size,
                             "invalid value '%s' for --%s (from %s): expected a whole "
                             "number of at least %ld",
                             value, o->name, source, o->min);
        if (o->type == OPT_INT)
            *(int *)base = (int)n;
        else
            *(uint32_t *)base = (uint32_t)n;
        return 0;
    }
    case OPT_MODE: {
        long n;
        if (parse_long(value, 0, &n) != 0 || n < 0 || n > 0777)
            return wh_errorf(err, err_size,
                             "invalid value '%s' for --%s (from %s): expected a mask from 0 "
                             "to 0777, e.g. 007",
                             value, o->name, source);
        *(int *)base = (int)n;
        return 0;
    }
    case OPT_SIZE:
        if (parse_size(value, (uint64_t *)base) != 0)
            return wh_errorf(err, err_size,
                             "invalid value '%s' for --%s (from %s): expected bytes, "
                             "optionally with K, M or G",
                             value, o->name, source);
        return 0;
    case OPT_FLAG_SECONDS:
        if (value == NULL)
            value = o->implied;
        /* fall through */
    case OPT_SECONDS: {
        char *end;
        errno = 0;
        double s = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !isfinite(s) || s < 0)
            return wh_errorf(err, err_size,
                             "invalid value '%s' for --%s (from %s): expected seconds", value,
                             o->name, source);
        *(double *)base = s;
        return 0;
    }
    case OPT_FLAG:
        *(bool *)base = true;
        return 0;
    case OPT_IGNORED:
    case OPT_IGNORED_FLAG:
        notice(cfg, "--%s has no effect in wsgihost and is ignored: %s", o->name, o->help);
        return 0;
    case OPT_REFUSED:
    case OPT_REFUSED_FLAG:
        return wh_errorf(err, err_size, "--%s (from %s) is not supported: %s", o->name, source,
                         o->help);
    }
    return -1;
}

/* Parses argument words (from WSGIHOST_CMD_ARGS or argv). */
static int parse_words(wh_config_t *cfg, int count, char **words, const char *source, char *err,
                       size_t err_size)
{
    stage_t stage = {0};
    bool options_done = false, positional_seen = false;
    for (int i = 0; i < count; i++) {
        const char *word = words[i];
        if (options_done || word[0] != '-' || word[1] == '\0') {
            if (positional_seen)
                return wh_errorf(err, err_size,
                                 "unexpected argument '%s' (from %s): give one "
                                 "application",
                                 word, source);
            positional_seen = true;
            cfg->app = word;
            continue;
        }
        if (strcmp(word, "--") == 0) {
            options_done = true;
            continue;
        }
        const char *name = word + (word[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const option_t *o = find_option(name, name_len);
        if (o == NULL && word[1] != '-' && name[1] != '\0') {
            /* -w4, -b:8000: a short option with its value attached (as argparse reads it) */
            o = find_option(name, 1);
            if (o && !takes_no_value(o) && o->type != OPT_FLAG_SECONDS) {
                if (set_option(cfg, &stage, o, name + 1, source, err, err_size) != 0)
                    return -1;
                continue;
            }
            o = NULL;
        }
        if (o == NULL)
            return wh_errorf(err, err_size, "unknown option '%s' (from %s); see wsgihost --help",
                             word, source);
        const char *value = NULL;
        if (takes_no_value(o)) {
            if (eq)
                return wh_errorf(err, err_size, "--%s takes no value", o->name);
        } else if (o->type == OPT_FLAG_SECONDS) {
            value = eq ? eq + 1 : NULL; /* never takes the next word */
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < count) {
            value = words[++i];
        } else {
            return wh_errorf(err, err_size, "--%s needs a value (%s)", o->name, o->metavar);
        }
        if (set_option(cfg, &stage, o, value, source, err, err_size) != 0)
            return -1;
    }
    return 0;
}

/* The environment variable for an option: WSGIHOST_ + upper-case name, '-' as '_'; "" for
 * none. */
static void env_name(const option_t *o, char *out, size_t size)
{
    if (o->env == ENV_NONE || o->type >= OPT_IGNORED) {
        out[0] = '\0';
        return;
    }
    size_t n = (size_t)snprintf(out, size, "WSGIHOST_%s", o->name);
    for (size_t i = 0; i < n && i < size; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static const char *env_get(char **envp, const char *name)
{
    size_t len = strlen(name);
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    }
    return NULL;
}

/* Splits WSGIHOST_CMD_ARGS like a shell would for plain words and quotes ('...' and "..."). */
static int split_words(wh_config_t *cfg, const char *text, char **words, int max, int *count,
                       char *err, size_t err_size)
{
    char *copy = keep(cfg, strdup(text));
    if (copy == NULL)
        return wh_errorf(err, err_size, "out of memory");
    *count = 0;
    char *r = copy, *w = copy;
    while (*r) {
        while (isspace((unsigned char)*r))
            r++;
        if (!*r)
            break;
        if (*count == max)
            return wh_errorf(err, err_size, "WSGIHOST_CMD_ARGS has too many words");
        words[(*count)++] = w;
        char quote = 0;
        while (*r && (quote || !isspace((unsigned char)*r))) {
            if (quote && *r == quote) {
                quote = 0;
            } else if (!quote && (*r == '\'' || *r == '"')) {
                quote = *r;
            } else {
                *w++ = *r;
            }
            r++;
        }
        if (quote)
            return wh_errorf(err, err_size, "WSGIHOST_CMD_ARGS has an unclosed quote");
        if (*r)
            r++;
        *w++ = '\0';
    }
    return 0;
}

/* A flag's value from the environment: 1/true/yes or 0/false/no (any case). */
static int parse_flag(const char *value, bool *out)
{
    static const char *const YES[] = {"1", "true", "yes"}, *const NO[] = {"0", "false", "no"};
    for (size_t i = 0; i < sizeof(YES) / sizeof(YES[0]); i++) {
        if (strcasecmp(value, YES[i]) == 0 || strcasecmp(value, NO[i]) == 0) {
            *out = strcasecmp(value, YES[i]) == 0;
            return 0;
        }
    }
    return -1;
}

enum { CMD_ARGS_MAX_WORDS = 128 };

/* Checks modules registered for the settings they own (wh_config_add_check). */
static wh_config_check_fn checks[WH_CONFIG_CHECKS_MAX];
static size_t check_count;

int wh_config_add_check(wh_config_check_fn fn)
{
    for (size_t i = 0; i < check_count; i++) {
        if (checks[i] == fn)
            return 0;
    }
    if (check_count == WH_CONFIG_CHECKS_MAX)
        return -1;
    checks[check_count++] = fn;
    return 0;
}

/* Checks the settings other modules own, so a mistake stops wsgihost before it starts. */
static int validate_ops(const wh_config_t *cfg, char *err, size_t err_size)
{
    for (size_t i = 0; i < check_count; i++) {
        if (checks[i](cfg, err, err_size) != 0)
            return -1;
    }
    if (cfg->log_format && strcmp(cfg->log_format, "text") != 0 &&
        strcmp(cfg->log_format, "json") != 0)
        return wh_errorf(err, err_size, "invalid --log-format '%s': use text or json",
                         cfg->log_format);
    return 0;
}

int wh_config_apply(wh_config_t *cfg, const char *name, const char *value, const char *source,
                    char *err, size_t err_size)
{
    const option_t *o = find_option(name, strlen(name));
    if (o == NULL)
        return wh_errorf(err, err_size, "unknown setting '%s' (from %s)", name, source);
    if (o->type == OPT_FLAG) {
        if (parse_flag(value, (bool *)((char *)cfg + o->offset)) != 0)
            return wh_errorf(err, err_size, "invalid value '%s' for %s (from %s): use 1 or 0",
                             value, name, source);
        return 0;
    }
    char *copy = keep(cfg, strdup(value));
    if (copy == NULL)
        return wh_errorf(err, err_size, "out of memory");
    /* Every list counts as already set in this stage: values add up. */
    stage_t stage;
    memset(&stage, 1, sizeof(stage));
    return set_option(cfg, &stage, o, copy, source, err, err_size);
}

/* Settings checked together once every stage is read. */
static int validate(wh_config_t *cfg, char *err, size_t err_size)
{
    for (size_t i = 0; i < cfg->bind_count; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(cfg->binds[i], cfg->binds[k]) == 0)
                return wh_errorf(err, err_size, "--bind %s was given twice: give each address once",
                                 cfg->binds[i]);
        }
    }
    for (size_t i = 0; i < cfg->raw_env_count; i++) {
        const char *eq = strchr(cfg->raw_env[i], '=');
        if (eq == NULL || eq == cfg->raw_env[i])
            return wh_errorf(err, err_size, "invalid --env '%s': expected KEY=VALUE",
                             cfg->raw_env[i]);
    }
    static const char *const SAME_HERE[] = {"sync", "gthread", "gunicorn.workers.sync.SyncWorker",
                                            "gunicorn.workers.gthread.ThreadWorker"};
    bool same = false;
    for (size_t i = 0; i < sizeof(SAME_HERE) / sizeof(SAME_HERE[0]); i++)
        same = same || strcmp(cfg->worker_class, SAME_HERE[i]) == 0;
    if (!same)
        notice(cfg,
               "--worker-class %s is ignored%s: wsgihost has one worker model, an event loop "
               "that handles every connection plus --threads Python threads per worker for "
               "the app (use --threads for concurrent blocking I/O)",
               cfg->worker_class, "");
    return validate_ops(cfg, err, err_size);
}

static const char *cmd_args_source(char **envp, const char **name)
{
    *name = "WSGIHOST_CMD_ARGS";
    const char *value = env_get(envp, *name);
    if (value == NULL) {
        *name = "GUNICORN_CMD_ARGS"; /* what a gunicorn deployment already sets */
        value = env_get(envp, *name);
    }
    return value;
}

int wh_config_load(wh_config_t *cfg, int argc, char **argv, char **envp, char *err, size_t err_size)
{
    stage_t env_stage = {0};
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        char name[64];
        env_name(o, name, sizeof(name));
        const char *value = name[0] ? env_get(envp, name) : NULL;
        if (value && o->type == OPT_FLAG) {
            if (parse_flag(value, (bool *)((char *)cfg + o->offset)) != 0)
                return wh_errorf(err, err_size,
                                 "invalid value '%s' for %s: use 1, true, yes, 0, false or no",
                                 value, name);
            continue;
        }
        if (value && set_option(cfg, &env_stage, o, value, name, err, err_size) != 0)
            return -1;
    }
    const char *source;
    const char *cmd_args = cmd_args_source(envp, &source);
    if (cmd_args) {
        char *words[CMD_ARGS_MAX_WORDS];
        int count = 0;
        if (split_words(cfg, cmd_args, words, CMD_ARGS_MAX_WORDS, &count, err, err_size) != 0 ||
            parse_words(cfg, count, words, source, err, err_size) != 0)
            return -1;
        if (strcmp(source, "GUNICORN_CMD_ARGS") == 0)
            /* Named, not quoted: -e values in it may be secrets. */
            notice(cfg, "reading settings from %s (%s is not set)", source, "WSGIHOST_CMD_ARGS");
    }
    if (parse_words(cfg, argc - 1, argv + 1, "the command line", err, err_size) != 0)
        return -1;
    if (cfg->virtualenv == NULL)
        cfg->virtualenv = env_get(envp, "VIRTUAL_ENV");
    if (cfg->bind_count == 0) {
        const char *port = env_get(envp, "PORT");
        if (port && *port) {
            char *bind = keep(cfg, malloc(strlen(port) + sizeof("0.0.0.0:")));
            if (bind == NULL)
                return wh_errorf(err, err_size, "out of memory");
            sprintf(bind, "0.0.0.0:%s", port);
            cfg->binds[cfg->bind_count++] = bind;
        } else {
            cfg->binds[cfg->bind_count++] = "127.0.0.1:8000";
        }
    }
    if (cfg->forwarded_allow_ips == NULL) {
        const char *env = env_get(envp, "FORWARDED_ALLOW_IPS");
        cfg->forwarded_allow_ips = env ? env : DEFAULT_TRUSTED_PROXIES;
    }
    if (validate(cfg, err, err_size) != 0)
        return -1;
    if (wh_log_level_parse(cfg->log_level) < 0)
        return wh_errorf(err, err_size,
                         "invalid --log-level '%s': use debug, info, warning, error or "
                         "critical",
                         cfg->log_level);
    if (!cfg->help && !cfg->version && !cfg->app_optional &&
        (cfg->app == NULL || *cfg->app == '\0'))
        return wh_errorf(err, err_size,
                         "no application given: wsgihost --app MODULE[:CALLABLE] "
                         "(for example wsgihost recipes.wsgi)");
    return 0;
}

void wh_config_usage(FILE *stream)
{
    fprintf(stream, "usage: wsgihost [OPTIONS] [--app] MODULE[:CALLABLE]\n\n"
                    "Serves a WSGI application over HTTP/1.1 from embedded CPython.\n\n"
                    "options (each also read from WSGIHOST_<OPTION>, e.g. WSGIHOST_THREADS=4,\n"
                    "and from WSGIHOST_CMD_ARGS or GUNICORN_CMD_ARGS; the command line wins):\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        char left[64];
        char alias[32] = "";
        if (o->alias)
            snprintf(alias, sizeof(alias), "%s%s, ", o->alias[1] ? "--" : "-", o->alias);
        snprintf(left, sizeof(left), "%s--%s%s%s", alias, o->name,
                 o->metavar && o->type != OPT_FLAG_SECONDS ? " " : "",
                 o->metavar ? o->metavar : "");
        if (o->type >= OPT_REFUSED)
            fprintf(stream, "  %-34s  refused: %s\n", left, o->help);
        else if (o->type >= OPT_IGNORED)
            fprintf(stream, "  %-34s  gunicorn's; ignored with a warning: %s\n", left, o->help);
        else if (o->def)
            fprintf(stream, "  %-34s  %s [default: %s]\n", left, o->help, o->def);
        else
            fprintf(stream, "  %-34s  %s\n", left, o->help);
    }
}

/* Writes an option's current value as text; false for options that have no value. */
static bool format_value(const wh_config_t *cfg, const option_t *o, char *out, size_t size)
{
    const void *base = (const char *)cfg + o->offset;
    out[0] = '\0';
    switch (o->type) {
    case OPT_STRING: {
        const char *v = *(const char *const *)base;
        snprintf(out, size, "%s", v ? v : "");
        return true;
    }
    case OPT_LIST:
    case OPT_PATHS: {
        const char *const *list = (const char *const *)base;
        size_t count = *(const size_t *)((const char *)cfg + o->count_offset), used = 0;
        for (size_t i = 0; i < count && used < size; i++)
            used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "," : "", list[i]);
        return true;
    }
    case OPT_INT:
        snprintf(out, size, "%d", *(const int *)base);
        return true;
    case OPT_MODE:
        snprintf(out, size, "%#o", (unsigned)*(const int *)base);
        return true;
    case OPT_U32:
        snprintf(out, size, "%u", (unsigned)*(const uint32_t *)base);
        return true;
    case OPT_SIZE:
        snprintf(out, size, "%llu", (unsigned long long)*(const uint64_t *)base);
        return true;
    case OPT_SECONDS:
    case OPT_FLAG_SECONDS:
        snprintf(out, size, "%g", *(const double *)base);
        return true;
    case OPT_FLAG:
        snprintf(out, size, "%s", *(const bool *)base ? "true" : "false");
        return true;
    default:
        return false;
    }
}

void wh_config_print(const wh_config_t *cfg, FILE *stream)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        char value[1024];
        if (o->offset == OFF(help) || o->offset == OFF(version) || o->offset == OFF(print_config) ||
            !format_value(cfg, o, value, sizeof(value)))
            continue;
        fprintf(stream, "%-26s = %s\n", o->name, value);
    }
}

bool wh_config_value(const wh_config_t *cfg, const char *name, char *out, size_t size)
{
    const option_t *o = find_option(name, strlen(name));
    return o != NULL && format_value(cfg, o, out, size);
}

void wh_config_log_notices(const wh_config_t *cfg)
{
    for (size_t i = 0; i < cfg->notice_count; i++)
        wh_log(WH_LOG_WARNING, "%s", cfg->notices[i]);
}

bool wh_config_gunicorn_row(size_t index, wh_config_gunicorn_t *out)
{
    for (size_t i = 0, seen = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        if (o->gunicorn == NULL || seen++ != index)
            continue;
        static const char *const KIND[] = {
            [OPT_STRING] = "value",    [OPT_LIST] = "list",
            [OPT_PATHS] = "joined",    [OPT_INT] = "value",
            [OPT_U32] = "value",       [OPT_MODE] = "value",
            [OPT_SIZE] = "value",      [OPT_SECONDS] = "value",
            [OPT_FLAG] = "flag",       [OPT_FLAG_SECONDS] = "value",
            [OPT_IGNORED] = "ignored", [OPT_IGNORED_FLAG] = "ignored",
            [OPT_REFUSED] = "refused", [OPT_REFUSED_FLAG] = "refused",
        };
        *out = (wh_config_gunicorn_t){.gunicorn = o->gunicorn,
                                      .name = o->name,
                                      .kind = KIND[o->type],
                                      .why = o->type >= OPT_IGNORED ? o->help : NULL};
        return true;
    }
    return false;
}
