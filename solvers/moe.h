/* moe.h - softmax-gated Gaussian mixture of experts (issue 13, science/moe_rates.md):
 * parameter sets and their TSV files, sampling, log-likelihood, EM (log-space E-step, weighted
 * least squares expert M-step, Newton/IRLS gate M-step with capped step halving) and the Voronoi
 * losses D1 / D2 of Nguyen, Ho et al. (NeurIPS 2023, "Demystifying Softmax Gating ...").
 *
 * Model (paper (a), eq. (1)):  g_G(y|x) = sum_i softmax_i(beta1_i.x + beta0_i) N(y; a_i.x + b_i, var_i),
 * identifiable up to permutation and one common translation (t0, t1) of every (beta0_i, beta1_i);
 * the convention here, as in the paper, is that the LAST expert is the reference: its gate is
 * (0, 0) in truth and in every fit. var is the variance (not the standard deviation). */
#ifndef SMX_MOE_H
#define SMX_MOE_H

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

/* k experts, input dimension d. Arrays carved from one allocation (smx_moe_alloc). */
typedef struct {
    size_t k, d;
    double *beta0; /* k: gate intercepts */
    double *beta1; /* k x d (row i = expert i): gate slopes */
    double *b;     /* k: expert intercepts */
    double *a;     /* k x d: expert slopes */
    double *var;   /* k: expert variances */
} smx_moe_t;

int smx_moe_alloc(smx_moe_t *m, size_t k, size_t d);
void smx_moe_free(smx_moe_t *m);
/* dst must have been allocated with src's k and d. */
void smx_moe_copy(smx_moe_t *dst, const smx_moe_t *src);
/* The truth of paper (a)'s simulation: k* = 2, d = 1, gates (-8, 25), (0, 0); experts
 * (b, a) = (15, -20), (-5, 20); variances 0.09, 0.16 (standard deviations 0.3, 0.4). */
int smx_moe_paper_truth(smx_moe_t *m);

/* Parameter files: TSV, '#' comment lines, header "beta0 beta1_1 .. beta1_d b a_1 .. a_d var",
 * one row per expert, last row the reference expert. want_d = 0: d from the header.
 * On error (SMX_EDOM, SMX_EIO, SMX_ENOMEM) err holds "path:line:column: problem" and *m is
 * left unallocated. Rejects: missing / unknown / misordered column, non-numeric or non-finite
 * field, ragged row, wrong d, variance <= 0, no rows. */
int smx_moe_read(smx_moe_t *m, char *err, size_t errlen, const char *path, size_t want_d);
/* Header line and rows, %.17g, to an open stream (after any '#' metadata lines). */
void smx_moe_write_rows(FILE *fp, const smx_moe_t *m);

/* Designs of the input: x_j = j/(n-1) (the authors' linspace(0, 1, n); d = 1 only) or x ~ U(0,1)^d. */
typedef enum { SMX_MOE_DESIGN_GRID = 0, SMX_MOE_DESIGN_UNIFORM = 1 } smx_moe_design_t;

/* n draws (x: n x d row-major, y: n) from m. Per draw: (x if uniform), one uniform for the expert,
 * one Gaussian for y. SMX_EDOM for the grid design with d != 1 or n < 2. */
int smx_moe_sample(double *x, double *y, const smx_moe_t *m, size_t n, smx_moe_design_t design, gsl_rng *r);

/* log pi_i(x) = eta_i - logsumexp(eta), eta_i = beta0_i + beta1_i.x (max-shifted). */
void smx_moe_log_gate(double *logpi, const smx_moe_t *m, const double *x);
/* sum_j log g_G(y_j | x_j), each term a max-shifted log-sum-exp. */
double smx_moe_loglik(const smx_moe_t *m, const double *x, const double *y, size_t n);

