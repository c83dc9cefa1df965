/* lp.c - GLPK Chebyshev-centre LP and exact rational certificates (lp.h). */
#include "lp.h"
#include "smx.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double viol;
    size_t j;
} smx_lp_cand_t;

struct smx_lp_cheb {
    glp_prob *P;
    size_t v, d;
    size_t *supp;
    mpq_t *lam;       /* d + 1 rationals for the certificate */
    size_t *rowcls;   /* class of LP row k + 1 (row 1: class i's equality row) */
    size_t nrows;     /* rows in the LP */
    unsigned char *in; /* class j has a row */
    double *nrm;      /* n_j = ||w_j - w_i|| */
    double *viol;     /* violation of constraint j at the current LP point */
    smx_lp_cand_t *cand; /* candidates for the working set */
    int *ind;         /* d + 3 column indices of one row */
    double *val;      /* d + 3 coefficients of one row */
    int full;         /* 1: every constraint from the start (no constraint generation) */
    size_t rounds;    /* LP solves of the last smx_lp_cheb_solve */
};

smx_lp_cheb_t *smx_lp_cheb_alloc(size_t v, size_t d)
{
    glp_term_out(GLP_OFF); /* GLPK prints to stdout by default: never into a program's output */
    smx_lp_cheb_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->v = v, w->d = d;
    w->P = glp_create_prob();
    w->supp = malloc(v * sizeof *w->supp);
    w->rowcls = malloc(v * sizeof *w->rowcls), w->in = malloc(v), w->nrm = malloc(v * sizeof *w->nrm);
    w->viol = malloc(v * sizeof *w->viol), w->cand = malloc(v * sizeof *w->cand);
    w->ind = malloc((d + 3) * sizeof *w->ind), w->val = malloc((d + 3) * sizeof *w->val);
    w->lam = malloc((d + 1) * sizeof *w->lam);
    if (w->lam)
        for (size_t k = 0; k <= d; k++) mpq_init(w->lam[k]);
    if (!w->P || !w->supp || !w->lam || !w->rowcls || !w->in || !w->nrm || !w->viol || !w->cand || !w->ind ||
        !w->val) {
        smx_lp_cheb_free(w);
        return NULL;
    }
    return w;
}

double smx_lp_cheb_bytes(size_t v, size_t d)
{
    double V = (double)v, D = (double)d;
    /* GLPK (lp.h) + supp, rowcls, nrm, viol (8 v each), cand (16 v), in (v); ind, val, lam: O(d) */
    return V * (1000 + 110 * (D + 2)) + 49 * V + 64 * (D + 3);
}

void smx_lp_cheb_set_full(smx_lp_cheb_t *w, int full) { w->full = full != 0; }
size_t smx_lp_cheb_rows(const smx_lp_cheb_t *w) { return w->nrows; }
size_t smx_lp_cheb_rounds(const smx_lp_cheb_t *w) { return w->rounds; }

void smx_lp_cheb_free(smx_lp_cheb_t *w)
{
    if (!w) return;
    if (w->P) glp_delete_prob(w->P);
    if (w->lam)
        for (size_t k = 0; k <= w->d; k++) mpq_clear(w->lam[k]);
    free(w->lam), free(w->supp), free(w->rowcls), free(w->in), free(w->nrm), free(w->viol), free(w->cand);
    free(w->ind), free(w->val), free(w);
}

void smx_lp_thread_done(void) { glp_free_env(); }

/* Gauss-Jordan on the R x (C + 1) augmented rational matrix M; sol[0..C-1] gets a solution with free
 * unknowns 0 (consistency is not checked: callers verify the result). */
