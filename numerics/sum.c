/* sum.c - naive, pairwise and compensated summation in a format (see sum.h). */
#include "sum.h"
#include "smx.h"

#include <math.h>
#include <string.h>

int smx_sum_algo_parse(smx_sum_algo_t *algo, const char *name)
{
    if (!name) return SMX_EDOM;
    if (!strcmp(name, "naive") || !strcmp(name, "sequential") || !strcmp(name, "recursive"))
        *algo = SMX_SUM_NAIVE;
    else if (!strcmp(name, "pairwise"))
        *algo = SMX_SUM_PAIRWISE;
    else if (!strcmp(name, "compensated") || !strcmp(name, "kahan") || !strcmp(name, "neumaier"))
        *algo = SMX_SUM_COMPENSATED;
    else if (!strcmp(name, "maxfirst") || !strcmp(name, "max-first"))
        *algo = SMX_SUM_MAXFIRST;
    else
        return SMX_EDOM;
    return SMX_OK;
}

const char *smx_sum_algo_name(smx_sum_algo_t algo)
{
    switch (algo) {
    case SMX_SUM_NAIVE: return "naive";
    case SMX_SUM_PAIRWISE: return "pairwise";
    case SMX_SUM_COMPENSATED: return "compensated";
    case SMX_SUM_MAXFIRST: return "maxfirst";
    }
    return "?";
}

static double pairwise(const double *x, size_t n, const smx_format_t *f)
{
    if (n == 1) return x[0];
    size_t h = n / 2;
    return smx_fadd(pairwise(x, h, f), pairwise(x + h, n - h, f), f);
}

int smx_ceil_log2(size_t n)
{
    int k = 0;
    while (k < 64 && n > ((size_t)1 << k)) k++; /* 2^k < n; k = 64 only for n > 2^63 */
    return k;
}

size_t smx_argmax(const double *x, size_t n)
{
    size_t best = 0;
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]) && (!found || x[i] > x[best])) best = i, found = 1;
    return best;
}

double smx_sum(const double *x, size_t n, smx_sum_algo_t algo, const smx_format_t *f)
{
    if (n == 0) return 0.0;
    switch (algo) {
    case SMX_SUM_MAXFIRST: {
        size_t k = smx_argmax(x, n); /* with a NaN the sum is NaN in any order */
        double s = x[k];
        for (size_t i = 0; i < n; i++)
            if (i != k) s = smx_fadd(s, x[i], f);
        return s;
    }
    case SMX_SUM_PAIRWISE:
        return pairwise(x, n, f);
    case SMX_SUM_COMPENSATED: {
        double s = x[0], c = 0.0;
        for (size_t i = 1; i < n; i++) {
            double t = smx_fadd(s, x[i], f);
            /* Fast2Sum error term, each operation rounded to f */
            double e = fabs(s) >= fabs(x[i]) ? smx_fadd(smx_fsub(s, t, f), x[i], f)
                                             : smx_fadd(smx_fsub(x[i], t, f), s, f);
            c = smx_fadd(c, e, f);
            s = t;
        }
        return smx_fadd(s, c, f);
    }
    case SMX_SUM_NAIVE:
    default: {
        double s = x[0];
        for (size_t i = 1; i < n; i++) s = smx_fadd(s, x[i], f);
        return s;
    }
    }
}

/* ---- reference path ---- */

static void madd(mpfr_t r, const mpfr_t a, const mpfr_t b, const smx_format_t *f)
{
    smx_format_mpfr_fix(r, mpfr_add(r, a, b, MPFR_RNDN), MPFR_RNDN, f);
}

static void msub(mpfr_t r, const mpfr_t a, const mpfr_t b, const smx_format_t *f)
{
    smx_format_mpfr_fix(r, mpfr_sub(r, a, b, MPFR_RNDN), MPFR_RNDN, f);
}

static void mpairwise(mpfr_t s, mpfr_t *const x, size_t n, const smx_format_t *f)
{
    if (n == 1) {
        smx_format_mpfr_fix(s, mpfr_set(s, x[0], MPFR_RNDN), MPFR_RNDN, f);
        return;
    }
    size_t h = n / 2;
    mpfr_t t;
    mpfr_init2(t, f->p);
    mpairwise(s, x, h, f);
    mpairwise(t, x + h, n - h, f);
    madd(s, s, t, f);
    mpfr_clear(t);
}

int smx_sum_mpfr(mpfr_t s, mpfr_t *const x, size_t n, smx_sum_algo_t algo, const smx_format_t *f)
{
    mpfr_set_prec(s, f->p);
    if (n == 0) {
        mpfr_set_zero(s, 1);
        return SMX_OK;
    }
    smx_mpfr_range_t saved;
    smx_format_mpfr_enter(&saved, f);
    switch (algo) {
    case SMX_SUM_PAIRWISE:
        mpairwise(s, x, n, f);
        break;
    case SMX_SUM_COMPENSATED: {
        mpfr_t c, t, e;
        mpfr_inits2(f->p, c, t, e, (mpfr_ptr)0);
        smx_format_mpfr_fix(s, mpfr_set(s, x[0], MPFR_RNDN), MPFR_RNDN, f);
        mpfr_set_zero(c, 1);
        for (size_t i = 1; i < n; i++) {
            madd(t, s, x[i], f);
            if (mpfr_cmpabs(s, x[i]) >= 0) {
                msub(e, s, t, f);
                madd(e, e, x[i], f);
            } else {
                msub(e, x[i], t, f);
                madd(e, e, s, f);
            }
            madd(c, c, e, f);
            mpfr_swap(s, t);
        }
        madd(s, s, c, f);
        mpfr_clears(c, t, e, (mpfr_ptr)0);
        break;
    }
    case SMX_SUM_MAXFIRST: {
        size_t k = 0;
        for (size_t i = 1; i < n; i++)
            if (mpfr_greater_p(x[i], x[k])) k = i;
        smx_format_mpfr_fix(s, mpfr_set(s, x[k], MPFR_RNDN), MPFR_RNDN, f);
        for (size_t i = 0; i < n; i++)
            if (i != k) madd(s, s, x[i], f);
        break;
    }
    case SMX_SUM_NAIVE:
    default:
        smx_format_mpfr_fix(s, mpfr_set(s, x[0], MPFR_RNDN), MPFR_RNDN, f);
        for (size_t i = 1; i < n; i++) madd(s, s, x[i], f);
        break;
    }
    smx_format_mpfr_leave(&saved);
    return SMX_OK;
}
