/* moe_loss.c - Voronoi losses D1 / D2 and the Hellinger distance of paper (a) (issue 13).
 * Formulas: moe.h. */
#include "moe.h"
#include "smx.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_multimin.h>
#include <gsl/gsl_qrng.h>

static double sq(double v) { return v * v; }

/* rbar(m) of paper (a) (Section 4): 4 for m = 2, 6 for m = 3; rbar_big (given) for m >= 4. */
static double rbar(int m, double rbar_big) { return m == 2 ? 4 : m == 3 ? 6 : rbar_big; }

/* Cells at gate-slope translation t1 (NULL: none). Returns SMX_EDOM for a cell of >= 4 members without
 * rbar_big (over-specified only). Fills S_j = sum_{i in A_j} e^{beta0_i} (untranslated masses) and
 * C = sum_j sum_{i in A_j} e^{beta0_i} * (parameter term), so that at e^{t0} = s
 * D(s) = sum_j |s S_j - e^{beta0*_j}| + s C. v (optional): sizes and per-cell errors. */
static int cells(double *S, double *C, smx_moe_voronoi_t *v, const smx_moe_t *tr, const smx_moe_t *fit,
                 const double *t1, double rbar_big)
{
    size_t ks = tr->k, k = fit->k, d = tr->d;
    int cell[64], size[SMX_MOE_VORONOI_KMAX] = {0};
    double b1[64 * 8];
    for (size_t i = 0; i < k; i++) {
        for (size_t c = 0; c < d; c++) b1[i * d + c] = fit->beta1[i * d + c] + (t1 ? t1[c] : 0);
        double best = INFINITY;
        cell[i] = 0;
        for (size_t j = 0; j < ks; j++) { /* distance over (beta1, a, b, var) */
            double s = sq(fit->b[i] - tr->b[j]) + sq(fit->var[i] - tr->var[j]);
            for (size_t c = 0; c < d; c++) s += sq(b1[i * d + c] - tr->beta1[j * d + c]) + sq(fit->a[i * d + c] - tr->a[j * d + c]);
            if (s < best) best = s, cell[i] = (int)j;
        }
        size[cell[i]]++;
    }
    if (v) {
        memcpy(v->size, size, sizeof size);
        for (size_t j = 0; j < ks; j++)
            for (int g = 0; g < 4; g++) v->err[j][g] = size[j] ? 0 : NAN;
    }
    *C = 0;
    for (size_t j = 0; j < ks; j++) S[j] = 0;
    for (size_t i = 0; i < k; i++) {
        size_t j = (size_t)cell[i];
        double eb1 = 0, ea = 0, w = exp(fit->beta0[i]);
        for (size_t c = 0; c < d; c++)
            eb1 += sq(b1[i * d + c] - tr->beta1[j * d + c]), ea += sq(fit->a[i * d + c] - tr->a[j * d + c]);
        eb1 = sqrt(eb1), ea = sqrt(ea);
        double eb = fabs(fit->b[i] - tr->b[j]), ev = fabs(fit->var[i] - tr->var[j]);
        S[j] += w;
        int m = size[j];
        if (k <= ks || m == 1) *C += w * (eb1 + ea + eb + ev); /* D1 term, exponent 1 */
        else {
            double r = rbar(m, rbar_big);
            if (!(r > 0)) return SMX_EDOM;
            *C += w * (pow(eb1, r) + pow(eb, r) + pow(ea, r / 2) + pow(ev, r / 2)); /* D2, |A_j| >= 2 */
        }
        if (v) {
            double e[4] = {eb1, ea, eb, ev};
            for (int g = 0; g < 4; g++)
                if (e[g] > v->err[j][g]) v->err[j][g] = e[g];
        }
    }
    return SMX_OK;
}

static double dval(const double *S, double C, const smx_moe_t *tr, double s)
{
    double D = s * C;
    for (size_t j = 0; j < tr->k; j++) D += fabs(s * S[j] - exp(tr->beta0[j]));
    return D;
}