static void gauss_jordan(mpq_t *M, size_t R, size_t C, mpq_t *sol)
{
    size_t W1 = C + 1, rank = 0, *pivcol = malloc((R + 1) * sizeof *pivcol);
    mpq_t t, u;
    mpq_inits(t, u, NULL);
    for (size_t c = 0; c < C && rank < R && pivcol; c++) {
        size_t p = rank;
        while (p < R && mpq_sgn(M[p * W1 + c]) == 0) p++;
        if (p == R) continue;
        for (size_t cc = 0; cc < W1; cc++) mpq_swap(M[p * W1 + cc], M[rank * W1 + cc]);
        for (size_t cc = W1; cc-- > c;) mpq_div(M[rank * W1 + cc], M[rank * W1 + cc], M[rank * W1 + c]);
        for (size_t r = 0; r < R; r++) {
            if (r == rank || mpq_sgn(M[r * W1 + c]) == 0) continue;
            mpq_set(t, M[r * W1 + c]);
            for (size_t cc = c; cc < W1; cc++) {
                mpq_mul(u, t, M[rank * W1 + cc]);
                mpq_sub(M[r * W1 + cc], M[r * W1 + cc], u);
            }
        }
        pivcol[rank++] = c;
    }
    for (size_t c = 0; c < C; c++) mpq_set_ui(sol[c], 0, 1);
    for (size_t r = 0; r < rank && pivcol; r++) mpq_set(sol[pivcol[r]], M[r * W1 + C]);
    mpq_clears(t, u, NULL);
    free(pivcol);
}

/* Unknowns (x, r); tight rows j (non-basic at their bound): (w_j - w_i).x + n_j r = b_i - b_j; x_k at a
 * bound: x_k = +-box. Solved in rationals, then z_i(x) > z_j(x) for all j != i and |x_k| <= box checked
 * exactly. 1 if that witness holds. */
static int rational_witness(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i,
                            double box)
{
    glp_prob *P = w->P;
    size_t C = d + 1, R = 0, cap = d + 1;
    mpq_t *M = malloc(cap * (C + 1) * sizeof *M), *sol = malloc(C * sizeof *sol), t, u, zi;
    if (!M || !sol) {
        free(M), free(sol);
        return 0;
    }
    for (size_t e = 0; e < cap * (C + 1); e++) mpq_init(M[e]);
    for (size_t c = 0; c < C; c++) mpq_init(sol[c]);
    mpq_inits(t, u, zi, NULL);
    for (size_t k = 0; k < d && R < cap; k++) {
        int st = glp_get_col_stat(P, (int)k + 1);
        if (st != GLP_NL && st != GLP_NU) continue;
        mpq_set_ui(M[R * (C + 1) + k], 1, 1);
        mpq_set_d(M[R * (C + 1) + C], st == GLP_NL ? -box : box);
        R++;
    }
    for (size_t row = 1; row < w->nrows && R < cap; row++) {
        size_t j = w->rowcls[row];
        if (glp_get_row_stat(P, (int)row + 1) != GLP_NU) continue;
        double n2 = 0;
        for (size_t k = 0; k < d; k++) {
            n2 += (W[j * d + k] - W[i * d + k]) * (W[j * d + k] - W[i * d + k]);
            mpq_set_d(t, W[j * d + k]), mpq_set_d(u, W[i * d + k]);
            mpq_sub(M[R * (C + 1) + k], t, u);
        }
        mpq_set_d(M[R * (C + 1) + d], sqrt(n2)); /* the LP's n_j */
        mpq_set_d(t, b ? b[i] : 0.0), mpq_set_d(u, b ? b[j] : 0.0);
        mpq_sub(M[R * (C + 1) + C], t, u);
        R++;
    }
    int good = 0;
    if (R == cap) {
        gauss_jordan(M, R, C, sol);
        good = mpq_sgn(sol[d]) > 0;
        for (size_t k = 0; k < d && good; k++) {
            mpq_set_d(t, box);
            if (mpq_cmp(sol[k], t) > 0) good = 0;
            mpq_neg(t, t);
            if (mpq_cmp(sol[k], t) < 0) good = 0;
        }
        /* z_i(x) > z_j(x) for all j != i, exactly */
        mpq_set_d(zi, b ? b[i] : 0.0);
        for (size_t k = 0; k < d; k++) mpq_set_d(t, W[i * d + k]), mpq_mul(t, t, sol[k]), mpq_add(zi, zi, t);
        for (size_t j = 0; j < v && good; j++) {
            if (j == i) continue;
            mpq_set_d(u, b ? b[j] : 0.0);
            for (size_t k = 0; k < d; k++) mpq_set_d(t, W[j * d + k]), mpq_mul(t, t, sol[k]), mpq_add(u, u, t);
            good = mpq_cmp(zi, u) > 0;
        }
    }
    for (size_t e = 0; e < cap * (C + 1); e++) mpq_clear(M[e]);
    for (size_t c = 0; c < C; c++) mpq_clear(sol[c]);
    mpq_clears(t, u, zi, NULL);
    free(M), free(sol);
    return good;
}

