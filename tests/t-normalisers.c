/* t-normalisers.c - the normaliser family: StableMax, log-StableMax, sparsemax, softpick,
 * softmax with temperature, SSMax, adaptive temperature, sigmoid and ReLU/n attention, and the
 * two cross-entropy losses. Checks: closed forms and paper values, MPFR references against
 * independent MPFR formulas, fast functions (fp64, fp32, bf16, fp16) against the references
 * within derived bounds, every vjp against central finite differences (double and MPFR), KKT
 * for sparsemax, the adaptive-temperature polynomial's roots and maximum, NaN/Inf behaviour and
 * every error path. Fixed seed 2385. */
#include "attnnorm.h"
#include "format.h"
#include "lse.h"
#include "smx.h"
#include "softpick.h"
#include "sparsemax.h"
#include "stablemax.h"
#include "tap.h"
#include "temperature.h"
#include "rng.h"

#include <float.h>
#include <string.h>

#define NMAX 1000
static smx_format_t F64, F32, F16, BF16, F128, P30;
static gsl_rng *rng;

static int clog2(size_t n)
{
    int k = 0;
    while (((size_t)1 << k) < n) k++;
    return k;
}

/* Random logits: normal with spread sd, then rounded to f (so fast and ref see the same input). */
static void rand_vec(double *x, size_t n, double sd, const smx_format_t *f)
{
    for (size_t i = 0; i < n; i++) x[i] = smx_format_round(sd * (gsl_rng_uniform(rng) * 2 - 1) * 1.7 + 0.385, f);
}

/* ---- a table of normalisers: fast, ref, vjp, fast-vs-ref error bound ---- */

typedef struct norm norm_t;
/* Absolute error bound of the fast function in units of u for component i (y = reference). */
typedef double (*bound_fn)(const norm_t *nm, const double *x, const double *y, size_t n, size_t i,
                           const smx_format_t *f);
struct norm {
    const char *name;
    int (*fast)(double *, const double *, size_t, double, const smx_format_t *);
    int (*ref)(double *, const double *, size_t, double, const smx_format_t *);
    int (*vjp)(double *, const double *, const double *, size_t, double);
    double par;
    bound_fn bound;
    int kink_at_zero; /* vjp test avoids |x| < 1e-3 */
};

/* wrappers with one uniform parameter */
static int w_sm(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_stablemax(y, x, n, f); }
static int w_sm_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_stablemax_ref(y, x, n, f); }
static int w_sm_v(double *g, const double *x, const double *v, size_t n, double p) { (void)p; return smx_stablemax_vjp(g, x, v, n); }
static int w_lsm(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_logstablemax(y, x, n, f); }
static int w_lsm_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_logstablemax_ref(y, x, n, f); }
static int w_lsm_v(double *g, const double *x, const double *v, size_t n, double p) { (void)p; return smx_logstablemax_vjp(g, x, v, n); }
static int w_sp(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_sparsemax(y, x, n, f); }
static int w_sp_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_sparsemax_ref(y, x, n, f); }
static int w_sp_v(double *g, const double *x, const double *v, size_t n, double p) { (void)p; return smx_sparsemax_vjp(g, x, v, n); }
static int w_pk(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_softpick(y, x, n, p, f); }
static int w_pk_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_softpick_ref(y, x, n, p, f); }
static int w_pk_v(double *g, const double *x, const double *v, size_t n, double p) { return smx_softpick_vjp(g, x, v, n, p); }
static int w_t(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_softmax_temp(y, x, n, p, f); }
static int w_t_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_softmax_temp_ref(y, x, n, p, f); }
static int w_t_v(double *g, const double *x, const double *v, size_t n, double p) { return smx_softmax_temp_vjp(g, x, v, n, p); }
static int w_ss(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_ssmax(y, x, n, p, f); }
static int w_ss_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_ssmax_ref(y, x, n, p, f); }
static int w_ss_v(double *g, const double *x, const double *v, size_t n, double p) { return smx_ssmax_vjp(g, NULL, x, v, n, p); }
static int w_sg(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_sigmoid_attn(y, x, n, p, f); }
static int w_sg_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { return smx_sigmoid_attn_ref(y, x, n, p, f); }
static int w_sg_v(double *g, const double *x, const double *v, size_t n, double p) { return smx_sigmoid_attn_vjp(g, x, v, n, p); }
static int w_re(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_relu_attn(y, x, n, f); }
static int w_re_r(double *y, const double *x, size_t n, double p, const smx_format_t *f) { (void)p; return smx_relu_attn_ref(y, x, n, f); }
static int w_re_v(double *g, const double *x, const double *v, size_t n, double p) { (void)p; return smx_relu_attn_vjp(g, x, v, n); }

/* StableMax: s_i (2 ops), pairwise sum of n positive terms (ceil(log2 n)), division: relative
 * (ceil(log2 n) + 3) u to first order; + 2 for libm-free slack. */
static double b_sm(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)nm; (void)x; (void)f;
    return (clog2(n) + 5) * fabs(y[i]);
}
/* log-StableMax: fl(g_i) (u|g_i|), fl(log S) (u|log S| + relative error of S = ceil(log2 n) + 2),
 * subtraction (u|y|); + 2 slack (libm log1p / log are not correctly rounded). */
static double b_lsm(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)nm; (void)f;
    double g = x[i] >= 0 ? log1p(x[i]) : -log1p(-x[i]);
    return fabs(g) + fabs(g - y[i]) + fabs(y[i]) + clog2(n) + 4;
}
/* sparsemax: tau = (c_K - 1)/K with c_K a sequential sum of the K support values (error
 * <= (K-1) u sum|z_j|), then subtraction and division; y_i = z_i - tau: total absolute
 * <= (sum_S |z_j| + 3|tau| + |z_i| + 2) u; doubled for the support decision near tau. */
static double b_sp(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)nm; (void)f;
    double tau;
    size_t K;
    smx_sparsemax_tau(&tau, &K, x, n);
    double s = 0.0;
    for (size_t j = 0; j < n; j++)
        if (y[j] > 0) s += fabs(x[j]);
    return 2 * (s + 3 * fabs(tau) + fabs(x[i]) + 2);
}
/* softpick: d_j = e^{x_j - m} - e^{-m} has absolute error a_j u, a_j = e^{x_j-m}(|x_j - m| + 2)
 * + e^{-m}(|m| + 2); D = sum |d_j| + eps: relative (sum a_j / D + ceil(log2 n) + 2) u;
 * y_i = d_i / D: absolute (a_i / D + y_i (sum a_j / D + ceil(log2 n) + 3)) u; x 2 slack. */
