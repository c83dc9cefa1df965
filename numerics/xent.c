/* xent.c - cross-entropy of a logit row in a format (see xent.h), written once on rreg.h. */
#include "xent.h"
#include "rreg.h"
#include "smx.h"
#include "stablemax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* registers: Z = [0, n) rounded logits, E = [n, 2n) exponentials / StableMax terms,
 * O = [2n, 3n) the differences zr_i - m, then the other terms (pairwise sum), then scalars */
enum { R_S, R_SUMO, R_L, R_D, R_LOSS, R_G, R_GY, R_ONE, R_T, R_NSCALARS };

#define XENT_F32_ROWS 16 /* rows per block of smx_xent_eval_f32_rows's float path */

struct smx_xent {
    smx_format_t f;
    smx_xent_loss_t loss;
    smx_sum_algo_t sum;
    size_t n;
    smx_rr_t A;
    double *zd;     /* rounded logits as doubles (MPFR path) */
    double *zin, *gout; /* smx_xent_eval_f32's general path: the float row and its gradient as doubles */
    size_t brows;   /* smx_xent_eval_f32's float path (0: not this workspace): rows per block, */
    double *bx;     /* their exp arguments and exps (2 brows n), */
    float *ef;      /* their exponentials as floats (brows n) */
    mpfr_t wide;    /* StableMax: s(x) and s'(x) at p + 64 bits before their one rounding */
    int pin;        /* StableMax fast path, p <= 25: s and s' pinned, else computed by MPFR (mx, mo) */
    mpfr_t mx, mo;  /* the fallback's argument (53 bits) and result (p bits) */
};

int smx_xent_alloc(smx_xent_t **out, size_t n, smx_xent_loss_t loss, smx_sum_algo_t sum, const smx_format_t *f,
                   int force_mpfr)
{
    *out = NULL;
    if (n == 0 || (loss != SMX_XENT_SOFTMAX && loss != SMX_XENT_STABLEMAX) ||
        (sum != SMX_SUM_MAXFIRST && sum != SMX_SUM_PAIRWISE))
        return SMX_EDOM;
    smx_xent_t *w = calloc(1, sizeof *w);
    if (!w) return SMX_ENOMEM;
    w->f = *f;
    w->loss = loss;
    w->sum = sum;
    w->n = n;
    int mp = force_mpfr || f->p > 53;
    w->zd = malloc(n * sizeof *w->zd);
    w->zin = malloc(n * sizeof *w->zin);
    w->gout = malloc(n * sizeof *w->gout);
    if (!mp && smx_format_is_binary32(f) && loss == SMX_XENT_SOFTMAX) {
        w->brows = n >= 4096 ? 1 : XENT_F32_ROWS; /* a block's buffers < 1.3 MB */
        w->bx = malloc(2 * w->brows * n * sizeof *w->bx);
        w->ef = malloc(w->brows * n * sizeof *w->ef);
    }
    if (!w->zd || !w->zin || !w->gout || (w->brows && (!w->bx || !w->ef)) ||
        smx_rr_alloc(&w->A, 3 * n + R_NSCALARS, mp, &w->f) != SMX_OK) {
        free(w->zd);
        free(w->zin);
        free(w->gout);
        free(w->bx);
        free(w->ef);
        free(w);
        return SMX_ENOMEM;
    }
    if (loss == SMX_XENT_STABLEMAX) {
        mpfr_init2(w->wide, f->p + 64);
        mpfr_init2(w->mx, 53);
        mpfr_init2(w->mo, f->p);
        w->pin = !mp && f->p <= 25;
    }
    *out = w;
    return SMX_OK;
}

