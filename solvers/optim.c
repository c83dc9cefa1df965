/* optim.c - SGD with momentum, AdamW, perpGrad (formulas in optim.h). */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smx.h"

void smx_optim_cfg_default(smx_optim_cfg_t *cfg, smx_optim_kind_t kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->lr = 1e-3;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = kind == SMX_OPTIM_ADAMW ? 1e-2 : 0.0;
    cfg->momentum = 0.0;
}

static size_t dtype_size(smx_dtype_t dt) { return dt == SMX_DTYPE_F32 ? sizeof(float) : sizeof(double); }

static int cfg_valid(const smx_optim_cfg_t *c)
{
    if (c->kind != SMX_OPTIM_SGD && c->kind != SMX_OPTIM_ADAMW) return 0;
    if (!(c->lr >= 0) || !(c->weight_decay >= 0)) return 0;
    if (c->kind == SMX_OPTIM_ADAMW)
        return c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->eps >= 0;
    return c->momentum >= 0;
}

int smx_optim_alloc(smx_optim_t **o, const smx_optim_cfg_t *cfg, smx_dtype_t dtype,
                    const size_t *len, size_t ntensors)
{
    *o = NULL;
    if (!cfg_valid(cfg) || ntensors == 0 || (dtype != SMX_DTYPE_F32 && dtype != SMX_DTYPE_F64))
        return SMX_EDOM;
    smx_optim_t *r = calloc(1, sizeof *r);
    if (!r) return SMX_ENOMEM;
    r->cfg = *cfg;
    r->dtype = dtype;
    r->ntensors = ntensors;
    r->len = malloc(ntensors * sizeof *r->len);
    if (!r->len) { smx_optim_free(r); return SMX_ENOMEM; }
    for (size_t i = 0; i < ntensors; i++) { r->len[i] = len[i]; r->total += len[i]; }
    size_t bytes = (r->total ? r->total : 1) * dtype_size(dtype);
    int need_m = cfg->kind == SMX_OPTIM_ADAMW || cfg->momentum != 0;
    if (need_m && !(r->m = calloc(1, bytes))) { smx_optim_free(r); return SMX_ENOMEM; }
    if (cfg->kind == SMX_OPTIM_ADAMW && !(r->v = calloc(1, bytes))) { smx_optim_free(r); return SMX_ENOMEM; }
    *o = r;
    return SMX_OK;
}

void smx_optim_free(smx_optim_t *o)
{
    if (!o) return;
    free(o->len);
    free(o->m);
    free(o->v);
    free(o);
}

size_t smx_optim_state_size(const smx_optim_t *o)
{
    return ((o->m ? o->total : 0) + (o->v ? o->total : 0)) * dtype_size(o->dtype);
}