static double b_pk(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)f;
    double m = -INFINITY, D = nm->par, A = 0.0, ai = 0.0;
    for (size_t j = 0; j < n; j++) m = fmax(m, x[j]);
    for (size_t j = 0; j < n; j++) {
        double e = exp(x[j] - m), a = e * (fabs(x[j] - m) + 2) + exp(-m) * (fabs(m) + 2);
        D += fabs(e - exp(-m));
        A += a;
        if (j == i) ai = a;
    }
    return 2 * (ai / D + y[i] * (A / D + clog2(n) + 3));
}
/* softmax of z = x op c: lse.h's shifted-softmax bound on z, + the scaling roundings: z_j has
 * relative error k u (k = 1 for x/T, 3 for fl(s fl(ln n)) x), perturbing y_i by at most
 * 2 k max|z| u (relative); x 1.5 + 2 slack for libm exp (leading-order bound). */
static double b_scaled(const double *z, const double *y, size_t n, size_t i, double k)
{
    double zm = 0.0;
    for (size_t j = 0; j < n; j++) zm = fmax(zm, fabs(z[j]));
    double l = smx_lse_f64(z, n);
    return (1.5 * (smx_softmax_error_bound(SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, z, n, l) + 2 * k * zm) + 2) * y[i];
}
static double b_t(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)f;
    double z[NMAX];
    for (size_t j = 0; j < n; j++) z[j] = x[j] / nm->par;
    return b_scaled(z, y, n, i, 1);
}
static double b_ss(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)f;
    double z[NMAX];
    for (size_t j = 0; j < n; j++) z[j] = x[j] * smx_ssmax_scale(nm->par, n);
    return b_scaled(z, y, n, i, 3);
}
/* sigmoid: t = x + b (u|t|, and the rounding of b: u|b|), exp, +, /: relative (|t| + |b| + 3) u;
 * x 1.5 + 1 slack. */
static double b_sg(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)f;
    double b = isnan(nm->par) ? -log((double)n) : nm->par;
    return (1.5 * (fabs(x[i] + b) + fabs(b) + 3) + 1) * y[i];
}
/* ReLU/n: one division, correctly rounded: the fast value IS the reference. */
static double b_re(const norm_t *nm, const double *x, const double *y, size_t n, size_t i, const smx_format_t *f)
{
    (void)nm; (void)x; (void)y; (void)n; (void)i; (void)f;
    return 0.0;
}

static const norm_t NORMS[] = {
    {"stablemax", w_sm, w_sm_r, w_sm_v, 0, b_sm, 0},
    {"logstablemax", w_lsm, w_lsm_r, w_lsm_v, 0, b_lsm, 0},
    {"sparsemax", w_sp, w_sp_r, w_sp_v, 0, b_sp, 0},
    {"softpick", w_pk, w_pk_r, w_pk_v, SMX_SOFTPICK_EPS, b_pk, 1},
    {"softmax_temp", w_t, w_t_r, w_t_v, 0.75, b_t, 0},
    {"ssmax", w_ss, w_ss_r, w_ss_v, 0.4375, b_ss, 0},
    {"sigmoid_attn", w_sg, w_sg_r, w_sg_v, NAN, b_sg, 0},
    {"relu_attn", w_re, w_re_r, w_re_v, 0, b_re, 1},
};
#define NNORMS (sizeof NORMS / sizeof NORMS[0])

/* Fast vs reference: max over components of |fast - ref| / (bound u) must be <= 1. */
static void test_fast_vs_ref(const norm_t *nm, const smx_format_t *f, size_t n, double sd, int trials)
{
    static double x[NMAX], y[NMAX], r[NMAX];
    double worst = 0.0, u = smx_format_u(f);
    int st = 0;
    for (int t = 0; t < trials; t++) {
        rand_vec(x, n, sd, f);
        st |= nm->fast(y, x, n, nm->par, f) | nm->ref(r, x, n, nm->par, f);
        for (size_t i = 0; i < n; i++) {
            /* + 4 subnormal spacings: relative bounds do not hold under gradual underflow */
            double e = fabs(y[i] - r[i]), b = nm->bound(nm, x, r, n, i, f) * u + 4 * smx_format_min_subnormal(f);
            double q = e == 0 ? 0 : (b > 0 ? e / b : INFINITY);
            if (!(q <= worst)) worst = q;
        }
    }
    ok(st == 0 && worst <= 1.0, "%s %s n=%zu spread %g: fast vs ref within bound (worst error/bound %.3g)",
       nm->name, f->name, n, sd, worst);
}

/* The references are correctly rounded, so ref(x, g) == round_g(ref(x, fp64)) for a coarser
 * format g (a double rounding would need the fp64 value to sit exactly on a g-midpoint:
 * probability ~2^-40 per value). Checks the Ziv machinery across fp16 (with subnormals), bf16, p30. */
static void test_ref_consistency(const norm_t *nm, const smx_format_t *g)
{
    static double x[NMAX], y[NMAX], r[NMAX];
    size_t n = 50, bad = 0;
    int st = 0;
    for (int t = 0; t < 4; t++) {
        rand_vec(x, n, t == 3 ? 12.0 : 3.0, g);
        st |= nm->ref(y, x, n, nm->par, g) | nm->ref(r, x, n, nm->par, &F64);
        for (size_t i = 0; i < n; i++) {
            double w = smx_format_round(r[i], g);
            bad += !(y[i] == w || (isnan(y[i]) && isnan(w)));
        }
    }
    ok(st == 0 && bad == 0, "%s ref in %s == fp64 ref rounded to %s (%zu mismatches)", nm->name, g->name, g->name, bad);
}

/* <v, N(x)> in fp64 (fast function). */
static double dotf(const norm_t *nm, const double *x, const double *v, size_t n)
{
    double y[NMAX], s = 0.0;
    nm->fast(y, x, n, nm->par, &F64);
    for (size_t i = 0; i < n; i++) s += v[i] * y[i];
    return s;
}

/* vjp vs central differences, h_k = 1e-6 max(1, |x_k|): truncation h^2 |f'''| / 6 ~ 1e-12 and
 * rounding ~ u |<v, y>| / h ~ 1e-10, so a tolerance 1e-7 (max|g| + max|v|) is safe yet 10^9
 * times smaller than the gradients' scale. */
static void test_vjp(const norm_t *nm, size_t n, double sd)
{
    double x[NMAX], v[NMAX], g[NMAX], worst = 0.0, scale = 0.0;
    rand_vec(x, n, sd, &F64);
    for (size_t i = 0; i < n; i++) {
        if (nm->kink_at_zero && fabs(x[i]) < 1e-3) x[i] += 0.0123;
        v[i] = gsl_rng_uniform(rng) * 2 - 0.7;
        scale = fmax(scale, fabs(v[i]));
    }
    int st = nm->vjp(g, x, v, n, nm->par);
    for (size_t k = 0; k < n; k++) scale = fmax(scale, fabs(g[k]));
    for (size_t k = 0; k < n; k++) {
        double xk = x[k], h = 1e-6 * fmax(1.0, fabs(xk));
        x[k] = xk + h;
        double fp = dotf(nm, x, v, n);
        x[k] = xk - h;
        double fm = dotf(nm, x, v, n);
        x[k] = xk;
        worst = fmax(worst, fabs((fp - fm) / (2 * h) - g[k]));
    }
    ok(st == 0 && worst <= 1e-7 * scale, "%s vjp n=%zu vs central differences (max |diff| %.2g, scale %.3g)",
       nm->name, n, worst, scale);
}

