/* collapse_model.c - MLP forward/backward, loss in an emulated format, SC metrics. See collapse_model.h. */
#include "collapse_model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nn.h"
#include "smx.h"
#include "stablemax.h"
#include "rng.h"

/* ---------------- model ---------------- */

size_t collapse_label(const collapse_model_t *m, size_t i)
{
    size_t V = m->V, a = i / V, b = i % V;
    switch (m->cfg.op) {
    case COLLAPSE_OP_MUL: return (a * b) % V;
    case COLLAPSE_OP_SUB: return (a + V - b) % V;
    default: return (a + b) % V;
    }
}

static size_t dsize(const collapse_model_t *m) { return m->cfg.dtype == SMX_DTYPE_F32 ? sizeof(float) : sizeof(double); }

double collapse_param_get(const collapse_model_t *m, size_t i)
{
    return m->cfg.dtype == SMX_DTYPE_F32 ? ((const float *)m->param)[i] : ((const double *)m->param)[i];
}
void collapse_param_set(collapse_model_t *m, size_t i, double v)
{
    if (m->cfg.dtype == SMX_DTYPE_F32) ((float *)m->param)[i] = (float)v;
    else ((double *)m->param)[i] = v;
}
double collapse_grad_get(const collapse_model_t *m, size_t i)
{
    return m->cfg.dtype == SMX_DTYPE_F32 ? ((const float *)m->grad)[i] : ((const double *)m->grad)[i];
}

void collapse_model_free(collapse_model_t *m)
{
    if (!m) return;
    free(m->train);
    free(m->test);
    free(m->param);
    free(m->grad);
    smx_optim_free(m->opt);
    for (size_t l = 0; l < COLLAPSE_MAX_DEPTH; l++) free(m->h[l]);
    free(m->z);
    free(m->dz);
    free(m->dh[0]);
    free(m->dh[1]);
    free(m->zrow_d);
    free(m->grow_d);
    free(m->rows);
    if (m->xent)
        for (int t = 0; t < m->nthreads; t++) smx_xent_free(m->xent[t]);
    free(m->xent);
    free(m);
}

