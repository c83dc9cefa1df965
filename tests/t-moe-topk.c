/* t-moe-topk.c - top-K sparse softmax gate (solvers/moe_topk.c, issue 13 part 3, paper (b)): exactly zero
 * weight outside the K largest logits (checked against a sort of the logits), the rest a softmax over the
 * set (sums to 1, ratios e^{eta_i - eta_l}), K = k equals the dense gate, and the EM (k = 2, K = 1) recovering
 * the truth's reference expert at n = 20000. */
#include "moe_topk.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <string.h>

static void test_gate(void)
{
    smx_moe_t m;
    smx_moe_alloc(&m, 6, 2);
    gsl_rng *g = smx_rng_alloc(2385);
    int bad_zero = 0, bad_sum = 0, bad_ratio = 0, bad_dense = 0;
    for (int trial = 0; trial < 200; trial++) {
        for (size_t i = 0; i < 6; i++) {
            m.beta0[i] = gsl_ran_gaussian(g, 2.385);
            m.beta1[2 * i] = gsl_ran_gaussian(g, 3.1), m.beta1[2 * i + 1] = gsl_ran_gaussian(g, 3.1);
        }
        double x[2] = {gsl_rng_uniform(g), gsl_rng_uniform(g)}, eta[6], srt[6];
        for (size_t i = 0; i < 6; i++) srt[i] = eta[i] = m.beta0[i] + m.beta1[2 * i] * x[0] + m.beta1[2 * i + 1] * x[1];
        gsl_sort(srt, 1, 6);
        for (size_t K = 1; K <= 6; K++) {
            double lp[6], s = 0, thr = srt[6 - K];
            smx_moe_topk_log_gate(lp, &m, K, x);
            for (size_t i = 0; i < 6; i++) {
                if ((eta[i] >= thr) != (lp[i] > -INFINITY) || (lp[i] == -INFINITY && exp(lp[i]) != 0)) bad_zero++;
                s += exp(lp[i]);
                for (size_t l = 0; l < 6; l++)
                    if (lp[i] > -INFINITY && lp[l] > -INFINITY && fabs((lp[i] - lp[l]) - (eta[i] - eta[l])) > 1e-12)
                        bad_ratio++;
            }
            if (fabs(s - 1) > 1e-14) bad_sum++;
            if (K == 6) {
                double ld[6];
                smx_moe_log_gate(ld, &m, x);
                for (size_t i = 0; i < 6; i++)
                    if (fabs(ld[i] - lp[i]) > 1e-14) bad_dense++;
            }
        }
    }
    ok(!bad_zero, "top-K gate: weight exactly 0 outside the K largest logits, > 0 inside (200 draws x K = 1..6; %d bad)",
       bad_zero);
    ok(!bad_sum && !bad_ratio, "top-K gate: sums to 1, log-ratios inside the set = logit differences");
    ok(!bad_dense, "top-K gate with K = k == the dense softmax gate");
    gsl_rng_free(g);
    smx_moe_free(&m);
}

static void test_em(void)
{
    const size_t n = 20000;
    smx_moe_t tr, fit;
    smx_moe_paper_truth(&tr);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    gsl_rng *g = smx_rng_alloc(4711);
    /* data from the top-1 gate: the expert with the larger logit (-8 + 25x vs 0) */
    for (size_t j = 0; j < n; j++) {
        x[j] = gsl_rng_uniform(g);
        size_t z = -8 + 25 * x[j] > 0 ? 0 : 1;
        y[j] = tr.b[z] + tr.a[z] * x[j] + gsl_ran_gaussian(g, sqrt(tr.var[z]));
    }
    smx_moe_alloc(&fit, 2, 1);
    smx_moe_init_near(&fit, &tr, n, SMX_MOE_INIT_INTENDED, g);
    fit.b[1] = -4.6, fit.a[1] = 19.3;
    smx_moe_em_t *w = smx_moe_em_alloc(n, 2, 1);
    smx_moe_em_opts_t o;
    smx_moe_em_opts_default(&o);
    smx_moe_em_result_t res;
    int st = smx_moe_topk_em(&res, NULL, &fit, 1, w, x, y, n, &o);
    double *r = smx_moe_em_resp(w), lt = smx_moe_topk_loglik(&tr, 1, x, y, n);
    int binary = 1; /* K = 1: the top-K posteriors are exactly 0 / 1 */
    for (size_t j = 0; j < n; j++) binary &= (r[2 * j] == 0 || r[2 * j] == 1) && r[2 * j] + r[2 * j + 1] == 1;
    ok(!st && res.converged && binary, "K = 1 EM converged in %d iterations; its posteriors exactly 0 / 1", res.iterations);
    ok(fabs(fit.b[1] + 5) <= 0.05 && fabs(fit.a[1] - 20) <= 0.1 && fabs(fit.var[1] - 0.16) <= 0.01 &&
           fabs(fit.b[0] - 15) <= 0.1 && fabs(fit.a[0] + 20) <= 0.2,
       "K = 1, n = %zu: experts (%.4f, %.4f, %.4f), (%.4f, %.4f, %.4f) near (15, -20, 0.09), (-5, 20, 0.16)", n,
       fit.b[0], fit.a[0], fit.var[0], fit.b[1], fit.a[1], fit.var[1]);
    ok(fabs(-fit.beta0[0] / fit.beta1[0] - 0.32) <= 0.01 && res.loglik >= lt - 1,
       "K = 1: fitted switch point -beta0/beta1 = %.4f (0.32); loglik %.8g vs the truth's %.8g", -fit.beta0[0] / fit.beta1[0],
       res.loglik, lt);
    ok(smx_moe_topk_em(&res, NULL, &fit, 3, w, x, y, n, &o) == SMX_EDOM && smx_moe_topk_em(&res, NULL, &fit, 0, w, x, y, n, &o) == SMX_EDOM,
       "K = 0 and K > k -> SMX_EDOM");
    gsl_rng_free(g);
    smx_moe_em_free(w);
    smx_moe_free(&tr);
    smx_moe_free(&fit);
    free(x);
    free(y);
}

int main(void)
{
    test_gate();
    test_em();
    return tap_done();
}
