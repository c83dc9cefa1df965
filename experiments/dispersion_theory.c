/* dispersion_theory.c - closed forms of science/dispersion.md, evaluated in MPFR.
 * (a) Velickovic et al. 2024 "softmax is not enough", (b) Nakanishi 2025 "Scalable-Softmax". */
#include "dispersion_theory.h"
#include "temperature.h"
#include "tsv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ln S = ln(n-1) - beta Delta, S = (n-1) e^{-beta Delta}: the n-1 others relative to the top. */
static void log_share(mpfr_t lnS, double n, double beta, double Delta)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(lnS));
    mpfr_set_d(lnS, n - 1.0, MPFR_RNDN); /* n <= 2^53: exact */
    mpfr_log(lnS, lnS, MPFR_RNDN);
    mpfr_set_d(t, beta, MPFR_RNDN);
    mpfr_mul_d(t, t, Delta, MPFR_RNDN);
    mpfr_sub(lnS, lnS, t, MPFR_RNDN);
    mpfr_clear(t);
}

/* p_max = 1/(1 + S) */
void dispersion_pmax_gap_mpfr(mpfr_t rop, double n, double beta, double Delta)
{
    mpfr_t s;
    mpfr_init2(s, mpfr_get_prec(rop) + 32);
    log_share(s, n, beta, Delta);
    mpfr_exp(s, s, MPFR_RNDN);
    mpfr_add_ui(s, s, 1, MPFR_RNDN);
    mpfr_ui_div(rop, 1, s, MPFR_RNDN);
    mpfr_clear(s);
}

/* H = log1p(S) + beta Delta S/(1+S) (derived from -p ln p - (1-p) ln((1-p)/(n-1))) */
void dispersion_entropy_gap_mpfr(mpfr_t rop, double n, double beta, double Delta)
{
    mpfr_prec_t w = mpfr_get_prec(rop) + 32;
    mpfr_t s, a, b;
    mpfr_inits2(w, s, a, b, (mpfr_ptr)0);
    log_share(s, n, beta, Delta);
    mpfr_exp(s, s, MPFR_RNDN);
    mpfr_log1p(a, s, MPFR_RNDN);
    mpfr_add_ui(b, s, 1, MPFR_RNDN);
    mpfr_div(b, s, b, MPFR_RNDN);
    mpfr_mul_d(b, b, beta, MPFR_RNDN);
    mpfr_mul_d(b, b, Delta, MPFR_RNDN);
    mpfr_add(rop, a, b, MPFR_RNDN);
    mpfr_clears(s, a, b, (mpfr_ptr)0);
}

/* ln(1 - p) = ln S - log1p(S) */
void dispersion_log_leakage_mpfr(mpfr_t rop, double n, double beta, double Delta)
{
    mpfr_t s, l;
    mpfr_inits2(mpfr_get_prec(rop) + 32, s, l, (mpfr_ptr)0);
    log_share(s, n, beta, Delta);
    mpfr_exp(l, s, MPFR_RNDN);
    mpfr_log1p(l, l, MPFR_RNDN);
    mpfr_sub(rop, s, l, MPFR_RNDN);
    mpfr_clears(s, l, (mpfr_ptr)0);
}

/* e^{sign beta delta} / n */
static void lemma(mpfr_t rop, double n, double beta, double delta, int sign)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(rop) + 32);
    mpfr_set_d(t, beta, MPFR_RNDN);
    mpfr_mul_d(t, t, sign * delta, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    mpfr_div_d(rop, t, n, MPFR_RNDN);
    mpfr_clear(t);
}
void dispersion_lemma_upper_mpfr(mpfr_t rop, double n, double beta, double delta) { lemma(rop, n, beta, delta, 1); }
void dispersion_lemma_lower_mpfr(mpfr_t rop, double n, double beta, double delta) { lemma(rop, n, beta, delta, -1); }

/* beta* = [ln(n-1) + ln((1-eps)/eps)] / Delta */
void dispersion_beta_star_mpfr(mpfr_t rop, double n, double eps, double Delta)
{
    mpfr_t a, b;
    mpfr_inits2(mpfr_get_prec(rop) + 32, a, b, (mpfr_ptr)0);
    mpfr_set_d(a, n - 1.0, MPFR_RNDN);
    mpfr_log(a, a, MPFR_RNDN);
    mpfr_set_d(b, eps, MPFR_RNDN);
    mpfr_ui_sub(b, 1, b, MPFR_RNDN);
    mpfr_div_d(b, b, eps, MPFR_RNDN);
    mpfr_log(b, b, MPFR_RNDN);
    mpfr_add(a, a, b, MPFR_RNDN);
    mpfr_div_d(rop, a, Delta, MPFR_RNDN);
    mpfr_clears(a, b, (mpfr_ptr)0);
}

