/* icl_closeness.c - smx-icl closeness: a single softmax self-attention layer trained on random softmax-regression
 * tasks vs softmax regression with one GD step (Li, Song, Xia, Yu, Zhou, "The Closeness of In-Context Learning and
 * Weight Shifting for Softmax Regression", NeurIPS 2024 version, Fig 1-2; no public code: the task distribution and
 * the model's input / output maps are ours, stated in --help and the metadata).
 *
 * Task: rows of A (n, d) ~ N(0, I/d), x* ~ N(0, (R^2/d) I), b = softmax(A x*).
 * Both methods read the document (A, b) and predict b:
 *   GD (weight shifting): one step from x0 = 0 on L(x) = 0.5 ||softmax(Ax) - b||^2: x1 = (eta/n) A^T (b - 1/n)
 *        (grad L(0) = (1/n) A^T (1/n - b) when sum b = 1), bhat = softmax(A x1); eta from a log grid minimising the
 *        mean loss on --scan-tasks training tasks.
 *   TF (in-context learning): tokens z_i = (a_i, n b_i) in R^D, D = d + 1; one softmax self-attention layer
 *        (one head, every token attends to every token, scores / sqrt(D); run in a fused form, cl_forward, tested
 *        against the same layer on solvers/attn's GEMM form, cl_forward_ref):
 *        o_i = sum_j softmax_j(q_i.k_j / sqrt(D)) v_j, q = W_Q z, k = W_K z, v = W_V z; the softmax unit
 *        bhat = softmax(s), s_i = w_O . o_i. Trained with Adam (lr 1e-3) on 0.5 ||bhat - b||^2, mean over the batch,
 *        fresh tasks every step; torch.nn.Linear's default initialisation.
 * Metrics on --eval-tasks fixed tasks (von Oswald et al.'s, with the in-context targets b as the input):
 *   test losses, Preds Diff = mean ||bhat_TF - bhat_GD||_2, Model Diff = mean ||J_TF u - J_GD u||_2 and
 *   Model Cos = mean cos(J_TF u, J_GD u) (1e-8 added to each norm), J = d bhat / d b along a random unit u with
 *   sum u = 0 (central differences, h = 1e-5). */
#include "icl_cmds.h"
#include "attn.h"
#include "icl_softreg.h"
#include "kernels.h"
#include "lse.h"
#include "nn.h"
#include "optim.h"
#include "smx.h"
#include "rng.h"
#include "machine.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>

typedef struct {
    size_t n, d, D, np;
    double *w, *g, *WQ, *WK, *WV, *wO;
    smx_tensor_t t[4];
    smx_attn_t at;
    /* work: Z, Q, K, V, O (n x D), E (dE in the backward), A (n x n), s, bh (n), dO, dQ, dK, dV (n x D);
     * the fused path's M, G (D x D), vw, tz (D), u, r (n); P, Y (n x D) are Q, K */
    double *Z, *Q, *K, *V, *O, *E, *Al, *s, *bh, *dO, *dQ, *dK, *dV, *M, *G, *vw, *tz, *u, *r;
} cl_model_t;

/* m's work buffers (sizes from m->n, m->D) */
static int cl_work_alloc(cl_model_t *m)
{
    size_t n = m->n, D = m->D, nD = n * D;
    double **p[] = {&m->Z, &m->Q, &m->K, &m->V, &m->O, &m->E, &m->Al, &m->s, &m->bh, &m->dO, &m->dQ, &m->dK, &m->dV,
                    &m->M, &m->G, &m->vw, &m->tz, &m->u, &m->r};
    size_t len[] = {nD, nD, nD, nD, nD, n * n, n * n, n, n, nD, nD, nD, nD, D * D, D * D, D, D, n, n};
    int bad = 0;
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) bad |= !(*p[i] = malloc(len[i] * sizeof(double)));
    return bad ? SMX_ENOMEM : SMX_OK;
}

static void cl_work_free(cl_model_t *m)
{
    double *p[] = {m->Z, m->Q, m->K, m->V, m->O, m->E, m->Al, m->s, m->bh, m->dO, m->dQ, m->dK, m->dV,
                   m->M, m->G, m->vw, m->tz, m->u, m->r};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

/* A worker: m's weights (shared, read-only), its own work buffers; g set per task by the caller. */
static int cl_worker_alloc(cl_model_t *wk, const cl_model_t *m)
{
    *wk = *m;
    wk->g = NULL;
    return cl_work_alloc(wk);
}

static int cl_alloc(cl_model_t *m, size_t n, size_t d, gsl_rng *r)
{
    memset(m, 0, sizeof *m);
    size_t D = d + 1;
    m->n = n, m->d = d, m->D = D, m->np = 3 * D * D + D;
    m->w = calloc(m->np, sizeof *m->w), m->g = calloc(m->np, sizeof *m->g);
    if (!m->w || !m->g || cl_work_alloc(m)) return SMX_ENOMEM;
    double **pw[4] = {&m->WQ, &m->WK, &m->WV, &m->wO};
    size_t tl[4] = {D * D, D * D, D * D, D}, off = 0;
    for (int i = 0; i < 4; i++) {
        *pw[i] = m->w + off;
        m->t[i] = (smx_tensor_t){m->w + off, m->g + off, tl[i]};
        smx_nn_init_uniform_f64(m->w + off, tl[i], D, r);
        off += tl[i];
    }
    smx_attn_init(&m->at, 1, D, D);
    return SMX_OK;
}

static void cl_free(cl_model_t *m)
{
    free(m->w), free(m->g);
    cl_work_free(m);
}

/* The float model of --dtype f32: the fused path's weights, gradient and work buffers (fields as cl_model_t's). */
typedef struct {
    size_t n, d, D, np;
    float *w, *g, *WQ, *WK, *WV, *wO;
    smx_tensor_t t[4];
    struct { double scale; } at;
    float *Z, *Q, *K, *O, *E, *Al, *s, *bh, *M, *G, *vw, *tz, *u, *r;
} cl_model_f32_t;

/* m's float work buffers (the fused path's only) */
static int cl_work_alloc_f32(cl_model_f32_t *m)
{
    size_t n = m->n, D = m->D, nD = n * D;
    float **p[] = {&m->Z, &m->Q, &m->K, &m->O, &m->E, &m->Al, &m->s, &m->bh, &m->M, &m->G, &m->vw, &m->tz, &m->u,
                   &m->r};
    size_t len[] = {nD, nD, nD, n, n * n, n * n, n, n, D * D, D * D, D, D, n, n};
    int bad = 0;
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) bad |= !(*p[i] = malloc(len[i] * sizeof(float)));
    return bad ? SMX_ENOMEM : SMX_OK;
}

