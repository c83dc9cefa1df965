/* t-dispersion.c - smx-dispersion closed forms (experiments/dispersion_theory.c) against
 * materialised vectors in MPFR and double, Lemma 2.1 on random logit sets, the SSMax threshold,
 * the papers' numbers, and summation saturation at 2^p (sum.h) in each emulated format. */
#include "dispersion_io.h"
#include "dispersion_theory.h"
#include "lse.h"
#include "smx.h"
#include "sum.h"
#include "tap.h"
#include "temperature.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

/* |t| <= 2^e */
static int tiny(const mpfr_t t, mpfr_exp_t e) { return mpfr_zero_p(t) || mpfr_get_exp(t) <= e; }

/* p_max, entropy and log-leakage of [beta Delta, 0, ..., 0] materialised in MPFR (reference
 * softmax at 300 bits) vs the closed forms at 256 bits. */
static void check_gap_mpfr(size_t n, double beta, double Delta)
{
    smx_format_t f;
    smx_format_pN(&f, 300);
    mpfr_t *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), h, t, c;
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(x[i], 300);
        mpfr_init2(y[i], 300);
        mpfr_set_ui(x[i], 0, MPFR_RNDN);
    }
    mpfr_set_d(x[0], beta, MPFR_RNDN);
    mpfr_mul_d(x[0], x[0], Delta, MPFR_RNDN);
    int st = smx_softmax_mpfr(y, x, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &f);
    mpfr_inits2(300, h, t, c, (mpfr_ptr)0);
    /* H = -sum y ln y over the vector */
    mpfr_set_ui(h, 0, MPFR_RNDN);
    for (size_t i = 0; i < n; i++) {
        mpfr_log(t, y[i], MPFR_RNDN);
        mpfr_mul(t, t, y[i], MPFR_RNDN);
        mpfr_sub(h, h, t, MPFR_RNDN);
    }
    dispersion_pmax_gap_mpfr(c, (double)n, beta, Delta);
    mpfr_sub(t, c, y[0], MPFR_RNDN);
    mpfr_div(t, t, c, MPFR_RNDN);
    ok(st == SMX_OK && tiny(t, -240), "p_max closed form = materialised MPFR, n=%zu beta=%g Delta=%g (rel %.3g)",
       n, beta, Delta, mpfr_get_d(t, MPFR_RNDN));
    dispersion_entropy_gap_mpfr(c, (double)n, beta, Delta);
    mpfr_sub(t, c, h, MPFR_RNDN);
    ok(tiny(t, -230), "entropy closed form = materialised MPFR, n=%zu (abs %.3g)", n,
       mpfr_get_d(t, MPFR_RNDN));
    /* ln(1 - p) from the vector: ln(sum of the others) */
    mpfr_set_ui(h, 0, MPFR_RNDN);
    for (size_t i = 1; i < n; i++) mpfr_add(h, h, y[i], MPFR_RNDN);
    mpfr_log(h, h, MPFR_RNDN);
    dispersion_log_leakage_mpfr(c, (double)n, beta, Delta);
    mpfr_sub(t, c, h, MPFR_RNDN);
    ok(tiny(t, -220), "log-leakage closed form = ln(sum of the others), n=%zu (abs %.3g)", n,
       mpfr_get_d(t, MPFR_RNDN));
    /* the Lemma 2.1 bounds hold on this vector too */
    dispersion_lemma_upper_mpfr(c, (double)n, beta, Delta);
    int in = mpfr_cmp(y[0], c) <= 0;
    dispersion_lemma_lower_mpfr(c, (double)n, beta, Delta);
    in = in && mpfr_cmp(y[n - 1], c) >= 0;
    ok(in, "Lemma 2.1 bounds hold on the gap vector, n=%zu", n);
    for (size_t i = 0; i < n; i++) mpfr_clear(x[i]), mpfr_clear(y[i]);
    mpfr_clears(h, t, c, (mpfr_ptr)0);
    free(x), free(y);
}

/* Lemma 2.1 on random logits in [m, m + delta] (endpoints attained), through smx_softmax_temp. */
static void check_lemma_random(gsl_rng *r)
{
    static const size_t ns[] = {2, 3, 10, 97, 1000, 10007, 100003};
    static const double deltas[] = {2.28, 5.69, 14.78};
    static const double thetas[] = {1.0, 0.385, 2.5};
    smx_format_t f64;
    smx_format_get(&f64, "fp64");
    size_t nmax = 100003;
    double *x = malloc(nmax * sizeof *x), *y = malloc(nmax * sizeof *y);
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (int d = 0; d < 3; d++)
            for (int k = 0; k < 3; k++) {
                size_t n = ns[a];
                double m = -3.7 + 8 * gsl_rng_uniform(r), beta = 1 / thetas[k];
                for (size_t i = 0; i < n; i++) x[i] = m + deltas[d] * gsl_rng_uniform(r);
                x[0] = m + deltas[d];
                x[n - 1] = m;
                smx_softmax_temp(y, x, n, thetas[k], &f64);
                double up = dispersion_lemma_upper((double)n, beta, deltas[d]),
                       lo = dispersion_lemma_lower((double)n, beta, deltas[d]);
                int good = 1;
                for (size_t i = 0; i < n; i++) good &= y[i] <= up * (1 + 1e-12) && y[i] >= lo * (1 - 1e-12);
                ok(good, "Lemma 2.1: e^{-delta/theta}/n <= alpha_k <= e^{delta/theta}/n, n=%zu delta=%g theta=%g", n,
                   deltas[d], thetas[k]);
            }
    free(x), free(y);
}