/* ---- StableMax ---- */

static void test_stablemax_scalar(void)
{
    ok(smx_stablemax_s(2.385) == 3.385 && smx_stablemax_s(0.0) == 1.0, "s(2.385) = 3.385, s(0) = 1");
    ok_rel(smx_stablemax_s(-2.385), 1 / 3.385, 1e-16, "s(-2.385) = 1/3.385");
    ok_rel(smx_stablemax_ds(-2.385), 1 / (3.385 * 3.385), 2e-16, "s'(-2.385) = 1/3.385^2");
    ok(smx_stablemax_ds(0.731) == 1.0 && smx_stablemax_ds(0.0) == 1.0, "s'(x) = 1 for x >= 0");
    ok(smx_stablemax_s(-INFINITY) == 0.0 && isnan(smx_stablemax_s(NAN)) && smx_stablemax_s(INFINITY) == INFINITY,
       "s(-Inf) = 0, s(NaN) = NaN, s(+Inf) = +Inf");
    /* s is C^1 at 0: one-sided difference quotients of s and s' */
    double h = 1e-7;
    ok_rel((smx_stablemax_s(0) - smx_stablemax_s(-h)) / h, 1.0, 1e-6, "s continuous and differentiable at 0");
    /* s(x) = exp(g(x)), g(x) = sign(x) log(1 + |x|) */
    ok_rel(exp(-log1p(5.37)), smx_stablemax_s(-5.37), 4e-16, "s(x) = exp(sign(x) log(1+|x|)) at -5.37");
}

/* StableMax(x) == softmax(g(x)), g = sign(x) log1p|x|, via MPFR: g at 300 bits, then lse.h's
 * correctly rounded softmax; both references round the same exact function once, so they agree
 * to within 1 ulp (an exact tie between them would need agreement to ~2^-240). */
static void test_stablemax_vs_softmax(void)
{
    size_t n = 57;
    double x[NMAX], y[NMAX], r[NMAX];
    mpfr_t z[NMAX], o[NMAX];
    rand_vec(x, n, 6.0, &F64);
    x[3] = 0.0;
    x[7] = -1e-3;
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(z[i], 300);
        mpfr_init2(o[i], 53);
        mpfr_set_d(z[i], fabs(x[i]), MPFR_RNDN);
        mpfr_log1p(z[i], z[i], MPFR_RNDN);
        if (x[i] < 0) mpfr_neg(z[i], z[i], MPFR_RNDN);
    }
    int st = smx_softmax_mpfr(o, z, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &F64);
    st |= smx_stablemax_ref(y, x, n, &F64);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        r[i] = mpfr_get_d(o[i], MPFR_RNDN);
        worst = fmax(worst, fabs(y[i] - r[i]) / (DBL_EPSILON * fabs(r[i])));
        mpfr_clear(z[i]);
        mpfr_clear(o[i]);
    }
    ok(st == 0 && worst <= 1.0, "StableMax_ref == softmax_ref(sign(x) log1p|x|) within 1 ulp (worst %.2g ulp)", worst);
    /* and the fast fp64 StableMax within its bound of the softmax form */
    smx_stablemax(y, x, n, &F64);
    worst = 0.0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(y[i] - r[i]) / (fabs(r[i]) * ldexp(1, -53)));
    ok(worst <= clog2(n) + 5, "fast StableMax fp64 == softmax(g(x)) within (log2 n + 5) u (%.2g u)", worst);
}

static void test_logstablemax(void)
{
    size_t n = 31;
    double x[NMAX], y[NMAX], l[NMAX], worst = 0.0;
    rand_vec(x, n, 9.0, &F64);
    smx_stablemax_ref(y, x, n, &F64);
    smx_logstablemax_ref(l, x, n, &F64);
    /* exp(l) has relative error <= (|l| + 1) u from l's rounding and exp's; y is within u/2 */
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(exp(l[i]) - y[i]) / (y[i] * DBL_EPSILON * (fabs(l[i]) + 2)));
    ok(worst <= 1.0, "logstablemax_ref == log(stablemax_ref) (worst %.2g of bound)", worst);
    /* a dominant entry: log StableMax ~ -R/s, no cancellation in the reference */
    double xd[3] = {1e6, -2.5e8, -4e9}, ld[3];
    smx_logstablemax_ref(ld, xd, 3, &F64);
    double R = 1 / (1 + 2.5e8) + 1 / (1 + 4e9), s = 1e6 + 1;
    ok_rel(ld[0], -(R / s - 0.5 * (R / s) * (R / s)), 1e-15, "logstablemax_ref of a dominant entry = -log1p(R/s) (%.6g)", ld[0]);
    /* n = 1: log StableMax = 0, StableMax = 1 */
    double one = -3.7, r1, l1;
    smx_stablemax_ref(&r1, &one, 1, &F16);
    smx_logstablemax_ref(&l1, &one, 1, &F16);
    ok(r1 == 1.0 && l1 == 0.0, "n = 1: StableMax = 1, log StableMax = 0 (exact)");
}

/* MPFR finite difference of <v, StableMax(x)> at 256 bits with h = 2^-70: truncation ~h^2,
 * rounding ~2^-256/h: the quotient is the derivative to ~1e-40, so the double vjp must match it
 * to a few ulps of the gradient scale. */