static void cl_work_free_f32(cl_model_f32_t *m)
{
    float *p[] = {m->Z, m->Q, m->K, m->O, m->E, m->Al, m->s, m->bh, m->M, m->G, m->vw, m->tz, m->u, m->r};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

/* The float copy of m (weights rounded to float; own gradient and work buffers). */
static int cl_alloc_f32(cl_model_f32_t *f, const cl_model_t *m)
{
    memset(f, 0, sizeof *f);
    f->n = m->n, f->d = m->d, f->D = m->D, f->np = m->np, f->at.scale = m->at.scale;
    f->w = malloc(f->np * sizeof *f->w), f->g = calloc(f->np, sizeof *f->g);
    if (!f->w || !f->g || cl_work_alloc_f32(f)) return SMX_ENOMEM;
    for (size_t i = 0; i < f->np; i++) f->w[i] = (float)m->w[i];
    float **pw[4] = {&f->WQ, &f->WK, &f->WV, &f->wO};
    for (int i = 0; i < 4; i++) {
        *pw[i] = f->w + ((double *)m->t[i].w - m->w);
        f->t[i] = (smx_tensor_t){*pw[i], f->g + ((double *)m->t[i].w - m->w), m->t[i].n};
    }
    return SMX_OK;
}

/* A float worker: f's weights (shared, read-only), its own work buffers; g set per task by the caller. */
static int cl_worker_alloc_f32(cl_model_f32_t *wk, const cl_model_f32_t *f)
{
    *wk = *f;
    wk->g = NULL;
    return cl_work_alloc_f32(wk);
}

static void cl_free_f32(cl_model_f32_t *f)
{
    free(f->w), free(f->g);
    cl_work_free_f32(f);
}

/* The same layer, fused (what training and the metrics run). The model has one head and a scalar read-out, so
 *   E = scale Q K^T = Z M Z^T with M = scale WQ^T WK (D x D), and s = Al V wO = Al u with u = Z vw, vw = WV^T wO:
 * neither Q, K, V nor O (n x D) is formed. Backward: dAl = ds u^T (rank one), so the softmax VJP is
 * dE_ij = ds_i Al_ij (u_j - s_i) (<Al_i, u> = s_i), and with G = Z^T dE Z (D x D) and r = Al^T ds (n), t = Z^T r:
 *   dWQ = scale WK G^T,  dWK = scale WQ G,  dWV = wO t^T,  dwO = WV t.
 * Two GEMMs of n x n x D per task (E and dE Z) instead of the reference's six; the results equal the reference's
 * to rounding (t-icl: relative 1e-12). m->Q holds P = Z M, m->K holds Y = dE Z.
 * Written once (icl_closeness_fused.h) for double (default) and float (--dtype f32: model, work and Adam in
 * float; the tasks are drawn in double and rounded into the tokens; metrics run the double layer on the
 * float weights widened). Suffixes _f64 / _f32. */

#define CL_T double
#define CL_SFX f64
#define CL_MODEL cl_model_t
#define CL_GEMM cblas_dgemm
#define CL_GEMV cblas_dgemv
#define CL_GER cblas_dger
#define CL_SOFTMAX smx_softmax_f64
#define CL_SOFTMAX_ROW smx_kernels_softmax_f64
#include "icl_closeness_fused.h"
#undef CL_T
#undef CL_SFX
#undef CL_MODEL
#undef CL_GEMM
#undef CL_GEMV
#undef CL_GER
#undef CL_SOFTMAX
#undef CL_SOFTMAX_ROW
#define CL_T float
#define CL_SFX f32
#define CL_MODEL cl_model_f32_t
#define CL_GEMM cblas_sgemm
#define CL_GEMV cblas_sgemv
#define CL_GER cblas_sger
#define CL_SOFTMAX smx_softmax_f32
#define CL_SOFTMAX_ROW smx_kernels_softmax_f32
#include "icl_closeness_fused.h"

/* Reference TF forward (solvers/attn's GEMM form, as the layer is defined): m->bh = prediction for (A, b);
 * returns 0.5 ||bh - b||^2. Tests compare cl_forward / cl_backward with it. */
static double cl_forward_ref(cl_model_t *m, const double *A, const double *b)
{
    size_t n = m->n, D = m->D;
    cl_tokens_f64(m, A, b);
    smx_nn_dense_fwd_f64(m->Q, m->Z, m->WQ, NULL, n, D, D);
    smx_nn_dense_fwd_f64(m->K, m->Z, m->WK, NULL, n, D, D);
    smx_nn_dense_fwd_f64(m->V, m->Z, m->WV, NULL, n, D, D);
    /* all n queries at once (GEMM form; sizes > 0: cannot fail) */
    smx_attn_forward_rows(m->O, m->Al, m->Q, m->K, m->V, n, n, D, D, m->at.scale);
    for (size_t i = 0; i < n; i++) {
        double t = 0;
        for (size_t k = 0; k < D; k++) t += m->wO[k] * m->O[i * D + k];
        m->s[i] = t;
    }
    return cl_readout_f64(m, b);
}

/* Reference TF backward of scale * 0.5 ||bh - b||^2 (after cl_forward_ref on the same task), accumulated into m->g */
static void cl_backward_ref(cl_model_t *m, const double *b, double scale)
{
    size_t n = m->n, D = m->D;
    double *ds = m->s; /* s no longer needed: reuse for dL/ds */
    cl_readout_bwd_f64(ds, m, b, scale);
    double *gO = m->g + 3 * D * D;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < D; k++) gO[k] += ds[i] * m->O[i * D + k], m->dO[i * D + k] = ds[i] * m->wO[k];
    smx_attn_backward_rows(m->dQ, m->dK, m->dV, m->E, m->dO, m->Al, m->Q, m->K, m->V, n, n, D, D, m->at.scale);
    smx_nn_dense_bwd_acc_f64(NULL, m->g, NULL, m->dQ, m->Z, m->WQ, n, D, D);
    smx_nn_dense_bwd_acc_f64(NULL, m->g + D * D, NULL, m->dK, m->Z, m->WK, n, D, D);
    smx_nn_dense_bwd_acc_f64(NULL, m->g + 2 * D * D, NULL, m->dV, m->Z, m->WV, n, D, D);
}

