/* attnnorm.c - sigmoid and ReLU/n attention normalisers; shared Ziv loop (see attnnorm.h). */
#include "attnnorm.h"
#include "smx.h"

#include <stdlib.h>

/* ---- shared Ziv loop ---- */

int smx_attnnorm_lost_bits(double c)
{
    if (!(c > 1.0)) return 0;
    return (int)ceil(log2(c));
}


int smx_attnnorm_ziv(double *y, size_t n, smx_attnnorm_eval_fn eval, void *ctx, const smx_format_t *f)
{
    mpfr_t *v = malloc(n * sizeof *v);
    int *lost = malloc(n * sizeof *lost);
    char *done = calloc(n, 1);
    int st = SMX_OK;
    if (!v || !lost || !done) { free(v); free(lost); free(done); return SMX_ENOMEM; }
    mpfr_t r;
    mpfr_init2(r, f->p);
    mpfr_prec_t w = f->p + 64 + smx_ceil_log2(n);
    size_t left = n;
    for (int round = 0; round < 8 && left > 0; round++, w += w / 2) {
        for (size_t i = 0; i < n; i++) mpfr_init2(v[i], w);
        st = eval(v, w, lost, ctx);
        if (st) {
            for (size_t i = 0; i < n; i++) mpfr_clear(v[i]);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            int fin = round == 7 || lost[i] < 0 || !mpfr_regular_p(v[i]) ||
                      (lost[i] < w - 2 && mpfr_can_round(v[i], w - lost[i], MPFR_RNDN, MPFR_RNDZ, f->p + 1));
            if (fin) {
                smx_format_round_mpfr(r, v[i], f);
                y[i] = mpfr_get_d(r, MPFR_RNDN);
                done[i] = 1;
                left--;
            }
        }
        for (size_t i = 0; i < n; i++) mpfr_clear(v[i]);
    }
    mpfr_clear(r);
    free(v); free(lost); free(done);
    return st;
}

/* ---- sigmoid attention ---- */

static int resolve_bias(double *b, size_t n)
{
    if (isnan(*b)) *b = smx_sigmoid_attn_bias(n);
    return isfinite(*b) ? SMX_OK : SMX_EDOM;
}

/* sigma(t) in f: 1/(1 + e^{-t}) (t >= 0), e^t/(1 + e^t) (t < 0). */
static double fsigmoid(double t, const smx_format_t *f)
{
    if (t >= 0) return smx_fdiv(1.0, smx_fadd(1.0, smx_fexp(-t, f), f), f);
    double e = smx_fexp(t, f);
    return smx_fdiv(e, smx_fadd(1.0, e, f), f);
}

int smx_sigmoid_attn(double *y, const double *x, size_t n, double b, const smx_format_t *f)
{
    if (n == 0 || resolve_bias(&b, n)) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double bf = smx_format_round(b, f);
    for (size_t i = 0; i < n; i++) {
        double xi = smx_format_round(x[i], f);
        y[i] = isnan(xi) ? xi : fsigmoid(smx_fadd(xi, bf, f), f);
    }
    return SMX_OK;
}

typedef struct { const double *x; size_t n; double b; } elt_ctx_t;

/* t = x + b, y = 1/(1 + e^{-t}): relative error <= (|t| sigma(-t) + 4) 2^-w (t has relative
 * error 2^-w; then exp, +, /). Exact when every step is (e.g. t = 0). */
static int sig_eval(mpfr_t *y, mpfr_prec_t w, int *lost, void *vctx)
{
    elt_ctx_t *c = vctx;
    mpfr_t t, e;
    mpfr_inits2(w, t, e, (mpfr_ptr)0);
    for (size_t i = 0; i < c->n; i++) {
        int inex = mpfr_set_d(t, c->x[i], MPFR_RNDN) != 0;
        inex |= mpfr_add_d(t, t, c->b, MPFR_RNDN) != 0;
        /* an error d in t changes log y by d (1 - y) = d sigma(-t): factor |t| sigma(-t) */
        double td = mpfr_get_d(t, MPFR_RNDN), at = td > 0 ? td / (1.0 + exp(td)) : -td;
        inex |= mpfr_neg(e, t, MPFR_RNDN) != 0;
        inex |= mpfr_exp(e, e, MPFR_RNDN) != 0;
        inex |= mpfr_add_ui(e, e, 1, MPFR_RNDN) != 0;
        inex |= mpfr_ui_div(y[i], 1, e, MPFR_RNDN) != 0;
        lost[i] = inex ? smx_attnnorm_lost_bits(at + 4.0) + 1 : -1;
    }
    mpfr_clears(t, e, (mpfr_ptr)0);
    return SMX_OK;
}

int smx_sigmoid_attn_ref(double *y, const double *x, size_t n, double b, const smx_format_t *f)
{
    if (n == 0 || resolve_bias(&b, n)) return SMX_EDOM;
    elt_ctx_t c = {x, n, b};
    return smx_attnnorm_ziv(y, n, sig_eval, &c, f);
}

int smx_sigmoid_attn_vjp(double *g, const double *x, const double *v, size_t n, double b)
{
    if (n == 0 || resolve_bias(&b, n)) return SMX_EDOM;
    for (size_t i = 0; i < n; i++) {
        double t = x[i] + b;
        double y = t >= 0 ? 1.0 / (1.0 + exp(-t)) : exp(t) / (1.0 + exp(t));
        /* 1 - y = sigma(-t), computed without cancellation */
        double ym = t >= 0 ? exp(-t) / (1.0 + exp(-t)) : 1.0 / (1.0 + exp(t));
        g[i] = v[i] * y * ym;
    }
    return SMX_OK;
}

/* ---- ReLU / n ---- */

static double relu(double x) { return x > 0 ? x : (isnan(x) ? x : 0.0); }

int smx_relu_attn(double *y, const double *x, size_t n, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    if (!smx_format_has_fast(f)) return SMX_EUNSUP;
    double nf = smx_format_round((double)n, f);
    for (size_t i = 0; i < n; i++) y[i] = smx_fdiv(relu(smx_format_round(x[i], f)), nf, f);
    return SMX_OK;
}

/* One correctly rounded division at w bits: error <= 1/2 ulp, exact when the ternary is 0. */
static int relu_eval(mpfr_t *y, mpfr_prec_t w, int *lost, void *vctx)
{
    elt_ctx_t *c = vctx;
    (void)w;
    for (size_t i = 0; i < c->n; i++) {
        mpfr_set_d(y[i], relu(c->x[i]), MPFR_RNDN); /* exact: w >= 53 */
        lost[i] = mpfr_div_ui(y[i], y[i], (unsigned long)c->n, MPFR_RNDN) ? 0 : -1;
    }
    return SMX_OK;
}

int smx_relu_attn_ref(double *y, const double *x, size_t n, const smx_format_t *f)
{
    if (n == 0) return SMX_EDOM;
    elt_ctx_t c = {x, n, 0.0};
    return smx_attnnorm_ziv(y, n, relu_eval, &c, f);
}

int smx_relu_attn_vjp(double *g, const double *x, const double *v, size_t n)
{
    if (n == 0) return SMX_EDOM;
    for (size_t i = 0; i < n; i++) g[i] = x[i] > 0 ? v[i] / (double)n : (isnan(x[i]) ? x[i] : 0.0);
    return SMX_OK;
}
