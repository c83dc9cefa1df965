/* t-moe-gate.c - tempered / activation gates of the Gaussian MoE (solvers/moe_gate.c, issue 13 part 3,
 * paper (c)): the identity gate equals the softmax gate of beta1/tau (independent implementation in moe.c),
 * the scale ridge (beta1, tau) -> (c beta1, c tau) of the identity gate and its absence for tanh / sigmoid,
 * the gradient of Q against central finite differences, act' against finite differences, the generalised
 * EM's log-likelihood never decreasing, and tau recovered by the activation gate at n = 4000; logistic experts
 * (solvers/moe_mult.c, paper (d)): two equal experts give the plain logistic likelihood (closed form), the
 * modified gate's input is tanh(x), EM monotone and, at n = 20000, fits from a poor start and from the
 * truth with a likelihood above the truth's, for both gates. */
#include "moe_gate.h"
#include "moe_mult.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <string.h>

static const char *const NAME[] = {"identity", "tanh", "sigmoid"};

/* a 3-expert, d = 2 model with high-entropy parameters */
static void model3(smx_moe_t *m)
{
    smx_moe_alloc(m, 3, 2);
    const double b0[3] = {-0.731, 1.385, 0}, b1[6] = {2.385, -1.173, -0.917, 3.141, 0, 0},
                 b[3] = {1.5, -2.25, 0.75}, a[6] = {-1.1, 2.3, 0.4, -0.6, 1.7, 0.2}, v[3] = {0.31, 0.57, 0.23};
    memcpy(m->beta0, b0, sizeof b0);
    memcpy(m->beta1, b1, sizeof b1);
    memcpy(m->b, b, sizeof b);
    memcpy(m->a, a, sizeof a);
    memcpy(m->var, v, sizeof v);
}

static void test_identity_is_softmax(void)
{
    smx_moe_t m, s;
    model3(&m);
    model3(&s);
    const double tau = 0.437, x[2] = {0.613, -1.271};
    for (size_t i = 0; i < 6; i++) s.beta1[i] = m.beta1[i] / tau;
    double lp[3], ls[3], err = 0;
    smx_moe_tgate_log(lp, &m, tau, SMX_MOE_ACT_IDENTITY, x);
    smx_moe_log_gate(ls, &s, x);
    for (int i = 0; i < 3; i++) err = fmax(err, fabs(lp[i] - ls[i]));
    ok(err <= 1e-14, "identity gate at tau = %.3f == softmax gate of beta1/tau (max |dlog pi| = %.2g)", tau, err);
    /* sampling and log-likelihood of the identity gate match moe.c's */
    const size_t n = 500;
    double xs[1000], ys[500], xt[1000], yt[500];
    gsl_rng *r1 = smx_rng_alloc(77), *r2 = smx_rng_alloc(77);
    smx_moe_tgate_sample(xs, ys, &m, tau, SMX_MOE_ACT_IDENTITY, n, SMX_MOE_DESIGN_UNIFORM, r1);
    smx_moe_sample(xt, yt, &s, n, SMX_MOE_DESIGN_UNIFORM, r2);
    ok(!memcmp(xs, xt, sizeof xs) && !memcmp(ys, yt, sizeof ys), "identity-gate draws == softmax-gate draws (same seed)");
    double l1 = smx_moe_tgate_loglik(&m, tau, SMX_MOE_ACT_IDENTITY, xs, ys, n), l2 = smx_moe_loglik(&s, xs, ys, n);
    ok_rel(l1, l2, 1e-13, "identity-gate log-likelihood %.15g == softmax %.15g", l1, l2);
    /* the scale ridge: (c beta1, c tau) leaves the identity gate unchanged, not tanh / sigmoid */
    smx_moe_t c;
    model3(&c);
    for (size_t i = 0; i < 6; i++) c.beta1[i] = 1.7 * m.beta1[i];
    for (int a = 0; a < 3; a++) {
        double la = smx_moe_tgate_loglik(&m, tau, (smx_moe_act_t)a, xs, ys, n),
               lc = smx_moe_tgate_loglik(&c, 1.7 * tau, (smx_moe_act_t)a, xs, ys, n);
        if (a == 0) ok_rel(lc, la, 1e-12, "identity: loglik(1.7 beta1, 1.7 tau) = %.12g == loglik = %.12g (ridge)", lc, la);
        else ok(fabs(lc - la) > 1, "%s: loglik(1.7 beta1, 1.7 tau) = %.6g != %.6g (no ridge)", NAME[a], lc, la);
    }
    gsl_rng_free(r1);
    gsl_rng_free(r2);
    smx_moe_free(&m);
    smx_moe_free(&s);
    smx_moe_free(&c);
}