static void test_stablemax_mpfr_fd(void)
{
    size_t n = 13;
    double x[NMAX], v[NMAX], g[NMAX], worst = 0.0, scale = 0.0;
    rand_vec(x, n, 4.0, &F64);
    for (size_t i = 0; i < n; i++) v[i] = gsl_rng_uniform(rng) * 3 - 1.2;
    smx_stablemax_vjp(g, x, v, n);
    mpfr_t s[NMAX], S, acc[2], t, xk;
    mpfr_inits2(256, S, acc[0], acc[1], t, xk, (mpfr_ptr)0);
    for (size_t i = 0; i < n; i++) mpfr_init2(s[i], 256);
    for (size_t k = 0; k < n; k++) {
        for (int side = 0; side < 2; side++) {
            mpfr_set_zero(S, 1);
            for (size_t i = 0; i < n; i++) {
                mpfr_set_d(xk, x[i], MPFR_RNDN);
                if (i == k) (side ? mpfr_sub : mpfr_add)(xk, xk, mpfr_set_ui_2exp(t, 1, -70, MPFR_RNDN) ? t : t, MPFR_RNDN);
                if (mpfr_sgn(xk) >= 0) mpfr_add_ui(s[i], xk, 1, MPFR_RNDN);
                else { mpfr_ui_sub(s[i], 1, xk, MPFR_RNDN); mpfr_ui_div(s[i], 1, s[i], MPFR_RNDN); }
                mpfr_add(S, S, s[i], MPFR_RNDN);
            }
            mpfr_set_zero(acc[side], 1);
            for (size_t i = 0; i < n; i++) {
                mpfr_div(t, s[i], S, MPFR_RNDN);
                mpfr_mul_d(t, t, v[i], MPFR_RNDN);
                mpfr_add(acc[side], acc[side], t, MPFR_RNDN);
            }
        }
        mpfr_sub(t, acc[0], acc[1], MPFR_RNDN);
        mpfr_mul_2si(t, t, 69, MPFR_RNDN); /* / (2h) */
        double d = mpfr_get_d(t, MPFR_RNDN);
        worst = fmax(worst, fabs(d - g[k]));
        scale = fmax(scale, fabs(d));
    }
    for (size_t i = 0; i < n; i++) mpfr_clear(s[i]);
    mpfr_clears(S, acc[0], acc[1], t, xk, (mpfr_ptr)0);
    ok(worst <= 64 * DBL_EPSILON * scale, "stablemax vjp vs 256-bit MPFR finite difference (max |diff| %.2g, scale %.3g)",
       worst, scale);
}

static void test_ce(void)
{
    size_t n = 23, y = 7;
    double z[NMAX], g[NMAX], l[NMAX], loss, worst = 0.0;
    rand_vec(z, n, 5.0, &F64);
    int st = smx_stablemax_ce(&loss, g, z, n, y);
    smx_logstablemax_ref(l, z, n, &F64);
    ok(st == 0, "stablemax_ce status");
    ok_rel(loss, -l[y], 8 * DBL_EPSILON, "stablemax_ce loss == -logstablemax_ref[y]");
    for (size_t k = 0; k < n; k++) {
        double zk = z[k], h = 1e-6 * fmax(1, fabs(zk)), lp, lm;
        z[k] = zk + h;
        smx_stablemax_ce(&lp, NULL, z, n, y);
        z[k] = zk - h;
        smx_stablemax_ce(&lm, NULL, z, n, y);
        z[k] = zk;
        worst = fmax(worst, fabs((lp - lm) / (2 * h) - g[k]));
    }
    ok(worst <= 1e-8, "stablemax_ce gradient vs central differences (max |diff| %.2g)", worst);
    /* the formula of collapse.md: grad_k = s'(z_k)/S - [k == y] s'(z_y)/s(z_y), sum over k */
    double S = 0, sum = 0;
    for (size_t k = 0; k < n; k++) { S += smx_stablemax_s(z[k]); sum += g[k]; }
    double want = 0;
    for (size_t k = 0; k < n; k++) want += smx_stablemax_ds(z[k]) / S;
    want -= smx_stablemax_ds(z[y]) / smx_stablemax_s(z[y]);
    ok_abs(sum, want, 1e-14, "stablemax_ce gradient sum matches collapse.md formula");

    /* softmax CE: loss = -logsoftmax_y, grad = softmax - e_y (fp64 and fp16) */
    double p[NMAX];
    st = smx_softmax_ce(&loss, g, z, n, y, &F64);
    smx_softmax(p, z, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &F64);
    ok(st == 0, "softmax_ce status");
    ok_rel(loss, -log(p[y]), 1e-14, "softmax_ce loss == -log softmax_ref(z)_y");
    worst = 0;
    for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs(g[k] - (p[k] - (k == y))));
    ok(worst <= 1e-14, "softmax_ce grad == softmax - e_y (max |diff| %.2g)", worst);
    double z16[NMAX], g16[NMAX], l16;
    rand_vec(z16, n, 3.0, &F16);
    st = smx_softmax_ce(&l16, g16, z16, n, y, &F16);
    int inf16 = 1;
    for (size_t k = 0; k < n; k++) inf16 &= g16[k] == smx_format_round(g16[k], &F16);
    ok(st == 0 && inf16 && l16 == smx_format_round(l16, &F16), "softmax_ce in fp16 returns fp16 numbers");
}

/* ---- sparsemax ---- */

/* tau by bisection on sum max(x - tau, 0) = 1 (independent of the sort-based algorithm). */
static double tau_bisect(const double *x, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) { lo = fmin(lo, x[i]); hi = fmax(hi, x[i]); }
    lo -= 1.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), s = 0;
        for (size_t i = 0; i < n; i++) s += fmax(x[i] - mid, 0);
        if (s > 1) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

static void test_sparsemax(void)
{
    double a[3] = {2.385, 1.1, -0.7}, b[3] = {0.9, 0.6, 0.45}, y[NMAX];
    smx_sparsemax_ref(y, a, 3, &F64);
    ok(y[0] == 1 && y[1] == 0 && y[2] == 0, "sparsemax(2.385, 1.1, -0.7) = (1, 0, 0)");
    smx_sparsemax_ref(y, b, 3, &F64);
    ok_rel(y[0], 0.9 - 0.95 / 3, 2e-16, "sparsemax(0.9, 0.6, 0.45)_1 = 0.9 - 0.95/3");
    ok_rel(y[2], 0.45 - 0.95 / 3, 2e-15, "sparsemax(0.9, 0.6, 0.45)_3 = 0.45 - 0.95/3");
    size_t n = 200;
    double x[NMAX], yr[NMAX], tau;
    size_t K;
    for (int rep = 0; rep < 3; rep++) {
        rand_vec(x, n, rep == 0 ? 0.01 : rep == 1 ? 0.3 : 3.0, &F64);
        const smx_format_t *fs[2] = {&F64, &F64};
        for (int w = 0; w < 2; w++) {
            (w ? smx_sparsemax_ref : smx_sparsemax)(y, x, n, fs[w]);
            smx_sparsemax_tau(&tau, &K, x, n);
            double tb = tau_bisect(x, n), sum = 0, kkt = 0, neg = 0;
            size_t supp = 0;
            for (size_t i = 0; i < n; i++) {
                sum += y[i];
                neg = fmin(neg, y[i]);
                if (y[i] > 0) { supp++; kkt = fmax(kkt, fabs(x[i] - tau - y[i])); }
                else kkt = fmax(kkt, fmax(0, x[i] - tau));
            }
            const char *nm = w ? "ref" : "fast";
            ok(neg == 0 && fabs(sum - 1) <= n * DBL_EPSILON, "sparsemax %s spread %d: y >= 0, sum y = 1 (%.3g)", nm, rep, sum - 1);
            ok(kkt <= 8 * DBL_EPSILON * (fabs(tau) + 4) && supp == K,
               "sparsemax %s spread %d: KKT y = x - tau on support (K=%zu), x <= tau off (%.2g)", nm, rep, K, kkt);
            ok_abs(tau, tb, 1e-13 * (1 + fabs(tb)), "sparsemax %s spread %d: tau == bisection root of sum (x-tau)+ = 1", nm, rep);
        }
        smx_sparsemax_ref(yr, x, n, &F64);
        smx_sparsemax(y, x, n, &F64);
        double tb = tau_bisect(x, n), worst = 0;
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(yr[i] - fmax(x[i] - tb, 0)));
        ok(worst <= 1e-13, "sparsemax_ref == max(x - tau_bisect, 0) (max diff %.2g)", worst);
    }
    /* gradient on / off support: J^T v = s (v - mean_S v) */
    double xx[5] = {1.37, 0.91, -0.52, 1.12, 0.1}, v[5] = {0.3, -1.7, 2.2, 0.45, 9.1}, g[5];
    smx_sparsemax(y, xx, 5, &F64);
    smx_sparsemax_vjp(g, xx, v, 5);
    double mv = 0;
    int ns = 0;
    for (int i = 0; i < 5; i++) if (y[i] > 0) { mv += v[i]; ns++; }
    mv /= ns;
    int good = 1;
    for (int i = 0; i < 5; i++) good &= y[i] > 0 ? fabs(g[i] - (v[i] - mv)) < 1e-15 : g[i] == 0;
    ok(good && ns == 3, "sparsemax vjp: v - mean_S(v) on the support (|S| = %d), 0 off it", ns);
}

