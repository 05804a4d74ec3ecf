/* server/cpus: the default worker count against fake cgroup trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/proc/cpus.h"

static char root[64];

static int make_root(void **state)
{
    (void)state;
    strcpy(root, "/tmp/wsgihost-cgroup-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_v2_quota_rounds_up(void **state)
{
    (void)state;
    write_file("cpu.max", "150000 100000\n");
    assert_int_equal(wh_cgroup_cpu_quota(root), 2);
}

static void test_v2_unlimited(void **state)
{
    (void)state;
    write_file("cpu.max", "max 100000\n");
    assert_int_equal(wh_cgroup_cpu_quota(root), 0);
}

static void test_v1_quota(void **state)
{
    (void)state;
    write_file("cpu/cpu.cfs_quota_us", "300000\n");
    write_file("cpu/cpu.cfs_period_us", "100000\n");
    assert_int_equal(wh_cgroup_cpu_quota(root), 3);
}

static void test_v1_unlimited(void **state)
{
    (void)state;
    write_file("cpu/cpu.cfs_quota_us", "-1\n");
    write_file("cpu/cpu.cfs_period_us", "100000\n");
    assert_int_equal(wh_cgroup_cpu_quota(root), 0);
}

static void test_quota_caps_affinity(void **state)
{
    (void)state;
    write_file("cpu.max", "50000 100000\n"); /* half a CPU: one worker */
    assert_int_equal(wh_usable_cpus(root), 1);
    assert_int_equal(wh_default_workers(NULL, root), 1);
}

static void test_web_concurrency_wins(void **state)
{
    (void)state;
    write_file("cpu.max", "50000 100000\n");
    assert_int_equal(wh_default_workers("7", root), 7);
    assert_int_equal(wh_default_workers("nonsense", root), 1);
    assert_int_equal(wh_default_workers("0", root), 1);
}

static void test_no_cgroup_uses_affinity(void **state)
{
    (void)state;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = wh_usable_cpus(root); /* empty tree: no quota */
    assert_true(cpus >= 1 && cpus <= online);
}

#define T(name) cmocka_unit_test_setup_teardown(name, make_root, remove_root)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_v2_quota_rounds_up),
        T(test_v2_unlimited),
        T(test_v1_quota),
        T(test_v1_unlimited),
        T(test_quota_caps_affinity),
        T(test_web_concurrency_wins),
        T(test_no_cgroup_uses_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
