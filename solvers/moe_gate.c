/* moe_gate.c - tempered / activation gates of the Gaussian MoE and their generalised EM (issue 13
 * part 3, paper (c)). Formulas: moe_gate.h. */
#include "moe_gate.h"
#include "smx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>

static const double LOG_2PI = 1.8378770664093454836;

static double dot(const double *u, const double *v, size_t d)
{
    double s = 0;
    for (size_t c = 0; c < d; c++) s += u[c] * v[c];
    return s;
}

double smx_moe_act(smx_moe_act_t act, double u, double *deriv)
{
    double f, df;
    switch (act) {
    case SMX_MOE_ACT_TANH: f = tanh(u), df = 1 - f * f; break;
    case SMX_MOE_ACT_SIGMOID: f = 1 / (1 + exp(-u)), df = f * (1 - f); break;
    default: f = u, df = 1; break;
    }
    if (deriv) *deriv = df;
    return f;
}

/* eta_i = act(beta1_i.x) / tau + beta0_i; returns max_i eta_i */
static double logits(double *eta, double *u, const smx_moe_t *m, double tau, smx_moe_act_t act, const double *x)
{
    double mx = -INFINITY;
    for (size_t i = 0; i < m->k; i++) {
        double ui = dot(m->beta1 + i * m->d, x, m->d);
        if (u) u[i] = ui;
        eta[i] = smx_moe_act(act, ui, NULL) / tau + m->beta0[i];
        if (eta[i] > mx) mx = eta[i];
    }
    return mx;
}

void smx_moe_tgate_log(double *logpi, const smx_moe_t *m, double tau, smx_moe_act_t act, const double *x)
{
    double mx = logits(logpi, NULL, m, tau, act, x), s = 0;
    for (size_t i = 0; i < m->k; i++) s += exp(logpi[i] - mx);
    double lse = mx + log(s);
    for (size_t i = 0; i < m->k; i++) logpi[i] -= lse;
}

int smx_moe_tgate_sample(double *x, double *y, const smx_moe_t *m, double tau, smx_moe_act_t act, size_t n,
                         smx_moe_design_t design, gsl_rng *r)
{
    size_t k = m->k, d = m->d;
    if (k > 64 || !(tau > 0) || (design == SMX_MOE_DESIGN_GRID && (d != 1 || n < 2))) return SMX_EDOM;
    double lp[64];
    for (size_t j = 0; j < n; j++) {
        double *xj = x + j * d;
        if (design == SMX_MOE_DESIGN_GRID) xj[0] = (double)j / (double)(n - 1);
        else
            for (size_t c = 0; c < d; c++) xj[c] = gsl_rng_uniform(r);
        smx_moe_tgate_log(lp, m, tau, act, xj);
        double u = gsl_rng_uniform(r), acc = 0;
        size_t z = k - 1;
        for (size_t i = 0; i < k; i++)
            if (u < (acc += exp(lp[i]))) {
                z = i;
                break;
            }
        y[j] = m->b[z] + dot(m->a + z * d, xj, d) + gsl_ran_gaussian_ziggurat(r, sqrt(m->var[z]));
    }
    return SMX_OK;
}

/* log-likelihood; r (n x k or NULL) gets the responsibilities */
static double estep(double *r, const smx_moe_t *m, double tau, smx_moe_act_t act, const double *x, const double *y,
                    size_t n)
{
    size_t k = m->k, d = m->d;
    double ll = 0, lw[64];
    for (size_t j = 0; j < n; j++) {
        const double *xj = x + j * d;
        double me = logits(lw, NULL, m, tau, act, xj), se = 0;
        for (size_t i = 0; i < k; i++) {
            se += exp(lw[i] - me);
            double e = y[j] - m->b[i] - dot(m->a + i * d, xj, d);
            lw[i] += -0.5 * (LOG_2PI + log(m->var[i]) + e * e / m->var[i]);
        }
        /* log sum_i pi_i N_i = lse(eta + log N) - lse(eta) */
        ll += smx_moe_posterior(r ? r + j * k : NULL, lw, k) - (me + log(se));
    }
    return ll;
}

double smx_moe_tgate_loglik(const smx_moe_t *m, double tau, smx_moe_act_t act, const double *x, const double *y,
                            size_t n)
{
    return estep(NULL, m, tau, act, x, y, n);
}

double smx_moe_tgate_q(double *grad, const smx_moe_t *m, double tau, smx_moe_act_t act, const double *r,
                       const double *x, size_t n)
{
    size_t k = m->k, d = m->d, D1 = d + 1, P = (k - 1) * D1;
    if (grad) memset(grad, 0, (P + 1) * sizeof *grad);
    double q = 0, eta[64], u[64];
    for (size_t j = 0; j < n; j++) {
        const double *xj = x + j * d, *rj = r + j * k;
        double mx = logits(eta, u, m, tau, act, xj), s = 0;
        for (size_t i = 0; i < k; i++) s += exp(eta[i] - mx);
        double lse = mx + log(s);
        for (size_t i = 0; i < k; i++) {
            double lp = eta[i] - lse;
            if (rj[i] > 0) q += rj[i] * lp;
            if (!grad) continue;
            double g = rj[i] - exp(lp), da, f = smx_moe_act(act, u[i], &da);
            grad[P] -= g * f / tau; /* d/dlog tau */
            if (i + 1 == k) continue;
            grad[i * D1] += g;
            for (size_t c = 0; c < d; c++) grad[i * D1 + 1 + c] += g * da * xj[c] / tau;
        }
    }
    return q;
}

