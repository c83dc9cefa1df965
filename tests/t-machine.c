/* t-machine.c - what the machine gives (numerics/machine.h): the memory cgroup's limit minus usage read
 * from fake cgroup trees (v2 and v1, the process's group and a container's namespaced root, "max" and
 * v1's 2^63-ish "no limit", a v1 controller list "cpu,memory"), smx_mem_available_at taking the least of
 * that and the process's own bounds (a fake cgroup below them is the answer to the byte, one far above them
 * changes nothing), and smx_mem_available honouring RLIMIT_AS (a lowered limit lowers the answer by about
 * as much). */
#include "machine.h"
#include "tap.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static void put(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    /* mkdir -p of the parent */
    snprintf(dir, sizeof dir, "%s", path);
    for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(dir, 0700);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void clean(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "# cannot remove %s\n", root);
    mkdir(root, 0700);
}

int main(void)
{
    snprintf(root, sizeof root, "%s/smx-t-machine.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
        ok(0, "mkdtemp %s", root);
        return 1;
    }

    ok(smx_mem_cgroup_left_at(root) == HUGE_VAL, "no /proc/self/cgroup: no cgroup limit (HUGE_VAL)");

    /* v2, limit in the process's group */
    put("proc/self/cgroup", "0::/user.slice/job-7\n");
    put("sys/fs/cgroup/user.slice/job-7/memory.max", "2385000000\n");
    put("sys/fs/cgroup/user.slice/job-7/memory.current", "385000000\n");
    ok(smx_mem_cgroup_left_at(root) == 2000000000.0, "v2: memory.max - memory.current = 2.385e9 - 3.85e8 = 2e9 (got %.17g)",
       smx_mem_cgroup_left_at(root));
    /* a tighter limit at the mount's root (a container's own group) wins */
    put("sys/fs/cgroup/memory.max", "1500000000\n");
    put("sys/fs/cgroup/memory.current", "238500000\n");
    ok(smx_mem_cgroup_left_at(root) == 1261500000.0, "v2: the least of the group's and the namespaced root's (got %.17g)",
       smx_mem_cgroup_left_at(root));
    put("sys/fs/cgroup/memory.max", "max\n");
    put("sys/fs/cgroup/user.slice/job-7/memory.max", "max\n");
    ok(smx_mem_cgroup_left_at(root) == HUGE_VAL, "v2: 'max' everywhere is no limit");
    /* usage above the limit: nothing left, never negative */
    put("sys/fs/cgroup/user.slice/job-7/memory.max", "1000\n");
    put("sys/fs/cgroup/user.slice/job-7/memory.current", "4096\n");
    ok(smx_mem_cgroup_left_at(root) == 0, "v2: usage above the limit gives 0, not a negative size");

    /* v1: the memory controller's line, also inside a controller list */
    clean();
    put("proc/self/cgroup", "9:name=systemd:/\n4:cpu,memory:/process_api/a18a\n0::/\n");
    put("sys/fs/cgroup/memory/process_api/a18a/memory.limit_in_bytes", "8589934592\n");
    put("sys/fs/cgroup/memory/process_api/a18a/memory.usage_in_bytes", "1059459072\n");
    put("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n"); /* v1 "no limit" */
    put("sys/fs/cgroup/memory/memory.usage_in_bytes", "1059459072\n");
    ok(smx_mem_cgroup_left_at(root) == 8589934592.0 - 1059459072.0,
       "v1 'cpu,memory' line: limit_in_bytes - usage_in_bytes; the root's 2^63 - 4096 is no limit (got %.17g)",
       smx_mem_cgroup_left_at(root));
    put("proc/self/cgroup", "4:cpu,memoryx:/process_api/a18a\n");
    ok(smx_mem_cgroup_left_at(root) == HUGE_VAL, "v1: a controller named 'memoryx' is not the memory controller");
    put("proc/self/cgroup", "4:memory:/nowhere\n");
    ok(smx_mem_cgroup_left_at(root) == HUGE_VAL, "v1: a group whose files are absent sets no limit");

    /* smx_time_median: the middle of the sorted times, the upper one for even n, NaN sorted last */
    {
        double a[] = {3.385, 1.5, 2.385}, b[] = {4.5, 0.25, 2.385, 1.0}, c[] = {NAN, 2.385, 0.5, 1.5, NAN};
        ok(smx_time_median(a, 3) == 2.385 && a[0] == 1.5 && a[2] == 3.385, "median of 3: the middle one, sorted in place");
        ok(smx_time_median(b, 4) == 2.385, "median of 4: the upper middle t[n/2]");
        ok(smx_time_median(c, 5) == 2.385 && isnan(c[3]) && isnan(c[4]), "NaN times sort last");
        double d[] = {7.0};
        ok(smx_time_median(d, 1) == 7.0, "median of 1");
    }

    /* smx_mem_available_at = min(physical memory and rlimits, the cgroup's limit - usage) */
    clean();
    double own = smx_mem_available_at(root); /* no proc/self/cgroup below root: the process's bounds alone */
    ok(own > 0 && isfinite(own), "no cgroup: smx_mem_available_at = physical memory / rlimits (%.3g bytes)", own);
    char num[64];
    double lim = floor(own / 4), use = floor(own / 16); /* integers < 2^53: the expected value is exact */
    put("proc/self/cgroup", "0::/job-8\n");
    snprintf(num, sizeof num, "%.0f\n", lim);
    put("sys/fs/cgroup/job-8/memory.max", num);
    snprintf(num, sizeof num, "%.0f\n", use);
    put("sys/fs/cgroup/job-8/memory.current", num);
    ok(smx_mem_available_at(root) == lim - use, "a cgroup limit below the process's bounds wins: max - current = "
       "%.17g (got %.17g)", lim - use, smx_mem_available_at(root));
    put("sys/fs/cgroup/job-8/memory.max", "288230376151711744\n"); /* 2^58: a limit, far above any machine */
    ok_rel(smx_mem_available_at(root), own, 1e-3, "a cgroup limit far above them changes nothing (%.3g)", own);

    /* the real machine: RLIMIT_AS lowers smx_mem_available to about limit - mapped */
#ifdef __SANITIZE_ADDRESS__
    /* ASan maps terabytes of shadow memory: an 8 GiB address-space limit would fail its allocator */
    ok(1, "# skip RLIMIT_AS check under ASan (its shadow memory exceeds any such limit); run by plain make test");
    ok(1, "# skip (second RLIMIT_AS check, same reason)");
#else
    double before = smx_mem_available();
    ok(before > 0 && isfinite(before), "smx_mem_available() on this machine: %.3g bytes", before);
    struct rlimit old, rl;
    getrlimit(RLIMIT_AS, &old);
    rl = old;
    rl.rlim_cur = (rlim_t)8 << 30; /* 8 GiB address space */
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < rl.rlim_cur) rl.rlim_cur = old.rlim_cur;
    int set = setrlimit(RLIMIT_AS, &rl) == 0;
    double after = smx_mem_available();
    ok(set && after <= (double)rl.rlim_cur && after < before, "RLIMIT_AS %.3g: available %.3g <= the limit and below %.3g",
       (double)rl.rlim_cur, after, before);
    setrlimit(RLIMIT_AS, &old);
#endif

    clean();
    rmdir(root);
    return tap_done();
}
