/* server/response: status and header validation, head formatting, chunk framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/http/response.h"

static wh_header_t header(const char *name, const char *value)
{
    return (wh_header_t){{name, strlen(name)}, {value, strlen(value)}};
}

static void test_status_parse(void **state)
{
    (void)state;
    assert_int_equal(wh_status_parse("200 OK", 6), 200);
    assert_int_equal(wh_status_parse("404 ", 4), 404);
    assert_int_equal(wh_status_parse("200", 3), -1);
    assert_int_equal(wh_status_parse("2x0 OK", 6), -1);
    assert_int_equal(wh_status_parse("200 O\r\nK", 8), -1);
    assert_int_equal(wh_status_parse("200OK", 5), -1);
}

/* Every byte as a one-byte name against RFC 9110's tchar written out. */
static void test_header_name_bytes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char name = (char)c;
        wh_header_t h = {{&name, 1}, {"v", 1}};
        bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        assert_int_equal(wh_header_valid(&h), tchar);
    }
}

static void test_header_valid(void **state)
{
    (void)state;
    wh_header_t ok = header("X-Thing", "a\tb");
    wh_header_t crlf = header("X-Thing", "a\r\nSet-Cookie: x");
    wh_header_t nul = header("X-Thing", "a\0b");
    nul.value.len = 3;
    wh_header_t bad_name = header("X Thing", "a");
    wh_header_t empty_name = header("", "a");
    assert_true(wh_header_valid(&ok));
    assert_false(wh_header_valid(&crlf));
    assert_false(wh_header_valid(&nul));
    assert_false(wh_header_valid(&bad_name));
    assert_false(wh_header_valid(&empty_name));
}

static void test_content_length_parse(void **state)
{
    (void)state;
    uint64_t n;
    assert_int_equal(wh_parse_content_length((wh_str_t){"123", 3}, &n), 0);
    assert_int_equal(n, 123);
    assert_int_equal(wh_parse_content_length((wh_str_t){"-1", 2}, &n), -1);
    assert_int_equal(wh_parse_content_length((wh_str_t){"", 0}, &n), -1);
    assert_int_equal(wh_parse_content_length((wh_str_t){"12345678901234567890", 20}, &n), -1);
}

static void test_head_chunked_drops_hop_by_hop(void **state)
{
    (void)state;
    wh_header_t hs[] = {header("Content-Type", "text/plain"), header("Transfer-Encoding", "gzip"),
                        header("Keep-Alive", "timeout=5")};
    wh_head_opts_t opts = {.framing = WH_FRAMING_CHUNKED, .keep_alive = true};
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_response_head(&out, "200 OK", 6, hs, 3, &opts), 0);
    assert_int_equal(wh_buf_append(&out, "", 1), 0);
    assert_non_null(strstr(out.data, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(out.data, "\r\nTransfer-Encoding: chunked\r\n"));
    assert_null(strstr(out.data, "gzip"));
    assert_null(strstr(out.data, "Keep-Alive"));
    assert_null(strstr(out.data, "Connection:"));
    assert_non_null(strstr(out.data, "\r\nDate: "));
    assert_non_null(strstr(out.data, "\r\nServer: wsgihost\r\n"));
    assert_string_equal(out.data + out.len - 5, "\r\n\r\n");
    wh_buf_free(&out);
}

static void test_head_length_and_close(void **state)
{
    (void)state;
    wh_head_opts_t opts = {.framing = WH_FRAMING_LENGTH, .length = 14, .keep_alive = false};
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_response_head(&out, "201 Created", 11, NULL, 0, &opts), 0);
    assert_int_equal(wh_buf_append(&out, "", 1), 0);
    assert_non_null(strstr(out.data, "Content-Length: 14\r\n"));
    assert_non_null(strstr(out.data, "Connection: close\r\n"));
    wh_buf_free(&out);
}

static void test_head_http10_keep_alive(void **state)
{
    (void)state;
    wh_head_opts_t opts = {.framing = WH_FRAMING_LENGTH, .http10 = true, .keep_alive = true};
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_response_head(&out, "200 OK", 6, NULL, 0, &opts), 0);
    assert_int_equal(wh_buf_append(&out, "", 1), 0);
    assert_non_null(strstr(out.data, "Connection: keep-alive\r\n"));
    wh_buf_free(&out);
}

static void test_chunk_framing(void **state)
{
    (void)state;
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_chunk_begin(&out, 255), 0);
    assert_int_equal(wh_buf_append(&out, "x", 1), 0);
    assert_int_equal(wh_chunk_end(&out), 0);
    assert_int_equal(wh_chunk_last(&out), 0);
    assert_int_equal(out.len, strlen("ff\r\nx\r\n0\r\n\r\n"));
    assert_memory_equal(out.data, "ff\r\nx\r\n0\r\n\r\n", out.len);
    wh_buf_free(&out);
}

static void test_simple_response(void **state)
{
    (void)state;
    wh_buf_t out = WH_BUF_INIT;
    assert_int_equal(wh_response_simple(&out, 400, "bare LF", NULL, true), 0);
    assert_int_equal(wh_buf_append(&out, "", 1), 0);
    assert_true(strncmp(out.data, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    assert_non_null(strstr(out.data, "Content-Length: 21\r\n"));
    assert_non_null(strstr(out.data, "\r\n\r\nBad Request: bare LF\n"));
    wh_buf_free(&out);
}

static void test_http_date_shape(void **state)
{
    (void)state;
    char date[WH_HTTP_DATE_LEN + 1];
    wh_http_date(date);
    assert_int_equal(strlen(date), WH_HTTP_DATE_LEN);
    assert_string_equal(date + WH_HTTP_DATE_LEN - 4, " GMT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_parse),
        cmocka_unit_test(test_header_valid),
        cmocka_unit_test(test_header_name_bytes),
        cmocka_unit_test(test_content_length_parse),
        cmocka_unit_test(test_head_chunked_drops_hop_by_hop),
        cmocka_unit_test(test_head_length_and_close),
        cmocka_unit_test(test_head_http10_keep_alive),
        cmocka_unit_test(test_chunk_framing),
        cmocka_unit_test(test_simple_response),
        cmocka_unit_test(test_http_date_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