void smx_xent_free(smx_xent_t *w)
{
    if (!w) return;
    if (w->loss == SMX_XENT_STABLEMAX) mpfr_clears(w->wide, w->mx, w->mo, (mpfr_ptr)0);
    smx_rr_free(&w->A);
    free(w->zd);
    free(w->zin);
    free(w->gout);
    free(w->bx);
    free(w->ef);
    free(w);
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

/* out <- fl(s(x)) (deriv = 0) or fl(s'(x)) (deriv = 1) for x < 0 on the MPFR path (inside
 * smx_format_mpfr_enter for f): s or s' at p + 64 bits (1 - x exact there for |x| < 2^64), then
 * rounded once. The intermediates 1 - x and (1 - x)^2 are not values of the format: they are formed
 * in MPFR's widest exponent range (in the format's, (1 - x)^2 overflowed once |1 - x| >=
 * 2^((emax + 1) / 2): fp16 x <= -255, fp8-e4m3 x <= -22, and s' became 0 where the fast path, whose
 * double intermediates do not overflow, gives the format's s'), and the result is rounded into the
 * format in its range (smx_format_mpfr_fix, subnormals: format.h). */
static void stablemax_neg_mpfr(mpfr_t out, const mpfr_t x, int deriv, mpfr_t wide, const smx_format_t *f)
{
    const mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax(); /* the format's */
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    mpfr_ui_sub(wide, 1, x, MPFR_RNDN);
    if (deriv) mpfr_sqr(wide, wide, MPFR_RNDN);
    const int t = mpfr_ui_div(out, 1, wide, MPFR_RNDN);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    smx_format_mpfr_fix(out, t, MPFR_RNDN, f);
}

/* The fast path's fallback for x < 0: the MPFR path's value (stablemax_neg_mpfr), as a double */
static double stablemax_neg_exact(smx_xent_t *w, double x, int deriv)
{
    smx_mpfr_range_t saved;
    smx_format_mpfr_enter(&saved, &w->f);
    mpfr_set_d(w->mx, x, MPFR_RNDN); /* exact: 53 bits */
    stablemax_neg_mpfr(w->mo, w->mx, deriv, w->wide, &w->f);
    const double r = mpfr_get_d(w->mo, MPFR_RNDN);
    smx_format_mpfr_leave(&saved);
    return r;
}

/* r <- fl(s(x_a)) (deriv = 0) or fl(s'(x_a)) (deriv = 1), one rounding. MPFR path:
 * stablemax_neg_mpfr for x < 0, x + 1 or 1 for x >= 0. Fast path: v = the double value of
 * stablemax.h (x + 1 for x >= 0: one operation on format values, rounded once, exact for p <= 25);
 * for x < 0 and p <= 25 (w->pin) fl(v) is kept when fl(v - d) == fl(v + d), d = v 2^-49, as
 * smx_rr_exp_n pins the exp (v's error: s 1 - x and a division, <= 2^-52 relative; s' also the
 * square, <= 2.5 2^-52; d is 8 ulps of v), and v is a normal double >= 2^-1000 (or 0 for x = -Inf);
 * any other element takes stablemax_neg_exact. Without the pin two negative floats double-rounded in
 * fp32 (x = -0x1.e691c6p-12 for s, -0x1.2d5dc4p-9 for s', found with MPFR over all of them). */
ALWAYS_INLINE void rr_stablemax(smx_rr_t *A, size_t r, size_t a, int deriv, smx_xent_t *w)
{
    if (!A->mp) {
        const double x = A->d[a], v = deriv ? smx_stablemax_ds(x) : smx_stablemax_s(x);
        if (!(x < 0) || !w->pin) {
            A->d[r] = smx_rr_round(A, v);
            return;
        }
        const double d = v * 0x1p-49, lo = smx_rr_round(A, v - d), hi = smx_rr_round(A, v + d);
        A->d[r] = lo == hi && (v >= 0x1p-1000 || (v == 0 && isinf(x))) ? lo : stablemax_neg_exact(w, x, deriv);
        return;
    }
    if (mpfr_sgn(A->m[a]) >= 0) {
        if (deriv) mpfr_set_ui(A->m[r], 1, MPFR_RNDN);
        else smx_rr_fix(A, r, mpfr_add_ui(A->m[r], A->m[a], 1, MPFR_RNDN));
        return;
    }
    stablemax_neg_mpfr(A->m[r], A->m[a], deriv, w->wide, A->f);
}

/* S <- sum of E[0..n) in the order `sum` with e_k first (MAXFIRST) or last (PAIRWISE over the
 * others); with exps = 1 the exponentials are formed first: the differences t_i = fl(zr_i - m)
 * into O (t_k = 0), then e_i = fl(exp(t_i)) for the whole row by smx_rr_exp_n (vectorised on the
 * fast path, the same rounded values as smx_rr_exp; e_k = fl(exp(0)) = 1). fp64's fast path
 * (SMX_RR_F64: rounding is the identity and the exp libm's, scalar either way) forms t_i, e_i and
 * the running sum (MAXFIRST) or the copy of the others (PAIRWISE) in one loop instead, so the
 * sum's chain of dependent adds overlaps the exp calls (the separate passes cost fp64 ~10 %):
 * the same operations in the same order, the same values. */
ALWAYS_INLINE void exp_sum(smx_rr_t *A, const smx_xent_t *w, size_t n, size_t k, int exps)
{
    const size_t Z = 0, E = w->n, O = 2 * w->n, S = 3 * w->n;
    if (exps && !A->mp && A->fk == SMX_RR_F64) {
        const double m = A->d[Z + k];
        double *e = A->d + E, *o = A->d + O, s = e[k] = exp(m - m);
        if (w->sum == SMX_SUM_PAIRWISE) {
            for (size_t i = 0; i < k; i++) o[i] = e[i] = exp(A->d[Z + i] - m);
            for (size_t i = k + 1; i < n; i++) o[i - 1] = e[i] = exp(A->d[Z + i] - m);
            A->d[S + R_SUMO] = smx_sum(o, n - 1, SMX_SUM_PAIRWISE, A->f);
            A->d[S + R_S] = s + A->d[S + R_SUMO];
            return;
        }
        for (size_t i = 0; i < k; i++) s += e[i] = exp(A->d[Z + i] - m);
        for (size_t i = k + 1; i < n; i++) s += e[i] = exp(A->d[Z + i] - m);
        A->d[S + R_S] = s;
        return;
    }
    if (exps) {
        for (size_t i = 0; i < n; i++) smx_rr_sub(A, O + i, Z + i, Z + k);
        smx_rr_exp_n(A, E, O, n);
    }
    if (w->sum == SMX_SUM_PAIRWISE) {
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (i != k) smx_rr_copy(A, O + j++, E + i);
        smx_rr_sum(A, S + R_SUMO, O, j, SMX_SUM_PAIRWISE);
        smx_rr_add(A, S + R_S, E + k, S + R_SUMO);
        return;
    }
    if (!A->mp && A->fk == SMX_RR_F32) {
        /* binary32: a float accumulator, the same values as fl(s + e_i) in double (53 >= 2*24 + 2)
         * with a shorter dependency chain (no conversions) */
        float s = (float)A->d[E + k];
        for (size_t i = 0; i < n; i++)
            if (i != k) s += (float)A->d[E + i];
        A->d[S + R_S] = s;
        return;
    }
    if (!A->mp) {
        /* the running sum in a local (a register), not in the register file in memory */
        double s = A->d[E + k];
        for (size_t i = 0; i < n; i++)
            if (i != k) s = smx_rr_round(A, s + A->d[E + i]);
        A->d[S + R_S] = s;
        return;
    }
    smx_rr_copy(A, S + R_S, E + k);
    for (size_t i = 0; i < n; i++)
        if (i != k) smx_rr_add(A, S + R_S, S + R_S, E + i);
}

/* The algorithm of xent.h, once. Inlined into eval with constant mp / fk (the local copy L of
 * the machine), so that the fast path's per-operation branches fold away. */
ALWAYS_INLINE void xent_run(smx_xent_t *w, smx_xent_row_t *r, double *grad, const double *z, size_t n, size_t y,
                            int mp, smx_rr_class_t fk)
{
    smx_rr_t L = w->A;
    L.mp = mp;
    L.fk = fk;
    smx_rr_t *A = &L;
    const size_t Z = 0, E = w->n, S = 3 * w->n;
    for (size_t i = 0; i < n; i++) smx_rr_set_d(A, Z + i, z[i]); /* zr = fl(z) */
    const double *zd = A->d;
    if (mp) {
        for (size_t i = 0; i < n; i++) w->zd[i] = smx_rr_get_d(A, Z + i);
        zd = w->zd;
    }
    const size_t k = row_argmax(&r->gap, zd, n);
    exp_sum(A, w, n, k, 1); /* softmax denominator S: SC for both losses */
    r->sc = smx_rr_is_one(A, S + R_S);
    smx_rr_set_d(A, S + R_ONE, 1.0);
    if (w->loss == SMX_XENT_SOFTMAX) {
        smx_rr_log(A, S + R_L, S + R_S);
        smx_rr_sub(A, S + R_D, Z + y, Z + k);
        smx_rr_sub(A, S + R_LOSS, S + R_L, S + R_D);            /* fl(fl(log S) - fl(zr_y - m)) */
        if (grad)
            for (size_t i = 0; i < n; i++) {
                smx_rr_div(A, S + R_G, E + i, S + R_S);             /* fl(e_i / S) */
                if (i == y) smx_rr_sub(A, S + R_G, S + R_G, S + R_ONE);
                grad[i] = smx_rr_get_d(A, S + R_G);
            }
    } else {
        for (size_t i = 0; i < n; i++) rr_stablemax(A, E + i, Z + i, 0, w); /* s_i */
        exp_sum(A, w, n, k, 0);                                                     /* S' */
        smx_rr_log(A, S + R_L, S + R_S);
        smx_rr_log(A, S + R_D, E + y);
        smx_rr_sub(A, S + R_LOSS, S + R_L, S + R_D);            /* fl(fl(log S') - fl(log s_y)) */
        if (grad) {
            rr_stablemax(A, S + R_GY, Z + y, 1, w);
            smx_rr_div(A, S + R_GY, S + R_GY, E + y);           /* fl(fl(s'(zr_y)) / s_y) */
            for (size_t i = 0; i < n; i++) {
                rr_stablemax(A, S + R_G, Z + i, 1, w);
                smx_rr_div(A, S + R_G, S + R_G, S + R_S);       /* g_i = fl(fl(s'(zr_i)) / S') */
                if (i == y) smx_rr_sub(A, S + R_G, S + R_G, S + R_GY);
                grad[i] = smx_rr_get_d(A, S + R_G);
            }
        }
    }
    r->loss = smx_rr_get_d(A, S + R_LOSS);
    r->zero = r->loss == 0.0;
}

/* xent_run once per path, each in its own function (inlined into one, the four paths shared a
 * frame and register allocation: fp64 ran ~4 % slower than in a function of its own) */
#define XENT_PATH(name, mp, fk)                                                                           \
    static __attribute__((noinline)) void name(smx_xent_t *w, smx_xent_row_t *r, double *grad, const double *z, \
                                               size_t n, size_t y)                                       \
    {                                                                                                     \
        xent_run(w, r, grad, z, n, y, mp, fk);                                                            \
    }
XENT_PATH(xent_mpfr, 1, SMX_RR_ANY)
XENT_PATH(xent_f64, 0, SMX_RR_F64)
XENT_PATH(xent_f32, 0, SMX_RR_F32)
XENT_PATH(xent_any, 0, SMX_RR_ANY)
#undef XENT_PATH

int smx_xent_eval(smx_xent_t *w, smx_xent_row_t *r, double *grad, const double *z, size_t n, size_t y)
{
    if (n == 0 || n > w->n || y >= n) return SMX_EDOM;
    if (w->A.mp) {
        smx_rr_begin(&w->A);
        xent_mpfr(w, r, grad, z, n, y);
        smx_rr_end(&w->A);
    } else if (w->A.fk == SMX_RR_F64) {
        xent_f64(w, r, grad, z, n, y);
    } else if (w->A.fk == SMX_RR_F32) {
        xent_f32(w, r, grad, z, n, y);
    } else {
        xent_any(w, r, grad, z, n, y);
    }
    return SMX_OK;
}

/* ---- smx_xent_eval_f32: float rows (a float model's logits), the gradient scaled and rounded to float ---- */

/* The float path's element-wise loops, compiled for AVX-512, AVX2 and the baseline and chosen at
 * load time (GCC target_clones): each iteration is the same IEEE operations in every clone (no FP
 * contraction under -std=c11), so the clone changes the speed only. */
#define F32_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* *mx = max z_i when no z_i is NaN; returns 1 if some z_i is NaN (then *mx is unspecified) */
F32_CLONES static int f32_max(const float *restrict z, size_t n, float *mx)
{
    float m = -INFINITY;
    int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (size_t i = 0; i < n; i++) {
        m = z[i] > m ? z[i] : m;
        nan |= z[i] != z[i];
    }
    *mx = m;
    return nan;
}

/* max of z_i over i != k (n >= 2, no NaN) */
F32_CLONES static float f32_max_except(const float *restrict z, size_t n, size_t k)
{
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (size_t i = 0; i < n; i++) {
        const float v = i == k ? -INFINITY : z[i];
        m = v > m ? v : m;
    }
    return m;
}

/* x_i = fl32(z_i - m) as doubles (the exp's arguments; xent.h's t_i) */
F32_CLONES static void f32_diff(double *restrict x, const float *restrict z, float m, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) x[i] = (double)(z[i] - m);
}