/* Append the row of class j: w_j.x - y + n_j r <= -b_j (j != i), or w_i.x - y = -b_i (j == i). */
static void add_row(smx_lp_cheb_t *w, const double *W, const double *b, size_t d, size_t i, size_t j)
{
    glp_prob *P = w->P;
    const double *wj = W + j * d;
    double bj = b ? b[j] : 0.0;
    int row = glp_add_rows(P, 1), n = 0;
    if (j == i) glp_set_row_bnds(P, row, GLP_FX, -bj, -bj);
    else glp_set_row_bnds(P, row, GLP_UP, 0, -bj);
    for (size_t k = 0; k < d; k++)
        if (wj[k] != 0) ++n, w->ind[n] = (int)k + 1, w->val[n] = wj[k];
    ++n, w->ind[n] = (int)d + 1, w->val[n] = -1.0;
    if (j != i && w->nrm[j] > 0) ++n, w->ind[n] = (int)d + 2, w->val[n] = w->nrm[j];
    glp_set_mat_row(P, row, n, w->ind, w->val);
    w->rowcls[w->nrows++] = j;
    w->in[j] = 1;
}

/* order of candidates: larger violation first, then lower class index (deterministic) */
static int by_viol(const void *pa, const void *pb)
{
    const smx_lp_cand_t *a = pa, *b = pb;
    if (a->viol != b->viol) return a->viol > b->viol ? -1 : 1;
    return a->j < b->j ? -1 : a->j > b->j;
}

/* 1 if candidate a comes before b in by_viol's order */
static int before(const smx_lp_cand_t *a, const smx_lp_cand_t *b) { return by_viol(a, b) < 0; }

/* Add up to m rows, those of the largest viol[j] > 0 among classes without a row (ties: lower j), in that
 * order. Selection by a heap of the m best (its root the worst kept): O(v log m). Returns the number added. */
static size_t add_most_violated(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i,
                                size_t m)
{
    smx_lp_cand_t *h = w->cand, c;
    size_t n = 0;
    for (size_t j = 0; j < v; j++) {
        if (w->in[j] || !(w->viol[j] > 0)) continue;
        c.viol = w->viol[j], c.j = j;
        size_t k;
        if (n < m) { /* push: sift up while the parent comes before c */
            for (k = n++; k > 0 && before(&h[(k - 1) / 2], &c); k = (k - 1) / 2) h[k] = h[(k - 1) / 2];
            h[k] = c;
        } else if (before(&c, &h[0])) { /* replace the root, sift down */
            for (k = 0;;) {
                size_t l = 2 * k + 1, r = l + 1, t = l;
                if (l >= n) break;
                if (r < n && before(&h[l], &h[r])) t = r;
                if (!before(&c, &h[t])) break;
                h[k] = h[t], k = t;
            }
            h[k] = c;
        }
    }
    qsort(h, n, sizeof *h, by_viol);
    for (size_t k = 0; k < n; k++) add_row(w, W, b, d, i, h[k].j);
    return n;
}

static int simplex(glp_prob *P)
{
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_OFF;
    /* the all-slack basis (x at a bound, y free at 0, r at its upper bound) is dual feasible, and so is the
     * previous optimal basis with new rows basic: dual simplex */
    parm.meth = GLP_DUALP;
    if (glp_simplex(P, &parm) || glp_get_status(P) != GLP_OPT) {
        /* the all-slack start can stall on degenerate heads: retry from an advanced basis */
        glp_adv_basis(P, 0);
        if (glp_simplex(P, &parm) || glp_get_status(P) != GLP_OPT) return SMX_ERANGE;
    }
    return SMX_OK;
}

