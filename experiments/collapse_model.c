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
#include "util.h"

/* ---------------- loss of one row in the format ---------------- */

int collapse_rowws_alloc(collapse_rowws_t *w, size_t n, const smx_format_t *f)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->e = malloc(n * sizeof *w->e);
    w->zr = malloc(n * sizeof *w->zr);
    w->o = malloc(n * sizeof *w->o);
    if (!w->e || !w->zr || !w->o) { collapse_rowws_free(w); return SMX_ENOMEM; }
    if (f->p > 53) {
        w->mpfr_p = f->p;
        w->mz = malloc(n * sizeof *w->mz);
        w->me = malloc(n * sizeof *w->me);
        w->mo = malloc(n * sizeof *w->mo);
        if (!w->mz || !w->me || !w->mo) { collapse_rowws_free(w); return SMX_ENOMEM; }
        for (size_t k = 0; k < n; k++) { mpfr_init2(w->mz[k], f->p); mpfr_init2(w->me[k], f->p); }
        mpfr_init2(w->ms, f->p);
        mpfr_init2(w->mt, f->p);
        mpfr_init2(w->mu, f->p);
    }
    return SMX_OK;
}

void collapse_rowws_free(collapse_rowws_t *w)
{
    free(w->e);
    if (w->mpfr_p) {
        for (size_t k = 0; k < w->n; k++) { mpfr_clear(w->mz[k]); mpfr_clear(w->me[k]); }
        mpfr_clear(w->ms);
        mpfr_clear(w->mt);
        mpfr_clear(w->mu);
    }
    free(w->zr);
    free(w->o);
    free(w->mo);
    free(w->mz);
    free(w->me);
    memset(w, 0, sizeof *w);
}

/* Index of the first maximum and the gap to the second largest value (max over i != k), in
 * one pass: a new maximum demotes the old one to second; NaN never compares greater. */
static size_t row_argmax(double *gap, const double *z, size_t n)
{
    size_t k = 0;
    double best = z[0], second = -INFINITY;
    for (size_t i = 1; i < n; i++) {
        if (z[i] > best) { second = best; best = z[i]; k = i; }
        else if (z[i] > second) second = z[i];
    }
    *gap = best - second;
    return k;
}

/* The rounding of the fast path, specialised by format class so that the per-element format
 * tests of smx_format_round fold away: FK_F64 identity (smx_format_round_is_identity),
 * FK_F32 (double)(float)x (smx_format_is_binary32), FK_ANY smx_format_round. Same values in every class. */
enum { FK_F64 = 0, FK_F32, FK_ANY };
#define ALWAYS_INLINE static inline __attribute__((always_inline))
ALWAYS_INLINE double fk_round(double x, const smx_format_t *f, int fk)
{
    return fk == FK_F64 ? x : fk == FK_F32 ? (double)(float)x : smx_format_round(x, f);
}

/* Sum of e[0..n) in the format: SEQ = e[k] first then the others in index order (for fp32 a
 * chain of float additions, equal to fl(s + e_i) as 53 >= 2*24 + 2);
 * PAIRWISE = e[k] + pairwise sum of the others (o: workspace of n - 1). */
ALWAYS_INLINE double row_sum_fast(const double *e, size_t n, size_t k, int sum, const smx_format_t *f,
                                  double *o, int fk)
{
    if (sum == COLLAPSE_SUM_PAIRWISE) {
        memcpy(o, e, k * sizeof *o);
        memcpy(o + k, e + k + 1, (n - k - 1) * sizeof *o);
        return fk_round(e[k] + smx_sum(o, n - 1, SMX_SUM_PAIRWISE, f), f, fk);
    }
    if (fk == FK_F32) {
        float s = (float)e[k];
        for (size_t i = 0; i < n; i++)
            if (i != k) s += (float)e[i];
        return s;
    }
    double s = e[k];
    for (size_t i = 0; i < n; i++)
        if (i != k) s = fk_round(s + e[i], f, fk);
    return s;
}

/* e_i = fl(exp(fl(zr_i - m))) for all i and, for SEQ, their sum (e_k first) in the same loop:
 * the exps are independent and overlap the sum's dependency chain. */
ALWAYS_INLINE double row_exp_sum(double *e, const double *zr, size_t n, size_t k, int sum,
                                 const smx_format_t *f, double *o, int fk)
{
#define R(x) fk_round((x), f, fk)
    const double m = zr[k];
    e[k] = R(exp(R(zr[k] - m)));
    if (sum == COLLAPSE_SUM_PAIRWISE) {
        for (size_t i = 0; i < n; i++)
            if (i != k) e[i] = R(exp(R(zr[i] - m)));
        return row_sum_fast(e, n, k, sum, f, o, fk);
    }
    if (fk == FK_F32) {
        float s = (float)e[k];
        for (size_t i = 0; i < n; i++)
            if (i != k) { e[i] = R(exp(R(zr[i] - m))); s += (float)e[i]; }
        return s;
    }
    double s = e[k];
    for (size_t i = 0; i < n; i++)
        if (i != k) { e[i] = R(exp(R(zr[i] - m))); s = R(s + e[i]); }
    return s;
#undef R
}

