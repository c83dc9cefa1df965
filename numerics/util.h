/* util.h - RNG seeding, wall-clock timing and progress reporting for long runs. */
#ifndef SMX_UTIL_H
#define SMX_UTIL_H

#include <gsl/gsl_rng.h>

/* A gsl_rng (MT19937) seeded with seed; for stream i of a parallel job use
 * smx_rng_alloc_stream(seed, i): independent, reproducible whatever the thread count. */
gsl_rng *smx_rng_alloc(unsigned long seed);
gsl_rng *smx_rng_alloc_stream(unsigned long seed, unsigned long stream);

/* Bytes of memory this process can still get: the least of physical memory, RLIMIT_AS and
 * RLIMIT_DATA (minus what is mapped now for the address-space limits). */
double smx_mem_available(void);

/* Monotonic wall-clock seconds. */
double smx_time_now(void);

/* Progress on stderr: a bar with rate and ETA when stderr is a terminal, otherwise one
 * line every 5 seconds. quiet = 1 disables it. */
typedef struct {
    const char *label;
    double total, t0, last;
    int tty, quiet;
} smx_progress_t;

void smx_progress_start(smx_progress_t *p, const char *label, double total, int quiet);
void smx_progress_update(smx_progress_t *p, double done);
void smx_progress_finish(smx_progress_t *p);

#endif
