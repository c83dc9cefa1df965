/* sum.h - summation in a format: naive (left to right), pairwise, compensated.
 *
 * Every addition is rounded to the format (fast path: double + smx_format_round;
 * reference path: MPFR at the format's precision and range). The order is part of the
 * experiment (Softmax Collapse depends on it), so it is specified exactly:
 *  naive:       s = (((x0 + x1) + x2) + ...)                     (recursive summation)
 *  pairwise:    sum(x[0..n)) = sum(x[0..h)) + sum(x[h..n)), h = floor(n/2), down to single terms
 *  compensated: Kahan-Babuska-Neumaier: s += x_i with the rounding error of each addition
 *               accumulated in c (by the Fast2Sum branch on |s| >= |x_i|), result s + c.
 *  maxfirst:    s = x_k, then s += x_i for i != k in index order, k = the first index of the
 *               largest x_i (a softmax denominator with the max term's e^0 = 1 first, as
 *               smx-collapse's "sequential"; error bound (n-1)u as naive).
 * Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., ch. 4 (error bounds
 * (n-1)u, ceil(log2 n)u, 2u + O(nu^2) times sum|x_i|). */
#ifndef SMX_SUM_H
#define SMX_SUM_H

#include <stddef.h>
#include <mpfr.h>
#include "format.h"

typedef enum { SMX_SUM_NAIVE = 0, SMX_SUM_PAIRWISE = 1, SMX_SUM_COMPENSATED = 2, SMX_SUM_MAXFIRST = 3 } smx_sum_algo_t;
#define SMX_SUM_NALGOS 4

/* "naive" (aliases "sequential", "recursive"), "pairwise", "compensated" ("kahan",
 * "neumaier"), "maxfirst" ("max-first"). SMX_EDOM if unknown. */
int smx_sum_algo_parse(smx_sum_algo_t *algo, const char *name);
const char *smx_sum_algo_name(smx_sum_algo_t algo);

/* Fast path (f->p <= 53). n == 0 gives +0. */
double smx_sum(const double *x, size_t n, smx_sum_algo_t algo, const smx_format_t *f);
/* Argmax: index of the first largest x_i, NaN entries skipped (all NaN or n == 0: 0). The term the
 * maxfirst sum adds first; the one argmax of the workbench (rows of logits, attention scores). */
size_t smx_argmax(const double *x, size_t n);
/* Depth of the pairwise (tree) sum of n terms: ceil(log2 n), 0 for n <= 1 (its error constant in units
 * of u, Higham 2002 sec. 4.2; also the guard bits a sum of n terms needs). */
int smx_ceil_log2(size_t n);

/* Reference path, any format: s <- sum of x[0..n) with every addition rounded to f.
 * s is set to precision f->p. Handles the MPFR exponent range itself. Returns SMX_OK,
 * or SMX_ENOMEM. */
int smx_sum_mpfr(mpfr_t s, mpfr_t *const x, size_t n, smx_sum_algo_t algo, const smx_format_t *f);

#endif
