/* t-kernels.c - the native softmax / log-softmax / LSE kernels (numerics/kernels.h).
 *
 * Reference: the correctly rounded softmax of lse.h (SMX_LSE_REFERENCE) in MPFR at 113 bits
 * (kept as double-double), so float and double kernel errors are measured to ~2^-100 (the float
 * n = 2^20 vector: an x87 long double shifted softmax, error < 2^-40, see below). Checks:
 *  - every algorithm x {double, float} on random, large-spread, one-dominant, all-equal, -Inf
 *    entries, n = 1, 2, 17, 1000 and (float) n = 2^20: componentwise softmax error / u within
 *    smx_kernels_softmax_error_bound, and NOT absurdly below it (max error >= 0.1 u on the
 *    random vectors: a kernel that silently computes in higher precision, or compares with
 *    itself, fails); lse within smx_kernels_lse_error_bound; log-softmax within the absolute
 *    bound u (|x_i - a| + D + E + (n - 1) + 2|l| + |y_i| + 2) derived in logsm_bound below;
 *  - the same bytes for scalar, AVX2, AVX-512 (those the CPU has) and for 1, 2, 3 threads,
 *    for every algorithm (the kernels promise it for all four);
 *  - subnormal results, huge magnitudes (2.385e30), NaN / +-Inf rules, n = 0, bad enums. */
#include "kernels.h"
#include "lse.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <float.h>
#include <gsl/gsl_randist.h>
#include <string.h>

enum { SOFTMAX = 0, LOGSOFTMAX = 1, LSE = 2 };

/* Run one kernel on double inputs (rounded to float for is_f32), outputs back in double. */
static int run(double *y, const double *x, size_t n, int is_f32, int what, smx_kernels_algo_t algo,
               smx_kernels_isa_t isa, int threads)
{
    int st;
    if (!is_f32) {
        if (what == SOFTMAX) st = smx_kernels_softmax_f64(y, x, n, algo, isa, threads);
        else if (what == LOGSOFTMAX) st = smx_kernels_logsoftmax_f64(y, x, n, algo, isa, threads);
        else st = smx_kernels_lse_f64(y, x, n, algo, isa, threads);
        return st;
    }
    float *xf = malloc((n + 1) * sizeof(float)), *yf = malloc((n + 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) xf[i] = (float)x[i];
    if (what == SOFTMAX) st = smx_kernels_softmax_f32(yf, xf, n, algo, isa, threads);
    else if (what == LOGSOFTMAX) st = smx_kernels_logsoftmax_f32(yf, xf, n, algo, isa, threads);
    else st = smx_kernels_lse_f32(yf, xf, n, algo, isa, threads);
    size_t m = what == LSE ? 1 : n;
    for (size_t i = 0; i < m; i++) y[i] = yf[i];
    free(xf);
    free(yf);
    return st;
}

typedef struct { double hi, lo; } dd_t;

static dd_t dd_of(mpfr_t v)
{
    dd_t r;
    r.hi = mpfr_get_d(v, MPFR_RNDN);
    if (!isfinite(r.hi)) { r.lo = 0; return r; }
    mpfr_sub_d(v, v, r.hi, MPFR_RNDN);
    r.lo = mpfr_get_d(v, MPFR_RNDN);
    return r;
}

/* Correctly rounded (113 bits) softmax, log-softmax and lse of x (exact doubles). */
static void reference(dd_t *sm, dd_t *lsm, dd_t *lse, const double *x, size_t n)
{
    smx_format_t f;
    smx_format_pN(&f, 113);
    mpfr_t *mx = malloc(n * sizeof(mpfr_t)), *my = malloc(n * sizeof(mpfr_t)), l;
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(mx[i], 64);
        mpfr_set_d(mx[i], x[i], MPFR_RNDN);
        mpfr_init2(my[i], 113);
    }
    mpfr_init2(l, 113);
    smx_softmax_mpfr(my, mx, n, SMX_LSE_REFERENCE, SMX_SUM_NAIVE, &f);
    for (size_t i = 0; i < n; i++) sm[i] = dd_of(my[i]);
    smx_logsoftmax_mpfr(my, mx, n, SMX_LSE_REFERENCE, SMX_SUM_NAIVE, &f);
    for (size_t i = 0; i < n; i++) lsm[i] = dd_of(my[i]);
    smx_lse_mpfr(l, mx, n, SMX_LSE_REFERENCE, SMX_SUM_NAIVE, &f);
    *lse = dd_of(l);
    for (size_t i = 0; i < n; i++) { mpfr_clear(mx[i]); mpfr_clear(my[i]); }
    mpfr_clear(l);
    free(mx);
    free(my);
}

