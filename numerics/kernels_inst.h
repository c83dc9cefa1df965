/* kernels_inst.h - INTERNAL to kernels_f64.c / kernels_f32.c (KT_DOUBLE 1 / 0): the type's
 * constants, kernels_tmpl.h instantiated for scalar, AVX2 + FMA and AVX-512F, and the public
 * drivers smx_kernels_*_f64 / _f32 of kernels.h (blocks, OpenMP, fixed combination order). */
#include "kernels.h"
#include "smx.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if KT_DOUBLE
#define T double
#define TS(name) name##_f64
#define TMATH(fn) fn
/* Taylor coefficients 1/k!, k = 0..13 (truncation |r|^14/14! < 0.05 ulp for |r| <= ln2/2) */
static const double KC_C[14] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
                                1.0 / 479001600, 1.0 / 6227020800.0};
enum { KC_L = 8, KC_DEG = 13, KC_MANT = 52 };
static const double KC_MAGIC = 0x1.8p52, KC_LOG2E = 0x1.71547652b82fep0, KC_LN2HI = 0x1.62e42fefa39efp-1,
                    KC_LN2LO = 0x1.abc9e3b39803fp-56, KC_BIAS = 1023, KC_TWOMANT = 0x1p52, KC_KMIN = -1100,
                    KC_KMAX = 1100, KC_EXP_LO = -760, KC_EXP_HI = 710, KC_PLIM = SMX_KERNELS_TWOPASS_LIM_F64,
                    KC_MAX = DBL_MAX, KC_PMARGIN = 800, KC_KSAFE = -1019; /* e^-800 < 2^-1075 */
static inline double kt_shl(double v)
{
    uint64_t b;
    memcpy(&b, &v, 8);
    b <<= KC_MANT;
    memcpy(&v, &b, 8);
    return v;
}
#else
#define T float
#define TS(name) name##_f32
#define TMATH(fn) fn##f
/* e^r ~ 1 + r + r^2 q(r), q of degree 4 minimax for the relative error on |r| <= ln2/2 (1 + 2^-10)
 * (Lawson's iteration on 4000 Chebyshev points against 200-bit exp, coefficients rounded to float
 * from c2 up, each rounding followed by a refit of the higher ones): truncation <= 3.1e-9 = 0.053
 * ulp of 2^-24 relative (Taylor degree 8 had 0.003 ulp with two FMAs more). */
static const float KC_C[7] = {1.0f, 1.0f, 0x1.fffffcp-2f, 0x1.555492p-3f, 0x1.5558b6p-5f, 0x1.1239a2p-7f,
                              0x1.6a4756p-10f};
enum { KC_L = 16, KC_DEG = 6, KC_MANT = 23 };
static const float KC_MAGIC = 0x1.8p23f, KC_LOG2E = 0x1.715476p0f, KC_LN2HI = 0x1.62e43p-1f,
                   KC_LN2LO = -0x1.05c61p-29f, KC_BIAS = 127, KC_TWOMANT = 0x1p23f, KC_KMIN = -180,
                   KC_KMAX = 180, KC_EXP_LO = -110, KC_EXP_HI = 89, KC_PLIM = (float)SMX_KERNELS_TWOPASS_LIM_F32,
                   KC_MAX = FLT_MAX, KC_PMARGIN = 200, KC_KSAFE = -123; /* e^-200 < 2^-150 */
static inline float kt_shl(float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    b <<= KC_MANT;
    memcpy(&v, &b, 4);
    return v;
}
#endif

