/* stablemax.c - StableMax, log-StableMax and cross-entropy losses (see stablemax.h). */
#include "stablemax.h"
#include "attnnorm.h"
#include "lse.h"
#include "smx.h"
#include "sum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* g(x) = log s(x) = sign(x) log1p(|x|), rounded to f (one log1p of the rounded input). */
static double flogs(double x, const smx_format_t *f)
{
    return x >= 0 ? smx_flog1p(x, f) : -smx_flog1p(-x, f);
}

/* Special values on the (rounded) inputs xr: NaN -> all NaN; k entries +Inf -> 1/k there and
 * 0 elsewhere (log: -log k and -Inf). Returns 1 if y was filled. Values rounded with rnd. */
static int special(double *y, const double *xr, size_t n, int logmode, double (*rnd)(double, const smx_format_t *),
                   const smx_format_t *f)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(xr[i])) {
            for (size_t j = 0; j < n; j++) y[j] = NAN;
            return 1;
        }
        if (xr[i] == INFINITY) k++;
    }
    if (k == 0) return 0;
    double on = logmode ? rnd(-log((double)k), f) : rnd(1.0 / (double)k, f);
    for (size_t i = 0; i < n; i++) y[i] = xr[i] == INFINITY ? on : (logmode ? -INFINITY : 0.0);
    return 1;
}

/* y = StableMax or log StableMax in f. */
static int stablemax_fast(double *y, const double *x, size_t n, int logmode, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double *s = calloc(2 * n, sizeof *s);
    if (!s) return SMX_ENOMEM;
    double *xr = s + n;
    for (size_t i = 0; i < n; i++) xr[i] = smx_format_round(x[i], f);
    if (!special(y, xr, n, logmode, smx_format_round, f)) {
        /* s_i = fl(x + 1) (x >= 0), fl(1 / fl(1 - x)) (x < 0) */
        for (size_t i = 0; i < n; i++)
            s[i] = xr[i] >= 0 ? smx_fadd(xr[i], 1.0, f) : smx_fdiv(1.0, smx_fsub(1.0, xr[i], f), f);
        double S = smx_sum(s, n, SMX_SUM_PAIRWISE, f);
        if (logmode) {
            double lS = smx_flog(S, f);
            for (size_t i = 0; i < n; i++) y[i] = smx_fsub(flogs(xr[i], f), lS, f);
        } else {
            for (size_t i = 0; i < n; i++) y[i] = smx_fdiv(s[i], S, f);
        }
    }
    free(s);
    return SMX_OK;
}

int smx_stablemax(double *y, const double *x, size_t n, const smx_format_t *f)
{
    return stablemax_fast(y, x, n, 0, f);
}

int smx_logstablemax(double *y, const double *x, size_t n, const smx_format_t *f)
{
    return stablemax_fast(y, x, n, 1, f);
}

/* ---- reference ---- */

typedef struct { const double *x; size_t n; int logmode; } ref_ctx_t;

/* s(x) at w bits: x + 1 or 1/(1 - x), relative error <= 2 2^-w; returns the inexact flag. */
static int mpfr_s(mpfr_t s, double x)
{
    int inex = mpfr_set_d(s, x, MPFR_RNDN) != 0; /* exact: w > 53 */
    if (x >= 0) return inex | (mpfr_add_ui(s, s, 1, MPFR_RNDN) != 0);
    inex |= mpfr_ui_sub(s, 1, s, MPFR_RNDN) != 0;
    inex |= mpfr_ui_div(s, 1, s, MPFR_RNDN) != 0;
    return inex;
}

/* StableMax: y_i = s_i / S, S = mpfr_sum (correctly rounded): relative error <= 2u + 3u + u.
 * log: y_i = -log1p(R_i / s_i), R_i = S - s_i = sum_{j != i} s_j, computed as S - s_i when
 * s_i <= S/2 (no cancellation, R_i >= S/2) and summed directly for the (at most one) index
 * with s_i > S/2; log1p has condition number <= 1: relative error <= 4u + 4u + u. */