/* one task: A, x*, b (n), plus a random unit direction u with sum u = 0 */
static void cl_sample(double *A, double *b, double *u, size_t n, size_t d, double R, gsl_rng *r)
{
    double xs[256], z[4096];
    icl_random_A(A, n, d, r);
    icl_random_normal(xs, d, R / sqrt((double)d), r);
    icl_softreg_f(b, A, xs, n, d, z);
    if (u) {
        double mean = 0, nn = 0;
        for (size_t i = 0; i < n; i++) mean += (u[i] = gsl_ran_gaussian_ziggurat(r, 1.0)) / (double)n;
        for (size_t i = 0; i < n; i++) u[i] -= mean, nn += u[i] * u[i];
        for (size_t i = 0; i < n; i++) u[i] /= sqrt(nn);
    }
}

/* GD prediction bh = softmax(A x1), x1 = (eta/n) A^T (b - 1/n); z: n, x1: d */
static double gd_predict(double *bh, const double *A, const double *b, size_t n, size_t d, double eta, double *x1,
                         double *z)
{
    for (size_t j = 0; j < d; j++) {
        double t = 0;
        for (size_t i = 0; i < n; i++) t += A[i * d + j] * (b[i] - 1.0 / (double)n);
        x1[j] = eta / (double)n * t;
    }
    icl_softreg_f(bh, A, x1, n, d, z);
    double l = 0;
    for (size_t i = 0; i < n; i++) l += (bh[i] - b[i]) * (bh[i] - b[i]);
    return 0.5 * l;
}

/* Test hook: the fused TF gradient vs central differences (n = 5, d = 3, one task, weights scaled up so the
 * attention is far from uniform); *ref_err: max relative difference of the fused loss, prediction and gradient
 * from the reference (solvers/attn) path's (n = 37, d = 6: not square, n != D). */
int icl_closeness_gradcheck(double *max_err, double *ref_err, unsigned long seed)
{
    cl_model_t m;
    size_t n = 5, d = 3;
    gsl_rng *r = smx_rng_alloc(seed);
    if (cl_alloc(&m, n, d, r)) return gsl_rng_free(r), SMX_ENOMEM;
    for (size_t i = 0; i < m.np; i++) m.w[i] *= 2.385;
    double A[37 * 6], b[37], bh[37], g[3 * 7 * 7 + 7];
    cl_sample(A, b, NULL, n, d, 3.0, r);
    memset(m.g, 0, m.np * sizeof *m.g);
    cl_forward_f64(&m, A, b);
    cl_backward_f64(&m, b, 1.0);
    double gmax = 0, emax = 0, h = 1e-6;
    for (size_t i = 0; i < m.np; i++) gmax = fmax(gmax, fabs(m.g[i]));
    for (size_t i = 0; i < m.np; i++) {
        double w0 = m.w[i];
        m.w[i] = w0 + h;
        double lp = cl_forward_f64(&m, A, b);
        m.w[i] = w0 - h;
        double lm = cl_forward_f64(&m, A, b);
        m.w[i] = w0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h) - m.g[i]));
    }
    *max_err = emax / gmax;
    cl_free(&m);
    n = 37, d = 6;
    if (cl_alloc(&m, n, d, r)) return gsl_rng_free(r), SMX_ENOMEM;
    for (size_t i = 0; i < m.np; i++) m.w[i] *= 2.385;
    cl_sample(A, b, NULL, n, d, 3.0, r);
    gsl_rng_free(r);
    memset(m.g, 0, m.np * sizeof *m.g);
    double l1 = cl_forward_ref(&m, A, b);
    memcpy(bh, m.bh, n * sizeof *bh);
    cl_backward_ref(&m, b, 0.75);
    memcpy(g, m.g, m.np * sizeof *g);
    memset(m.g, 0, m.np * sizeof *m.g);
    double l2 = cl_forward_f64(&m, A, b), e = fabs(l2 - l1) / fabs(l1), bmax = 0, gm = 0, eb = 0, eg = 0;
    cl_backward_f64(&m, b, 0.75);
    for (size_t i = 0; i < n; i++) bmax = fmax(bmax, fabs(bh[i])), eb = fmax(eb, fabs(m.bh[i] - bh[i]));
    for (size_t i = 0; i < m.np; i++) gm = fmax(gm, fabs(g[i])), eg = fmax(eg, fabs(m.g[i] - g[i]));
    *ref_err = fmax(e, fmax(eb / bmax, eg / gm));
    cl_free(&m);
    return SMX_OK;
}