ALWAYS_INLINE void row_loss_fast(collapse_row_t *r, double *grad, const double *z, size_t n, size_t y,
                                 int loss, const smx_format_t *f, int sum, collapse_rowws_t *w, int fk)
{
#define R(x) fk_round((x), f, fk)
    double *e = w->e, *zr = w->zr;
    for (size_t i = 0; i < n; i++) zr[i] = R(z[i]);
    size_t k = row_argmax(&r->gap, zr, n);
    const double m = zr[k];
    /* softmax denominator and SC (both losses) */
    double S = row_exp_sum(e, zr, n, k, sum, f, w->o, fk);
    r->sc = S == 1.0;
    if (loss == COLLAPSE_LOSS_SOFTMAX) {
        r->loss = R(R(log(S)) - R(zr[y] - m));
        if (grad) {
            /* grad_i = fl(fl(e_i / S) - [i == y]); for i != y fl(q - 0) = q */
            for (size_t i = 0; i < n; i++) grad[i] = R(e[i] / S);
            grad[y] = R(grad[y] - 1.0);
        }
    } else {
        /* StableMax on the rounded raw logits (no shift) */
        for (size_t i = 0; i < n; i++) e[i] = R(smx_stablemax_s(zr[i]));
        const double Ss = row_sum_fast(e, n, k, sum, f, w->o, fk), sy = e[y];
        r->loss = R(R(log(Ss)) - R(log(sy)));
        if (grad) {
            const double gy = R(R(smx_stablemax_ds(zr[y])) / sy);
            for (size_t i = 0; i < n; i++) {
                double g = R(R(smx_stablemax_ds(zr[i])) / Ss);
                grad[i] = i == y ? R(g - gy) : g;
            }
        }
    }
#undef R
    r->zero = r->loss == 0.0;
}

/* MPFR path (p > 53): the same operations at precision p in the format's range. */
#define MFIX(x, call) smx_format_mpfr_fix((x), (call), MPFR_RNDN, f)
static void row_sum_mpfr(mpfr_t s, mpfr_t *e, size_t n, size_t k, int sum, const smx_format_t *f,
                         __mpfr_struct *o)
{
    if (sum == COLLAPSE_SUM_PAIRWISE) {
        for (size_t i = 0, j = 0; i < n; i++)
            if (i != k) o[j++] = e[i][0];
        smx_sum_mpfr(s, (mpfr_t *)o, n - 1, SMX_SUM_PAIRWISE, f);
        MFIX(s, mpfr_add(s, s, e[k], MPFR_RNDN));
        return;
    }
    mpfr_set(s, e[k], MPFR_RNDN);
    for (size_t i = 0; i < n; i++)
        if (i != k) MFIX(s, mpfr_add(s, s, e[i], MPFR_RNDN));
}