/* ---- SSMax ---- */

static double ssmax_pmax(size_t n, double s, double delta, int ref)
{
    static double x[NMAX], y[NMAX];
    for (size_t i = 0; i < n; i++) x[i] = -2.0;
    x[0] = -2.0 + delta;
    (ref ? smx_ssmax_ref : smx_ssmax)(y, x, n, s, &F64);
    return y[0];
}

static void test_ssmax(void)
{
    /* Nakanishi 2025 Fig. 1: logits -2 and one +3, s = 0.43 */
    const size_t ns[3] = {2, 10, 100};
    const double want[3] = {0.816, 0.940, 0.995};
    for (int k = 0; k < 3; k++) {
        double p = ssmax_pmax(ns[k], 0.43, 5.0, 1);
        ok(fabs(p - want[k]) < 5e-4, "SSMax Fig. 1: p_max(n = %zu) = %.4f ~ %.3f", ns[k], p, want[k]);
    }
    /* closed form p = 1/(1 + (n-1) n^{-s Delta}), ref and fast, several s Delta */
    const double sd[3] = {0.5, 1.0, 1.5};
    double worst = 0;
    for (int k = 0; k < 3; k++)
        for (size_t n = 3; n <= 1000; n = n * 7 + 1) {
            double s = sd[k] / 2.385, cf = 1 / (1 + (n - 1) * pow((double)n, -sd[k]));
            worst = fmax(worst, fabs(ssmax_pmax(n, s, 2.385, 1) - cf) / cf);
            worst = fmax(worst, fabs(ssmax_pmax(n, s, 2.385, 0) - cf) / cf / 8);
        }
    ok(worst < 1e-13, "SSMax one item Delta above n-1 others: p = 1/(1 + (n-1) n^{-s Delta}) (rel %.2g)", worst);
    /* threshold s Delta = 1: p_max -> 1/2; above it -> 1, below -> 0 (n = 2^20, fast path) */
    size_t big = (size_t)1 << 20;
    double *x = malloc(big * sizeof *x), *y = malloc(big * sizeof *y), p[3];
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < big; i++) x[i] = 0.0;
        x[0] = 1.0;
        smx_ssmax(y, x, big, sd[k], &F64);
        p[k] = y[0];
    }
    free(x);
    free(y);
    ok(fabs(p[1] - 0.5) < 1e-6 && p[0] < 2e-3 && p[2] > 0.998,
       "SSMax threshold at s Delta = 1 (n = 2^20): p = %.4g, %.7g, %.5g for s Delta = 0.5, 1, 1.5", p[0], p[1], p[2]);
    /* softmax comparison of the same figure: p_max = 0.5 at n ~ 149, 0.129 at n = 1000 */
    double q[NMAX], l[NMAX];
    for (size_t i = 0; i < 1000; i++) l[i] = -2.0;
    l[0] = 3.0;
    smx_softmax(q, l, 1000, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &F64);
    ok(fabs(q[0] - 0.129) < 5e-4, "softmax p_max(n = 1000) = %.4f ~ 0.129 (Fig. 1)", q[0]);
    /* ds: d<v, y>/ds vs central difference in s */
    size_t n = 40;
    double xs[NMAX], v[NMAX], g[NMAX], ds, yp[NMAX], ym[NMAX], s = 0.61, h = 1e-6;
    rand_vec(xs, n, 2.0, &F64);
    for (size_t i = 0; i < n; i++) v[i] = gsl_rng_uniform(rng) - 0.3;
    smx_ssmax_vjp(g, &ds, xs, v, n, s);
    smx_ssmax(yp, xs, n, s + h, &F64);
    smx_ssmax(ym, xs, n, s - h, &F64);
    double fd = 0;
    for (size_t i = 0; i < n; i++) fd += v[i] * (yp[i] - ym[i]) / (2 * h);
    ok_abs(ds, fd, 1e-8 * (1 + fabs(fd)), "SSMax d<v,y>/ds vs central difference (%.6g)", ds);
}

/* ---- temperature and adaptive temperature ---- */

static double poly(double H) { return -0.037 * pow(H, 4) + 0.481 * pow(H, 3) - 2.3 * H * H + 4.917 * H - 1.791; }

static double bisect_root(double a, double b)
{
    for (int it = 0; it < 100; it++) {
        double m = 0.5 * (a + b);
        if ((poly(m) - 1 > 0) == (poly(a) - 1 > 0)) a = m; else b = m;
    }
    return 0.5 * (a + b);
}