/* Set up the LP's columns and class i's row. */
static void setup(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i, double box)
{
    glp_prob *P = w->P;
    glp_erase_prob(P);
    glp_set_obj_dir(P, GLP_MAX);
    glp_add_cols(P, (int)d + 2);
    for (size_t k = 0; k < d; k++) glp_set_col_bnds(P, (int)k + 1, GLP_DB, -box, box);
    glp_set_col_bnds(P, (int)d + 1, GLP_FR, 0, 0);
    glp_set_col_bnds(P, (int)d + 2, GLP_UP, 0, 1e6); /* r <= rmax keeps the LP bounded (duplicate rows) */
    glp_set_obj_coef(P, (int)d + 2, 1.0);
    w->nrows = 0;
    memset(w->in, 0, v);
    const double *wi = W + i * d;
    for (size_t j = 0; j < v; j++) { /* n_j = ||w_j - w_i|| */
        double n2 = 0;
        for (size_t k = 0; k < d; k++) n2 += (W[j * d + k] - wi[k]) * (W[j * d + k] - wi[k]);
        w->nrm[j] = sqrt(n2);
    }
    add_row(w, W, b, d, i, i);
}

/* viol[j] = w_j.x - y + n_j r + b_j at the LP's point, minus a tolerance 1e-9 (1 + |b_j| + |y|): positive
 * where the constraint of class j is violated. Returns the number of violated constraints without a row. */
static size_t violations(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i)
{
    glp_prob *P = w->P;
    double *x = w->val; /* d + 3 doubles */
    for (size_t k = 0; k < d; k++) x[k] = glp_get_col_prim(P, (int)k + 1);
    double y = glp_get_col_prim(P, (int)d + 1), r = glp_get_col_prim(P, (int)d + 2);
    size_t n = 0;
    for (size_t j = 0; j < v; j++) {
        if (j == i || w->in[j]) {
            w->viol[j] = 0;
            continue;
        }
        double bj = b ? b[j] : 0.0, z = bj - y + w->nrm[j] * r;
        for (size_t k = 0; k < d; k++) z += W[j * d + k] * x[k];
        w->viol[j] = z - 1e-9 * (1 + fabs(bj) + fabs(y));
        n += w->viol[j] > 0;
    }
    return n;
}

/* LP over every constraint (w->full) or by constraint generation: a working set of the m = 4 (d + 1)
 * constraints nearest to x = w_i (largest signed distance ((w_j - w_i).w_i + b_j - b_i) / n_j), then
 * repeatedly the m, 2m, 4m, ... most violated constraints at the working-set optimum are added and the LP re-solved
 * warm (dual simplex from the previous optimal basis) until none is violated: the working-set optimum is
 * then feasible for the full LP and an upper bound of its optimum, so it is the full LP's optimum. */
static int cheb_lp(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i, double box)
{
    setup(w, W, b, v, d, i, box);
    w->rounds = 0;
    if (w->full) {
        for (size_t j = 0; j < v; j++)
            if (j != i) add_row(w, W, b, d, i, j);
        w->rounds = 1;
        return simplex(w->P);
    }
    const size_t m = 4 * (d + 1);
    const double *wi = W + i * d, bi = b ? b[i] : 0.0;
    for (size_t j = 0; j < v; j++) {
        if (j == i) {
            w->viol[j] = 0;
            continue;
        }
        double z = (b ? b[j] : 0.0) - bi;
        for (size_t k = 0; k < d; k++) z += (W[j * d + k] - wi[k]) * wi[k];
        /* every constraint is a candidate: shifted so that all are positive, nearest first */
        w->viol[j] = w->nrm[j] > 0 ? z / w->nrm[j] : (z >= 0 ? INFINITY : -INFINITY);
    }
    double lo = INFINITY;
    for (size_t j = 0; j < v; j++)
        if (j != i && w->viol[j] < lo) lo = w->viol[j];
    for (size_t j = 0; j < v; j++)
        if (j != i) w->viol[j] = isfinite(lo) ? w->viol[j] - lo + 1 : (w->viol[j] == INFINITY ? 2 : 1);
    add_most_violated(w, W, b, v, d, i, m);
    /* the batch doubles every round: degenerate optima (no bias: r* = 0, a whole face of x) otherwise take
     * hundreds of rounds; doubling bounds the rounds by log2(v / m) + 1 */
    for (size_t batch = m;; batch = batch < v ? 2 * batch : v) {
        w->rounds++;
        int st = simplex(w->P);
        if (st) return st;
        if (violations(w, W, b, v, d, i) == 0) return SMX_OK;
        add_most_violated(w, W, b, v, d, i, batch);
    }
}

