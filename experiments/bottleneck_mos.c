/* bottleneck_mos.c - Mixture of Softmaxes fits (Yang et al. 2018, eq. for MoS) of a target A (n x v):
 *     P_i = sum_k pi_ik softmax(h_ik W^T + b),  pi_i = softmax(a_i),
 * one shared decoder W (v x d) with bias b, K components. Unlike Yang's h_k = tanh(W_k g), pi = softmax(W_pi g),
 * the per-context h_ik and a_i are free parameters (a superset of their parameterisation for a fixed set of
 * contexts). Minimises mean_i KL(p*_i || P_i) with GSL L-BFGS from the truncated SVD of clr(A) (components
 * perturbed by N(0, 0.1^2) so they differ). log P is not rank-capped. */
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
    const double *P, *logP;
    double *Q, *M, *G; /* Q: K x n x v component softmaxes; M: n x v mixture; G: n x v dF/dM */
    double *Z;         /* n x v logits scratch */
} mos_t;

/* theta = [h (K x n x d) | a (n x K) | W (v x d) | b (v)] */
static double mos_fdf(const gsl_vector *th, void *par, gsl_vector *grad)
{
    mos_t *F = par;
    const size_t n = F->n, v = F->v, d = F->d, K = F->K;
    const double *h = th->data, *a = h + K * n * d, *W = a + n * K, *b = W + v * d;
    double *pi = malloc(n * K * sizeof *pi);
    for (size_t i = 0; i < n; i++) { /* pi_i = softmax(a_i) */
        double m = smx_lse_f64(a + i * K, K);
        for (size_t k = 0; k < K; k++) pi[i * K + k] = exp(a[i * K + k] - m);
    }
    memset(F->M, 0, n * v * sizeof *F->M);
    for (size_t k = 0; k < K; k++) {
        double *Q = F->Q + k * n * v;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)v, (int)d, 1.0, h + k * n * d, (int)d, W,
                    (int)d, 0.0, Q, (int)v);
        for (size_t i = 0; i < n; i++) {
            double *q = Q + i * v;
            for (size_t j = 0; j < v; j++) q[j] += b[j];
            double m = smx_lse_f64(q, v);
            for (size_t j = 0; j < v; j++) q[j] = exp(q[j] - m), F->M[i * v + j] += pi[i * K + k] * q[j];
        }
    }
    double f = 0;
    for (size_t i = 0; i < n * v; i++) {
        if (F->P[i] > 0) f += F->P[i] * (F->logP[i] - log(F->M[i]));
        F->G[i] = -F->P[i] / (F->M[i] * (double)n); /* dF/dM_ij */
    }
    f /= (double)n;
    if (grad) {
        double *gh = grad->data, *ga = gh + K * n * d, *gW = ga + n * K, *gb = gW + v * d;
        memset(gW, 0, v * d * sizeof *gW), memset(gb, 0, v * sizeof *gb);
        for (size_t k = 0; k < K; k++) {
            double *Q = F->Q + k * n * v;
            for (size_t i = 0; i < n; i++) {
                const double *g = F->G + i * v;
                double *q = Q + i * v, s = 0;
                for (size_t j = 0; j < v; j++) s += g[j] * q[j]; /* dF/dpi_ik = sum_j g_ij q_ikj */
                ga[i * K + k] = s;
                double *z = F->Z + i * v;
                for (size_t j = 0; j < v; j++) z[j] = pi[i * K + k] * q[j] * (g[j] - s); /* dF/dz_ikj */
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)v, 1.0, F->Z, (int)v, W, (int)d,
                        0.0, gh + k * n * d, (int)d);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)v, (int)d, (int)n, 1.0, F->Z, (int)v,
                        h + k * n * d, (int)d, 1.0, gW, (int)d);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < v; j++) gb[j] += F->Z[i * v + j];
        }
        for (size_t i = 0; i < n; i++) { /* da_ik = pi_ik (dpi_ik - sum_k' pi_ik' dpi_ik') */
            double s = 0;
            for (size_t k = 0; k < K; k++) s += pi[i * K + k] * ga[i * K + k];
            for (size_t k = 0; k < K; k++) ga[i * K + k] = pi[i * K + k] * (ga[i * K + k] - s);
        }
    }
    free(pi);
    return f;
}
static double mos_f(const gsl_vector *th, void *par) { return mos_fdf(th, par, NULL); }
static void mos_df(const gsl_vector *th, void *par, gsl_vector *g) { mos_fdf(th, par, g); }
static void mos_both(const gsl_vector *th, void *par, double *f, gsl_vector *g) { *f = mos_fdf(th, par, g); }