static void test_adaptive(void)
{
    double r1 = bisect_root(0.5, 2.0), r2 = bisect_root(5.0, 7.0);
    /* the roots are 0.84862 and 5.94452: dispersion.md's 0.849 is rounded, 5.944 truncated */
    ok(fabs(r1 - 0.849) < 1e-3 && fabs(r2 - 5.944) < 1e-3, "beta(H) = 1 at H = %.5f, %.5f (0.849, 5.944)", r1, r2);
    int inside = 1, outside = 1;
    for (double H = 0; H < 9; H += 1e-3) {
        double b = smx_adaptive_beta(H);
        if (H > r1 + 1e-6 && H < r2 - 1e-6) inside &= b > 1; else if (H < r1 - 1e-6 || H > r2 + 1e-6) outside &= b == 1;
    }
    ok(inside && outside, "beta(H) > 1 exactly on (0.849, 5.944), == 1 elsewhere");
    /* maximum by golden section on [3, 5] */
    double a = 3, b = 5, gr = (sqrt(5) - 1) / 2;
    for (int it = 0; it < 100; it++) {
        double c = b - gr * (b - a), d = a + gr * (b - a);
        if (smx_adaptive_beta(c) > smx_adaptive_beta(d)) b = d; else a = c;
    }
    double Hm = 0.5 * (a + b);
    ok(fabs(Hm - 4.41) < 5e-3 && fabs(smx_adaptive_beta(Hm) - 2.421) < 5e-4, "max beta = %.4f at H = %.3f (2.421 at 4.41)",
       smx_adaptive_beta(Hm), Hm);
    ok(smx_adaptive_beta(0.5) == 1.0 && smx_adaptive_beta(NAN) == 1.0, "beta(0.5) = 1 (H > 0.5 required), beta(NaN) = 1");
    double pe[4] = {0.5, 0.25, 0.125, 0.125};
    ok_rel(smx_softmax_entropy(pe, 4), 1.75 * log(2.0), 1e-8, "entropy(1/2, 1/4, 1/8, 1/8) = 1.75 ln 2 (1e-9 guard)");
    ok_rel(smx_ssmax_scale(0.43, 1000), 0.43 * log(1000.0), 1e-16, "ssmax scale = s ln n");

    /* adaptive == softmax(beta x) with beta = beta(H(softmax x)), fast and ref, several formats */
    size_t n = 64;
    double x[NMAX], y[NMAX], r[NMAX], p[NMAX], beta, betar;
    const smx_format_t *fs[4] = {&F64, &F32, &BF16, &F16};
    for (int k = 0; k < 4; k++) {
        const smx_format_t *f = fs[k];
        double u = smx_format_u(f);
        rand_vec(x, n, 2.5, f);
        int st = smx_adaptive(y, &beta, x, n, f) | smx_adaptive_ref(r, &betar, x, n, f);
        smx_softmax(p, x, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &F64);
        double H = smx_softmax_entropy(p, n);
        /* beta error: fl(beta) (u beta) + |beta'| <= 3 on (0.849, 5.944) times the entropy error
         * <= (softmax bound) u (H + 1) */
        double z[NMAX];
        for (size_t i = 0; i < n; i++) z[i] = x[i];
        double sb = smx_softmax_error_bound(SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, z, n, smx_lse_f64(z, n));
        ok(st == 0 && betar > 1 && fabs(beta - betar) <= u * (2 * betar + 3 * 1.5 * (sb + 2) * (H + 1)),
           "adaptive %s: beta %.6g vs ref %.6g (H = %.3f)", f->name, beta, betar, H);
        /* fast output vs the correctly rounded softmax of beta_fast x (exact product) */
        for (size_t i = 0; i < n; i++) z[i] = beta * x[i];
        smx_softmax(p, z, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, f);
        double worst = 0;
        for (size_t i = 0; i < n; i++)
            worst = fmax(worst, fabs(y[i] - p[i]) / (b_scaled(z, p, n, i, 1) * u + 4 * smx_format_min_subnormal(f)));
        ok(worst <= 1, "adaptive %s == softmax(beta x) within the shifted-softmax bound (%.2g)", f->name, worst);
    }
    /* vjp with beta held constant: FD of <v, softmax(beta0 x)> */
    double v[NMAX], g[NMAX], zz[NMAX], yy[NMAX], worst = 0, scale = 0;
    n = 30;
    rand_vec(x, n, 2.0, &F64);
    for (size_t i = 0; i < n; i++) v[i] = gsl_rng_uniform(rng) * 2 - 0.6;
    smx_adaptive(y, &beta, x, n, &F64);
    smx_adaptive_vjp(g, x, v, n);
    for (size_t k = 0; k < n; k++) {
        double h = 1e-6 * fmax(1, fabs(x[k])), fpm[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            for (size_t i = 0; i < n; i++) zz[i] = beta * (x[i] + (i == k ? (sgn ? -h : h) : 0));
            smx_softmax_f64(yy, zz, n);
            fpm[sgn] = 0;
            for (size_t i = 0; i < n; i++) fpm[sgn] += v[i] * yy[i];
        }
        worst = fmax(worst, fabs((fpm[0] - fpm[1]) / (2 * h) - g[k]));
        scale = fmax(scale, fabs(g[k]));
    }
    ok(worst <= 1e-7 * (scale + 1), "adaptive vjp (beta = %.4f constant) vs central differences (%.2g)", beta, worst);
}

static void test_temperature(void)
{
    /* T a power of two: x / T exact, so softmax_temp_ref == softmax_ref(x / T) bit for bit */
    size_t n = 77;
    double x[NMAX], z[NMAX], y[NMAX], r[NMAX];
    rand_vec(x, n, 7.0, &F64);
    const double Ts[2] = {0.25, 4.0};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++) z[i] = x[i] / Ts[k];
        smx_softmax_temp_ref(y, x, n, Ts[k], &F64);
        smx_softmax(r, z, n, SMX_LSE_REFERENCE, SMX_SUM_PAIRWISE, &F64);
        ok(memcmp(y, r, n * sizeof *y) == 0, "softmax_temp_ref(x, T = %g) == softmax_ref(x / T) bit for bit", Ts[k]);
        smx_softmax_temp(y, x, n, Ts[k], &F16);
        for (size_t i = 0; i < n; i++) z[i] = smx_format_round(x[i], &F16) / Ts[k];
        smx_softmax(r, z, n, SMX_LSE_SHIFTED, SMX_SUM_PAIRWISE, &F16);
        ok(memcmp(y, r, n * sizeof *y) == 0, "softmax_temp fp16 (T = %g) == shifted fp16 softmax of x / T", Ts[k]);
    }
    /* shift invariance of the reference with large logits: x + 2^20 and x (x + 2^20 exact),
     * T = 0.37 (x / T inexact): the same exact function, so the same correctly rounded bits */
    double xs[5] = {0.6875, 0.0, -1.3125, 2.3828125, 0.0078125}, xb[5]; /* short significands */
    for (int i = 0; i < 5; i++) xb[i] = xs[i] + 1048576.0;
    smx_softmax_temp_ref(y, xs, 5, 0.37, &F64);
    smx_softmax_temp_ref(r, xb, 5, 0.37, &F64);
    ok(memcmp(y, r, 5 * sizeof *y) == 0, "softmax_temp_ref shift invariant bit for bit (logits ~2^20, T = 0.37)");
    smx_ssmax_ref(y, xs, 5, 0.43, &F16);
    smx_ssmax_ref(r, xb, 5, 0.43, &F16);
    ok(memcmp(y, r, 5 * sizeof *y) == 0, "ssmax_ref shift invariant bit for bit (fp16)");
    double huge[3] = {1e300, -1e300, 3.5};
    smx_softmax_temp_ref(y, huge, 3, 1e-3, &F64);
    ok(y[0] == 1 && y[1] == 0 && y[2] == 0, "softmax_temp_ref of (1e300, -1e300, 3.5) / 1e-3 = (1, 0, 0)");
    /* T -> 0: argmax; T = +Inf: uniform */
    double a[4] = {0.3, 2.385, -1.0, 2.38};
    smx_softmax_temp(y, a, 4, 1e-4, &F64);
    ok(y[1] == 1.0 && y[3] < 1e-20, "T = 1e-4: one-hot on the argmax");
    smx_softmax_temp(y, a, 4, INFINITY, &F64);
    ok(y[0] == 0.25 && y[3] == 0.25, "T = +Inf: uniform 1/n");
}