static int check(const smx_moe_t *tr, const smx_moe_t *fit)
{
    if (tr->k > SMX_MOE_VORONOI_KMAX || fit->k > 64 || tr->d != fit->d || tr->d > 7) return SMX_EDOM;
    return SMX_OK;
}

int smx_moe_voronoi(smx_moe_voronoi_t *v, const smx_moe_t *truth, const smx_moe_t *fit, const double *t,
                    double rbar_big)
{
    double S[SMX_MOE_VORONOI_KMAX], C;
    int st = check(truth, fit);
    if (st) return st;
    memset(v, 0, sizeof *v);
    if ((st = cells(S, &C, v, truth, fit, t ? t + 1 : NULL, rbar_big))) return st;
    v->D = dval(S, C, truth, t ? exp(t[0]) : 1);
    if (t)
        for (size_t c = 0; c <= truth->d; c++) v->t[c] = t[c];
    return SMX_OK;
}

/* min over t0 at slope translation t1: D(s) is convex piecewise linear in s = e^{t0} > 0, so its
 * minimum is at a breakpoint s = e^{beta0*_j} / S_j (or at s = 1, t0 = 0, kept as a candidate). */
typedef struct {
    const smx_moe_t *tr, *fit;
    double rbar_big;
} prof_t;

static double profile(double *s_best, const prof_t *p, const double *t1)
{
    double S[SMX_MOE_VORONOI_KMAX], C;
    if (cells(S, &C, NULL, p->tr, p->fit, t1, p->rbar_big)) return INFINITY;
    double best = dval(S, C, p->tr, 1);
    *s_best = 1;
    for (size_t j = 0; j < p->tr->k; j++) {
        if (!(S[j] > 0)) continue;
        double s = exp(p->tr->beta0[j]) / S[j], D = dval(S, C, p->tr, s);
        if (D < best) best = D, *s_best = s;
    }
    return best;
}

static double prof_f(const gsl_vector *t1, void *par)
{
    double s;
    return profile(&s, par, t1->data);
}

int smx_moe_voronoi_min(smx_moe_voronoi_t *v, const smx_moe_t *truth, const smx_moe_t *fit, double rbar_big)
{
    int st = check(truth, fit);
    if (st) return st;
    size_t d = truth->d;
    prof_t p = {truth, fit, rbar_big};
    double t1[8] = {0}, best_t1[8] = {0}, s, best = profile(&s, &p, t1);
    for (size_t i = 0; i < fit->k; i++)
        for (size_t j = 0; j < truth->k; j++) {
            for (size_t c = 0; c < d; c++) t1[c] = truth->beta1[j * d + c] - fit->beta1[i * d + c];
            double D = profile(&s, &p, t1);
            if (D < best) best = D, memcpy(best_t1, t1, sizeof t1);
        }
    if (!isfinite(best)) return SMX_EDOM;
    /* refine t1 by Nelder-Mead (the profile is continuous, piecewise smooth) */
    gsl_multimin_function F = {prof_f, d, &p};
    gsl_multimin_fminimizer *M = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, d);
    gsl_vector *x0 = gsl_vector_alloc(d), *ss = gsl_vector_alloc(d);
    if (!M || !x0 || !ss) st = SMX_ENOMEM;
    else {
        for (size_t c = 0; c < d; c++) {
            gsl_vector_set(x0, c, best_t1[c]);
            gsl_vector_set(ss, c, 0.01 * (1 + fabs(best_t1[c])));
        }
        gsl_multimin_fminimizer_set(M, &F, x0, ss);
        for (int it = 0; it < 400; it++) {
            if (gsl_multimin_fminimizer_iterate(M)) break;
            if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(M), 1e-12 * (1 + fabs(best_t1[0])))
                == GSL_SUCCESS)
                break;
        }
        if (gsl_multimin_fminimizer_minimum(M) < best) {
            best = gsl_multimin_fminimizer_minimum(M);
            for (size_t c = 0; c < d; c++) best_t1[c] = gsl_vector_get(gsl_multimin_fminimizer_x(M), c);
        }
    }
    if (M) gsl_multimin_fminimizer_free(M);
    if (x0) gsl_vector_free(x0);
    if (ss) gsl_vector_free(ss);
    if (st) return st;
    profile(&s, &p, best_t1);
    double t[8];
    t[0] = log(s);
    memcpy(t + 1, best_t1, d * sizeof(double));
    return smx_moe_voronoi(v, truth, fit, t, rbar_big);
}

