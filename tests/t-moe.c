/* t-moe.c - softmax-gated Gaussian MoE (solvers/moe*.c, issue 13): EM log-likelihood monotone, the
 * Newton/IRLS gate M-step against a GSL multimin (BFGS) fit of the same weighted multinomial regression,
 * the log-space E-step where the naive one underflows, Voronoi losses (0 at the truth, permutation and
 * translation invariance, a hand-computed 3-expert D2 and 2-expert D1), parameter files, and the MLE at
 * n = 1e5 within a tolerance from the rate sqrt(log n / n); the one-observation posterior shared by the EM
 * variants (smx_moe_posterior) against closed forms, and the EM start (smx_moe_em_begin). */
#include "moe.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <string.h>
#include <unistd.h>

/* ---- gate M-step against BFGS ---- */
typedef struct {
    const double *x, *r;
    size_t n, k;
} gp_t;

/* -Q(gamma) = -sum_j sum_i r_ij log pi_ij, d = 1, reference expert k-1 with logit 0; gradient analytic. */
static void negq(const gsl_vector *g, void *par, double *f, gsl_vector *df)
{
    const gp_t *p = par;
    size_t k = p->k;
    double q = 0;
    if (df) gsl_vector_set_zero(df);
    for (size_t j = 0; j < p->n; j++) {
        double eta[8], mx = 0, s = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            eta[i] = gsl_vector_get(g, 2 * i) + gsl_vector_get(g, 2 * i + 1) * p->x[j];
            if (eta[i] > mx) mx = eta[i];
        }
        eta[k - 1] = 0;
        for (size_t i = 0; i < k; i++) s += exp(eta[i] - mx);
        double lse = mx + log(s);
        for (size_t i = 0; i < k; i++) {
            double lp = eta[i] - lse, r = p->r[j * k + i];
            q += r * lp;
            if (df && i + 1 < k) {
                double gi = r - exp(lp);
                gsl_vector_set(df, 2 * i, gsl_vector_get(df, 2 * i) - gi);
                gsl_vector_set(df, 2 * i + 1, gsl_vector_get(df, 2 * i + 1) - gi * p->x[j]);
            }
        }
    }
    if (f) *f = -q;
}
static double negq_f(const gsl_vector *g, void *p) { double f; negq(g, p, &f, NULL); return f; }
static void negq_df(const gsl_vector *g, void *p, gsl_vector *df) { negq(g, p, NULL, df); }
static double gradsq(const gsl_vector *g, void *p)
{
    gsl_vector *df = gsl_vector_alloc(g->size);
    negq(g, p, NULL, df);
    double s = gsl_blas_dnrm2(df);
    gsl_vector_free(df);
    return s * s;
}
static void negq_fdf(const gsl_vector *g, void *p, double *f, gsl_vector *df) { negq(g, p, f, df); }

