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

/* ---- S >= 2 classes (issue 13: --classes S) ----
 * Expert i's class logits eta_is = b_is + a_is.x for s = 1..S-1, eta_i0 = 0 (class 0 the reference):
 * P_i(y | x) = softmax_y(eta_i). th: k x (S-1) x (d+1) doubles, th[(i (S-1) + s-1)(d+1) + 0] = b_is and
 * [... + 1 + c] = a_is,c. The gate is m's (beta0, beta1; b, a, var unused). S = 2 is the model above
 * (th = (b_i, a_i)), computed by the general code (equal up to rounding; the functions above stay the
 * S = 2 path of smx-moe, whose bytes predate this). S <= 8, d <= 7, k <= 64. */
#define SMX_MOE_MULT_SMAX 8
/* n draws: x ~ U(0,1)^d, expert z ~ gate(M(x)), y ~ softmax(eta_z) (y stored as 0.0 .. S-1). */
int smx_moe_mults_sample(double *x, double *y, const smx_moe_t *m, const double *th, size_t S, smx_moe_mgate_t g,
                         size_t n, gsl_rng *r);
/* sum_j log P(y_j | x_j) */
double smx_moe_mults_loglik(const smx_moe_t *m, const double *th, size_t S, const double *x, const double *gx,
                            const double *y, size_t n);
/* EM: E-step r_ij ~ pi_i(M(x_j)) P_i(y_j | x_j); each expert by weighted multinomial logistic regression:
 * Newton on sum_j r_ij log softmax_{y_j}(eta_i(x_j)), gradient sum_j r_ij (1[y_j = s] - p_js) z_j, negative
 * Hessian sum_j r_ij (p_js delta_st - p_js p_jt) z_j z_j^T (z = (1, x); GSL Cholesky, step halving,
 * <= o->gate_max_iter iterations); gate by smx_moe_gate_mstep on M(x). Stops as smx_moe_em. */
int smx_moe_mults_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, double *th, size_t S, smx_moe_em_t *w,
                     const double *x, const double *gx, const double *y, size_t n, const smx_moe_em_opts_t *o);
/* D1 of paper (a) for multinomial experts at k = k* without translation: cells A_j = fitted experts nearest
 * (Euclidean over (beta1, th)) to true expert j; D1 = sum_j |sum_{i in A_j} e^{beta0_i} - e^{beta0*_j}|
 * + sum_j sum_{i in A_j} e^{beta0_i} (|dbeta1| + |da| + |db|), |da| the norm over all (S-1) d slopes, |db|
 * over the S-1 intercepts. err[j] = max over A_j of (|dbeta1|, |da|, |db|) (NAN if empty). For S = 2 it is
 * smx_moe_voronoi's D1 (var = 1 on both sides). kt <= 16. */
double smx_moe_mults_d1(double err[][3], const smx_moe_t *truth, const double *th_truth, const smx_moe_t *fit,
                        const double *th_fit, size_t S);

#endif
