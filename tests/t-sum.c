/* t-sum.c - summation in a format: fast path == MPFR path bit for bit (p <= 25), Higham's
 * error bounds for naive / pairwise / compensated summation against an exact MPFR sum, and
 * the saturation of naive summation of ones at 2^p (precision sweep over formats). */
#include "format.h"
#include "smx.h"
#include "sum.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <string.h>

static int same(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

/* exact sum of doubles (MPFR with enough bits: exponent span 2100 + log2 n) */
static double exact_sum(const double *x, size_t n, double *abs_sum)
{
    mpfr_t s, a;
    mpfr_inits2(2200, s, a, (mpfr_ptr)0);
    mpfr_set_zero(s, 1);
    mpfr_set_zero(a, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_add_d(s, s, x[i], MPFR_RNDN);
        mpfr_add_d(a, a, fabs(x[i]), MPFR_RNDN);
    }
    double r = mpfr_get_d(s, MPFR_RNDN);
    *abs_sum = mpfr_get_d(a, MPFR_RNDN);
    mpfr_clears(s, a, (mpfr_ptr)0);
    return r;
}

static double mpfr_path(const double *x, size_t n, smx_sum_algo_t algo, const smx_format_t *f)
{
    mpfr_t *m = malloc(n * sizeof *m), s;
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(m[i], 53);
        mpfr_set_d(m[i], x[i], MPFR_RNDN);
    }
    mpfr_init2(s, f->p);
    smx_sum_mpfr(s, m, n, algo, f);
    double r = mpfr_get_d(s, MPFR_RNDN);
    for (size_t i = 0; i < n; i++) mpfr_clear(m[i]);
    free(m);
    mpfr_clear(s);
    return r;
}

