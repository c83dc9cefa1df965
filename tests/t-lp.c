/* t-lp.c - solvers/lp: the Chebyshev-centre LP and exact certificates on hand-built heads (a point inside
 * the convex hull of others is certified unargmaxable and the certificate holds in GMP rationals; a vertex
 * is argmaxable; a bias tie sits exactly at r* = 0 and is decided exactly both ways: certificate at the tie,
 * rational witness one ulp above it), the approximate pass
 * (its witnesses hold exactly), prevention (unit-norm rows, b_i = -||w_i||^2/2: 0 unargmaxable, witnesses
 * checked exactly), the LP with and without the approximate pass agreeing on random heads, error paths. */
#include "bottleneck_cmds.h"
#include "lp.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <glpk.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* rows: a, b, c, d, e and (index 5) p = a/2 + b/4 + c/4, dyadic so p is exact */
static double W[6 * 2] = {2.375, -1.25, -1.5, 2.125, -0.75, -2.5, 3.5, 3.25, -3.125, 0.5, 0.625, -0.71875};

static int unarg(const double *Wm, const double *b, size_t v, size_t d, size_t i, smx_lp_cheb_result_t *q)
{
    smx_lp_cheb_t *w = smx_lp_cheb_alloc(v, d);
    int st = smx_lp_cheb_solve(q, NULL, w, Wm, b, v, d, i, 100, 1e-6);
    smx_lp_cheb_free(w);
    return st ? -1 : !q->argmaxable;
}

