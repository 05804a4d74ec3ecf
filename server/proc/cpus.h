/* How many CPUs this process may really use: its affinity mask, capped by the container's CPU
 * quota (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us). The default worker
 * count, as gunicorn users expect it from WEB_CONCURRENCY or the machine. */
#ifndef WSGIHOST_CPUS_H
#define WSGIHOST_CPUS_H

/* The CPU quota under `cgroup_root` (normally /sys/fs/cgroup), rounded up to whole CPUs, or 0
 * when there is none (unlimited or no cgroup files). */
int wh_cgroup_cpu_quota(const char *cgroup_root);

/* CPUs usable: min(affinity, quota), at least 1. */
int wh_usable_cpus(const char *cgroup_root);

/* The default number of workers: WEB_CONCURRENCY when set to a positive number (`web_concurrency`
 * is its text or NULL), else wh_usable_cpus. */
int wh_default_workers(const char *web_concurrency, const char *cgroup_root);

#endif
