/* t-moe-hellinger.c - the empirical Hellinger distance of the Gaussian MoE (solvers/moe_loss.c
 * smx_moe_hellinger, issue 13): 0 at the truth; closed form for experts that differ only by a shift of the
 * mean (H^2(x) = 1 - exp(-(db + da.x)^2 / (8 var))) for d = 1 (midpoint rule) and d = 2 (Sobol
 * quasi-Monte Carlo, against a 1000 x 1000 midpoint quadrature of the closed form); a d = 2 model whose
 * second coordinate is inert equals the d = 1 model; mismatched d gives NaN. */
#include "moe.h"
#include "smx.h"
#include "tap.h"

#include <math.h>
#include <string.h>

/* k = 2 experts in dimension d: gates (g0, g1.x), (0, 0); both experts (b, a, var) unless shifted */
static void two(smx_moe_t *m, size_t d, const double *g1, double b, const double *a, double var)
{
    smx_moe_alloc(m, 2, d);
    m->beta0[0] = -0.731, m->beta0[1] = 0;
    for (size_t c = 0; c < d; c++) m->beta1[c] = g1[c], m->beta1[d + c] = 0, m->a[c] = m->a[d + c] = a[c];
    m->b[0] = m->b[1] = b;
    m->var[0] = m->var[1] = var;
}

int main(void)
{
    const double g1[2] = {2.385, -1.173}, a[2] = {-0.73, 0.41}, var = 0.31, db = 0.4, da[2] = {0.6, -0.9};
    smx_moe_t t1, f1, t2, f2;
    two(&t1, 1, g1, 1.385, a, var);
    two(&f1, 1, g1, 1.385 + db, a, var);
    double h = smx_moe_hellinger(&t1, &t1, 50);
    ok(h == 0, "H(truth, truth) = 0 (%g)", h);
    double want = sqrt(1 - exp(-db * db / (8 * var)));
    h = smx_moe_hellinger(&t1, &f1, 50);
    ok_rel(h, want, 1e-6, "d = 1, mean shifted by %.2f: H = %.10g, closed form %.10g", db, h, want);
    /* d = 2, shift db + da.x: E_x over U(0,1)^2 by a 1000 x 1000 midpoint rule of the closed form */
    two(&t2, 2, g1, 1.385, a, var);
    double a2[2] = {a[0] + da[0], a[1] + da[1]};
    two(&f2, 2, g1, 1.385 + db, a2, var);
    double acc = 0;
    for (int i = 0; i < 1000; i++)
        for (int j = 0; j < 1000; j++) {
            double x0 = (i + 0.5) / 1000, x1 = (j + 0.5) / 1000, s = db + da[0] * x0 + da[1] * x1;
            acc += 1 - exp(-s * s / (8 * var));
        }
    want = sqrt(acc / 1e6);
    h = smx_moe_hellinger(&t2, &f2, 1024);
    ok_rel(h, want, 2e-3, "d = 2, shift db + da.x: H (1024 Sobol points) = %.8g, quadrature %.8g", h, want);
    /* d = 2 with an inert second coordinate == d = 1 (paper (a)'s truth against a perturbed fit) */
    smx_moe_t p1, q1, p2, q2;
    smx_moe_paper_truth(&p1);
    smx_moe_paper_truth(&q1);
    q1.beta0[0] += 0.37, q1.beta1[0] -= 1.9, q1.b[0] += 0.21, q1.a[1] -= 0.33, q1.var[1] *= 1.4;
    smx_moe_alloc(&p2, 2, 2);
    smx_moe_alloc(&q2, 2, 2);
    for (int side = 0; side < 2; side++) {
        smx_moe_t *s1 = side ? &q1 : &p1, *s2 = side ? &q2 : &p2;
        for (size_t i = 0; i < 2; i++) {
            s2->beta0[i] = s1->beta0[i], s2->b[i] = s1->b[i], s2->var[i] = s1->var[i];
            s2->beta1[2 * i] = s1->beta1[i], s2->beta1[2 * i + 1] = 0;
            s2->a[2 * i] = s1->a[i], s2->a[2 * i + 1] = 0;
        }
    }
    double h1 = smx_moe_hellinger(&p1, &q1, 2000), h2 = smx_moe_hellinger(&p2, &q2, 2048);
    ok_rel(h2, h1, 2e-3, "d = 2 with an inert coordinate: H = %.8g (Sobol), d = 1: %.8g (midpoint)", h2, h1);
    ok(h1 > 0.01 && h1 < 1, "paper (a) truth vs a perturbed fit: 0 < H = %.4g < 1", h1);
    ok(isnan(smx_moe_hellinger(&p1, &q2, 50)), "truth d = 1, fit d = 2: NaN");
    ok(isnan(smx_moe_hellinger(&p1, &q1, 0)), "M = 0: NaN");
    smx_moe_free(&t1), smx_moe_free(&f1), smx_moe_free(&t2), smx_moe_free(&f2);
    smx_moe_free(&p1), smx_moe_free(&q1), smx_moe_free(&p2), smx_moe_free(&q2);
    return tap_done();
}
