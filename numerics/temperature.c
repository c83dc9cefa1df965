/* temperature.c - softmax with temperature, SSMax, adaptive temperature (see temperature.h):
 * every one is smx_softmax (lse.h) of scaled logits. */
#include "temperature.h"
#include "lse.h"
#include "smx.h"

#include <stdlib.h>

typedef enum { SC_DIV, SC_MUL } scale_op_t;

/* y = softmax(z), z_i = fl(fl(x_i) op fl(c)) in f, shifted algorithm, pairwise sum. */
static int softmax_scaled(double *y, const double *x, size_t n, scale_op_t op, double c, const smx_format_t *f)
{
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double *z = malloc(n * sizeof *z);
    if (!z) return SMX_ENOMEM;
    double cf = smx_format_round(c, f);
    for (size_t i = 0; i < n; i++) {
        double xi = smx_format_round(x[i], f);
        z[i] = op == SC_DIV ? smx_fdiv(xi, cf, f) : smx_fmul(xi, cf, f);
    }
    int st = smx_softmax(y, z, n, SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, f);
    free(z);
    return st;
}

/* Index of the largest entry if every entry is finite or -Inf (not all -Inf), else n. */
static size_t shift_index(const double *x, size_t n)
{
    size_t k = n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || x[i] == INFINITY) return n;
        if (x[i] > -INFINITY && (k == n || x[i] > x[k])) k = i;
    }
    return k;
}

/* Reference: z_i = (x_i - x_k) op c in MPFR at w bits (x_k = max x; c > 0 as an mpfr_t, so
 * the shift leaves softmax unchanged and z_k = 0 exactly), then the correctly rounded softmax
 * of z (smx_softmax_mpfr, SMX_LSE_REFERENCE). Shifting keeps max z = 0, which lse.c's reference
 * needs for inputs carrying more than its working precision (large |z| with w-bit significands). */
static int softmax_scaled_ref(double *y, const double *x, size_t n, scale_op_t op, const mpfr_t c,
                              mpfr_prec_t w, const smx_format_t *f)
{
    mpfr_t *z = malloc(2 * n * sizeof *z);
    if (!z) return SMX_ENOMEM;
    mpfr_t *o = z + n;
    size_t k = shift_index(x, n);
    double xk = k < n ? x[k] : 0.0;
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(z[i], w);
        mpfr_init2(o[i], f->p);
        mpfr_set_d(z[i], x[i], MPFR_RNDN);
        mpfr_sub_d(z[i], z[i], xk, MPFR_RNDN);
        if (op == SC_DIV) mpfr_div(z[i], z[i], c, MPFR_RNDN);
        else mpfr_mul(z[i], z[i], c, MPFR_RNDN);
    }
    int st = smx_softmax_mpfr(o, z, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, f);
    for (size_t i = 0; i < n; i++) {
        if (!st) y[i] = mpfr_get_d(o[i], MPFR_RNDN);
        mpfr_clear(z[i]);
        mpfr_clear(o[i]);
    }
    free(z);
    return st;
}

/* Working precision for scaled, shifted logits of size up to (max x - min x) * cmax: the
 * relative perturbation 2 max|z_i - z_k| 2^-w of the softmax stays below 2^-(p+94). */
static mpfr_prec_t ref_prec(const double *x, size_t n, double cmax, const smx_format_t *f)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) { lo = fmin(lo, x[i]); hi = fmax(hi, x[i]); }
    double m = hi > lo ? 0.5 * hi - 0.5 * lo : 0.0; /* half the range: no overflow */
    /* bits of range * cmax, without overflowing a double */
    int e = m > 0 && cmax > 0 && isfinite(cmax) ? ilogb(m) + ilogb(cmax) + 3 : 0;
    if (e < 0) e = 0;
    return f->p + 96 + e;
}

/* g_i = c y_i (v_i - <v, y>): the vjp of softmax(c x). */
static void softmax_vjp_scaled(double *g, const double *y, const double *v, size_t n, double c)
{
    double vy = 0.0;
    for (size_t i = 0; i < n; i++) vy += v[i] * y[i];
    for (size_t i = 0; i < n; i++) g[i] = c * y[i] * (v[i] - vy);
}

/* y = softmax_f64(c x) into y (scratch z of n doubles). */
static int softmax_f64_scaled(double *y, const double *x, size_t n, double c)
{
    double *z = malloc(n * sizeof *z);
    if (!z) return SMX_ENOMEM;
    for (size_t i = 0; i < n; i++) z[i] = c * x[i];
    smx_softmax_f64(y, z, n);
    free(z);
    return SMX_OK;
}

/* ---- temperature ---- */

static int bad_T(double T) { return !(T > 0); }

int smx_softmax_temp(double *y, const double *x, size_t n, double T, const smx_format_t *f)
{
    if (n == 0 || bad_T(T)) return SMX_EDOM;
    return softmax_scaled(y, x, n, SC_DIV, T, f);
}