static void test_gate_mstep(void)
{
    const size_t n = 60, k = 3;
    smx_moe_t m;
    smx_moe_alloc(&m, k, 1);
    smx_moe_em_t *w = smx_moe_em_alloc(n, k, 1);
    double x[60];
    gsl_rng *rng = smx_rng_alloc(2385);
    double *r = smx_moe_em_resp(w);
    for (size_t j = 0; j < n; j++) { /* high-entropy soft labels, loosely tied to x so the optimum is finite */
        x[j] = gsl_rng_uniform(rng) * 2.385 - 0.7;
        double a = 0.3 + gsl_rng_uniform(rng) + (x[j] > 0.2), b = 0.4 + gsl_rng_uniform(rng), c = 0.5 + gsl_rng_uniform(rng);
        double s = a + b + c;
        r[j * k] = a / s, r[j * k + 1] = b / s, r[j * k + 2] = c / s;
    }
    m.beta0[0] = 0.31, m.beta1[0] = -0.17, m.beta0[1] = -0.23, m.beta1[1] = 0.41;
    smx_moe_em_opts_t o;
    smx_moe_em_opts_default(&o);
    o.gate_tol = 0;
    o.gate_max_iter = 100;
    double Q;
    int it = smx_moe_gate_mstep(&m, &Q, w, x, n, &o);
    ok(it > 2 && it <= 100, "gate M-step: %d Newton iterations", it);
    /* BFGS on the same objective from another start */
    gp_t p = {x, r, n, k};
    gsl_multimin_function_fdf F = {negq_f, negq_df, negq_fdf, 4, &p};
    gsl_multimin_fdfminimizer *M = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, 4);
    gsl_vector *g0 = gsl_vector_calloc(4);
    for (int rs = 0; rs < 20; rs++) { /* BFGS restarted from its own result until the gradient is ~0 */
        gsl_multimin_fdfminimizer_set(M, &F, g0, 0.01, 0.1);
        for (int i = 0; i < 2000; i++) {
            if (gsl_multimin_fdfminimizer_iterate(M)) break;
            if (gsl_multimin_test_gradient(M->gradient, 1e-14) == GSL_SUCCESS) break;
        }
        gsl_vector_memcpy(g0, gsl_multimin_fdfminimizer_x(M));
        if (gsl_multimin_test_gradient(M->gradient, 1e-14) == GSL_SUCCESS) break;
    }
    printf("# BFGS gradient norm %.3g\n", gsl_blas_dnrm2(M->gradient));
    /* BFGS stalls at |grad| ~ 1e-7 (its line search compares values of -Q ~ 64 that differ by less than
     * an ulp): polish with Nelder-Mead on the stationarity residual |grad Q|^2, whose values stay
     * resolvable down to the gradient's own rounding (~1e-14) */
    gsl_multimin_function R = {gradsq, 4, &p};
    gsl_multimin_fminimizer *NM = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 4);
    gsl_vector *st = gsl_vector_alloc(4);
    for (int rs = 0; rs < 10; rs++) {
        gsl_vector_set_all(st, 1e-6);
        gsl_multimin_fminimizer_set(NM, &R, g0, st);
        for (int i = 0; i < 5000; i++) {
            if (gsl_multimin_fminimizer_iterate(NM)) break;
            if (gsl_multimin_fminimizer_size(NM) < 1e-15) break;
        }
        gsl_vector_memcpy(g0, gsl_multimin_fminimizer_x(NM));
    }
    const gsl_vector *g = g0;
    printf("# polished gradient norm %.3g\n", sqrt(gradsq(g0, &p)));
    double mine[4] = {m.beta0[0], m.beta1[0], m.beta0[1], m.beta1[1]}, md = 0;
    for (int i = 0; i < 4; i++) md = fmax(md, fabs(mine[i] - gsl_vector_get(g, i)));
    ok(md <= 1e-10, "gate M-step = GSL multimin (BFGS + Nelder-Mead polish) optimum to 1e-10 (max diff %.3g)", md);
    ok_rel(Q, -negq_f(g, &p), 1e-14, "gate M-step Q = Q at the GSL multimin optimum");
    ok(m.beta0[2] == 0 && m.beta1[2] == 0, "reference gate stays (0, 0)");
    /* the step-halving path: a far start still ends at the optimum */
    m.beta0[0] = 40.1, m.beta1[0] = -35.3, m.beta0[1] = -29.7, m.beta1[1] = 33.2;
    o.gate_max_iter = 300;
    smx_moe_gate_mstep(&m, &Q, w, x, n, &o);
    double mine2[4] = {m.beta0[0], m.beta1[0], m.beta0[1], m.beta1[1]};
    md = 0;
    for (int i = 0; i < 4; i++) md = fmax(md, fabs(mine2[i] - gsl_vector_get(g, i)));
    ok(md <= 1e-8, "gate M-step from a far start (halving) reaches the optimum (max diff %.3g)", md);
    gsl_vector_free(g0);
    gsl_vector_free(st);
    gsl_multimin_fminimizer_free(NM);
    gsl_multimin_fdfminimizer_free(M);
    gsl_rng_free(rng);
    smx_moe_em_free(w);
    smx_moe_free(&m);
}

/* Paper (a)'s truth in *tr and n draws from it on the grid design (*x, *y malloc'd) by a MT19937 seeded
 * `seed`, which is returned (a test draws its initialisation from it next). */
static gsl_rng *paper_draws(smx_moe_t *tr, double **x, double **y, size_t n, unsigned long seed)
{
    smx_moe_paper_truth(tr);
    *x = malloc(n * sizeof **x), *y = malloc(n * sizeof **y);
    gsl_rng *r = smx_rng_alloc(seed);
    smx_moe_sample(*x, *y, tr, n, SMX_MOE_DESIGN_GRID, r);
    return r;
}