static void set_theta(smx_moe_t *m, double *tau, const double *th)
{
    for (size_t i = 0; i < 2; i++) {
        m->beta0[i] = th[i * 3];
        m->beta1[i * 2] = th[i * 3 + 1], m->beta1[i * 2 + 1] = th[i * 3 + 2];
    }
    *tau = exp(th[6]);
}

static void test_gradient(void)
{
    const size_t n = 300;
    double x[600], y[300], r[900];
    smx_moe_t m;
    model3(&m);
    gsl_rng *g = smx_rng_alloc(2385);
    for (int a = 0; a < 3; a++) {
        smx_moe_tgate_sample(x, y, &m, 0.613, (smx_moe_act_t)a, n, SMX_MOE_DESIGN_UNIFORM, g);
        for (size_t j = 0; j < n; j++) { /* random responsibilities, rows summing to 1 */
            double s = 0;
            for (int i = 0; i < 3; i++) s += (r[j * 3 + i] = gsl_rng_uniform_pos(g));
            for (int i = 0; i < 3; i++) r[j * 3 + i] /= s;
        }
        double th[7], grad[7], tau, maxrel = 0;
        for (size_t i = 0; i < 2; i++) th[i * 3] = m.beta0[i], th[i * 3 + 1] = m.beta1[i * 2], th[i * 3 + 2] = m.beta1[i * 2 + 1];
        th[6] = log(0.613);
        set_theta(&m, &tau, th);
        smx_moe_tgate_q(grad, &m, tau, (smx_moe_act_t)a, r, x, n);
        for (int p = 0; p < 7; p++) {
            double h = 1e-5, t0 = th[p], qp, qm;
            th[p] = t0 + h, set_theta(&m, &tau, th);
            qp = smx_moe_tgate_q(NULL, &m, tau, (smx_moe_act_t)a, r, x, n);
            th[p] = t0 - h, set_theta(&m, &tau, th);
            qm = smx_moe_tgate_q(NULL, &m, tau, (smx_moe_act_t)a, r, x, n);
            th[p] = t0;
            double fd = (qp - qm) / (2 * h);
            maxrel = fmax(maxrel, fabs(fd - grad[p]) / fmax(1, fabs(grad[p])));
        }
        set_theta(&m, &tau, th);
        ok(maxrel <= 1e-6, "%s gate: dQ/d(beta0, beta1, log tau) == central differences (max rel err %.2g)", NAME[a],
           maxrel);
        double dmax = 0;
        for (double u = -3.17; u < 3.2; u += 0.731) {
            double d, h = 1e-6, fd = (smx_moe_act((smx_moe_act_t)a, u + h, NULL) - smx_moe_act((smx_moe_act_t)a, u - h, NULL)) / (2 * h);
            smx_moe_act((smx_moe_act_t)a, u, &d);
            dmax = fmax(dmax, fabs(d - fd));
        }
        ok(dmax <= 1e-8, "%s: act' == central differences (max err %.2g)", NAME[a], dmax);
    }
    gsl_rng_free(g);
    smx_moe_free(&m);
}

/* truth of `smx-moe gates`: paper (a)'s experts, gate beta1* = 2.5, tau* = 0.1 */
static void gates_truth(smx_moe_t *m, smx_moe_act_t act)
{
    smx_moe_paper_truth(m);
    m->beta1[0] = 2.5;
    m->beta0[0] = act == SMX_MOE_ACT_SIGMOID ? -3 : -8;
}