/* ---- EM ---- */
typedef struct {
    int max_iter;       /* EM iterations (2000, the authors') */
    double tol;         /* stop at |dloglik / loglik| <= tol (1e-6) */
    int gate_max_iter;  /* Newton iterations per gate M-step (300) */
    double gate_tol;    /* stop at |dQ / Q| <= gate_tol (1e-7) */
    int max_halvings;   /* step halvings per Newton step (30) */
    double var_floor;   /* variance floor (1e-8): a collapsing expert cannot make the likelihood infinite */
} smx_moe_em_opts_t;
void smx_moe_em_opts_default(smx_moe_em_opts_t *o);

typedef struct {
    double loglik;
    int iterations; /* EM iterations done */
    int converged;  /* 1: the relative-change rule stopped it */
    long gate_iters;/* Newton iterations over all gate M-steps */
} smx_moe_em_result_t;

/* The start of every EM variant: res cleared, the reference (last) expert's gate pinned at (0, 0). */
void smx_moe_em_begin(smx_moe_em_result_t *res, smx_moe_t *m);
/* One observation's E-step, shared by the EM variants: from its k log joint weights
 * lw_i = log pi_i(x) + log p_i(y | x), returns log sum_i e^{lw_i} = mx + log s (mx = max_i lw_i,
 * s = sum_i e^{lw_i - mx}, summed in order i = 0..k-1), overwrites lw_i by e^{lw_i - mx} and, unless r is
 * NULL, writes the posteriors r_i = e^{lw_i - mx} / s. */
double smx_moe_posterior(double *r, double *lw, size_t k);
/* The EM stopping rule, shared by every EM variant: after iteration `it` with new log-likelihood lln,
 * records it (trace[it] if trace, res->iterations, *ll = res->loglik = lln) and returns 1 when EM
 * must stop: ll not finite, or |lln - ll_old| <= tol |lln| (then res->converged = 1). */
int smx_moe_em_step_done(smx_moe_em_result_t *res, double *ll, double *trace, int it, double lln,
                         const smx_moe_em_opts_t *o);

/* Workspace for n_max observations, k experts, dimension d. */
typedef struct smx_moe_em smx_moe_em_t;
smx_moe_em_t *smx_moe_em_alloc(size_t n_max, size_t k, size_t d);
void smx_moe_em_free(smx_moe_em_t *w);

/* E-step: responsibilities r (n x k, row-major, into the workspace) at m; returns the log-likelihood. */
double smx_moe_estep(smx_moe_em_t *w, const smx_moe_t *m, const double *x, const double *y, size_t n);
/* The workspace's responsibilities (n x k) after smx_moe_estep; writable (tests set their own). */
double *smx_moe_em_resp(smx_moe_em_t *w);

/* Gate M-step: maximise Q(gamma) = sum_j sum_i r_ij log pi_i(x_j) over the non-reference gates,
 * starting from m's gates (r = the workspace's responsibilities). Newton / IRLS: gradient
 * sum_j (r_ij - pi_ij) z_j, negative Hessian sum_j pi_ij (delta_il - pi_lj) z_j z_j^T (z = (1, x)),
 * solved by GSL Cholesky (tiny ridge if not positive definite); step halved until Q does not
 * decrease (at most max_halvings times). Returns Newton iterations done; *Q the final value. */
int smx_moe_gate_mstep(smx_moe_t *m, double *Q, smx_moe_em_t *w, const double *x, size_t n,
                       const smx_moe_em_opts_t *o);
/* Expert M-step: weighted least squares (b_i, a_i) = argmin sum_j r_ij (y_j - b - a.x_j)^2 (GSL
 * Cholesky of the normal equations), var_i = sum_j r_ij resid^2 / sum_j r_ij (floored). */
void smx_moe_expert_mstep(smx_moe_t *m, smx_moe_em_t *w, const double *x, const double *y, size_t n,
                          const smx_moe_em_opts_t *o);

/* EM from m's current parameters (updated in place). trace (NULL or max_iter + 1 doubles) gets the
 * log-likelihood before the first and after every iteration. */
int smx_moe_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, smx_moe_em_t *w, const double *x,
               const double *y, size_t n, const smx_moe_em_opts_t *o);

