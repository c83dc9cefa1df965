/* util.c - RNG seeding, timing, progress (see util.h). */
#include "util.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

gsl_rng *smx_rng_alloc(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) gsl_rng_set(r, seed);
    return r;
}

gsl_rng *smx_rng_alloc_stream(unsigned long seed, unsigned long stream)
{
    /* SplitMix64 of (seed, stream): distinct well-mixed seeds for each stream */
    unsigned long long z = (unsigned long long)seed * 0x9E3779B97F4A7C15ULL + stream + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return smx_rng_alloc((unsigned long)(z & 0xFFFFFFFFUL));
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
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double a = (double)rl.rlim_cur - vsize;
        if (a < avail) avail = a;
    }
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double a = (double)rl.rlim_cur - data;
        if (a < avail) avail = a;
    }
    return avail > 0 ? avail : 0;
}

double smx_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void smx_progress_start(smx_progress_t *p, const char *label, double total, int quiet)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = smx_time_now();
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
}

void smx_progress_update(smx_progress_t *p, double done)
{
    if (p->quiet) return;
    double now = smx_time_now();
    if (now - p->last < (p->tty ? 0.2 : 5.0)) return;
    p->last = now;
    double el = now - p->t0, rate = done / (el > 0 ? el : 1e-9);
    double eta = rate > 0 ? (p->total - done) / rate : 0;
    double frac = p->total > 0 ? done / p->total : 0;
    if (p->tty) {
        char bar[31];
        int k = (int)(30 * frac);
        for (int i = 0; i < 30; i++) bar[i] = i < k ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %5.1f%% %.3g/s ETA %.0fs ", p->label, bar, 100 * frac, rate, eta);
    } else {
        fprintf(stderr, "%s: %.0f/%.0f (%.1f%%) %.3g/s ETA %.0fs\n", p->label, done, p->total, 100 * frac, rate, eta);
    }
}

void smx_progress_finish(smx_progress_t *p)
{
    if (p->quiet) return;
    double el = smx_time_now() - p->t0;
    fprintf(stderr, "%s%s: done in %.1fs\n", p->tty ? "\r" : "", p->label, el);
}