/* Test hook: the float layer (--dtype f32) against the double layer on the same weights (rounded to float, so both
 * models hold the same values) and the same task: max relative difference of the loss, the prediction and the
 * gradient (relative to their max norms), *err; n, d: the layer's size (weights scaled up as in the gradcheck). */
int icl_closeness_f32check(double *err, size_t n, size_t d, unsigned long seed)
{
    cl_model_t m;
    cl_model_f32_t f;
    gsl_rng *r = smx_rng_alloc(seed);
    double *A = malloc(n * d * sizeof *A), *b = malloc(n * sizeof *b);
    int st = A && b ? cl_alloc(&m, n, d, r) : SMX_ENOMEM;
    if (!st) {
        for (size_t i = 0; i < m.np; i++) m.w[i] = (float)(2.385 * m.w[i]);
        st = cl_alloc_f32(&f, &m);
    }
    if (!st) {
        cl_sample(A, b, NULL, n, d, 3.0, r);
        memset(m.g, 0, m.np * sizeof *m.g);
        double l64 = cl_forward_f64(&m, A, b), l32 = cl_forward_f32(&f, A, b), bmax = 0, eb = 0, gm = 0, eg = 0;
        cl_backward_f64(&m, b, 0.75);
        cl_backward_f32(&f, b, 0.75);
        for (size_t i = 0; i < n; i++) bmax = fmax(bmax, fabs(m.bh[i])), eb = fmax(eb, fabs(f.bh[i] - m.bh[i]));
        for (size_t i = 0; i < m.np; i++) gm = fmax(gm, fabs(m.g[i])), eg = fmax(eg, fabs(f.g[i] - m.g[i]));
        *err = fmax(fabs(l32 - l64) / fabs(l64), fmax(eb / bmax, eg / gm));
        cl_free_f32(&f);
    }
    cl_free(&m);
    free(A), free(b);
    gsl_rng_free(r);
    return st;
}

typedef struct {
    size_t n, d, B, evt, sct;
    long steps, logev;
    double R, lr, wd; /* wd: AdamW's decoupled weight decay (0: Adam) */
    int quiet;        /* no steps/s line on stderr */
    int f32;          /* --dtype f32: train the float model (cl_model_f32_t) */
} cl_cfg_t;

enum { CM_LTF, CM_LGD, CM_PD, CM_MD, CM_MC, CM_NV };

/* Metrics of one evaluation task (A, b, direction u) on worker wk: e[CM_*]; v: 8 n scratch, bt: n scratch. */
static void cl_eval_task(double *e, cl_model_t *wk, const double *A, const double *b, const double *u, double eta,
                         double *v, double *TA)
{
    size_t n = wk->n, d = wk->d;
    double h = 1e-5, *bp = v, *bm = v + n, *jt = v + 2 * n, *jg = v + 3 * n, *bt = v + 4 * n, *bg = v + 5 * n;
    double lt = cl_forward_f64(wk, A, b);
    memcpy(bt, wk->bh, n * sizeof *bt);
    double lg = gd_predict(bg, A, b, n, d, eta, v + 6 * n, v + 7 * n), pd = 0;
    for (size_t k = 0; k < n; k++) pd += (bt[k] - bg[k]) * (bt[k] - bg[k]);
    /* directional derivatives along u by central differences */
    for (int sg = 0; sg < 2; sg++) {
        for (size_t k = 0; k < n; k++) TA[k] = b[k] + (sg ? -h : h) * u[k];
        cl_forward_f64(wk, A, TA);
        memcpy(sg ? bm : bp, wk->bh, n * sizeof *bp);
    }
    for (size_t k = 0; k < n; k++) jt[k] = (bp[k] - bm[k]) / (2 * h);
    for (int sg = 0; sg < 2; sg++) {
        for (size_t k = 0; k < n; k++) TA[k] = b[k] + (sg ? -h : h) * u[k];
        gd_predict(sg ? bm : bp, A, TA, n, d, eta, v + 6 * n, v + 7 * n);
    }
    double nt = 0, ng = 0, dd = 0, dot = 0;
    for (size_t k = 0; k < n; k++) {
        jg[k] = (bp[k] - bm[k]) / (2 * h);
        nt += jt[k] * jt[k], ng += jg[k] * jg[k], dd += (jt[k] - jg[k]) * (jt[k] - jg[k]);
        dot += jt[k] * jg[k];
    }
    e[CM_LTF] = lt, e[CM_LGD] = lg, e[CM_PD] = sqrt(pd), e[CM_MD] = sqrt(dd);
    e[CM_MC] = dot / ((sqrt(nt) + 1e-8) * (sqrt(ng) + 1e-8));
}