int smx_lp_cheb_solve(smx_lp_cheb_result_t *res, size_t *supp, smx_lp_cheb_t *w, const double *W, const double *b,
                      size_t v, size_t d, size_t i, double box, double tol_exact)
{
    if (v < 2 || d < 1 || i >= v || v > w->v || d > w->d || !(box > 0)) return SMX_EDOM;
    glp_prob *P = w->P;
    int st = cheb_lp(w, W, b, v, d, i, box);
    if (st && !w->full) { /* constraint generation failed: the full LP */
        w->full = 1;
        st = cheb_lp(w, W, b, v, d, i, box);
        w->full = 0;
    }
    if (st) return st;
    res->r = glp_get_obj_val(P);
    res->exact = res->certified = 0;
    res->nsupp = 0;
    if (res->r > tol_exact) {
        res->argmaxable = 1;
        return SMX_OK;
    }
    /* r* <= tol: try the exact certificate on the duals' support first (it proves unargmaxability) */
    for (size_t row = 1; row < w->nrows; row++)
        if (glp_get_row_dual(P, (int)row + 1) != 0) w->supp[res->nsupp++] = w->rowcls[row];
    for (size_t a = 1; a < res->nsupp; a++) /* class order (rows are in working-set order) */
        for (size_t c = a; c > 0 && w->supp[c - 1] > w->supp[c]; c--) {
            size_t t = w->supp[c];
            w->supp[c] = w->supp[c - 1], w->supp[c - 1] = t;
        }
    if (supp) memcpy(supp, w->supp, res->nsupp * sizeof *supp);
    if (res->nsupp > 0 && res->nsupp <= d + 1 &&
        smx_lp_hull_certify(w->lam, W, b, v, d, i, w->supp, res->nsupp)) {
        res->argmaxable = 0, res->certified = res->exact = 1;
        return SMX_OK;
    }
    /* then a rational witness: the optimal vertex solved exactly from the basis's tight constraints */
    if (rational_witness(w, W, b, v, d, i, box)) {
        res->argmaxable = res->exact = 1;
        return SMX_OK;
    }
    /* neither: the floating-point r* decides (exact = 0). Not glp_exact: it reads the data through
     * approximate fractions (GLPK 5.0 turns 0.125 + 2^-55 into 1/8), so it is not exact for doubles. */
    res->argmaxable = res->r > 0;
    return SMX_OK;
}

/* ---- exact rationals ---- */

int smx_lp_hull_verify(const mpq_t *lam, const double *W, const double *b, size_t v, size_t d, size_t i,
                       const size_t *S, size_t ns)
{
    if (ns == 0 || i >= v) return 0;
    mpq_t acc, t, u;
    mpq_inits(acc, t, u, NULL);
    int good = 1;
    mpq_set_ui(acc, 0, 1);
    for (size_t s = 0; s < ns && good; s++) {
        if (S[s] >= v || S[s] == i || mpq_sgn(lam[s]) < 0) good = 0;
        else mpq_add(acc, acc, lam[s]);
    }
    if (good && mpq_cmp_ui(acc, 1, 1) != 0) good = 0; /* sum lambda = 1 */
    for (size_t k = 0; k < d && good; k++) {          /* sum lambda_j w_jk = w_ik */
        mpq_set_ui(acc, 0, 1);
        for (size_t s = 0; s < ns; s++) {
            mpq_set_d(t, W[S[s] * d + k]);
            mpq_mul(t, t, lam[s]);
            mpq_add(acc, acc, t);
        }
        mpq_set_d(u, W[i * d + k]);
        good = mpq_equal(acc, u);
    }
    if (good && b) { /* sum lambda_j b_j >= b_i */
        mpq_set_ui(acc, 0, 1);
        for (size_t s = 0; s < ns; s++) {
            mpq_set_d(t, b[S[s]]);
            mpq_mul(t, t, lam[s]);
            mpq_add(acc, acc, t);
        }
        mpq_set_d(u, b[i]);
        good = mpq_cmp(acc, u) >= 0;
    }
    mpq_clears(acc, t, u, NULL);
    return good;
}

