/* format.c - IEEE-like formats and round-to-nearest-even emulation (see format.h). */
#include "format.h"
#include "smx.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *smx_strerror(int status)
{
    switch (status) {
    case SMX_OK: return "success";
    case SMX_EDOM: return "invalid argument";
    case SMX_ENOMEM: return "out of memory";
    case SMX_EIO: return errno ? strerror(errno) : "input/output error"; /* the real cause (issue 9) */
    case SMX_ERANGE: return "result out of range";
    case SMX_EUNSUP: return "not supported";
    default: return "unknown error";
    }
}

typedef struct {
    const char *name;
    const char *aliases[4];
    int p;
    long emin, emax;
    int has_inf;
    double max; /* 0: derive (2 - 2^(1-p)) 2^emax */
} format_def;

/* IEEE 754-2019 table 3.2 (binary16/32/64/128), bfloat16, NVIDIA TF32, x87 extended and
 * OCP 8-bit floating point (OFP8) E4M3 / E5M2. */
static const format_def format_defs[] = {
    {"fp8-e4m3", {"e4m3", "fp8e4m3", NULL}, 4, -6, 8, 0, 448.0},
    {"fp8-e5m2", {"e5m2", "fp8e5m2", NULL}, 3, -14, 15, 1, 0},
    {"bf16", {"bfloat16", NULL}, 8, -126, 127, 1, 0},
    {"fp16", {"binary16", "half", NULL}, 11, -14, 15, 1, 0},
    {"tf32", {NULL}, 11, -126, 127, 1, 0},
    {"fp32", {"binary32", "single", "float"}, 24, -126, 127, 1, 0},
    {"fp64", {"binary64", "double", NULL}, 53, -1022, 1023, 1, 0},
    {"fp80", {"x87", "extended", NULL}, 64, -16382, 16383, 1, 0},
    {"fp128", {"binary128", "quad", NULL}, 113, -16382, 16383, 1, 0},
};
#define NDEFS (sizeof format_defs / sizeof format_defs[0])

const char *const smx_format_names[] = {"fp8-e4m3", "fp8-e5m2", "bf16", "fp16", "tf32",
                                        "fp32", "fp64", "fp80", "fp128", NULL};

static double default_max(int p, long emax)
{
    if (emax > 1023) return HUGE_VAL;
    return ldexp(2.0 - ldexp(1.0, 1 - (p < 54 ? p : 54)), (int)emax);
}

static void set_from_def(smx_format_t *f, const format_def *d)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", d->name);
    f->p = d->p;
    f->emin = d->emin;
    f->emax = d->emax;
    f->subnormals = 1;
    f->has_inf = d->has_inf;
    f->max = d->max > 0 ? d->max : default_max(d->p, d->emax);
}

int smx_format_pN(smx_format_t *f, int p)
{
    if (p < SMX_FORMAT_PMIN || p > SMX_FORMAT_PMAX) return SMX_EDOM;
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "p%d", p);
    f->p = p;
    f->emin = -(1L << 30);
    f->emax = 1L << 30;
    f->subnormals = 0;
    f->has_inf = 1;
    f->max = HUGE_VAL;
    return SMX_OK;
}

int smx_format_get(smx_format_t *f, const char *name)
{
    if (!name || !*name) return SMX_EDOM;
    for (size_t i = 0; i < NDEFS; i++) {
        if (strcmp(name, format_defs[i].name) == 0) { set_from_def(f, &format_defs[i]); return SMX_OK; }
        for (int a = 0; a < 4 && format_defs[i].aliases[a]; a++)
            if (strcmp(name, format_defs[i].aliases[a]) == 0) { set_from_def(f, &format_defs[i]); return SMX_OK; }
    }
    if ((name[0] == 'p' || name[0] == 'P') && name[1] >= '0' && name[1] <= '9') {
        char *end;
        long p = strtol(name + 1, &end, 10);
        if (*end == '\0' && p >= SMX_FORMAT_PMIN && p <= SMX_FORMAT_PMAX) return smx_format_pN(f, (int)p);
    }
    return SMX_EDOM;
}

double smx_format_u(const smx_format_t *f) { return ldexp(1.0, -f->p); }

double smx_format_min_normal(const smx_format_t *f)
{
    return f->emin < -1074 ? 0.0 : ldexp(1.0, (int)f->emin);
}

