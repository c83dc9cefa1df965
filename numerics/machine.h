/* machine.h - what the machine gives this process: wall-clock time and available memory. */
#ifndef SMX_MACHINE_H
#define SMX_MACHINE_H

#include <stddef.h>

/* Monotonic wall-clock seconds (CLOCK_MONOTONIC). */
double smx_time_now(void);
/* The median of t[0..n) (n >= 1; t is sorted in place): the upper median t[n / 2] for even n, as the
 * benchmarks report it. NaN entries sort last. */
double smx_time_median(double *t, size_t n);

/* Bytes of memory this process can still get: the least of physical memory, RLIMIT_AS and
 * RLIMIT_DATA (minus what is mapped now for the address-space limits) and the memory cgroup's
 * limit minus its usage (smx_mem_cgroup_left_at("")). */
double smx_mem_available(void);
/* The same with the cgroup files read below ROOT (smx_mem_cgroup_left_at(root)); physical memory and
 * the limits are this process's. smx_mem_available() is smx_mem_available_at(""). */
double smx_mem_available_at(const char *root);

/* Memory cgroup's limit minus usage, read below ROOT ("" = this machine; tests pass a fake tree):
 * the groups named in ROOT/proc/self/cgroup, v2 ("0::/G": ROOT/sys/fs/cgroup/G/memory.max -
 * memory.current) or v1 ("N:memory:/G": ROOT/sys/fs/cgroup/memory/G/memory.limit_in_bytes -
 * memory.usage_in_bytes), each both at G and at the mount's root (inside a container the mount is
 * the container's own group). HUGE_VAL if no limit is set ("max", >= 2^60 or no file). */
double smx_mem_cgroup_left_at(const char *root);

#endif