int collapse_model_alloc(collapse_model_t **out, const collapse_cfg_t *cfg)
{
    *out = NULL;
    if (cfg->modulus < 2 || cfg->width < 1 || cfg->depth < 1 || cfg->depth > COLLAPSE_MAX_DEPTH ||
        !(cfg->train_frac > 0 && cfg->train_frac < 1))
        return SMX_EDOM;
    collapse_model_t *m = calloc(1, sizeof *m);
    if (!m) return SMX_ENOMEM;
    m->cfg = *cfg;
    m->V = (size_t)cfg->modulus;
    m->W = (size_t)cfg->width;
    m->D = (size_t)cfg->depth;
    size_t V = m->V, W = m->W, D = m->D, P = V * V;
    m->ntrain = (size_t)floor(cfg->train_frac * (double)P);
    if (m->ntrain < 1 || m->ntrain >= P) { free(m); return SMX_EDOM; }
    m->ntest = P - m->ntrain;
#ifdef _OPENMP
    m->nthreads = omp_get_max_threads();
#else
    m->nthreads = 1;
#endif
    int st = SMX_ENOMEM;
    /* split: a fixed shuffle of all pairs (stream 0) */
    size_t *all = malloc(P * sizeof *all);
    m->train = malloc(m->ntrain * sizeof *m->train);
    m->test = malloc(m->ntest * sizeof *m->test);
    if (!all || !m->train || !m->test) { free(all); goto fail; }
    for (size_t i = 0; i < P; i++) all[i] = i;
    gsl_rng *r0 = smx_rng_alloc_stream(cfg->seed, 0);
    gsl_ran_shuffle(r0, all, P, sizeof *all);
    gsl_rng_free(r0);
    memcpy(m->train, all, m->ntrain * sizeof *all);
    memcpy(m->test, all + m->ntrain, m->ntest * sizeof *all);
    free(all);
    /* parameters: E (2V, W), W_l (W, W) for l = 2..D, W_out (V, W) */
    size_t len[COLLAPSE_MAX_DEPTH + 1], fan[COLLAPSE_MAX_DEPTH + 1];
    len[0] = 2 * V * W; fan[0] = 2 * V;
    for (size_t l = 1; l < D; l++) { len[l] = W * W; fan[l] = W; }
    len[D] = V * W; fan[D] = W;
    m->off[0] = 0;
    for (size_t l = 0; l <= D; l++) m->off[l + 1] = m->off[l] + len[l];
    m->nparam = m->off[D + 1];
    size_t ds = dsize(m);
    m->param = calloc(m->nparam, ds);
    m->grad = calloc(m->nparam, ds);
    if (!m->param || !m->grad) goto fail;
    gsl_rng *r1 = smx_rng_alloc_stream(cfg->seed, 1);
    for (size_t l = 0; l <= D; l++) {
        m->tens[l].w = (char *)m->param + m->off[l] * ds;
        m->tens[l].g = (char *)m->grad + m->off[l] * ds;
        m->tens[l].n = len[l];
        if (cfg->dtype == SMX_DTYPE_F32) smx_nn_init_uniform_f32(m->tens[l].w, len[l], fan[l], r1);
        else smx_nn_init_uniform_f64(m->tens[l].w, len[l], fan[l], r1);
    }
    gsl_rng_free(r1);
    if ((st = smx_optim_alloc(&m->opt, &cfg->opt, cfg->dtype, len, D + 1)) != SMX_OK) goto fail;
    st = SMX_ENOMEM;
    size_t R = m->ntrain > m->ntest ? m->ntrain : m->ntest;
    for (size_t l = 0; l < D; l++)
        if (!(m->h[l] = malloc(R * W * ds))) goto fail;
    m->z = malloc(R * V * ds);
    m->dz = malloc(R * V * ds);
    m->dh[0] = malloc(R * W * ds);
    m->dh[1] = malloc(R * W * ds);
    m->zrow_d = malloc((size_t)m->nthreads * V * sizeof(double));
    m->grow_d = malloc((size_t)m->nthreads * V * sizeof(double));
    m->rows = malloc(R * sizeof *m->rows);
    m->xent = calloc((size_t)m->nthreads, sizeof *m->xent);
    if (!m->z || !m->dz || !m->dh[0] || !m->dh[1] || !m->zrow_d || !m->grow_d || !m->rows || !m->xent) goto fail;
    for (int t = 0; t < m->nthreads; t++)
        if ((st = smx_xent_alloc(&m->xent[t], V, cfg->loss, cfg->sum, &cfg->fmt, 0)) != SMX_OK) goto fail;
    *out = m;
    return SMX_OK;
fail:
    collapse_model_free(m);
    return st;
}

static inline int collapse_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
static inline int collapse_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

size_t collapse_runner_up(const double *z, size_t n, size_t y)
{
    size_t r = y == 0 ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        if (i != y && z[i] > z[r]) r = i;
    return r;
}

void collapse_grad_parts(collapse_gparts_t *p, const double *g, size_t n, size_t y, size_t r)
{
    p->gy = g[y];
    p->gr = g[r];
    p->go = 0;
    p->gsum = 0;
    for (size_t i = 0; i < n; i++) {
        p->gsum += g[i];
        if (i != y && i != r) p->go += g[i];
    }
}

/* g_y <- fl(-sum_{i != y} g_i) (collapse_gy_t) */
static double zero_sum_gy(const double *g, size_t V, size_t y, const smx_format_t *f)
{
    double s = 0;
    for (size_t k = 0; k < V; k++)
        if (k != y) s += g[k];
    return smx_format_round(-s, f);
}

/* A float model's rows with the correct-class gradient of the format (the default): the losses,
 * accuracies and dz (n, V) (1/n scaled) by smx_xent_eval_f32_rows in blocks of 16 rows (the same
 * values as the double route of loss_rows, vectorised for fp32; any thread count: each row's
 * values are its own); returns 0, doing nothing, for the other cases (the double route). */
