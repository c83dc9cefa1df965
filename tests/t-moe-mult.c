/* t-moe-mult.c - multinomial-logistic experts with S classes (solvers/moe_mult.c smx_moe_mults_*, issue 13
 * --classes S, paper (d)): S = 2 of the general code equals the binary-logistic code (log-likelihood,
 * EM estimate); two equal experts give the plain multinomial-logistic likelihood (closed form); EM never
 * decreases the log-likelihood for S = 3; the S-class D1 equals paper (a)'s smx_moe_voronoi D1 at S = 2;
 * recovery of the S = 3 truth at n = 40000 (modified gate) within the n^-1/2 rate's tolerance, and the
 * fit's likelihood above the truth's. */
#include "moe_mult.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void truth2(smx_moe_t *m)
{
    smx_moe_alloc(m, 2, 1);
    m->beta0[0] = -3.85, m->beta1[0] = 7.385, m->b[0] = -1.173, m->a[0] = 0.617, m->var[0] = 1;
    m->beta0[1] = 0, m->beta1[1] = 0, m->b[1] = 2.915, m->a[1] = -5.77, m->var[1] = 1;
}

int main(void)
{
    const size_t n = 3000, S3 = 3;
    smx_moe_t m, f1, f2;
    truth2(&m);
    truth2(&f1);
    truth2(&f2);
    double *x = malloc(40000 * sizeof *x), *gx = malloc(40000 * sizeof *gx), *y = malloc(40000 * sizeof *y);
    double th2[4] = {m.b[0], m.a[0], m.b[1], m.a[1]};
    gsl_rng *r = smx_rng_alloc(2385);
    smx_moe_mult_sample(x, y, &m, SMX_MOE_GATE_MODIFIED, n, r);
    smx_moe_mult_gate_input(gx, x, n, 1, SMX_MOE_GATE_MODIFIED);
    /* S = 2: the general code == the binary code */
    double l1 = smx_moe_mult_loglik(&m, x, gx, y, n), l2 = smx_moe_mults_loglik(&m, th2, 2, x, gx, y, n);
    ok_rel(l2, l1, 1e-13, "S = 2: general log-likelihood %.15g == binary %.15g", l2, l1);
    smx_moe_em_opts_t o;
    smx_moe_em_opts_default(&o);
    smx_moe_em_t *w = smx_moe_em_alloc(40000, 2, 1);
    f1.beta0[0] += 0.31, f1.beta1[0] -= 0.57, f1.b[0] += 0.23, f1.a[0] -= 0.41, f1.b[1] -= 0.19, f1.a[1] += 0.37;
    smx_moe_copy(&f2, &f1);
    double th[4] = {f2.b[0], f2.a[0], f2.b[1], f2.a[1]};
    smx_moe_em_result_t r1, r2;
    smx_moe_mult_em(&r1, NULL, &f1, w, x, gx, y, n, &o);
    smx_moe_mults_em(&r2, NULL, &f2, th, 2, w, x, gx, y, n, &o);
    double dp = fmax(fmax(fabs(th[0] - f1.b[0]), fabs(th[1] - f1.a[0])), fmax(fabs(th[2] - f1.b[1]), fabs(th[3] - f1.a[1])));
    dp = fmax(dp, fmax(fabs(f1.beta0[0] - f2.beta0[0]), fabs(f1.beta1[0] - f2.beta1[0])));
    ok_rel(r2.loglik, r1.loglik, 1e-10, "S = 2: general EM log-likelihood %.15g == binary EM %.15g", r2.loglik, r1.loglik);
    ok(dp < 1e-6 && r1.iterations == r2.iterations, "S = 2: general EM estimate == binary EM estimate (max |d| %.2g, %d / %d iterations)",
       dp, r1.iterations, r2.iterations);
    /* D1 at S = 2 == paper (a)'s D1 (no translation) */
    double err[16][3], zero[2] = {0, 0};
    smx_moe_voronoi_t v;
    smx_moe_voronoi(&v, &m, &f1, zero, 0);
    double D = smx_moe_mults_d1(err, &m, th2, &f1, (double[]){f1.b[0], f1.a[0], f1.b[1], f1.a[1]}, 2);
    ok_rel(D, v.D, 1e-14, "S = 2: multinomial D1 %.15g == smx_moe_voronoi D1 %.15g", D, v.D);
    double de = 0;
    for (int j = 0; j < 2; j++)
        for (int q = 0; q < 3; q++) de = fmax(de, fabs(err[j][q] - v.err[j][q]));
    ok(de <= 1e-15, "S = 2: per-cell errors (beta1, a, b) == smx_moe_voronoi's (max |d| %.2g)", de);
    /* S = 3, two equal experts: P(y|x) = softmax_y(eta(x)) whatever the gate (closed form) */
    double th3[8] = {0.45, -1.2, -0.8, 2.1, 0.45, -1.2, -0.8, 2.1}, want = 0;
    smx_moe_mults_sample(x, y, &m, th3, S3, SMX_MOE_GATE_SOFTMAX, 500, r);
    int range = 1;
    for (size_t j = 0; j < 500; j++) {
        double e1 = 0.45 - 1.2 * x[j], e2 = -0.8 + 2.1 * x[j], ey = y[j] == 0 ? 0 : y[j] == 1 ? e1 : e2;
        want += ey - log(1 + exp(e1) + exp(e2));
        range &= y[j] == 0 || y[j] == 1 || y[j] == 2;
    }
    ok(range, "S = 3 draws are classes 0, 1, 2");
    smx_moe_mult_gate_input(gx, x, 500, 1, SMX_MOE_GATE_SOFTMAX);
    double got = smx_moe_mults_loglik(&m, th3, S3, x, gx, y, 500);
    ok_rel(got, want, 1e-12, "S = 3, equal experts: log-likelihood %.15g == closed form %.15g", got, want);
    /* S = 3 truth: EM monotone, recovery at n = 40000 */
    double tt[8] = {-1.173, 0.617, 0.5, -1, 2.915, -5.77, -1, 2}, f3[8];
    const size_t N = 40000;
    smx_moe_mults_sample(x, y, &m, tt, S3, SMX_MOE_GATE_MODIFIED, N, r);
    smx_moe_mult_gate_input(gx, x, N, 1, SMX_MOE_GATE_MODIFIED);
    for (size_t u = 0; u < 8; u++) f3[u] = tt[u] + gsl_ran_gaussian(r, 0.3);
    smx_moe_copy(&f1, &m);
    f1.beta0[0] += 0.4, f1.beta1[0] -= 0.8;
    double *trace = malloc((size_t)(o.max_iter + 1) * sizeof *trace), drop = 0;
    smx_moe_mults_em(&r1, trace, &f1, f3, S3, w, x, gx, y, N, &o);
    for (int i = 1; i <= r1.iterations; i++) drop = fmax(drop, (trace[i - 1] - trace[i]) / fabs(trace[i]));
    ok(drop <= 1e-12 && r1.iterations > 2, "S = 3: EM log-likelihood never decreases (%d iterations, max relative drop %.2g)",
       r1.iterations, drop);
    double lt = smx_moe_mults_loglik(&m, tt, S3, x, gx, y, N);
    ok(r1.loglik >= lt, "S = 3: fitted log-likelihood %.10g >= the truth's %.10g", r1.loglik, lt);
    /* recovery: smx-moe's S = 3 truth (sweep --experts multinomial --classes 3 --gate modified), 4 fits
     * per n from perturbed starts; D1 ~ C n^-1/2: the mean at n = 40000 below 0.5 and below a third of the
     * mean at n = 2000 (n^-1/2 predicts sqrt(20) = 4.5; measured sweep slope about -0.65) */
    smx_moe_t mt;
    truth2(&mt);
    mt.beta0[0] = -4, mt.beta1[0] = 8, mt.b[0] = -1, mt.a[0] = 0, mt.b[1] = 3, mt.a[1] = -6;
    double ts[8] = {-1, 0, 0.5, -1, 3, -6, -1, 2}, mean[2] = {0, 0};
    for (int q = 0; q < 2; q++)
        for (int rep = 0; rep < 4; rep++) {
            size_t nn = q ? 40000 : 2000;
            smx_moe_mults_sample(x, y, &mt, ts, S3, SMX_MOE_GATE_MODIFIED, nn, r);
            smx_moe_mult_gate_input(gx, x, nn, 1, SMX_MOE_GATE_MODIFIED);
            smx_moe_copy(&f1, &mt);
            f1.beta0[0] += gsl_ran_gaussian(r, 0.2), f1.beta1[0] += gsl_ran_gaussian(r, 0.2);
            for (size_t u = 0; u < 8; u++) f3[u] = ts[u] + gsl_ran_gaussian(r, 0.1);
            smx_moe_mults_em(&r1, NULL, &f1, f3, S3, w, x, gx, y, nn, &o);
            mean[q] += smx_moe_mults_d1(err, &mt, ts, &f1, f3, S3) / 4;
        }
    ok(mean[1] < 0.5 && mean[1] < mean[0] / 3, "S = 3 recovery: mean D1 %.3g at n = 2000, %.3g at n = 40000 (< 0.5 and < 1/3)",
       mean[0], mean[1]);
    smx_moe_free(&mt);
    ok(smx_moe_mults_em(&r1, NULL, &f1, f3, 9, w, x, gx, y, 10, &o) == SMX_EDOM, "S = 9 > 8 rejected (SMX_EDOM)");
    y[3] = 3;
    ok(smx_moe_mults_em(&r1, NULL, &f1, f3, S3, w, x, gx, y, 10, &o) == SMX_EDOM, "a label >= S rejected (SMX_EDOM)");
    free(trace), free(x), free(gx), free(y);
    smx_moe_em_free(w);
    smx_moe_free(&m), smx_moe_free(&f1), smx_moe_free(&f2);
    gsl_rng_free(r);
    return tap_done();
}
