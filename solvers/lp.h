/* lp.h - linear programs of the softmax-bottleneck checks through GLPK (issue 15).
 *
 * Chebyshev-centre LP of Grivas et al. (ACL 2022): class i of a softmax head z = W x + b (W: v x d rows
 * w_j, b: v, or no bias) is strictly argmaxable iff
 *     r* = max r  s.t.  (w_j - w_i).x + ||w_j - w_i|| r <= b_i - b_j  (j != i),  x in [-box, box]^d
 * is positive. To keep the LP's coefficients the exact input values (no rounded differences w_j - w_i),
 * it is posed with y = w_i.x + b_i:  w_i.x - y = -b_i,  w_j.x - y + n_j r <= -b_j,  n_j = ||w_j - w_i||
 * (any positive n_j gives the same sign of r*), r <= rmax, y free. GLPK's dual simplex (the all-slack
 * basis is dual feasible) gives r*, by default by constraint generation: a working set of the 4 (d + 1)
 * constraints nearest to x = w_i, then the 4 (d + 1), 8 (d + 1), 16 (d + 1), ... most violated constraints at the
 * working-set optimum are added (the batch doubles: no-bias optima are degenerate) and the LP re-solved warm from its previous basis until none exceeds its bound by more than
 * 1e-9 (1 + |b_j| + |y|): the working-set optimum is then the optimum of the LP over all constraints (if GLPK
 * fails on a working set, the full LP is solved; smx_lp_cheb_set_full forces it). Where r* <= tol
 * (borderline, and every no-bias unargmaxable class,
 * which sits at r* = 0 exactly) the decision is made in GMP rationals on the exact doubles: a hull
 * certificate (unargmaxable) or the optimal vertex solved exactly from the basis's tight constraints and
 * checked to make z_i the strict maximum (argmaxable). glp_exact is not used: GLPK 5.0 converts the doubles
 * to nearby simple fractions first (0.125 + 2^-55 becomes 1/8), so its answer is exact for other data.
 *
 * Exact certificate of unargmaxability (Gordan / Farkas): lambda >= 0 over j != i with sum lambda = 1,
 * sum lambda_j w_j = w_i and sum lambda_j b_j >= b_i: then sum lambda_j (z_j - z_i) >= 0 for every x, so
 * some z_j >= z_i. Its support comes from the LP's duals; lambda is solved by fraction-free (Bareiss)
 * elimination in GMP integers (rows scaled by powers of 2) and checked in GMP rationals.
 * GLPK's terminal output is switched off (glp_term_out) in every thread that allocates a workspace. */
#ifndef SMX_LP_H
#define SMX_LP_H

#include <stddef.h>
#include <gmp.h>

typedef struct smx_lp_cheb smx_lp_cheb_t;

/* Workspace for heads with at most v classes and d dimensions. NULL on allocation failure. */
smx_lp_cheb_t *smx_lp_cheb_alloc(size_t v, size_t d);
void smx_lp_cheb_free(smx_lp_cheb_t *w);
/* full = 1: every constraint in the LP from the start; 0 (default): constraint generation (see
 * smx_lp_cheb_solve). Same decisions and r* to GLPK's tolerance either way. */
void smx_lp_cheb_set_full(smx_lp_cheb_t *w, int full);
/* LP rows (constraints + class i's row) and LP solves of the last smx_lp_cheb_solve. */
size_t smx_lp_cheb_rows(const smx_lp_cheb_t *w);
size_t smx_lp_cheb_rounds(const smx_lp_cheb_t *w);
/* Bytes one workspace for v classes and d dimensions can reach in smx_lp_cheb_solve, worst case: every
 * constraint in the LP (smx_lp_cheb_set_full, or the full-LP fallback of constraint generation). GLPK's
 * problem, dual simplex and basis factorisation: about 1000 bytes per row + 110 per nonzero, v (d + 2)
 * nonzeros (fitted to glp_mem_usage's peak, v = 2000..20000, d = 5..200: within -15% / +20%), plus the
 * workspace's own arrays (about 50 v bytes). For up-front memory estimates (smx_cli_mem_or_fail). */
