/* moe_mult.h - softmax-gated mixture of logistic experts (issue 13 part 3, science/moe_rates.md (d)):
 * Nguyen, Nguyen, Ho, "A General Theory for Softmax Gating Multinomial Logistic Mixture of Experts"
 * (ICML 2024). No public code exists; the choices are ours:
 *   P(y | x) = sum_i softmax_i(beta1_i.M(x) + beta0_i) * softmax_y(eta_i),  y in {0, 1} (S = 2 classes,
 *   class 0 the reference: eta_i = (0, a_i.x + b_i)), M(x) = x (softmax gate) or M(x) = tanh(x) applied
 *   coordinate-wise (the "modified" gate: the input transformed before the gate).
 * Parameters in smx_moe_t: beta0, beta1 gate; b, a the class-1 logit of each expert; var unused (1).
 * Reference expert (last): gate (0, 0). */
#ifndef SMX_MOE_MULT_H
#define SMX_MOE_MULT_H

#include "moe.h"

typedef enum { SMX_MOE_GATE_SOFTMAX = 0, SMX_MOE_GATE_MODIFIED = 1 } smx_moe_mgate_t;

/* gx = M(x) (n x d) */
void smx_moe_mult_gate_input(double *gx, const double *x, size_t n, size_t d, smx_moe_mgate_t g);
/* n draws: x ~ U(0,1)^d, expert z ~ gate, y ~ Bernoulli(logistic(a_z.x + b_z)) (y stored as 0.0 / 1.0). */
int smx_moe_mult_sample(double *x, double *y, const smx_moe_t *m, smx_moe_mgate_t g, size_t n, gsl_rng *r);
/* sum_j log P(y_j | x_j); gx = M(x). */
double smx_moe_mult_loglik(const smx_moe_t *m, const double *x, const double *gx, const double *y, size_t n);
/* EM: E-step r_ij ~ pi_i(M(x_j)) P_i(y_j | x_j); experts by weighted logistic regression (Newton, GSL
 * Cholesky, step halving, <= o->gate_max_iter iterations); gate by smx_moe_gate_mstep on M(x). Stops as
 * smx_moe_em. gx = M(x); w: smx_moe_em_alloc(n_max, k, d). */
int smx_moe_mult_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, smx_moe_em_t *w, const double *x,
                    const double *gx, const double *y, size_t n, const smx_moe_em_opts_t *o);

#endif
