#include "server/core/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/errmsg.h"
#include "server/core/log.h"

/* Defaults, with the reasons that are not obvious. */
enum {
    DEFAULT_THREADS = 1,
    DEFAULT_BACKLOG = 2048, /* gunicorn's */
    DEFAULT_LIMIT_REQUEST_LINE = 4094,
    DEFAULT_LIMIT_REQUEST_FIELDS = 100,
    DEFAULT_LIMIT_REQUEST_FIELD_SIZE = 8190,
};
/* Longer than the idle timeouts of the load balancers in front (AWS ALB and nginx 60 s), so
 * the balancer, not wsgihost, closes idle connections and never reuses one we just closed:
 * gunicorn's 2 s default is a known source of random 502s. nginx's own default is 75 s too. */
#define DEFAULT_KEEP_ALIVE 75.0
#define DEFAULT_HEADER_TIMEOUT 30.0
#define DEFAULT_BODY_TIMEOUT 60.0
#define DEFAULT_WRITE_TIMEOUT 60.0
#define DEFAULT_GRACEFUL_TIMEOUT 30.0
#define DEFAULT_TIMEOUT 30.0 /* gunicorn's */
#define DEFAULT_MAX_REQUEST_BODY (100ull * 1024 * 1024)
#define DEFAULT_BODY_BUFFER_SIZE (1024ull * 1024)
/* --wait-for-db without a value: long enough for a database container started alongside. */
#define DEFAULT_WAIT_FOR_DB 60.0
/* Liveness: as long as gunicorn's worker timeout, and independent of --timeout (which may be 0). */
#define DEFAULT_HEALTH_TIMEOUT 30.0
#define DEFAULT_STATIC_MAX_AGE 60.0 /* whitenoise's: short, as these names do not change */
/* gunicorn's (22+) default for --forwarded-allow-ips and --proxy-allow-from; gunicorn also
 * takes the former from $FORWARDED_ALLOW_IPS. */
#define DEFAULT_TRUSTED_PROXIES "127.0.0.1,::1"

typedef enum {
    OPT_STRING,
    OPT_LIST,
    OPT_PATHS,
    OPT_INT,
    OPT_SIZE,
    OPT_SECONDS,
    OPT_FLAG,
    OPT_FLAG_SECONDS /* --name alone (a default) or --name=SECONDS */
} opt_type_t;

typedef struct {
    const char *name;  /* without the leading "--" */
    const char *alias; /* another accepted spelling, or NULL */
    opt_type_t type;
    size_t offset;
    long min; /* for OPT_INT */
    const char *metavar;
    const char *help;
} option_t;

#define OFF(field) offsetof(wh_config_t, field)

