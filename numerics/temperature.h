/* temperature.h - softmax with temperature, scalable softmax (SSMax) and adaptive temperature.
 * All three are softmax of scaled logits (computed by smx_softmax of numerics/lse.h, shifted).
 *
 *   softmax_temp(x; T)_i = softmax(x / T)_i                                  (T > 0)
 *   SSMax(x; s)_i        = softmax(s ln(n) x)_i   (Nakanishi 2025, "Scalable-Softmax Is Superior
 *                          for Attention", eq. 2; n = vector length)
 *   adaptive(x)_i        = softmax(beta(H) x)_i, H = entropy of softmax(x) (Velickovic et al. 2024,
 *                          "softmax is not enough (for sharp out-of-distribution)", Alg./code)
 * See science/dispersion.md.
 *
 * Fast (f->p <= 53, else SMX_EUNSUP): inputs and parameters rounded to f, the scaled logits
 * z_i = fl(x_i / T), fl(c x_i) with c = fl(s fl(ln n)), fl(beta x_i) rounded to f, then
 * smx_softmax(SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, f). Adaptive: p = that softmax of x, H =
 * smx_softmax_entropy(p) in double, beta = fl(smx_adaptive_beta(H)).
 * Reference (any format): z_i = (x_i - max x) scaled, in MPFR at w = p + 96 + log2(max|z|)
 * bits (so the relative perturbation of the softmax, <= 2 max|z_j| 2^-w, is below
 * 2^-(p+94)), then smx_softmax_mpfr(SMX_LSE_REFERENCE) (Ziv loop, correctly rounded to f);
 * adaptive: beta from H of the correctly rounded fp64 softmax of x.
 * Gradients (double, y = smx_softmax_f64(z)): g = c y * (v - <v, y>) with c = 1/T, s ln n or
 * beta. Adaptive temperature: beta treated as a constant (stop-gradient, as in Velickovic et
 * al.'s inference-only use), so its dependence on H(x) is NOT differentiated. SSMax also gives
 * dL/ds = ln n sum_i y_i (v_i - <v, y>) (x_i - <x, y>).
 * NaN / Inf: those of smx_softmax (lse.h) applied to z: any NaN -> NaN; +Inf entries share the
 * mass; -Inf entries get 0. Note z = 0 * x when n = 1 in SSMax (ln 1 = 0): y = 1 for finite x,
 * NaN for an infinite one. T = +Inf gives z = 0 (uniform) for finite x. The vjps use
 * smx_softmax_f64 (NaN in -> NaN; +Inf gives NaN there).
 * Fast functions: y may alias x. _ref and _vjp: outputs must not alias inputs.
 * Status: SMX_EDOM for n == 0, T <= 0 or NaN, s not finite or <= 0; SMX_ENOMEM; errors of
 * smx_softmax. */
#ifndef SMX_TEMPERATURE_H
#define SMX_TEMPERATURE_H

#include <math.h>
#include <stddef.h>
#include "format.h"

/* Velickovic et al.: beta(H) = max(-0.037H^4 + 0.481H^3 - 2.3H^2 + 4.917H - 1.791, 1) if H > 0.5
 * else 1. > 1 exactly on H in (0.849, 5.944), max 2.421 at H = 4.41. NaN -> 1 (comparisons false). */
static inline double smx_adaptive_poly(double H) /* the quartic alone (Horner), any H */
{
    return (((-0.037 * H + 0.481) * H - 2.3) * H + 4.917) * H - 1.791;
}
static inline double smx_adaptive_beta(double H)
{
    if (!(H > 0.5)) return 1.0;
    double b = smx_adaptive_poly(H);
    return b > 1.0 ? b : 1.0;
}
/* SSMax scale s ln n (Nakanishi 2025). n = 0 gives -Inf*s (callers reject n == 0). */
static inline double smx_ssmax_scale(double s, size_t n) { return s * log((double)n); }
/* Entropy H = -sum p_i ln(p_i + 1e-9) in nats, as in Velickovic et al.'s code. */
static inline double smx_softmax_entropy(const double *p, size_t n)
{
    double h = 0.0;
    for (size_t i = 0; i < n; i++) h -= p[i] * log(p[i] + 1e-9);
    return h;
}

int smx_softmax_temp(double *y, const double *x, size_t n, double T, const smx_format_t *f);
int smx_softmax_temp_ref(double *y, const double *x, size_t n, double T, const smx_format_t *f);
int smx_softmax_temp_vjp(double *g, const double *x, const double *v, size_t n, double T);

/* SSMax: y = softmax(s ln(n) x), n = the vector length (the paper's context size). */
int smx_ssmax(double *y, const double *x, size_t n, double s, const smx_format_t *f);
int smx_ssmax_ref(double *y, const double *x, size_t n, double s, const smx_format_t *f);
/* g = J^T v and *ds = d<v, y>/ds (ds may be NULL). */
int smx_ssmax_vjp(double *g, double *ds, const double *x, const double *v, size_t n, double s);

/* Adaptive temperature: y = softmax(beta(H(softmax(x))) x). beta may be NULL; else *beta
 * receives the beta used. */
int smx_adaptive(double *y, double *beta, const double *x, size_t n, const smx_format_t *f);
int smx_adaptive_ref(double *y, double *beta, const double *x, size_t n, const smx_format_t *f);
int smx_adaptive_vjp(double *g, const double *x, const double *v, size_t n); /* beta constant */

#endif
