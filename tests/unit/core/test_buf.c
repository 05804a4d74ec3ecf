/* server/buf: growth, consume, printf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/core/buf.h"

static void test_append_grow_consume(void **state)
{
    (void)state;
    wh_buf_t b = WH_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(wh_buf_append(&b, "abcd", 4), 0);
    assert_int_equal(b.len, 4000);
    assert_true(b.cap >= 4000);
    wh_buf_consume(&b, 3998);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "cd", 2);
    wh_buf_consume(&b, 10);
    assert_int_equal(b.len, 0);
    wh_buf_free(&b);
    assert_null(b.data);
}

static void test_printf(void **state)
{
    (void)state;
    wh_buf_t b = WH_BUF_INIT;
    assert_int_equal(wh_buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_int_equal(wh_buf_printf(&b, "%s", "yz"), 0);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "42-xyz", 6);
    wh_buf_free(&b);
}

static void test_reserve_overflow_refused(void **state)
{
    (void)state;
    wh_buf_t b = WH_BUF_INIT;
    assert_int_equal(wh_buf_reserve(&b, SIZE_MAX), -1);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grow_consume),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_reserve_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