static void test_em_monotone(void)
{
    smx_moe_t tr, fit;
    const size_t n = 3000;
    double *x, *y;
    gsl_rng *r = paper_draws(&tr, &x, &y, n, 77);
    for (size_t k = 2; k <= 4; k++) {
        smx_moe_alloc(&fit, k, 1);
        smx_moe_init_near(&fit, &tr, n, SMX_MOE_INIT_AUTHORS, r); /* the authors' init: further from the MLE */
        smx_moe_em_t *w = smx_moe_em_alloc(n, k, 1);
        smx_moe_em_opts_t o;
        smx_moe_em_opts_default(&o);
        o.tol = 0;
        o.max_iter = 150;
        double trace[151];
        smx_moe_em_result_t res;
        smx_moe_em(&res, trace, &fit, w, x, y, n, &o);
        int mono = 1;
        double worst = 0;
        for (int i = 0; i < res.iterations; i++) {
            double drop = trace[i] - trace[i + 1];
            if (drop > 1e-12 * (double)n) mono = 0; /* rounding of a sum of n terms */
            worst = fmax(worst, drop);
        }
        ok(mono && res.iterations >= 10, "EM k=%zu: log-likelihood never decreases over %d iterations (largest drop %.3g)", k, res.iterations, worst);
        ok(res.loglik > trace[0] + 1, "EM k=%zu: log-likelihood increased (%.6g -> %.6g)", k, trace[0], res.loglik);
        ok_rel(res.loglik, smx_moe_loglik(&fit, x, y, n), 1e-12, "EM k=%zu: reported log-likelihood = loglik(fit)", k);
        smx_moe_em_free(w);
        smx_moe_free(&fit);
    }
    /* log-space E-step: y 200 sd away from every expert: the naive densities underflow to 0 */
    double xf = 0.5, yf = 200;
    double ll = smx_moe_loglik(&tr, &xf, &yf, 1);
    /* at x = 0.5 expert 2 (mean 5, var 0.16) dominates: log pi_2 + log N(200; 5, 0.16) */
    double lp[2];
    smx_moe_log_gate(lp, &tr, &xf);
    double want = lp[1] - 0.5 * (log(2 * M_PI * 0.16) + 195.0 * 195.0 / 0.16);
    ok(isfinite(ll) && fabs(ll - want) <= 1e-9 * fabs(want), "log-space E-step: loglik %.6g finite (naive: -inf), = %.6g", ll, want);
    gsl_rng_free(r);
    free(x);
    free(y);
    smx_moe_free(&tr);
}

static void perm_fit(smx_moe_t *dst, const smx_moe_t *src, const size_t *perm)
{
    for (size_t i = 0; i < src->k; i++) {
        size_t s = perm[i];
        dst->beta0[i] = src->beta0[s], dst->beta1[i] = src->beta1[s], dst->b[i] = src->b[s], dst->a[i] = src->a[s],
        dst->var[i] = src->var[s];
    }
}

