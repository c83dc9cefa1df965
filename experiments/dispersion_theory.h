/* dispersion_theory.h - smx-dispersion's closed forms (dispersion_theory.c): softmax of the gap
 * configuration, Lemma 2.1 bounds, beta*(n), Fig 3 of SSMax, adaptive temperature, all in MPFR.
 * Science: science/dispersion.md; papers (a) Velickovic et al. 2024 arXiv 2410.01104,
 * (b) Nakanishi 2025 arXiv 2501.19399. Tested by tests/t-dispersion.c. */
#ifndef DISPERSION_THEORY_H
#define DISPERSION_THEORY_H

#include <mpfr.h>

/* All in MPFR at precision DISPERSION_PREC.
 * Configuration "gap": one logit Delta above n-1 equal others, inverse temperature beta;
 * S = (n-1) e^{-beta Delta} is the others' share of the normaliser relative to the top term. */
#define DISPERSION_PREC 256
/* p_max = 1 / (1 + S)                                                   (dispersion.md) */
void dispersion_pmax_gap_mpfr(mpfr_t rop, double n, double beta, double Delta);
/* H = -p ln p - (1-p) ln((1-p)/(n-1)) = log1p(S) + beta Delta S/(1+S)       (nats) */
void dispersion_entropy_gap_mpfr(mpfr_t rop, double n, double beta, double Delta);
/* ln(1 - p_max) = ln S - log1p(S), ln S = ln(n-1) - beta Delta (log-space leakage) */
void dispersion_log_leakage_mpfr(mpfr_t rop, double n, double beta, double Delta);
/* Lemma 2.1 of (a): logits in [m, m + delta] => e^{-beta delta}/n <= alpha_k <= e^{beta delta}/n */
void dispersion_lemma_upper_mpfr(mpfr_t rop, double n, double beta, double delta);
void dispersion_lemma_lower_mpfr(mpfr_t rop, double n, double beta, double delta);
/* beta*(n) = [ln(n-1) + ln((1-eps)/eps)] / Delta: least beta with p_max >= 1 - eps */
void dispersion_beta_star_mpfr(mpfr_t rop, double n, double eps, double Delta);
/* Fig 3 of (b): n-1 values k/(n-2), k = 0..n-2, evenly spaced in [0,1], plus z; inverse
 * temperature beta: p(z) = e^{beta z} / (e^{beta z} + G), G = sum_k e^{beta k/(n-2)}
 * = expm1(beta (n-1)/(n-2)) / expm1(beta/(n-2)) (geometric series; n >= 3, beta > 0). */
void dispersion_pz_spaced_mpfr(mpfr_t rop, double n, double beta, double z);

/* The same as doubles (MPFR at DISPERSION_PREC bits, rounded once). */
double dispersion_pmax_gap(double n, double beta, double Delta);
double dispersion_entropy_gap(double n, double beta, double Delta);
double dispersion_log_leakage(double n, double beta, double Delta);
double dispersion_lemma_upper(double n, double beta, double delta);
double dispersion_lemma_lower(double n, double beta, double delta);
double dispersion_beta_star(double n, double eps, double Delta);
double dispersion_pz_spaced(double n, double beta, double z);
/* SSMax (b) eq. 2: softmax((s ln n) z): inverse temperature s ln n (smx_ssmax_scale). */
double dispersion_ssmax_beta(double s, double n);
/* Adaptive temperature of (a): beta(H) of the softmax entropy H at beta = 1 of the gap
 * configuration (smx_adaptive_beta), then p_max and H at that beta. */
double dispersion_adaptive_beta_gap(double n, double Delta);

/* Roots of beta(H) = 1 in (0.5, 8) and the maximum of beta(H), by bisection on the polynomial
 * and golden-section search (double). */
void dispersion_adaptive_window(double *h_lo, double *h_hi, double *h_max, double *beta_max);

#endif