/* ---- scalar ---- */
#define V T
#define VL 1
#define KT_SFX scalar
#define KT_TARGET
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(c) ((T)(c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VFMA(a, b, c) TMATH(fma)((a), (b), (c))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VSEL_GT(a, b, t, f) ((a) > (b) ? (t) : (f))
#define VSEL_LT(a, b, t, f) ((a) < (b) ? (t) : (f))
#define VSHL(v) kt_shl(v)
#define VSTREAM(p, v) (*(p) = (v))
#define VSFENCE() ((void)0)
#define VALL_IN(k, lo, hi) ((k) >= (lo) && (k) <= (hi))
#include "kernels_tmpl.h"
#undef V
#undef VL
#undef KT_SFX
#undef KT_TARGET
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VSUB
#undef VMUL
#undef VFMA
#undef VMIN
#undef VMAX
#undef VSEL_GT
#undef VSEL_LT
#undef VSHL
#undef VSTREAM
#undef VALL_IN
#undef VSFENCE

/* ---- AVX2 + FMA ---- */
#define KT_SFX avx2
#define KT_TARGET __attribute__((target("avx2,fma")))
#define VSFENCE() _mm_sfence()
#if KT_DOUBLE
#define V __m256d
#define VL 4
#define VLOAD(p) _mm256_loadu_pd(p)
#define VSTORE(p, v) _mm256_storeu_pd((p), (v))
#define VSET1(c) _mm256_set1_pd(c)
#define VADD _mm256_add_pd
#define VSUB _mm256_sub_pd
#define VMUL _mm256_mul_pd
#define VFMA _mm256_fmadd_pd
#define VMIN _mm256_min_pd
#define VMAX _mm256_max_pd
#define VSEL_GT(a, b, t, f) _mm256_blendv_pd((f), (t), _mm256_cmp_pd((a), (b), _CMP_GT_OQ))
#define VSEL_LT(a, b, t, f) _mm256_blendv_pd((f), (t), _mm256_cmp_pd((a), (b), _CMP_LT_OQ))
#define VSHL(v) _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(v), KC_MANT))
#define VSTREAM(p, v) _mm256_stream_pd((p), (v))
#define VALL_IN(k, lo, hi) (_mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd((k), VSET1(lo), _CMP_GE_OQ), _mm256_cmp_pd((k), VSET1(hi), _CMP_LE_OQ))) == 0xF)
#else
#define V __m256
#define VL 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(c) _mm256_set1_ps(c)
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VFMA _mm256_fmadd_ps
#define VMIN _mm256_min_ps
#define VMAX _mm256_max_ps
#define VSEL_GT(a, b, t, f) _mm256_blendv_ps((f), (t), _mm256_cmp_ps((a), (b), _CMP_GT_OQ))
#define VSEL_LT(a, b, t, f) _mm256_blendv_ps((f), (t), _mm256_cmp_ps((a), (b), _CMP_LT_OQ))
#define VSHL(v) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), KC_MANT))
#define VSTREAM(p, v) _mm256_stream_ps((p), (v))
#define VALL_IN(k, lo, hi) (_mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps((k), VSET1(lo), _CMP_GE_OQ), _mm256_cmp_ps((k), VSET1(hi), _CMP_LE_OQ))) == 0xFF)
#endif
#include "kernels_tmpl.h"
#undef V
#undef VL
#undef KT_SFX
#undef KT_TARGET
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VSUB
#undef VMUL
#undef VFMA
#undef VMIN
#undef VMAX
#undef VSEL_GT
#undef VSEL_LT
#undef VSHL
#undef VSTREAM
#undef VALL_IN
#undef VSFENCE

/* ---- AVX-512F ---- */
#define KT_SFX avx512
#define KT_TARGET __attribute__((target("avx512f")))
#define VSFENCE() _mm_sfence()
#if KT_DOUBLE
#define V __m512d
#define VL 8
#define VLOAD(p) _mm512_loadu_pd(p)
#define VSTORE(p, v) _mm512_storeu_pd((p), (v))
#define VSET1(c) _mm512_set1_pd(c)
#define VADD _mm512_add_pd
#define VSUB _mm512_sub_pd
#define VMUL _mm512_mul_pd
#define VFMA _mm512_fmadd_pd
#define VMIN _mm512_min_pd
#define VMAX _mm512_max_pd
#define VSEL_GT(a, b, t, f) _mm512_mask_blend_pd(_mm512_cmp_pd_mask((a), (b), _CMP_GT_OQ), (f), (t))
#define VSEL_LT(a, b, t, f) _mm512_mask_blend_pd(_mm512_cmp_pd_mask((a), (b), _CMP_LT_OQ), (f), (t))
#define VSHL(v) _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_castpd_si512(v), KC_MANT))
#define VSTREAM(p, v) _mm512_stream_pd((p), (v))
#define VALL_IN(k, lo, hi) ((_mm512_cmp_pd_mask((k), VSET1(lo), _CMP_GE_OQ) & _mm512_cmp_pd_mask((k), VSET1(hi), _CMP_LE_OQ)) == 0xFF)
#else
#define V __m512
#define VL 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(c) _mm512_set1_ps(c)
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VFMA _mm512_fmadd_ps
#define VMIN _mm512_min_ps
#define VMAX _mm512_max_ps
#define VSEL_GT(a, b, t, f) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ), (f), (t))
#define VSEL_LT(a, b, t, f) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ), (f), (t))
#define VSHL(v) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(v), KC_MANT))
#define VSTREAM(p, v) _mm512_stream_ps((p), (v))
#define VALL_IN(k, lo, hi) ((_mm512_cmp_ps_mask((k), VSET1(lo), _CMP_GE_OQ) & _mm512_cmp_ps_mask((k), VSET1(hi), _CMP_LE_OQ)) == 0xFFFF)
#endif
#include "kernels_tmpl.h"
#undef V
#undef VL
#undef KT_SFX
#undef KT_TARGET
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VSUB
#undef VMUL
#undef VFMA
#undef VMIN
#undef VMAX
#undef VSEL_GT
#undef VSEL_LT
#undef VSHL
#undef VSTREAM
#undef VALL_IN
#undef VSFENCE

/* ================= drivers ================= */
typedef struct {
    T (*max)(const T *, size_t);
    void (*sumexp)(T *, const T *, size_t, T, T *);
    void (*online)(T *, T *, const T *, size_t);
    void (*twopass)(T *, T *, const T *, size_t);
    void (*out_exp)(T *, const T *, size_t, T, T, int);
    void (*out_mul)(T *, size_t, T, int);
    void (*out_sub)(T *, const T *, size_t, T, T, int);
    void (*out_pair)(T *, const T *, size_t, T, T, int);
    void (*vexp)(T *, const T *, size_t);
    void (*scale)(T *, const T *, size_t, T, int);
} kt_tab_t;

#define KT_TAB(s)                                                                   \
    {max_##s, sumexp_##s, online_##s, twopass_##s, out_exp_##s, out_mul_##s, out_sub_##s, \
     out_pair_##s, vexp_##s, scale_##s}
static const kt_tab_t kt_tabs[3] = {KT_TAB(scalar), KT_TAB(avx2), KT_TAB(avx512)};

static int kt_resolve(const kt_tab_t **tab, smx_kernels_isa_t isa)
{
    if ((unsigned)isa >= SMX_KERNELS_NISAS) return SMX_EDOM;
    if (isa == SMX_KERNELS_AUTO) isa = smx_kernels_isa_best();
    if (!smx_kernels_isa_available(isa)) return SMX_EUNSUP;
    *tab = &kt_tabs[isa - SMX_KERNELS_SCALAR];
    return SMX_OK;
}

static int kt_threads(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

/* The exps of the combination rules go through the dispatched ISA's vexp: every ISA computes the
 * same values element by element (kernels_tmpl.h), and the scalar path's libm fma() calls would
 * cost microseconds per block. */
/* 2^k, integer-valued k <= 0, below -bias flushed to 0 (the block kernels' rule). */
static T kt_pow2(T k)
{
    if (k < -KC_BIAS) k = -KC_BIAS;
    return kt_shl(k + KC_BIAS + KC_TWOMANT);
}

/* Combination rules, used for the lane tree and the block sequence alike:
 * (m1, d1) + (m2, d2) = (m, d1 e^{m1 - m} + d2 e^{m2 - m}), m = max(m1, m2). */
static void kt_comb_online(const kt_tab_t *tab, T *m, T *d, T m2, T d2)
{
    T mm = m2 > *m ? m2 : *m, a[2] = {*m - mm, m2 - mm}, e[2];
    tab->vexp(e, a, 2);
    *d = *d * e[0] + d2 * e[1];
    *m = mm;
}

static void kt_comb_twopass(T *M, T *N, T M2, T N2)
{
    T NN = N2 > *N ? N2 : *N;
    *M = *M * kt_pow2(*N - NN) + M2 * kt_pow2(N2 - NN);
    *N = NN;
}

/* Halving tree over the KC_L lanes: lane j += lane j + w, w = L/2, L/4, ..., 1. */
static T kt_tree_sum(T *l)
{
    for (int w = KC_L / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) l[j] = l[j] + l[j + w];
    return l[0];
}

/* The same rule level by level, the 2w exps of a level in one call. */
static void kt_tree_online(const kt_tab_t *tab, T *lm, T *ld)
{
    T a[KC_L], e[KC_L];
    for (int w = KC_L / 2; w >= 1; w /= 2) {
        for (int j = 0; j < w; j++) {
            T mm = lm[j + w] > lm[j] ? lm[j + w] : lm[j];
            a[j] = lm[j] - mm;
            a[w + j] = lm[j + w] - mm;
            lm[j] = mm;
        }
        tab->vexp(e, a, (size_t)(2 * w));
        for (int j = 0; j < w; j++) ld[j] = ld[j] * e[j] + ld[j + w] * e[w + j];
    }
}

static void kt_tree_twopass(T *lM, T *lN)
{
    for (int w = KC_L / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) kt_comb_twopass(&lM[j], &lN[j], lM[j + w], lN[j + w]);
}

/* for (long b = 0; b < nb; b++) BODY, over OpenMP threads only when there are several threads and
 * blocks (a parallel region costs microseconds, more than a small vector's whole kernel). */
#define KT_BLOCKS(nb, nt, ...)                                                      \
    do {                                                                            \
        if ((nt) > 1 && (nb) > 1) {                                                 \
            _Pragma("omp parallel for num_threads(nt) schedule(static)")            \
            for (long b = 0; b < (nb); b++) { __VA_ARGS__ }                         \
        } else {                                                                    \
            for (long b = 0; b < (nb); b++) { __VA_ARGS__ }                         \
        }                                                                           \
    } while (0)

/* max x_i: the max kernel over the blocks (part: nb entries), then the blocks' maxima in order */
static T kt_max_blocks(T *part, const kt_tab_t *tab, const T *x, size_t n, int nt)
{
    const size_t B = SMX_KERNELS_BLOCK;
    const long nb = (long)((n + B - 1) / B);
    KT_BLOCKS(nb, nt, {
        size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
        part[b] = tab->max(x + i0, len);
    });
    T a = -(T)INFINITY;
    for (long b = 0; b < nb; b++) a = part[b] > a ? part[b] : a;
    return a;
}

/* The normaliser: three-pass / reload (a, s), online (a = m, s = d), two-pass (s = M, a = N). */
typedef struct { T a, s; int pairs; } kt_norm_t;

#define KT_STACK_BLOCKS 64

static int kt_norm(kt_norm_t *nm, const T *x, size_t n, smx_kernels_algo_t algo, const kt_tab_t *tab, int nt,
                   T *ystore)
{
    const size_t B = SMX_KERNELS_BLOCK;
    const long nb = (long)((n + B - 1) / B);
    T stack[2 * KT_STACK_BLOCKS], *part = stack;
    if (nb > KT_STACK_BLOCKS) {
        part = malloc(2 * (size_t)nb * sizeof(T));
        if (!part) return SMX_ENOMEM;
    }
    T *p2 = part + nb;
    nm->pairs = 0;
    switch (algo) {
    case SMX_KERNELS_THREEPASS:
    case SMX_KERNELS_RELOAD: {
        const T a = kt_max_blocks(part, tab, x, n, nt);
        KT_BLOCKS(nb, nt, {
            size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
            T lanes[KC_L];
            tab->sumexp(lanes, x + i0, len, a, ystore ? ystore + i0 : NULL);
            part[b] = kt_tree_sum(lanes);
        });
        T s = 0;
        for (long b = 0; b < nb; b++) s += part[b];
        nm->a = a;
        nm->s = s;
        break;
    }
    case SMX_KERNELS_ONLINE: {
        KT_BLOCKS(nb, nt, {
            size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
            T lm[KC_L], ld[KC_L];
            tab->online(lm, ld, x + i0, len);
            kt_tree_online(tab, lm, ld);
            part[b] = lm[0];
            p2[b] = ld[0];
        });
        T m = part[0], d = p2[0];
        for (long b = 1; b < nb; b++) kt_comb_online(tab, &m, &d, part[b], p2[b]);
        nm->a = m;
        nm->s = d;
        break;
    }
    case SMX_KERNELS_TWOPASS: {
        KT_BLOCKS(nb, nt, {
            size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
            T lM[KC_L], lN[KC_L];
            tab->twopass(lM, lN, x + i0, len);
            kt_tree_twopass(lM, lN);
            part[b] = lM[0];
            p2[b] = lN[0];
        });
        T M = part[0], N = p2[0];
        for (long b = 1; b < nb; b++) kt_comb_twopass(&M, &N, part[b], p2[b]);
        nm->a = N;
        nm->s = M;
        nm->pairs = 1;
        break;
    }
    default:
        if (part != stack) free(part);
        return SMX_EDOM;
    }
    if (part != stack) free(part);
    return SMX_OK;
}

/* Two-pass is valid while the largest n_i = N is inside the range (kernels.h). */
static int kt_pairs_in_range(T N)
{
    return N < nearbyint(KC_PLIM * KC_LOG2E) && N > nearbyint((-KC_PLIM + KC_PMARGIN) * KC_LOG2E);
}

/* Special values by a scalar scan (kernels.h). what: 0 softmax, 1 logsoftmax, 2 lse. */
static int kt_special(T *y, const T *x, size_t n, int what)
{
    int nan = 0, allneg = 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) nan = 1;
        else if (x[i] == (T)INFINITY) k++;
        if (!(x[i] == -(T)INFINITY)) allneg = 0;
    }
    if (!nan && !k && !allneg) return SMX_ERANGE; /* not a special case: cannot happen */
    T lse = nan ? (T)NAN : k ? (T)INFINITY : -(T)INFINITY;
    if (what == 2) { *y = lse; return SMX_OK; }
    for (size_t i = 0; i < n; i++) {
        if (nan || allneg) y[i] = (T)NAN;
        else if (what == 0) y[i] = x[i] == (T)INFINITY ? (T)(1.0 / (double)k) : 0;
        else y[i] = x[i] == (T)INFINITY ? (T)(-log((double)k)) : -(T)INFINITY;
    }
    return SMX_OK;
}

/* what: 0 softmax, 1 logsoftmax, 2 lse (into *y) */
static int kt_run(T *y, const T *x, size_t n, smx_kernels_algo_t algo, smx_kernels_isa_t isa, int threads,
                  int what)
{
    const kt_tab_t *tab;
    if ((unsigned)algo >= SMX_KERNELS_NALGOS) return SMX_EDOM;
    int st = kt_resolve(&tab, isa);
    if (st) return st;
    if (n == 0) {
        if (what == 2) *y = -(T)INFINITY;
        return SMX_OK;
    }
    int nt = kt_threads(threads);
    if (algo == SMX_KERNELS_RELOAD && what != 0) algo = SMX_KERNELS_THREEPASS;
    kt_norm_t nm;
    st = kt_norm(&nm, x, n, algo, tab, nt, algo == SMX_KERNELS_RELOAD ? y : NULL);
    if (st) return st;
    if (nm.pairs && (nm.s == 0 || !kt_pairs_in_range(nm.a))) {
        algo = SMX_KERNELS_THREEPASS; /* outside the two-pass range (or NaN): fall back */
        st = kt_norm(&nm, x, n, algo, tab, nt, NULL);
        if (st) return st;
    }
    if (!(isfinite(nm.a) && isfinite(nm.s) && nm.s > 0)) return kt_special(y, x, n, what);
    const size_t B = SMX_KERNELS_BLOCK;
    const long nb = (long)((n + B - 1) / B);
    const int stream = n * sizeof(T) >= smx_kernels_stream_bytes();
    if (nm.pairs) {
        T lse = TMATH(log)(nm.s) + TMATH(fma)(nm.a, KC_LN2HI, nm.a * KC_LN2LO); /* N ln 2, one rounding */
        if (what == 2) { *y = lse; return SMX_OK; }
        T invM = 1 / nm.s;
        KT_BLOCKS(nb, nt, {
            size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
            if (what == 0) tab->out_pair(y + i0, x + i0, len, invM, nm.a, stream);
            else tab->out_sub(y + i0, x + i0, len, lse, 0, stream);
        });
        return SMX_OK;
    }
    T l = TMATH(log)(nm.s);
    if (what == 2) { *y = nm.a + l; return SMX_OK; }
    T inv = 1 / nm.s;
    KT_BLOCKS(nb, nt, {
        size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
        if (what == 1) tab->out_sub(y + i0, x + i0, len, nm.a, l, stream);
        else if (algo == SMX_KERNELS_RELOAD) tab->out_mul(y + i0, len, inv, stream);
        else tab->out_exp(y + i0, x + i0, len, nm.a, inv, stream);
    });
    return SMX_OK;
}

int TS(smx_kernels_softmax)(T *y, const T *x, size_t n, smx_kernels_algo_t algo, smx_kernels_isa_t isa,
                            int threads)
{
    return kt_run(y, x, n, algo, isa, threads, 0);
}

int TS(smx_kernels_logsoftmax)(T *y, const T *x, size_t n, smx_kernels_algo_t algo, smx_kernels_isa_t isa,
                               int threads)
{
    return kt_run(y, x, n, algo, isa, threads, 1);
}

int TS(smx_kernels_lse)(T *lse, const T *x, size_t n, smx_kernels_algo_t algo, smx_kernels_isa_t isa,
                        int threads)
{
    return kt_run(lse, x, n, algo, isa, threads, 2);
}

int TS(smx_kernels_exp)(T *y, const T *x, size_t n, smx_kernels_isa_t isa)
{
    const kt_tab_t *tab;
    int st = kt_resolve(&tab, isa);
    if (st) return st;
    tab->vexp(y, x, n);
    return SMX_OK;
}

int TS(smx_kernels_max)(T *m, const T *x, size_t n, smx_kernels_isa_t isa, int threads)
{
    const kt_tab_t *tab;
    int st = kt_resolve(&tab, isa);
    if (st) return st;
    const size_t B = SMX_KERNELS_BLOCK;
    const long nb = (long)((n + B - 1) / B);
    T stack[KT_STACK_BLOCKS], *part = nb <= KT_STACK_BLOCKS ? stack : malloc((size_t)nb * sizeof(T));
    if (!part) return SMX_ENOMEM;
    *m = kt_max_blocks(part, tab, x, n, kt_threads(threads));
    if (part != stack) free(part);
    return SMX_OK;
}

int TS(smx_kernels_scale)(T *y, const T *x, size_t n, T alpha, int nontemporal, smx_kernels_isa_t isa,
                         int threads)
{
    const kt_tab_t *tab;
    int st = kt_resolve(&tab, isa);
    if (st) return st;
    const size_t B = SMX_KERNELS_BLOCK;
    const long nb = (long)((n + B - 1) / B);
    int nt = kt_threads(threads);
    KT_BLOCKS(nb, nt, {
        size_t i0 = (size_t)b * B, len = n - i0 < B ? n - i0 : B;
        tab->scale(y + i0, x + i0, len, alpha, nontemporal);
    });
    return SMX_OK;
}