/* ---- gate M-step: BFGS on -Q over theta = (gamma, log tau) ---- */

typedef struct {
    smx_moe_t *m;
    smx_moe_act_t act;
    const double *r, *x;
    size_t n;
    double *grad;
} qpar_t;

static double theta_set(smx_moe_t *m, const gsl_vector *v)
{
    size_t d = m->d;
    for (size_t i = 0; i + 1 < m->k; i++) {
        m->beta0[i] = gsl_vector_get(v, i * (d + 1));
        for (size_t c = 0; c < d; c++) m->beta1[i * d + c] = gsl_vector_get(v, i * (d + 1) + 1 + c);
    }
    return exp(gsl_vector_get(v, (m->k - 1) * (d + 1)));
}

static void negq_fdf(const gsl_vector *v, void *p, double *f, gsl_vector *g)
{
    qpar_t *a = p;
    size_t P = (a->m->k - 1) * (a->m->d + 1);
    double tau = theta_set(a->m, v);
    double q = smx_moe_tgate_q(g ? a->grad : NULL, a->m, tau, a->act, a->r, a->x, a->n);
    if (f) *f = isfinite(q) ? -q : HUGE_VAL;
    if (g)
        for (size_t i = 0; i <= P; i++) gsl_vector_set(g, i, -a->grad[i]);
}
static double negq_f(const gsl_vector *v, void *p)
{
    double f;
    negq_fdf(v, p, &f, NULL);
    return f;
}
static void negq_df(const gsl_vector *v, void *p, gsl_vector *g) { negq_fdf(v, p, NULL, g); }

static int gate_mstep(smx_moe_t *m, double *tau, smx_moe_act_t act, const double *r, const double *x, size_t n,
                      const smx_moe_em_opts_t *o)
{
    size_t d = m->d, P = (m->k - 1) * (d + 1), N = P + 1;
    double grad[64 * 8 + 1], save[64 * 9];
    qpar_t a = {m, act, r, x, n, grad};
    gsl_multimin_function_fdf fn = {negq_f, negq_df, negq_fdf, N, &a};
    gsl_vector *v = gsl_vector_alloc(N);
    gsl_multimin_fdfminimizer *s = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, N);
    if (!v || !s) {
        if (v) gsl_vector_free(v);
        if (s) gsl_multimin_fdfminimizer_free(s);
        return SMX_ENOMEM;
    }
    memcpy(save, m->beta0, m->k * (1 + d) * sizeof(double)); /* beta0 then beta1 are contiguous */
    for (size_t i = 0; i + 1 < m->k; i++) {
        gsl_vector_set(v, i * (d + 1), m->beta0[i]);
        for (size_t c = 0; c < d; c++) gsl_vector_set(v, i * (d + 1) + 1 + c, m->beta1[i * d + c]);
    }
    gsl_vector_set(v, P, log(*tau));
    double q0 = smx_moe_tgate_q(NULL, m, *tau, act, r, x, n);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    gsl_multimin_fdfminimizer_set(s, &fn, v, 0.01, 0.1);
    for (int it = 0; it < o->gate_max_iter; it++) {
        if (gsl_multimin_fdfminimizer_iterate(s)) break;
        if (gsl_multimin_test_gradient(s->gradient, 1e-8 * (double)n) != GSL_CONTINUE) break;
    }
    gsl_set_error_handler(old);
    double tnew = theta_set(m, s->x);
    double q1 = smx_moe_tgate_q(NULL, m, tnew, act, r, x, n);
    if (q1 >= q0 && isfinite(q1)) *tau = tnew;
    else memcpy(m->beta0, save, m->k * (1 + d) * sizeof(double)); /* keep the old gate */
    gsl_multimin_fdfminimizer_free(s);
    gsl_vector_free(v);
    return SMX_OK;
}

int smx_moe_tgate_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, double *tau, smx_moe_act_t act,
                     smx_moe_em_t *w, const double *x, const double *y, size_t n, const smx_moe_em_opts_t *o)
{
    size_t k = m->k, d = m->d;
    if (k > 64 || d > 7 || !(*tau > 0)) return SMX_EDOM;
    smx_moe_em_begin(res, m);
    double *r = smx_moe_em_resp(w);
    double ll = estep(r, m, *tau, act, x, y, n);
    if (trace) trace[0] = ll;
    for (int it = 1; it <= o->max_iter; it++) {
        smx_moe_expert_mstep(m, w, x, y, n, o);
        int st = gate_mstep(m, tau, act, r, x, n, o);
        if (st) return st;
        double lln = estep(r, m, *tau, act, x, y, n);
        if (smx_moe_em_step_done(res, &ll, trace, it, lln, o)) break;
    }
    res->loglik = ll;
    return SMX_OK;
}
