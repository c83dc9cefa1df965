/* bottleneck_mix.c - Yang et al.'s (ICLR 2018) parameterisation of the Mixture of Softmaxes and its Mixture of
 * Contexts baseline, for a fixed set of n contexts with free context vectors g_i in R^d (our contexts have no RNN;
 * Yang's g is the last RNN layer, whose width nhidlast may differ from d: we take it = d):
 *     prior   pi_i = softmax(W_pi g_i)                 (K x d, no bias: Yang's prior = Linear(bias=False))
 *     latent  h_ik = tanh(W_k g_i + c_k)               (d x d and d; Yang's latent = Linear + Tanh, with bias)
 *     MoS     P_i  = sum_k pi_ik softmax(h_ik W^T + b) (one shared decoder W, v x d, with bias b)
 *     MoC     P_i  = softmax((sum_k pi_ik h_ik) W^T + b): one softmax, log P has rank <= d + 1 (+1 with b).
 * Fits minimise mean_i KL(p*_i || P_i) with GSL L-BFGS. Start: g_i = (U_d S_d)_i / c, W = c V_d, with
 * c = 2 max|U_d S_d| so that tanh stays near-linear; W_k = I + N(0, 0.1^2), c_k = 0, W_pi ~ N(0, 0.1^2)
 * (components differ, pi near uniform). */
#include "bottleneck_cmds.h"
#include "lse.h"
#include "smx.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t n, v, d, K;
    int moc;
    double *P;                  /* target probabilities exp(logP) (n x v), NULL for the forward pass alone */
    const double *logP;
    double *pi, *ga;            /* n x K: mixture weights, dF/dpi then dF/da */
    double *Hk;                 /* K x n x d: h_ik */
    double *Q;                  /* MoS: K x n x v component softmaxes; MoC: n x v log q */
    double *M, *Gm, *Z;         /* n x v: mixture (MoS), dF/dM (MoS), dF/dz scratch */
    double *Hb, *dH, *dU;       /* n x d: sum_k pi_k h_k (MoC), dF/dh, dF/du */
} mix_t;

size_t bottleneck_mix_nparams(size_t n, size_t v, size_t d, size_t K)
{
    return n * d + K * d + K * d * d + K * d + v * d + v;
}

static void mix_free(mix_t *F)
{
    free(F->P), free(F->pi), free(F->ga), free(F->Hk), free(F->Q), free(F->M), free(F->Gm), free(F->Z), free(F->Hb), free(F->dH),
        free(F->dU);
}

