/* stablemax.h - StableMax, log-StableMax and the two cross-entropy losses of
 * Prieto et al. 2025 ("Grokking at the edge of numerical stability"), science/collapse.md.
 *
 * s(x) = x + 1 (x >= 0), 1/(1 - x) (x < 0)                        (Def. 4)
 * StableMax(x)_i = s(x_i) / sum_j s(x_j)  ==  softmax(g(x))_i,  g(x) = sign(x) log(1 + |x|)
 * Applied to raw logits: NOT shift invariant, no max subtraction.
 *
 * NaN/Inf: any NaN input -> all outputs NaN.  s(+Inf) = +Inf, s(-Inf) = 0:
 * +Inf entries share the mass equally (others get 0), -Inf entries get 0 (as softmax
 * limits in g-space); logstablemax of a 0 entry is -Inf; all entries -Inf -> NaN (0/0).
 * Finite inputs whose sum S overflows in the format (fp16: s(60000) + s(60000)) are not
 * special: y = s/Inf = 0 as IEEE arithmetic gives (no exp: StableMax overflows only there).
 * _vjp and the losses: plain double formulas, no special-casing: a NaN or +-Inf input gives
 * NaN / Inf as the arithmetic does.
 * Fast functions: y may alias x. _ref and _vjp: outputs must not alias inputs. */
#ifndef SMX_STABLEMAX_H
#define SMX_STABLEMAX_H

#include <stddef.h>
#include "format.h"

/* s(x) = x + 1 (x >= 0), 1/(1 - x) (x < 0), Prieto et al. Def. 4. s(-Inf) = 0, s(NaN) = NaN. */
static inline double smx_stablemax_s(double x) { return x >= 0 ? x + 1.0 : (x < 0 ? 1.0 / (1.0 - x) : x); }
/* s'(x) = 1 (x >= 0), 1/(1 - x)^2 (x < 0). s'(NaN) = NaN. */
static inline double smx_stablemax_ds(double x)
{
    if (x >= 0) return 1.0;
    if (x < 0) { double t = 1.0 / (1.0 - x); return t * t; }
    return x;
}

/* y = StableMax(x) with every operation rounded to f (smx_format_has_fast(f), i.e. p <= 53, else
 * SMX_EUNSUP). Inputs first rounded to f; s_i = fl(x_i + 1) or fl(1 / fl(1 - x_i)),
 * S = pairwise sum (sum.h), y_i = fl(s_i / S). SMX_EDOM for n == 0. */
int smx_stablemax(double *y, const double *x, size_t n, const smx_format_t *f);
/* y = log StableMax(x) = g(x_i) - log S, every operation rounded to f:
 * y_i = fl(fl(g_i) - fl(log S)), g_i = +-log1p(|x_i|) (one rounding), S as above. */
int smx_logstablemax(double *y, const double *x, size_t n, const smx_format_t *f);
/* Exact values (MPFR, inputs taken exactly as doubles), correctly rounded once to f (any
 * format, p > 53 too; Ziv loop of attnnorm.h). log: -log1p(R_i / s_i), R_i = sum_{j != i} s_j,
 * so no cancellation for a dominant entry. */
int smx_stablemax_ref(double *y, const double *x, size_t n, const smx_format_t *f);
int smx_logstablemax_ref(double *y, const double *x, size_t n, const smx_format_t *f);
/* g = J^T v, gradient of <v, StableMax(x)> (resp. <v, logStableMax(x)>) w.r.t. x, in double:
 *   StableMax:    g_k = s'(x_k)/S (v_k - <v, y>)
 *   logStableMax: g_k = s'(x_k)/s(x_k) v_k - s'(x_k)/S sum_i v_i                          */
int smx_stablemax_vjp(double *g, const double *x, const double *v, size_t n);
int smx_logstablemax_vjp(double *g, const double *x, const double *v, size_t n);

/* StableMax cross entropy (collapse.md): loss = -log(s(z_y)/S), S = sum_j s(z_j);
 * grad_k = s'(z_k)/S - [k == y] s'(z_y)/s(z_y), the label's entry formed as -(R/S) / (1 + |z_y|),
 * R = S - s(z_y) (no cancellation). grad may be NULL. SMX_EDOM if n == 0 or y >= n. */
int smx_stablemax_ce(double *loss, double *grad, const double *z, size_t n, size_t y);
/* Softmax cross entropy: loss = -logsoftmax(z)_y (smx_logsoftmax, shifted, pairwise sum, in f),
 * grad = softmax(z) - e_y (in f). grad may be NULL. SMX_EDOM if n == 0 or y >= n. */
int smx_softmax_ce(double *loss, double *grad, const double *z, size_t n, size_t y, const smx_format_t *f);

#endif
