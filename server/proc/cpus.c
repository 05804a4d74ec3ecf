#include "server/proc/cpus.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PATH_TEXT_MAX = 512, LINE_MAX_LEN = 128 };

static int read_line(const char *root, const char *name, char *line, size_t size)
{
    char path[PATH_TEXT_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", root, name) >= (int)sizeof(path))
        return -1;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    char *ok = fgets(line, (int)size, f);
    fclose(f);
    return ok ? 0 : -1;
}

static int ceil_div(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long cpus = (quota + period - 1) / period;
    return cpus > 0 ? (int)cpus : 1;
}

int wh_cgroup_cpu_quota(const char *cgroup_root)
{
    char line[LINE_MAX_LEN];
    /* cgroup v2: "max 100000" (no limit) or "QUOTA PERIOD" */
    if (read_line(cgroup_root, "cpu.max", line, sizeof(line)) == 0) {
        char *end;
        long long quota = strtoll(line, &end, 10);
        if (strncmp(line, "max", 3) == 0 || end == line)
            return 0;
        return ceil_div(quota, strtoll(end, NULL, 10));
    }
    /* cgroup v1: quota -1 means no limit */
    char period_line[LINE_MAX_LEN];
    if (read_line(cgroup_root, "cpu/cpu.cfs_quota_us", line, sizeof(line)) == 0 &&
        read_line(cgroup_root, "cpu/cpu.cfs_period_us", period_line, sizeof(period_line)) == 0)
        return ceil_div(strtoll(line, NULL, 10), strtoll(period_line, NULL, 10));
    return 0;
}

int wh_usable_cpus(const char *cgroup_root)
{
    cpu_set_t set;
    int cpus = 1;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        cpus = CPU_COUNT(&set);
    int quota = wh_cgroup_cpu_quota(cgroup_root);
    if (quota > 0 && quota < cpus)
        cpus = quota;
    return cpus > 0 ? cpus : 1;
}

int wh_default_workers(const char *web_concurrency, const char *cgroup_root)
{
    if (web_concurrency && *web_concurrency) {
        char *end;
        long n = strtol(web_concurrency, &end, 10);
        if (*end == '\0' && n > 0 && n < 10000)
            return (int)n;
    }
    return wh_usable_cpus(cgroup_root);
}