int main(void)
{
    const char *fmts[] = {"bf16", "fp16", "tf32", "fp32", "fp64", "p13"};
    gsl_rng *r = smx_rng_alloc(2385);
    enum { N = 1000 };
    double x[N];
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        smx_format_t f;
        smx_format_get(&f, fmts[k]);
        double u = smx_format_u(&f);
        for (int algo = SMX_SUM_NAIVE; algo < SMX_SUM_NALGOS; algo++) {
            long mism = 0;
            double worst = 0;
            for (int trial = 0; trial < 40; trial++) {
                size_t n = 2 + gsl_rng_uniform_int(r, N - 1);
                for (size_t i = 0; i < n; i++) /* mixed signs and magnitudes, in the format */
                    x[i] = smx_format_round((gsl_rng_uniform(r) - 0.3) * exp(1.5 * gsl_ran_ugaussian(r)), &f);
                double fast = smx_sum(x, n, (smx_sum_algo_t)algo, &f);
                if (f.p <= 25 && !same(fast, mpfr_path(x, n, (smx_sum_algo_t)algo, &f))) mism++;
                double A, s = exact_sum(x, n, &A);
                /* Higham (2002) ch. 4: |err| <= gamma_{n-1} sum|x| (naive), gamma_{ceil log2 n}
                 * sum|x| (pairwise), (2u + O(n u^2)) sum|x| + u|s| (compensated, eq. 4.11) */
                double lg = ceil(log2((double)n)), c;
                if (algo == SMX_SUM_NAIVE || algo == SMX_SUM_MAXFIRST) c = (n - 1) * u / (1 - (n - 1) * u) * A;
                else if (algo == SMX_SUM_PAIRWISE) c = lg * u / (1 - lg * u) * A;
                else c = u * fabs(s) + (2 * u + 2 * n * u * u) * A / (1 - 2 * n * u * u) ;
                double ratio = fabs(fast - s) / c;
                if (ratio > worst) worst = ratio;
            }
            if (f.p <= 25) ok(mism == 0, "%s %s: fast == MPFR bit for bit on 40 vectors", f.name, smx_sum_algo_name(algo));
            ok(worst <= 1, "%s %s: error within Higham's bound (worst %.3g of it)", f.name, smx_sum_algo_name(algo), worst);
        }
    }
    /* saturation: naive sum of n ones stops at 2^p (2^p + 1 ties to even 2^p); pairwise and
     * compensated reach n exactly (n <= 2^(p+1) fits) */
    const char *sat[] = {"bf16", "fp16", "p5", "p13"};
    for (size_t k = 0; k < 4; k++) {
        smx_format_t f;
        smx_format_get(&f, sat[k]);
        size_t n = (size_t)1 << (f.p + 1);
        double *ones = malloc(n * sizeof *ones);
        for (size_t i = 0; i < n; i++) ones[i] = 1.0;
        double nv = smx_sum(ones, n, SMX_SUM_NAIVE, &f), pw = smx_sum(ones, n, SMX_SUM_PAIRWISE, &f),
               cp = smx_sum(ones, n, SMX_SUM_COMPENSATED, &f);
        ok(nv == ldexp(1.0, f.p) && pw == (double)n && cp == (double)n,
           "%s: sum of 2^%d ones: naive saturates at 2^p = %g, pairwise %g, compensated %g", f.name, f.p + 1, nv, pw, cp);
        ok(same(nv, mpfr_path(ones, n, SMX_SUM_NAIVE, &f)), "%s: MPFR path saturates at the same value", f.name);
        free(ones);
    }
    /* maxfirst: the first largest term first, then the others in index order. In fp16,
     * (1 + 2^-11) + 2^-11 ties to 1 twice, while 2^-11 + 2^-11 + 1 = 1 + 2^-10: the order shows */
    {
        smx_format_t h;
        smx_format_get(&h, "fp16");
        double v[4] = {0x1p-11, 1.0, 0x1p-11, 1.0}, w[3] = {0x1p-11, 0x1p-11, 1.0};
        mpfr_t ms, mv[4];
        mpfr_init2(ms, 11);
        for (int i = 0; i < 4; i++) { mpfr_init2(mv[i], 11); mpfr_set_d(mv[i], v[i], MPFR_RNDN); }
        smx_sum_mpfr(ms, mv, 4, SMX_SUM_MAXFIRST, &h);
        ok(smx_sum(v, 4, SMX_SUM_MAXFIRST, &h) == 2.0 && smx_sum(w, 3, SMX_SUM_MAXFIRST, &h) == 1.0 &&
               smx_sum(w, 3, SMX_SUM_NAIVE, &h) == 1.0 + 0x1p-10 && mpfr_cmp_d(ms, 2.0) == 0 && smx_argmax(v, 4) == 1,
           "maxfirst in fp16: first max (index 1) first, ties 1 + 2^-11 -> 1 (fast and MPFR), naive differs");
        for (int i = 0; i < 4; i++) mpfr_clear(mv[i]);
        mpfr_clear(ms);
    }
    /* names and edge cases */
    smx_sum_algo_t a;
    ok(smx_sum_algo_parse(&a, "sequential") == SMX_OK && a == SMX_SUM_NAIVE && smx_sum_algo_parse(&a, "kahan") == SMX_OK &&
           a == SMX_SUM_COMPENSATED && smx_sum_algo_parse(&a, "max-first") == SMX_OK && a == SMX_SUM_MAXFIRST &&
           !strcmp(smx_sum_algo_name(SMX_SUM_MAXFIRST), "maxfirst") && smx_sum_algo_parse(&a, "random") == SMX_EDOM && smx_sum_algo_parse(&a, NULL) == SMX_EDOM,
       "algorithm names parsed, unknown rejected");
    smx_format_t f;
    smx_format_get(&f, "fp16");
    double inf2[3] = {INFINITY, 2.385, -1.5}, nan3[3] = {2.385, NAN, 1.0}, big[2] = {65504, 65504};
    ok(smx_sum(x, 0, SMX_SUM_PAIRWISE, &f) == 0 && isinf(smx_sum(inf2, 3, SMX_SUM_NAIVE, &f)) &&
           isnan(smx_sum(nan3, 3, SMX_SUM_PAIRWISE, &f)) && isinf(smx_sum(big, 2, SMX_SUM_NAIVE, &f)),
       "empty sum 0, Inf and NaN propagate, fp16 overflow to Inf");
    gsl_rng_free(r);
    /* smx_ceil_log2: the pairwise tree's depth ceil(log2 n): 2^(k-1) < n <= 2^k gives k, checked at every power of
     * two and its neighbours (exact integers: log2 in floating point cannot tell 2^62 from 2^62 + 1), and against
     * ceil(log2 n) in double for n = 3 .. 10^5 */
    {
        int good = smx_ceil_log2(0) == 0 && smx_ceil_log2(1) == 0 && smx_ceil_log2(((size_t)1 << 63) + 1) == 64;
        for (int k = 1; k <= 63; k++) {
            size_t p2 = (size_t)1 << k;
            good &= smx_ceil_log2(p2) == k && smx_ceil_log2(p2 + 1) == k + 1 && smx_ceil_log2(p2 - 1) == (k == 1 ? 0 : k);
        }
        for (size_t n = 3; n <= 100000; n++) good &= smx_ceil_log2(n) == (int)ceil(log2((double)n));
        ok(good, "smx_ceil_log2(n) = ceil(log2 n): k at 2^k, k + 1 at 2^k + 1, k at 2^k - 1 (k = 1..63), n = 3..1e5 "
                 "against libm, 0 for n = 0, 1");
    }
    return tap_done();
}
