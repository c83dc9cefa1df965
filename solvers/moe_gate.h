/* moe_gate.h - gating variants of the Gaussian mixture of experts (issue 13 part 3,
 * science/moe_rates.md (c)): Nguyen, Akbarian, Ho, "Is Temperature Sample Efficient for Softmax
 * Gaussian Mixture of Experts?" (ICML 2024). No public code exists; the choices below are ours.
 *
 * Dense-to-sparse gate with a shared temperature tau (estimated):
 *     pi_i(x) = softmax_i( act(beta1_i.x) / tau + beta0_i ),
 * act = identity ("temperature" gate of (c)) or tanh / sigmoid ((c)'s "activation" gate).
 * With act = identity only beta1_i / tau is identifiable: (beta1, tau) -> (c beta1, c tau) leaves
 * the density unchanged (the PDE interaction of (c) taken to its extreme), so tau and beta1 are not
 * consistently estimable and the parameter loss cannot decay polynomially; tanh / sigmoid break the
 * scale invariance. The reference (last) expert has beta0 = 0, beta1 = 0 (for sigmoid its logit is
 * then sigmoid(0) / tau = 0.5 / tau, which depends on tau). */
#ifndef SMX_MOE_GATE_H
#define SMX_MOE_GATE_H

#include "moe.h"

typedef enum { SMX_MOE_ACT_IDENTITY = 0, SMX_MOE_ACT_TANH = 1, SMX_MOE_ACT_SIGMOID = 2 } smx_moe_act_t;

/* act(u) and act'(u) */
double smx_moe_act(smx_moe_act_t act, double u, double *deriv);
/* log pi_i(x) for the tempered gate (max-shifted log-sum-exp); k <= 64. */
void smx_moe_tgate_log(double *logpi, const smx_moe_t *m, double tau, smx_moe_act_t act, const double *x);
/* n draws as smx_moe_sample, with the tempered gate. */
int smx_moe_tgate_sample(double *x, double *y, const smx_moe_t *m, double tau, smx_moe_act_t act, size_t n,
                         smx_moe_design_t design, gsl_rng *r);
/* sum_j log sum_i pi_i(x_j) N(y_j; b_i + a_i.x_j, var_i) with the tempered gate. */
double smx_moe_tgate_loglik(const smx_moe_t *m, double tau, smx_moe_act_t act, const double *x, const double *y,
                            size_t n);

/* Gate objective Q = sum_j sum_i r_ij log pi_i(x_j) over theta = (gamma, log tau), gamma = (beta0_i, beta1_i)
 * for i < k-1, and its gradient: dQ/deta_ij = r_ij - pi_ij; deta_i/dbeta0_i = 1,
 * deta_i/dbeta1_i = act'(beta1_i.x) x / tau, deta_i/dlog tau = -act(beta1_i.x) / tau (every i). grad may be NULL.
 * r: n x k rows summing to 1. */
double smx_moe_tgate_q(double *grad, const smx_moe_t *m, double tau, smx_moe_act_t act, const double *r,
                       const double *x, size_t n);

/* Generalised EM: E-step with the tempered gate, experts by smx_moe_expert_mstep (weighted least squares),
 * gate M-step by BFGS (gsl_multimin vector_bfgs2, analytic gradient, <= o->gate_max_iter iterations,
 * gradient norm <= 1e-8 * n) on Q over (gamma, log tau), accepted only if Q does not decrease (so the
 * log-likelihood never decreases). Stops as smx_moe_em. w: smx_moe_em_alloc(n_max, k, d). */
int smx_moe_tgate_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, double *tau, smx_moe_act_t act,
                     smx_moe_em_t *w, const double *x, const double *y, size_t n, const smx_moe_em_opts_t *o);

#endif