int smx_softmax_temp_ref(double *y, const double *x, size_t n, double T, const smx_format_t *f)
{
    if (n == 0 || bad_T(T)) return SMX_EDOM;
    mpfr_t c;
    mpfr_init2(c, 53);
    mpfr_set_d(c, T, MPFR_RNDN);
    int st = softmax_scaled_ref(y, x, n, SC_DIV, c, ref_prec(x, n, 1.0 / T, f), f);
    mpfr_clear(c);
    return st;
}

int smx_softmax_temp_vjp(double *g, const double *x, const double *v, size_t n, double T)
{
    if (n == 0 || bad_T(T)) return SMX_EDOM;
    double *y = malloc(n * sizeof *y);
    if (!y) return SMX_ENOMEM;
    int st = softmax_f64_scaled(y, x, n, 1.0 / T);
    if (!st) softmax_vjp_scaled(g, y, v, n, 1.0 / T);
    free(y);
    return st;
}

/* ---- SSMax ---- */

static int bad_s(double s) { return !(s > 0) || isinf(s); }

int smx_ssmax(double *y, const double *x, size_t n, double s, const smx_format_t *f)
{
    if (n == 0 || bad_s(s)) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    /* c = fl(s * fl(ln n)) */
    double c = smx_fmul(smx_format_round(s, f), smx_format_round(log((double)n), f), f);
    return softmax_scaled(y, x, n, SC_MUL, c, f);
}

int smx_ssmax_ref(double *y, const double *x, size_t n, double s, const smx_format_t *f)
{
    if (n == 0 || bad_s(s)) return SMX_EDOM;
    mpfr_prec_t w = ref_prec(x, n, smx_ssmax_scale(s, n), f);
    mpfr_t c;
    mpfr_init2(c, w + 16);
    mpfr_set_ui(c, (unsigned long)n, MPFR_RNDN);
    mpfr_log(c, c, MPFR_RNDN);
    mpfr_mul_d(c, c, s, MPFR_RNDN);
    int st = softmax_scaled_ref(y, x, n, SC_MUL, c, w, f);
    mpfr_clear(c);
    return st;
}

int smx_ssmax_vjp(double *g, double *ds, const double *x, const double *v, size_t n, double s)
{
    if (n == 0 || bad_s(s)) return SMX_EDOM;
    double L = log((double)n), c = s * L;
    double *y = malloc(n * sizeof *y);
    if (!y) return SMX_ENOMEM;
    int st = softmax_f64_scaled(y, x, n, c);
    if (!st && ds) {
        /* d/ds softmax(s L x)_i = L y_i (x_i - <x, y>) */
        double vy = 0.0, xy = 0.0, acc = 0.0;
        for (size_t i = 0; i < n; i++) { vy += v[i] * y[i]; xy += x[i] * y[i]; }
        for (size_t i = 0; i < n; i++) acc += y[i] * (v[i] - vy) * (x[i] - xy);
        *ds = L * acc;
    }
    if (!st) softmax_vjp_scaled(g, y, v, n, c);
    free(y);
    return st;
}

/* ---- adaptive temperature ---- */

int smx_adaptive(double *y, double *beta, const double *x, size_t n, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double *p = malloc(n * sizeof *p); /* not y: y may alias x */
    if (!p) return SMX_ENOMEM;
    int st = smx_softmax(p, x, n, SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, f);
    double b = st ? 1.0 : smx_format_round(smx_adaptive_beta(smx_softmax_entropy(p, n)), f);
    free(p);
    if (st) return st;
    if (beta) *beta = b;
    return softmax_scaled(y, x, n, SC_MUL, b, f);
}

/* beta from the correctly rounded fp64 softmax of x (scratch p of n doubles). */
static int beta_ref(double *b, double *p, const double *x, size_t n)
{
    smx_format_t f64;
    smx_format_get(&f64, "fp64");
    int st = smx_softmax(p, x, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &f64);
    if (!st) *b = smx_adaptive_beta(smx_softmax_entropy(p, n));
    return st;
}

int smx_adaptive_ref(double *y, double *beta, const double *x, size_t n, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    double *p = malloc(n * sizeof *p), b = 1.0;
    if (!p) return SMX_ENOMEM;
    int st = beta_ref(&b, p, x, n);
    free(p);
    if (st) return st;
    if (beta) *beta = b;
    mpfr_t c;
    mpfr_init2(c, 53);
    mpfr_set_d(c, b, MPFR_RNDN);
    st = softmax_scaled_ref(y, x, n, SC_MUL, c, ref_prec(x, n, b, f), f);
    mpfr_clear(c);
    return st;
}

int smx_adaptive_vjp(double *g, const double *x, const double *v, size_t n)
{
    if (n == 0) return SMX_EDOM;
    double *y = malloc(n * sizeof *y);
    if (!y) return SMX_ENOMEM;
    smx_softmax_f64(y, x, n);
    double b = smx_adaptive_beta(smx_softmax_entropy(y, n));
    int st = softmax_f64_scaled(y, x, n, b);
    if (!st) softmax_vjp_scaled(g, y, v, n, b);
    free(y);
    return st;
}
