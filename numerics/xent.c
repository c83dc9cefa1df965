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

struct smx_xent {
    smx_format_t f;
    smx_xent_loss_t loss;
    smx_sum_algo_t sum;
    size_t n;
    smx_rr_t A;
    double *zd;     /* rounded logits as doubles (MPFR path) */
    mpfr_t wide;    /* MPFR path: s(x) and s'(x) at p + 64 bits before their one rounding */
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
    if (!w->zd || smx_rr_alloc(&w->A, 3 * n + R_NSCALARS, mp, &w->f) != SMX_OK) {
        free(w->zd);
        free(w);
        return SMX_ENOMEM;
    }
    if (mp) mpfr_init2(w->wide, f->p + 64);
    *out = w;
    return SMX_OK;
}

void smx_xent_free(smx_xent_t *w)
{
    if (!w) return;
    if (w->A.mp) mpfr_clear(w->wide);
    smx_rr_free(&w->A);
    free(w->zd);
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

/* r <- fl(s(x_a)) (deriv = 0) or fl(s'(x_a)) (deriv = 1), one rounding: fast path the double
 * value of stablemax.h rounded; MPFR path s or s' at p + 64 bits (1 - x exact there for
 * |x| < 2^64), then rounded once. The intermediates 1 - x and (1 - x)^2 are not values of the
 * format: they are formed in MPFR's widest exponent range (in the format's, (1 - x)^2 overflowed
 * once |1 - x| >= 2^((emax + 1) / 2): fp16 x <= -255, fp8-e4m3 x <= -22, and s' became 0 where
 * the fast path, whose double intermediates do not overflow, gives the format's s'), and the
 * result is rounded into the format in its range (check_range, subnormals: format.h). */
ALWAYS_INLINE void rr_stablemax(smx_rr_t *A, size_t r, size_t a, int deriv, mpfr_t wide)
{
    if (!A->mp) {
        double x = A->d[a];
        A->d[r] = smx_rr_round(A, deriv ? smx_stablemax_ds(x) : smx_stablemax_s(x));
        return;
    }
    if (mpfr_sgn(A->m[a]) >= 0) {
        if (deriv) mpfr_set_ui(A->m[r], 1, MPFR_RNDN);
        else smx_rr_fix(A, r, mpfr_add_ui(A->m[r], A->m[a], 1, MPFR_RNDN));
        return;
    }
    const mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax(); /* the format's (smx_rr_begin) */
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    mpfr_ui_sub(wide, 1, A->m[a], MPFR_RNDN);
    if (deriv) mpfr_sqr(wide, wide, MPFR_RNDN);
    const int t = mpfr_ui_div(A->m[r], 1, wide, MPFR_RNDN);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    smx_rr_fix(A, r, t);
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
        for (size_t i = 0; i < n; i++) rr_stablemax(A, E + i, Z + i, 0, w->wide); /* s_i */
        exp_sum(A, w, n, k, 0);                                                     /* S' */
        smx_rr_log(A, S + R_L, S + R_S);
        smx_rr_log(A, S + R_D, E + y);
        smx_rr_sub(A, S + R_LOSS, S + R_L, S + R_D);            /* fl(fl(log S') - fl(log s_y)) */
        if (grad) {
            rr_stablemax(A, S + R_GY, Z + y, 1, w->wide);
            smx_rr_div(A, S + R_GY, S + R_GY, E + y);           /* fl(fl(s'(zr_y)) / s_y) */
            for (size_t i = 0; i < n; i++) {
                rr_stablemax(A, S + R_G, Z + i, 1, w->wide);
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
