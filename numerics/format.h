/* format.h - IEEE-like floating-point formats and round-to-nearest-even into them.
 *
 * A format is a value (never a global): significand bits p (implicit bit included),
 * IEEE exponent range [emin, emax] (normal numbers are 2^e * 1.f, emin <= e <= emax),
 * whether it has subnormals and infinities, and its largest finite value.
 *
 * Two ways to compute in a format (see science/numerics.md):
 *  (a) reference: MPFR at precision p with the format's exponent range, mpfr_subnormalize
 *      after every operation (smx_format_mpfr_enter / _fix / _leave);
 *  (b) fast: double arithmetic rounded to the format after every operation
 *      (smx_format_round). Exact (equal to (a)) for + - * / sqrt when 53 >= 2p + 2, i.e.
 *      p <= 25 (fp8, bf16, fp16, tf32, fp32) and trivially for fp64; for 26 <= p <= 52 it
 *      may double-round; for p > 53 (fp80, fp128, pN) only (a) exists.
 *
 * Overflow follows IEEE round-to-nearest: a value whose rounding (with unbounded exponent)
 * exceeds max becomes +-Inf, or NaN for formats without Inf (fp8-e4m3, OCP "non-saturating"
 * convention: |x| > 464 -> NaN, 464 ties to 448). Underflow is gradual when the format has subnormals.
 * NaN in -> NaN out; +-Inf in -> +-Inf (NaN without Inf); signed zeros preserved. */
#ifndef SMX_FORMAT_H
#define SMX_FORMAT_H

#include <math.h>
#include <mpfr.h>
#include <stdint.h>
#include <string.h>

#define SMX_FORMAT_PMAX 4096
#define SMX_FORMAT_PMIN 2

typedef struct {
    char name[24];   /* canonical name: "fp16", "p37", ... */
    int p;           /* significand bits, implicit bit included */
    long emin;       /* IEEE exponent of the smallest normal number */
    long emax;       /* IEEE exponent of the largest finite number */
    int subnormals;  /* 1: gradual underflow below 2^emin */
    int has_inf;     /* 0: overflow gives NaN (fp8-e4m3) */
    double max;      /* largest finite value, as a double (HUGE_VAL if beyond double) */
} smx_format_t;

/* Look up a format by name: fp8-e4m3 (alias e4m3), fp8-e5m2 (e5m2), bf16 (bfloat16),
 * fp16 (binary16, half), tf32, fp32 (binary32, single, float), fp64 (binary64, double),
 * fp80 (x87), fp128 (binary128, quad), pN for 2 <= N <= 4096. SMX_EDOM if unknown. */
int smx_format_get(smx_format_t *f, const char *name);

/* The pN format: N significand bits, exponent range [-2^30, 2^30], no subnormals needed. */
int smx_format_pN(smx_format_t *f, int p);

/* Names of the named formats, NULL-terminated (for listing and sweeps). */
extern const char *const smx_format_names[];

/* Unit roundoff u = 2^-p (round to nearest). */
double smx_format_u(const smx_format_t *f);
/* Smallest positive normal 2^emin and smallest positive subnormal 2^(emin-p+1) as doubles
 * (0 if below double's range). */
double smx_format_min_normal(const smx_format_t *f);
double smx_format_min_subnormal(const smx_format_t *f);

/* 1 if the fast path (double + rounding) is available: p <= 53 and exponent range within
 * double's (or pN with p <= 53, which then inherits double's range). */
int smx_format_has_fast(const smx_format_t *f);

/* Fast path: round a double to the format, round-to-nearest-even (requires p <= 53).
 * Inline for the hot loops: fp64 is the identity; fp32 is the hardware conversion; a value
 * normal in a format with p < 53 is rounded on its bit pattern (add half an ulp minus one
 * plus the lowest kept bit, clear the dropped bits: a carry bumps the exponent); a value in
 * the format's subnormal range by (|x| + c) - c with c = 2^(emin - p + 53), whose ulp is the
 * subnormal quantum; everything else (zero, overflow, Inf, NaN, double subnormals) by
 * smx_format_round_slow. All paths equal the MPFR reference (tests/t-format.c). */