double smx_lp_cheb_bytes(size_t v, size_t d);
/* Release the calling thread's GLPK environment (after its last workspace is freed). */
void smx_lp_thread_done(void);

typedef struct {
    double r;        /* r* (double of the exact value if exact) */
    int argmaxable;  /* 1: r* > 0 (strictly argmaxable in the box); 0: unargmaxable */
    int exact;       /* 1: decided in rationals (hull certificate or rational witness) */
    int certified;   /* 1: unargmaxable with a verified rational hull certificate */
    size_t nsupp;    /* unargmaxable: support size of the dual (candidate certificate) */
} smx_lp_cheb_result_t;

/* Solve for class i (b may be NULL: no bias). box > 0. r* > tol_exact: argmaxable (exact = 0). Otherwise
 * the dual's support (indices j with nonzero dual, copied to supp if not NULL, size >= v) is tried as an
 * exact hull certificate (smx_lp_hull_certify): verified -> unargmaxable, certified, exact. Else the
 * rational witness: verified -> argmaxable, exact. Else the floating-point r* > 0 decides, exact = 0
 * (e.g. a class unargmaxable only because of the box). SMX_OK, SMX_EDOM (bad sizes, i >= v), SMX_ERANGE (GLPK failed). */
int smx_lp_cheb_solve(smx_lp_cheb_result_t *res, size_t *supp, smx_lp_cheb_t *w, const double *W, const double *b,
                      size_t v, size_t d, size_t i, double box, double tol_exact);

/* After smx_lp_cheb_solve found class i argmaxable: 1 if the LP's x (as doubles), or else its optimal
 * vertex solved in rationals, makes z_i the strict maximum exactly (x in the box). */
int smx_lp_cheb_witness(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i, double box);

/* Exact certificate on the support S (ns indices, all != i): solve sum_S lambda_j w_j = w_i,
 * sum_S lambda_j = 1 in rationals (Gaussian elimination, free unknowns set to 0), then verify with
 * smx_lp_hull_verify. lam: ns initialised mpq_t. 1 if verified, 0 otherwise. */
int smx_lp_hull_certify(mpq_t *lam, const double *W, const double *b, size_t v, size_t d, size_t i, const size_t *S,
                        size_t ns);
/* Exact check of a certificate: lambda >= 0, sum = 1, sum lambda_j w_j = w_i, sum lambda_j b_j >= b_i
 * (b NULL: 0), all in GMP rationals (the doubles are exact rationals). 1 if it holds. */
int smx_lp_hull_verify(const mpq_t *lam, const double *W, const double *b, size_t v, size_t d, size_t i,
                       const size_t *S, size_t ns);

/* Exact check of a witness: z_i(x) > z_j(x) for all j != i in rationals (x given as doubles). */
int smx_lp_witness_verify(const double *x, const double *W, const double *b, size_t v, size_t d, size_t i);

/* Basis-aware threshold (BAT) support test of Finlayson et al. (ICLR 2024): with the model's output phat
 * (v probabilities) of a head with output embedding W (v x d), token i is accepted iff the LP
 *     p >= 0, W^T p = W^T phat, sum p = 1, p_i = 0, p <= phat / (1 - tau)
 * is infeasible (no distribution consistent with the observed low-rank output gives i zero mass).
 * *accept = 1 / 0. Every token with phat_i > tau is accepted (the bound leaves mass (1 - phat_i)/(1 - tau)
 * < 1). SMX_OK, SMX_EDOM (bad sizes, tau outside [0, 1)), SMX_ERANGE (GLPK failed). Own GLPK problem. */
int smx_lp_bat_accept(int *accept, const double *W, const double *phat, size_t v, size_t d, size_t i, double tau);

#endif