/* p(z) = 1 / (1 + G e^{-beta z}), G = expm1(beta (n-1)/(n-2)) / expm1(beta/(n-2)) */
void dispersion_pz_spaced_mpfr(mpfr_t rop, double n, double beta, double z)
{
    mpfr_t g, t, h;
    mpfr_inits2(mpfr_get_prec(rop) + 32, g, t, h, (mpfr_ptr)0);
    mpfr_set_d(h, beta, MPFR_RNDN);
    mpfr_div_d(h, h, n - 2.0, MPFR_RNDN);           /* beta/(n-2) */
    mpfr_mul_d(g, h, n - 1.0, MPFR_RNDN);
    mpfr_expm1(g, g, MPFR_RNDN);
    mpfr_expm1(t, h, MPFR_RNDN);
    mpfr_div(g, g, t, MPFR_RNDN);
    mpfr_set_d(t, beta, MPFR_RNDN);
    mpfr_mul_d(t, t, -z, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    mpfr_mul(g, g, t, MPFR_RNDN);
    mpfr_add_ui(g, g, 1, MPFR_RNDN);
    mpfr_ui_div(rop, 1, g, MPFR_RNDN);
    mpfr_clears(g, t, h, (mpfr_ptr)0);
}

typedef void (*form3_t)(mpfr_t, double, double, double);
static double as_double(form3_t fn, double a, double b, double c)
{
    mpfr_t r;
    mpfr_init2(r, DISPERSION_PREC);
    fn(r, a, b, c);
    double v = mpfr_get_d(r, MPFR_RNDN);
    mpfr_clear(r);
    return v;
}
double dispersion_pmax_gap(double n, double beta, double Delta) { return as_double(dispersion_pmax_gap_mpfr, n, beta, Delta); }
double dispersion_entropy_gap(double n, double beta, double Delta) { return as_double(dispersion_entropy_gap_mpfr, n, beta, Delta); }
double dispersion_log_leakage(double n, double beta, double Delta) { return as_double(dispersion_log_leakage_mpfr, n, beta, Delta); }
double dispersion_lemma_upper(double n, double beta, double delta) { return as_double(dispersion_lemma_upper_mpfr, n, beta, delta); }
double dispersion_lemma_lower(double n, double beta, double delta) { return as_double(dispersion_lemma_lower_mpfr, n, beta, delta); }
double dispersion_beta_star(double n, double eps, double Delta) { return as_double(dispersion_beta_star_mpfr, n, eps, Delta); }
double dispersion_pz_spaced(double n, double beta, double z) { return as_double(dispersion_pz_spaced_mpfr, n, beta, z); }

double dispersion_ssmax_beta(double s, double n) { return smx_ssmax_scale(s, (size_t)n); }

double dispersion_adaptive_beta_gap(double n, double Delta)
{
    return smx_adaptive_beta(dispersion_entropy_gap(n, 1.0, Delta));
}

/* beta(H) - 1 changes sign on [a, b]: bisection to the double limit. */
static double bisect_beta1(double a, double b)
{
    double fa = smx_adaptive_beta(a) - 1.0 > 0;
    for (int i = 0; i < 200 && b - a > 1e-15 * (1 + fabs(a)); i++) {
        double m = 0.5 * (a + b);
        if ((smx_adaptive_beta(m) - 1.0 > 0) == fa) a = m;
        else b = m;
    }
    return 0.5 * (a + b);
}

void dispersion_adaptive_window(double *h_lo, double *h_hi, double *h_max, double *beta_max)
{
    /* the raw polynomial exceeds 1 on one interval inside (0.5, 8): scan, then refine */
    double lo = NAN, hi = NAN, step = 1e-3;
    for (double h = 0.5 + step; h < 8.0; h += step) {
        int in_prev = smx_adaptive_beta(h - step) > 1.0, in = smx_adaptive_beta(h) > 1.0;
        if (!in_prev && in && isnan(lo)) lo = bisect_beta1(h - step, h);
        if (in_prev && !in) hi = bisect_beta1(h - step, h);
    }
    /* golden-section search for the maximum on [lo, hi] (beta unimodal there) */
    double a = lo, b = hi, g = (sqrt(5.0) - 1) / 2;
    double c = b - g * (b - a), d = a + g * (b - a);
    for (int i = 0; i < 200 && b - a > 1e-12; i++) {
        if (smx_adaptive_beta(c) > smx_adaptive_beta(d)) b = d;
        else a = c;
        c = b - g * (b - a);
        d = a + g * (b - a);
    }
    *h_lo = lo;
    *h_hi = hi;
    *h_max = 0.5 * (a + b);
    *beta_max = smx_adaptive_beta(*h_max);
}
