/* server/config: flags, environment, WSGIHOST_CMD_ARGS, precedence and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/core/config.h"

typedef struct {
    wh_config_t cfg;
    char err[256];
} fixture_t;

static int load(fixture_t *f, char **argv, char **envp)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    wh_config_init(&f->cfg);
    return wh_config_load(&f->cfg, argc, argv, envp, f->err, sizeof(f->err));
}

static char *noenv[] = {NULL};

static void test_positional_app_and_defaults(void **state)
{
    (void)state;
    fixture_t f;
    char *argv[] = {"wsgihost", "recipes.wsgi:application", NULL};
    assert_int_equal(load(&f, argv, noenv), 0);
    assert_string_equal(f.cfg.app, "recipes.wsgi:application");
    assert_int_equal(f.cfg.bind_count, 1);
    assert_string_equal(f.cfg.binds[0], "127.0.0.1:8000");
    assert_int_equal(f.cfg.threads, 2);
    assert_int_equal(f.cfg.limit_request_line, 4094);
    assert_true(f.cfg.keep_alive > 60); /* outlasts load balancers' idle timeouts */
    wh_config_free(&f.cfg);
}

static void test_flags_both_spellings(void **state)
{
    (void)state;
    fixture_t f;
    char *argv[] = {"wsgihost",
                    "--app=m",
                    "--bind",
                    "[::1]:9",
                    "-b",
                    "unix:/tmp/s",
                    "--threads=4",
                    "--limit-request-field-size",
                    "100",
                    "--limit-request-field_size=200",
                    "--max-request-body",
                    "2M",
                    "--pythonpath",
                    "a,b",
                    "--keep-alive",
                    "1.5",
                    NULL};
    assert_int_equal(load(&f, argv, noenv), 0);
    assert_string_equal(f.cfg.app, "m");
    assert_int_equal(f.cfg.bind_count, 2);
    assert_string_equal(f.cfg.binds[1], "unix:/tmp/s");
    assert_int_equal(f.cfg.threads, 4);
    assert_int_equal(f.cfg.limit_request_field_size, 200);
    assert_int_equal(f.cfg.max_request_body, 2 * 1024 * 1024);
    assert_int_equal(f.cfg.pythonpath_count, 2);
    assert_string_equal(f.cfg.pythonpath[1], "b");
    assert_true(f.cfg.keep_alive == 1.5);
    wh_config_free(&f.cfg);
}

static void test_env_then_cmd_args_then_argv(void **state)
{
    (void)state;
    fixture_t f;
    char *envp[] = {"WSGIHOST_THREADS=3", "WSGIHOST_BIND=0.0.0.0:1", "WSGIHOST_APP=fromenv",
                    "WSGIHOST_CMD_ARGS=--threads 5 --bind '127.0.0.1:2' --log-level \"debug\"",
                    NULL};
    char *argv[] = {"wsgihost", "--bind", "127.0.0.1:3", NULL};
    assert_int_equal(load(&f, argv, envp), 0);
    assert_string_equal(f.cfg.app, "fromenv");
    assert_int_equal(f.cfg.threads, 5);
    assert_string_equal(f.cfg.log_level, "debug");
    /* the command line's --bind replaces, not extends, the earlier ones */
    assert_int_equal(f.cfg.bind_count, 1);
    assert_string_equal(f.cfg.binds[0], "127.0.0.1:3");
    wh_config_free(&f.cfg);
}

static void test_port_env(void **state)
{
    (void)state;
    fixture_t f;
    char *envp[] = {"PORT=9999", NULL};
    char *argv[] = {"wsgihost", "app", NULL};
    assert_int_equal(load(&f, argv, envp), 0);
    assert_string_equal(f.cfg.binds[0], "0.0.0.0:9999");
    wh_config_free(&f.cfg);
}

static void assert_error(char **argv, const char *fragment)
{
    fixture_t f;
    assert_int_equal(load(&f, argv, noenv), -1);
    assert_non_null(strstr(f.err, fragment));
    wh_config_free(&f.cfg);
}

static void test_errors(void **state)
{
    (void)state;
    char *unknown[] = {"wsgihost", "--frobnicate", "app", NULL};
    assert_error(unknown, "unknown option '--frobnicate'");
    char *bad_threads[] = {"wsgihost", "--threads", "-1", "app", NULL};
    assert_error(bad_threads, "--threads");
    char *bad_int[] = {"wsgihost", "--backlog", "12x", "app", NULL};
    assert_error(bad_int, "invalid value '12x'");
    char *missing_value[] = {"wsgihost", "app", "--bind", NULL};
    assert_error(missing_value, "--bind needs a value");
    char *no_app[] = {"wsgihost", NULL};
    assert_error(no_app, "no application given");
    char *two_apps[] = {"wsgihost", "a", "b", NULL};
    assert_error(two_apps, "unexpected argument 'b'");
    char *bad_level[] = {"wsgihost", "--log-level", "loud", "app", NULL};
    assert_error(bad_level, "invalid --log-level 'loud'");
    char *bad_seconds[] = {"wsgihost", "--keep-alive", "-1", "app", NULL};
    assert_error(bad_seconds, "expected seconds");
}

