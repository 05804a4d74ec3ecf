/* server/http1: strictness rules, limits, bodies, pipelining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/http/http1.h"

static const wh_http1_limits_t limits = {
    .max_request_line = 4094,
    .max_header_fields = 100,
    .max_header_field_size = 8190,
    .max_body = 1000,
    .body_memory_max = 64,
};

typedef struct {
    wh_http1_t http;
    wh_request_t req;
    char *strings;
    wh_header_t *headers;
    char *body;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    wh_http1_init(&f->http, &limits);
    *state = f;
    return 0;
}

static void drop_request(fixture_t *f)
{
    if (f->req.body_fd >= 0 && f->strings)
        close(f->req.body_fd);
    free(f->strings);
    free(f->headers);
    free(f->body);
    f->strings = NULL;
    f->headers = NULL;
    f->body = NULL;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    drop_request(f);
    wh_http1_free(&f->http);
    free(f);
    return 0;
}

/* Feeds the whole text (one byte at a time when `bytewise`), continuing past HEAD. */
static wh_http1_result_t feed(fixture_t *f, const char *text, size_t len, size_t *used_total,
                              bool bytewise)
{
    size_t total = 0;
    wh_http1_result_t r = WH_HTTP1_MORE;
    while (total < len) {
        size_t used, chunk = bytewise ? 1 : len - total;
        r = wh_http1_feed(&f->http, text + total, chunk, &used);
        total += used;
        if (r == WH_HTTP1_REQUEST || r == WH_HTTP1_ERROR)
            break;
    }
    if (used_total)
        *used_total = total;
    return r;
}

static wh_http1_result_t feed_str(fixture_t *f, const char *text)
{
    return feed(f, text, strlen(text), NULL, false);
}

static void take(fixture_t *f)
{
    wh_peer_t peer = {{"127.0.0.1", 9}, {"5555", 4}, {"127.0.0.1", 9}, {"8000", 4}, {"http", 4}};
    drop_request(f);
    assert_int_equal(wh_http1_take(&f->http, &peer, &f->req, &f->strings, &f->headers, &f->body),
                     0);
}

static void assert_str(wh_str_t s, const char *expected)
{
    assert_int_equal(s.len, strlen(expected));
    assert_memory_equal(s.ptr, expected, s.len);
}

static void assert_rejects(void **state, const char *text, int status)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, text), WH_HTTP1_ERROR);
    assert_int_equal(f->http.error_status, status);
}

static void test_simple_get(void **state)
{
    fixture_t *f = *state;
    const char *text =
        "GET /a%20b/c?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v  \r\n\r\n";
    assert_int_equal(feed_str(f, text), WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.method, "GET");
    assert_str(f->req.target, "/a%20b/c?x=1&y=%20");
    assert_str(f->req.path, "/a b/c");
    assert_str(f->req.query, "x=1&y=%20");
    assert_str(f->req.version, "HTTP/1.1");
    assert_int_equal(f->req.header_count, 2);
    assert_str(f->req.headers[1].name, "X-Thing");
    assert_str(f->req.headers[1].value, "v");
    assert_false(f->req.has_body);
    assert_str(f->req.remote_addr, "127.0.0.1");
}

static void test_bytewise_matches(void **state)
{
    fixture_t *f = *state;
    const char *text = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(feed(f, text, strlen(text), NULL, true), WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.path, "/p");
    assert_int_equal(f->req.body_len, 5);
    assert_memory_equal(f->req.body, "hello", 5);
    assert_true(f->req.has_body);
}

static void test_pipelined_stops_after_each(void **state)
{
    fixture_t *f = *state;
    const char *text = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t used;
    assert_int_equal(feed(f, text, strlen(text), &used, false), WH_HTTP1_REQUEST);
    assert_int_equal(used, strlen(text) / 2);
    take(f);
    assert_str(f->req.path, "/1");
    assert_int_equal(feed(f, text + used, strlen(text) - used, NULL, false), WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.path, "/2");
}

static void test_chunked_body_and_trailers(void **state)
{
    fixture_t *f = *state;
    const char *text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    assert_int_equal(feed_str(f, text), WH_HTTP1_REQUEST);
    take(f);
    assert_true(f->req.chunked);
    assert_int_equal(f->req.body_len, 11);
    assert_memory_equal(f->req.body, "hello world", 11);
    /* trailers never become headers, and the coding is gone with the chunks */
    assert_int_equal(f->req.header_count, 1);
    assert_str(f->req.headers[0].name, "Host");
}