int main(void)
{
    smx_lp_cheb_result_t q;
    /* 1. the hand-built interior point */
    int u = unarg(W, NULL, 6, 2, 5, &q);
    ok(u == 1 && q.certified && q.exact, "no bias: interior point p certified unargmaxable (r* = %g)", q.r);
    {
        size_t S[3] = {0, 1, 2};
        mpq_t lam[3];
        for (int k = 0; k < 3; k++) mpq_init(lam[k]);
        mpq_set_ui(lam[0], 1, 2), mpq_set_ui(lam[1], 1, 4), mpq_set_ui(lam[2], 1, 4);
        ok(smx_lp_hull_verify((const mpq_t *)lam, W, NULL, 6, 2, 5, S, 3), "rational check: p = a/2 + b/4 + c/4");
        mpq_set_ui(lam[2], 1, 3);
        ok(!smx_lp_hull_verify((const mpq_t *)lam, W, NULL, 6, 2, 5, S, 3), "rational check rejects lambda summing "
           "to 13/12");
        mpq_set_ui(lam[2], 1, 4);
        double Wp[12];
        memcpy(Wp, W, sizeof W);
        Wp[10] = nextafter(0.625, 1); /* p moved by one ulp: still inside, but not a/2 + b/4 + c/4 */
        ok(!smx_lp_hull_verify((const mpq_t *)lam, Wp, NULL, 6, 2, 5, S, 3), "rational check: one ulp off p "
           "breaks the old certificate (the check is exact)");
        ok(unarg(Wp, NULL, 6, 2, 5, &q) == 1 && q.certified, "one ulp off p: still certified unargmaxable (new "
           "lambda, exact)");
        /* the certificate the LP finds, recomputed and verified */
        size_t supp[6];
        smx_lp_cheb_t *w = smx_lp_cheb_alloc(6, 2);
        smx_lp_cheb_solve(&q, supp, w, W, NULL, 6, 2, 5, 100, 1e-6);
        mpq_t l2[6];
        for (size_t k = 0; k < q.nsupp; k++) mpq_init(l2[k]);
        int c = q.nsupp <= 3 && smx_lp_hull_certify(l2, W, NULL, 6, 2, 5, supp, q.nsupp);
        ok(c, "LP support (%zu indices) gives a certificate verified in rationals", q.nsupp);
        for (size_t k = 0; k < q.nsupp; k++) mpq_clear(l2[k]);
        smx_lp_cheb_free(w);
        for (int k = 0; k < 3; k++) mpq_clear(lam[k]);
    }
    for (size_t i = 0; i < 5; i++) {
        u = unarg(W, NULL, 6, 2, i, &q);
        ok(u == 0 && q.r > 1, "no bias: vertex %zu argmaxable, r* = %.4g > 1 (box 100)", i, q.r);
    }
    /* 2. bias: sum lambda_j b_j = 0.25 + 0.0625 - 0.1875 = 0.125; d, e far below */
    double b[6] = {0.5, 0.25, -0.75, -10, -10, 0.125};
    u = unarg(W, b, 6, 2, 5, &q);
    ok(u == 1 && q.certified, "bias tie b_p = lambda.b: unargmaxable, certified (r* = %g)", q.r);
    b[5] = nextafter(0.125, 1);
    u = unarg(W, b, 6, 2, 5, &q);
    ok(u == 0 && q.exact && !q.certified && fabs(q.r) < 1e-8, "b_p one ulp above the tie: argmaxable, proven by "
       "a rational witness (floating r* = %.3g is no use here)", q.r);
    b[5] = 0.124;
    ok(unarg(W, b, 6, 2, 5, &q) == 1 && q.certified, "b_p below the tie: unargmaxable, certified");
    b[5] = 1.5;
    u = unarg(W, b, 6, 2, 5, &q);
    ok(u == 0 && q.r > 1e-3, "b_p = 1.5: argmaxable, r* = %.4g", q.r);
    /* box: a class that wins only far out is unargmaxable in a small box */
    {
        double W1[3 * 1] = {1, 0, -1}, b1[3] = {-5, 0, -5};
        ok(unarg(W1, b1, 3, 1, 0, &q) == 0, "1-D, z_0 = x - 5 wins for x > 5 (box 100)");
        smx_lp_cheb_t *w = smx_lp_cheb_alloc(3, 1);
        smx_lp_cheb_solve(&q, NULL, w, W1, b1, 3, 1, 0, 4, 1e-6);
        ok(!q.argmaxable && !q.certified && !q.exact, "... unargmaxable in the box [-4, 4] (r* = %.4g), no hull "
           "certificate: decided in floating point", q.r);
        ok(smx_lp_cheb_solve(&q, NULL, w, W1, b1, 3, 1, 3, 4, 1e-6) == SMX_EDOM, "class index out of range: EDOM");
        ok(smx_lp_cheb_solve(&q, NULL, w, W1, b1, 3, 1, 0, 0, 1e-6) == SMX_EDOM, "box 0: EDOM");
        ok(smx_lp_cheb_solve(&q, NULL, w, W1, b1, 1, 1, 0, 4, 1e-6) == SMX_EDOM, "one class: EDOM");
        ok(smx_lp_cheb_solve(&q, NULL, w, W, b, 6, 2, 0, 4, 1e-6) == SMX_EDOM, "head larger than the workspace: EDOM");
        smx_lp_cheb_free(w);
    }
    /* 3. random heads: approximate witnesses hold exactly; LP with / without the approximate pass agree;
     * the certified count equals the unargmaxable count */
    gsl_rng *r = smx_rng_alloc(2385);
    const size_t v = 150, d = 4;
    double *Wr = malloc(v * d * sizeof *Wr), *br = malloc(v * sizeof *br), x[8];
    for (size_t j = 0; j < v * d; j++) Wr[j] = gsl_ran_gaussian(r, 1.0);
    for (size_t j = 0; j < v; j++) br[j] = gsl_ran_gaussian(r, 1.0);
    for (int bias = 0; bias < 2; bias++) {
        const double *bb = bias ? br : NULL;
        smx_lp_cheb_t *w = smx_lp_cheb_alloc(v, d);
        size_t agree = 0, wit = 0, nap = 0, un = 0, cert = 0;
        for (size_t i = 0; i < v; i++) {
            smx_lp_cheb_solve(&q, NULL, w, Wr, bb, v, d, i, 100, 1e-6);
            un += !q.argmaxable, cert += q.certified;
            if (bottleneck_argmax_approx(x, Wr, bb, v, d, i, 50)) {
                nap++;
                wit += smx_lp_witness_verify(x, Wr, bb, v, d, i);
                agree += q.argmaxable;
            } else
                agree += 1;
        }
        ok(nap > 10 && wit == nap, "%s: all %zu approximate-pass witnesses hold in rationals", bias ? "bias" : "no bias",
           nap);
        ok(agree == v, "%s: the LP agrees with every approximate-pass decision", bias ? "bias" : "no bias");
        ok(un > 30 && un < v && cert == un, "%s: %zu of %zu unargmaxable (d = 4), all certified exactly",
           bias ? "bias" : "no bias", un, v);
        smx_lp_cheb_free(w);
    }
    /* 3b. constraint generation (the default) against the full LP on random heads: normal / uniform, with /
     * without bias, several (v, d); same decisions, same exact / certified flags, r* to 1e-7 (GLPK's
     * tolerance); V = 400 at d = 2 and 6 makes the working set (4 (d + 1) rows a round) a small part */
    {
        static const size_t vs[] = {60, 400, 400, 250}, ds[] = {3, 2, 6, 12};
        size_t same = 0, total = 0, rsame = 0, nun = 0, fewer = 0;
        double rdmax = 0;
        for (size_t c = 0; c < 4; c++)
            for (int dist = 0; dist < 2; dist++)
                for (int bias = 0; bias < 2; bias++) {
                    size_t vv = vs[c], dd = ds[c];
                    double *Wc = malloc(vv * dd * sizeof *Wc), *bc = malloc(vv * sizeof *bc);
                    for (size_t j = 0; j < vv * dd; j++) Wc[j] = dist ? gsl_ran_flat(r, -1, 1) : gsl_ran_gaussian(r, 1.0);
                    for (size_t j = 0; j < vv; j++) bc[j] = dist ? gsl_ran_flat(r, -1, 1) : gsl_ran_gaussian(r, 2.385);
                    smx_lp_cheb_t *wf = smx_lp_cheb_alloc(vv, dd), *wc = smx_lp_cheb_alloc(vv, dd);
                    smx_lp_cheb_set_full(wf, 1);
                    for (size_t i = 0; i < vv; i += 1 + (vv > 100)) {
                        smx_lp_cheb_result_t qf, qc;
                        int s1 = smx_lp_cheb_solve(&qf, NULL, wf, Wc, bias ? bc : NULL, vv, dd, i, 100, 1e-6);
                        int s2 = smx_lp_cheb_solve(&qc, NULL, wc, Wc, bias ? bc : NULL, vv, dd, i, 100, 1e-6);
                        total++;
                        same += !s1 && !s2 && qf.argmaxable == qc.argmaxable && qf.exact == qc.exact &&
                                qf.certified == qc.certified;
                        double rd = fabs(qf.r - qc.r) / (1 + fabs(qf.r));
                        rdmax = fmax(rdmax, rd);
                        rsame += rd <= 1e-7;
                        nun += !qf.argmaxable;
                        fewer += smx_lp_cheb_rows(wc) < smx_lp_cheb_rows(wf);
                    }
                    smx_lp_cheb_free(wf), smx_lp_cheb_free(wc);
                    free(Wc), free(bc);
                }
        ok(total > 1000 && same == total, "constraint generation vs full LP: same decision and exact/certified flags "
           "for %zu of %zu classes (%zu unargmaxable)", same, total, nun);
        ok(rsame == total, "... r* agrees to 1e-7 relative for %zu of %zu (max %.2g)", rsame, total, rdmax);
        ok(fewer > total / 2, "... with fewer LP rows for %zu of %zu classes", fewer, total);
    }
    /* the hand-built heads through the full LP as well */
    {
        double bh[6] = {0.5, 0.25, -0.75, -10, -10, 0.125};
        smx_lp_cheb_t *wf = smx_lp_cheb_alloc(6, 2), *wc = smx_lp_cheb_alloc(6, 2);
        smx_lp_cheb_set_full(wf, 1);
        size_t same = 0, total = 0;
        for (int bias = 0; bias < 3; bias++) {
            if (bias == 2) bh[5] = nextafter(0.125, 1);
            for (size_t i = 0; i < 6; i++) {
                smx_lp_cheb_result_t qf, qc;
                smx_lp_cheb_solve(&qf, NULL, wf, W, bias ? bh : NULL, 6, 2, i, 100, 1e-6);
                smx_lp_cheb_solve(&qc, NULL, wc, W, bias ? bh : NULL, 6, 2, i, 100, 1e-6);
                total++, same += qf.argmaxable == qc.argmaxable && qf.exact == qc.exact &&
                                 qf.certified == qc.certified && fabs(qf.r - qc.r) <= 1e-9 * (1 + fabs(qf.r));
            }
        }
        ok(same == total, "hand-built heads (no bias, the tie, one ulp above): full LP = constraint generation, "
           "%zu of %zu", same, total);
        smx_lp_cheb_free(wf), smx_lp_cheb_free(wc);
    }
    /* 4. prevention: unit-norm rows without bias; b_i = -||w_i||^2/2 */
    for (int mode = 0; mode < 2; mode++) {
        double *Wm = malloc(v * d * sizeof *Wm);
        for (size_t j = 0; j < v; j++) {
            double n2 = 0;
            for (size_t k = 0; k < d; k++) n2 += Wr[j * d + k] * Wr[j * d + k];
            for (size_t k = 0; k < d; k++) Wm[j * d + k] = mode == 0 ? Wr[j * d + k] / sqrt(n2) : Wr[j * d + k];
            br[j] = -0.5 * n2;
        }
        size_t good = 0;
        for (size_t i = 0; i < v; i++)
            good += bottleneck_argmax_approx(x, Wm, mode ? br : NULL, v, d, i, 0) &&
                    smx_lp_witness_verify(x, Wm, mode ? br : NULL, v, d, i);
        ok(good == v, "%s: every class argmaxable at x = w_i, checked in rationals (%zu of %zu)",
           mode ? "b_i = -||w_i||^2/2" : "unit-norm rows, no bias", good, v);
        free(Wm);
    }
    /* 5. BAT: V = 3, d = 1 against the closed form (p_i = 0 leaves a 2-point system: the two other masses are
     * fixed by sum p = 1 and w.p = w.phat; feasible iff both lie in [0, phat_j / (1 - tau)]) */
    {
        double w3[3] = {2.385, -0.5, -1.7}, tau = 0.05;
        size_t agree = 0, total = 0, acc_low = 0;
        for (int k = 0; k <= 80; k++) {
            double x = -4 + 0.1 * k, p3[3], m = 0;
            for (int j = 0; j < 3; j++) p3[j] = exp(x * w3[j]), m += p3[j];
            for (int j = 0; j < 3; j++) p3[j] /= m;
            double wp = w3[0] * p3[0] + w3[1] * p3[1] + w3[2] * p3[2];
            for (int i = 0; i < 3; i++) {
                int a = (i + 1) % 3, c = (i + 2) % 3, acc;
                double pa = (wp - w3[c]) / (w3[a] - w3[c]), pc = 1 - pa;
                /* margins far from the GLPK tolerance only */
                double ma = fmin(pa, p3[a] / (1 - tau) - pa), mc = fmin(pc, p3[c] / (1 - tau) - pc);
                if (fabs(fmin(ma, mc)) < 1e-6) continue;
                int feas = ma >= 0 && mc >= 0;
                smx_lp_bat_accept(&acc, w3, p3, 3, 1, (size_t)i, tau);
                total++, agree += acc == !feas, acc_low += acc && p3[i] < tau;
            }
        }
        ok(total > 200 && agree == total, "BAT V = 3, d = 1: LP agrees with the closed form at %zu of %zu (token, x)",
           agree, total);
        ok(acc_low > 10, "BAT keeps %zu below-threshold tokens that threshold sampling drops", acc_low);
        int acc;
        ok(smx_lp_bat_accept(&acc, w3, w3, 3, 1, 0, 1.0) == SMX_EDOM && smx_lp_bat_accept(&acc, w3, w3, 3, 1, 3, 0.1) ==
           SMX_EDOM, "BAT: tau = 1 and i >= V give EDOM");
    }
    {
        const size_t vv = 20, dd = 3;
        double *Wb = malloc(vv * vv * sizeof *Wb), ph[20], m = 0;
        for (size_t j = 0; j < vv * dd; j++) Wb[j] = gsl_ran_gaussian(r, 1.0);
        for (size_t j = 0; j < vv; j++) ph[j] = exp(2 * gsl_ran_gaussian(r, 1.0)), m += ph[j];
        for (size_t j = 0; j < vv; j++) ph[j] /= m;
        size_t hi = 0, hiacc = 0, all = 0;
        for (size_t i = 0; i < vv; i++) {
            int acc;
            smx_lp_bat_accept(&acc, Wb, ph, vv, dd, i, 0.05);
            if (ph[i] > 0.05) hi++, hiacc += acc;
        }
        ok(hi > 0 && hiacc == hi, "BAT accepts every token above the threshold (%zu of %zu)", hiacc, hi);
        for (size_t j = 0; j < vv * vv; j++) Wb[j] = (j / vv == j % vv) ? 1.0 + 0.1 * (double)(j % 7) : 0.0;
        for (size_t i = 0; i < vv; i++) {
            int acc;
            smx_lp_bat_accept(&acc, Wb, ph, vv, vv, i, 0.05);
            all += acc;
        }
        ok(all == vv, "BAT with a full-rank (diagonal) W accepts every token: W^T p = W^T phat forces p = phat (%zu)",
           all);
        free(Wb);
    }
    {
        /* smx_lp_cheb_bytes against GLPK's own count: the peak of a full LP (every row) in a fresh GLPK
         * environment lies between half the estimate and the estimate */
        const size_t vv = 3000, dd = 30;
        double *Wm = malloc(vv * dd * sizeof *Wm), *bm = malloc(vv * sizeof *bm);
        for (size_t j = 0; j < vv * dd; j++) Wm[j] = gsl_ran_gaussian(r, 1.0);
        for (size_t j = 0; j < vv; j++) bm[j] = gsl_ran_gaussian(r, 1.0);
        smx_lp_thread_done();
        smx_lp_cheb_t *w = smx_lp_cheb_alloc(vv, dd);
        smx_lp_cheb_set_full(w, 1);
        smx_lp_cheb_result_t q;
        int st = 0;
        for (size_t i = 0; i < 3; i++) st |= smx_lp_cheb_solve(&q, NULL, w, Wm, bm, vv, dd, i, 100, 1e-6);
        int cnt, cpeak;
        size_t tot, tpeak;
        glp_mem_usage(&cnt, &cpeak, &tot, &tpeak);
        double est = smx_lp_cheb_bytes(vv, dd);
        ok(st == 0 && (double)tpeak <= est && (double)tpeak >= 0.5 * est,
           "full LP, V = 3000, d = 30: GLPK's peak %zu bytes within [0.5, 1] x smx_lp_cheb_bytes = %.0f", tpeak, est);
        smx_lp_cheb_free(w);
        free(Wm), free(bm);
    }
    free(Wr), free(br);
    gsl_rng_free(r);
    smx_lp_thread_done();
    return tap_done();
}