/* dst = the double x as an integer times 2^-q (x = m 2^e exactly, m an integer of 53 bits): m 2^(e + q) */
static void mpz_set_scaled(mpz_t dst, double x, int q)
{
    int e;
    double m = frexp(x, &e); /* x = m 2^e, |m| in [0.5, 1) */
    mpz_set_d(dst, ldexp(m, 53));
    mpz_mul_2exp(dst, dst, (mp_bitcnt_t)(e - 53 + q));
}

int smx_lp_hull_certify(mpq_t *lam, const double *W, const double *b, size_t v, size_t d, size_t i, const size_t *S,
                        size_t ns)
{
    if (ns == 0 || i >= v) return 0;
    /* augmented system [A | rhs]: rows k < d: w_{S,k} -> w_ik; row d: 1 -> 1, each row scaled by a power of 2
     * to integers, then fraction-free (Bareiss) elimination in GMP integers: every division is exact, no
     * gcds; the echelon form is back-substituted in rationals with free unknowns 0 */
    size_t R = d + 1, C = ns + 1;
    mpz_t *M = malloc(R * C * sizeof *M), t, prev;
    size_t *pivcol = malloc(R * sizeof *pivcol);
    if (!M || !pivcol) {
        free(M), free(pivcol);
        return 0;
    }
    mpz_inits(t, prev, NULL);
    for (size_t r = 0; r < R; r++) {
        int q = 0, any = 0; /* q: -(smallest exponent of a 53-bit integer mantissa) over the row */
        for (size_t c = 0; c < C && r < d; c++) {
            double x = c < ns ? W[S[c] * d + r] : W[i * d + r];
            if (x == 0) continue;
            int e;
            frexp(x, &e);
            if (!any || 53 - e > q) q = 53 - e;
            any = 1;
        }
        for (size_t c = 0; c < C; c++) {
            mpz_init(M[r * C + c]);
            if (r == d) mpz_set_ui(M[r * C + c], 1);
            else {
                double x = c < ns ? W[S[c] * d + r] : W[i * d + r];
                if (x != 0) mpz_set_scaled(M[r * C + c], x, q);
            }
        }
    }
    size_t rank = 0;
    mpz_set_ui(prev, 1);
    for (size_t c = 0; c < ns && rank < R; c++) {
        size_t p = rank;
        while (p < R && mpz_sgn(M[p * C + c]) == 0) p++;
        if (p == R) continue;
        for (size_t cc = 0; cc < C; cc++) mpz_swap(M[p * C + cc], M[rank * C + cc]);
        const mpz_t *piv = &M[rank * C + c];
        for (size_t r = rank + 1; r < R; r++) { /* M_r <- (piv M_r - M_rc M_rank) / prev, exact */
            for (size_t cc = c + 1; cc < C; cc++) {
                mpz_mul(t, *piv, M[r * C + cc]);
                mpz_submul(t, M[r * C + c], M[rank * C + cc]);
                mpz_divexact(M[r * C + cc], t, prev);
            }
            mpz_set_ui(M[r * C + c], 0);
        }
        mpz_set(prev, *piv);
        pivcol[rank++] = c;
    }
    for (size_t s = 0; s < ns; s++) mpq_set_ui(lam[s], 0, 1);
    mpq_t acc, u;
    mpq_inits(acc, u, NULL);
    for (size_t r = rank; r-- > 0;) { /* back substitution */
        mpq_set_z(acc, M[r * C + ns]);
        for (size_t r2 = r + 1; r2 < rank; r2++) {
            mpq_set_z(u, M[r * C + pivcol[r2]]);
            mpq_mul(u, u, lam[pivcol[r2]]);
            mpq_sub(acc, acc, u);
        }
        mpq_set_z(u, M[r * C + pivcol[r]]);
        mpq_div(lam[pivcol[r]], acc, u);
    }
    mpq_clears(acc, u, NULL);
    for (size_t r = 0; r < R * C; r++) mpz_clear(M[r]);
    mpz_clears(t, prev, NULL);
    free(M), free(pivcol);
    return smx_lp_hull_verify((const mpq_t *)lam, W, b, v, d, i, S, ns);
}

