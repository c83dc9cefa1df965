/* softpick.h - softpick, the rectified softmax of Zuhri et al. 2025 ("Softpick: no attention
 * sink, no massive activations with rectified softmax", eq. 2 and the authors' reference code
 * github.com/zaydzuhri/softpick-attention, naive_softpick_attn.py).
 *
 *   softpick(x)_i = ReLU(e^{x_i} - 1) / (sum_j |e^{x_j} - 1| + eps)            (paper)
 * computed as in the authors' code with m = max_j x_j:
 *   softpick(x)_i = ReLU(e^{x_i - m} - e^{-m}) / (sum_j |e^{x_j - m} - e^{-m}| + eps)
 * i.e. the paper's formula with eps replaced by eps e^m (this is the function we define, fast
 * and reference; eps is only relevant when every x_j is ~0). Default eps = 1e-8 (the code).
 * Entries x_j = -Inf (masks) give 0 and are left out of the denominator (the code's isfinite).
 * Outputs are >= 0, sum to <= 1 (= 1 minus the mass of negative entries): no attention sink.
 *
 * Fast: inputs and eps rounded to f, every operation rounded to f (exp via smx_fexp), the
 * denominator summed pairwise (f->p <= 53 else SMX_EUNSUP). For m < -log(max) e^{-m}
 * overflows: all outputs are then 0 (they are 0 anyway: all x < 0); NaN for formats without Inf.
 * Reference: e^{x_i} - 1 by mpfr_expm1 (no cancellation), exact value rounded once to f.
 * Gradient (double), D' = sum_j |e^{x_j - m} - e^{-m}| + eps, A = sum_i v_i y_i:
 *   g_k = [x_k > 0] e^{x_k - m} v_k / D' - (sign(x_k) e^{x_k - m} + [k = argmax] eps) A / D'
 *   (the eps e^m term depends on m; sign(0) = 0 and ReLU'(0) = 0 taken at x_k = 0).
 * NaN / Inf: any NaN or +Inf entry -> all NaN (as the authors' code); all entries -Inf -> all 0;
 * eps = 0 and every entry 0 -> 0/0 = NaN (as the code).
 * Fast functions: y may alias x. _ref and _vjp: outputs must not alias inputs.
 * Status: SMX_EDOM for n == 0 or eps < 0 / NaN / Inf. */
#ifndef SMX_SOFTPICK_H
#define SMX_SOFTPICK_H

#include <stddef.h>
#include "format.h"

#define SMX_SOFTPICK_EPS 1e-8

int smx_softpick(double *y, const double *x, size_t n, double eps, const smx_format_t *f);
int smx_softpick_ref(double *y, const double *x, size_t n, double eps, const smx_format_t *f);
int smx_softpick_vjp(double *g, const double *x, const double *v, size_t n, double eps);

#endif
