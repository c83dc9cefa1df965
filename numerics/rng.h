/* rng.h - seeded random streams: one gsl_rng (MT19937) per seed, independent streams per index. */
#ifndef SMX_RNG_H
#define SMX_RNG_H

#include <gsl/gsl_rng.h>

/* A gsl_rng (MT19937) seeded with seed; for stream i of a parallel job use
 * smx_rng_alloc_stream(seed, i): independent, reproducible whatever the thread count
 * (the stream's seed is SplitMix64 of (seed, i)). NULL when out of memory. */
gsl_rng *smx_rng_alloc(unsigned long seed);
gsl_rng *smx_rng_alloc_stream(unsigned long seed, unsigned long stream);

#endif