static void test_voronoi(void)
{
    smx_moe_t tr, f3, g3;
    smx_moe_paper_truth(&tr);
    smx_moe_voronoi_t v;
    double zero[2] = {0, 0};
    smx_moe_voronoi(&v, &tr, &tr, zero, 0);
    ok(v.D == 0, "D1(truth, truth) = 0 (translation none)");
    smx_moe_voronoi_min(&v, &tr, &tr, 0);
    ok(fabs(v.D) <= 1e-15, "D1(truth, truth) = 0 (translation min: %.3g)", v.D);
    /* 3-expert fit: two near the reference expert 2, one near expert 1 */
    smx_moe_alloc(&f3, 3, 1);
    smx_moe_alloc(&g3, 3, 1);
    double F[3][5] = {{-7.9, 24.7, 15.2, -20.3, 0.11},   /* beta0 beta1 b a var: cell 1 */
                      {-0.69, 0.4, -4.9, 19.8, 0.15},   /* cell 2 */
                      {0, 0, -5.3, 20.25, 0.2}};        /* cell 2 (reference) */
    for (int i = 0; i < 3; i++)
        f3.beta0[i] = F[i][0], f3.beta1[i] = F[i][1], f3.b[i] = F[i][2], f3.a[i] = F[i][3], f3.var[i] = F[i][4];
    smx_moe_voronoi(&v, &tr, &f3, zero, 0);
    /* by hand: mass |e^-7.9 - e^-8| + |e^-0.69 + 1 - 1|; cell 1 (single): e^-7.9 (0.3 + 0.3 + 0.2 + 0.02);
     * cell 2 (two members, r = 4): e^-0.69 (0.4^4 + 0.1^4 + 0.2^2 + 0.01^2) + 1 (0 + 0.3^4 + 0.25^2 + 0.04^2) */
    double hand = fabs(exp(-7.9) - exp(-8)) + exp(-0.69) + exp(-7.9) * (0.3 + 0.3 + 0.2 + 0.02) +
                  exp(-0.69) * (pow(0.4, 4) + pow(0.1, 4) + 0.2 * 0.2 + 0.01 * 0.01) +
                  (pow(0.3, 4) + 0.25 * 0.25 + 0.04 * 0.04);
    ok_rel(v.D, hand, 1e-12, "D2 of a 3-expert fit = hand-computed value");
    ok(v.size[0] == 1 && v.size[1] == 2, "cells: sizes 1 and 2 (%d, %d)", v.size[0], v.size[1]);
    ok_rel(v.err[1][0], 0.4, 1e-12, "cell 2: max |dbeta1| = 0.4");
    /* every permutation of the fitted experts: the same loss, both conventions */
    static const size_t P[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    smx_moe_voronoi_t vm, w;
    smx_moe_voronoi_min(&vm, &tr, &f3, 0);
    ok(vm.D <= v.D && vm.D < 0.5 * v.D, "translation min lowers the loss (%.6g < %.6g): the reference cell's spare mass", vm.D, v.D);
    int same_none = 1, same_min = 1;
    for (int p = 1; p < 6; p++) {
        perm_fit(&g3, &f3, P[p]);
        smx_moe_voronoi(&w, &tr, &g3, zero, 0);
        if (fabs(w.D - v.D) > 1e-14 * v.D) same_none = 0;
        smx_moe_voronoi_min(&w, &tr, &g3, 0);
        if (fabs(w.D - vm.D) > 1e-9 * vm.D) same_min = 0;
    }
    ok(same_none, "D2 invariant to permuting the fitted experts (translation none)");
    ok(same_min, "D2 invariant to permuting the fitted experts (translation min)");
    /* translation of every fitted gate: min convention unchanged */
    smx_moe_copy(&g3, &f3);
    for (int i = 0; i < 3; i++) g3.beta0[i] += 1.385, g3.beta1[i] -= 0.72;
    smx_moe_voronoi_min(&w, &tr, &g3, 0);
    ok_rel(w.D, vm.D, 1e-9, "D2 (translation min) invariant to translating the fitted gates");
    smx_moe_voronoi(&w, &tr, &g3, zero, 0);
    ok(w.D > v.D * 1.5, "... and the none convention is not (%.6g vs %.6g)", w.D, v.D);
    /* exact fit with one cell doubly occupied and one empty: exponent 1, empty cell costs e^{beta0*} */
    smx_moe_t f2;
    smx_moe_alloc(&f2, 2, 1);
    f2.beta0[0] = -0.5, f2.beta1[0] = 0.25, f2.b[0] = -5.5, f2.a[0] = 20.5, f2.var[0] = 0.2;
    f2.beta0[1] = 0, f2.beta1[1] = 0, f2.b[1] = -5, f2.a[1] = 20, f2.var[1] = 0.16;
    smx_moe_voronoi(&v, &tr, &f2, zero, 0);
    hand = exp(-8) + fabs(exp(-0.5) + 1 - 1) + exp(-0.5) * (0.25 + 0.5 + 0.5 + 0.04);
    ok_rel(v.D, hand, 1e-12, "D1 with an empty cell: e^{beta0*} plus exponent-1 terms for both members");
    ok(v.size[0] == 0 && isnan(v.err[0][0]), "empty cell reported (size 0, errors NaN)");
    /* a cell of 4 members needs rbar */
    smx_moe_t f5;
    smx_moe_alloc(&f5, 5, 1);
    for (int i = 0; i < 5; i++)
        f5.beta0[i] = -0.1 * i, f5.beta1[i] = 0.01 * i, f5.b[i] = -5 + 0.01 * i, f5.a[i] = 20, f5.var[i] = 0.16;
    f5.beta0[0] = -8, f5.beta1[0] = 25, f5.b[0] = 15, f5.a[0] = -20, f5.var[0] = 0.09;
    ok(smx_moe_voronoi(&v, &tr, &f5, zero, 0) == SMX_EDOM, "a 4-member cell without rbar: SMX_EDOM");
    ok(smx_moe_voronoi(&v, &tr, &f5, zero, 8) == SMX_OK && v.size[1] == 4, "... with rbar 8: computed");
    smx_moe_free(&f5);
    smx_moe_free(&f2);
    smx_moe_free(&f3);
    smx_moe_free(&g3);
    smx_moe_free(&tr);
}

static void test_files(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/t-moe.%d.tsv", tmp, (int)getpid());
    smx_moe_t tr, back;
    smx_moe_paper_truth(&tr);
    tr.beta1[0] = 25.123456789012345;
    FILE *fp = fopen(path, "w");
    fputs("# a comment\n", fp);
    smx_moe_write_rows(fp, &tr);
    fclose(fp);
    char err[256];
    int st = smx_moe_read(&back, err, sizeof err, path, 1);
    ok(st == SMX_OK && back.k == 2 && back.d == 1 && back.beta1[0] == tr.beta1[0] && back.var[1] == 0.16,
       "parameter file round trip (%%.17g)");
    smx_moe_free(&back);
    fp = fopen(path, "w");
    fputs("beta0\tbeta1_1\tb\ta_1\tvar\n0\t0\t1\t2\t-0.5\n", fp);
    fclose(fp);
    st = smx_moe_read(&back, err, sizeof err, path, 0);
    ok(st == SMX_EDOM && strstr(err, ":2:5:") && strstr(err, "variance"), "negative variance rejected (%s)", err);
    ok(smx_moe_read(&back, err, sizeof err, path, 2) == SMX_EDOM && strstr(err, "d = 1"), "wrong d rejected (%s)", err);
    remove(path);
    smx_moe_free(&tr);
}

static void test_mle_rate(void)
{
    /* n = 1e5, k = k* = 2: D1 = O(sqrt(log n / n)) (paper (a) Theorem 1). The constant: at n = 1e3..1e4 our
     * fits give D1 / sqrt(log n / n) of 1-3 (median); allow 6, i.e. D1 <= 0.064, and each parameter of the
     * heavy (reference) expert within 6 sqrt(log n / n) too. */
    smx_moe_t tr, fit;
    const size_t n = 100000;
    double *x, *y;
    gsl_rng *r = paper_draws(&tr, &x, &y, n, 4242);
    smx_moe_alloc(&fit, 2, 1);
    smx_moe_init_near(&fit, &tr, n, SMX_MOE_INIT_INTENDED, r);
    smx_moe_em_t *w = smx_moe_em_alloc(n, 2, 1);
    smx_moe_em_opts_t o;
    smx_moe_em_opts_default(&o);
    smx_moe_em_result_t res;
    smx_moe_em(&res, NULL, &fit, w, x, y, n, &o);
    smx_moe_voronoi_t v;
    smx_moe_voronoi_min(&v, &tr, &fit, 0);
    double rate = sqrt(log((double)n) / n);
    ok(res.converged && v.D <= 6 * rate, "n = 1e5, k = 2: D1 = %.4g <= 6 sqrt(log n / n) = %.4g", v.D, 6 * rate);
    ok(fabs(fit.a[1] - 20) <= 6 * rate && fabs(fit.b[1] + 5) <= 6 * rate && fabs(fit.var[1] - 0.16) <= 6 * rate,
       "n = 1e5: reference expert (a, b, var) = (%.5g, %.5g, %.5g) within %.3g", fit.a[1], fit.b[1], fit.var[1], 6 * rate);
    smx_moe_em_free(w);
    gsl_rng_free(r);
    free(x);
    free(y);
    smx_moe_free(&fit);
    smx_moe_free(&tr);
}


/* ---- E-step against a direct long-double evaluation ----
 * smx_moe_estep takes its exps in one vectorised call (numerics/kernels.h) over shifted logits; here
 * log sum_i pi_ij N(y_j; b_i + a_i.x_j, var_i) and r_ij are computed term by term with expl / logl. */
static void test_estep_direct(void)
{
    size_t k = 3, d = 2, n = 777;
    smx_moe_t m;
    smx_moe_alloc(&m, k, d);
    double b0[3] = {-2.385, 1.7, 0}, b1[6] = {9.1, -4.3, -7.7, 12.9, 0, 0};
    double b[3] = {1.3, -0.47, 2.385}, a[6] = {-3.3, 0.8, 2.2, -1.9, 0.61, 4.1}, var[3] = {0.09, 0.713, 0.041};
    memcpy(m.beta0, b0, sizeof b0), memcpy(m.beta1, b1, sizeof b1);
    memcpy(m.b, b, sizeof b), memcpy(m.a, a, sizeof a), memcpy(m.var, var, sizeof var);
    gsl_rng *r = smx_rng_alloc(2385);
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
    smx_moe_sample(x, y, &m, n, SMX_MOE_DESIGN_UNIFORM, r);
    for (size_t j = 0; j < n; j += 97) y[j] += 3; /* some points far from every expert: r_ij spread out */
    smx_moe_em_t *w = smx_moe_em_alloc(n, k, d);
    double ll = smx_moe_estep(w, &m, x, y, n);
    const double *resp = smx_moe_em_resp(w);
    long double llref = 0;
    double rmax = 0;
    for (size_t j = 0; j < n; j++) {
        long double eta[3], lw[3], se = 0, s = 0;
        for (size_t i = 0; i < k; i++) {
            eta[i] = m.beta0[i] + (long double)m.beta1[i * d] * x[j * d] + (long double)m.beta1[i * d + 1] * x[j * d + 1];
            long double e = y[j] - (m.b[i] + (long double)m.a[i * d] * x[j * d] + (long double)m.a[i * d + 1] * x[j * d + 1]);
            lw[i] = eta[i] - 0.5L * (logl(2 * M_PI) + logl(m.var[i]) + e * e / m.var[i]);
            se += expl(eta[i]), s += expl(lw[i]);
        }
        llref += logl(s) - logl(se);
        for (size_t i = 0; i < k; i++) rmax = fmax(rmax, fabs(resp[j * k + i] - (double)(expl(lw[i]) / s)));
    }
    double rel = fabs(ll - (double)llref) / fabsl(llref);
    ok(rel <= 1e-13, "E-step log-likelihood = direct long-double sum to 1e-13 (rel %.3g, ll %.10g)", rel, ll);
    ok(rmax <= 1e-14, "E-step responsibilities = direct ones to 1e-14 (max diff %.3g)", rmax);
    smx_moe_em_free(w);
    gsl_rng_free(r);
    free(x);
    free(y);
    smx_moe_free(&m);
}

/* ---- smx_moe_posterior and smx_moe_em_begin, the pieces every EM variant shares ----
 * lw = (c, c + log 3, c + log 4, -inf): r = (1, 3, 4, 0) / 8 and log sum e^lw = c + log 8, for c = 0 and for
 * c = -1000 (e^lw underflows: only the max shift keeps it) and c = 700 (e^lw overflows). */
static void test_posterior(void)
{
    const double cs[3] = {0, -1000, 700};
    for (int t = 0; t < 3; t++) {
        double c = cs[t], lw[4] = {c, c + log(3.0), c + log(4.0), -INFINITY}, r[4];
        double lse = smx_moe_posterior(r, lw, 4);
        ok_rel(lse, c + log(8.0), 1e-15, "posterior: log sum_i e^lw_i = c + log 8 at c = %g", c);
        double tol = 1e-15 + 1e-15 * fabs(c); /* c + log 3 carries an error of ulp(c) / 2 */
        ok(fabs(r[0] - 0.125) <= tol && fabs(r[1] - 0.375) <= tol && fabs(r[2] - 0.5) <= tol && r[3] == 0,
           "posterior: r = (1, 3, 4, 0) / 8 at c = %g (got %.17g %.17g %.17g %g)", c, r[0], r[1], r[2], r[3]);
    }
    double lw[2] = {-2, 1};
    ok_rel(smx_moe_posterior(NULL, lw, 2), log(exp(-2.0) + exp(1.0)), 1e-15, "posterior: r = NULL gives the lse alone");

    smx_moe_t m;
    smx_moe_alloc(&m, 3, 2);
    for (size_t i = 0; i < 3; i++) m.beta0[i] = 1 + i, m.beta1[2 * i] = 2 + i, m.beta1[2 * i + 1] = 3 + i;
    smx_moe_em_result_t res = {-5, 7, 1, 9};
    smx_moe_em_begin(&res, &m);
    ok(res.loglik == 0 && res.iterations == 0 && !res.converged && res.gate_iters == 0 && m.beta0[2] == 0 &&
           m.beta1[4] == 0 && m.beta1[5] == 0 && m.beta0[1] == 2 && m.beta1[3] == 4,
       "EM start: result cleared, only the last expert's gate pinned at (0, 0)");
    smx_moe_free(&m);
}

int main(void)
{
    test_posterior();
    test_estep_direct();
    test_gate_mstep();
    test_em_monotone();
    test_voronoi();
    test_files();
    test_mle_rate();
    return tap_done();
}