double smx_format_round_slow(double x, const smx_format_t *f);
/* 1 if f is IEEE binary32 (fp32): then smx_format_round(x) == (double)(float)x and a binary32
 * + - * / of two fp32 values equals the double operation rounded once (53 >= 2*24 + 2). */
static inline int smx_format_is_binary32(const smx_format_t *f)
{
    return f->p == 24 && f->emin == -126 && f->emax == 127 && f->subnormals && f->has_inf;
}

/* 1 if rounding a double to f changes nothing (fp64, p53, and wider formats' fast path). */
static inline int smx_format_round_is_identity(const smx_format_t *f)
{
    return f->p >= 53 && f->emax >= 1023;
}

static inline double smx_format_round(double x, const smx_format_t *f)
{
    if (smx_format_round_is_identity(f)) return x; /* fp64 (and p53) */
    if (smx_format_is_binary32(f)) return (double)(float)x; /* fp32: hardware RNE, range and subnormals */
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    const long e = (long)((b >> 52) & 0x7ff) - 1023; /* 1024: Inf/NaN; -1023: 0/subnormal */
    if (f->p < 53 && e > -1023 && e < 1024) {
        if (e >= f->emin && e <= f->emax) {
            const int shift = 53 - f->p;
            b += ((uint64_t)1 << (shift - 1)) - 1 + ((b >> shift) & 1);
            b &= ~(((uint64_t)1 << shift) - 1);
            double r;
            memcpy(&r, &b, sizeof r);
            if (fabs(r) <= f->max) return r;
        } else if (e < f->emin && f->subnormals && f->emin - f->p + 53 > -1022) {
            const double c = ldexp(1.0, (int)(f->emin - f->p + 53));
            return copysign((fabs(x) + c) - c, x);
        }
    }
    return smx_format_round_slow(x, f);
}

/* Fast-path arithmetic: the exact double result rounded once to the format. */
static inline double smx_fadd(double a, double b, const smx_format_t *f) { return smx_format_round(a + b, f); }
static inline double smx_fsub(double a, double b, const smx_format_t *f) { return smx_format_round(a - b, f); }
static inline double smx_fmul(double a, double b, const smx_format_t *f) { return smx_format_round(a * b, f); }
static inline double smx_fdiv(double a, double b, const smx_format_t *f) { return smx_format_round(a / b, f); }
double smx_fsqrt(double a, const smx_format_t *f);
/* exp, log, log1p, expm1 in the fast path: libm's double result rounded to the format
 * (libm is not correctly rounded, so this can differ from the MPFR path in the last bit
 * of the format for p near 53; for p <= 25 such double-rounding is very rare). */
double smx_fexp(double a, const smx_format_t *f);
double smx_flog(double a, const smx_format_t *f);
double smx_flog1p(double a, const smx_format_t *f);
double smx_fexpm1(double a, const smx_format_t *f);

/* Reference path. MPFR's exponent range is global state: enter saves it and installs the
 * format's (MPFR exponents are IEEE's + 1; emin lowered by p-1 for subnormals), leave
 * restores it. Between the two, after every MPFR operation at precision p with ternary
 * value t, call smx_format_mpfr_fix(x, t, rnd, f) to subnormalize and apply the format's
 * overflow rule. Returns the corrected ternary value. */
typedef struct {
    mpfr_exp_t emin, emax;
} smx_mpfr_range_t;

void smx_format_mpfr_enter(smx_mpfr_range_t *saved, const smx_format_t *f);
void smx_format_mpfr_leave(const smx_mpfr_range_t *saved);
int smx_format_mpfr_fix(mpfr_t x, int ternary, mpfr_rnd_t rnd, const smx_format_t *f);

/* Round an mpfr_t (any precision, any exponent) into the format: rop gets precision p and
 * the correctly rounded (RNE) value with the format's range, subnormals and overflow rule.
 * Handles enter/leave itself. Returns the ternary value. */
int smx_format_round_mpfr(mpfr_t rop, const mpfr_t x, const smx_format_t *f);

/* Round a double into the format via MPFR (reference for smx_format_round). */
double smx_format_round_ref(double x, const smx_format_t *f);

#endif
