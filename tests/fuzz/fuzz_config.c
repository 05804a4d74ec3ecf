/* Fuzz target: configuration from the command line and the environment (wh_config_load).
 *
 * Input: byte 0 (mod 16) is how many of the words go to the environment; the rest is words
 * separated by NUL bytes: first the environment entries ("NAME=value", e.g. WSGIHOST_CMD_ARGS
 * with quotes), then the arguments after argv[0]. Each word is a separate allocation of its
 * exact size, so a read past one is caught.
 *
 * Checked: an error always comes with a one-line reason; a success leaves a configuration the
 * server can start from (at least one bind and within every list's capacity, positive thread
 * and backlog counts, finite non-negative times, a known log level, an application unless
 * --help or --version), and loading the same input again gives the same result. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "server/core/config.h"
#include "server/core/log.h"
#include "tests/fuzz/fuzz.h"

enum { MAX_WORDS = 256 };

static void check_loaded(const wh_config_t *c)
{
    FUZZ_CHECK(c->bind_count >= 1 && c->bind_count <= WH_CONFIG_MAX_BINDS, "%zu binds",
               c->bind_count);
    for (size_t i = 0; i < c->bind_count; i++)
        fuzz_touch(c->binds[i], strlen(c->binds[i]));
    FUZZ_CHECK(c->pythonpath_count <= WH_CONFIG_MAX_PYTHONPATH, "pythonpath");
    for (size_t i = 0; i < c->pythonpath_count; i++)
        FUZZ_CHECK(c->pythonpath[i][0] != '\0', "empty --pythonpath entry");
    FUZZ_CHECK(c->static_count <= WH_CONFIG_MAX_STATIC, "statics");
    for (size_t i = 0; i < c->static_count; i++)
        fuzz_touch(c->statics[i], strlen(c->statics[i]));
    FUZZ_CHECK(c->threads >= 0 && c->backlog >= 1 && c->workers >= 0, "counts %d %d %d", c->threads,
               c->backlog, c->workers);
    const double times[] = {
        c->timeout,          c->keep_alive,  c->header_timeout, c->body_timeout, c->write_timeout,
        c->graceful_timeout, c->wait_for_db, c->health_timeout, c->drain_delay,  c->static_max_age};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        FUZZ_CHECK(isfinite(times[i]) && times[i] >= 0, "time %zu is %g", i, times[i]);
    FUZZ_CHECK(wh_log_level_parse(c->log_level) >= 0, "log level %s", c->log_level);
    if (!c->help && !c->version)
        FUZZ_CHECK(c->app != NULL && c->app[0] != '\0', "no app");
    const char *strings[] = {c->app,         c->chdir,          c->virtualenv,
                             c->pidfile,     c->access_logfile, c->error_logfile,
                             c->health_path, c->ready_path};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (strings[i])
            fuzz_touch(strings[i], strlen(strings[i]));
    FUZZ_CHECK(c->owned_count <= sizeof(c->owned) / sizeof(c->owned[0]), "owned");
}

/* The fields that must come out the same when the same input is loaded twice. */
static bool same(const wh_config_t *a, const wh_config_t *b)
{
    if (a->bind_count != b->bind_count || a->threads != b->threads || a->workers != b->workers ||
        a->max_request_body != b->max_request_body || a->body_buffer_size != b->body_buffer_size ||
        a->keep_alive != b->keep_alive || a->pythonpath_count != b->pythonpath_count ||
        a->static_count != b->static_count || (a->app == NULL) != (b->app == NULL) ||
        (a->app && strcmp(a->app, b->app) != 0))
        return false;
    for (size_t i = 0; i < a->bind_count; i++)
        if (strcmp(a->binds[i], b->binds[i]) != 0)
            return false;
    return true;
}

static int load(wh_config_t *cfg, int argc, char **argv, char **envp, char *err, size_t size)
{
    wh_config_init(cfg);
    memset(err, 0x55, size);
    int rc = wh_config_load(cfg, argc, argv, envp, err, size);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1, "rc %d", rc);
        FUZZ_CHECK(memchr(err, '\0', size) != NULL, "unterminated error");
        FUZZ_CHECK(err[0] != '\0', "error without a reason");
    } else {
        check_loaded(cfg);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t env_count = data[0] & 15;
    char *words[MAX_WORDS];
    size_t count = 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p <= end && count < MAX_WORDS) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *w = malloc(len + 1);
        FUZZ_CHECK(w != NULL, "out of memory");
        memcpy(w, p, len);
        w[len] = '\0';
        words[count++] = w;
        if (nul == NULL)
            break;
        p = nul + 1;
    }
    if (env_count > count)
        env_count = count;
    char *envp[MAX_WORDS + 1], *argv[MAX_WORDS + 2];
    size_t argc = 0;
    for (size_t i = 0; i < env_count; i++)
        envp[i] = words[i];
    envp[env_count] = NULL;
    argv[argc++] = "wsgihost";
    for (size_t i = env_count; i < count; i++)
        argv[argc++] = words[i];
    argv[argc] = NULL;

    wh_config_t a, b;
    char err_a[256], err_b[256];
    int rc_a = load(&a, (int)argc, argv, envp, err_a, sizeof(err_a));
    int rc_b = load(&b, (int)argc, argv, envp, err_b, sizeof(err_b));
    FUZZ_CHECK(rc_a == rc_b, "loading twice: %d then %d", rc_a, rc_b);
    if (rc_a == 0)
        FUZZ_CHECK(same(&a, &b), "loading twice gave different configurations");
    else
        FUZZ_CHECK(strcmp(err_a, err_b) == 0, "loading twice: %s / %s", err_a, err_b);
    /* A tiny error buffer is truncated, never overrun. */
    wh_config_t c;
    char err_c[8];
    load(&c, (int)argc, argv, envp, err_c, sizeof(err_c));
    wh_config_free(&a);
    wh_config_free(&b);
    wh_config_free(&c);
    for (size_t i = 0; i < count; i++)
        free(words[i]);
    return 0;
}