/* SSMax: p_max = 1/(1 + (n-1) n^{-s Delta}): = n/(2n-1) at s Delta = 1; -> 1 above, -> 0 below. */
static void check_ssmax(void)
{
    for (int k = 1; k <= 30; k += 7) {
        double n = exp2(k);
        ok_rel(dispersion_pmax_gap(n, 0.43 * log(n), 1 / 0.43), n / (2 * n - 1), 1e-14,
               "SSMax threshold s*Delta = 1: p_max = n/(2n-1), n = 2^%d", k);
    }
    double prev_hi = 0, prev_lo = 1;
    int mono_hi = 1, mono_lo = 1;
    for (int k = 4; k <= 40; k++) {
        double n = exp2(k), hi = dispersion_pmax_gap(n, 1.1 * log(n), 1), lo = dispersion_pmax_gap(n, 0.9 * log(n), 1);
        mono_hi &= hi > prev_hi, mono_lo &= lo < prev_lo;
        prev_hi = hi, prev_lo = lo;
    }
    ok(mono_hi && prev_hi > 0.93, "s*Delta = 1.1: p_max increases towards 1 (%.4f at 2^40)", prev_hi);
    ok(mono_lo && prev_lo < 0.07, "s*Delta = 0.9: p_max decreases towards 0 (%.4f at 2^40)", prev_lo);
    /* the vector through smx_ssmax (temperature.h) equals the closed form */
    smx_format_t f64;
    smx_format_get(&f64, "fp64");
    double x[1000], y[1000];
    for (size_t n = 2; n <= 1000; n = n * 3 + 1) {
        x[0] = 3;
        for (size_t i = 1; i < n; i++) x[i] = -2;
        smx_ssmax(y, x, n, 0.43, &f64);
        ok_rel(y[0], dispersion_pmax_gap((double)n, dispersion_ssmax_beta(0.43, (double)n), 5), 1e-13,
               "SSMax vector = closed form, Fig 1 setup, n=%zu", n);
    }
    /* the papers' Fig 1 numbers, to their 3 decimals */
    ok_abs(dispersion_pmax_gap(2, dispersion_ssmax_beta(0.43, 2), 5), 0.816, 5e-4, "SSMax Fig 1: 0.816 at n = 2");
    ok_abs(dispersion_pmax_gap(10, dispersion_ssmax_beta(0.43, 10), 5), 0.940, 5e-4, "SSMax Fig 1: 0.940 at n = 10");
    ok_abs(dispersion_pmax_gap(100, dispersion_ssmax_beta(0.43, 100), 5), 0.995, 5e-4, "SSMax Fig 1: 0.995 at n = 100");
    ok_abs(dispersion_pmax_gap(1000, 1, 5), 0.129, 5e-4, "softmax Fig 1: 0.129 at n = 1000");
    ok_abs(dispersion_pmax_gap(1 + exp(5), 1, 5), 0.5, 1e-15, "softmax Fig 1: 0.5 at n = 1 + e^5 = 149.4");
}

/* Fig 3 closed form (geometric series) vs the spaced vector through smx_softmax_f64. */
static void check_fig3(void)
{
    static const size_t ns[] = {3, 10, 1000, 100000};
    double *x = malloc(100000 * sizeof *x), *y = malloc(100000 * sizeof *y);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++) {
            size_t n = ns[a];
            double beta = b == 0 ? 1 : b == 1 ? 0.43 * log((double)n) : 7.385, z = 2.385;
            x[0] = beta * z;
            for (size_t i = 1; i < n; i++) x[i] = beta * (double)(i - 1) / (double)(n - 2);
            smx_softmax_f64(y, x, n);
            ok_rel(y[0], dispersion_pz_spaced((double)n, beta, z), 1e-12, "Fig 3 closed form = vector, n=%zu beta=%g",
                   n, beta);
        }
    free(x), free(y);
}