int smx_lp_witness_verify(const double *x, const double *W, const double *b, size_t v, size_t d, size_t i)
{
    if (i >= v) return 0;
    mpq_t zi, z, t, u;
    mpq_inits(zi, z, t, u, NULL);
    int good = 1;
    for (size_t j = 0; j <= v && good; j++) {
        size_t jj = j == 0 ? i : j - 1; /* z_i first */
        if (j > 0 && jj == i) continue;
        mpq_set_d(z, b ? b[jj] : 0.0);
        for (size_t k = 0; k < d; k++) {
            mpq_set_d(t, W[jj * d + k]);
            mpq_set_d(u, x[k]);
            mpq_mul(t, t, u);
            mpq_add(z, z, t);
        }
        if (j == 0) mpq_set(zi, z);
        else good = mpq_cmp(zi, z) > 0;
    }
    mpq_clears(zi, z, t, u, NULL);
    return good;
}

int smx_lp_cheb_witness(smx_lp_cheb_t *w, const double *W, const double *b, size_t v, size_t d, size_t i, double box)
{
    double *x = malloc(d * sizeof *x);
    if (!x) return 0;
    int inbox = 1;
    for (size_t k = 0; k < d; k++) {
        x[k] = glp_get_col_prim(w->P, (int)k + 1);
        inbox &= fabs(x[k]) <= box;
    }
    int good = inbox && smx_lp_witness_verify(x, W, b, v, d, i);
    free(x);
    return good || rational_witness(w, W, b, v, d, i, box);
}

int smx_lp_bat_accept(int *accept, const double *W, const double *phat, size_t v, size_t d, size_t i, double tau)
{
    if (v < 2 || d < 1 || i >= v || !(tau >= 0 && tau < 1)) return SMX_EDOM;
    glp_term_out(GLP_OFF);
    glp_prob *P = glp_create_prob();
    size_t ne = 0, cap = v * (d + 1) + 1;
    int *ia = malloc(cap * sizeof *ia), *ja = malloc(cap * sizeof *ja);
    double *ar = malloc(cap * sizeof *ar);
    if (!P || !ia || !ja || !ar) {
        if (P) glp_delete_prob(P);
        free(ia), free(ja), free(ar);
        return SMX_ENOMEM;
    }
    glp_add_rows(P, (int)d + 1);
    glp_add_cols(P, (int)v);
    for (size_t k = 0; k < d; k++) { /* row k: sum_j W_jk p_j = sum_j W_jk phat_j */
        double t = 0;
        for (size_t j = 0; j < v; j++) t += W[j * d + k] * phat[j];
        glp_set_row_bnds(P, (int)k + 1, GLP_FX, t, t);
    }
    glp_set_row_bnds(P, (int)d + 1, GLP_FX, 1.0, 1.0); /* sum p = 1 */
    for (size_t j = 0; j < v; j++) {
        double ub = j == i ? 0.0 : phat[j] / (1.0 - tau);
        if (ub > 0) glp_set_col_bnds(P, (int)j + 1, GLP_DB, 0.0, ub);
        else glp_set_col_bnds(P, (int)j + 1, GLP_FX, 0.0, 0.0);
        for (size_t k = 0; k < d; k++)
            if (W[j * d + k] != 0) ++ne, ia[ne] = (int)k + 1, ja[ne] = (int)j + 1, ar[ne] = W[j * d + k];
        ++ne, ia[ne] = (int)d + 1, ja[ne] = (int)j + 1, ar[ne] = 1.0;
    }
    glp_load_matrix(P, (int)ne, ia, ja, ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_OFF;
    int st = glp_simplex(P, &parm), ps = glp_get_prim_stat(P);
    glp_delete_prob(P);
    free(ia), free(ja), free(ar);
    if (st) return SMX_ERANGE;
    *accept = ps == GLP_NOFEAS;
    return SMX_OK;
}