/* e_i = v_i (binary32 values held in doubles: exact) */
F32_CLONES static void f32_narrow(float *restrict e, const double *restrict v, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) e[i] = (float)v[i];
}

/* dz_i = fl32(fl32(e_i / S) scale) (the label's entry is redone by the caller) */
F32_CLONES static void f32_grad(float *restrict dz, const float *restrict e, float S, double scale, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) dz[i] = (float)((double)(e[i] / S) * scale);
}

/* S_j = the maxfirst sum of row j of e (R rows of n): e_kj first, then the others in index order,
 * R rows side by side (independent chains of additions; each row's own order). Adding +0 for
 * i == k_j instead of skipping it changes nothing: S_j >= +0 or NaN, never -0. */
static void f32_sums_maxfirst(float *S, const float *e, size_t n, const size_t *k, size_t R)
{
    float s[XENT_F32_ROWS];
    for (size_t j = 0; j < R; j++) s[j] = e[j * n + k[j]];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < R; j++) s[j] += i == k[j] ? 0.0f : e[j * n + i];
    for (size_t j = 0; j < R; j++) S[j] = s[j];
}

/* row_argmax on a float row: k, *best = z_k and *gap. With a NaN in the row, row_argmax itself on
 * the row as doubles (tmp, n entries: its order of comparisons); otherwise the max, its first index
 * and the largest of the others, vectorised, which is what that order finds. */