/* workspaces; with a target logP (else NULL) also P = exp(logP) */
static int mix_alloc(mix_t *F, size_t n, size_t v, size_t d, size_t K, int moc, const double *logP)
{
    *F = (mix_t){n, v, d, K, moc, NULL, logP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    if (logP && !(F->P = malloc(n * v * sizeof(double)))) return SMX_ENOMEM;
    for (size_t i = 0; logP && i < n * v; i++) F->P[i] = exp(logP[i]);
    F->pi = malloc(n * K * sizeof(double)), F->ga = malloc(n * K * sizeof(double));
    F->Hk = malloc(K * n * d * sizeof(double)), F->Q = malloc((moc ? 1 : K) * n * v * sizeof(double));
    F->M = malloc(n * v * sizeof(double)), F->Gm = malloc(n * v * sizeof(double)), F->Z = malloc(n * v * sizeof(double));
    F->Hb = malloc(n * d * sizeof(double)), F->dH = malloc(n * d * sizeof(double)), F->dU = malloc(n * d * sizeof(double));
    if (!F->pi || !F->ga || !F->Hk || !F->Q || !F->M || !F->Gm || !F->Z || !F->Hb || !F->dH || !F->dU) {
        mix_free(F);
        return SMX_ENOMEM;
    }
    return SMX_OK;
}

/* forward pass: pi, h_ik, and the log-probabilities into L (n x v) */
static void mix_forward(mix_t *F, const double *th, double *L)
{
    const size_t n = F->n, v = F->v, d = F->d, K = F->K;
    const double *G = th, *Wpi = G + n * d, *Wh = Wpi + K * d, *ch = Wh + K * d * d, *W = ch + K * d, *b = W + v * d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)K, (int)d, 1.0, G, (int)d, Wpi, (int)d, 0.0, F->pi,
                (int)K);
    for (size_t i = 0; i < n; i++) { /* pi_i = softmax(W_pi g_i) */
        double m = smx_lse_f64(F->pi + i * K, K);
        for (size_t k = 0; k < K; k++) F->pi[i * K + k] = exp(F->pi[i * K + k] - m);
    }
    for (size_t k = 0; k < K; k++) { /* h_ik = tanh(W_k g_i + c_k) */
        double *H = F->Hk + k * n * d;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)d, 1.0, G, (int)d, Wh + k * d * d,
                    (int)d, 0.0, H, (int)d);
        for (size_t i = 0; i < n; i++)
            for (size_t l = 0; l < d; l++) H[i * d + l] = tanh(H[i * d + l] + ch[k * d + l]);
    }
    if (F->moc) { /* z_i = (sum_k pi_ik h_ik) W^T + b, log q_i = z_i - lse(z_i) */
        memset(F->Hb, 0, n * d * sizeof *F->Hb);
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < n; i++)
                for (size_t l = 0; l < d; l++) F->Hb[i * d + l] += F->pi[i * K + k] * F->Hk[(k * n + i) * d + l];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)v, (int)d, 1.0, F->Hb, (int)d, W, (int)d, 0.0,
                    L, (int)v);
        for (size_t i = 0; i < n; i++) {
            double *z = L + i * v;
            for (size_t j = 0; j < v; j++) z[j] += b[j];
            double m = smx_lse_f64(z, v);
            for (size_t j = 0; j < v; j++) z[j] -= m;
        }
        return;
    }
    memset(F->M, 0, n * v * sizeof *F->M); /* M_i = sum_k pi_ik softmax(h_ik W^T + b) */
    for (size_t k = 0; k < K; k++) {
        double *Q = F->Q + k * n * v;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)v, (int)d, 1.0, F->Hk + k * n * d, (int)d, W,
                    (int)d, 0.0, Q, (int)v);
        for (size_t i = 0; i < n; i++) {
            double *q = Q + i * v;
            for (size_t j = 0; j < v; j++) q[j] += b[j];
            double m = smx_lse_f64(q, v);
            for (size_t j = 0; j < v; j++) q[j] = exp(q[j] - m), F->M[i * v + j] += F->pi[i * K + k] * q[j];
        }
    }
    for (size_t i = 0; i < n * v; i++) L[i] = log(F->M[i]);
}

