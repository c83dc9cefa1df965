/* sparsemax.c - sparsemax in a format, exact reference and gradient (see sparsemax.h). */
#include "sparsemax.h"
#include "attnnorm.h"
#include "smx.h"

#include <math.h>
#include <mpfr.h>
#include <stdlib.h>

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* NaN -> all NaN; +Inf entries share 1/k; all -Inf -> NaN. Returns 1 if y was filled. */
static int special(double *y, const double *xr, size_t n, double (*rnd)(double, const smx_format_t *),
                   const smx_format_t *f)
{
    size_t k = 0, ninf = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(xr[i])) k = n + 1;
        else if (xr[i] == INFINITY) k += k <= n;
        else if (xr[i] == -INFINITY) ninf++;
    }
    if (k > n || ninf == n) {
        for (size_t i = 0; i < n; i++) y[i] = NAN;
        return 1;
    }
    if (k == 0) return 0;
    double on = rnd(1.0 / (double)k, f);
    for (size_t i = 0; i < n; i++) y[i] = xr[i] == INFINITY ? on : 0.0;
    return 1;
}

/* tau in f from the sorted z (z_(1) >= ...): Martins & Astudillo Alg. 1. */
static double tau_fast(size_t *K, const double *zs, size_t n, const smx_format_t *f)
{
    double c = 0.0, cK = 0.0;
    size_t k;
    for (k = 1; k <= n; k++) {
        c = smx_fadd(c, zs[k - 1], f);
        if (!(smx_fadd(1.0, smx_fmul(smx_format_round((double)k, f), zs[k - 1], f), f) > c)) break;
        cK = c;
    }
    *K = k - 1;
    return smx_fdiv(smx_fsub(cK, 1.0, f), smx_format_round((double)(k - 1), f), f);
}

int smx_sparsemax(double *y, const double *x, size_t n, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double *zs = malloc(2 * n * sizeof *zs);
    if (!zs) return SMX_ENOMEM;
    double *xr = zs + n;
    for (size_t i = 0; i < n; i++) zs[i] = xr[i] = smx_format_round(x[i], f);
    if (!special(y, xr, n, smx_format_round, f)) {
        qsort(zs, n, sizeof *zs, cmp_desc);
        size_t K;
        double tau = tau_fast(&K, zs, n, f);
        for (size_t i = 0; i < n; i++) {
            double d = smx_fsub(xr[i], tau, f);
            y[i] = d > 0 ? d : 0.0;
        }
    }
    free(zs);
    return SMX_OK;
}

int smx_sparsemax_tau(double *tau, size_t *K, const double *x, size_t n)
{
    if (n == 0) return SMX_EDOM;
    smx_format_t f64;
    smx_format_get(&f64, "fp64");
    double *zs = malloc(n * sizeof *zs);
    if (!zs) return SMX_ENOMEM;
    for (size_t i = 0; i < n; i++) zs[i] = x[i];
    qsort(zs, n, sizeof *zs, cmp_desc);
    *tau = tau_fast(K, zs, n, &f64);
    free(zs);
    return SMX_OK;
}

/* ---- exact reference ---- */

typedef struct { mpfr_t *num; size_t n, K; } ref_ctx_t;

/* y_i = num_i / K, num_i = K z_i - c_K + 1 > 0 exact (else y_i = 0 exactly). */
static int ref_eval(mpfr_t *y, mpfr_prec_t w, int *lost, void *vctx)
{
    ref_ctx_t *c = vctx;
    (void)w;
    for (size_t i = 0; i < c->n; i++) {
        if (mpfr_sgn(c->num[i]) <= 0) { mpfr_set_zero(y[i], 1); lost[i] = -1; continue; }
        lost[i] = mpfr_div_ui(y[i], c->num[i], (unsigned long)c->K, MPFR_RNDN) ? 0 : -1;
    }
    return SMX_OK;
}

/* Bits that hold every partial sum of the inputs, k z, and +-1 exactly. */
static mpfr_prec_t exact_prec(const double *x, size_t n)
{
    int hi = 1, lo = -1, lg = 1;
    while (((size_t)1 << lg) <= n + 1 && lg < 63) lg++;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == 0 || !isfinite(x[i])) continue;
        int e;
        frexp(x[i], &e);
        if (e > hi) hi = e;
        if (e - 53 < lo) lo = e - 53;
    }
    return (mpfr_prec_t)(hi - lo + 2 * lg + 8);
}

int smx_sparsemax_ref(double *y, const double *x, size_t n, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    if (special(y, x, n, smx_format_round_ref, f)) return SMX_OK;
    double *zs = malloc(n * sizeof *zs);
    mpfr_t *num = malloc(n * sizeof *num);
    if (!zs || !num) { free(zs); free(num); return SMX_ENOMEM; }
    for (size_t i = 0; i < n; i++) zs[i] = x[i];
    qsort(zs, n, sizeof *zs, cmp_desc);
    mpfr_prec_t W = exact_prec(x, n);
    mpfr_t c, cK, t;
    mpfr_inits2(W, c, cK, t, (mpfr_ptr)0);
    mpfr_set_zero(c, 1);
    mpfr_set_zero(cK, 1);
    size_t K = 0;
    for (size_t k = 1; k <= n; k++) { /* all exact at W bits */
        mpfr_add_d(c, c, zs[k - 1], MPFR_RNDN);
        mpfr_set_d(t, zs[k - 1], MPFR_RNDN);
        mpfr_mul_ui(t, t, (unsigned long)k, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        if (!(mpfr_cmp(t, c) > 0)) break;
        K = k;
        mpfr_set(cK, c, MPFR_RNDN);
    }
    mpfr_sub_ui(cK, cK, 1, MPFR_RNDN); /* K tau */
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(num[i], W);
        if (x[i] == -INFINITY) { mpfr_set_si(num[i], -1, MPFR_RNDN); continue; }
        mpfr_set_d(num[i], x[i], MPFR_RNDN);
        mpfr_mul_ui(num[i], num[i], (unsigned long)K, MPFR_RNDN);
        mpfr_sub(num[i], num[i], cK, MPFR_RNDN);
    }
    ref_ctx_t ctx = {num, n, K};
    int st = smx_attnnorm_ziv(y, n, ref_eval, &ctx, f);
    for (size_t i = 0; i < n; i++) mpfr_clear(num[i]);
    mpfr_clears(c, cK, t, (mpfr_ptr)0);
    free(zs); free(num);
    return st;
}

/* ---- gradient ---- */

int smx_sparsemax_vjp(double *g, const double *x, const double *v, size_t n)
{
    if (n == 0) return SMX_EDOM;
    smx_format_t f64;
    smx_format_get(&f64, "fp64");
    int st = smx_sparsemax(g, x, n, &f64);
    if (st) return st;
    double sv = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (g[i] > 0) { sv += v[i]; k++; }
    for (size_t i = 0; i < n; i++) g[i] = g[i] > 0 ? v[i] - sv / (double)k : (isnan(g[i]) ? g[i] : 0.0);
    return SMX_OK;
}