enum { LOSS_BLOCK = 16 };
static int loss_rows_float_f32(collapse_model_t *m, const size_t *idx, size_t n, float *dz, double invn)
{
    if (dz && m->cfg.gy != COLLAPSE_GY_FORMAT) return 0;
    const size_t V = m->V, nb = (n + LOSS_BLOCK - 1) / LOSS_BLOCK;
    _Pragma("omp parallel for schedule(static)")
    for (size_t b = 0; b < nb; b++) {
        const size_t i0 = b * LOSS_BLOCK, R = n - i0 < LOSS_BLOCK ? n - i0 : LOSS_BLOCK;
        size_t y[LOSS_BLOCK], am[LOSS_BLOCK];
        smx_xent_row_t r[LOSS_BLOCK];
        for (size_t j = 0; j < R; j++) y[j] = collapse_label(m, idx[i0 + j]);
        /* V = the workspace's n, y < V: cannot fail */
        (void)smx_xent_eval_f32_rows(m->xent[collapse_thread_num()], r, dz ? dz + i0 * V : NULL, V, invn,
                                     (const float *)m->z + i0 * V, V, V, y, R, am);
        for (size_t j = 0; j < R; j++) {
            m->rows[i0 + j].x = r[j];
            m->rows[i0 + j].correct = am[j] == y[j];
        }
    }
    return 1;
}
static int loss_rows_float_f64(collapse_model_t *m, const size_t *idx, size_t n, double *dz, double invn)
{
    (void)m; (void)idx; (void)n; (void)dz; (void)invn;
    return 0;
}

/* The dtype-dependent passes, written once for T = float / double (llm.c style: one function
 * per layer pass; shapes: n rows of the split, V classes, W width, D hidden layers). */
