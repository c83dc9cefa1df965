/* lse_ref.c - the correctly rounded reference of lse.h: LSE, softmax and log-softmax of exact
 * MPFR inputs, each correctly rounded into a format, by a Ziv loop (smx_lse_reference). */
#include "lse.h"
#include "smx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int smx_lse_reference(mpfr_t lse, mpfr_t *sm, mpfr_t *lsm, mpfr_t *const x, size_t n, const smx_format_t *f)
{
    int p = f->p;
    size_t npinf = 0, nminf = 0, k = 0, neq = 0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (mpfr_nan_p(x[i])) nan = 1;
        else if (mpfr_inf_p(x[i])) { if (mpfr_sgn(x[i]) > 0) npinf++; else nminf++; }
        if (!mpfr_nan_p(x[i]) && mpfr_cmp(x[i], x[k]) > 0) k = i;
        if (mpfr_nan_p(x[k])) k = i;
    }
    if (nan || npinf || nminf == n) {
        /* same rules as specials(): evaluated in double, then rounded */
        double l = nan ? NAN : npinf ? INFINITY : -INFINITY;
        if (lse) { mpfr_set_prec(lse, p); mpfr_set_d(lse, l, MPFR_RNDN); }
        for (size_t i = 0; i < n; i++) {
            int top = !nan && npinf && mpfr_inf_p(x[i]) && mpfr_sgn(x[i]) > 0;
            double vs = nan || !npinf ? NAN : top ? 1.0 / (double)npinf : 0.0;
            double vl = nan || !npinf ? NAN : top ? -log((double)npinf) : -INFINITY;
            mpfr_t t;
            mpfr_init2(t, 64);
            if (sm) { mpfr_set_d(t, vs, MPFR_RNDN); smx_format_round_mpfr(sm[i], t, f); }
            if (lsm) { mpfr_set_d(t, vl, MPFR_RNDN); smx_format_round_mpfr(lsm[i], t, f); }
            mpfr_clear(t);
        }
        return SMX_OK;
    }
    for (size_t i = 0; i < n; i++) if (mpfr_equal_p(x[i], x[k])) neq++;
    size_t nfin = n - nminf;

    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    mpfr_prec_t w = p + 64;
    for (size_t m = n; m > 1; m >>= 1) w++;
    mpfr_t y, s, t, L, B, E, *z = malloc(n * sizeof *z);
    if (!z) { mpfr_set_emin(emin); mpfr_set_emax(emax); return SMX_ENOMEM; }
    mpfr_inits2(w, y, s, t, L, (mpfr_ptr)0);
    mpfr_inits2(32, B, E, (mpfr_ptr)0);
    for (size_t i = 0; i < n; i++) mpfr_init2(z[i], w);
    int done = 0;
    for (int iter = 0; iter < 12 && !done; iter++, w += w / 2) {
        mpfr_set_prec(y, w); mpfr_set_prec(s, w); mpfr_set_prec(t, w); mpfr_set_prec(L, w);
        for (size_t i = 0; i < n; i++) mpfr_set_prec(z[i], w);
        /* s = sum e^{x_i - a} (sequential, RNDN at w), L = log s, y = a + L.
         * |error(y)| <= 2^{1-w} (|y| + L + 2n + 2): per operation relative error 2^-w;
         * subtraction errors weighted by e^{t_i} sum to <= 2^-w sum |t_i| e^{t_i} <= 2^-w n/e,
         * exps 2^-w s, additions (n-1) 2^-w s, so rel.err(s) <= 2^-w (2n + 1) (s >= 1);
         * log adds 2^-w L, the final addition 2^-w |y|; factor 2 covers second order. */
        mpfr_set_ui(s, 0, MPFR_RNDN);
        for (size_t i = 0; i < n; i++) {
            mpfr_sub(t, x[i], x[k], MPFR_RNDN);
            mpfr_exp(t, t, MPFR_RNDN);
            mpfr_add(s, s, t, MPFR_RNDN);
        }
        mpfr_log(L, s, MPFR_RNDN);
        mpfr_add(y, x[k], L, MPFR_RNDN);
        mpfr_abs(B, y, MPFR_RNDU);
        mpfr_add(B, B, L, MPFR_RNDU);
        mpfr_add_ui(B, B, 2 * (unsigned long)n + 2, MPFR_RNDU);
        mpfr_exp_t eb = mpfr_get_exp(B) + 1 - w; /* |error(y)| <= 2^eb */
        /* |error(L)| <= 2^ebl: the same analysis without the final addition's 2^-w |y| */
        mpfr_set(B, L, MPFR_RNDU);
        mpfr_add_ui(B, B, 2 * (unsigned long)n + 2, MPFR_RNDU);
        mpfr_exp_t ebl = mpfr_get_exp(B) + 1 - w;
        done = 1;
        if (nfin == 1) { /* exact */
            mpfr_set(y, x[k], MPFR_RNDN);
            mpfr_set_zero(L, 1);
            eb = ebl = mpfr_get_emin_min();
        }
        if (lse) {
            if (nfin > 1 && (mpfr_zero_p(y) || !mpfr_can_round(y, mpfr_get_exp(y) - eb, MPFR_RNDN, MPFR_RNDZ, p + 1)))
                done = 0;
            else smx_format_round_mpfr(lse, y, f);
        }
        for (size_t i = 0; i < n && done && (sm || lsm); i++) {
            if (mpfr_inf_p(x[i])) { /* -Inf entry */
                mpfr_set_inf(t, -1);
                if (lsm) smx_format_round_mpfr(lsm[i], t, f);
                if (sm) { mpfr_set_zero(t, 1); smx_format_round_mpfr(sm[i], t, f); }
                continue;
            }
            /* z_i = (x_i - x_k) - L, not x_i - y: y = x_k + L may have lost L to rounding
             * when |x_k| is huge, and x_i - x_k keeps the gap. |error(z_i)| <=
             * 2^-w |x_i - x_k| + 2^-w |z_i| + 2^ebl */
            mpfr_sub(z[i], x[i], x[k], MPFR_RNDN);
            mpfr_abs(B, z[i], MPFR_RNDU);
            mpfr_sub(z[i], z[i], L, MPFR_RNDN);
            mpfr_abs(E, z[i], MPFR_RNDU);
            mpfr_add(B, B, E, MPFR_RNDU);
            mpfr_mul_2si(B, B, -w, MPFR_RNDU);
            mpfr_set_ui_2exp(E, 1, ebl, MPFR_RNDU);
            mpfr_add(B, B, E, MPFR_RNDU);          /* B >= |error(z_i)| */
            if (lsm) {
                if (nfin == 1) mpfr_set_zero(z[i], 1);
                if (nfin > 1 && (mpfr_zero_p(z[i]) || !mpfr_can_round(z[i], mpfr_get_exp(z[i]) - mpfr_get_exp(B), MPFR_RNDN, MPFR_RNDZ, p + 1)))
                    done = 0;
                else smx_format_round_mpfr(lsm[i], z[i], f);
            }
            if (sm && done) {
                if (neq == nfin) { /* all finite entries equal: softmax = 1/neq exactly */
                    smx_mpfr_range_t sv;
                    mpfr_set_prec(sm[i], p);
                    smx_format_mpfr_enter(&sv, f);
                    smx_format_mpfr_fix(sm[i], mpfr_ui_div(sm[i], 1, (mpfr_set_ui(t, neq, MPFR_RNDN), t), MPFR_RNDN), MPFR_RNDN, f);
                    smx_format_mpfr_leave(&sv);
                    continue;
                }
                /* e^{z_i}: relative error <= 2 (|error(z_i)| + 2^-w) */
                mpfr_exp(t, z[i], MPFR_RNDN);
                mpfr_set_ui_2exp(E, 1, -w, MPFR_RNDU);
                mpfr_add(B, B, E, MPFR_RNDU);
                mpfr_mul_2si(B, B, 1, MPFR_RNDU);
                if (mpfr_zero_p(t)) { smx_format_round_mpfr(sm[i], t, f); continue; } /* below 2^-2^62 */
                if (!mpfr_can_round(t, -mpfr_get_exp(B), MPFR_RNDN, MPFR_RNDZ, p + 1)) done = 0;
                else smx_format_round_mpfr(sm[i], t, f);
            }
        }
    }
    /* after 12 rounds (w ~ 130 (p + 64)) the last approximation's rounding is kept */
    if (!done) {
        if (lse) smx_format_round_mpfr(lse, y, f);
        for (size_t i = 0; i < n; i++) {
            if (mpfr_inf_p(x[i])) continue;
            mpfr_sub(z[i], x[i], x[k], MPFR_RNDN);
            mpfr_sub(z[i], z[i], L, MPFR_RNDN);
            if (lsm) smx_format_round_mpfr(lsm[i], z[i], f);
            if (sm) { mpfr_exp(t, z[i], MPFR_RNDN); smx_format_round_mpfr(sm[i], t, f); }
        }
    }
    for (size_t i = 0; i < n; i++) mpfr_clear(z[i]);
    free(z);
    mpfr_clears(y, s, t, L, B, E, (mpfr_ptr)0);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    return SMX_OK;
}