/* ---- initialisation near the truth (paper (a)'s code) ----
 * Fitted expert k-1 is put on the truth's reference expert k*-1, fitted experts 0..k*-2 on true
 * experts 0..k*-2 (every true expert covered), the others on uniformly random true experts.
 * Perturbations: gate + N(0, (0.005 n^-0.083)^2), experts + N(0, (0.05 n^-0.083)^2), variance
 * + |N(0, (0.005 n^-0.25)^2)|; the reference gate stays (0, 0).
 * INTENDED: independent draws per coordinate, variances started at the true variances.
 * AUTHORS: one scalar draw added to both gate coordinates (and one to all expert coefficients),
 * and the variance started at the true STANDARD DEVIATION (0.3, 0.4 instead of 0.09, 0.16). */
typedef enum { SMX_MOE_INIT_INTENDED = 0, SMX_MOE_INIT_AUTHORS = 1 } smx_moe_init_t;
int smx_moe_init_near(smx_moe_t *fit, const smx_moe_t *truth, size_t n, smx_moe_init_t mode, gsl_rng *r);

/* ---- Voronoi losses (paper (a), Section 3 / 4) ----
 * Cells A_j = fitted experts whose (beta1, a, b, var) is nearest (Euclidean) to true atom j's.
 * Translation (t0, t1) is added to every FITTED gate before the loss. With k <= k* (D1):
 *   D1 = sum_j |sum_{i in A_j} e^{beta0_i} - e^{beta0*_j}| + sum_j sum_{i in A_j} e^{beta0_i}
 *        (|dbeta1| + |da| + |db| + |dvar|)   (exponent 1 for every member, also of a 2-member cell).
 * With k > k* (D2): the same first term; single-member cells as in D1; a cell of m >= 2 members,
 * r = rbar(m) (rbar(2) = 4, rbar(3) = 6, rbar_big for m >= 4): sum_i e^{beta0_i} (|dbeta1|^r + |db|^r
 * + |da|^{r/2} + |dvar|^{r/2}). An empty cell contributes e^{beta0*_j} through the first term. */
typedef struct {
    double D;             /* the loss */
    double t[8];          /* translation used: t0, t1_1 .. t1_d (d <= 7) */
    int size[16];         /* |A_j| for j < k* (k* <= 16) */
    double err[16][4];    /* per cell, max over its members of |dbeta1|, |da|, |db|, |dvar| (NAN if empty) */
} smx_moe_voronoi_t;

#define SMX_MOE_VORONOI_KMAX 16
/* rbar_big <= 0: a cell of >= 4 members is SMX_EDOM. t: d+1 numbers or NULL (no translation). */
int smx_moe_voronoi(smx_moe_voronoi_t *v, const smx_moe_t *truth, const smx_moe_t *fit, const double *t,
                    double rbar_big);
/* The loss minimised over the translation: exactly in t0 for each t1 (D is convex piecewise linear in
 * e^{t0}: the minimum is at a breakpoint), over t1 by Nelder-Mead (gsl_multimin nmsimplex2) started at
 * the best of t1 = 0 and t1 = beta1*_j - beta1_i for every pair. */
int smx_moe_voronoi_min(smx_moe_voronoi_t *v, const smx_moe_t *truth, const smx_moe_t *fit, double rbar_big);

/* Empirical Hellinger distance between g_fit(.|x) and g_truth(.|x): sqrt(E_x H^2(x)), x ~ U(0,1)^d, with
 * H^2(x) = 1/2 int (sqrt g_fit - sqrt g_truth)^2 dy by the trapezoid rule on a y grid of step min sd / 8
 * covering every component +- 10 sd. E_x: d = 1, the midpoint rule x = (m + 1/2) / M; d > 1 (<= 40),
 * quasi-Monte Carlo over the first M points of GSL's Sobol sequence (error ~ (log M)^d / M). NAN if the
 * d differ or M = 0. */
double smx_moe_hellinger(const smx_moe_t *truth, const smx_moe_t *fit, size_t M);

#endif
