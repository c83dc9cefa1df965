/* threshold.h - the Softmax Collapse threshold of a format (Prieto et al., ICLR 2025, Def. 3).
 *
 * Setting: the correct logit is D above all V-1 others, so after the max shift the softmax
 * sum is 1 + sum_{k=1}^{V-1} t with t = e^{-D}. Softmax Collapse (SC) is fl(sum) == 1: the
 * loss and the correct-class gradient are then exactly 0. The threshold is the smallest
 * D >= 0 with SC. Every addition is rounded to nearest-even in the format (its precision,
 * range and subnormals); the terms t are
 *   SMX_THRESHOLD_EXACT_EXP:   exact reals e^{-D} (D exact; only the sum is rounded). Then,
 *       sequential: fl(1 + t) == 1 iff t <= 2^-p (half an ulp of 1; the tie rounds to even 1),
 *       so D* = p ln 2 exactly for every V;
 *       pairwise: D* = p ln 2 + ln(V-1) up to the rounding of the small sum.
 *   SMX_THRESHOLD_ROUNDED_EXP: fl(e^{-D}) correctly rounded into the format first, as a real
 *       softmax kernel does; for V = 2, D* = p ln 2 - ln(1 + 2^-p) (exp rounds down to 2^-p
 *       from below the tie at 2^-p (1 + 2^-p)).
 * Orders: sequential = ((1 + t) + t) + ... (max term first, then one class at a time);
 *         pairwise   = 1 + pairwise_sum(t, ..., t) (the small terms summed first in the
 *         tree order of sum.h, as SIMD / tree reductions do), then added to the max's 1.
 * D* is found by bisection on the monotone predicate in MPFR at p + 96 bits, to a relative
 * accuracy below 2^-80, and returned as the double nearest to it. */
#ifndef SMX_THRESHOLD_H
#define SMX_THRESHOLD_H

#include <stddef.h>
#include "format.h"
#include "sum.h"

typedef enum { SMX_THRESHOLD_EXACT_EXP = 0, SMX_THRESHOLD_ROUNDED_EXP = 1 } smx_threshold_exp_t;

/* 1 if the softmax sum for gap D (an exact double) collapses to exactly 1 in f. */
int smx_threshold_is_sc(double D, size_t V, smx_sum_algo_t order, smx_threshold_exp_t expmode,
                        const smx_format_t *f);

/* *D <- the collapse threshold. order: SMX_SUM_NAIVE (sequential) or SMX_SUM_PAIRWISE.
 * SMX_EDOM if V < 2 or order is compensated. */
int smx_threshold_collapse(double *D, size_t V, smx_sum_algo_t order, smx_threshold_exp_t expmode,
                           const smx_format_t *f);

#endif