static void test_em(void)
{
    const size_t n = 4000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), trace[61];
    smx_moe_em_t *w = smx_moe_em_alloc(n, 2, 1);
    smx_moe_em_opts_t o;
    smx_moe_em_opts_default(&o);
    for (int a = 0; a < 3; a++) {
        smx_moe_t tr, fit;
        gates_truth(&tr, (smx_moe_act_t)a);
        smx_moe_alloc(&fit, 2, 1);
        gsl_rng *g = smx_rng_alloc(9001 + (unsigned long)a);
        smx_moe_tgate_sample(x, y, &tr, 0.1, (smx_moe_act_t)a, n, SMX_MOE_DESIGN_UNIFORM, g);
        /* a poor start: the EM must climb */
        smx_moe_copy(&fit, &tr);
        fit.beta0[0] = -6.3, fit.beta1[0] = 1.9, fit.b[0] = 14.1, fit.a[0] = -18.7, fit.var[0] = 0.21;
        fit.b[1] = -4.2, fit.a[1] = 18.9, fit.var[1] = 0.27;
        double tau = 0.137;
        o.max_iter = 60, o.tol = 0;
        smx_moe_em_result_t res;
        int st = smx_moe_tgate_em(&res, trace, &fit, &tau, (smx_moe_act_t)a, w, x, y, n, &o);
        double worst = 0;
        for (int t = 1; t <= res.iterations; t++) worst = fmax(worst, trace[t - 1] - trace[t]);
        ok(!st && res.iterations >= 5 && worst <= 1e-9 * fabs(trace[res.iterations]) &&
               trace[res.iterations] > trace[0] + 100,
           "%s gate: EM log-likelihood never decreases over %d iterations (largest drop %.2g; %.6g -> %.6g)", NAME[a],
           res.iterations, worst, trace[0], trace[res.iterations]);
        if (a) { /* activation gates: tau identifiable */
            ok(fabs(tau - 0.1) <= 0.02 && fabs(fit.a[1] - 20) <= 0.3,
               "%s gate, n = %zu: tau = %.4f (tau* = 0.1, tol 0.02), a_2 = %.4f (20, tol 0.3)", NAME[a], n, tau, fit.a[1]);
        } else { /* identity: only the ratio beta1/tau is identified */
            ok(fabs(fit.beta1[0] / tau - 25) <= 2.5, "identity gate, n = %zu: beta1/tau = %.4g (25, tol 2.5)", n,
               fit.beta1[0] / tau);
        }
        gsl_rng_free(g);
        smx_moe_free(&tr);
        smx_moe_free(&fit);
    }
    smx_moe_t m;
    smx_moe_paper_truth(&m);
    double tau = -1;
    smx_moe_em_result_t res;
    ok(smx_moe_tgate_em(&res, NULL, &m, &tau, SMX_MOE_ACT_TANH, w, x, y, n, &o) == SMX_EDOM, "tau <= 0 -> SMX_EDOM");
    ok(smx_moe_tgate_sample(x, y, &m, 0, SMX_MOE_ACT_TANH, n, SMX_MOE_DESIGN_UNIFORM, NULL) == SMX_EDOM,
       "sample with tau = 0 -> SMX_EDOM");
    smx_moe_free(&m);
    smx_moe_em_free(w);
    free(x);
    free(y);
}