/* f = (1/n) sum_ij p_ij (log p_ij - log P_ij) and its gradient (backpropagation through the formulas above) */
static double mix_fdf(const gsl_vector *thv, void *par, gsl_vector *grad)
{
    mix_t *F = par;
    const size_t n = F->n, v = F->v, d = F->d, K = F->K;
    const double *th = thv->data, *G = th, *Wpi = G + n * d, *Wh = Wpi + K * d, *W = Wh + K * d * d + K * d;
    double *L = F->moc ? F->Q : F->Z;
    mix_forward(F, th, L);
    double f = 0;
    for (size_t i = 0; i < n * v; i++)
        if (F->P[i] > 0) f += F->P[i] * (F->logP[i] - L[i]);
    f /= (double)n;
    if (!grad) return f;
    double *gG = grad->data, *gWpi = gG + n * d, *gWh = gWpi + K * d, *gch = gWh + K * d * d, *gW = gch + K * d,
           *gb = gW + v * d;
    memset(grad->data, 0, grad->size * sizeof(double));
    if (F->moc) {
        for (size_t i = 0; i < n * v; i++) F->Z[i] = (exp(L[i]) - F->P[i]) / (double)n; /* dF/dz = (q - p) / n */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)v, 1.0, F->Z, (int)v, W, (int)d, 0.0,
                    F->dH, (int)d); /* dF/dhbar */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)v, (int)d, (int)n, 1.0, F->Z, (int)v, F->Hb, (int)d, 0.0,
                    gW, (int)d);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < v; j++) gb[j] += F->Z[i * v + j];
    } else {
        for (size_t i = 0; i < n * v; i++) F->Gm[i] = -F->P[i] / (F->M[i] * (double)n); /* dF/dM */
    }
    for (size_t k = 0; k < K; k++) {
        const double *H = F->Hk + k * n * d;
        if (F->moc) { /* dF/dpi_ik = h_ik . dhbar_i, dF/dh_ik = pi_ik dhbar_i */
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t l = 0; l < d; l++) s += H[i * d + l] * F->dH[i * d + l];
                F->ga[i * K + k] = s;
                for (size_t l = 0; l < d; l++) F->dU[i * d + l] = F->pi[i * K + k] * F->dH[i * d + l];
            }
        } else { /* dF/dpi_ik = s_ik = sum_j G_ij q_ikj, dF/dz_ikj = pi_ik q_ikj (G_ij - s_ik) */
            const double *Q = F->Q + k * n * v;
            for (size_t i = 0; i < n; i++) {
                const double *g = F->Gm + i * v, *q = Q + i * v;
                double s = 0;
                for (size_t j = 0; j < v; j++) s += g[j] * q[j];
                F->ga[i * K + k] = s;
                for (size_t j = 0; j < v; j++) F->Z[i * v + j] = F->pi[i * K + k] * q[j] * (g[j] - s);
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)v, 1.0, F->Z, (int)v, W, (int)d,
                        0.0, F->dU, (int)d); /* dF/dh_ik */
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)v, (int)d, (int)n, 1.0, F->Z, (int)v, H, (int)d,
                        1.0, gW, (int)d);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < v; j++) gb[j] += F->Z[i * v + j];
        }
        for (size_t i = 0; i < n * d; i++) F->dU[i] *= 1 - H[i] * H[i]; /* tanh' = 1 - h^2 */
        /* u_ik = W_k g_i + c_k: dW_k = dU^T G, dc_k = sum_i dU_i, dG += dU W_k */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)n, 1.0, F->dU, (int)d, G, (int)d, 0.0,
                    gWh + k * d * d, (int)d);
        for (size_t i = 0; i < n; i++)
            for (size_t l = 0; l < d; l++) gch[k * d + l] += F->dU[i * d + l];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)d, 1.0, F->dU, (int)d, Wh + k * d * d,
                    (int)d, 1.0, gG, (int)d);
    }
    for (size_t i = 0; i < n; i++) { /* da_ik = pi_ik (dpi_ik - sum_k' pi_ik' dpi_ik'), a_i = W_pi g_i */
        double s = 0;
        for (size_t k = 0; k < K; k++) s += F->pi[i * K + k] * F->ga[i * K + k];
        for (size_t k = 0; k < K; k++) F->ga[i * K + k] = F->pi[i * K + k] * (F->ga[i * K + k] - s);
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)d, (int)n, 1.0, F->ga, (int)K, G, (int)d, 0.0, gWpi,
                (int)d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)K, 1.0, F->ga, (int)K, Wpi, (int)d, 1.0,
                gG, (int)d);
    return f;
}
static double mix_f(const gsl_vector *th, void *par) { return mix_fdf(th, par, NULL); }
static void mix_df(const gsl_vector *th, void *par, gsl_vector *g) { mix_fdf(th, par, g); }
static void mix_both(const gsl_vector *th, void *par, double *f, gsl_vector *g) { *f = mix_fdf(th, par, g); }

