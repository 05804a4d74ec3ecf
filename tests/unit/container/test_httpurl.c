/* server/httpurl: the healthcheck client's URL parsing and default URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/container/httpurl.h"

static void expect_url(const char *text, const char *host, const char *port, const char *path,
                       int ipv6)
{
    wh_url_t url;
    char err[256] = "";
    assert_int_equal(wh_url_parse(text, &url, err, sizeof(err)), 0);
    assert_string_equal(url.host, host);
    assert_string_equal(url.port, port);
    assert_string_equal(url.path, path);
    assert_int_equal(url.ipv6, ipv6);
}

static void expect_error(const char *text, const char *fragment)
{
    wh_url_t url;
    char err[256] = "";
    assert_int_equal(wh_url_parse(text, &url, err, sizeof(err)), -1);
    if (strstr(err, fragment) == NULL)
        fail_msg("error for '%s' is '%s', expected it to mention '%s'", text, err, fragment);
}

static void test_valid_urls(void **state)
{
    (void)state;
    expect_url("http://127.0.0.1:8000/healthz", "127.0.0.1", "8000", "/healthz", 0);
    expect_url("http://localhost", "localhost", "80", "/", 0);
    expect_url("HTTP://web:81", "web", "81", "/", 0);
    expect_url("http://web/", "web", "80", "/", 0);
    expect_url("http://[::1]:8080/ready?full=1", "::1", "8080", "/ready?full=1", 1);
    expect_url("http://[::1]/", "::1", "80", "/", 1);
    expect_url("http://web?x=1", "web", "80", "/?x=1", 0);
    expect_url("http://web/a#frag", "web", "80", "/a", 0);
    expect_url("http://web:65535/", "web", "65535", "/", 0);
}

static void test_invalid_urls(void **state)
{
    (void)state;
    expect_error("https://web/", "not an http:// URL");
    expect_error("web:8000", "not an http:// URL");
    expect_error("http://", "no host");
    expect_error("http://:80/", "no host");
    expect_error("http://web:0/", "port");
    expect_error("http://web:65536/", "port");
    expect_error("http://web:80x/", "port");
    expect_error("http://web:/", "port");
    expect_error("http://[::1/", "unclosed");
    expect_error("http://[::1]x/", "expected ':'");
    expect_error("http://user@web/", "user info");
    expect_error("http://web/a b", "spaces");
    expect_error("http://web/a\r\nX: y", "control");
}

static void test_too_long(void **state)
{
    (void)state;
    char text[WH_URL_PATH_MAX + 64];
    memcpy(text, "http://web/", 11);
    memset(text + 11, 'a', sizeof(text) - 12);
    text[sizeof(text) - 1] = '\0';
    expect_error(text, "too long");
    char host[WH_URL_HOST_MAX + 32];
    memcpy(host, "http://", 7);
    memset(host + 7, 'h', sizeof(host) - 8);
    host[sizeof(host) - 1] = '\0';
    expect_error(host, "too long");
}

static void test_default_url(void **state)
{
    (void)state;
    char out[256];
    char *none[] = {"HOME=/", NULL};
    assert_int_equal(wh_url_default(none, out, sizeof(out)), 0);
    assert_string_equal(out, "http://127.0.0.1:8000/");
    char *both[] = {"PORT=9000", "WSGIHOST_HEALTH_PATH=/healthz", NULL};
    assert_int_equal(wh_url_default(both, out, sizeof(out)), 0);
    assert_string_equal(out, "http://127.0.0.1:9000/healthz");
    char *relative[] = {"WSGIHOST_HEALTH_PATH=livez", "PORT=", NULL};
    assert_int_equal(wh_url_default(relative, out, sizeof(out)), 0);
    assert_string_equal(out, "http://127.0.0.1:8000/livez");
    assert_int_equal(wh_url_default(both, out, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_urls),
        cmocka_unit_test(test_invalid_urls),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_default_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
