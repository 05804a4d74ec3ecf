/* server/static_path: what a request path may name beneath a static root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/static/path.h"

static wh_static_path_kind_t norm(const char *path, char *out)
{
    return wh_static_path_normalize(path, strlen(path), out, WH_STATIC_PATH_MAX + 1);
}

static void test_plain_files(void **state)
{
    (void)state;
    char out[WH_STATIC_PATH_MAX + 1];
    assert_int_equal(norm("css/app.css", out), WH_STATIC_PATH_FILE);
    assert_string_equal(out, "css/app.css");
    assert_int_equal(norm("a", out), WH_STATIC_PATH_FILE);
    assert_string_equal(out, "a");
    assert_int_equal(norm("dir.with.dots/file-1_2~x.js", out), WH_STATIC_PATH_FILE);
    assert_int_equal(norm("caf\xc3\xa9.txt", out), WH_STATIC_PATH_FILE); /* UTF-8 is fine */
    assert_int_equal(norm("50%off.png", out), WH_STATIC_PATH_FILE);      /* not an escape */
    assert_int_equal(norm("a%41.txt", out), WH_STATIC_PATH_FILE);        /* harmless one */
}

static void test_directories(void **state)
{
    (void)state;
    char out[WH_STATIC_PATH_MAX + 1];
    assert_int_equal(norm("", out), WH_STATIC_PATH_DIR);
    assert_string_equal(out, "");
    assert_int_equal(norm("docs/", out), WH_STATIC_PATH_DIR);
    assert_string_equal(out, "docs");
    assert_int_equal(norm("a/b/", out), WH_STATIC_PATH_DIR);
    assert_string_equal(out, "a/b");
}

static void test_traversal_refused(void **state)
{
    (void)state;
    char out[WH_STATIC_PATH_MAX + 1];
    static const char *const bad[] = {
        "..",
        "../etc/passwd",
        "a/../../etc/passwd",
        "a/..",
        "./a",
        "a/./b",
        "a//b",
        "/etc/passwd",
        "//etc/passwd",
        "a\\..\\b",
        "..\\etc",
        ".env",
        "a/.git/config",
        ".hidden/",
        "a/.",
        /* what a second decoding would make dangerous */
        "%2e%2e/etc/passwd",
        "%2E%2E/x",
        "a%2fb",
        "a%2F..%2Fb",
        "%5c..",
        "a%00.css",
        "%252e%252e/x",
        ".%2e/x",
        "%2e/x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (norm(bad[i], out) != WH_STATIC_PATH_INVALID)
            fail_msg("accepted %s", bad[i]);
    }
}

static void test_control_bytes_refused(void **state)
{
    (void)state;
    char out[WH_STATIC_PATH_MAX + 1];
    const char nul[] = {'a', '\0', 'b'};
    assert_int_equal(wh_static_path_normalize(nul, sizeof(nul), out, sizeof(out)),
                     WH_STATIC_PATH_INVALID);
    assert_int_equal(norm("a\nb", out), WH_STATIC_PATH_INVALID);
    assert_int_equal(norm("a\x7f", out), WH_STATIC_PATH_INVALID);
}

static void test_length_limits(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(wh_static_path_normalize("abcdefghij", 10, out, sizeof(out)),
                     WH_STATIC_PATH_INVALID);
    static char big[WH_STATIC_PATH_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    char *out2 = test_malloc(sizeof(big) + 1);
    assert_int_equal(wh_static_path_normalize(big, sizeof(big) - 1, out2, sizeof(big) + 1),
                     WH_STATIC_PATH_INVALID);
    test_free(out2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_files),       cmocka_unit_test(test_directories),
        cmocka_unit_test(test_traversal_refused), cmocka_unit_test(test_control_bytes_refused),
        cmocka_unit_test(test_length_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
