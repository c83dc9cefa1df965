/* machine.c - wall-clock time and available memory (see machine.h). */
#include "machine.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double smx_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
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

double smx_mem_available(void)
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
    return avail > 0 ? avail : 0;
}