/* One training run; out[k * CM_NV + v] for log point k = 0..steps/logev; *eta_out = GD's eta.
 * Inside the run, the evaluation tasks and the batch's tasks are spread over the threads (when the caller's
 * loop over runs is not already parallel): one worker (work buffers) per thread, per-task results and
 * gradients summed in task order, so the bytes do not depend on --threads. */
static int cl_run(double *out, double *eta_out, const cl_cfg_t *c, unsigned long seed, unsigned long stream)
{
    size_t n = c->n, d = c->d, nd = n * d, B = c->B, nw = (size_t)omp_get_max_threads();
    gsl_rng *r = smx_rng_alloc_stream(seed, stream), *re = smx_rng_alloc_stream(seed, stream + 1);
    cl_model_t m, *wk = calloc(nw, sizeof *wk);
    cl_model_f32_t mf = {0}, *wkf = c->f32 ? calloc(nw, sizeof *wkf) : NULL;
    float *gBf = NULL;
    smx_optim_t *o = NULL;
    smx_optim_cfg_t cfg;
    smx_optim_cfg_default(&cfg, SMX_OPTIM_ADAMW);
    cfg.lr = c->lr, cfg.weight_decay = c->wd; /* 0: Adam */
    size_t ev = c->evt, sc = c->sct;
    int st = cl_alloc(&m, n, d, r);
    double *EA = malloc(ev * nd * sizeof *EA), *Eb = malloc(ev * n * sizeof *Eb), *Eu = malloc(ev * n * sizeof *Eu),
           *Sb = malloc(sc * n * sizeof *Sb), *TA = malloc(2 * B * nd * sizeof *TA), *Tb = malloc(2 * B * n * sizeof *Tb),
           *v = malloc(nw * 9 * n * sizeof *v), *SAall = malloc(sc * nd * sizeof *SAall),
           *er = malloc(ev * CM_NV * sizeof *er), *gB = malloc(B * m.np * sizeof *gB);
    if (!EA || !Eb || !Eu || !Sb || !TA || !Tb || !v || !SAall || !er || !gB || !wk) st = SMX_ENOMEM;
    for (size_t t = 0; t < nw && !st; t++) st = cl_worker_alloc(wk + t, &m);
    if (c->f32 && !st) { /* the float model from the same initial weights, rounded */
        st = cl_alloc_f32(&mf, &m);
        if (!st && !(wkf && (gBf = malloc(B * m.np * sizeof *gBf)))) st = SMX_ENOMEM;
        for (size_t t = 0; t < nw && !st; t++) st = cl_worker_alloc_f32(wkf + t, &mf);
    }
    size_t lens[4] = {m.D * m.D, m.D * m.D, m.D * m.D, m.D};
    if (!st) st = smx_optim_alloc(&o, &cfg, c->f32 ? SMX_DTYPE_F32 : SMX_DTYPE_F64, lens, 4);
    if (!st) {
        for (size_t i = 0; i < ev; i++) cl_sample(EA + i * nd, Eb + i * n, Eu + i * n, n, d, c->R, re);
        /* eta: log grid 10^(k/8), k = 0..48, on the scan (training) tasks */
        for (size_t i = 0; i < sc; i++) cl_sample(SAall + i * nd, Sb + i * n, NULL, n, d, c->R, r);
        double best = INFINITY, eta = 1;
        for (int k = 0; k <= 48; k++) {
            double e = pow(10.0, k / 8.0), l = 0;
            for (size_t i = 0; i < sc; i++) l += gd_predict(v, SAall + i * nd, Sb + i * n, n, d, e, v + n, v + 2 * n);
            if (l < best) best = l, eta = e;
        }
        *eta_out = eta;
        size_t nl = 0;
        double ttrain = 0; /* training time only (not the metrics), for the steps/s line on stderr */
        for (long s = 0; s <= c->steps; s++) {
            if (s % c->logev == 0) {
                if (c->f32) /* metrics: the double layer on the float weights */
                    for (size_t k = 0; k < m.np; k++) m.w[k] = (double)mf.w[k];
#pragma omp parallel for schedule(dynamic, 1)
                for (size_t i = 0; i < ev; i++) {
                    size_t t = (size_t)omp_get_thread_num();
                    double *vt = v + t * 9 * n;
                    cl_eval_task(er + i * CM_NV, wk + t, EA + i * nd, Eb + i * n, Eu + i * n, eta, vt, vt + 8 * n);
                }
                double *row = out + nl++ * CM_NV;
                memset(row, 0, CM_NV * sizeof *row);
                for (size_t i = 0; i < ev; i++) /* task order */
                    for (int k = 0; k < CM_NV; k++) row[k] += er[i * CM_NV + k] / (double)ev;
            }
            if (s == c->steps) break;
            double t0 = smx_time_now();
            /* batch s in buffer s % 2 (batch 0 sampled here); one thread samples batch s + 1 into the other buffer,
             * in order from the same stream, while the others (then it too) run batch s's tasks */
            double *bA = TA + (size_t)(s % 2) * B * nd, *bb = Tb + (size_t)(s % 2) * B * n;
            double *nA = TA + (size_t)((s + 1) % 2) * B * nd, *nb = Tb + (size_t)((s + 1) % 2) * B * n;
            if (s == 0)
                for (size_t bi = 0; bi < B; bi++) cl_sample(bA + bi * nd, bb + bi * n, NULL, n, d, c->R, r);
#pragma omp parallel
            {
#pragma omp single nowait
                if (s + 1 < c->steps)
                    for (size_t bi = 0; bi < B; bi++) cl_sample(nA + bi * nd, nb + bi * n, NULL, n, d, c->R, r);
#pragma omp for schedule(dynamic, 1)
                for (size_t bi = 0; bi < B; bi++) {
                    if (c->f32) {
                        cl_model_f32_t *w = wkf + omp_get_thread_num();
                        w->g = gBf + bi * m.np;
                        memset(w->g, 0, m.np * sizeof *w->g);
                        cl_forward_f32(w, bA + bi * nd, bb + bi * n);
                        cl_backward_f32(w, bb + bi * n, 1.0 / (double)B);
                    } else {
                        cl_model_t *w = wk + omp_get_thread_num();
                        w->g = gB + bi * m.np;
                        memset(w->g, 0, m.np * sizeof *w->g);
                        cl_forward_f64(w, bA + bi * nd, bb + bi * n);
                        cl_backward_f64(w, bb + bi * n, 1.0 / (double)B);
                    }
                }
            }
            if (c->f32) {
                memset(mf.g, 0, m.np * sizeof *mf.g);
                for (size_t bi = 0; bi < B; bi++) /* task order */
                    for (size_t k = 0; k < m.np; k++) mf.g[k] += gBf[bi * m.np + k];
                st = smx_optim_step(o, mf.t, 4);
            } else {
                memset(m.g, 0, m.np * sizeof *m.g);
                for (size_t bi = 0; bi < B; bi++) /* task order */
                    for (size_t k = 0; k < m.np; k++) m.g[k] += gB[bi * m.np + k];
                st = smx_optim_step(o, m.t, 4);
            }
            ttrain += smx_time_now() - t0;
            if (st) break;
        }
        if (c->steps > 0 && ttrain > 0 && !c->quiet)
            fprintf(stderr, "smx-icl closeness: n = %zu, d = %zu, batch %zu: %.1f train steps/s\n", n, d, c->B,
                    (double)c->steps / ttrain);
    }
    smx_optim_free(o);
    for (size_t t = 0; wk && t < nw; t++) cl_work_free(wk + t);
    for (size_t t = 0; wkf && t < nw; t++) cl_work_free_f32(wkf + t);
    cl_free(&m);
    if (c->f32) cl_free_f32(&mf);
    free(wkf), free(gBf);
    free(wk), free(EA), free(Eb), free(Eu), free(Sb), free(TA), free(Tb), free(v), free(SAall), free(er), free(gB);
    gsl_rng_free(r), gsl_rng_free(re);
    return st;
}