static const option_t options[] = {
    {"app", NULL, OPT_STRING, OFF(app), 0, "MODULE[:CALLABLE]",
     "the WSGI application (also the first positional argument); CALLABLE defaults to "
     "application"},
    {"bind", "b", OPT_LIST, OFF(binds), 0, "ADDRESS",
     "HOST:PORT, [IPv6]:PORT or unix:PATH to listen on; repeatable (default 127.0.0.1:8000, "
     "or 0.0.0.0:$PORT when PORT is set)"},
    {"chdir", NULL, OPT_STRING, OFF(chdir), 0, "DIR", "change to DIR before loading the app"},
    {"pythonpath", NULL, OPT_PATHS, OFF(pythonpath), 0, "DIR[,DIR]",
     "directories to put first on sys.path"},
    {"virtualenv", NULL, OPT_STRING, OFF(virtualenv), 0, "DIR",
     "a virtual environment to run in (default $VIRTUAL_ENV)"},
    {"workers", "w", OPT_INT, OFF(workers), 1, "N",
     "worker processes (default $WEB_CONCURRENCY, else the CPUs this container may use)"},
    {"threads", NULL, OPT_INT, OFF(threads), 1, "N", "Python threads running the app (default 1)"},
    {"timeout", "t", OPT_SECONDS, OFF(timeout), 0, "SECONDS",
     "a request in the app longer than this retires its worker, 0 never (default 30)"},
    {"max-requests", NULL, OPT_INT, OFF(max_requests), 0, "N",
     "recycle a worker after N requests, 0 never (default 0)"},
    {"max-requests-jitter", NULL, OPT_INT, OFF(max_requests_jitter), 0, "N",
     "add up to N at random to --max-requests per worker (default 0)"},
    {"preload", NULL, OPT_FLAG, OFF(preload), 0, NULL,
     "import the app in the master before forking (workers share its memory)"},
    {"pid", "p", OPT_STRING, OFF(pidfile), 0, "FILE", "write the master's PID to FILE"},
    {"backlog", NULL, OPT_INT, OFF(backlog), 1, "N", "listen backlog (default 2048)"},
    {"keep-alive", NULL, OPT_SECONDS, OFF(keep_alive), 0, "SECONDS",
     "idle keep-alive timeout (default 75: longer than load balancers' 60)"},
    {"header-timeout", NULL, OPT_SECONDS, OFF(header_timeout), 0, "SECONDS",
     "time to receive a request head (default 30)"},
    {"body-timeout", NULL, OPT_SECONDS, OFF(body_timeout), 0, "SECONDS",
     "time without progress receiving a body (default 60)"},
    {"write-timeout", NULL, OPT_SECONDS, OFF(write_timeout), 0, "SECONDS",
     "time without progress sending a response (default 60)"},
    {"graceful-timeout", NULL, OPT_SECONDS, OFF(graceful_timeout), 0, "SECONDS",
     "time in-flight requests get after SIGTERM (default 30)"},
    {"limit-request-line", NULL, OPT_INT, OFF(limit_request_line), 0, "BYTES",
     "maximum request line size, 0 for no limit (default 4094)"},
    {"limit-request-fields", NULL, OPT_INT, OFF(limit_request_fields), 0, "N",
     "maximum number of header fields, 0 for no limit (default 100)"},
    {"limit-request-field_size", "limit-request-field-size", OPT_INT, OFF(limit_request_field_size),
     0, "BYTES", "maximum size of one header field, 0 for no limit (default 8190)"},
    {"max-request-body", NULL, OPT_SIZE, OFF(max_request_body), 0, "BYTES",
     "maximum request body, 0 for no limit (default 100M)"},
    {"body-buffer-size", NULL, OPT_SIZE, OFF(body_buffer_size), 0, "BYTES",
     "bodies above this are spooled to a temporary file (default 1M)"},
    {"access-logfile", NULL, OPT_STRING, OFF(access_logfile), 0, "PATH",
     "access log file, - for stdout (default none)"},
    {"error-logfile", "log-file", OPT_STRING, OFF(error_logfile), 0, "PATH",
     "error log file, - for stderr (default -)"},
    {"log-level", NULL, OPT_STRING, OFF(log_level), 0, "LEVEL",
     "debug, info, warning, error or critical (default info)"},
    {"wait-for-db", NULL, OPT_FLAG_SECONDS, OFF(wait_for_db), 0, "[=SECONDS]",
     "before serving, wait until the database (DATABASE_URL or PG*) accepts connections "
     "(default 60 s)"},
    {"migrate", NULL, OPT_FLAG, OFF(migrate), 0, NULL,
     "before serving, run `manage migrate --noinput` (under a PostgreSQL advisory lock)"},
    {"health-path", NULL, OPT_STRING, OFF(health_path), 0, "PATH",
     "liveness probe answered by the event loop, e.g. /healthz"},
    {"ready-path", NULL, OPT_STRING, OFF(ready_path), 0, "PATH",
     "readiness probe (checks PostgreSQL when configured), e.g. /readyz"},
    {"health-timeout", NULL, OPT_SECONDS, OFF(health_timeout), 0, "SECONDS",
     "liveness fails while a request has been in the app longer than this, 0 never "
     "(default 30)"},
    {"drain-delay", NULL, OPT_SECONDS, OFF(drain_delay), 0, "SECONDS",
     "after SIGTERM keep serving this long with readiness failing (default 0)"},
    {"static", NULL, OPT_LIST, OFF(statics), 0, "/PREFIX/=DIR",
     "serve the files of DIR at /PREFIX/ from the event loop; repeatable (Django's "
     "STATIC_URL and STATIC_ROOT are served without it)"},
    {"no-static", NULL, OPT_FLAG, OFF(no_static), 0, NULL,
     "serve no static files, not even Django's STATIC_ROOT"},
    {"static-fallthrough", NULL, OPT_FLAG, OFF(static_fallthrough), 0, NULL,
     "requests under a static prefix that match no file go to the app (default 404)"},
    {"static-index", NULL, OPT_FLAG, OFF(static_index), 0, NULL,
     "a static directory serves its index.html"},
    {"static-max-age", NULL, OPT_SECONDS, OFF(static_max_age), 0, "SECONDS",
     "Cache-Control max-age of static files without a manifest hash (default 60)"},
    {"no-static-cors", NULL, OPT_FLAG, OFF(no_static_cors), 0, NULL,
     "leave out Access-Control-Allow-Origin: * on static files"},
    {"serve-media", NULL, OPT_FLAG, OFF(serve_media), 0, NULL,
     "serve Django's MEDIA_ROOT at MEDIA_URL too (uploads: nosniff, risky types as "
     "attachments)"},
    {"access-logformat", NULL, OPT_STRING, OFF(access_logformat), 0, "FORMAT",
     "gunicorn's access log format, e.g. '%(h)s \"%(r)s\" %(s)s %(D)s' (default: the combined "
     "line)"},
    {"log-format", NULL, OPT_STRING, OFF(log_format), 0, "text|json",
     "json: one JSON object per line in the access and error logs (default text)"},
    {"forwarded-allow-ips", NULL, OPT_STRING, OFF(forwarded_allow_ips), 0, "CIDRS",
     "proxies whose X-Forwarded-Proto/-Ssl/-Protocol set wsgi.url_scheme, '*' for all "
     "(default $FORWARDED_ALLOW_IPS or 127.0.0.1,::1)"},
    {"real-ip-header", NULL, OPT_STRING, OFF(real_ip_header), 0, "HEADER",
     "X-Forwarded-For or Forwarded: REMOTE_ADDR becomes the right-most address not in "
     "--real-ip-from"},
    {"real-ip-from", NULL, OPT_STRING, OFF(real_ip_from), 0, "CIDRS",
     "proxies trusted for --real-ip-header (default --forwarded-allow-ips)"},
    {"proxy-protocol", NULL, OPT_FLAG, OFF(proxy_protocol), 0, NULL,
     "every connection starts with a PROXY protocol v1 or v2 header (all binds)"},
    {"proxy-allow-from", NULL, OPT_STRING, OFF(proxy_allow_from), 0, "CIDRS",
     "peers allowed to send PROXY headers, '*' for all (default 127.0.0.1,::1)"},
    {"request-id", NULL, OPT_FLAG, OFF(request_id), 0, NULL,
     "give each request an X-Request-ID (kept from trusted proxies, else made), in environ, "
     "the response and the access log"},
    {"metrics-bind", NULL, OPT_STRING, OFF(metrics_bind), 0, "HOST:PORT",
     "serve Prometheus metrics at http://HOST:PORT/metrics from the master"},
    {"config", "c", OPT_STRING, OFF(config_file), 0, "FILE",
     "read a gunicorn configuration file (Python: bind, workers, hooks, ...); the environment "
     "and the command line override it"},
    {"reload", NULL, OPT_FLAG, OFF(reload), 0, NULL,
     "restart the workers when a Python file of the app changes (development)"},
    {"reload-extra-file", NULL, OPT_LIST, OFF(reload_extra_files), 0, "FILE",
     "also restart when FILE changes (with --reload); repeatable"},
    {"help", "h", OPT_FLAG, OFF(help), 0, NULL, "show this help and exit"},
    {"version", "v", OPT_FLAG, OFF(version), 0, NULL, "show the version and exit"},
};