/* mixture density at (x, y): sum_i pi_i(x) N(y; mu_i, var_i), given pi, mu, var */
static double mixdens(const double *pi, const double *mu, const double *var, size_t k, double y)
{
    double s = 0;
    for (size_t i = 0; i < k; i++)
        if (pi[i] > 0) s += pi[i] * exp(-0.5 * sq(y - mu[i]) / var[i]) / sqrt(2 * M_PI * var[i]);
    return s;
}

/* H^2(x) = 1/2 int (sqrt g_fit(y|x) - sqrt g_truth(y|x))^2 dy, trapezoid on a y grid of step min sd / 8
 * covering every component (weight >= 1e-14) +- 10 sd (at most 400000 steps) */
static double hellinger2_at(const smx_moe_t *truth, const smx_moe_t *fit, const double *x)
{
    double pt[64], pf[64], mt[64], mf[64], lo = INFINITY, hi = -INFINITY, sdmin = INFINITY;
    size_t d = truth->d;
    smx_moe_log_gate(pt, truth, x);
    smx_moe_log_gate(pf, fit, x);
    for (int side = 0; side < 2; side++) {
        const smx_moe_t *m = side ? fit : truth;
        double *p = side ? pf : pt, *mu = side ? mf : mt;
        for (size_t i = 0; i < m->k; i++) {
            p[i] = exp(p[i]);
            mu[i] = m->b[i];
            for (size_t c = 0; c < d; c++) mu[i] += m->a[i * d + c] * x[c];
            if (p[i] < 1e-14) continue;
            double sd = sqrt(m->var[i]);
            lo = fmin(lo, mu[i] - 10 * sd), hi = fmax(hi, mu[i] + 10 * sd), sdmin = fmin(sdmin, sd);
        }
    }
    double h = sdmin / 8;
    size_t N = (size_t)ceil((hi - lo) / h);
    if (N > 400000) N = 400000, h = (hi - lo) / N;
    double I = 0;
    for (size_t u = 0; u <= N; u++) { /* trapezoid; the end points are ~10 sd out: weight 1/2 */
        double y = lo + u * h;
        double e = sq(sqrt(mixdens(pf, mf, fit->var, fit->k, y)) - sqrt(mixdens(pt, mt, truth->var, truth->k, y)));
        I += (u == 0 || u == N) ? 0.5 * e : e;
    }
    return 0.5 * I * h;
}

double smx_moe_hellinger(const smx_moe_t *truth, const smx_moe_t *fit, size_t M)
{
    size_t d = truth->d;
    if (fit->d != d || d == 0 || d > 40 || truth->k > 64 || fit->k > 64 || M == 0) return NAN;
    double acc = 0, x[40];
    if (d == 1) { /* midpoint rule over x in [0, 1] */
        for (size_t q = 0; q < M; q++) {
            x[0] = (q + 0.5) / (double)M;
            acc += hellinger2_at(truth, fit, x);
        }
        return sqrt(acc / M);
    }
    /* d > 1: quasi-Monte Carlo over x ~ U(0,1)^d, the first M points of GSL's Sobol sequence */
    gsl_qrng *qr = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)d);
    if (!qr) return NAN;
    for (size_t q = 0; q < M; q++) {
        gsl_qrng_get(qr, x);
        acc += hellinger2_at(truth, fit, x);
    }
    gsl_qrng_free(qr);
    return sqrt(acc / M);
}