static size_t f32_argmax(double *gap, float *best, const float *z, size_t n, double *tmp)
{
    size_t k = 0;
    if (f32_max(z, n, best)) {
        for (size_t i = 0; i < n; i++) tmp[i] = z[i];
        k = row_argmax(gap, tmp, n);
        *best = z[k];
        return k;
    }
    while (z[k] != *best) k++;
    *best = z[k]; /* -0 or +0 as stored */
    *gap = (double)*best - (double)(n > 1 ? f32_max_except(z, n, k) : -INFINITY);
    return k;
}

/* xent.h's SMX_XENT_SOFTMAX in binary32 on R <= w->brows float rows: the operations of xent_run's
 * fast path with fl = binary32 rounding, written in float (a binary32 + - * / of floats is the
 * double operation rounded once, 53 >= 2*24 + 2; the exps by smx_rr_exp_n as there, over the R
 * rows at once; the log libm's rounded once) */
static void xent_f32_block(smx_xent_t *w, smx_xent_row_t *r, float *dz, size_t ldd, double scale, const float *z,
                           size_t ldz, size_t n, const size_t *y, size_t R, size_t *kmax)
{
    size_t k[XENT_F32_ROWS];
    float best[XENT_F32_ROWS], S[XENT_F32_ROWS];
    smx_rr_t L = w->A; /* the register machine on the block's buffer: x = [0, Rn), v = [Rn, 2Rn) */
    L.d = w->bx;
    double *x = w->bx, *v = w->bx + R * n;
    float *e = w->ef;
    for (size_t j = 0; j < R; j++) {
        k[j] = kmax[j] = f32_argmax(&r[j].gap, &best[j], z + j * ldz, n, w->zin);
        f32_diff(x + j * n, z + j * ldz, best[j], n);
    }
    smx_rr_exp_n(&L, R * n, 0, R * n); /* v = fl(exp(x)): the kernels' exp, pinned (rreg.h) */
    f32_narrow(e, v, R * n);
    if (w->sum == SMX_SUM_PAIRWISE) { /* fl(e_k + pairwise sum of the others in index order) */
        for (size_t j = 0; j < R; j++) {
            const float *ej = e + j * n;
            size_t c = 0;
            for (size_t i = 0; i < n; i++)
                if (i != k[j]) x[c++] = ej[i];
            S[j] = (float)((double)ej[k[j]] + smx_sum(x, c, SMX_SUM_PAIRWISE, &w->f));
        }
    } else {
        f32_sums_maxfirst(S, e, n, k, R);
    }
    for (size_t j = 0; j < R; j++) {
        const float *zj = z + j * ldz, *ej = e + j * n;
        r[j].sc = S[j] == 1.0f;
        const float Lg = (float)log((double)S[j]), D = zj[y[j]] - best[j];
        r[j].loss = Lg - D;
        r[j].zero = r[j].loss == 0.0;
        if (dz) {
            float *dj = dz + j * ldd;
            f32_grad(dj, ej, S[j], scale, n);
            dj[y[j]] = (float)((double)(ej[y[j]] / S[j] - 1.0f) * scale);
        }
    }
}