static void test_mult(void)
{
    const size_t n = 20000;
    double *x = malloc(n * sizeof *x), *gx = malloc(n * sizeof *gx), *y = malloc(n * sizeof *y), trace[2001];
    smx_moe_t m, fit;
    smx_moe_alloc(&m, 2, 1);
    m.beta0[0] = -1.385, m.beta1[0] = 2.718, m.b[0] = 0.731, m.a[0] = -1.913, m.var[0] = 1;
    m.b[1] = 0.731, m.a[1] = -1.913, m.var[1] = 1; /* equal experts: P(y|x) = logistic(b + a x) */
    gsl_rng *g = smx_rng_alloc(31337);
    smx_moe_mult_sample(x, y, &m, SMX_MOE_GATE_SOFTMAX, 500, g);
    smx_moe_mult_gate_input(gx, x, 500, 1, SMX_MOE_GATE_MODIFIED);
    double want = 0, emax = 0;
    int bin = 1;
    for (size_t j = 0; j < 500; j++) {
        double t = 0.731 - 1.913 * x[j], p = 1 / (1 + exp(-t));
        want += y[j] ? log(p) : log1p(-p);
        bin &= y[j] == 0 || y[j] == 1;
        emax = fmax(emax, fabs(gx[j] - tanh(x[j])));
    }
    double got = smx_moe_mult_loglik(&m, x, gx, y, 500);
    ok_rel(got, want, 1e-12, "equal logistic experts: mixture loglik %.12g == logistic loglik %.12g", got, want);
    ok(bin && emax == 0, "y in {0, 1}; modified gate input == tanh(x)");
    smx_moe_em_t *w = smx_moe_em_alloc(n, 2, 1);
    smx_moe_em_opts_t o;
    smx_moe_em_opts_default(&o);
    smx_moe_alloc(&fit, 2, 1);
    for (int gt = 0; gt < 2; gt++) {
        m.beta0[0] = -4, m.beta1[0] = 8, m.b[0] = -1, m.a[0] = 0; /* `smx-moe multinomial`'s truth */
        m.b[1] = 3, m.a[1] = -6;
        smx_moe_mult_sample(x, y, &m, (smx_moe_mgate_t)gt, n, g);
        smx_moe_mult_gate_input(gx, x, n, 1, (smx_moe_mgate_t)gt);
        smx_moe_copy(&fit, &m);
        fit.beta0[0] = -3.1, fit.beta1[0] = 6.7, fit.b[0] = -0.6, fit.a[0] = 0.4, fit.b[1] = 2.5, fit.a[1] = -5.1;
        smx_moe_em_result_t res;
        int st = smx_moe_mult_em(&res, trace, &fit, w, x, gx, y, n, &o);
        double worst = 0;
        for (int t = 1; t <= res.iterations; t++) worst = fmax(worst, trace[t - 1] - trace[t]);
        ok(!st && res.converged && worst <= 1e-9 * fabs(trace[res.iterations]) && trace[res.iterations] > trace[0],
           "%s gate: logistic-expert EM monotone over %d iterations (largest drop %.2g)", gt ? "modified" : "softmax",
           res.iterations, worst);
        /* the same maximum from the truth itself, and a likelihood at least the truth's */
        smx_moe_t f2;
        smx_moe_alloc(&f2, 2, 1);
        smx_moe_copy(&f2, &m);
        smx_moe_em_result_t r2;
        smx_moe_mult_em(&r2, NULL, &f2, w, x, gx, y, n, &o);
        double lt = smx_moe_mult_loglik(&m, x, gx, y, n);
        smx_moe_voronoi_t v;
        double zero[2] = {0, 0};
        smx_moe_voronoi(&v, &f2, &fit, zero, 0);
        /* not claimed: the same point (the likelihood is flat along weakly identified directions: with
         * --tol 1e-11 neither run converges in 2000 iterations and the two fits drift apart, D1 2.5 - 3.9) */
        ok(res.loglik >= lt && r2.loglik >= lt,
           "%s gate, n = %zu: loglik %.10g (poor start) and %.10g (from the truth) >= the truth's %.10g; D1 apart %.2g",
           gt ? "modified" : "softmax", n, res.loglik, r2.loglik, lt, v.D);
        smx_moe_free(&f2);
    }
    gsl_rng_free(g);
    smx_moe_em_free(w);
    smx_moe_free(&m);
    smx_moe_free(&fit);
    free(x);
    free(gx);
    free(y);
}

int main(void)
{
    test_identity_is_softmax();
    test_gradient();
    test_em();
    test_mult();
    return tap_done();
}