static void test_attn(void)
{
    size_t n = 9;
    double x[NMAX], y[NMAX], r[NMAX];
    for (size_t i = 0; i < n; i++) x[i] = log((double)n) + 0.7 * (double)i - 2.385;
    x[4] = log((double)n); /* t = x + b = 0 exactly */
    smx_sigmoid_attn(y, x, n, NAN, &F64);
    smx_sigmoid_attn_ref(r, x, n, NAN, &F64);
    ok(y[4] == 0.5 && r[4] == 0.5, "sigmoid attention, default b = -ln n: x = ln n gives 1/2");
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        long double t = (long double)x[i] - logl((long double)n);
        worst = fmax(worst, fabs(r[i] - (double)(1.0L / (1.0L + expl(-t)))) / r[i]);
    }
    ok(worst <= 2 * DBL_EPSILON, "sigmoid_ref == 1/(1 + exp(-(x - ln n))) (long double) (%.2g)", worst);
    smx_sigmoid_attn(y, x, n, -1.25, &F64);
    ok_rel(y[0], 1 / (1 + exp(-(x[0] - 1.25))), 4 * DBL_EPSILON, "sigmoid attention with b = -1.25");
    double rx[4] = {-2.385, 0.0, 3.7, 1e-300}, ry[4];
    smx_relu_attn(ry, rx, 4, &F64);
    ok(ry[0] == 0 && ry[1] == 0 && ry[2] == 3.7 / 4 && ry[3] == 1e-300 / 4, "ReLU/n closed form");
    /* ReLU/n is one division: fast == ref bit for bit in every format */
    int same = 1;
    const smx_format_t *fs[3] = {&F64, &BF16, &F16};
    for (int k = 0; k < 3; k++) {
        rand_vec(x, 300, 3, fs[k]);
        smx_relu_attn(y, x, 300, fs[k]);
        smx_relu_attn_ref(r, x, 300, fs[k]);
        same &= memcmp(y, r, 300 * sizeof *y) == 0;
    }
    ok(same, "relu_attn fast == ref bit for bit (fp64, bf16, fp16, n = 300)");
}

/* ---- softpick closed form ---- */

static void test_softpick(void)
{
    double x[5] = {1.5, -0.3, 0.0, 2.385, -INFINITY}, y[5], r[5];
    smx_softpick_ref(r, x, 5, 0.0, &F64);
    double D = expm1(1.5) + -expm1(-0.3) + expm1(2.385), De = D + SMX_SOFTPICK_EPS * exp(2.385);
    ok_rel(r[0], expm1(1.5) / D, 2 * DBL_EPSILON, "softpick = ReLU(e^x - 1) / sum |e^x - 1| (eps = 0)");
    ok(r[1] == 0 && r[2] == 0 && r[4] == 0, "softpick: x <= 0 and masked (-Inf) entries give exactly 0");
    smx_softpick(y, x, 5, SMX_SOFTPICK_EPS, &F64);
    /* the code's eps is added after scaling by e^{-m}: the paper's formula with eps e^m */
    ok_rel(y[3], expm1(2.385) / De, 64 * DBL_EPSILON, "fast softpick (eps 1e-8) == closed form with eps e^max");
    double s = 0;
    for (int i = 0; i < 5; i++) s += r[i];
    ok(s < 1 && fabs(s - (1 - -expm1(-0.3) / D)) < 4 * DBL_EPSILON, "softpick sums to 1 - (negative mass)");
    double z[3] = {0, 0, 0};
    smx_softpick(y, z, 3, SMX_SOFTPICK_EPS, &F64);
    smx_softpick_ref(r, z, 3, 0.0, &F64);
    ok(y[0] == 0 && isnan(r[0]), "all-zero input: 0 with eps > 0, NaN (0/0) with eps = 0");
}

/* ---- special values and error paths ---- */

static void test_special(void)
{
    double x[4] = {1.0, INFINITY, -2.0, INFINITY}, y[4], r[4];
    smx_stablemax(y, x, 4, &F64);
    smx_stablemax_ref(r, x, 4, &F64);
    ok(y[1] == 0.5 && y[3] == 0.5 && y[0] == 0 && r[1] == 0.5 && r[2] == 0, "stablemax: +Inf entries share the mass");
    smx_logstablemax(y, x, 4, &F64);
    ok(y[1] == -log(2.0) && y[0] == -INFINITY, "logstablemax: -log k on +Inf entries, -Inf elsewhere");
    smx_sparsemax(y, x, 4, &F64);
    ok(y[1] == 0.5 && y[2] == 0, "sparsemax: +Inf entries share the mass");
    x[1] = NAN;
    int allnan = 1;
    const norm_t *nm;
    for (nm = NORMS; nm < NORMS + NNORMS; nm++) {
        nm->fast(y, x, 4, nm->par, &F64);
        nm->ref(r, x, 4, nm->par, &F64);
        allnan &= isnan(y[1]) && isnan(r[1]);
    }
    ok(allnan, "NaN input -> NaN output (every normaliser, fast and ref)");
    double m[3] = {-INFINITY, 0.7, -INFINITY};
    smx_stablemax(y, m, 3, &F64);
    smx_sparsemax(r, m, 3, &F64);
    ok(y[1] == 1 && y[0] == 0 && r[1] == 1 && r[2] == 0, "-Inf entries get 0 (stablemax, sparsemax)");
    double all[2] = {-INFINITY, -INFINITY};
    smx_stablemax(y, all, 2, &F64);
    smx_softpick(r, all, 2, SMX_SOFTPICK_EPS, &F64);
    ok(isnan(y[0]) && r[0] == 0, "all -Inf: stablemax NaN, softpick 0");
    double sg[3] = {INFINITY, -INFINITY, 0.3};
    smx_sigmoid_attn(y, sg, 3, NAN, &F16);
    ok(y[0] == 1 && y[1] == 0 && isfinite(y[2]), "sigmoid: +Inf -> 1, -Inf -> 0 (fp16)");
    /* fp16 overflow of exp-free StableMax: s(60000) + s(60000) overflows, as IEEE dictates */
    double big[2] = {60000, 60000};
    smx_stablemax(y, big, 2, &F16);
    ok(y[0] == 0, "fp16 StableMax of (60000, 60000): the sum overflows to Inf, y = 0 (documented)");
}