static double dd_err(double got, dd_t want) { return fabs((got - want.hi) - want.lo); }

static const char *tname(int is_f32) { return is_f32 ? "float" : "double"; }

/* Log-softmax y_i = (x_i - a) - l, l = log s: t_i = x_i - a has error |t_i| u; s carries
 * (D + E + (n-1)) u relative error (shift, exp of error E u, summation), log turns it into an
 * absolute one plus |l| u; the final subtraction |y_i| u: total u (|t_i| + D + E + (n-1) + |l| + |y_i|),
 * here with 2|l| + 2 for the rounded log and slack of the leading-order analysis. Two-pass
 * (y_i = x_i - lse): |y_i| u + the lse's absolute error. */
static double logsm_bound(smx_kernels_algo_t algo, const double *x, size_t n, double xi, double lse, double y,
                          int is_f32)
{
    double a = x[0], b = x[0];
    for (size_t j = 1; j < n; j++) {
        if (x[j] > a) a = x[j];
        if (x[j] < b) b = x[j];
    }
    double E = 2 * (is_f32 ? SMX_KERNELS_EXP_ULP_F32 : SMX_KERNELS_EXP_ULP_F64), l = lse - a;
    if (algo == SMX_KERNELS_TWOPASS)
        return fabs(y) + smx_kernels_lse_error_bound(algo, x, n, lse, is_f32) * fabs(lse) + 1;
    return fabs(xi - a) + (a - b) + E + (double)(n - 1) + 2 * fabs(l) + fabs(y) + 2;
}

typedef struct { double sm, lsm, lse, smb; } errs_t; /* max errors / bound, smx: max err in u */

/* Check one vector with the auto ISA: errors within the bounds (return the max softmax error in u).
 * Entries whose reference is below the normal range / u are checked in absolute terms. */
