/* lse_bound.c - the leading-order relative error bounds of lse.h (smx_lse_error_bound,
 * smx_softmax_error_bound) and the expressions of BHH's experiment scripts (*_bhh). */
#include "lse.h"
#include "smx.h"

#include <math.h>

/* first-order constant of summing m positive terms */
static double sigma(size_t m, smx_sum_algo_t sum)
{
    if (m < 2) return 0;
    switch (sum) {
    case SMX_SUM_PAIRWISE: return smx_ceil_log2(m);
    case SMX_SUM_COMPENSATED: return 1;
    default: return (double)(m - 1);
    }
}

typedef struct { double a, b, D, L, ay, cm; } shape_t;

static shape_t shape(smx_lse_algo_t algo, smx_sum_algo_t sum, const double *x, size_t n, double lse)
{
    shape_t s = {x[0], x[0], 0, 0, fabs(lse), 0};
    double K = 0, run = x[0];
    for (size_t i = 1; i < n; i++) {
        if (x[i] > s.a) s.a = x[i];
        if (x[i] < s.b) s.b = x[i];
        if (x[i] > run) { run = x[i]; K++; }
    }
    s.D = s.a - s.b;
    s.L = lse - s.a;
    if (algo == SMX_LSE_ONLINE) s.cm = sum == SMX_SUM_PAIRWISE ? 3.0 * smx_ceil_log2(n) : (double)n + 2 * K;
    return s;
}

double smx_lse_error_bound(smx_lse_algo_t algo, smx_sum_algo_t sum, const double *x, size_t n, double lse)
{
    shape_t s = shape(algo, sum, x, n, lse);
    switch (algo) {
    case SMX_LSE_NAIVE: return 1 + (sigma(n, sum) + 1) / s.ay;
    case SMX_LSE_SHIFTED: return (s.ay + s.L + s.D + sigma(n, sum) + 1) / s.ay;
    case SMX_LSE_LOG1P: return (s.ay + s.L + s.D + sigma(n - 1, sum) + 1) / s.ay;
    case SMX_LSE_ONLINE: return (s.ay + s.L + s.D + s.cm) / s.ay;
    case SMX_LSE_TWOPASS: {
        double nl = nearbyint(s.a / M_LN2) * M_LN2;
        return (s.ay + fabs(lse - nl) + fabs(nl) + sigma(n, sum) + 1) / s.ay;
    }
    default: return 0.5;
    }
}

double smx_softmax_error_bound(smx_lse_algo_t algo, smx_sum_algo_t sum, const double *x, size_t n, double lse)
{
    shape_t s = shape(algo, sum, x, n, lse);
    switch (algo) {
    case SMX_LSE_NAIVE: return sigma(n, sum) + 3;
    case SMX_LSE_SHIFTED: return 2 * s.D + sigma(n, sum) + 3;
    case SMX_LSE_LOG1P: return 2 * s.D + sigma(n - 1, sum) + 4;
    case SMX_LSE_ONLINE: return 2 * s.D + s.cm + 2;
    case SMX_LSE_TWOPASS: return sigma(n, sum) + 3;
    default: return 0.5;
    }
}

double smx_lse_error_bound_bhh(smx_lse_algo_t algo, const double *x, size_t n, double lse)
{
    shape_t s = shape(algo, SMX_SUM_NAIVE, x, n, lse);
    if (algo == SMX_LSE_NAIVE) return 1 + ((double)n + 1) / s.ay;
    return fabs(lse + (double)n - s.b) / s.ay;
}

double smx_softmax_error_bound_bhh(smx_lse_algo_t algo, const double *x, size_t n, double lse)
{
    shape_t s = shape(algo, SMX_SUM_NAIVE, x, n, lse);
    if (algo == SMX_LSE_NAIVE) return (double)n + 3;
    return (double)n + 2 + 2 * s.D;
}