static void test_large_body_spooled(void **state)
{
    fixture_t *f = *state;
    char text[512];
    char body[200];
    memset(body, 'z', sizeof(body));
    int n = snprintf(text, sizeof(text), "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n",
                     sizeof(body));
    memcpy(text + n, body, sizeof(body));
    assert_int_equal(feed(f, text, (size_t)n + sizeof(body), NULL, false), WH_HTTP1_REQUEST);
    take(f);
    assert_true(f->req.body_fd >= 0);
    assert_int_equal(f->req.body_len, sizeof(body));
    char back[200];
    assert_int_equal(pread(f->req.body_fd, back, sizeof(back), 0), sizeof(back));
    assert_memory_equal(back, body, sizeof(body));
}

static void test_expect_continue(void **state)
{
    fixture_t *f = *state;
    const char *text =
        "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    size_t used;
    assert_int_equal(wh_http1_feed(&f->http, text, strlen(text), &used), WH_HTTP1_HEAD);
    assert_true(f->http.expect_continue);
    assert_int_equal(used, strlen(text));
}

static void test_underscore_header_dropped(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, "GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n"),
                     WH_HTTP1_REQUEST);
    take(f);
    assert_int_equal(f->req.header_count, 1);
    assert_str(f->req.headers[0].name, "Host");
}

static void test_absolute_form_replaces_host(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, "GET http://real.example:81/x?q HTTP/1.1\r\nHost: other\r\n\r\n"),
                     WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.path, "/x");
    assert_str(f->req.query, "q");
    assert_str(wh_request_header(&f->req, "host")->value, "real.example:81");
}

static void test_http10_without_host(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, "GET / HTTP/1.0\r\n\r\n"), WH_HTTP1_REQUEST);
    assert_false(f->http.keep_alive);
}

