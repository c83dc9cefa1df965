/* rng.c - seeded random streams (see rng.h). */
#include "rng.h"

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
