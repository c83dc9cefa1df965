/* rreg.h - the rounded register machine: registers holding values of a format f, every
 * operation rounded to f (round-to-nearest-even), either in double (fast path, f->p <= 53:
 * the double result rounded once by smx_format_round; libm exp / log) or in MPFR (precision p,
 * f's exponent range and subnormals). An algorithm written once against these functions runs
 * the same sequence of rounded operations on both paths, so the paths can be compared bit for
 * bit (lse.c: log-sum-exp / softmax; xent.c: cross-entropy).
 *
 * Fast-path rounding class (the per-element format tests of smx_format_round fold away when an
 * algorithm is inlined into a caller with a constant class; same values in every class):
 *   SMX_RR_ANY  smx_format_round;   SMX_RR_F64  identity (smx_format_round_is_identity);
 *   SMX_RR_F32  (double)(float)x (smx_format_is_binary32).
 * MPFR path: call smx_rr_begin / smx_rr_end around the operations (the exponent range is global
 * MPFR state, saved and restored). Registers are allocated once (smx_rr_alloc): no operation
 * allocates. */
#ifndef SMX_RREG_H
#define SMX_RREG_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <mpfr.h>
#include "format.h"
#include "kernels.h"
#include "smx.h"
#include "sum.h"

/* the per-operation functions are forced inline: the callers' constant mp / fk then fold the
 * per-element branches away and smx_rr_exp_n's check loop vectorises (GCC otherwise declines to
 * inline them into large algorithms such as xent.c's; same values either way) */
#define SMX_RR_INLINE static inline __attribute__((always_inline))

typedef enum { SMX_RR_ANY = 0, SMX_RR_F64, SMX_RR_F32 } smx_rr_class_t;

typedef struct {
    const smx_format_t *f;
    int mp;                /* 0: double + rounding; 1: MPFR at precision f->p */
    smx_rr_class_t fk;     /* fast-path rounding class */
    size_t nreg;
    double *d;             /* fast registers */
    mpfr_t *m;             /* MPFR registers (precision p) */
    double *ex;            /* one double of side data per register (lse.c: two-pass exponents) */
    smx_mpfr_range_t saved;
} smx_rr_t;

/* The fastest class that rounds like smx_format_round for f. */
static inline smx_rr_class_t smx_rr_class(const smx_format_t *f)
{
    return smx_format_round_is_identity(f) ? SMX_RR_F64 : smx_format_is_binary32(f) ? SMX_RR_F32 : SMX_RR_ANY;
}

/* nreg registers; mp = 1 for the MPFR path (required when f->p > 53). SMX_OK or SMX_ENOMEM. */
static inline int smx_rr_alloc(smx_rr_t *A, size_t nreg, int mp, const smx_format_t *f)
{
    memset(A, 0, sizeof *A);
    A->f = f;
    A->mp = mp;
    A->fk = mp ? SMX_RR_ANY : smx_rr_class(f);
    A->nreg = nreg;
    A->ex = calloc(nreg ? nreg : 1, sizeof *A->ex);
    if (mp) {
        A->m = malloc((nreg ? nreg : 1) * sizeof *A->m);
        if (A->m)
            for (size_t i = 0; i < nreg; i++) mpfr_init2(A->m[i], f->p);
    } else {
        A->d = calloc(nreg ? nreg : 1, sizeof *A->d);
    }
    if (!A->ex || (mp ? !A->m : !A->d)) {
        free(A->ex);
        free(A->d);
        free(A->m);
        memset(A, 0, sizeof *A);
        return SMX_ENOMEM;
    }
    return SMX_OK;
}

static inline void smx_rr_free(smx_rr_t *A)
{
    if (A->m)
        for (size_t i = 0; i < A->nreg; i++) mpfr_clear(A->m[i]);
    free(A->m);
    free(A->d);
    free(A->ex);
    memset(A, 0, sizeof *A);
}

/* Enter / leave the format's exponent range (MPFR path; no-ops on the fast path). */
static inline void smx_rr_begin(smx_rr_t *A) { if (A->mp) smx_format_mpfr_enter(&A->saved, A->f); }
static inline void smx_rr_end(smx_rr_t *A) { if (A->mp) smx_format_mpfr_leave(&A->saved); }

