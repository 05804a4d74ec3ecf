/* server/static_open (both the openat2 path and the forced fallback), server/static_manifest
 * and server/mime: resolution beneath a root in a temporary tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/static/mime.h"
#include "server/static/manifest.h"
#include "server/static/open.h"

static char base[64];
static int root_fd = -1;

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void sub(const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", base, rel);
}

static int setup(void **state)
{
    (void)state;
    strcpy(base, "/tmp/wh_static_test_XXXXXX");
    if (mkdtemp(base) == NULL)
        return -1;
    char p[256], q[256];
    sub("root", p, sizeof(p));
    mkdir(p, 0755);
    sub("root/css", p, sizeof(p));
    mkdir(p, 0755);
    put("root/css/app.css", "body{}");
    put("outside.txt", "secret");
    sub("root/up", p, sizeof(p));
    if (symlink("../outside.txt", p) != 0) /* relative, climbing out */
        return -1;
    sub("root/abs", p, sizeof(p));
    sub("outside.txt", q, sizeof(q));
    if (symlink(q, p) != 0) /* absolute */
        return -1;
    sub("root/inside", p, sizeof(p));
    if (symlink("css/app.css", p) != 0) /* stays inside */
        return -1;
    sub("root/css/back", p, sizeof(p));
    if (symlink("../css/./app.css", p) != 0) /* climbs, but stays inside */
        return -1;
    sub("root/loop", p, sizeof(p));
    if (symlink("loop", p) != 0)
        return -1;
    sub("root", p, sizeof(p));
    root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return root_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    close(root_fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void expect_opens(const char *rel, const char *content)
{
    int fd = wh_static_open(root_fd, rel);
    if (fd < 0)
        fail_msg("cannot open %s: %s", rel, strerror(errno));
    char buf[64] = {0};
    assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
    close(fd);
    assert_string_equal(buf, content);
}

static void expect_refused(const char *rel)
{
    int fd = wh_static_open(root_fd, rel);
    if (fd >= 0) {
        close(fd);
        fail_msg("opened %s", rel);
    }
}

static void check_rules(void)
{
    expect_opens("css/app.css", "body{}");
    expect_opens("inside", "body{}");
    expect_opens("css/back", "body{}");
    expect_refused("up");
    expect_refused("abs");
    expect_refused("../outside.txt");
    expect_refused("css/../../outside.txt");
    expect_refused("/etc/passwd");
    expect_refused("loop");
    expect_refused("missing");
    int fd = wh_static_open(root_fd, "css");
    assert_true(fd >= 0); /* directories open; the cache sees S_ISDIR */
    close(fd);
}

/* openat2 on kernels that have it, or the walk when main forced it (the mode is decided once
 * per process, so ctest runs this file twice). */
static void test_open_rules(void **state)
{
    (void)state;
    check_rules();
}

static void test_manifest(void **state)
{
    (void)state;
    static const char json[] =
        "{\"paths\": {\"css/app.css\": \"css/app.4f2a9c1b3d5e.css\", \"x\\u00e9.js\": "
        "\"x\\u00e9.0123456789ab.js\", \"n\": 3}, \"version\": \"1.1\", \"hash\": \"abc\", "
        "\"nested\": {\"a\": [1, {\"b\": null}], \"c\": true}}";
    wh_manifest_t m;
    assert_int_equal(wh_manifest_parse(&m, json, strlen(json)), 0);
    assert_int_equal(m.count, 2);
    assert_true(wh_manifest_contains(&m, "css/app.4f2a9c1b3d5e.css"));
    assert_true(wh_manifest_contains(&m, "x\xc3\xa9.0123456789ab.js"));
    assert_false(wh_manifest_contains(&m, "css/app.css"));
    wh_manifest_free(&m);
    static const char *const bad[] = {"",
                                      "{",
                                      "[]",
                                      "{\"paths\": {\"a\": }}",
                                      "{\"paths\" 1}",
                                      "{\"paths\": {\"a\": \"b\"}",
                                      "{\"a\": \"\\u0000\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (wh_manifest_parse(&m, bad[i], strlen(bad[i])) != -1)
            fail_msg("accepted %s", bad[i]);
    }
    assert_int_equal(wh_manifest_load(&m, "/nonexistent/staticfiles.json"), 0);
    assert_int_equal(m.count, 0);
}

static void test_mime(void **state)
{
    (void)state;
    assert_int_equal(wh_mime_load("/etc/mime.types"), 0);
    assert_string_equal(wh_mime_type("css/app.css"), "text/css; charset=utf-8");
    assert_string_equal(wh_mime_type("A.PNG"), "image/png");
    assert_string_equal(wh_mime_type("x.woff2"), "font/woff2");
    assert_string_equal(wh_mime_type("noext"), WH_MIME_DEFAULT);
    assert_string_equal(wh_mime_type(".bashrc"), WH_MIME_DEFAULT);
    assert_string_equal(wh_mime_type("dir.d/file"), WH_MIME_DEFAULT);
    assert_true(wh_mime_is_active("text/html; charset=utf-8"));
    assert_true(wh_mime_is_active("image/svg+xml; charset=utf-8"));
    assert_true(wh_mime_is_active("application/rss+xml"));
    assert_false(wh_mime_is_active("text/plain; charset=utf-8"));
    assert_false(wh_mime_is_active("image/png"));
    wh_mime_free();
    assert_string_equal(wh_mime_type("x.css"), "text/css; charset=utf-8");
}

int main(int argc, char **argv)
{
    /* "--fallback": the same rules through the O_NOFOLLOW walk (ctest runs both). */
    bool fallback = argc > 1 && strcmp(argv[1], "--fallback") == 0;
    if (fallback)
        setenv(WH_STATIC_NO_OPENAT2_ENV, "1", 1);
    wh_static_open_init();
    if (fallback && wh_static_open_uses_openat2())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rules),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_mime),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