static double check_vector(const char *label, const double *x0, size_t n, int is_f32, smx_kernels_algo_t algo)
{
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    dd_t *sm = malloc(n * sizeof(dd_t)), *lsm = malloc(n * sizeof(dd_t)), lse;
    for (size_t i = 0; i < n; i++) x[i] = is_f32 ? (double)(float)x0[i] : x0[i];
    reference(sm, lsm, &lse, x, n);
    double u = is_f32 ? 0x1p-24 : 0x1p-53, tiny = is_f32 ? FLT_MIN : DBL_MIN;
    double sub_ulp = is_f32 ? 0x1p-149 : 0x1p-1074;
    const char *an = smx_kernels_algo_name(algo);
    /* softmax */
    int st = run(y, x, n, is_f32, SOFTMAX, algo, SMX_KERNELS_AUTO, 1);
    /* the bounds count the finite entries (-Inf entries add exact zeros) */
    double *xf = malloc(n * sizeof(double));
    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) xf[nf++] = x[i];
    double bound = smx_kernels_softmax_error_bound(algo, xf, nf, lse.hi, is_f32), emax = 0;
    int good = st == SMX_OK;
    for (size_t i = 0; i < n; i++) {
        double e = dd_err(y[i], sm[i]);
        if (sm[i].hi >= tiny / u) {
            e /= sm[i].hi * u;
            if (e > emax) emax = e;
            if (!(e <= bound)) good = 0;
        } else if (!(e <= 2 * sub_ulp + bound * u * sm[i].hi)) {
            good = 0; /* subnormal / tiny result: one extra rounding at the subnormal ulp */
            printf("#   %s entry %zu: got %.17g want %.17g\n", label, i, y[i], sm[i].hi);
        }
    }
    ok(good, "%s %s %s softmax: max err %.3g u <= bound %.4g u (n = %zu)", tname(is_f32), an, label, emax, bound,
       n);
    /* lse */
    double l;
    st = run(&l, x, n, is_f32, LSE, algo, SMX_KERNELS_AUTO, 1);
    double lb = smx_kernels_lse_error_bound(algo, xf, nf, lse.hi, is_f32);
    double le = lse.hi == 0 ? dd_err(l, lse) / u : dd_err(l, lse) / (fabs(lse.hi) * u);
    ok(st == SMX_OK && le <= lb, "%s %s %s lse: err %.3g u <= bound %.4g u", tname(is_f32), an, label, le, lb);
    /* log-softmax (absolute error) */
    st = run(y, x, n, is_f32, LOGSOFTMAX, algo, SMX_KERNELS_AUTO, 1);
    good = st == SMX_OK;
    double lmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isinf(lsm[i].hi)) { if (y[i] != lsm[i].hi) good = 0; continue; }
        double e = dd_err(y[i], lsm[i]) / u, b = logsm_bound(algo, xf, nf, x[i], lse.hi, lsm[i].hi, is_f32);
        if (e / b > lmax) lmax = e / b;
        if (!(e <= b)) good = 0;
    }
    ok(good, "%s %s %s log-softmax: max err / bound %.3g <= 1", tname(is_f32), an, label, lmax);
    free(x);
    free(xf);
    free(y);
    free(sm);
    free(lsm);
    return emax;
}

/* The same bytes for every available ISA and for 1, 2, 3 threads. */
static void check_bytes(const char *label, const double *x, size_t n, int is_f32, smx_kernels_algo_t algo)
{
    double *y0 = malloc((n + 1) * sizeof(double)), *y1 = malloc((n + 1) * sizeof(double));
    for (int what = 0; what < 3; what++) {
        size_t m = what == LSE ? 1 : n;
        int st = run(y0, x, n, is_f32, what, algo, SMX_KERNELS_SCALAR, 1), same_isa = st == SMX_OK, same_thr = 1;
        char isas[64] = "scalar";
        for (int isa = SMX_KERNELS_AVX2; isa <= SMX_KERNELS_AVX512; isa++) {
            if (!smx_kernels_isa_available(isa)) continue;
            strcat(isas, ",");
            strcat(isas, smx_kernels_isa_name(isa));
            for (int th = 1; th <= 3; th++) {
                if (run(y1, x, n, is_f32, what, algo, isa, th) || memcmp(y0, y1, m * sizeof(double))) {
                    if (th == 1) same_isa = 0;
                    else same_thr = 0;
                }
            }
        }
        for (int th = 2; th <= 3; th++)
            if (run(y1, x, n, is_f32, what, algo, SMX_KERNELS_SCALAR, th) || memcmp(y0, y1, m * sizeof(double)))
                same_thr = 0;
        const char *wn = what == SOFTMAX ? "softmax" : what == LOGSOFTMAX ? "log-softmax" : "lse";
        ok(same_isa, "%s %s %s %s: same bytes for %s", tname(is_f32), smx_kernels_algo_name(algo), wn, label, isas);
        ok(same_thr, "%s %s %s %s: same bytes for 1, 2, 3 threads", tname(is_f32), smx_kernels_algo_name(algo), wn,
           label);
    }
    free(y0);
    free(y1);
}