/* fl(x) on the fast path, by class */
SMX_RR_INLINE double smx_rr_round(const smx_rr_t *A, double x)
{
    return A->fk == SMX_RR_F64 ? x : A->fk == SMX_RR_F32 ? (double)(float)x : smx_format_round(x, A->f);
}

SMX_RR_INLINE void smx_rr_fix(smx_rr_t *A, size_t r, int t) { smx_format_mpfr_fix(A->m[r], t, MPFR_RNDN, A->f); }

#define SMX_RR_BINOP(name, mfun, op)                                                   \
    SMX_RR_INLINE void name(smx_rr_t *A, size_t r, size_t a, size_t b)               \
    {                                                                                  \
        if (A->mp) smx_rr_fix(A, r, mfun(A->m[r], A->m[a], A->m[b], MPFR_RNDN));      \
        else A->d[r] = smx_rr_round(A, A->d[a] op A->d[b]);                           \
    }
SMX_RR_BINOP(smx_rr_add, mpfr_add, +)
SMX_RR_BINOP(smx_rr_sub, mpfr_sub, -)
SMX_RR_BINOP(smx_rr_mul, mpfr_mul, *)
SMX_RR_BINOP(smx_rr_div, mpfr_div, /)
#undef SMX_RR_BINOP

#define SMX_RR_UNOP(name, mfun, dfun)                                                  \
    SMX_RR_INLINE void name(smx_rr_t *A, size_t r, size_t a)                          \
    {                                                                                  \
        if (A->mp) smx_rr_fix(A, r, mfun(A->m[r], A->m[a], MPFR_RNDN));                \
        else A->d[r] = smx_rr_round(A, dfun(A->d[a]));                                \
    }
SMX_RR_UNOP(smx_rr_exp, mpfr_exp, exp)
SMX_RR_UNOP(smx_rr_log, mpfr_log, log)
SMX_RR_UNOP(smx_rr_log1p, mpfr_log1p, log1p)
#undef SMX_RR_UNOP

/* smx_rr_exp_n's check for SMX_RR_F32: y_i <- fl(y_i - d) where that equals fl(y_i + d) and
 * |x_i| <= 650, else NaN; returns 1 if any NaN was written (vectorised for AVX-512 / AVX2 / the
 * baseline and written branch-free: rreg.c; the other classes' check is the loop in smx_rr_exp_n) */
int smx_rr_pin_f32(double *restrict y, const double *restrict x, size_t n);

/* Registers [r, r + n) <- fl(exp(registers [a, a + n))), element for element exactly the values of
 * smx_rr_exp (the two ranges must not overlap). MPFR path and SMX_RR_F64: smx_rr_exp in a loop.
 * Other fast classes: v = the kernels' vectorised exp in double (numerics/kernels.h), and
 * fl(v) is kept when fl(v - d) == fl(v + d), d = |v| 2^-49, |x| <= 650; every other element
 * (a result near a rounding boundary of the format, i.e. a midpoint between two neighbours, its
 * overflow or underflow thresholds; NaN; |x| > 650) takes the scalar path fl(libm exp(x)).
 * Why the kept value equals fl(libm exp(x)): with E = e^x, |v - E| <= 0.891 ulp(E) (the kernels'
 * exp, measured against MPFR on 10^8 inputs: README, SMX_KERNELS_EXP_ULP_F64 = 1) and |libm - E| < 1 ulp(E)
 * (glibc's exp, < 1 ulp: the glibc manual's error table; 0.51 ulp for the 2018 implementation),
 * so |libm - v| < 2 ulp(E) <= 4 ulp(v) (E and v differ by less than a factor 2, so their ulps by
 * at most 2). d >= 8 ulp(v) (|v| >= 2^e, ulp(v) = 2^(e-52)); v -+ d in double are off by at most
 * ulp(v) / 2, so v - d <= libm <= v + d. Rounding to nearest (even) is monotone, overflow and
 * gradual underflow included, so fl(libm) lies between fl(v - d) and fl(v + d): equal ends pin
 * it. |x| <= 650 keeps v, d and v -+ d normal doubles (e^-650 ~ 2^-938). The check is done on
 * all elements branch-free (a NaN marks a fallback), then the marked ones are redone. */