/* ---------------- program ---------------- */

static const char usage[] =
    "Usage: smx-icl closeness [OPTIONS]\n"
    "Li et al. (NeurIPS 2024) Fig 1-2 analogue (no public code; the task distribution and the model's input /\n"
    "output maps are ours): rows of A ~ N(0, I/d), x* ~ N(0, (R^2/d) I), b = softmax(A x*). Both methods read\n"
    "(A, b) and predict b: softmax regression with one GD step from 0, bhat = softmax(A x1), x1 = (eta/n) A^T (b - 1/n)\n"
    "(eta: best of a log grid 1..1e6 on --scan-tasks training tasks), vs a single softmax self-attention layer over\n"
    "the tokens (a_i, n b_i) with a softmax unit over the tokens' scalar read-outs (w_O . o_i), trained with Adam\n"
    "(lr 1e-3, no weight decay) on 0.5 ||bhat - b||^2, fresh tasks every step. Metrics (von Oswald et al.'s, the\n"
    "in-context targets b as the input): test losses of both, Preds Diff ||bhat_TF - bhat_GD||, Model Diff and\n"
    "Model Cos of the directional derivatives d bhat / d b along a random unit u (sum u = 0), on --eval-tasks\n"
    "fixed tasks; mean and std over --reps repetitions (independent models, data and eta). Second file: final\n"
    "losses vs d at n = --vs-d-n (Fig 2 analogue).\n"
    "  --n LIST       (default 200,25)  --d N (default 20)  --R X (default 4)\n"
    "  --reps N       (default 10, both profiles: the issue's 10 repetitions)\n"
    "  --steps N      (quick 300, paper 3000)   --batch N (quick 16, paper 64)   --lr X (default 1e-3)\n"
    "  --weight-decay X  AdamW's decoupled weight decay (default 0: Adam)\n"
    "  --dtype f64|f32  the layer's training precision (default f64). f32: weights, forward, backward, gradient and\n"
    "                 Adam in float (PyTorch's CPU default; like for like in make bench-icl); tasks drawn in double,\n"
    "                 metrics by the double layer on the float weights\n"
    "  --log-every N  (quick 50, paper 100)\n"
    "  --eval-tasks N (quick 64, paper 1000)    --scan-tasks N (quick 64, paper 1000)\n"
    "  --vs-d LIST    (default 5,10,20,40; none: no Fig 2 runs, OUT-vs-d.tsv has no rows)   --vs-d-n N (default 25)\n"
    "  --seed N --out FILE (default data/quick/icl-closeness.tsv; also OUT-vs-d.tsv) --profile quick|paper\n"
    "  --threads N (runs in parallel, one thread each; a single run (e.g. --reps 1 --vs-d none) spreads its\n"
    "  evaluation and batch tasks over the threads: same bytes) --quiet (no steps/s lines) --help --version\n";

