/* t-bottleneck-rank.c - the softmax bottleneck: rank(log-softmax(H W^T)) = d + 1 (d + 2 with a bias) exactly,
 * by Gaussian elimination in MPFR at 256 bits (a pivot below 2^-200 counts as zero; the others are of order 1);
 * softmax fits by bottleneck_fit_softmax: the optimum lies inside the envelope
 * (m/2N) sum_{i>d} sigma_i^2 <= KL <= KL(truncated SVD) <= (1/4N) sum_{i>d} sigma_i^2, and a rank-r* target is
 * fitted exactly (KL ~ 0) once d >= r*. */
#include "bottleneck_cmds.h"
#include "smx.h"
#include "svd.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <mpfr.h>
#include <stdlib.h>

#define PREC 256

/* rank of the n x v MPFR matrix (destroyed) with pivots |p| > 2^-200 max|entry|; *minpiv = smallest kept pivot. */
static size_t mpfr_rank(mpfr_t *M, size_t n, size_t v, double *minpiv, double *maxrest)
{
    mpfr_t t, f;
    mpfr_inits2(PREC, t, f, (mpfr_ptr)0);
    size_t r = 0;
    *minpiv = INFINITY, *maxrest = 0;
    for (size_t c = 0; c < v && r < n; c++) {
        size_t p = r;
        for (size_t i = r + 1; i < n; i++)
            if (mpfr_cmpabs(M[i * v + c], M[p * v + c]) > 0) p = i;
        double a = fabs(mpfr_get_d(M[p * v + c], MPFR_RNDN));
        if (a < 0x1p-200) {
            *maxrest = fmax(*maxrest, a);
            continue;
        }
        *minpiv = fmin(*minpiv, a);
        if (p != r)
            for (size_t j = 0; j < v; j++) mpfr_swap(M[p * v + j], M[r * v + j]);
        for (size_t i = r + 1; i < n; i++) {
            mpfr_div(f, M[i * v + c], M[r * v + c], MPFR_RNDN);
            for (size_t j = c; j < v; j++) {
                mpfr_mul(t, f, M[r * v + j], MPFR_RNDN);
                mpfr_sub(M[i * v + j], M[i * v + j], t, MPFR_RNDN);
            }
        }
        r++;
    }
    for (size_t i = r; i < n; i++)
        for (size_t j = 0; j < v; j++) *maxrest = fmax(*maxrest, fabs(mpfr_get_d(M[i * v + j], MPFR_RNDN)));
    mpfr_clears(t, f, (mpfr_ptr)0);
    return r;
}