static int ref_eval(mpfr_t *y, mpfr_prec_t w, int *lost, void *vctx)
{
    ref_ctx_t *c = vctx;
    size_t n = c->n;
    mpfr_t *s = malloc(n * sizeof *s);
    mpfr_ptr *ps = malloc(n * sizeof *ps);
    int *inex = malloc(n * sizeof *inex);
    if (!s || !ps || !inex) { free(s); free(ps); free(inex); return SMX_ENOMEM; }
    mpfr_t S, R, h;
    mpfr_inits2(w, S, R, h, (mpfr_ptr)0);
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(s[i], w);
        ps[i] = s[i];
        if (c->x[i] == -INFINITY) { mpfr_set_zero(s[i], 1); inex[i] = 0; }
        else inex[i] = mpfr_s(s[i], c->x[i]);
    }
    int inS = mpfr_sum(S, ps, n, MPFR_RNDN) != 0;
    for (size_t i = 0; i < n; i++) inS |= inex[i];
    mpfr_div_2ui(h, S, 1, MPFR_RNDN);
    for (size_t i = 0; i < n; i++) {
        if (!c->logmode) {
            int t = mpfr_div(y[i], s[i], S, MPFR_RNDN) != 0;
            lost[i] = (t || inS) ? 3 : -1;
            continue;
        }
        int t;
        if (mpfr_cmp(s[i], h) <= 0) {
            t = mpfr_sub(R, S, s[i], MPFR_RNDN) != 0 || inS;
        } else { /* the dominant entry: sum the others directly */
            mpfr_set_zero(s[i], 1);
            t = mpfr_sum(R, ps, n, MPFR_RNDN) != 0;
            for (size_t j = 0; j < n; j++) t |= j != i && inex[j];
            mpfr_s(s[i], c->x[i]);
        }
        t |= mpfr_div(R, R, s[i], MPFR_RNDN) != 0 || inex[i];
        t |= mpfr_log1p(y[i], R, MPFR_RNDN) != 0;
        mpfr_neg(y[i], y[i], MPFR_RNDN);
        lost[i] = t ? 4 : -1;
    }
    for (size_t i = 0; i < n; i++) mpfr_clear(s[i]);
    mpfr_clears(S, R, h, (mpfr_ptr)0);
    free(s); free(ps); free(inex);
    return SMX_OK;
}

static double round_ref(double x, const smx_format_t *f) { return smx_format_round_ref(x, f); }

static int stablemax_ref(double *y, const double *x, size_t n, int logmode, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    if (special(y, x, n, logmode, round_ref, f)) return SMX_OK;
    ref_ctx_t c = {x, n, logmode};
    return smx_attnnorm_ziv(y, n, ref_eval, &c, f);
}

int smx_stablemax_ref(double *y, const double *x, size_t n, const smx_format_t *f)
{
    return stablemax_ref(y, x, n, 0, f);
}

int smx_logstablemax_ref(double *y, const double *x, size_t n, const smx_format_t *f)
{
    return stablemax_ref(y, x, n, 1, f);
}

/* ---- gradients (double) ---- */

static double sum_s(const double *x, size_t n)
{
    double S = 0.0;
    for (size_t i = 0; i < n; i++) S += smx_stablemax_s(x[i]);
    return S;
}

int smx_stablemax_vjp(double *g, const double *x, const double *v, size_t n)
{
    if (n == 0) return SMX_EDOM;
    double S = sum_s(x, n), vy = 0.0;
    for (size_t i = 0; i < n; i++) vy += v[i] * smx_stablemax_s(x[i]) / S;
    for (size_t k = 0; k < n; k++) g[k] = smx_stablemax_ds(x[k]) / S * (v[k] - vy);
    return SMX_OK;
}

int smx_logstablemax_vjp(double *g, const double *x, const double *v, size_t n)
{
    if (n == 0) return SMX_EDOM;
    double S = sum_s(x, n), sv = 0.0;
    for (size_t i = 0; i < n; i++) sv += v[i];
    /* s'(x)/s(x) = 1/(1 + |x|) */
    for (size_t k = 0; k < n; k++) g[k] = v[k] / (1.0 + fabs(x[k])) - smx_stablemax_ds(x[k]) / S * sv;
    return SMX_OK;
}

/* ---- losses ---- */

int smx_stablemax_ce(double *loss, double *grad, const double *z, size_t n, size_t y)
{
    if (n == 0 || y >= n) return SMX_EDOM;
    double S = 0.0, R = 0.0;
    for (size_t j = 0; j < n; j++) {
        double s = smx_stablemax_s(z[j]);
        S += s;
        if (j != y) R += s;
    }
    double sy = smx_stablemax_s(z[y]);
    /* -log(s_y / S) = log1p(R / s_y), R = sum_{j != y} s_j: no cancellation when p_y -> 1 */
    *loss = log1p(R / sy);
    if (grad) {
        for (size_t k = 0; k < n; k++) grad[k] = smx_stablemax_ds(z[k]) / S;
        /* s'(z_y)/S - s'(z_y)/s_y = -(R/S) / (1 + |z_y|) (s'/s = 1/(1 + |x|)): the difference
         * formed directly had no correct digit once s_y/S rounds to 1 (z_y > ~2^53 R) */
        grad[y] = -(R / S) / (1.0 + fabs(z[y]));
    }
    return SMX_OK;
}

int smx_softmax_ce(double *loss, double *grad, const double *z, size_t n, size_t y, const smx_format_t *f)
{
    if (n == 0 || y >= n) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double *t = malloc(n * sizeof *t);
    if (!t) return SMX_ENOMEM;
    int st = smx_logsoftmax(t, z, n, SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, f);
    if (!st) *loss = -t[y];
    if (!st && grad) {
        st = smx_softmax(grad, z, n, SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, f);
        if (!st) grad[y] = smx_fsub(grad[y], 1.0, f);
    }
    free(t);
    return st;
}