/* The table's defaults are parsed by the same path as flags: every one must take. */
static void test_table_defaults(void **state)
{
    (void)state;
    wh_config_t cfg;
    wh_config_init(&cfg);
    assert_true(cfg.keep_alive == 75.0);
    assert_int_equal(cfg.max_request_body, 100u * 1024 * 1024);
    assert_int_equal(cfg.body_buffer_size, 1024u * 1024);
    assert_int_equal(cfg.backlog, 2048);
    assert_int_equal(cfg.limit_request_field_size, 8190);
    assert_string_equal(cfg.log_level, "info");
    assert_string_equal(cfg.worker_class, "sync");
    assert_non_null(strstr(cfg.secure_scheme_headers, "X-Forwarded-Proto=https"));
    assert_string_equal(cfg.proxy_allow_from, "127.0.0.1,::1");
    assert_int_equal(cfg.umask, 0);
    wh_config_free(&cfg);
}

static bool has_notice(const wh_config_t *cfg, const char *needle)
{
    for (size_t i = 0; i < cfg->notice_count; i++) {
        if (strstr(cfg->notices[i], needle))
            return true;
    }
    return false;
}

/* Flags copied from gunicorn's docs: accepted, warned about, or refused with the reason. */
static void test_gunicorn_flags(void **state)
{
    (void)state;
    fixture_t f;
    char *argv[] = {"wsgihost", "-w4",         "-k",  "gevent",         "-e",
                    "A=1",      "--env=B=2=3", "-n",  "shop",           "--worker-connections",
                    "500",      "-m",          "007", "--check-config", "app",
                    NULL};
    assert_int_equal(load(&f, argv, noenv), 0);
    assert_int_equal(f.cfg.workers, 4);
    assert_string_equal(f.cfg.worker_class, "gevent");
    assert_true(has_notice(&f.cfg, "--worker-class gevent is ignored"));
    assert_true(has_notice(&f.cfg, "--worker-connections has no effect"));
    assert_int_equal(f.cfg.raw_env_count, 2);
    assert_string_equal(f.cfg.raw_env[1], "B=2=3");
    assert_string_equal(f.cfg.proc_name, "shop");
    assert_int_equal(f.cfg.umask, 07);
    assert_true(f.cfg.check_config);
    wh_config_free(&f.cfg);

    char *same[] = {"wsgihost", "-k", "gthread", "--worker-class", "sync", "app", NULL};
    assert_int_equal(load(&f, same, noenv), 0);
    assert_int_equal(f.cfg.notice_count, 0);
    wh_config_free(&f.cfg);
}

static void test_gunicorn_refusals(void **state)
{
    (void)state;
    char *tls[] = {"wsgihost", "--certfile", "c.pem", "app", NULL};
    assert_error(tls, "--certfile (from the command line) is not supported: wsgihost serves "
                      "plain HTTP only");
    char *daemon[] = {"wsgihost", "-D", "app", NULL};
    assert_error(daemon, "--daemon (from the command line) is not supported");
    char *paste[] = {"wsgihost", "--paste", "production.ini", NULL};
    assert_error(paste, "--paste (from the command line) is not supported");
    char *twice[] = {"wsgihost", "-b", "127.0.0.1:9000", "--bind", "127.0.0.1:9000", "app", NULL};
    assert_error(twice, "--bind 127.0.0.1:9000 was given twice");
    char *bad_env[] = {"wsgihost", "-e", "NOEQUALS", "app", NULL};
    assert_error(bad_env, "invalid --env 'NOEQUALS': expected KEY=VALUE");
    char *bad_umask[] = {"wsgihost", "--umask", "1000", "app", NULL};
    assert_error(bad_umask, "invalid value '1000' for --umask");
}

static void test_gunicorn_cmd_args(void **state)
{
    (void)state;
    fixture_t f;
    char *argv[] = {"wsgihost", "app", NULL};
    char *gunicorn_only[] = {"GUNICORN_CMD_ARGS=--threads 3 -w 2", NULL};
    assert_int_equal(load(&f, argv, gunicorn_only), 0);
    assert_int_equal(f.cfg.threads, 3);
    assert_int_equal(f.cfg.workers, 2);
    assert_true(has_notice(&f.cfg, "reading settings from GUNICORN_CMD_ARGS"));
    wh_config_free(&f.cfg);
    char *both[] = {"GUNICORN_CMD_ARGS=--threads 3", "WSGIHOST_CMD_ARGS=--threads 5", NULL};
    assert_int_equal(load(&f, argv, both), 0);
    assert_int_equal(f.cfg.threads, 5);
    wh_config_free(&f.cfg);
}

static void test_help_needs_no_app(void **state)
{
    (void)state;
    fixture_t f;
    char *argv[] = {"wsgihost", "--help", NULL};
    assert_int_equal(load(&f, argv, noenv), 0);
    assert_true(f.cfg.help);
    wh_config_free(&f.cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positional_app_and_defaults),
        cmocka_unit_test(test_flags_both_spellings),
        cmocka_unit_test(test_env_then_cmd_args_then_argv),
        cmocka_unit_test(test_port_env),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help_needs_no_app),
        cmocka_unit_test(test_table_defaults),
        cmocka_unit_test(test_gunicorn_flags),
        cmocka_unit_test(test_gunicorn_refusals),
        cmocka_unit_test(test_gunicorn_cmd_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
