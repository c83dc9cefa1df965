/* moe_topk.h - top-K sparse softmax gate of the Gaussian MoE (issue 13 part 3, science/moe_rates.md (b):
 * Nguyen, Nguyen, Ho et al., "Statistical Perspective of Top-K Sparse Softmax Gating Mixture of Experts",
 * ICLR 2024). No public code exists; the choices are ours:
 *   pi_i(x) = softmax over the K largest logits eta_l = beta0_l + beta1_l.x (ties: lower index first) of
 *   eta_i, and exactly 0 (log -inf) outside them; the set is recomputed at every evaluation.
 * Gate estimator: the top-K objective is non-smooth in the gate where the set changes and, for K = 1, the
 * responsibilities are exactly 0/1 so its gradient vanishes; the gate M-step is therefore the Newton/IRLS
 * step of smx_moe_gate_mstep on the DENSE-softmax posteriors (pi_dense N normalised), while the experts'
 * M-step and the log-likelihood use the top-K gate. (Library only: no sweep / figure yet.) */
#ifndef SMX_MOE_TOPK_H
#define SMX_MOE_TOPK_H

#include "moe.h"

/* log pi_i(x) of the top-K gate; -INFINITY outside the K largest logits. K in [1, k], k <= 64. */
void smx_moe_topk_log_gate(double *logpi, const smx_moe_t *m, size_t K, const double *x);
/* sum_j log sum_i pi_i^K(x_j) N(y_j; b_i + a_i.x_j, var_i) */
double smx_moe_topk_loglik(const smx_moe_t *m, size_t K, const double *x, const double *y, size_t n);
/* EM as above; stops as smx_moe_em (|dloglik/loglik| <= tol or max_iter); SMX_EDOM for K = 0 or K > k. */
int smx_moe_topk_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, size_t K, smx_moe_em_t *w,
                    const double *x, const double *y, size_t n, const smx_moe_em_opts_t *o);

#endif