double smx_format_min_subnormal(const smx_format_t *f)
{
    if (!f->subnormals) return smx_format_min_normal(f);
    long e = f->emin - f->p + 1;
    return e < -1074 ? 0.0 : ldexp(1.0, (int)e);
}

int smx_format_has_fast(const smx_format_t *f) { return f->p <= 53; }

/* Slow but obviously right: scale to an integer significand, round to even, scale back.
 * Quantum 2^(max(e, emin) - p + 1); exact because all scalings are by powers of two. */
static double round_by_scaling(double x, const smx_format_t *f)
{
    int e = ilogb(x);
    long qe = (e < f->emin ? f->emin : e) - f->p + 1;
    if (qe < -1074) qe = -1074;
    return ldexp(nearbyint(ldexp(x, (int)-qe)), (int)qe);
}

double smx_format_round_slow(double x, const smx_format_t *f)
{
    if (isnan(x)) return x;
    if (isinf(x)) return f->has_inf ? x : NAN;
    if (x == 0.0 || f->p >= 53) return x;
    double r = round_by_scaling(x, f);
    if (fabs(r) > f->max) return f->has_inf ? copysign(HUGE_VAL, x) : NAN;
    return r;
}

double smx_fsqrt(double a, const smx_format_t *f) { return smx_format_round(sqrt(a), f); }
double smx_fexp(double a, const smx_format_t *f) { return smx_format_round(exp(a), f); }
double smx_flog(double a, const smx_format_t *f) { return smx_format_round(log(a), f); }
double smx_flog1p(double a, const smx_format_t *f) { return smx_format_round(log1p(a), f); }
double smx_fexpm1(double a, const smx_format_t *f) { return smx_format_round(expm1(a), f); }

/* ---- reference path (MPFR) ---- */

static mpfr_exp_t clamp_exp(long e, int lower)
{
    mpfr_exp_t lo = mpfr_get_emin_min(), hi = mpfr_get_emax_max();
    (void)lower;
    if (e < lo) return lo;
    if (e > hi) return hi;
    return (mpfr_exp_t)e;
}

void smx_format_mpfr_enter(smx_mpfr_range_t *saved, const smx_format_t *f)
{
    saved->emin = mpfr_get_emin();
    saved->emax = mpfr_get_emax();
    /* MPFR significands are in [1/2, 1): exponent = IEEE exponent + 1. With subnormal
     * emulation the smallest MPFR exponent is that of the smallest subnormal + 1. */
    long emin = f->subnormals ? f->emin - f->p + 2 : f->emin + 1;
    mpfr_set_emin(clamp_exp(emin, 1));
    mpfr_set_emax(clamp_exp(f->emax + 1, 0));
}

void smx_format_mpfr_leave(const smx_mpfr_range_t *saved)
{
    mpfr_set_emin(saved->emin);
    mpfr_set_emax(saved->emax);
}

int smx_format_mpfr_fix(mpfr_t x, int ternary, mpfr_rnd_t rnd, const smx_format_t *f)
{
    int t = mpfr_check_range(x, ternary, rnd);
    if (f->subnormals) t = mpfr_subnormalize(x, t, rnd);
    if (!f->has_inf && !mpfr_nan_p(x)) {
        if (mpfr_inf_p(x) || mpfr_cmpabs_ui(x, 0) > 0) {
            /* compare |x| with max (exactly representable in double) */
            if (mpfr_inf_p(x) || mpfr_cmp_d(x, f->max) > 0 || mpfr_cmp_d(x, -f->max) < 0) {
                mpfr_set_nan(x);
                t = 0;
            }
        }
    }
    return t;
}

int smx_format_round_mpfr(mpfr_t rop, const mpfr_t x, const smx_format_t *f)
{
    mpfr_set_prec(rop, f->p);
    int t = mpfr_set(rop, x, MPFR_RNDN); /* in the caller's (wide) range */
    smx_mpfr_range_t saved;
    smx_format_mpfr_enter(&saved, f);
    t = smx_format_mpfr_fix(rop, t, MPFR_RNDN, f);
    smx_format_mpfr_leave(&saved);
    return t;
}

double smx_format_round_ref(double x, const smx_format_t *f)
{
    mpfr_t a, r;
    mpfr_init2(a, 53);
    mpfr_init2(r, f->p);
    mpfr_set_d(a, x, MPFR_RNDN);
    smx_format_round_mpfr(r, a, f);
    double y = mpfr_get_d(r, MPFR_RNDN);
    mpfr_clear(a);
    mpfr_clear(r);
    return y;
}