enum { O_N = SMX_OPT_FIRST_PRIVATE, O_D, O_R, O_REPS, O_STEPS, O_BATCH, O_LR, O_LOG, O_EVT, O_SCT, O_VSD, O_VSDN, O_WD, O_DTYPE };

static void mean_std(double *mean, double *sd, const double *x, size_t k, size_t stride)
{
    double m = 0, q = 0;
    for (size_t i = 0; i < k; i++) m += x[i * stride] / (double)k;
    for (size_t i = 0; i < k; i++) q += (x[i * stride] - m) * (x[i * stride] - m);
    *mean = m, *sd = k > 1 ? sqrt(q / (double)(k - 1)) : 0;
}

int icl_cmd_closeness(int argc, char **argv)
{
    static const char prog[] = "smx-icl closeness";
    static const struct option lopts[] = {
        SMX_CLI_ARG("n", O_N), SMX_CLI_ARG("d", O_D), SMX_CLI_ARG("R", O_R), SMX_CLI_ARG("reps", O_REPS),
        SMX_CLI_ARG("steps", O_STEPS), SMX_CLI_ARG("batch", O_BATCH), SMX_CLI_ARG("lr", O_LR),
        SMX_CLI_ARG("log-every", O_LOG), SMX_CLI_ARG("eval-tasks", O_EVT), SMX_CLI_ARG("scan-tasks", O_SCT),
        SMX_CLI_ARG("vs-d", O_VSD), SMX_CLI_ARG("vs-d-n", O_VSDN), SMX_CLI_ARG("weight-decay", O_WD),
        SMX_CLI_ARG("dtype", O_DTYPE), ICL_COMMON_OPTIONS, {0, 0, 0, 0}};
    smx_cli_common_t cc;
    smx_cli_common_init(&cc);
    size_t ns[8] = {200, 25}, nn = 2, ds[16] = {5, 10, 20, 40}, nd = 4, d = 20, vn = 25;
    long reps = -1, steps = -1, B = -1, logev = -1, evt = -1, sct = -1;
    double R = 4, lr = 1e-3, wd = 0;
    int opt, quiet = 0, f32 = 0;
    icl_opt_begin();
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_N: nn = icl_sizes_or_fail(ns, 8, optarg, 2, 4096, prog, "--n"); break;
        case O_D: d = (size_t)smx_cli_long_or_fail(optarg, 1, 255, prog, "--d"); break;
        case O_R: R = smx_cli_double_or_fail(optarg, prog, "--R");
            if (!(R > 0 && R < 1e3)) smx_cli_fail(prog, "--R: must be in (0, 1000)");
            break;
        case O_REPS: reps = smx_cli_long_or_fail(optarg, 1, 10000, prog, "--reps"); break;
        case O_STEPS: steps = smx_cli_long_or_fail(optarg, 0, 100000000, prog, "--steps"); break;
        case O_BATCH: B = smx_cli_long_or_fail(optarg, 1, 1 << 20, prog, "--batch"); break;
        case O_LR: lr = smx_cli_double_or_fail(optarg, prog, "--lr");
            if (!(lr > 0 && lr < 10)) smx_cli_fail(prog, "--lr: must be in (0, 10)");
            break;
        case O_LOG: logev = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--log-every"); break;
        case O_EVT: evt = smx_cli_long_or_fail(optarg, 1, 10000000, prog, "--eval-tasks"); break;
        case O_SCT: sct = smx_cli_long_or_fail(optarg, 1, 10000000, prog, "--scan-tasks"); break;
        case O_VSD: nd = strcmp(optarg, "none") ? icl_sizes_or_fail(ds, 16, optarg, 1, 255, prog, "--vs-d") : 0; break;
        case O_VSDN: vn = (size_t)smx_cli_long_or_fail(optarg, 2, 4096, prog, "--vs-d-n"); break;
        case O_WD: wd = smx_cli_double_range_or_fail(optarg, 0, 10, prog, "--weight-decay"); break;
        case O_DTYPE:
            if (strcmp(optarg, "f64") && strcmp(optarg, "f32")) smx_cli_fail(prog, "--dtype: must be f64 or f32");
            f32 = !strcmp(optarg, "f32");
            break;
        default:
            smx_cli_common_or_quiet(&cc, &quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    char outbuf[64];
    const char *out = icl_opt_end(&cc, "icl-closeness", outbuf, sizeof outbuf, prog, argc, argv);
    char *pv = icl_sibling(out, "vs-d");
    if (!pv) smx_cli_fail(prog, "out of memory");
    smx_cli_out_check_or_fail(pv, prog, "--out"); /* before any work */
    int paper = cc.profile == SMX_PROFILE_PAPER;
    if (reps < 0) reps = 10; /* issue 14: 10 repetitions, mean and std (quick too: ~22 s of CPU since the fused layer) */
    if (steps < 0) steps = paper ? 3000 : 300;
    if (B < 0) B = paper ? 64 : 16;
    if (logev < 0) logev = paper ? 100 : 50;
    if (evt < 0) evt = paper ? 1000 : 64;
    if (sct < 0) sct = paper ? 1000 : 64;
    size_t nlog = (size_t)(steps / logev) + 1, K = (size_t)reps, nruns = (nn + nd) * K;
    double *res = calloc(nruns * nlog * CM_NV, sizeof *res), *etas = calloc(nruns, sizeof *etas);
    if (!res || !etas) smx_cli_fail(prog, "out of memory");
    int fail = 0;
    omp_set_max_active_levels(1);
#pragma omp parallel for schedule(dynamic, 1) if (nruns > 1)
    for (size_t ri = 0; ri < nruns; ri++) { /* runs: (n list x reps), then (d list x reps) at n = vs-d-n */
        size_t g = ri / K;
        cl_cfg_t c = {.n = g < nn ? ns[g] : vn, .d = g < nn ? d : ds[g - nn], .B = (size_t)B, .evt = (size_t)evt,
                      .sct = (size_t)sct, .steps = steps, .logev = logev, .R = R, .lr = lr, .wd = wd, .quiet = quiet,
                      .f32 = f32};
        int st = cl_run(res + ri * nlog * CM_NV, etas + ri, &c, cc.seed, 16 * (ri + 1));
        if (st) {
#pragma omp critical
            fail = st;
        }
    }
    if (fail) smx_cli_fail(prog, "out of memory");
    smx_tsv_t *ts[2] = {0}; /* the two files appear together or not at all (smx_tsv_close_all) */
    for (int f = 0; f < 2; f++) {
        smx_tsv_t *t = ts[f] = smx_tsv_open(f ? pv : out);
        if (!t) {
            if (f) smx_tsv_abort(ts[0]);
            smx_cli_io_fail(prog, "--out: cannot write", f ? pv : out);
        }
        smx_tsv_meta_std(t, prog, argc, argv);
        smx_cli_meta(t, &cc);
        double nv[8], dv[16];
        for (size_t i = 0; i < nn; i++) nv[i] = (double)ns[i];
        for (size_t i = 0; i < nd; i++) dv[i] = (double)ds[i];
        icl_meta_list(t, "n", nv, nn);
        smx_tsv_meta(t, "d", "%zu", d);
        smx_tsv_meta(t, "R", "%g", R);
        smx_tsv_meta(t, "reps", "%ld", reps);
        smx_tsv_meta(t, "steps", "%ld", steps);
        smx_tsv_meta(t, "batch", "%ld", B);
        smx_tsv_meta(t, "lr", "%g", lr);
        if (wd != 0) smx_tsv_meta(t, "weight_decay", "%g", wd); /* only when set: default outputs keep their bytes */
        if (f32) smx_tsv_meta(t, "dtype", "f32 (metrics: the double layer on the float weights)"); /* likewise */
        smx_tsv_meta(t, "eval_tasks", "%ld", evt);
        smx_tsv_meta(t, "scan_tasks", "%ld", sct);
        icl_meta_list(t, "vs_d", dv, nd);
        smx_tsv_meta(t, "vs_d_n", "%zu", vn);
        icl_meta_list(t, "eta_gd_per_run", etas, nruns);
        smx_tsv_meta(t, "task", "rows of A ~ N(0, I/d), x* ~ N(0, (R^2/d) I), b = softmax(A x*) (ours; the paper gives none)");
        if (!f) {
            smx_tsv_header(t, "n\td\tstep\ttest_loss_tf\ttest_loss_tf_std\ttest_loss_gd\ttest_loss_gd_std\tpreds_diff\t"
                              "preds_diff_std\tmodel_diff\tmodel_diff_std\tmodel_cos\tmodel_cos_std");
            for (size_t g = 0; g < nn; g++)
                for (size_t k = 0; k < nlog; k++) {
                    smx_tsv_int(t, (long long)ns[g]);
                    smx_tsv_int(t, (long long)d);
                    smx_tsv_int(t, (long long)(k * (size_t)logev));
                    for (int v = 0; v < CM_NV; v++) {
                        double m, sd;
                        mean_std(&m, &sd, res + (g * K * nlog + k) * CM_NV + v, K, nlog * CM_NV);
                        smx_tsv_num(t, m);
                        smx_tsv_num(t, sd);
                    }
                    smx_tsv_endrow(t);
                }
        } else {
            smx_tsv_header(t, "n\td\ttest_loss_tf\ttest_loss_tf_std\ttest_loss_gd\ttest_loss_gd_std\tmodel_cos\tmodel_cos_std");
            for (size_t g = nn; g < nn + nd; g++) {
                smx_tsv_int(t, (long long)vn);
                smx_tsv_int(t, (long long)ds[g - nn]);
                int cols[3] = {CM_LTF, CM_LGD, CM_MC};
                for (int v = 0; v < 3; v++) {
                    double m, sd;
                    mean_std(&m, &sd, res + (g * K * nlog + nlog - 1) * CM_NV + cols[v], K, nlog * CM_NV);
                    smx_tsv_num(t, m);
                    smx_tsv_num(t, sd);
                }
                smx_tsv_endrow(t);
            }
        }
    }
    int st = smx_tsv_close_all(ts, 2);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out); /* errno: the first failure */
    free(res), free(etas), free(pv);
    return st ? SMX_EXIT_FAILURE : 0;
}