static void test_errors(void)
{
    double x[3] = {0.1, 0.2, 0.3}, y[3], g[3], v[3] = {1, 2, 3}, l, b;
    int e = 1;
    for (const norm_t *nm = NORMS; nm < NORMS + NNORMS; nm++) {
        e &= nm->fast(y, x, 0, nm->par, &F64) == SMX_EDOM;
        e &= nm->ref(y, x, 0, nm->par, &F64) == SMX_EDOM;
        e &= nm->vjp(g, x, v, 0, nm->par) == SMX_EDOM;
    }
    e &= smx_adaptive(y, &b, x, 0, &F64) == SMX_EDOM && smx_adaptive_ref(y, &b, x, 0, &F64) == SMX_EDOM &&
         smx_adaptive_vjp(g, x, v, 0) == SMX_EDOM;
    e &= smx_stablemax_ce(&l, g, x, 0, 0) == SMX_EDOM && smx_softmax_ce(&l, g, x, 0, 0, &F64) == SMX_EDOM;
    ok(e, "n == 0 -> SMX_EDOM for every function");
    ok(smx_stablemax_ce(&l, g, x, 3, 3) == SMX_EDOM && smx_softmax_ce(&l, g, x, 3, 7, &F64) == SMX_EDOM, "y >= n -> SMX_EDOM");
    ok(smx_softmax_temp(y, x, 3, 0.0, &F64) == SMX_EDOM && smx_softmax_temp(y, x, 3, -1.5, &F64) == SMX_EDOM &&
       smx_softmax_temp_ref(y, x, 3, NAN, &F64) == SMX_EDOM && smx_softmax_temp_vjp(g, x, v, 3, 0.0) == SMX_EDOM,
       "T <= 0 or NaN -> SMX_EDOM");
    ok(smx_ssmax(y, x, 3, 0.0, &F64) == SMX_EDOM && smx_ssmax_ref(y, x, 3, -0.4, &F64) == SMX_EDOM &&
       smx_ssmax_vjp(g, &l, x, v, 3, INFINITY) == SMX_EDOM, "s <= 0 or Inf -> SMX_EDOM");
    ok(smx_softpick(y, x, 3, -1e-8, &F64) == SMX_EDOM && smx_softpick_ref(y, x, 3, NAN, &F64) == SMX_EDOM &&
       smx_softpick_vjp(g, x, v, 3, INFINITY) == SMX_EDOM, "eps < 0, NaN or Inf -> SMX_EDOM");
    ok(smx_sigmoid_attn(y, x, 3, INFINITY, &F64) == SMX_EDOM && smx_sigmoid_attn_ref(y, x, 3, -INFINITY, &F64) == SMX_EDOM,
       "sigmoid bias +-Inf -> SMX_EDOM");
    int u = 1;
    for (const norm_t *nm = NORMS; nm < NORMS + NNORMS; nm++) u &= nm->fast(y, x, 3, nm->par, &F128) == SMX_EUNSUP;
    u &= smx_adaptive(y, &b, x, 3, &F128) == SMX_EUNSUP && smx_softmax_ce(&l, g, x, 3, 1, &F128) == SMX_EUNSUP;
    ok(u, "fast functions in fp128 (p = 113 > 53) -> SMX_EUNSUP");
    /* the references accept any format: fp128 outputs rounded to double */
    ok(smx_stablemax_ref(y, x, 3, &F128) == SMX_OK && fabs(y[0] - 1.1 / 3.6) < 1e-16, "stablemax_ref in fp128 works");
}

/* Fast functions accept y == x (documented). */
static void test_alias(void)
{
    double x[40], y[40], a[40];
    int same = 1;
    for (const norm_t *nm = NORMS; nm < NORMS + NNORMS; nm++) {
        rand_vec(x, 40, 3.0, &F16);
        memcpy(a, x, sizeof x);
        nm->fast(y, x, 40, nm->par, &F16);
        nm->fast(a, a, 40, nm->par, &F16);
        same &= memcmp(a, y, sizeof y) == 0;
    }
    rand_vec(x, 40, 3.0, &BF16);
    memcpy(a, x, sizeof x);
    smx_adaptive(y, NULL, x, 40, &BF16);
    smx_adaptive(a, NULL, a, 40, &BF16);
    same &= memcmp(a, y, sizeof y) == 0;
    ok(same, "fast functions give the same result in place (y == x)");
}

int main(void)
{
    smx_format_get(&F64, "fp64");
    smx_format_get(&F32, "fp32");
    smx_format_get(&F16, "fp16");
    smx_format_get(&BF16, "bf16");
    smx_format_get(&F128, "fp128");
    smx_format_get(&P30, "p30");
    rng = smx_rng_alloc(2385);

    test_stablemax_scalar();
    test_stablemax_vs_softmax();
    test_logstablemax();
    test_stablemax_mpfr_fd();
    test_ce();
    test_sparsemax();
    test_ssmax();
    test_adaptive();
    test_temperature();
    test_attn();
    test_softpick();
    test_special();
    test_errors();
    test_alias();
    /* non-default parameters where they enter the gradient: softpick's eps e^m term (invisible
     * at eps = 1e-8 under the 1e-7 tolerance), an explicit sigmoid bias */
    norm_t pk = NORMS[3], sg = NORMS[6];
    pk.par = 0.37;
    sg.par = 1.3;
    test_vjp(&pk, 9, 1.5);
    test_vjp(&pk, 4, 0.05);
    test_vjp(&sg, 9, 2.0);

    const smx_format_t *fs[4] = {&F64, &F32, &BF16, &F16};
    const size_t ns[3] = {2, 17, 300};
    for (const norm_t *nm = NORMS; nm < NORMS + NNORMS; nm++) {
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++) test_fast_vs_ref(nm, fs[k], ns[j], j == 2 ? 2.0 : 6.0, j == 0 ? 20 : 3);
        test_ref_consistency(nm, &F16);
        test_ref_consistency(nm, &BF16);
        test_ref_consistency(nm, &P30);
        test_vjp(nm, 12, 2.5);
        test_vjp(nm, 3, 0.8);
    }
    gsl_rng_free(rng);
    return tap_done();
}