SMX_RR_INLINE void smx_rr_exp_n(smx_rr_t *A, size_t r, size_t a, size_t n)
{
    if (A->mp || A->fk == SMX_RR_F64) {
        for (size_t i = 0; i < n; i++) smx_rr_exp(A, r + i, a + i);
        return;
    }
    double *restrict y = A->d + r;
    const double *restrict x = A->d + a;
    (void)smx_kernels_exp_f64(y, x, n, SMX_KERNELS_AUTO); /* AUTO always resolves: SMX_OK */
    int redo = 0;
    if (A->fk == SMX_RR_F32) redo = smx_rr_pin_f32(y, x, n);
    else for (size_t i = 0; i < n; i++) {
        const double v = y[i], d = fabs(v) * 0x1p-49;
        const double lo = smx_rr_round(A, v - d), hi = smx_rr_round(A, v + d);
        const int keep = lo == hi && fabs(x[i]) <= 650.0;
        y[i] = keep ? lo : NAN;
        redo |= !keep;
    }
    if (redo)
        for (size_t i = 0; i < n; i++)
            if (isnan(y[i])) y[i] = smx_rr_round(A, exp(x[i]));
}

/* r <- a (exact: same format), side data too */
SMX_RR_INLINE void smx_rr_copy(smx_rr_t *A, size_t r, size_t a)
{
    if (A->mp) mpfr_set(A->m[r], A->m[a], MPFR_RNDN);
    else A->d[r] = A->d[a];
    A->ex[r] = A->ex[a];
}

/* r <- fl(v) */
SMX_RR_INLINE void smx_rr_set_d(smx_rr_t *A, size_t r, double v)
{
    if (A->mp) smx_rr_fix(A, r, mpfr_set_d(A->m[r], v, MPFR_RNDN));
    else A->d[r] = smx_rr_round(A, v);
}

/* the register's value as a double (rounded to nearest for p > 53) */
SMX_RR_INLINE double smx_rr_get_d(const smx_rr_t *A, size_t a) { return A->mp ? mpfr_get_d(A->m[a], MPFR_RNDN) : A->d[a]; }

/* sign of a - b (neither NaN) */
static inline int smx_rr_cmp(const smx_rr_t *A, size_t a, size_t b)
{
    if (A->mp) return mpfr_cmp(A->m[a], A->m[b]);
    return (A->d[a] > A->d[b]) - (A->d[a] < A->d[b]);
}

/* 1 if register a holds exactly 1 (NaN: 0 on both paths; mpfr_cmp_ui returns 0 for NaN) */
static inline int smx_rr_is_one(const smx_rr_t *A, size_t a)
{
    return A->mp ? !mpfr_nan_p(A->m[a]) && mpfr_cmp_ui(A->m[a], 1) == 0 : A->d[a] == 1.0;
}

static inline int smx_rr_isnan(const smx_rr_t *A, size_t a) { return A->mp ? mpfr_nan_p(A->m[a]) != 0 : isnan(A->d[a]); }

/* +1 for +Inf, -1 for -Inf, 0 otherwise */
static inline int smx_rr_inf(const smx_rr_t *A, size_t a)
{
    if (A->mp) return mpfr_inf_p(A->m[a]) ? mpfr_sgn(A->m[a]) : 0;
    return isinf(A->d[a]) ? (A->d[a] > 0 ? 1 : -1) : 0;
}

/* r <- sum of registers [lo, lo + len) in the order of sum.h (r outside the range) */
static inline void smx_rr_sum(smx_rr_t *A, size_t r, size_t lo, size_t len, smx_sum_algo_t sum)
{
    if (A->mp) smx_sum_mpfr(A->m[r], A->m + lo, len, sum, A->f);
    else A->d[r] = smx_sum(A->d + lo, len, sum, A->f);
}

#endif
