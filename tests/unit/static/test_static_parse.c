/* server/static_parse: Range, Accept-Encoding, If-None-Match and HTTP dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/static/parse.h"

static wh_str_t S(const char *s)
{
    return (wh_str_t){s, strlen(s)};
}

static wh_range_result_t range(const char *v, uint64_t size, uint64_t *first, uint64_t *len)
{
    *first = *len = 12345;
    return wh_range_parse(S(v), size, first, len);
}

static void test_range_forms(void **state)
{
    (void)state;
    uint64_t f, n;
    assert_int_equal(range("bytes=0-99", 1000, &f, &n), WH_RANGE_OK);
    assert_int_equal(f, 0);
    assert_int_equal(n, 100);
    assert_int_equal(range("bytes=500-", 1000, &f, &n), WH_RANGE_OK);
    assert_int_equal(f, 500);
    assert_int_equal(n, 500);
    assert_int_equal(range("bytes=-10", 1000, &f, &n), WH_RANGE_OK);
    assert_int_equal(f, 990);
    assert_int_equal(n, 10);
    assert_int_equal(range("bytes=-5000", 1000, &f, &n), WH_RANGE_OK); /* whole file */
    assert_int_equal(f, 0);
    assert_int_equal(n, 1000);
    assert_int_equal(range("bytes=900-5000", 1000, &f, &n), WH_RANGE_OK); /* clamped */
    assert_int_equal(f, 900);
    assert_int_equal(n, 100);
    assert_int_equal(range("  Bytes=1-1 ", 10, &f, &n), WH_RANGE_OK);
    assert_int_equal(f, 1);
    assert_int_equal(n, 1);
}

static void test_range_unsatisfiable(void **state)
{
    (void)state;
    uint64_t f, n;
    assert_int_equal(range("bytes=1000-", 1000, &f, &n), WH_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=2000-3000", 1000, &f, &n), WH_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=-0", 1000, &f, &n), WH_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=0-", 0, &f, &n), WH_RANGE_UNSATISFIABLE);
}

static void test_range_ignored(void **state)
{
    (void)state;
    uint64_t f, n;
    static const char *const ignored[] = {
        "",          "bytes",      "bytes=",        "bytes=-",     "bytes=a-b",
        "items=0-1", "bytes=5-1",  "bytes=0-1,3-4", "bytes=1-2-3", "bytes=99999999999999999999999-",
        "bytes= -",  "bytes=+1-2",
    };
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        if (range(ignored[i], 1000, &f, &n) != WH_RANGE_NONE)
            fail_msg("did not ignore '%s'", ignored[i]);
    }
}

static wh_accept_encoding_t ae(const char *v)
{
    wh_accept_encoding_t a;
    wh_accept_encoding_parse(S(v), true, &a);
    return a;
}

static void test_accept_encoding(void **state)
{
    (void)state;
    wh_accept_encoding_t a;
    wh_accept_encoding_parse((wh_str_t){NULL, 0}, false, &a); /* absent */
    assert_int_equal(a.br, 0);
    assert_int_equal(a.gzip, 0);
    assert_int_equal(a.identity, 1000);
    a = ae("gzip, deflate, br");
    assert_int_equal(a.br, 1000);
    assert_int_equal(a.gzip, 1000);
    assert_int_equal(a.identity, 1); /* acceptable, but last */
    a = ae("gzip;q=0.5, br;q=0.25");
    assert_int_equal(a.gzip, 500);
    assert_int_equal(a.br, 250);
    a = ae("br;q=0, gzip");
    assert_int_equal(a.br, 0);
    assert_int_equal(a.gzip, 1000);
    a = ae("*");
    assert_int_equal(a.br, 1000);
    assert_int_equal(a.gzip, 1000);
    assert_int_equal(a.identity, 1000);
    a = ae("gzip, identity;q=0");
    assert_int_equal(a.gzip, 1000);
    assert_int_equal(a.identity, 0);
    a = ae("*;q=0");
    assert_int_equal(a.br, 0);
    assert_int_equal(a.identity, 0);
    a = ae("br, *;q=0, identity;q=0.1");
    assert_int_equal(a.br, 1000);
    assert_int_equal(a.gzip, 0);
    assert_int_equal(a.identity, 100);
    a = ae("GZIP ; Q=0.123");
    assert_int_equal(a.gzip, 123);
    a = ae("x-gzip");
    assert_int_equal(a.gzip, 1000);
    a = ae("");
    assert_int_equal(a.br, 0);
    assert_int_equal(a.identity, 1); /* nothing named: identity is all there is */
}

static void test_accept_encoding_malformed_q(void **state)
{
    (void)state;
    /* A member with an invalid weight is ignored, not taken as q=1. */
    wh_accept_encoding_t a = ae("br;q=2, gzip;q=0.5.5, identity;q=abc");
    assert_int_equal(a.br, 0);
    assert_int_equal(a.gzip, 0);
    assert_int_equal(a.identity, 1);
    a = ae("br;q=1.0001");
    assert_int_equal(a.br, 0);
    a = ae("br;q=1.000");
    assert_int_equal(a.br, 1000);
}

static void test_etag_lists(void **state)
{
    (void)state;
    assert_true(wh_etag_list_matches(S("\"abc\""), "\"abc\""));
    assert_true(wh_etag_list_matches(S("W/\"abc\""), "\"abc\""));
    assert_true(wh_etag_list_matches(S("\"x\", \"abc\""), "\"abc\""));
    assert_true(wh_etag_list_matches(S("*"), "\"abc\""));
    assert_false(wh_etag_list_matches(S("\"abcd\""), "\"abc\""));
    assert_false(wh_etag_list_matches(S("abc"), "\"abc\""));
    assert_false(wh_etag_list_matches(S(""), "\"abc\""));
    assert_false(wh_etag_list_matches(S("\"ab"), "\"abc\""));
}

static void test_http_dates(void **state)
{
    (void)state;
    time_t t;
    const time_t expect = 784111777; /* RFC 9110's example */
    assert_int_equal(wh_http_date_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
    assert_int_equal(t, expect);
    assert_int_equal(wh_http_date_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
    assert_int_equal(t, expect);
    assert_int_equal(wh_http_date_parse(S("Sun Nov  6 08:49:37 1994"), &t), 0);
    assert_int_equal(t, expect);
    assert_int_equal(wh_http_date_parse(S("Sun, 06 Nov 1994 08:49:37 PST"), &t), -1);
    assert_int_equal(wh_http_date_parse(S("yesterday"), &t), -1);
    assert_int_equal(wh_http_date_parse(S("Sun, 06 Foo 1994 08:49:37 GMT"), &t), -1);
    assert_int_equal(wh_http_date_parse(S("Sun, 06 Nov 1994 08:49:37 GMT junk"), &t), -1);
    char out[30];
    wh_http_date_format(expect, out);
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_forms),
        cmocka_unit_test(test_range_unsatisfiable),
        cmocka_unit_test(test_range_ignored),
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_accept_encoding_malformed_q),
        cmocka_unit_test(test_etag_lists),
        cmocka_unit_test(test_http_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