/* beta* gives exactly p_max = 1 - eps; adaptive beta window and maximum (3 decimals). */
static void check_beta(void)
{
    double b = dispersion_beta_star(12345, 0.01, 5.69);
    ok_rel(dispersion_pmax_gap(12345, b, 5.69), 0.99, 1e-14, "p_max at beta*(n) = 1 - eps");
    double lo, hi, hm, bm;
    dispersion_adaptive_window(&lo, &hi, &hm, &bm);
    ok_abs(lo, 0.849, 5e-4, "adaptive beta > 1 from H = 0.849 (%.6f)", lo);
    /* the root is 5.94452: the science note's "5.944" is truncated, not rounded */
    ok(hi >= 5.944 && hi < 5.945, "adaptive beta > 1 up to H = 5.944... (%.6f)", hi);
    ok_abs(hm, 4.41, 5e-3, "adaptive beta maximal at H = 4.41 (%.6f)", hm);
    ok_abs(bm, 2.421, 5e-4, "adaptive beta maximum 2.421 (%.6f)", bm);
    ok(smx_adaptive_beta(lo - 1e-9) == 1 && smx_adaptive_beta(lo + 1e-6) > 1 && smx_adaptive_beta(hi + 1e-6) == 1,
       "window edges bracket beta = 1");
}

/* Sequential sums of n ones stop at 2^p exactly; pairwise / compensated keep going. */
static void check_saturation(void)
{
    static const char *names[] = {"bf16", "fp16", "fp32"};
    size_t nmax = ((size_t)3 << 23) + 8;
    double *ones = malloc(nmax * sizeof *ones);
    for (size_t i = 0; i < nmax; i++) ones[i] = 1.0;
    for (int k = 0; k < 3; k++) {
        smx_format_t f;
        smx_format_get(&f, names[k]);
        double P = exp2(f.p);
        size_t N = (size_t)P;
        ok(smx_sum(ones, N - 1, SMX_SUM_NAIVE, &f) == P - 1, "%s naive: sum of 2^p - 1 ones exact", names[k]);
        ok(smx_sum(ones, N, SMX_SUM_NAIVE, &f) == P, "%s naive: sum of 2^p ones = 2^p", names[k]);
        ok(smx_sum(ones, N + 1, SMX_SUM_NAIVE, &f) == P, "%s naive: 2^p + 1 ones -> 2^p (saturated)", names[k]);
        ok(smx_sum(ones, N + N / 2, SMX_SUM_NAIVE, &f) == P, "%s naive: 1.5 * 2^p ones -> 2^p (saturated)", names[k]);
        ok(smx_sum(ones, N + N / 2, SMX_SUM_PAIRWISE, &f) == P + P / 2, "%s pairwise: 1.5 * 2^p ones exact", names[k]);
        ok(smx_sum(ones, N + N / 2, SMX_SUM_COMPENSATED, &f) == P + P / 2, "%s compensated: 1.5 * 2^p ones exact",
           names[k]);
        if (k < 2) ok(smx_sum(ones, 4 * N, SMX_SUM_PAIRWISE, &f) == 4 * P, "%s pairwise: 2^(p+2) ones exact", names[k]);
    }
    /* fp16: 1/n subnormal beyond 2^14, 0 at 2^25 (tie to even) */
    smx_format_t h;
    smx_format_get(&h, "fp16");
    ok(smx_format_round(1.0 / 16384, &h) == smx_format_min_normal(&h) &&
           smx_format_round(1.0 / 32768, &h) < smx_format_min_normal(&h) && smx_format_round(1.0 / 32768, &h) > 0,
       "fp16: 1/2^14 normal, 1/2^15 subnormal");
    ok(smx_format_round(exp2(-25), &h) == 0 && smx_format_round(exp2(-24), &h) > 0, "fp16: 1/2^25 rounds to 0");
    free(ones);
}

static void check_helpers(void)
{
    double *g;
    size_t k = dispersion_grid(&g, 1, 4, 2);
    ok(k == 7 && g[0] == 2 && g[1] == 3 && g[6] == 16, "grid 2..16, 2 per octave: 2 3 4 6 8 11 16");
    free(g);
    char *s = dispersion_sibling("data/x/dispersion-curves.tsv", "beta-star");
    ok(s && !strcmp(s, "data/x/dispersion-curves-beta-star.tsv"), "sibling path (%s)", s ? s : "NULL");
    free(s);
}

int main(void)
{
    gsl_rng *r = smx_rng_alloc(2385);
    check_gap_mpfr(2, 1, 2.28);
    check_gap_mpfr(3, 0.385, 5.69);
    check_gap_mpfr(1000, 1, 14.78);
    check_gap_mpfr(4097, 2.385, 5.69);
    check_lemma_random(r);
    check_ssmax();
    check_fig3();
    check_beta();
    check_saturation();
    check_helpers();
    gsl_rng_free(r);
    return tap_done();
}
