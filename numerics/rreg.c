/* rreg.c - the out-of-line part of the rounded register machine (rreg.h). */
#include "rreg.h"

#include <stdint.h>
#include <string.h>

/* smx_rr_exp_n's test (rreg.h, where its argument is given) with fl = binary32. Clones for
 * AVX-512, AVX2 and the baseline chosen at load time (GCC target_clones); every clone does the
 * same IEEE operations per element (no FP contraction under -std=c11): the same values. */
__attribute__((target_clones("avx512f", "avx2", "default")))
int smx_rr_pin_f32(double *restrict y, const double *restrict x, size_t n)
{
    /* branch-free: GCC will not if-convert a floating-point select under -ftrapping-math, so the
     * result is chosen by masking its bits (fl(v - d) or the quiet NaN) */
    long redo = 0;
#pragma omp simd reduction(+ : redo)
    for (size_t i = 0; i < n; i++) {
        const double v = y[i], d = fabs(v) * 0x1p-49;
        const double lo = (double)(float)(v - d), hi = (double)(float)(v + d);
        const int64_t keep = (int64_t)(lo == hi) & (int64_t)(fabs(x[i]) <= 650.0);
        int64_t b;
        memcpy(&b, &lo, sizeof b);
        b = (b & -keep) | (INT64_C(0x7ff8000000000000) & (keep - 1));
        memcpy(&y[i], &b, sizeof b);
        redo += 1 - keep;
    }
    return redo != 0;
}