static void test_rejects_bare_lf(void **state)
{
    assert_rejects(state, "GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
}

static void test_rejects_obs_fold(void **state)
{
    assert_rejects(state, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n  b\r\n\r\n", 400);
}

static void test_rejects_missing_host(void **state)
{
    assert_rejects(state, "GET / HTTP/1.1\r\n\r\n", 400);
}

static void test_rejects_two_hosts(void **state)
{
    assert_rejects(state, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

static void test_rejects_bad_host(void **state)
{
    assert_rejects(state, "GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400);
}

static void test_rejects_cl_and_te(void **state)
{
    assert_rejects(state,
                   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                   400);
}

static void test_rejects_two_content_lengths(void **state)
{
    assert_rejects(state,
                   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                   "Content-Length: 4\r\n\r\nabcd",
                   400);
}

static void test_rejects_unknown_coding(void **state)
{
    assert_rejects(state, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                   501);
}

static void test_rejects_chunked_not_last(void **state)
{
    assert_rejects(state, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                   400);
}

static void test_rejects_version(void **state)
{
    assert_rejects(state, "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
}

static void test_rejects_bad_percent(void **state)
{
    assert_rejects(state, "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void test_rejects_percent_nul_in_path(void **state)
{
    assert_rejects(state, "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void test_rejects_percent_nul_in_absolute_path(void **state)
{
    assert_rejects(state, "GET http://h/a/%00 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void test_percent_nul_in_query_is_passed_raw(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, "GET /a?x=%00 HTTP/1.1\r\nHost: h\r\n\r\n"), WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.path, "/a");
    assert_str(f->req.query, "x=%00");
}

static void test_rejects_other_scheme(void **state)
{
    assert_rejects(state, "GET htp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_rejects_ftp_scheme(void **state)
{
    assert_rejects(state, "GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_scheme_is_case_insensitive(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, "GET HTTPS://a.example/x HTTP/1.1\r\nHost: b\r\n\r\n"),
                     WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.path, "/x");
    assert_str(wh_request_header(&f->req, "host")->value, "a.example");
}

static void test_rejects_asterisk_for_get(void **state)
{
    assert_rejects(state, "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void test_limit_request_line(void **state)
{
    char text[5000];
    memset(text, 'a', sizeof(text));
    memcpy(text, "GET /", 5);
    strcpy(text + 4500, " HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_rejects(state, text, 414);
}

static void test_limit_field_count(void **state)
{
    char text[4096] = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 101; i++)
        strcat(text, "A: b\r\n");
    strcat(text, "\r\n");
    assert_rejects(state, text, 431);
}

static void test_limit_field_size(void **state)
{
    char text[9000] = "GET / HTTP/1.1\r\nHost: h\r\nA: ";
    size_t n = strlen(text);
    memset(text + n, 'x', 8200);
    strcpy(text + n + 8200, "\r\n\r\n");
    assert_rejects(state, text, 431);
}

static void test_limit_body(void **state)
{
    assert_rejects(state, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n", 413);
}

static void test_limit_chunked_body(void **state)
{
    fixture_t *f = *state;
    char text[2048] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n";
    size_t n = strlen(text);
    memset(text + n, 'x', 1001);
    assert_int_equal(feed(f, text, n + 1001, NULL, false), WH_HTTP1_ERROR);
    assert_int_equal(f->http.error_status, 413);
}

static void test_eof(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(wh_http1_eof(&f->http), WH_HTTP1_MORE);
    assert_int_equal(feed_str(f, "GET / HT"), WH_HTTP1_MORE);
    assert_int_equal(wh_http1_eof(&f->http), WH_HTTP1_ERROR);
}

static void test_percent_decode(void **state)
{
    (void)state;
    char s[] = "%41b%2fc%c3%a9";
    assert_int_equal(wh_percent_decode(s, strlen(s)), 6);
    assert_memory_equal(s, "Ab/c\xc3\xa9", 6);
    char bad[] = "abc%4";
    assert_int_equal(wh_percent_decode(bad, strlen(bad)), -1);
}

static void test_host_syntax(void **state)
{
    (void)state;
    const char *good[] = {"", "example.com", "a:80", "[::1]:8000", "0.0.0.0=5000", "a%20b"};
    const char *bad[] = {"a b", "a/b", "[::1", "a:b", "a@b", "[]"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(wh_host_valid((wh_str_t){good[i], strlen(good[i])}));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(wh_host_valid((wh_str_t){bad[i], strlen(bad[i])}));
}

/* RFC 9110 §9.1: any token is a method, case-sensitive; llhttp is given a stand-in. */
static void test_any_token_method(void **state)
{
    fixture_t *f = *state;
    const char *methods[] = {"QUERY", "BREW", "VERSION-CONTROL", "get", "-bl", "M!#$%&'*+.^_`|~"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "%s /m HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi",
                 methods[i]);
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            assert_int_equal(feed(f, text, strlen(text), NULL, bytewise), WH_HTTP1_REQUEST);
            take(f);
            assert_str(f->req.method, methods[i]);
            assert_str(f->req.path, "/m");
            assert_int_equal(f->req.body_len, 2);
        }
    }
}

static void test_rejects_invalid_method(void **state)
{
    assert_rejects(state, "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void test_rejects_double_space_after_method(void **state)
{
    assert_rejects(state, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void test_connect_still_refused(void **state)
{
    assert_rejects(state, "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 501);
}

/* Empty lines before a request line are skipped, a few of them only. */
static void test_empty_lines_before_request(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(feed_str(f, "\r\n\r\n\r\n\r\nGET /e HTTP/1.1\r\nHost: h\r\n\r\n"),
                     WH_HTTP1_REQUEST);
    take(f);
    assert_str(f->req.path, "/e");
    assert_false(f->http.started);
    assert_rejects(state, "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

/* RFC 9112 §7.1.1 lists with values and quoted strings, split at every byte boundary. */
static void test_chunk_extension_values(void **state)
{
    fixture_t *f = *state;
    const char *text = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;a=b;c=d\r\nhello\r\n6;q=\"x;\\\"y\";e\r\n world\r\n0;z\r\nT: 1\r\n\r\n"
                       "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        size_t used;
        assert_int_equal(feed(f, text, strlen(text), &used, bytewise), WH_HTTP1_REQUEST);
        take(f);
        assert_int_equal(f->req.body_len, 11);
        assert_memory_equal(f->req.body, "hello world", 11);
        assert_int_equal(feed(f, text + used, strlen(text + used), NULL, bytewise),
                         WH_HTTP1_REQUEST);
        take(f);
        assert_str(f->req.path, "/next");
    }
}

static void test_rejects_chunk_extension_whitespace(void **state)
{
    assert_rejects(state,
                   "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5 ;a\r\nhello\r\n0\r\n\r\n",
                   400);
}

/* A chunk-size line is bounded, and extension bytes count with the body. */
static void test_limit_chunk_extensions(void **state)
{
    fixture_t *f = *state;
    char text[WH_CHUNK_LINE_MAX + 256];
    int n = snprintf(text, sizeof(text),
                     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;a=");
    memset(text + n, 'x', WH_CHUNK_LINE_MAX);
    assert_int_equal(feed(f, text, (size_t)n + WH_CHUNK_LINE_MAX, NULL, false), WH_HTTP1_ERROR);
    assert_int_equal(f->http.error_status, 413);
    wh_http1_free(&f->http); /* after an error the connection closes: a fresh parser */
    wh_http1_init(&f->http, &limits);
    /* 200 lines of 1 byte + 9 extension bytes: 2000 > max_body 1000 */
    const char *head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_int_equal(feed_str(f, head), WH_HTTP1_HEAD);
    wh_http1_result_t r = WH_HTTP1_MORE;
    for (int i = 0; i < 200 && r != WH_HTTP1_ERROR; i++)
        r = feed_str(f, "1;abcdefg\r\nx\r\n");
    assert_int_equal(r, WH_HTTP1_ERROR);
    assert_int_equal(f->http.error_status, 413);
}

static void test_limit_trailers(void **state)
{
    fixture_t *f = *state;
    const char *head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
    assert_int_equal(feed_str(f, head), WH_HTTP1_HEAD);
    wh_http1_result_t r = WH_HTTP1_MORE;
    for (int i = 0; i < 200 && r != WH_HTTP1_ERROR; i++)
        r = feed_str(f, "X-T: 1\r\n");
    assert_int_equal(r, WH_HTTP1_ERROR);
    assert_int_equal(f->http.error_status, 431);
    wh_http1_free(&f->http); /* after an error the connection closes: a fresh parser */
    wh_http1_init(&f->http, &limits);
    assert_int_equal(feed_str(f, head), WH_HTTP1_HEAD);
    assert_int_equal(feed_str(f, "X-T: "), WH_HTTP1_MORE);
    char value[1024];
    memset(value, 'a', sizeof(value));
    r = WH_HTTP1_MORE;
    for (int i = 0; i < 20 && r != WH_HTTP1_ERROR; i++)
        r = feed(f, value, sizeof(value), NULL, false);
    assert_int_equal(r, WH_HTTP1_ERROR);
    assert_int_equal(f->http.error_status, 431);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_simple_get),
        T(test_bytewise_matches),
        T(test_pipelined_stops_after_each),
        T(test_chunked_body_and_trailers),
        T(test_large_body_spooled),
        T(test_expect_continue),
        T(test_underscore_header_dropped),
        T(test_absolute_form_replaces_host),
        T(test_http10_without_host),
        T(test_rejects_bare_lf),
        T(test_rejects_obs_fold),
        T(test_rejects_missing_host),
        T(test_rejects_two_hosts),
        T(test_rejects_bad_host),
        T(test_rejects_cl_and_te),
        T(test_rejects_two_content_lengths),
        T(test_rejects_unknown_coding),
        T(test_rejects_chunked_not_last),
        T(test_rejects_version),
        T(test_rejects_bad_percent),
        T(test_rejects_percent_nul_in_path),
        T(test_rejects_percent_nul_in_absolute_path),
        T(test_percent_nul_in_query_is_passed_raw),
        T(test_rejects_other_scheme),
        T(test_rejects_ftp_scheme),
        T(test_scheme_is_case_insensitive),
        T(test_rejects_asterisk_for_get),
        T(test_limit_request_line),
        T(test_limit_field_count),
        T(test_limit_field_size),
        T(test_limit_body),
        T(test_limit_chunked_body),
        T(test_eof),
        T(test_percent_decode),
        T(test_host_syntax),
        T(test_any_token_method),
        T(test_rejects_invalid_method),
        T(test_rejects_double_space_after_method),
        T(test_connect_still_refused),
        T(test_empty_lines_before_request),
        T(test_chunk_extension_values),
        T(test_rejects_chunk_extension_whitespace),
        T(test_limit_chunk_extensions),
        T(test_limit_trailers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
