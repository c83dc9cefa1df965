/* attnnorm.h - elementwise attention normalisers and the MPFR reference machinery shared by
 * the normaliser family (stablemax, sparsemax, softpick, attnnorm).
 *
 *  sigmoid attention (Ramapuram et al. 2024, "Theory, analysis, and best practices for
 *  sigmoid self-attention", eq. 1-3): y_i = sigma(x_i + b), sigma(t) = 1/(1 + e^{-t}),
 *  bias b = -ln n by default (their recommended initialisation / fixed bias).
 *  ReLU/n attention (the "ReLU(x)/seq_len" normaliser of Wortsman et al. 2023, used as a
 *  baseline by Ramapuram et al.): y_i = max(x_i, 0) / n.
 * Neither sums to 1: they are elementwise (no coupling between entries except through n).
 *
 * Fast functions: inputs (and b) first rounded to f, every operation rounded to f
 * (smx_format_has_fast(f) required, else SMX_EUNSUP). sigma is evaluated as
 * 1/(1 + e^{-t}) for t >= 0 and e^t/(1 + e^t) for t < 0 (no overflow).
 * _ref: exact value of the double inputs (MPFR, Ziv loop, see smx_attnnorm_ziv), rounded once to f.
 * _vjp: g = J^T v in double: sigmoid g_i = v_i y_i (1 - y_i); ReLU g_i = v_i [x_i > 0] / n
 *       (derivative 0 taken at x_i = 0).
 * NaN / Inf: elementwise limits: sigmoid(+Inf) = 1, sigmoid(-Inf) = 0, ReLU(+Inf)/n = +Inf,
 * ReLU(-Inf) = 0; NaN entries give NaN (only in their own position).
 * Fast functions: y may alias x. _ref and _vjp: outputs must not alias inputs.
 * Status: SMX_EDOM for n == 0 or a non-finite b (NaN b selects the default -ln n). */
#ifndef SMX_ATTNNORM_H
#define SMX_ATTNNORM_H

#include <math.h>
#include <stddef.h>
#include <mpfr.h>
#include "format.h"

/* Default sigmoid-attention bias b = -ln n (Ramapuram et al. 2024). Pass NAN as b for it. */
static inline double smx_sigmoid_attn_bias(size_t n) { return -log((double)n); }

int smx_sigmoid_attn(double *y, const double *x, size_t n, double b, const smx_format_t *f);
int smx_sigmoid_attn_ref(double *y, const double *x, size_t n, double b, const smx_format_t *f);
int smx_sigmoid_attn_vjp(double *g, const double *x, const double *v, size_t n, double b);

int smx_relu_attn(double *y, const double *x, size_t n, const smx_format_t *f);
int smx_relu_attn_ref(double *y, const double *x, size_t n, const smx_format_t *f);
int smx_relu_attn_vjp(double *g, const double *x, const double *v, size_t n);

/* ---- shared by the normaliser family's _ref functions ----
 * A Ziv loop: eval(y, w, lost, ctx) sets y[0..n) (initialised by the caller of eval at
 * precision w) and, per component, lost[i] >= 0 with |y_i - exact_i| <= 2^lost[i] ulp_w(y_i),
 * or lost[i] = -1 if y_i is exact. Components that are exact, zero, Inf or NaN, or for which
 * mpfr_can_round(y_i, w - lost_i, RNDN, RNDZ, p + 1) holds, are rounded once to f (RNE,
 * with the format's range and subnormals; correct for subnormal results too, since a
 * coarser rounding boundary is also a (p+1)-bit number); otherwise w grows by half and eval
 * runs again, at most 8 rounds (after that the last values are rounded: this only happens
 * for results exactly on a rounding boundary that eval did not flag exact).
 * w starts at p + 64 + ceil(log2 n). Returns SMX_OK, SMX_ENOMEM or eval's nonzero status. */
typedef int (*smx_attnnorm_eval_fn)(mpfr_t *y, mpfr_prec_t w, int *lost, void *ctx);
int smx_attnnorm_ziv(double *y, size_t n, smx_attnnorm_eval_fn eval, void *ctx, const smx_format_t *f);

/* Number of bits needed to cover a relative error bound of c units of 2^-w: ceil(log2 c) (>= 0). */
int smx_attnnorm_lost_bits(double c);

#endif