static int row_loss_mpfr(collapse_row_t *r, double *grad, const double *z, size_t n, size_t y, int loss,
                         const smx_format_t *f, int sum, collapse_rowws_t *w)
{
    smx_mpfr_range_t saved;
    smx_format_mpfr_enter(&saved, f);
    mpfr_t *mz = w->mz, *me = w->me;
    for (size_t i = 0; i < n; i++) MFIX(mz[i], mpfr_set_d(mz[i], z[i], MPFR_RNDN));
    for (size_t i = 0; i < n; i++) w->e[i] = mpfr_get_d(mz[i], MPFR_RNDN);
    size_t k = row_argmax(&r->gap, w->e, n);
    for (size_t i = 0; i < n; i++) {
        MFIX(me[i], mpfr_sub(me[i], mz[i], mz[k], MPFR_RNDN));
        MFIX(me[i], mpfr_exp(me[i], me[i], MPFR_RNDN));
    }
    row_sum_mpfr(w->ms, me, n, k, sum, f, w->mo);
    r->sc = mpfr_cmp_ui(w->ms, 1) == 0;
    if (loss == COLLAPSE_LOSS_SOFTMAX) {
        MFIX(w->mu, mpfr_sub(w->mu, mz[y], mz[k], MPFR_RNDN));
        MFIX(w->mt, mpfr_log(w->mt, w->ms, MPFR_RNDN));
        MFIX(w->mt, mpfr_sub(w->mt, w->mt, w->mu, MPFR_RNDN));
        r->loss = mpfr_get_d(w->mt, MPFR_RNDN);
        if (grad) {
            for (size_t i = 0; i < n; i++) {
                MFIX(w->mt, mpfr_div(w->mt, me[i], w->ms, MPFR_RNDN));
                if (i == y) MFIX(w->mt, mpfr_sub_ui(w->mt, w->mt, 1, MPFR_RNDN));
                grad[i] = mpfr_get_d(w->mt, MPFR_RNDN);
            }
        }
    } else {
        /* s(x) = x + 1 (x >= 0), 1/(1 - x) (x < 0), each op rounded */
        for (size_t i = 0; i < n; i++) {
            if (mpfr_sgn(mz[i]) >= 0) MFIX(me[i], mpfr_add_ui(me[i], mz[i], 1, MPFR_RNDN));
            else {
                MFIX(me[i], mpfr_ui_sub(me[i], 1, mz[i], MPFR_RNDN));
                MFIX(me[i], mpfr_ui_div(me[i], 1, me[i], MPFR_RNDN));
            }
        }
        row_sum_mpfr(w->ms, me, n, k, sum, f, w->mo);
        MFIX(w->mt, mpfr_log(w->mt, w->ms, MPFR_RNDN));
        mpfr_ptr ly = w->mu;
        MFIX(ly, mpfr_log(ly, me[y], MPFR_RNDN));
        MFIX(w->mt, mpfr_sub(w->mt, w->mt, ly, MPFR_RNDN));
        r->loss = mpfr_get_d(w->mt, MPFR_RNDN);
        if (grad) {
            /* s'(x) = 1 (x >= 0), 1/(1 - x)^2 = s(x)^2 (x < 0) */
            for (size_t i = 0; i < n; i++) {
                if (mpfr_sgn(mz[i]) >= 0) mpfr_set_ui(w->mt, 1, MPFR_RNDN);
                else MFIX(w->mt, mpfr_sqr(w->mt, me[i], MPFR_RNDN));
                MFIX(w->mt, mpfr_div(w->mt, w->mt, w->ms, MPFR_RNDN));
                if (i == y) {
                    if (mpfr_sgn(mz[y]) >= 0) mpfr_set_ui(ly, 1, MPFR_RNDN);
                    else MFIX(ly, mpfr_sqr(ly, me[y], MPFR_RNDN));
                    MFIX(ly, mpfr_div(ly, ly, me[y], MPFR_RNDN));
                    MFIX(w->mt, mpfr_sub(w->mt, w->mt, ly, MPFR_RNDN));
                }
                grad[i] = mpfr_get_d(w->mt, MPFR_RNDN);
            }
        }
    }
    r->zero = r->loss == 0.0;
    smx_format_mpfr_leave(&saved);
    return SMX_OK;
}

int collapse_row_loss(collapse_row_t *r, double *grad, const double *z, size_t n, size_t y, int loss,
                      const smx_format_t *f, int sum, collapse_rowws_t *w)
{
    if (n == 0 || y >= n || n > w->n) return SMX_EDOM;
    if (f->p > 53) {
        if (w->mpfr_p != f->p) return SMX_EDOM;
        return row_loss_mpfr(r, grad, z, n, y, loss, f, sum, w);
    }
    if (smx_format_round_is_identity(f)) row_loss_fast(r, grad, z, n, y, loss, f, sum, w, FK_F64);
    else if (smx_format_is_binary32(f)) row_loss_fast(r, grad, z, n, y, loss, f, sum, w, FK_F32);
    else row_loss_fast(r, grad, z, n, y, loss, f, sum, w, FK_ANY);
    return SMX_OK;
}

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
    if (m->ws)
        for (int t = 0; t < m->nthreads; t++) collapse_rowws_free(&m->ws[t]);
    free(m->ws);
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
    m->ws = calloc((size_t)m->nthreads, sizeof *m->ws);
    if (!m->z || !m->dz || !m->dh[0] || !m->dh[1] || !m->zrow_d || !m->grow_d || !m->rows || !m->ws) goto fail;
    for (int t = 0; t < m->nthreads; t++)
        if ((st = collapse_rowws_alloc(&m->ws[t], V, &cfg->fmt)) != SMX_OK) goto fail;
    *out = m;
    return SMX_OK;
fail:
    collapse_model_free(m);
    return st;
}