int smx_xent_eval_f32_rows(smx_xent_t *w, smx_xent_row_t *r, float *dz, size_t ldd, double scale, const float *z,
                           size_t ldz, size_t n, const size_t *y, size_t rows, size_t *kmax)
{
    if (n == 0 || n > w->n || ldz < n || (dz && ldd < n)) return SMX_EDOM;
    for (size_t j = 0; j < rows; j++)
        if (y[j] >= n) return SMX_EDOM;
    for (size_t j0 = 0; w->brows && j0 < rows; j0 += w->brows) {
        const size_t R = rows - j0 < w->brows ? rows - j0 : w->brows;
        xent_f32_block(w, r + j0, dz ? dz + j0 * ldd : NULL, ldd, scale, z + j0 * ldz, ldz, n, y + j0, R,
                       kmax + j0);
    }
    if (w->brows) return SMX_OK;
    for (size_t j = 0; j < rows; j++) { /* other formats / losses / MPFR: through smx_xent_eval */
        const float *zj = z + j * ldz;
        double gap;
        for (size_t i = 0; i < n; i++) w->zin[i] = zj[i];
        kmax[j] = row_argmax(&gap, w->zin, n);
        (void)smx_xent_eval(w, r + j, dz ? w->gout : NULL, w->zin, n, y[j]); /* arguments checked above */
        if (dz)
            for (size_t i = 0; i < n; i++) dz[j * ldd + i] = (float)smx_format_round(w->gout[i] * scale, &w->f);
    }
    return SMX_OK;
}

int smx_xent_eval_f32(smx_xent_t *w, smx_xent_row_t *r, float *dz, double scale, const float *z, size_t n, size_t y,
                      size_t *kmax)
{
    return smx_xent_eval_f32_rows(w, r, dz, n, scale, z, n, n, &y, 1, kmax);
}