double bottleneck_grad_maxrel(double (*f)(const gsl_vector *, void *), void *par, gsl_vector *th, const gsl_vector *g)
{
    double mx = 0;
    for (size_t i = 0; i < th->size; i++) { /* central differences, step 1e-6 */
        double x = gsl_vector_get(th, i), e = 1e-6;
        gsl_vector_set(th, i, x + e);
        double fp = f(th, par);
        gsl_vector_set(th, i, x - e);
        double fm = f(th, par);
        gsl_vector_set(th, i, x);
        double fd = (fp - fm) / (2 * e), an = gsl_vector_get(g, i);
        mx = fmax(mx, fabs(fd - an) / fmax(1e-6, fabs(an)));
    }
    return mx;
}

int bottleneck_mos_check_grad(double *maxrel, const double *A, size_t n, size_t v, size_t d, size_t K, gsl_rng *r)
{
    size_t np = K * n * d + n * K + v * d + v;
    double *P = malloc(n * v * sizeof *P), *Q = malloc(K * n * v * sizeof *Q), *M = malloc(n * v * sizeof *M),
           *G = malloc(n * v * sizeof *G), *Z = malloc(n * v * sizeof *Z);
    gsl_vector *th = gsl_vector_alloc(np), *g = gsl_vector_alloc(np);
    for (size_t i = 0; i < n * v; i++) P[i] = exp(A[i]);
    for (size_t i = 0; i < np; i++) gsl_vector_set(th, i, gsl_ran_gaussian(r, 0.7));
    mos_t F = {n, v, d, K, P, A, Q, M, G, Z};
    mos_fdf(th, &F, g);
    *maxrel = bottleneck_grad_maxrel(mos_f, &F, th, g);
    gsl_vector_free(th), gsl_vector_free(g);
    free(P), free(Q), free(M), free(G), free(Z);
    return SMX_OK;
}

int bottleneck_fit_mos(double *Lfit, double *kl_opt, const double *A, const double *u, const double *s,
                       const double *vt, size_t n, size_t v, size_t d, size_t K, int iters, gsl_rng *r)
{
    size_t k0 = n < v ? n : v, np = K * n * d + n * K + v * d + v;
    double *P = malloc(n * v * sizeof *P), *Q = malloc(K * n * v * sizeof *Q), *M = malloc(n * v * sizeof *M),
           *G = malloc(n * v * sizeof *G), *Z = malloc(n * v * sizeof *Z);
    gsl_vector *th = gsl_vector_alloc(np);
    gsl_multimin_fdfminimizer *Mn = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, np);
    if (!P || !Q || !M || !G || !Z || !th || !Mn) {
        free(P), free(Q), free(M), free(G), free(Z);
        if (th) gsl_vector_free(th);
        if (Mn) gsl_multimin_fdfminimizer_free(Mn);
        return SMX_ENOMEM;
    }
    for (size_t i = 0; i < n * v; i++) P[i] = exp(A[i]);
    double *h = th->data, *a = h + K * n * d, *W = a + n * K, *b = W + v * d;
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < n; i++)
            for (size_t l = 0; l < d; l++)
                h[(k * n + i) * d + l] = (l < k0 ? u[i * k0 + l] * s[l] : 0) + gsl_ran_gaussian(r, 0.1);
    for (size_t i = 0; i < n * K; i++) a[i] = 0;
    for (size_t j = 0; j < v; j++)
        for (size_t l = 0; l < d; l++) W[j * d + l] = l < k0 ? vt[l * v + j] : 0;
    for (size_t j = 0; j < v; j++) b[j] = 0;
    mos_t F = {n, v, d, K, P, A, Q, M, G, Z};
    gsl_multimin_function_fdf fn = {mos_f, mos_df, mos_both, np, &F};
    gsl_multimin_fdfminimizer_set(Mn, &fn, th, 0.1, 0.1);
    for (int it = 0; it < iters; it++) {
        if (gsl_multimin_fdfminimizer_iterate(Mn)) break;
        if (gsl_multimin_test_gradient(Mn->gradient, 1e-10) == GSL_SUCCESS) break;
    }
    *kl_opt = mos_f(Mn->x, &F); /* M = the fitted mixture */
    for (size_t i = 0; i < n * v; i++) Lfit[i] = log(M[i]);
    gsl_multimin_fdfminimizer_free(Mn);
    gsl_vector_free(th);
    free(P), free(Q), free(M), free(G), free(Z);
    return SMX_OK;
}