int main(void)
{
    smx_svd_blas_single_thread();
    gsl_rng *r = smx_rng_alloc(2385);
    /* 1. exact rank in MPFR: N = 14, V = 11, d = 3 */
    const size_t n = 14, v = 11, d = 3;
    double H[14 * 3], W[11 * 3], b[11];
    for (size_t i = 0; i < n * d; i++) H[i] = gsl_ran_gaussian(r, 1.3);
    for (size_t i = 0; i < v * d; i++) W[i] = gsl_ran_gaussian(r, 1.1);
    for (size_t i = 0; i < v; i++) b[i] = gsl_ran_gaussian(r, 0.7);
    for (int bias = 0; bias < 2; bias++) {
        mpfr_t *L = malloc(n * v * sizeof *L), t, s;
        mpfr_inits2(PREC, t, s, (mpfr_ptr)0);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < v; j++) {
                mpfr_init2(L[i * v + j], PREC);
                mpfr_set_d(L[i * v + j], bias ? b[j] : 0.0, MPFR_RNDN);
                for (size_t k = 0; k < d; k++) {
                    mpfr_set_d(t, H[i * d + k], MPFR_RNDN);
                    mpfr_mul_d(t, t, W[j * d + k], MPFR_RNDN);
                    mpfr_add(L[i * v + j], L[i * v + j], t, MPFR_RNDN);
                }
            }
            mpfr_set_zero(s, 1); /* lse = log sum exp z_j */
            for (size_t j = 0; j < v; j++) mpfr_exp(t, L[i * v + j], MPFR_RNDN), mpfr_add(s, s, t, MPFR_RNDN);
            mpfr_log(s, s, MPFR_RNDN);
            for (size_t j = 0; j < v; j++) mpfr_sub(L[i * v + j], L[i * v + j], s, MPFR_RNDN);
        }
        double minpiv, rest;
        size_t rk = mpfr_rank(L, n, v, &minpiv, &rest);
        ok(rk == d + 1 + (size_t)bias && minpiv > 1e-6 && rest < 1e-60, "MPFR %d bits%s: rank(log-softmax) = %zu = d + "
           "%d (smallest pivot %.3g, largest remainder %.3g)", PREC, bias ? ", bias" : "", rk, 1 + bias, minpiv, rest);
        for (size_t i = 0; i < n * v; i++) mpfr_clear(L[i]);
        mpfr_clears(t, s, (mpfr_ptr)0);
        free(L);
    }
    /* the same in double: the trailing pivots are rounding noise ~1e-15, not 0 */
    {
        double L[14 * 11], sv[11];
        bottleneck_logprobs(L, H, W, NULL, n, v, d);
        smx_svd_values(sv, L, n, v, SMX_SVD_LAPACK);
        ok(sv[d + 1] / sv[0] < 1e-14 && sv[d + 1] > 0 && sv[d] / sv[0] > 1e-4, "double: sigma_%zu / sigma_1 = %.3g "
           "(noise), sigma_%zu / sigma_1 = %.3g", d + 2, sv[d + 1] / sv[0], d + 1, sv[d] / sv[0]);
    }
    /* 2. fits: N = 40, V = 30 */
    {
        const size_t N = 40, V = 30, K = 30;
        double *A = malloc(N * V * sizeof *A), sig[30], *U = malloc(N * V * sizeof *U), *u = malloc(N * K * sizeof *u),
               s[30], *vt = malloc(K * V * sizeof *vt), *L = malloc(N * V * sizeof *L);
        for (int kind = 0; kind < 2; kind++) {
            bottleneck_target(A, sig, r, N, V, kind, kind ? 1.0 : 6.0);
            bottleneck_clr(U, A, N, V);
            smx_svd_thin(u, s, vt, U, N, V);
            ok(fabs(s[0] - sig[0]) < 1e-9 * sig[0] && (kind || s[6] < 1e-9 * s[0]), "%s target: clr(A) has the "
               "prescribed spectrum (sigma_1 %.6g vs %.6g)", kind ? "k^-1" : "rank-6", s[0], sig[0]);
            size_t dd[2] = {3, 6};
            for (int q = 0; q < 2; q++) {
                size_t dq = dd[q];
                double ki, ko, tail = 0, m = 1;
                bottleneck_fit_softmax(L, &ki, &ko, A, u, s, vt, N, V, dq, 300);
                for (size_t i = dq; i < K; i++) tail += s[i] * s[i];
                for (size_t i = 0; i < N * V; i++) m = fmin(m, fmin(exp(A[i]), exp(L[i])));
                double lo = m / (2.0 * N) * tail, hi = tail / (4.0 * N);
                if (!kind && dq == 6)
                    ok(fabs(ko) < 1e-12 && fabs(ki) < 1e-12, "rank-6 target, d = 6: exact fit, KL %.3g", ko);
                else
                    ok(lo <= ko && ko < ki && ki <= hi, "%s target, d = %zu: envelope %.4g <= KL opt %.4g < KL(SVD) "
                       "%.4g <= %.4g", kind ? "k^-1" : "rank-6", dq, lo, ko, ki, hi);
            }
        }
        free(A), free(U), free(u), free(vt), free(L);
    }
    /* 3. MoS: gradient against central differences; a K = 3, d = 4 mixture fits a rank-12 target better than a
     * d = 4 softmax and its log-probabilities are not rank-capped */
    {
        const size_t N = 12, V = 9;
        double A[12 * 9], sig[9], mx;
        bottleneck_target(A, sig, r, N, V, 1, 1.0);
        bottleneck_mos_check_grad(&mx, A, N, V, 3, 3, r);
        ok(mx < 1e-5, "MoS gradient vs central differences: max relative difference %.3g", mx);
    }
    {
        const size_t N = 40, V = 30, K = 30, d = 4;
        double *A = malloc(N * V * sizeof *A), sig[30], *U = malloc(N * V * sizeof *U), *u = malloc(N * K * sizeof *u),
               s[30], *vt = malloc(K * V * sizeof *vt), *L = malloc(N * V * sizeof *L), ki, ko, km, sv[30];
        bottleneck_target(A, sig, r, N, V, 0, 12.0);
        bottleneck_clr(U, A, N, V);
        smx_svd_thin(u, s, vt, U, N, V);
        bottleneck_fit_softmax(L, &ki, &ko, A, u, s, vt, N, V, d, 300);
        bottleneck_fit_mos(L, &km, A, u, s, vt, N, V, d, 3, 300, r);
        ok(km < ko, "rank-12 target, d = 4: MoS (K = 3) KL %.4g < softmax KL %.4g", km, ko);
        smx_svd_values(sv, L, N, V, SMX_SVD_LAPACK);
        size_t rk = 0;
        for (size_t i = 0; i < 30; i++) rk += sv[i] > 1e-8 * sv[0];
        ok(rk > d + 2, "MoS log-probs: numerical rank %zu > d + 2 = %zu", rk, d + 2);
        free(A), free(U), free(u), free(vt), free(L);
    }
    /* 4. Yang et al.'s parameterisation: MoS and MoC gradients against central differences */
    {
        const size_t N = 11, V = 8;
        double A[11 * 8], sig[8], mx;
        bottleneck_target(A, sig, r, N, V, 1, 1.0);
        for (int moc = 0; moc < 2; moc++) {
            bottleneck_mix_check_grad(&mx, A, N, V, 3, 3, moc, r);
            ok(mx < 1e-5, "%s (Yang: pi = softmax(W_pi g), h_k = tanh(W_k g + c_k)) gradient vs central differences: max "
               "relative difference %.3g", moc ? "MoC" : "MoS", mx);
        }
    }
    /* 5. MoC log-probs in MPFR at 256 bits (an independent evaluation of the same formulas from the double
     * parameters): rank exactly d + 1 (b = 0) / d + 2 (random b); the double implementation agrees to 1e-13;
     * Yang's MoS at the same parameters is full rank */
    {
        const size_t N = 13, V = 10, d = 3, K = 3, np = bottleneck_mix_nparams(N, V, d, K);
        double *th = malloc(np * sizeof *th), L[13 * 10], sv[10];
        for (size_t i = 0; i < np; i++) th[i] = gsl_ran_gaussian(r, 1.2);
        const double *G = th, *Wpi = G + N * d, *Wh = Wpi + K * d, *ch = Wh + K * d * d, *W = ch + K * d;
        double *b = (double *)W + V * d;
        for (int bias = 1; bias >= 0; bias--) {
            if (!bias)
                for (size_t j = 0; j < V; j++) b[j] = 0;
            bottleneck_mix_logprobs(L, th, N, V, d, K, 1);
            mpfr_t *M = malloc(N * V * sizeof *M), t, s, pi[3], hb[3], h;
            mpfr_inits2(PREC, t, s, h, pi[0], pi[1], pi[2], hb[0], hb[1], hb[2], (mpfr_ptr)0);
            double maxdiff = 0;
            for (size_t i = 0; i < N; i++) {
                mpfr_set_zero(s, 1); /* pi = softmax(W_pi g_i) */
                for (size_t k = 0; k < K; k++) {
                    mpfr_set_zero(pi[k], 1);
                    for (size_t l = 0; l < d; l++) {
                        mpfr_set_d(t, Wpi[k * d + l], MPFR_RNDN);
                        mpfr_mul_d(t, t, G[i * d + l], MPFR_RNDN);
                        mpfr_add(pi[k], pi[k], t, MPFR_RNDN);
                    }
                    mpfr_exp(pi[k], pi[k], MPFR_RNDN);
                    mpfr_add(s, s, pi[k], MPFR_RNDN);
                }
                for (size_t k = 0; k < K; k++) mpfr_div(pi[k], pi[k], s, MPFR_RNDN);
                for (size_t l = 0; l < d; l++) { /* hbar_l = sum_k pi_k tanh(W_k g + c_k)_l */
                    mpfr_set_zero(hb[l], 1);
                    for (size_t k = 0; k < K; k++) {
                        mpfr_set_d(h, ch[k * d + l], MPFR_RNDN);
                        for (size_t m = 0; m < d; m++) {
                            mpfr_set_d(t, Wh[(k * d + l) * d + m], MPFR_RNDN);
                            mpfr_mul_d(t, t, G[i * d + m], MPFR_RNDN);
                            mpfr_add(h, h, t, MPFR_RNDN);
                        }
                        mpfr_tanh(h, h, MPFR_RNDN);
                        mpfr_mul(h, h, pi[k], MPFR_RNDN);
                        mpfr_add(hb[l], hb[l], h, MPFR_RNDN);
                    }
                }
                for (size_t j = 0; j < V; j++) { /* z_j = hbar . w_j + b_j */
                    mpfr_init2(M[i * V + j], PREC);
                    mpfr_set_d(M[i * V + j], b[j], MPFR_RNDN);
                    for (size_t l = 0; l < d; l++) {
                        mpfr_mul_d(t, hb[l], W[j * d + l], MPFR_RNDN);
                        mpfr_add(M[i * V + j], M[i * V + j], t, MPFR_RNDN);
                    }
                }
                mpfr_set_zero(s, 1);
                for (size_t j = 0; j < V; j++) mpfr_exp(t, M[i * V + j], MPFR_RNDN), mpfr_add(s, s, t, MPFR_RNDN);
                mpfr_log(s, s, MPFR_RNDN);
                for (size_t j = 0; j < V; j++) {
                    mpfr_sub(M[i * V + j], M[i * V + j], s, MPFR_RNDN);
                    maxdiff = fmax(maxdiff, fabs(mpfr_get_d(M[i * V + j], MPFR_RNDN) - L[i * V + j]));
                }
            }
            ok(maxdiff < 1e-13, "MoC%s: double log-probs agree with MPFR to %.3g", bias ? " + bias" : "", maxdiff);
            double minpiv, rest;
            size_t rk = mpfr_rank(M, N, V, &minpiv, &rest);
            ok(rk == d + 1 + (size_t)bias && minpiv > 1e-8 && rest < 1e-60, "MPFR %d bits: rank(log MoC)%s = %zu = d + %d "
               "(smallest pivot %.3g, largest remainder %.3g; Yang Table 6: MoC 280 = d)", PREC, bias ? " with bias" : "",
               rk, 1 + bias, minpiv, rest);
            for (size_t i = 0; i < N * V; i++) mpfr_clear(M[i]);
            mpfr_clears(t, s, h, pi[0], pi[1], pi[2], hb[0], hb[1], hb[2], (mpfr_ptr)0);
            free(M);
        }
        bottleneck_mix_logprobs(L, th, N, V, d, K, 0);
        smx_svd_values(sv, L, N, V, SMX_SVD_LAPACK);
        size_t rk = 0;
        for (size_t i = 0; i < V; i++) rk += sv[i] > 1e-10 * sv[0];
        ok(rk == V, "MoS (Yang), same parameters, d = 3, K = 3: log P numerically full rank %zu of %zu (sigma_min / "
           "sigma_1 = %.3g)", rk, V, sv[V - 1] / sv[0]);
        free(th);
    }
    /* 6. fits: a rank-12 target with d = 4, K = 3: MoC stays at numerical rank d + 2, Yang's MoS exceeds it */
    {
        const size_t N = 40, V = 30, K = 30, d = 4;
        double *A = malloc(N * V * sizeof *A), sig[30], *U = malloc(N * V * sizeof *U), *u = malloc(N * K * sizeof *u),
               s[30], *vt = malloc(K * V * sizeof *vt), *L = malloc(N * V * sizeof *L), kc, km, ki, ko, sv[30];
        bottleneck_target(A, sig, r, N, V, 0, 12.0);
        bottleneck_clr(U, A, N, V);
        smx_svd_thin(u, s, vt, U, N, V);
        bottleneck_fit_softmax(L, &ki, &ko, A, u, s, vt, N, V, d, 300);
        bottleneck_fit_mix(L, &kc, A, u, s, vt, N, V, d, 3, 1, 300, r);
        smx_svd_values(sv, L, N, V, SMX_SVD_LAPACK);
        ok(sv[d + 2] < 1e-12 * sv[0] && sv[d + 1] > 1e-6 * sv[0], "fitted MoC (K = 3, d = 4): sigma_%zu / sigma_1 = %.3g, "
           "sigma_%zu / sigma_1 = %.3g: numerical rank d + 2", d + 2, sv[d + 1] / sv[0], d + 3, sv[d + 2] / sv[0]);
        ok(kc >= ko - 1e-3 * ko, "fitted MoC KL %.4g >= softmax KL %.4g (MoC is a constrained softmax)", kc, ko);
        bottleneck_fit_mix(L, &km, A, u, s, vt, N, V, d, 3, 0, 300, r);
        smx_svd_values(sv, L, N, V, SMX_SVD_LAPACK);
        size_t rk = 0;
        for (size_t i = 0; i < 30; i++) rk += sv[i] > 1e-8 * sv[0];
        ok(rk > d + 2 && km < ki, "fitted MoS (Yang, K = 3, d = 4): numerical rank %zu > d + 2, KL %.4g (< truncated SVD "
           "%.4g; softmax optimum %.4g)", rk, km, ki, ko);
        free(A), free(U), free(u), free(vt), free(L);
    }
    gsl_rng_free(r);
    return tap_done();
}
