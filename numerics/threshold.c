/* threshold.c - Softmax Collapse threshold by bisection in MPFR (see threshold.h). */
#include "threshold.h"
#include "smx.h"

#include <math.h>

/* r <- fl_f(a + b): exact sum rounded once into f (inputs of any precision and exponent). */
static void add_in_format(mpfr_t r, const mpfr_t a, const mpfr_t b, const smx_format_t *f)
{
    int t = mpfr_add(r, a, b, MPFR_RNDN); /* r has precision p; wide exponent range here */
    smx_mpfr_range_t saved;
    smx_format_mpfr_enter(&saved, f);
    smx_format_mpfr_fix(r, t, MPFR_RNDN, f);
    smx_format_mpfr_leave(&saved);
}

/* pairwise sum of m copies of t, every addition rounded into f (tree order of sum.h) */
static void pairwise_copies(mpfr_t s, const mpfr_t t, size_t m, const smx_format_t *f)
{
    if (m == 1) {
        smx_format_round_mpfr(s, t, f);
        return;
    }
    mpfr_t a, b;
    mpfr_inits2(f->p, a, b, (mpfr_ptr)0);
    pairwise_copies(a, t, m / 2, f);
    if (m - m / 2 == m / 2) mpfr_set(b, a, MPFR_RNDN);
    else pairwise_copies(b, t, m - m / 2, f);
    add_in_format(s, a, b, f);
    mpfr_clears(a, b, (mpfr_ptr)0);
}

/* the predicate at an MPFR gap D (working precision w) */
static int is_sc_mpfr(const mpfr_t D, size_t V, smx_sum_algo_t order, smx_threshold_exp_t expmode,
                      const smx_format_t *f, mpfr_prec_t w)
{
    mpfr_t t, s, one;
    mpfr_init2(t, w);
    mpfr_init2(s, f->p);
    mpfr_init2(one, 2);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    mpfr_neg(t, D, MPFR_RNDN);
    if (expmode == SMX_THRESHOLD_ROUNDED_EXP) {
        /* correctly rounded exp into the format: compute at precision p in its range */
        mpfr_t e;
        mpfr_init2(e, f->p);
        smx_mpfr_range_t saved;
        smx_format_mpfr_enter(&saved, f);
        smx_format_mpfr_fix(e, mpfr_exp(e, t, MPFR_RNDN), MPFR_RNDN, f);
        smx_format_mpfr_leave(&saved);
        mpfr_set_prec(t, f->p);
        mpfr_set(t, e, MPFR_RNDN);
        mpfr_clear(e);
    } else {
        mpfr_exp(t, t, MPFR_RNDN);
    }
    if (order == SMX_SUM_PAIRWISE) {
        mpfr_t small;
        mpfr_init2(small, f->p);
        pairwise_copies(small, t, V - 1, f);
        add_in_format(s, one, small, f);
        mpfr_clear(small);
    } else {
        mpfr_set_ui(s, 1, MPFR_RNDN);
        for (size_t k = 1; k < V; k++) {
            add_in_format(s, s, t, f);
            if (mpfr_cmp_ui(s, 1) != 0) break; /* once above 1 it never returns (terms > 0) */
        }
    }
    int sc = mpfr_cmp_ui(s, 1) == 0;
    mpfr_clears(t, s, one, (mpfr_ptr)0);
    return sc;
}

int smx_threshold_is_sc(double D, size_t V, smx_sum_algo_t order, smx_threshold_exp_t expmode,
                        const smx_format_t *f)
{
    mpfr_t d;
    mpfr_init2(d, 53);
    mpfr_set_d(d, D, MPFR_RNDN);
    int sc = is_sc_mpfr(d, V, order, expmode, f, f->p + 96);
    mpfr_clear(d);
    return sc;
}

int smx_threshold_collapse(double *D, size_t V, smx_sum_algo_t order, smx_threshold_exp_t expmode,
                           const smx_format_t *f)
{
    if (V < 2 || order == SMX_SUM_COMPENSATED) return SMX_EDOM;
    mpfr_prec_t w = f->p + 96;
    mpfr_t lo, hi, mid;
    mpfr_inits2(w, lo, hi, mid, (mpfr_ptr)0);
    /* bracket: D = 0 is never SC for V >= 2 (1 + 1 = 2); grow hi until SC */
    mpfr_set_ui(lo, 0, MPFR_RNDN);
    mpfr_set_d(hi, (f->p + 2) * 0.6931471805599453 + log((double)V) + 1.0, MPFR_RNDN);
    int guard = 0;
    while (!is_sc_mpfr(hi, V, order, expmode, f, w) && guard++ < 64) mpfr_mul_ui(hi, hi, 2, MPFR_RNDN);
    /* bisect to relative width 2^-80 */
    for (int it = 0; it < 200; it++) {
        mpfr_sub(mid, hi, lo, MPFR_RNDN);
        mpfr_div(mid, mid, hi, MPFR_RNDN);
        if (mpfr_cmp_d(mid, 0x1p-80) < 0) break;
        mpfr_add(mid, lo, hi, MPFR_RNDN);
        mpfr_div_2ui(mid, mid, 1, MPFR_RNDN);
        if (is_sc_mpfr(mid, V, order, expmode, f, w)) mpfr_set(hi, mid, MPFR_RNDN);
        else mpfr_set(lo, mid, MPFR_RNDN);
    }
    *D = mpfr_get_d(hi, MPFR_RNDN);
    mpfr_clears(lo, hi, mid, (mpfr_ptr)0);
    return SMX_OK;
}