/* Expected outputs for special inputs (NaN compared as NaN). */
static int same_vals(const double *y, const double *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(isnan(w[i]) ? isnan(y[i]) : (y[i] == w[i] || fabs(y[i] - w[i]) <= 1e-6 * fabs(w[i])))) return 0;
    return 1;
}

static void check_special(const char *label, const double *x, size_t n, const double *wsm, const double *wlsm,
                          double wlse)
{
    double y[8];
    for (int is_f32 = 0; is_f32 < 2; is_f32++)
        for (int algo = 0; algo < SMX_KERNELS_NALGOS; algo++) {
            int good = 1;
            for (int isa = SMX_KERNELS_SCALAR; isa <= SMX_KERNELS_AVX512; isa++) {
                if (!smx_kernels_isa_available(isa)) continue;
                if (run(y, x, n, is_f32, SOFTMAX, algo, isa, 1) || !same_vals(y, wsm, n)) good = 0;
                if (run(y, x, n, is_f32, LOGSOFTMAX, algo, isa, 1) || !same_vals(y, wlsm, n)) good = 0;
                if (run(y, x, n, is_f32, LSE, algo, isa, 1) || !same_vals(y, &wlse, 1)) good = 0;
            }
            ok(good, "%s %s %s: softmax, log-softmax, lse as documented", tname(is_f32),
               smx_kernels_algo_name(algo), label);
        }
}

