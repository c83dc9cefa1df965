/* t-format.c - formats and rounding: fast emulation (double + round) against MPFR bit for
 * bit for + - * / sqrt on >= 10^5 operand pairs per format with p <= 25, including
 * subnormals, overflow and exact ties; format table facts; every alias of a format name. */
#include "format.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <float.h>
#include <gsl/gsl_rng.h>
#include <string.h>

/* Same bits, or both NaN. */
static int same(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

/* A random value of the format: random sign, exponent across [emin - p, emax + 1] (so
 * subnormals and overflow occur), random p-bit significand, then rounded into f. Some
 * draws are ties: a format number plus exactly half its ulp is built in op inputs below. */
static double rand_in_format(gsl_rng *r, const smx_format_t *f)
{
    /* pN has an unbounded exponent; its fast path inherits double's range, so keep the
     * products and quotients of two draws inside it */
    long emin = f->emin < -400 ? -400 : f->emin, emax = f->emax > 400 ? 400 : f->emax;
    long e = emin - f->p + (long)gsl_rng_uniform_int(r, (unsigned long)(emax - emin + f->p + 2));
    double m = 1.0 + ldexp((double)gsl_rng_uniform_int(r, 1UL << (f->p - 1)), 1 - f->p);
    double x = ldexp(m, (int)e);
    if (gsl_rng_uniform(r) < 0.5) x = -x;
    return smx_format_round(x, f);
}

typedef enum { ADD, SUB, MUL, DIV, SQRT } op_t;
static const char *opname[] = {"add", "sub", "mul", "div", "sqrt"};

static double ref_op(op_t op, double a, double b, const smx_format_t *f)
{
    mpfr_t x, y, z;
    mpfr_inits2(f->p, x, y, z, (mpfr_ptr)0);
    mpfr_set_d(x, a, MPFR_RNDN); /* a, b are format numbers: exact at precision p */
    mpfr_set_d(y, b, MPFR_RNDN);
    smx_mpfr_range_t saved;
    smx_format_mpfr_enter(&saved, f);
    int t = 0;
    switch (op) {
    case ADD: t = mpfr_add(z, x, y, MPFR_RNDN); break;
    case SUB: t = mpfr_sub(z, x, y, MPFR_RNDN); break;
    case MUL: t = mpfr_mul(z, x, y, MPFR_RNDN); break;
    case DIV: t = mpfr_div(z, x, y, MPFR_RNDN); break;
    case SQRT: t = mpfr_sqrt(z, x, MPFR_RNDN); break;
    }
    smx_format_mpfr_fix(z, t, MPFR_RNDN, f);
    smx_format_mpfr_leave(&saved);
    double r = mpfr_get_d(z, MPFR_RNDN);
    mpfr_clears(x, y, z, (mpfr_ptr)0);
    return r;
}

static double fast_op(op_t op, double a, double b, const smx_format_t *f)
{
    switch (op) {
    case ADD: return smx_fadd(a, b, f);
    case SUB: return smx_fsub(a, b, f);
    case MUL: return smx_fmul(a, b, f);
    case DIV: return smx_fdiv(a, b, f);
    case SQRT: return smx_fsqrt(fabs(a), f);
    }
    return NAN;
}

static void sweep_ops(const char *name, long pairs)
{
    smx_format_t f;
    smx_format_get(&f, name);
    gsl_rng *r = smx_rng_alloc(2385);
    for (int op = ADD; op <= SQRT; op++) {
        long bad = 0, ties = 0;
        double ba = 0, bb = 0;
        for (long i = 0; i < pairs; i++) {
            double a = rand_in_format(r, &f), b = rand_in_format(r, &f);
            if (i % 4 == 1 && op <= SUB) {
                /* exact tie: b = half an ulp of a (round-to-even decides) */
                int e = ilogb(a);
                if (isfinite(a) && a != 0 && e >= f.emin) { b = ldexp(1.0, e - f.p); ties++; }
            }
            if (i % 8 == 3) b = a * (1 + ldexp(1.0, 1 - f.p)); /* near-cancellation */
            b = smx_format_round(b, &f);
            double x = fast_op((op_t)op, a, b, &f), y = ref_op((op_t)op, op == SQRT ? fabs(a) : a, b, &f);
            if (!same(x, y)) {
                if (!bad) { ba = a; bb = b; }
                bad++;
            }
        }
        ok(bad == 0, "%s %s: fast == MPFR bit for bit on %ld pairs (%ld ties)", name, opname[op], pairs, ties);
        if (bad) printf("#   %ld mismatches, first a=%a b=%a\n", bad, ba, bb);
    }
    gsl_rng_free(r);
}

static void table_facts(void)
{
    smx_format_t f;
    struct { const char *n; int p; long emin, emax; double max; } t[] = {
        {"fp8-e4m3", 4, -6, 8, 448}, {"e5m2", 3, -14, 15, 57344}, {"bfloat16", 8, -126, 127, 0x1.fep127},
        {"binary16", 11, -14, 15, 65504}, {"tf32", 11, -126, 127, 0x1.ffcp127}, {"binary32", 24, -126, 127, FLT_MAX},
        {"binary64", 53, -1022, 1023, DBL_MAX}, {"fp80", 64, -16382, 16383, HUGE_VAL}, {"binary128", 113, -16382, 16383, HUGE_VAL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int st = smx_format_get(&f, t[i].n);
        ok(st == SMX_OK && f.p == t[i].p && f.emin == t[i].emin && f.emax == t[i].emax && f.max == t[i].max,
           "format %s: p=%d emin=%ld emax=%ld max=%g", t[i].n, t[i].p, t[i].emin, t[i].emax, t[i].max);
    }
    ok(smx_format_get(&f, "p2") == SMX_OK && f.p == 2, "p2 accepted");
    ok(smx_format_get(&f, "p4096") == SMX_OK && f.p == 4096, "p4096 accepted");
    ok(smx_format_get(&f, "p1") == SMX_EDOM && smx_format_get(&f, "p4097") == SMX_EDOM, "p1, p4097 rejected");
    ok(smx_format_get(&f, "fp17") == SMX_EDOM && smx_format_get(&f, "") == SMX_EDOM && smx_format_get(&f, "p12x") == SMX_EDOM,
       "unknown names rejected");
    smx_format_get(&f, "fp16");
    ok(smx_format_round(65519.0, &f) == 65504.0 && isinf(smx_format_round(65520.0, &f)), "fp16 overflow at 65520 (IEEE RNE)");
    ok(smx_format_round(0x1p-25, &f) == 0.0 && smx_format_round(0x1.0000001p-25, &f) == 0x1p-24,
       "fp16 underflow: half the min subnormal ties to 0, just above rounds up");
    ok(smx_format_round(1 + 0x1p-11, &f) == 1.0 && smx_format_round(1 + 3 * 0x1p-11, &f) == 1 + 0x1p-9,
       "fp16 ties to even at 1 + u and 1 + 3u");
    smx_format_get(&f, "e4m3");
    ok(smx_format_round(464, &f) == 448 && isnan(smx_format_round(464.5, &f)) && isnan(smx_format_round(INFINITY, &f)),
       "e4m3: 464 ties to even 448, 464.5 -> NaN (no inf), inf -> NaN");
    ok(isnan(smx_format_round_ref(464.5, &f)) && smx_format_round_ref(464, &f) == 448,
       "e4m3 MPFR path: same overflow rule");
    smx_format_get(&f, "fp32");
    ok(smx_format_round(-0.0, &f) == 0 && signbit(smx_format_round(-0.0, &f)) && isnan(smx_format_round(NAN, &f)) &&
       smx_format_round(-INFINITY, &f) == -INFINITY, "signed zero, NaN and -Inf pass through");
    ok(smx_format_u(&f) == 0x1p-24 && smx_format_min_normal(&f) == 0x1p-126 && smx_format_min_subnormal(&f) == 0x1p-149,
       "fp32 u, min normal, min subnormal");
}

/* round a double directly: fast vs MPFR on arbitrary doubles, every format p <= 53 */
static void sweep_round(void)
{
    gsl_rng *r = smx_rng_alloc(4711);
    for (int i = 0; smx_format_names[i]; i++) {
        smx_format_t f;
        smx_format_get(&f, smx_format_names[i]);
        if (!smx_format_has_fast(&f)) continue;
        long bad = 0, n = 100000;
        for (long k = 0; k < n; k++) {
            double x = ldexp(gsl_rng_uniform(r) + 0.5, (int)(f.emin - f.p - 2 + (long)gsl_rng_uniform_int(r, (unsigned long)(f.emax - f.emin + f.p + 5) < 2000 ? (unsigned long)(f.emax - f.emin + f.p + 5) : 2000)));
            if (k & 1) x = -x;
            if (!same(smx_format_round(x, &f), smx_format_round_ref(x, &f))) bad++;
        }
        ok(bad == 0, "%s: round(double) fast == MPFR on %ld doubles", f.name, n);
    }
    gsl_rng_free(r);
}

static void check_aliases(void)
{
    const char *aliases[][2] = {{"binary16", "fp16"}, {"half", "fp16"}, {"bfloat16", "bf16"}, {"binary32", "fp32"},
                                {"single", "fp32"}, {"float", "fp32"}, {"binary64", "fp64"}, {"double", "fp64"},
                                {"x87", "fp80"}, {"binary128", "fp128"}, {"quad", "fp128"}, {"e4m3", "fp8-e4m3"},
                                {"e5m2", "fp8-e5m2"}, {"P37", "p37"}};
    int good = 1;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        smx_format_t f;
        good &= smx_format_get(&f, aliases[i][0]) == SMX_OK && !strcmp(f.name, aliases[i][1]);
    }
    ok(good, "every format alias resolves to its canonical name");
}

int main(void)
{
    table_facts();
    sweep_round();
    const char *fast[] = {"fp8-e4m3", "fp8-e5m2", "bf16", "fp16", "tf32", "fp32", "p2", "p25"};
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++) sweep_ops(fast[i], 100000);
    check_aliases();
    return tap_done();
}