#define COLLAPSE_KERNELS(T, SFX)                                                                 \
    /* h1 (n, W) = relu(E[a_i] + E[V + b_i]) */                                                  \
    static void gather_##SFX(T *h, const T *E, const size_t *idx, size_t n, size_t V, size_t W)  \
    {                                                                                            \
        _Pragma("omp parallel for schedule(static)")                                             \
        for (size_t i = 0; i < n; i++) {                                                         \
            const T *ea = E + (idx[i] / V) * W, *eb = E + (V + idx[i] % V) * W;                  \
            T *hi = h + i * W;                                                                   \
            _Pragma("omp simd")                                                                  \
            for (size_t j = 0; j < W; j++) { T s = ea[j] + eb[j]; hi[j] = s < 0 ? 0 : s; }       \
        }                                                                                        \
    }                                                                                            \
    /* dE[a_i] += dh1[i], dE[V + b_i] += dh1[i], samples in order. Each thread owns a fixed block \
     * of the 2V rows of dE, so every row gets the same additions in the same order whatever   \
     * --threads is (and threads share no row) */                                              \
    static void scatter_##SFX(T *dE, const T *dh, const size_t *idx, size_t n, size_t V, size_t W) \
    {                                                                                            \
        _Pragma("omp parallel")                                                                  \
        {                                                                                        \
            const size_t nt = (size_t)collapse_num_threads(), t = (size_t)collapse_thread_num(); \
            const size_t r0 = 2 * V * t / nt, r1 = 2 * V * (t + 1) / nt;                         \
            memset(dE + r0 * W, 0, (r1 - r0) * W * sizeof(T));                                  \
            for (size_t i = 0; i < n; i++) {                                                     \
                const size_t ra = idx[i] / V, rb = V + idx[i] % V;                               \
                const T *d = dh + i * W;                                                         \
                if (ra >= r0 && ra < r1) {                                                       \
                    T *da = dE + ra * W;                                                         \
                    _Pragma("omp simd")                                                          \
                    for (size_t j = 0; j < W; j++) da[j] += d[j];                                \
                }                                                                                \
                if (rb >= r0 && rb < r1) {                                                       \
                    T *db = dE + rb * W;                                                         \
                    _Pragma("omp simd")                                                          \
                    for (size_t j = 0; j < W; j++) db[j] += d[j];                                \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    /* per row i: the loss in the format (m->rows[i]) and whether the model's first argmax of     \
     * z (n, V) is the label; if dz != NULL also dz (n, V) = fl(g (1/n)), g = dloss/dz (xent.h) */ \
    static void loss_rows_##SFX(collapse_model_t *m, const size_t *idx, size_t n, T *dz)         \
    {                                                                                            \
        const size_t V = m->V;                                                                   \
        const T *z = m->z;                                                                       \
        const double invn = 1.0 / (double)n;                                                     \
        const smx_format_t *f = &m->cfg.fmt;                                                    \
        if (loss_rows_float_##SFX(m, idx, n, dz, invn)) return;                                  \
        _Pragma("omp parallel for schedule(static)")                                             \
        for (size_t i = 0; i < n; i++) {                                                         \
            int t = collapse_thread_num();                                                       \
            double *zd = m->zrow_d + (size_t)t * V, *gd = m->grow_d + (size_t)t * V;             \
            size_t am = 0; /* argmax of the model's logits (accuracy) */                         \
            zd[0] = z[i * V];                                                                    \
            for (size_t k = 1; k < V; k++) { zd[k] = z[i * V + k]; if (zd[k] > zd[am]) am = k; } \
            size_t y = collapse_label(m, idx[i]);                                                \
            /* y < V = the workspace's n: cannot fail */                                         \
            (void)smx_xent_eval(m->xent[t], &m->rows[i].x, dz ? gd : NULL, zd, V, y);            \
            m->rows[i].correct = am == y;                                                         \
            if (dz && m->cfg.gy != COLLAPSE_GY_FORMAT &&                                         \
                (m->cfg.gy == COLLAPSE_GY_ZEROSUM || !m->rows[i].x.sc))                          \
                gd[y] = zero_sum_gy(gd, V, y, f);                                                \
            if (dz)                                                                              \
                for (size_t k = 0; k < V; k++) dz[i * V + k] = (T)smx_format_round(gd[k] * invn, f); \
        }                                                                                        \
    }                                                                                            \
    /* forward: h[0] (n, W) = relu(E[a] + E[V + b]); h[l] (n, W) = relu(h[l-1] W_l^T), l < D;    \
     * z (n, V) = h[D-1] W_out^T */                                                              \
    static void forward_##SFX(collapse_model_t *m, const size_t *idx, size_t n)                  \
    {                                                                                            \
        const size_t V = m->V, W = m->W, D = m->D;                                               \
        T *h[COLLAPSE_MAX_DEPTH];                                                                \
        for (size_t l = 0; l < COLLAPSE_MAX_DEPTH; l++) h[l] = m->h[l];                          \
        gather_##SFX(h[0], m->tens[0].w, idx, n, V, W);                                          \
        for (size_t l = 1; l < D; l++) smx_nn_dense_relu_fwd_##SFX(h[l], h[l - 1], m->tens[l].w, NULL, n, W, W); \
        smx_nn_dense_fwd_##SFX(m->z, h[D - 1], m->tens[D].w, NULL, n, W, V);                     \
    }                                                                                            \
    /* backward from dz (n, V): G_out (V, W) = dz^T h[D-1], dh (n, W) = (dz W_out) [h[D-1] > 0];  \
     * per hidden layer G_l (W, W) = dh^T h[l-1], dh = (dh W_l) [h[l-1] > 0]; then dE (2V, W) by \
     * scattering dh into the rows a and V + b (every h[l] is a ReLU output: the fused backward   \
     * returns dL/d(pre-activation)) */                                                          \
    static void backward_##SFX(collapse_model_t *m, const size_t *idx, size_t n)                 \
    {                                                                                            \
        const size_t V = m->V, W = m->W, D = m->D;                                               \
        T *h[COLLAPSE_MAX_DEPTH], *dcur = m->dh[0], *dnext = m->dh[1];                           \
        for (size_t l = 0; l < COLLAPSE_MAX_DEPTH; l++) h[l] = m->h[l];                          \
        smx_nn_dense_bwd_relu_##SFX(dcur, m->tens[D].g, NULL, m->dz, h[D - 1], m->tens[D].w, n, W, V); \
        for (size_t l = D - 1; l >= 1; l--) {                                                    \
            smx_nn_dense_bwd_relu_##SFX(dnext, m->tens[l].g, NULL, dcur, h[l - 1], m->tens[l].w, n, W, W); \
            T *tmp = dcur; dcur = dnext; dnext = tmp;                                            \
        }                                                                                        \
        scatter_##SFX(m->tens[0].g, dcur, idx, n, V, W);                                         \
    }

COLLAPSE_KERNELS(float, f32)
COLLAPSE_KERNELS(double, f64)

static const size_t *split_rows(const collapse_model_t *m, collapse_split_t split, size_t *n)
{
    *n = split == COLLAPSE_TEST ? m->ntest : m->ntrain;
    return split == COLLAPSE_TEST ? m->test : m->train;
}

/* metrics of the rows in m->rows, reduced in row order (deterministic) */
static void row_metrics(const collapse_model_t *m, collapse_metrics_t *mt, size_t n)
{
    double loss = 0, gmin = INFINITY, gmax = -INFINITY;
    size_t acc = 0, sc = 0, zero = 0, nsc = 0;
    for (size_t i = 0; i < n; i++) {
        const smx_xent_row_t *r = &m->rows[i].x;
        loss += r->loss;
        acc += (size_t)m->rows[i].correct;
        zero += (size_t)r->zero;
        if (r->sc) { sc++; if (r->gap < gmin) gmin = r->gap; }
        else { nsc++; if (r->gap > gmax) gmax = r->gap; }
    }
    mt->loss = loss / (double)n;
    mt->acc = (double)acc / (double)n;
    mt->sc_frac = (double)sc / (double)n;
    mt->zero_frac = (double)zero / (double)n;
    mt->sc_gap_min = sc ? gmin : NAN;
    mt->nonsc_gap_max = nsc ? gmax : NAN;
}

void collapse_model_forward(collapse_model_t *m, collapse_metrics_t *mt, collapse_split_t split)
{
    size_t n;
    const size_t *idx = split_rows(m, split, &n);
    if (m->cfg.dtype == SMX_DTYPE_F32) { forward_f32(m, idx, n); loss_rows_f32(m, idx, n, NULL); }
    else { forward_f64(m, idx, n); loss_rows_f64(m, idx, n, NULL); }
    row_metrics(m, mt, n);
}

void collapse_model_forward_backward(collapse_model_t *m, collapse_metrics_t *mt)
{
    size_t n;
    const size_t *idx = split_rows(m, COLLAPSE_TRAIN, &n);
    if (m->cfg.dtype == SMX_DTYPE_F32) {
        forward_f32(m, idx, n);
        loss_rows_f32(m, idx, n, m->dz);
        backward_f32(m, idx, n);
    } else {
        forward_f64(m, idx, n);
        loss_rows_f64(m, idx, n, m->dz);
        backward_f64(m, idx, n);
    }
    row_metrics(m, mt, n);
}

void collapse_model_loss_rows_grad(collapse_model_t *m)
{
    size_t n;
    const size_t *idx = split_rows(m, COLLAPSE_TRAIN, &n);
    if (m->cfg.dtype == SMX_DTYPE_F32) loss_rows_f32(m, idx, n, m->dz);
    else loss_rows_f64(m, idx, n, m->dz);
}

void collapse_model_norms(collapse_model_t *m, collapse_metrics_t *mt)
{
    double tot = 0;
    for (size_t l = 0; l <= m->D; l++) {
        double ww = 0, wg = 0, gg = 0;
        for (size_t i = m->off[l]; i < m->off[l + 1]; i++) {
            double w = collapse_param_get(m, i), g = collapse_grad_get(m, i);
            ww += w * w; wg += w * g; gg += g * g;
        }
        tot += ww;
        mt->norm[l] = sqrt(ww);
        mt->cos_nlm[l] = ww > 0 && gg > 0 ? -wg / (sqrt(ww) * sqrt(gg)) : 0.0;
    }
    mt->norm_total = sqrt(tot);
}

int collapse_model_step(collapse_model_t *m)
{
    int st = smx_optim_step(m->opt, m->tens, m->D + 1);
    if (st == SMX_OK) m->epoch++;
    return st;
}