/* The dtype-dependent passes, written once for T = float / double. */
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
    /* loss rows in the format (m->rows); if backward, dz = fl(grad (1/n)) */                    \
    static void loss_rows_##SFX(collapse_model_t *m, int test, int backward)                     \
    {                                                                                            \
        const size_t V = m->V, n = test ? m->ntest : m->ntrain;                                  \
        const size_t *idx = test ? m->test : m->train;                                           \
        const T *z = m->z;                                                                       \
        T *dz = m->dz;                                                                           \
        const double invn = 1.0 / (double)n;                                                     \
        const smx_format_t *f = &m->cfg.fmt;                                                    \
        _Pragma("omp parallel for schedule(static)")                                             \
        for (size_t i = 0; i < n; i++) {                                                         \
            int t = collapse_thread_num();                                                       \
            double *zd = m->zrow_d + (size_t)t * V, *gd = m->grow_d + (size_t)t * V;             \
            size_t am = 0; /* argmax of the model's logits (accuracy) */                         \
            zd[0] = z[i * V];                                                                    \
            for (size_t k = 1; k < V; k++) { zd[k] = z[i * V + k]; if (zd[k] > zd[am]) am = k; } \
            size_t y = collapse_label(m, idx[i]);                                                \
            collapse_row_loss(&m->rows[i], backward ? gd : NULL, zd, V, y, m->cfg.loss,          \
                              &m->cfg.fmt, m->cfg.sum, &m->ws[t]);                               \
            m->rows[i].zero |= (am == y) << 1; /* bit 1: correct */                              \
            if (backward)                                                                        \
                for (size_t k = 0; k < V; k++) dz[i * V + k] = (T)smx_format_round(gd[k] * invn, f); \
        }                                                                                        \
    }                                                                                            \
    static void eval_##SFX(collapse_model_t *m, collapse_metrics_t *mt, int test, int backward)  \
    {                                                                                            \
        const size_t V = m->V, W = m->W, D = m->D;                                               \
        const size_t n = test ? m->ntest : m->ntrain;                                            \
        const size_t *idx = test ? m->test : m->train;                                           \
        T *h[COLLAPSE_MAX_DEPTH], *z = m->z, *dz = m->dz;                                        \
        for (size_t l = 0; l < D; l++) h[l] = m->h[l];                                           \
        T *Wt[COLLAPSE_MAX_DEPTH + 1], *G[COLLAPSE_MAX_DEPTH + 1];                               \
        for (size_t l = 0; l <= D; l++) { Wt[l] = m->tens[l].w; G[l] = m->tens[l].g; }           \
        gather_##SFX(h[0], Wt[0], idx, n, V, W);                                                 \
        for (size_t l = 1; l < D; l++) {                                                         \
            smx_nn_dense_relu_fwd_##SFX(h[l], h[l - 1], Wt[l], NULL, n, W, W);                   \
        }                                                                                        \
        smx_nn_dense_fwd_##SFX(z, h[D - 1], Wt[D], NULL, n, W, V);                               \
        loss_rows_##SFX(m, test, backward);                                                      \
        if (!backward) return;                                                                   \
        /* backward: output layer, hidden layers, gather */                                      \
        /* every h[l] is a ReLU output: the fused backward returns dL/d(pre-activation) */    \
        T *dcur = m->dh[0], *dnext = m->dh[1];                                                   \
        smx_nn_dense_bwd_relu_##SFX(dcur, G[D], NULL, dz, h[D - 1], Wt[D], n, W, V, 0);          \
        for (size_t l = D - 1; l >= 1; l--) {                                                    \
            smx_nn_dense_bwd_relu_##SFX(dnext, G[l], NULL, dcur, h[l - 1], Wt[l], n, W, W, 0);   \
            T *tmp = dcur; dcur = dnext; dnext = tmp;                                            \
        }                                                                                        \
        scatter_##SFX(G[0], dcur, idx, n, V, W);                                                 \
        (void)mt;                                                                                \
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

COLLAPSE_KERNELS(float, f32)
COLLAPSE_KERNELS(double, f64)

void collapse_model_eval(collapse_model_t *m, collapse_metrics_t *mt, int test, int backward)
{
    if (m->cfg.dtype == SMX_DTYPE_F32) eval_f32(m, mt, test, backward);
    else eval_f64(m, mt, test, backward);
    /* reductions in row order (deterministic) */
    size_t n = test ? m->ntest : m->ntrain;
    double loss = 0, gmin = INFINITY, gmax = -INFINITY;
    size_t acc = 0, sc = 0, zero = 0, nsc = 0;
    for (size_t i = 0; i < n; i++) {
        collapse_row_t *r = &m->rows[i];
        loss += r->loss;
        acc += (r->zero >> 1) & 1;
        zero += r->zero & 1;
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

void collapse_model_loss_rows(collapse_model_t *m, int test, int backward)
{
    if (m->cfg.dtype == SMX_DTYPE_F32) loss_rows_f32(m, test, backward);
    else loss_rows_f64(m, test, backward);
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
