/* pyglue/pyhome: pyvenv.cfg's version and home; which interpreter a program at a path gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pyglue/pyhome.h"

/* A scratch directory per test: DIR/bin/ and, when cfg is not NULL, DIR/pyvenv.cfg. */
static char root[64]; /* small: every path built on it fits PATH_MAX */

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void make_tree(const char *cfg)
{
    snprintf(root, sizeof(root), "/tmp/wh-pyhome.XXXXXX");
    assert_non_null(mkdtemp(root));
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/bin", root);
    assert_int_equal(mkdir(path, 0700), 0);
    if (cfg != NULL) {
        snprintf(path, sizeof(path), "%s/pyvenv.cfg", root);
        write_file(path, cfg, 0600);
    }
}

static int remove_tree(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes pyvenv.cfg with `text` and checks what wh_pyvenv_read finds in it. */
static void assert_cfg_reads(const char *text, int want_minor, const char *want_home)
{
    make_tree(text);
    char cfg[PATH_MAX], home[PATH_MAX];
    snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", root);
    int major = 0, minor = 0;
    assert_int_equal(wh_pyvenv_read(cfg, &major, &minor, home, sizeof(home)), 1);
    assert_int_equal(major, 3);
    assert_int_equal(minor, want_minor);
    assert_string_equal(home, want_home);
}

static void test_venv_cfg(void **state)
{
    (void)state;
    assert_cfg_reads("home = /opt/py/bin\ninclude-system-site-packages = false\nversion = 3.12.1\n",
                     12, "/opt/py/bin");
}

static void test_virtualenv_cfg(void **state)
{
    (void)state;
    /* virtualenv's spelling, no spaces, CRLF */
    assert_cfg_reads("home=/usr/bin\r\nversion_info=3.11.2.final.0\r\n", 11, "/usr/bin");
}

static void test_cfg_without_version_or_missing(void **state)
{
    (void)state;
    make_tree("home = /usr/bin\n");
    char cfg[PATH_MAX];
    snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", root);
    int major = 0, minor = 0;
    assert_int_equal(wh_pyvenv_read(cfg, &major, &minor, NULL, 0), 0);
    snprintf(cfg, sizeof(cfg), "%s/absent.cfg", root);
    assert_int_equal(wh_pyvenv_read(cfg, &major, &minor, NULL, 0), -1);
}

static void test_locate_in_venv(void **state)
{
    (void)state;
    make_tree("home = /opt/py/bin\nversion = 3.13.0\n");
    char self[PATH_MAX], want[PATH_MAX];
    snprintf(self, sizeof(self), "%s/bin/wsgihost", root);
    wh_pyhome_t py;
    assert_int_equal(wh_pyhome_locate(self, "/usr/bin/python3.11", "python3.11", &py), 0);
    assert_string_equal(py.venv, root);
    snprintf(want, sizeof(want), "%s/bin/python", root);
    assert_string_equal(py.executable, want);
    assert_string_equal(py.home, "/opt/py/bin");
    assert_int_equal(py.minor, 13);
}

static void test_locate_outside_a_venv(void **state)
{
    (void)state;
    make_tree(NULL);
    char self[PATH_MAX], beside[PATH_MAX];
    snprintf(self, sizeof(self), "%s/bin/wsgihost", root);
    wh_pyhome_t py;
    /* the Debian build: the Python it was built with */
    assert_int_equal(wh_pyhome_locate(self, "/usr/bin/python3.11", "python3.11", &py), 0);
    assert_string_equal(py.venv, "");
    assert_string_equal(py.executable, "/usr/bin/python3.11");
    /* the pip build: python3.X on PATH, unless one is beside the program */
    assert_int_equal(wh_pyhome_locate(self, "", "python3.11", &py), 0);
    assert_string_equal(py.executable, "python3.11");
    snprintf(beside, sizeof(beside), "%s/bin/python3.11", root);
    write_file(beside, "#!/bin/sh\n", 0700);
    assert_int_equal(wh_pyhome_locate(self, "", "python3.11", &py), 0);
    assert_string_equal(py.executable, beside);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_venv_cfg, remove_tree),
        cmocka_unit_test_teardown(test_virtualenv_cfg, remove_tree),
        cmocka_unit_test_teardown(test_cfg_without_version_or_missing, remove_tree),
        cmocka_unit_test_teardown(test_locate_in_venv, remove_tree),
        cmocka_unit_test_teardown(test_locate_outside_a_venv, remove_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
