/* machine.c - wall-clock time and available memory (see machine.h). */
#include "machine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double smx_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_time(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

double smx_time_median(double *t, size_t n)
{
    qsort(t, n, sizeof *t, cmp_time);
    return t[n / 2];
}

/* the least of a limit and what is left of it */
static void limit_left(int resource, double used, double *avail)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double a = (double)rl.rlim_cur - used;
        if (a < *avail) *avail = a;
    }
}

/* one number from a file (a cgroup's limit or usage); -1 if absent, unreadable or "max" */
static double read_bytes(const char *root, const char *dir, const char *group, const char *file)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s%s%s/%s", root, dir, group, file) >= (int)sizeof path) return -1;
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    unsigned long long v;
    int ok = fscanf(fp, "%llu", &v) == 1;
    fclose(fp);
    return ok ? (double)v : -1;
}

/* limit - usage of one cgroup directory (v2: memory.max / memory.current; v1: memory.limit_in_bytes /
 * memory.usage_in_bytes); a limit of 2^60 or more is v1's "no limit" (PAGE_COUNTER_MAX) */
static void cgroup_left(const char *root, const char *dir, const char *group, int v2, double *avail)
{
    double lim = read_bytes(root, dir, group, v2 ? "memory.max" : "memory.limit_in_bytes");
    if (lim < 0 || lim >= 0x1p60) return;
    double use = read_bytes(root, dir, group, v2 ? "memory.current" : "memory.usage_in_bytes");
    double a = lim - (use > 0 ? use : 0);
    if (a < *avail) *avail = a > 0 ? a : 0;
}

double smx_mem_cgroup_left_at(const char *root)
{
    double avail = HUGE_VAL;
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    FILE *fp = fopen(path, "r");
    if (!fp) return avail;
    while (fgets(line, sizeof line, fp)) { /* "0::/PATH" (v2) or "N:memory:/PATH" (v1, possibly "memory,..." lists) */
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = 0;
        const char *ctl = c1 + 1, *group = c2 + 1;
        int v2 = *ctl == 0, v1 = 0;
        for (const char *m = ctl; !v2 && (m = strstr(m, "memory")); m += 6)
            if ((m == ctl || m[-1] == ',') && (m[6] == 0 || m[6] == ',')) v1 = 1;
        if (!v2 && !v1) continue;
        const char *dir = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        cgroup_left(root, dir, group, v2, &avail); /* the process's group as the host names it */
        cgroup_left(root, dir, "", v2, &avail);    /* a container's namespaced root (its own group) */
    }
    fclose(fp);
    return avail;
}

double smx_mem_available_at(const char *root)
{
    double page = (double)sysconf(_SC_PAGESIZE);
    double avail = (double)sysconf(_SC_PHYS_PAGES) * page;
    /* mapped now: /proc/self/statm fields 1 (size) and 6 (data + stack), in pages */
    double vsize = 0, data = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp) {
        unsigned long f[7] = {0};
        if (fscanf(fp, "%lu %lu %lu %lu %lu %lu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]) == 6) {
            vsize = (double)f[0] * page;
            data = (double)f[5] * page;
        }
        fclose(fp);
    }
    limit_left(RLIMIT_AS, vsize, &avail);
    limit_left(RLIMIT_DATA, data, &avail);
    double cg = smx_mem_cgroup_left_at(root);
    if (cg < avail) avail = cg;
    return avail > 0 ? avail : 0;
}

double smx_mem_available(void) { return smx_mem_available_at(""); }
