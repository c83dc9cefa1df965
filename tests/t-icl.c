/* t-icl.c - softmax regression (experiments/icl_softreg.c; Li et al., arXiv 2304.13276): gradient and Hessian
 * against central finite differences and against MPFR at 256 bits; Hessian symmetry and rank (min(d, n-1));
 * ||S||_2 <= 1/2 (attained); one GD step from 0 in closed form; MPFR at low precision really is less accurate. */
#include "icl_cmds.h"
#include "icl_softreg.h"
#include "attn.h"
#include "nn.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "lse.h"

static double relerr(const double *a, const double *r, size_t m)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < m; i++) e += (a[i] - r[i]) * (a[i] - r[i]), s += r[i] * r[i];
    return sqrt(e / s);
}

/* A, b = softmax(A x*), x with entries of Ax of size ~ R */
static void problem(double *A, double *b, double *x, size_t n, size_t d, double R, gsl_rng *r)
{
    double xs[64], z[256];
    icl_random_A(A, n, d, r);
    icl_random_normal(x, d, R, r);
    icl_random_normal(xs, d, R, r);
    icl_softreg_f(b, A, xs, n, d, z);
}

int main(void)
{
    smx_nn_init_threads(1);
    gsl_rng *r = smx_rng_alloc(2385);
    enum { N = 9, D = 6 };
    double A[N * D], b[N], x[D], g[D], gr[D], gf[D], H[D * D], Hr[D * D], Hf[D * D], L, Lr, gp[D], gm[D];
    icl_softreg_ws_t w;
    ok(icl_softreg_ws_alloc(&w, N, D) == SMX_OK, "workspace");
    const double Rs[] = {0.4, 2.385, 6.1};
    for (int k = 0; k < 3; k++) {
        problem(A, b, x, N, D, Rs[k], r);
        icl_softreg_eval(&L, g, H, A, b, x, &w);
        icl_softreg_eval_mpfr(&Lr, gr, Hr, A, b, x, N, D, 256);
        ok_rel(L, Lr, 1e-14, "loss = MPFR 256 (R = %g)", Rs[k]);
        double eg = relerr(g, gr, D), eh = relerr(H, Hr, D * D);
        ok(eg < 1e-13, "gradient = MPFR 256 (R = %g, rel %.3g)", Rs[k], eg);
        ok(eh < 1e-13, "Hessian = MPFR 256 (R = %g, rel %.3g)", Rs[k], eh);
        for (int j = 0; j < D; j++) {
            double x0 = x[j], h = 1e-5, lp, lm;
            x[j] = x0 + h;
            icl_softreg_eval(&lp, gp, NULL, A, b, x, &w);
            x[j] = x0 - h;
            icl_softreg_eval(&lm, gm, NULL, A, b, x, &w);
            x[j] = x0;
            gf[j] = (lp - lm) / (2 * h);
            for (int i = 0; i < D; i++) Hf[i * D + j] = (gp[i] - gm[i]) / (2 * h);
        }
        double efg = relerr(gf, gr, D), efh = relerr(Hf, Hr, D * D);
        ok(efg < 1e-7, "gradient = finite differences of L (R = %g, rel %.3g)", Rs[k], efg);
        ok(efh < 1e-6, "Hessian = finite differences of the gradient (R = %g, rel %.3g)", Rs[k], efh);
        double asym = 0, hm = 0;
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) asym = fmax(asym, fabs(H[i * D + j] - H[j * D + i])), hm = fmax(hm, fabs(H[i * D + j]));
        ok(asym <= 1e-14 * hm, "Hessian symmetric (R = %g, max asym / max %.3g)", Rs[k], asym / hm);
    }
    /* indefinite somewhere: B2 makes H indefinite for a far-off target */
    {
        int found = 0;
        double ev[D];
        for (int t = 0; t < 50 && !found; t++) {
            problem(A, b, x, N, D, 3.0, r);
            icl_softreg_eval(NULL, NULL, H, A, b, x, &w);
            icl_eig_symm(ev, H, D);
            found = ev[0] < -1e-6 * ev[D - 1] && ev[D - 1] > 0;
        }
        ok(found, "the Hessian is indefinite for some problems (eigenvalues of both signs)");
    }
    /* MPFR at 24 bits: errors of order 2^-24, neither 0 nor large */
    problem(A, b, x, N, D, 2.385, r);
    icl_softreg_eval_mpfr(&Lr, gr, Hr, A, b, x, N, D, 256);
    icl_softreg_eval_mpfr(&L, g, H, A, b, x, N, D, 24);
    double e24 = relerr(g, gr, D);
    ok(e24 > 1e-10 && e24 < 1e-5, "gradient in MPFR at 24 bits: error %.3g in (1e-10, 1e-5)", e24);
    icl_softreg_ws_free(&w);

    /* rank: n = 5, d = 8 -> rank min(d, n - 1) = 4 */
    {
        enum { n = 5, d = 8 };
        double A2[n * d], b2[n], x2[d], H2[d * d], ev[d];
        icl_softreg_ws_t w2;
        icl_softreg_ws_alloc(&w2, n, d);
        problem(A2, b2, x2, n, d, 1.7, r);
        icl_softreg_eval(NULL, NULL, H2, A2, b2, x2, &w2);
        icl_eig_symm(ev, H2, d);
        double m = fmax(fabs(ev[0]), fabs(ev[d - 1]));
        int big = 0, tiny = 0;
        for (int i = 0; i < d; i++) big += fabs(ev[i]) > 1e-8 * m, tiny += fabs(ev[i]) < 1e-13 * m;
        ok(big == 4 && tiny == 4, "rank of the Hessian = min(d, n - 1) = 4 for n = 5, d = 8 (%d nonzero, %d zero)", big, tiny);
        icl_softreg_ws_free(&w2);
    }
    /* ||S||_2 <= 1/2, S = diag(f) - f f^T; attained at f = (1/2, 1/2, 0, ...) */
    {
        enum { n = 12 };
        double z[n], f[n], S[n * n], ev[n], smax = 0;
        for (int t = 0; t < 2000; t++) {
            double sc = 0.1 + 10 * gsl_rng_uniform(r);
            for (int i = 0; i < n; i++) z[i] = sc * gsl_ran_gaussian_ziggurat(r, 1.0);
            if (t % 2) z[t % n] = z[(t + 5) % n] = 40; /* two dominant, equal logits */
            smx_softmax_f64(f, z, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) S[i * n + j] = (i == j) * f[i] - f[i] * f[j];
            icl_eig_symm(ev, S, n);
            smax = fmax(smax, fmax(fabs(ev[0]), fabs(ev[n - 1])));
        }
        ok(smax <= 0.5 + 1e-15 && smax > 0.5 - 1e-12, "||S||_2 <= 1/2 over 2000 softmax vectors, attained (max %.17g)", smax);
    }
    /* one GD step from 0 with sum b = 1: x1 = (eta/n) A^T (b - 1/n) */
    {
        enum { n = 11, d = 4 };
        double A3[n * d], b3[n], x0[d] = {0}, g3[d], sum = 0, eta = 2.385, e = 0, m = 0;
        icl_softreg_ws_t w3;
        icl_softreg_ws_alloc(&w3, n, d);
        icl_random_A(A3, n, d, r);
        for (int i = 0; i < n; i++) sum += (b3[i] = gsl_rng_uniform_pos(r));
        for (int i = 0; i < n; i++) b3[i] /= sum;
        icl_softreg_eval(NULL, g3, NULL, A3, b3, x0, &w3);
        for (int j = 0; j < d; j++) {
            double c = 0;
            for (int i = 0; i < n; i++) c += A3[i * d + j] * (b3[i] - 1.0 / n);
            c *= eta / n;
            e = fmax(e, fabs(-eta * g3[j] - c)), m = fmax(m, fabs(c));
        }
        ok(e <= 1e-14 * m, "one GD step from 0 = (eta/n) A^T (b - 1/n) (rel %.3g)", e / m);
        icl_softreg_ws_free(&w3);
    }
    /* the multi-head model's whole gradient (solvers/attn + nn + the output map) vs central differences */
    for (size_t H = 1; H <= 3; H += 2) {
        double err;
        int st = icl_multihead_gradcheck(&err, H, 2385 + H);
        ok(st == SMX_OK && err < 1e-6, "multihead model gradient, H = %zu = finite differences (rel %.3g)", H, err);
    }
    /* von Oswald et al.'s construction: one LSA layer = one GD step from W0 on (1/2N) sum ||W x_j - y_j||^2 */
    {
        enum { d = 4, N = 7, Dd = d + 1 };
        double WK[Dd * Dd] = {0}, WQ[Dd * Dd] = {0}, WV[Dd * Dd] = {0}, P[Dd * Dd] = {0}, X[N * d], y[N], xq[d], W0[d];
        double eta = 2.385, gt[d];
        for (int i = 0; i < d; i++) WK[i * Dd + i] = WQ[i * Dd + i] = 1;
        for (int i = 0; i < Dd; i++) P[i * Dd + i] = eta / N;
        for (int i = 0; i < N * d; i++) X[i] = gsl_rng_uniform(r) - 0.5;
        for (int i = 0; i < d; i++) xq[i] = gsl_rng_uniform(r) - 0.5;
        for (int j = 0; j < N; j++) y[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
        for (int w0 = 0; w0 < 2; w0++) {
            for (int i = 0; i < d; i++) W0[i] = w0 ? gsl_ran_gaussian_ziggurat(r, 1.0) : 0;
            for (int i = 0; i < d; i++) WV[d * Dd + i] = W0[i];
            WV[d * Dd + d] = -1;
            double W1[d], y0 = 0, want = 0;
            for (int i = 0; i < d; i++) { /* W1 = W0 - (eta/N) sum_j (W0 x_j - y_j) x_j */
                W1[i] = W0[i];
                y0 -= W0[i] * xq[i];
            }
            for (int j = 0; j < N; j++) {
                double res = -y[j];
                for (int i = 0; i < d; i++) res += W0[i] * X[j * d + i];
                for (int i = 0; i < d; i++) W1[i] -= eta / N * res * X[j * d + i];
            }
            for (int i = 0; i < d; i++) want += W1[i] * xq[i];
            double got = icl_lsa_predict(gt, WK, WQ, WV, P, X, y, xq, y0, N, d);
            ok_rel(got, want, 1e-14, "constructed LSA layer = one GD step from W0 %s (prediction)", w0 ? "!= 0" : "= 0");
            if (!w0) { /* gradient w.r.t. x_q: (eta/N) sum_j y_j x_j */
                double e = 0;
                for (int i = 0; i < d; i++) {
                    double g = 0;
                    for (int j = 0; j < N; j++) g += eta / N * y[j] * X[j * d + i];
                    e = fmax(e, fabs(gt[i] - g));
                }
                ok(e < 1e-14, "constructed LSA layer: d yhat / d x_q = GD's (err %.3g)", e);
            }
        }
        double err = NAN;
        int st = icl_lsa_gradcheck(&err, 2385);
        ok(st == SMX_OK && err < 1e-6, "LSA training gradient = finite differences (rel %.3g)", err);
    }
    {
        double err = NAN, rerr = NAN;
        int st = icl_closeness_gradcheck(&err, &rerr, 2385);
        ok(st == SMX_OK && err < 1e-6, "closeness self-attention layer gradient = finite differences (rel %.3g)", err);
        ok(st == SMX_OK && rerr < 1e-12,
           "closeness fused forward / backward = the solvers/attn reference (loss, prediction, gradient; rel %.3g)",
           rerr);
        /* --dtype f32: the float layer vs the double one. Tolerance from float's epsilon: 2^6 u_f (u_f = 2^-24,
         * FLT_EPSILON / 2) = 3.8e-6, room for the length-n sums and the scores' amplification through the two
         * softmaxes (measured: 2e-7 .. 5e-7); the double layer's own rounding is ~1e-16, and a wrong term is O(1) */
        double tol = 64 * (FLT_EPSILON / 2);
        size_t sz[2][2] = {{37, 6}, {200, 20}};
        for (int k = 0; k < 2; k++) {
            double fe = NAN;
            st = icl_closeness_f32check(&fe, sz[k][0], sz[k][1], 2385 + (unsigned long)k);
            ok(st == SMX_OK && fe < tol && fe > 0,
               "closeness --dtype f32 layer = the double layer to float rounding, n = %zu, d = %zu (rel %.3g < %.3g)",
               sz[k][0], sz[k][1], fe, tol);
        }
    }
    {
        /* GEMM-form attention of all queries (smx_attn_forward_rows / backward_rows) = the per-query
         * smx_attn_forward / backward (H = 1), nq = 5 queries over nk = 7 keys, dk = 3, dv = 4 */
        enum { NQ = 5, NK = 7, DK = 3, DV = 4 };
        double Q[NQ * DK], K[NK * DK], V[NK * DV], dO[NQ * DV], O[NQ * DV], Al[NQ * NK], dE[NQ * NK], dQ[NQ * DK],
            dK[NK * DK], dV[NK * DV], O1[NQ * DV], dQ1[NQ * DK] = {0}, dK1[NK * DK] = {0}, dV1[NK * DV] = {0},
            a1[NK], e1[NK], dKi[NK * DK], dVi[NK * DV], wk[3 * NK];
        double *all[] = {Q, K, V, dO};
        size_t len[] = {NQ * DK, NK * DK, NK * DV, NQ * DV};
        for (int t = 0; t < 4; t++)
            for (size_t i = 0; i < len[t]; i++) all[t][i] = gsl_ran_gaussian(r, 2.385);
        smx_attn_t at;
        smx_attn_init(&at, 1, DK, DV);
        int st = smx_attn_forward_rows(O, Al, Q, K, V, NQ, NK, DK, DV, at.scale);
        st |= smx_attn_backward_rows(dQ, dK, dV, dE, dO, Al, Q, K, V, NQ, NK, DK, DV, at.scale);
        for (size_t i = 0; i < NQ; i++) {
            st |= smx_attn_forward(O1 + i * DV, a1, e1, Q + i * DK, K, V, NK, SMX_ATTN_NONE, 1.0, &at, wk);
            st |= smx_attn_backward(dQ1 + i * DK, dKi, dVi, NULL, dO + i * DV, a1, e1, Q + i * DK, K, V, NK,
                                    SMX_ATTN_NONE, 1.0, &at, wk);
            for (size_t k = 0; k < NK * DK; k++) dK1[k] += dKi[k];
            for (size_t k = 0; k < NK * DV; k++) dV1[k] += dVi[k];
        }
        double eo = relerr(O, O1, NQ * DV), eq = relerr(dQ, dQ1, NQ * DK), ek = relerr(dK, dK1, NK * DK),
               ev = relerr(dV, dV1, NK * DV);
        ok(st == 0 && eo < 1e-14 && eq < 1e-13 && ek < 1e-13 && ev < 1e-14,
           "attention rows (GEMM form) = per-query attention: O %.2g, dQ %.2g, dK %.2g, dV %.2g", eo, eq, ek, ev);
        ok(smx_attn_forward_rows(O, Al, Q, K, V, 0, NK, DK, DV, 1.0) == SMX_EDOM &&
               smx_attn_backward_rows(dQ, dK, dV, dE, dO, Al, Q, K, V, NQ, 0, DK, DV, 1.0) == SMX_EDOM,
           "attention rows: zero sizes rejected (SMX_EDOM)");
    }
    gsl_rng_free(r);
    return tap_done();
}