/* The kernels, written once for T = float and T = double. */
#define SMX_OPTIM_KERNELS(T, SFX)                                                          \
    int smx_optim_perp_##SFX(T *g, const T *w, size_t n)                                   \
    {                                                                                      \
        double ww = 0, wg = 0, gg = 0;                                                     \
        for (size_t i = 0; i < n; i++) {                                                   \
            ww += (double)w[i] * w[i];                                                     \
            wg += (double)w[i] * g[i];                                                     \
            gg += (double)g[i] * g[i];                                                     \
        }                                                                                  \
        double proj = wg / (ww + 1e-30), pp = 0;                                           \
        for (size_t i = 0; i < n; i++) {                                                   \
            g[i] = (T)(g[i] - proj * w[i]);                                                \
            pp += (double)g[i] * g[i];                                                     \
        }                                                                                  \
        double scale = sqrt(gg) / (sqrt(pp) + 1e-30);                                      \
        for (size_t i = 0; i < n; i++) g[i] = (T)(g[i] * scale);                           \
        return SMX_OK;                                                                     \
    }                                                                                      \
                                                                                           \
    static void sgd_##SFX(T *w, T *g, T *b, size_t n, const smx_optim_cfg_t *c, long t)    \
    {                                                                                      \
        const T lr = (T)c->lr, wd = (T)c->weight_decay, mu = (T)c->momentum;               \
        _Pragma("omp parallel for schedule(static) if (n > 65536)")                        \
        for (size_t i = 0; i < n; i++) {                                                   \
            T d = g[i];                                                                    \
            if (wd != 0) d = d + wd * w[i];                                                \
            if (b) { b[i] = t == 1 ? d : mu * b[i] + d; d = b[i]; }                        \
            w[i] = w[i] - lr * d;                                                          \
        }                                                                                  \
    }                                                                                      \
                                                                                           \
    /* elements [i0, i1): the same IEEE operations per element in every clone (target_clones: \
     * AVX-512, AVX2, baseline; no FP contraction under -std=c11), so the same values */     \
    __attribute__((target_clones("avx512f", "avx2", "default"))) static void adamw_span_##SFX( \
        T *restrict w, const T *restrict g, T *restrict m, T *restrict v, size_t i0, size_t i1, \
        int wd, T decay, T step, T bc2s, T eps, T a1, T b2, T a2)                          \
    {                                                                                      \
        _Pragma("omp simd")                                                                \
        for (size_t i = i0; i < i1; i++) {                                                 \
            T wi = wd ? w[i] * decay : w[i];                                               \
            m[i] = m[i] + a1 * (g[i] - m[i]);                                              \
            v[i] = b2 * v[i] + a2 * g[i] * g[i];                                           \
            T den = (T)sqrt(v[i]) / bc2s + eps;                                            \
            w[i] = wi - step * (m[i] / den);                                               \
        }                                                                                  \
    }                                                                                      \
                                                                                           \
    static void adamw_##SFX(T *w, const T *g, T *m, T *v, size_t n,                        \
                            const smx_optim_cfg_t *c, long t)                              \
    {                                                                                      \
        const double bc1 = 1 - pow(c->beta1, (double)t), bc2 = 1 - pow(c->beta2, (double)t); \
        const T decay = (T)(1 - c->lr * c->weight_decay), step = (T)(c->lr / bc1);         \
        const T bc2s = (T)sqrt(bc2), eps = (T)c->eps;                                      \
        const T a1 = (T)(1 - c->beta1), b2 = (T)c->beta2, a2 = (T)(1 - c->beta2);          \
        const int wd = c->weight_decay != 0;                                               \
        const size_t chunk = 4096, nc = (n + chunk - 1) / chunk;                           \
        _Pragma("omp parallel for schedule(static) if (n > 16384)")                        \
        for (size_t k = 0; k < nc; k++)                                                    \
            adamw_span_##SFX(w, g, m, v, k * chunk, k + 1 < nc ? (k + 1) * chunk : n, wd, decay, step, \
                             bc2s, eps, a1, b2, a2);                                       \
    }                                                                                      \
                                                                                           \
    static void step_##SFX(smx_optim_t *o, const smx_tensor_t *t)                          \
    {                                                                                      \
        size_t off = 0;                                                                    \
        for (size_t k = 0; k < o->ntensors; k++) {                                         \
            T *w = t[k].w, *g = t[k].g;                                                    \
            size_t n = t[k].n;                                                             \
            T *m = o->m ? (T *)o->m + off : NULL, *v = o->v ? (T *)o->v + off : NULL;      \
            if (o->cfg.perp) smx_optim_perp_##SFX(g, w, n);                                \
            if (o->cfg.kind == SMX_OPTIM_ADAMW) adamw_##SFX(w, g, m, v, n, &o->cfg, o->step); \
            else sgd_##SFX(w, g, m, n, &o->cfg, o->step);                                  \
            off += n;                                                                      \
        }                                                                                  \
    }

SMX_OPTIM_KERNELS(float, f32)
SMX_OPTIM_KERNELS(double, f64)

int smx_optim_step(smx_optim_t *o, const smx_tensor_t *t, size_t ntensors)
{
    if (!o || ntensors != o->ntensors) return SMX_EDOM;
    for (size_t k = 0; k < ntensors; k++)
        if (t[k].n != o->len[k] || (t[k].n && (!t[k].w || !t[k].g))) return SMX_EDOM;
    o->step++;
    if (o->dtype == SMX_DTYPE_F32) step_f32(o, t);
    else step_f64(o, t);
    return SMX_OK;
}
