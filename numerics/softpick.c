/* softpick.c - softpick in a format, reference and gradient (see softpick.h). */
#include "softpick.h"
#include "attnnorm.h"
#include "smx.h"
#include "sum.h"

#include <math.h>
#include <mpfr.h>
#include <stdlib.h>

/* Parameter check, special values (NaN / +Inf -> NaN, all -Inf -> 0) and the max m over the
 * finite entries. Returns SMX_EDOM, or 0 with *done = 1 if y was filled. */
static int prologue(double *y, int *done, double *m, size_t *im, const double *x, size_t n, double eps)
{
    if (n == 0 || !(eps >= 0) || isinf(eps)) return SMX_EDOM;
    *done = 1;
    *m = -INFINITY;
    *im = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || x[i] == INFINITY) {
            for (size_t j = 0; j < n; j++) y[j] = NAN;
            return SMX_OK;
        }
        if (x[i] > *m) { *m = x[i]; *im = i; }
    }
    if (*m == -INFINITY) {
        for (size_t j = 0; j < n; j++) y[j] = 0.0;
        return SMX_OK;
    }
    *done = 0;
    return SMX_OK;
}

int smx_softpick(double *y, const double *x, size_t n, double eps, const smx_format_t *f)
{
    if (n == 0 || !(eps >= 0) || isinf(eps)) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double *a = malloc(2 * n * sizeof *a);
    if (!a) return SMX_ENOMEM;
    double *xr = a + n, m;
    size_t im;
    int done;
    for (size_t i = 0; i < n; i++) xr[i] = smx_format_round(x[i], f);
    prologue(y, &done, &m, &im, xr, n, eps);
    if (!done) {
        double em = smx_fexp(-m, f);
        for (size_t i = 0; i < n; i++) {
            if (xr[i] == -INFINITY) { y[i] = a[i] = 0.0; continue; }
            y[i] = smx_fsub(smx_fexp(smx_fsub(xr[i], m, f), f), em, f); /* e^{x-m} - e^{-m} */
            a[i] = fabs(y[i]);
        }
        double D = smx_fadd(smx_sum(a, n, SMX_SUM_PAIRWISE, f), smx_format_round(eps, f), f);
        /* ReLU(d_i) / D; D = 0 (all x_j = 0 and eps = 0) gives 0/0 = NaN as the authors' code */
        for (size_t i = 0; i < n; i++) y[i] = smx_fdiv(y[i] > 0 ? y[i] : (isnan(y[i]) ? y[i] : 0.0), D, f);
    }
    free(a);
    return SMX_OK;
}

typedef struct { const double *x; size_t n; double eps, m; } ref_ctx_t;

/* e_i = expm1(x_i) (relative error u), D = mpfr_sum(|e_j|, eps e^m) (<= 3u), y_i = e_i / D:
 * relative error <= 5u; exact 0 for x_i <= 0. */
static int ref_eval(mpfr_t *y, mpfr_prec_t w, int *lost, void *vctx)
{
    ref_ctx_t *c = vctx;
    size_t n = c->n;
    mpfr_t *a = malloc((n + 1) * sizeof *a), D;
    mpfr_ptr *pa = malloc((n + 1) * sizeof *pa);
    if (!a || !pa) { free(a); free(pa); return SMX_ENOMEM; }
    mpfr_init2(D, w);
    for (size_t i = 0; i <= n; i++) { mpfr_init2(a[i], w); pa[i] = a[i]; }
    for (size_t i = 0; i < n; i++) {
        if (c->x[i] == -INFINITY) mpfr_set_zero(a[i], 1);
        else {
            mpfr_set_d(a[i], c->x[i], MPFR_RNDN);
            mpfr_expm1(a[i], a[i], MPFR_RNDN);
        }
    }
    mpfr_set_d(a[n], c->m, MPFR_RNDN);
    mpfr_exp(a[n], a[n], MPFR_RNDN);
    mpfr_mul_d(a[n], a[n], c->eps, MPFR_RNDN); /* eps e^m */
    for (size_t i = 0; i < n; i++) {
        if (mpfr_sgn(a[i]) > 0) mpfr_set(y[i], a[i], MPFR_RNDN);
        else mpfr_set_zero(y[i], 1);
        mpfr_abs(a[i], a[i], MPFR_RNDN);
    }
    mpfr_sum(D, pa, n + 1, MPFR_RNDN); /* D = 0 only if every x_j = 0 and eps = 0: y = NaN */
    for (size_t i = 0; i < n; i++) {
        lost[i] = mpfr_zero_p(y[i]) ? -1 : 3;
        if (!mpfr_zero_p(y[i]) || mpfr_zero_p(D)) mpfr_div(y[i], y[i], D, MPFR_RNDN);
    }
    for (size_t i = 0; i <= n; i++) mpfr_clear(a[i]);
    mpfr_clear(D);
    free(a); free(pa);
    return SMX_OK;
}

int smx_softpick_ref(double *y, const double *x, size_t n, double eps, const smx_format_t *f)
{
    double m;
    size_t im;
    int done, st = prologue(y, &done, &m, &im, x, n, eps);
    if (st || done) return st;
    ref_ctx_t c = {x, n, eps, m};
    return smx_attnnorm_ziv(y, n, ref_eval, &c, f);
}

int smx_softpick_vjp(double *g, const double *x, const double *v, size_t n, double eps)
{
    double m;
    size_t im;
    int done, st = prologue(g, &done, &m, &im, x, n, eps);
    if (st || done) return st;
    double em = exp(-m), D = eps, A = 0.0;
    for (size_t i = 0; i < n; i++)
        if (x[i] != -INFINITY) D += fabs(exp(x[i] - m) - em);
    for (size_t i = 0; i < n; i++) {
        double d = exp(x[i] - m) - em;
        if (d > 0) A += v[i] * d / D;
    }
    for (size_t k = 0; k < n; k++) {
        if (x[k] == -INFINITY) { g[k] = 0.0; continue; }
        double e = exp(x[k] - m), sg = (x[k] > 0) - (x[k] < 0);
        g[k] = ((x[k] > 0 ? e * v[k] : 0.0) - (sg * e + (k == im ? eps : 0.0)) * A) / D;
    }
    return SMX_OK;
}