int main(void)
{
    gsl_rng *r = smx_rng_alloc(2385);
    printf("# best ISA: %s\n", smx_kernels_isa_name(smx_kernels_isa_best()));
    const size_t NMAX = 1000;
    double *x = malloc(NMAX * sizeof(double));

    /* ---- accuracy against the correctly rounded reference ---- */
    for (int is_f32 = 0; is_f32 < 2; is_f32++)
        for (int algo = 0; algo < SMX_KERNELS_NALGOS; algo++) {
            double e;
            for (size_t i = 0; i < NMAX; i++) x[i] = 3 * gsl_ran_ugaussian(r) + 2.385;
            e = check_vector("random", x, NMAX, is_f32, algo);
            ok(e >= 0.1, "%s %s random: max softmax err %.3g u >= 0.1 u (computed in the working precision)",
               tname(is_f32), smx_kernels_algo_name(algo), e);
            for (size_t i = 0; i < 777; i++) x[i] = (gsl_rng_uniform(r) - 0.5) * (is_f32 ? 60 : 600);
            e = check_vector("large-spread", x, 777, is_f32, algo);
            ok(e >= 0.1, "%s %s large-spread: max softmax err %.3g u >= 0.1 u", tname(is_f32),
               smx_kernels_algo_name(algo), e);
            for (size_t i = 0; i < 100; i++) x[i] = gsl_ran_ugaussian(r);
            x[37] = 40.5;
            check_vector("one-dominant", x, 100, is_f32, algo);
            for (size_t i = 0; i < 100; i++) x[i] = 2.385;
            check_vector("all-equal", x, 100, is_f32, algo);
            for (size_t i = 0; i < 17; i++) x[i] = i % 3 ? -INFINITY : 1.5 * gsl_ran_ugaussian(r);
            check_vector("-inf-entries", x, 17, is_f32, algo);
            x[0] = -2.385;
            check_vector("n=1", x, 1, is_f32, algo);
            x[0] = 0.25; x[1] = -1.5;
            check_vector("n=2", x, 2, is_f32, algo);
            for (size_t i = 0; i < 17; i++) x[i] = 2 * gsl_ran_ugaussian(r);
            check_vector("n=17", x, 17, is_f32, algo);
            /* subnormal results: e^{-740} (double), e^{-95} (float) */
            for (size_t i = 0; i < 40; i++) x[i] = -(is_f32 ? 86.5 : 700.5) - 0.25 * (double)i;
            x[0] = 0;
            check_vector("subnormal-results", x, 40, is_f32, algo);
        }

    /* ---- huge n (float, n = 2^20) against the shifted softmax in x87 long double (64-bit significand:
     *      its error <= (2D + n + 3) 2^-64 < 2^-40 relative here, far below float's 2^-24; the MPFR
     *      reference took 6 s for this n) ---- */
    {
        size_t n = (size_t)1 << 20;
        double *xb = malloc(n * sizeof(double)), *ref = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) xb[i] = (double)(float)(4 * gsl_ran_ugaussian(r));
        long double am = xb[0], sl = 0;
        for (size_t i = 1; i < n; i++) am = xb[i] > am ? xb[i] : am;
        for (size_t i = 0; i < n; i++) sl += expl((long double)xb[i] - am);
        for (size_t i = 0; i < n; i++) ref[i] = (double)(expl((long double)xb[i] - am) / sl);
        double lse = (double)(am + logl(sl));
        for (int algo = 0; algo < SMX_KERNELS_NALGOS; algo++) {
            run(y, xb, n, 1, SOFTMAX, algo, SMX_KERNELS_AUTO, 2);
            double bound = smx_kernels_softmax_error_bound(algo, xb, n, lse, 1), emax = 0;
            for (size_t i = 0; i < n; i++) {
                if (ref[i] < 0x1p-100) continue;
                double e = fabs(y[i] - ref[i]) / (ref[i] * 0x1p-24);
                if (e > emax) emax = e;
            }
            ok(emax <= bound && emax >= 0.1, "float %s n = 2^20: max softmax err %.3g u in [0.1, %.4g]",
               smx_kernels_algo_name(algo), emax, bound);
        }
        free(xb);
        free(ref);
        free(y);
    }

    /* ---- bytes: ISAs x threads (3 blocks + a tail, so threads split the blocks) ---- */
    {
        size_t n = 3 * SMX_KERNELS_BLOCK + 123;
        double *xb = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) xb[i] = 5 * gsl_ran_ugaussian(r) - 1.25;
        xb[5] = -INFINITY;
        for (int is_f32 = 0; is_f32 < 2; is_f32++)
            for (int algo = 0; algo < SMX_KERNELS_NALGOS; algo++) check_bytes("n=24699", xb, n, is_f32, algo);
        free(xb);
    }

    /* ---- outputs beyond the streaming threshold (set to 1 MiB here): non-temporal stores (AVX2 /
     *      AVX-512), the head up to the first aligned y through the padded path (y = buffer + 1),
     *      same bytes as scalar ---- */
    {
        ok(smx_kernels_stream_bytes() == SMX_KERNELS_STREAM_NEVER, "default: no streaming stores (threshold %zu)",
           smx_kernels_stream_bytes());
        size_t old = smx_kernels_set_stream_bytes((size_t)1 << 20);
        ok(old == SMX_KERNELS_STREAM_NEVER && smx_kernels_stream_bytes() == (size_t)1 << 20,
           "set_stream_bytes returns the old threshold and sets the new one");
        size_t n = ((size_t)1 << 20) / sizeof(float) + 3 * SMX_KERNELS_BLOCK + 37;
        float *xs = malloc(n * sizeof(float)), *y0 = malloc((n + 1) * sizeof(float)),
              *y1 = malloc((n + 1) * sizeof(float));
        for (size_t i = 0; i < n; i++) xs[i] = (float)(3 * gsl_ran_ugaussian(r));
        for (int algo = 0; algo < SMX_KERNELS_NALGOS; algo += 3) {
            smx_kernels_softmax_f32(y0 + 1, xs, n, algo, SMX_KERNELS_SCALAR, 1);
            int same = 1;
            for (int isa = SMX_KERNELS_AVX2; isa <= SMX_KERNELS_AVX512; isa++) {
                if (!smx_kernels_isa_available(isa)) continue;
                smx_kernels_softmax_f32(y1 + 1, xs, n, algo, isa, 2);
                if (memcmp(y0 + 1, y1 + 1, n * sizeof(float))) same = 0;
            }
            ok(same, "float %s n = %zu (streaming stores, unaligned y): same bytes as scalar",
               smx_kernels_algo_name(algo), n);
        }
        float al[3] = {0}, xa[3] = {1, 2, 3};
        ok(smx_kernels_scale_f32(al, xa, 3, 0.5f, 1, SMX_KERNELS_AUTO, 1) == SMX_OK && al[0] == 0.5f && al[2] == 1.5f,
           "copy-and-scale with non-temporal stores, n = 3");
        free(xs);
        free(y0);
        free(y1);
        ok(smx_kernels_set_stream_bytes(0) == (size_t)1 << 20 && smx_kernels_stream_bytes() == SMX_KERNELS_STREAM_NEVER,
           "set_stream_bytes(0) restores the default");
        smx_kernels_set_stream_bytes(old);
    }

    /* ---- special values (lse.h's rules) ---- */
    {
        double a[] = {1, NAN, 2}, nan3[] = {NAN, NAN, NAN};
        check_special("NaN entry", a, 3, nan3, nan3, NAN);
        double b[] = {1, INFINITY, 2, INFINITY}, bs[] = {0, 0.5, 0, 0.5},
               bl[] = {-INFINITY, -M_LN2, -INFINITY, -M_LN2};
        check_special("two +Inf entries", b, 4, bs, bl, INFINITY);
        double c[] = {-INFINITY, -INFINITY};
        check_special("all -Inf", c, 2, nan3, nan3, -INFINITY);
        double d[] = {-INFINITY, 2.385, -INFINITY}, ds[] = {0, 1, 0}, dl[] = {-INFINITY, 0, -INFINITY};
        check_special("-Inf with one finite", d, 3, ds, dl, 2.385);
        double e[] = {2.385e30, -1, 2.385e30}, es[] = {0.5, 0, 0.5}, el[] = {-M_LN2, -2.385e30, -M_LN2};
        check_special("huge 2.385e30", e, 3, es, el, 2.385e30);
        double g[] = {-2.385e30, -2.385e30}, gs[] = {0.5, 0.5}, gl[] = {-M_LN2, -M_LN2};
        check_special("huge -2.385e30", g, 2, gs, gl, -2.385e30);
        double h[] = {1.5, 2.385e30, -INFINITY, -2.385e30}, hs[] = {0, 1, 0, 0},
               hl[] = {-2.385e30, 0, -INFINITY, -4.77e30};
        check_special("huge mixed", h, 4, hs, hl, 2.385e30);
    }

    /* ---- two-pass near its range: an entry below -LIM whose output is still a normal double ---- */
    {
        double xl[2] = {-SMX_KERNELS_TWOPASS_LIM_F64 + 300, -SMX_KERNELS_TWOPASS_LIM_F64 - 10}, yl[2];
        int st = smx_kernels_softmax_f64(yl, xl, 2, SMX_KERNELS_TWOPASS, SMX_KERNELS_AUTO, 1);
        ok_rel(yl[1], exp(-310.0), 1e-13, "double two-pass, max x = -2^20 + 300: e^-310 kept (falls back), status %d", st);
        float xf[2] = {(float)(-SMX_KERNELS_TWOPASS_LIM_F32 + 250), (float)(-SMX_KERNELS_TWOPASS_LIM_F32 + 30)}, yf[2];
        smx_kernels_softmax_f32(yf, xf, 2, SMX_KERNELS_TWOPASS, SMX_KERNELS_AUTO, 1);
        ok_rel(yf[1], expf(-220.0f) / 1, 1e-6, "float two-pass, max x = -2^14 + 250: e^-220 underflows to 0 (%g)", yf[1]);
    }

    /* ---- two-pass's first pass clamps x only below, at -LIM: entries below -LIM (-LIM - 1.5,
     *      -2.385e30, -Inf) add exactly 0 once max x is in range, wherever they fall in the groups
     *      of 4 chunks (before the group's largest exponent, after it, alone in a group): the same
     *      bytes as with those entries set to -Inf, in every ISA ---- */
    {
        enum { NB = 137 };
        double xd[NB], xdi[NB], yd[NB], ydi[NB];
        float xf[NB], xfi[NB], yf[NB], yfi[NB];
        for (size_t i = 0; i < NB; i++) {
            xd[i] = 2.385 * gsl_ran_ugaussian(r) - 3;
            if (i % 5 == 1 || (i >= 64 && i < 128)) xd[i] = i % 3 ? -2.385e30 : -SMX_KERNELS_TWOPASS_LIM_F64 - 1.5;
            xf[i] = (float)xd[i];
            if (xf[i] == (float)(-SMX_KERNELS_TWOPASS_LIM_F64 - 1.5)) xf[i] = (float)(-SMX_KERNELS_TWOPASS_LIM_F32 - 1.5);
            xdi[i] = xd[i] < -SMX_KERNELS_TWOPASS_LIM_F64 ? -INFINITY : xd[i];
            xfi[i] = xf[i] < (float)-SMX_KERNELS_TWOPASS_LIM_F32 ? -INFINITY : xf[i];
        }
        for (int isa = SMX_KERNELS_SCALAR; isa <= SMX_KERNELS_AVX512; isa++) {
            if (!smx_kernels_isa_available(isa)) continue;
            double ld, ldi;
            float lf, lfi;
            int st = smx_kernels_softmax_f64(yd, xd, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_softmax_f64(ydi, xdi, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_softmax_f32(yf, xf, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_softmax_f32(yfi, xfi, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_lse_f64(&ld, xd, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_lse_f64(&ldi, xdi, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_lse_f32(&lf, xf, NB, SMX_KERNELS_TWOPASS, isa, 1) |
                     smx_kernels_lse_f32(&lfi, xfi, NB, SMX_KERNELS_TWOPASS, isa, 1);
            ok(st == SMX_OK && !memcmp(yd, ydi, sizeof yd) && !memcmp(yf, yfi, sizeof yf) && ld == ldi && lf == lfi &&
                   yd[0] > 0 && yd[1] == 0 && yf[0] > 0 && yf[1] == 0,
               "%s two-pass: entries below -LIM add exactly 0 (same bytes as -Inf; lse %.17g, %.9g)",
               smx_kernels_isa_name(isa), ld, lf);
        }
    }

    /* ---- n = 0 and bad arguments ---- */
    {
        double l = 0, yd[2];
        float lf = 0, yf[2], xf[2] = {1, 2};
        ok(smx_kernels_lse_f64(&l, x, 0, SMX_KERNELS_ONLINE, SMX_KERNELS_AUTO, 1) == SMX_OK && l == -INFINITY,
           "n = 0: lse = -Inf, SMX_OK");
        ok(smx_kernels_lse_f32(&lf, xf, 0, SMX_KERNELS_TWOPASS, SMX_KERNELS_AUTO, 1) == SMX_OK && lf == -INFINITY,
           "n = 0 float: lse = -Inf");
        ok(smx_kernels_softmax_f64(yd, x, 0, SMX_KERNELS_THREEPASS, SMX_KERNELS_AUTO, 1) == SMX_OK,
           "n = 0 softmax: SMX_OK");
        ok(smx_kernels_softmax_f64(yd, x, 2, (smx_kernels_algo_t)7, SMX_KERNELS_AUTO, 1) == SMX_EDOM,
           "bad algorithm: SMX_EDOM");
        ok(smx_kernels_softmax_f32(yf, xf, 2, SMX_KERNELS_ONLINE, (smx_kernels_isa_t)9, 1) == SMX_EDOM,
           "bad ISA: SMX_EDOM");
        smx_kernels_algo_t al;
        smx_kernels_isa_t is;
        ok(smx_kernels_algo_parse(&al, "twopass") == SMX_OK && al == SMX_KERNELS_TWOPASS &&
               smx_kernels_algo_parse(&al, "two") == SMX_EDOM && !strcmp(smx_kernels_algo_name(SMX_KERNELS_RELOAD), "reload"),
           "algorithm names");
        ok(smx_kernels_isa_parse(&is, "avx512") == SMX_OK && is == SMX_KERNELS_AVX512 &&
               smx_kernels_isa_parse(&is, "sse") == SMX_EDOM,
           "ISA names");
        double xs[3] = {2.385, 0.5, -1}, ys[3];
        int st = smx_kernels_softmax_f64(ys, xs, 3, SMX_KERNELS_ONLINE, SMX_KERNELS_AVX512, 1);
        ok(smx_kernels_isa_available(SMX_KERNELS_AVX512) ? st == SMX_OK : st == SMX_EUNSUP,
           "AVX-512 runs or says SMX_EUNSUP");
        /* in place (y == x) */
        double xi[5] = {2.385, -1, 0.5, 3, -7}, yo[5];
        smx_kernels_softmax_f64(yo, xi, 5, SMX_KERNELS_RELOAD, SMX_KERNELS_AUTO, 1);
        int same = 1;
        for (int algo = 0; algo < SMX_KERNELS_NALGOS; algo++) {
            double xx[5];
            memcpy(xx, xi, sizeof xx);
            smx_kernels_softmax_f64(xx, xx, 5, algo, SMX_KERNELS_AUTO, 1);
            for (int i = 0; i < 5; i++) same &= fabs(xx[i] - yo[i]) <= 4e-16 * yo[i];
        }
        ok(same, "in place (y == x) for every algorithm");
    }

    /* ---- the max pass alone (smx-bench's read-only stream): every ISA and thread count finds the
     *      largest entry wherever it lies (a block's tail, a chunk's last lane); -Inf for n = 0 ---- */
    {
        const size_t n = 3 * SMX_KERNELS_BLOCK + 21;
        double *xm = malloc(n * sizeof(double));
        float *xmf = malloc(n * sizeof(float));
        size_t where[] = {0, 15, SMX_KERNELS_BLOCK - 1, 2 * SMX_KERNELS_BLOCK + 7, n - 1};
        int good = 1;
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            for (size_t i = 0; i < n; i++) xmf[i] = (float)(xm[i] = 2.385 * gsl_ran_ugaussian(r) - 9);
            xm[where[w]] = 2.385;
            xmf[where[w]] = 2.385f;
            for (int isa = SMX_KERNELS_SCALAR; isa <= SMX_KERNELS_AVX512; isa++) {
                if (!smx_kernels_isa_available(isa)) continue;
                for (int th = 1; th <= 3; th += 2) {
                    double m = 0;
                    float mf = 0;
                    good &= smx_kernels_max_f64(&m, xm, n, isa, th) == SMX_OK && m == 2.385;
                    good &= smx_kernels_max_f32(&mf, xmf, n, isa, th) == SMX_OK && mf == 2.385f;
                }
            }
        }
        double m0 = 0;
        float mf0 = 0;
        ok(good && smx_kernels_max_f64(&m0, xm, 0, SMX_KERNELS_AUTO, 1) == SMX_OK && m0 == -INFINITY &&
               smx_kernels_max_f32(&mf0, xmf, 0, SMX_KERNELS_AUTO, 1) == SMX_OK && mf0 == -INFINITY &&
               smx_kernels_max_f64(&m0, xm, n, (smx_kernels_isa_t)9, 1) == SMX_EDOM,
           "max pass alone: the largest entry at 5 places, every ISA, 1 and 3 threads; n = 0: -Inf; bad ISA: SMX_EDOM");
        free(xm);
        free(xmf);
    }
    free(x);
    gsl_rng_free(r);
    return tap_done();
}