int bottleneck_mix_logprobs(double *L, const double *theta, size_t n, size_t v, size_t d, size_t K, int moc)
{
    mix_t F;
    if (mix_alloc(&F, n, v, d, K, moc, NULL)) return SMX_ENOMEM;
    mix_forward(&F, theta, L);
    mix_free(&F);
    return SMX_OK;
}

int bottleneck_mix_check_grad(double *maxrel, const double *A, size_t n, size_t v, size_t d, size_t K, int moc,
                              gsl_rng *r)
{
    size_t np = bottleneck_mix_nparams(n, v, d, K);
    gsl_vector *th = gsl_vector_alloc(np), *g = gsl_vector_alloc(np);
    mix_t F;
    if (!th || !g || mix_alloc(&F, n, v, d, K, moc, A)) {
        if (th) gsl_vector_free(th);
        if (g) gsl_vector_free(g);
        return SMX_ENOMEM;
    }
    for (size_t i = 0; i < np; i++) gsl_vector_set(th, i, gsl_ran_gaussian(r, 0.7));
    mix_fdf(th, &F, g);
    *maxrel = bottleneck_grad_maxrel(mix_f, &F, th, g);
    gsl_vector_free(th), gsl_vector_free(g);
    mix_free(&F);
    return SMX_OK;
}

int bottleneck_fit_mix(double *Lfit, double *kl_opt, const double *A, const double *u, const double *s, const double *vt,
                       size_t n, size_t v, size_t d, size_t K, int moc, int iters, gsl_rng *r)
{
    size_t k0 = n < v ? n : v, np = bottleneck_mix_nparams(n, v, d, K);
    gsl_vector *th = gsl_vector_alloc(np);
    gsl_multimin_fdfminimizer *Mn = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, np);
    mix_t F;
    if (!th || !Mn || mix_alloc(&F, n, v, d, K, moc, A)) {
        if (th) gsl_vector_free(th);
        if (Mn) gsl_multimin_fdfminimizer_free(Mn);
        return SMX_ENOMEM;
    }
    double *G = th->data, *Wpi = G + n * d, *Wh = Wpi + K * d, *ch = Wh + K * d * d, *W = ch + K * d, *b = W + v * d;
    double c = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < d && l < k0; l++) c = fmax(c, fabs(u[i * k0 + l] * s[l]));
    c = c > 0 ? 2 * c : 1;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < d; l++) G[i * d + l] = l < k0 ? u[i * k0 + l] * s[l] / c : 0;
    for (size_t i = 0; i < K * d; i++) Wpi[i] = gsl_ran_gaussian(r, 0.1);
    for (size_t k = 0; k < K; k++)
        for (size_t l = 0; l < d; l++)
            for (size_t m = 0; m < d; m++) Wh[(k * d + l) * d + m] = (l == m) + gsl_ran_gaussian(r, 0.1);
    for (size_t i = 0; i < K * d; i++) ch[i] = 0;
    for (size_t j = 0; j < v; j++)
        for (size_t l = 0; l < d; l++) W[j * d + l] = l < k0 ? c * vt[l * v + j] : 0;
    for (size_t j = 0; j < v; j++) b[j] = 0;
    gsl_multimin_function_fdf fn = {mix_f, mix_df, mix_both, np, &F};
    gsl_multimin_fdfminimizer_set(Mn, &fn, th, 0.1, 0.1);
    for (int it = 0; it < iters; it++) {
        if (gsl_multimin_fdfminimizer_iterate(Mn)) break;
        if (gsl_multimin_test_gradient(Mn->gradient, 1e-10) == GSL_SUCCESS) break;
    }
    *kl_opt = mix_f(Mn->x, &F);
    mix_forward(&F, Mn->x->data, Lfit);
    gsl_multimin_fdfminimizer_free(Mn);
    gsl_vector_free(th);
    mix_free(&F);
    return SMX_OK;
}