enum { OPTION_COUNT = sizeof(options) / sizeof(options[0]) };

void wh_config_init(wh_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->threads = DEFAULT_THREADS;
    cfg->backlog = DEFAULT_BACKLOG;
    cfg->keep_alive = DEFAULT_KEEP_ALIVE;
    cfg->header_timeout = DEFAULT_HEADER_TIMEOUT;
    cfg->body_timeout = DEFAULT_BODY_TIMEOUT;
    cfg->write_timeout = DEFAULT_WRITE_TIMEOUT;
    cfg->graceful_timeout = DEFAULT_GRACEFUL_TIMEOUT;
    cfg->timeout = DEFAULT_TIMEOUT;
    cfg->limit_request_line = DEFAULT_LIMIT_REQUEST_LINE;
    cfg->limit_request_fields = DEFAULT_LIMIT_REQUEST_FIELDS;
    cfg->limit_request_field_size = DEFAULT_LIMIT_REQUEST_FIELD_SIZE;
    cfg->max_request_body = DEFAULT_MAX_REQUEST_BODY;
    cfg->body_buffer_size = DEFAULT_BODY_BUFFER_SIZE;
    cfg->log_level = "info";
    cfg->health_timeout = DEFAULT_HEALTH_TIMEOUT;
    cfg->static_max_age = DEFAULT_STATIC_MAX_AGE;
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

/* Tracks which list options were set in the current stage, so a later stage replaces an
 * earlier stage's list instead of adding to it. */
typedef struct {
    bool list_set[OPTION_COUNT];
} stage_t;

static int set_option(wh_config_t *cfg, stage_t *stage, const option_t *o, const char *value,
                      const char *source, char *err, size_t err_size)
{
    void *base = (char *)cfg + o->offset;
    switch (o->type) {
    case OPT_STRING:
        *(const char **)base = value;
        return 0;
    case OPT_LIST: {
        bool statics = o->offset == OFF(statics);
        const char **list = statics ? cfg->statics : cfg->binds;
        size_t *count = statics ? &cfg->static_count : &cfg->bind_count;
        size_t max = statics ? WH_CONFIG_MAX_STATIC : WH_CONFIG_MAX_BINDS;
        if (o->offset == OFF(reload_extra_files)) {
            list = cfg->reload_extra_files;
            count = &cfg->reload_extra_file_count;
            max = WH_CONFIG_MAX_RELOAD_FILES;
        }
        size_t idx = (size_t)(o - options);
        if (!stage->list_set[idx]) {
            *count = 0;
            stage->list_set[idx] = true;
        }
        if (*count == max)
            return wh_errorf(err, err_size, "too many --%s values (at most %zu)", o->name, max);
        list[(*count)++] = value;
        return 0;
    }
    case OPT_PATHS: {
        size_t idx = (size_t)(o - options);
        if (!stage->list_set[idx]) {
            cfg->pythonpath_count = 0;
            stage->list_set[idx] = true;
        }
        char *copy = keep(cfg, strdup(value));
        if (copy == NULL)
            return wh_errorf(err, err_size, "out of memory");
        for (char *save = NULL, *dir = strtok_r(copy, ",", &save); dir;
             dir = strtok_r(NULL, ",", &save)) {
            if (cfg->pythonpath_count == WH_CONFIG_MAX_PYTHONPATH)
                return wh_errorf(err, err_size, "too many --pythonpath entries (at most %d)",
                                 WH_CONFIG_MAX_PYTHONPATH);
            cfg->pythonpath[cfg->pythonpath_count++] = dir;
        }
        return 0;
    }
    case OPT_INT: {
        char *end;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (errno || end == value || *end != '\0' || n < o->min || n > INT32_MAX)
            return wh_errorf(err, err_size,
                             "invalid value '%s' for --%s (from %s): expected a whole "
                             "number of at least %ld",
                             value, o->name, source, o->min);
        if (o->offset == OFF(threads) || o->offset == OFF(backlog) || o->offset == OFF(workers))
            *(int *)base = (int)n;
        else
            *(uint32_t *)base = (uint32_t)n;
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
        if (value == NULL) {
            *(double *)base = DEFAULT_WAIT_FOR_DB; /* the only option of this type */
            return 0;
        }
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
        if (o == NULL)
            return wh_errorf(err, err_size, "unknown option '%s' (from %s); see wsgihost --help",
                             word, source);
        const char *value = NULL;
        if (o->type == OPT_FLAG) {
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

/* The environment variable for an option: WSGIHOST_ + upper-case name, '-' as '_'. */
static void env_name(const option_t *o, char *out, size_t size)
{
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

int wh_config_load(wh_config_t *cfg, int argc, char **argv, char **envp, char *err, size_t err_size)
{
    stage_t env_stage = {0};
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        /* WSGIHOST_HELP/_VERSION could be an unrelated app's variables: not flags here. */
        if (o->offset == OFF(help) || o->offset == OFF(version))
            continue;
        char name[64];
        env_name(o, name, sizeof(name));
        const char *value = env_get(envp, name);
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
    const char *cmd_args = env_get(envp, "WSGIHOST_CMD_ARGS");
    if (cmd_args) {
        char *words[CMD_ARGS_MAX_WORDS];
        int count = 0;
        if (split_words(cfg, cmd_args, words, CMD_ARGS_MAX_WORDS, &count, err, err_size) != 0 ||
            parse_words(cfg, count, words, "WSGIHOST_CMD_ARGS", err, err_size) != 0)
            return -1;
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
    if (cfg->proxy_allow_from == NULL)
        cfg->proxy_allow_from = DEFAULT_TRUSTED_PROXIES;
    if (validate_ops(cfg, err, err_size) != 0)
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
                    "and from WSGIHOST_CMD_ARGS; the command line wins):\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_t *o = &options[i];
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", o->name,
                 o->metavar && o->type != OPT_FLAG_SECONDS ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(stream, "  %-34s %s\n", left, o->help);
    }
}
