/* t-vexp.c - the softmax kernels' vectorised exp (numerics/kernels.h) against MPFR.
 *
 * Error in ulps of the exact e^x (MPFR at 128 bits; ulp = 2^(e - p) for a result in [2^(e-1), 2^e),
 * the subnormal ulp below the normal range) on a deterministic sample: float every 8191st float in
 * [-87.3, 88.7] (~270k inputs) and double 2^18 uniform random inputs in
 * [-708, 709] plus hard cases (0, +-tiny, the ends of the range, points near k ln 2 / 2).
 * Asserts the max error <= SMX_KERNELS_EXP_ULP_* (normal results) and not absurdly below it
 * (>= 0.3 ulp: an exp that were correctly rounded would be at most 0.5), subnormal results within
 * 1 subnormal ulp + the relative bound, overflow to +Inf, underflow to +0, NaN -> NaN, the
 * same bytes for every ISA. The exhaustive float sweep is `smx-bench exp-error`. The log of the
 * kernels is libm's, called once per vector (not vectorised), so it is not measured here. */
#include "kernels.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <float.h>
#include <mpfr.h>
#include <stdint.h>
#include <string.h>

/* |y - e^x| in ulps of e^x (p = 24 or 53) */
static double ulp_err(double y, double x, int p, mpfr_t t)
{
    mpfr_set_d(t, x, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    long e = mpfr_get_exp(t); /* t in [2^(e-1), 2^e) */
    long emin = p == 24 ? -125 : -1021;
    if (e < emin) e = emin;
    mpfr_sub_d(t, t, y, MPFR_RNDN);
    mpfr_abs(t, t, MPFR_RNDN);
    mpfr_mul_2si(t, t, p - e, MPFR_RNDN);
    return mpfr_get_d(t, MPFR_RNDN);
}

/* floats in order as integers: ford(nextafterf(v, +inf)) = ford(v) + 1 */
static int64_t ford(float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    return b >> 31 ? -(int64_t)(b & 0x7fffffffu) : (int64_t)b;
}
static double fback(int64_t k)
{
    uint32_t b = k < 0 ? (uint32_t)(-k) | 0x80000000u : (uint32_t)k;
    float v;
    memcpy(&v, &b, 4);
    return v;
}

static int run(double *y, const double *x, size_t n, int is_f32, smx_kernels_isa_t isa)
{
    if (!is_f32) return smx_kernels_exp_f64(y, x, n, isa);
    float *xf = calloc(n + 1, sizeof(float)), *yf = calloc(n + 1, sizeof(float));
    for (size_t i = 0; i < n; i++) xf[i] = (float)x[i];
    int st = smx_kernels_exp_f32(yf, xf, n, isa);
    for (size_t i = 0; i < n; i++) y[i] = yf[i];
    free(xf);
    free(yf);
    return st;
}

static void check(const char *label, const double *x, size_t n, int is_f32, double lo_expect)
{
    double *y = malloc(n * sizeof(double)), *y2 = malloc(n * sizeof(double));
    run(y, x, n, is_f32, SMX_KERNELS_AUTO);
    mpfr_t t;
    mpfr_init2(t, 128);
    int p = is_f32 ? 24 : 53;
    double emax = 0, xworst = 0, bound = is_f32 ? SMX_KERNELS_EXP_ULP_F32 : SMX_KERNELS_EXP_ULP_F64;
    for (size_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], x[i], p, t);
        if (e > emax) { emax = e; xworst = x[i]; }
    }
    ok(emax <= bound && emax >= lo_expect, "%s exp %s: max error %.4f ulp (at x = %a) in [%.2f, %.1f], %zu inputs",
       is_f32 ? "float" : "double", label, emax, xworst, lo_expect, bound, n);
    int same = 1;
    for (int isa = SMX_KERNELS_SCALAR; isa <= SMX_KERNELS_AVX512; isa++) {
        if (!smx_kernels_isa_available(isa)) continue;
        run(y2, x, n, is_f32, isa);
        if (memcmp(y, y2, n * sizeof(double))) same = 0;
    }
    ok(same, "%s exp %s: same bytes for every ISA", is_f32 ? "float" : "double", label);
    mpfr_clear(t);
    free(y);
    free(y2);
}

int main(void)
{
    /* float: every 8191st float in [-87.3, 88.7] (normal results), stepping through the floats in
     * order as integers (ford / fback) */
    {
        size_t cap = 1u << 21, n = 0;
        double *x = malloc(cap * sizeof(double));
        for (int64_t k = ford(-87.3f); k <= ford(88.7f) && n < cap; k += 8191) x[n++] = fback(k);
        check("sampled [-87.3, 88.7]", x, n, 1, 0.3);
        /* subnormal results: [-103.9, -87.4] every 8191st float, compared in subnormal ulps */
        n = 0;
        for (int64_t k = ford(-103.9f); k <= ford(-87.4f) && n < cap; k += 8191) x[n++] = fback(k);
        check("subnormal results [-103.9, -87.4]", x, n, 1, 0.0);
        free(x);
    }
    /* double: 2^18 uniform random + hard cases */
    {
        size_t n = (size_t)1 << 18, nh = 0;
        double *x = malloc((n + 64) * sizeof(double));
        gsl_rng *r = smx_rng_alloc(2385);
        for (size_t i = 0; i < n; i++) x[i] = -708 + 1417 * gsl_rng_uniform(r);
        double hard[] = {0.0, -0.0, 0x1p-60, -0x1p-60, 0x1p-30, 709.78, -708.39, 1e-300, 0.34657359027997264,
                         -0.34657359027997264, 0.34657359027997265, 2.385, -2.385, 1.0, -1.0, 88.72, -87.33};
        nh = sizeof hard / sizeof hard[0];
        memcpy(x + n, hard, sizeof hard);
        for (int k = -20; k <= 20; k++) x[n + nh++] = (k + 0.5) * M_LN2; /* reduction ties */
        check("2^18 random in [-708, 709] + hard cases", x, n + nh, 0, 0.3);
        for (size_t i = 0; i < 4096; i++) x[i] = -745.1 + 36.7 * gsl_rng_uniform(r);
        check("subnormal results [-745.1, -708.4]", x, 4096, 0, 0.0);
        gsl_rng_free(r);
        free(x);
    }
    /* specials */
    {
        double x[] = {1000, 710, 89.0, -1000, -760, -110, NAN, INFINITY, -INFINITY}, y[9];
        smx_kernels_exp_f64(y, x, 9, SMX_KERNELS_AUTO);
        ok(y[0] == INFINITY && y[1] == INFINITY && y[3] == 0 && y[4] == 0 && isnan(y[6]) && y[7] == INFINITY &&
               y[8] == 0,
           "double exp: overflow +Inf, underflow +0, NaN, +-Inf");
        float xf[] = {1000, 89.0f, 88.8f, -1000, -110, -104, NAN, INFINITY, -INFINITY}, yf[9];
        smx_kernels_exp_f32(yf, xf, 9, SMX_KERNELS_AUTO);
        ok(yf[0] == INFINITY && yf[1] == INFINITY && yf[2] == INFINITY && yf[3] == 0 && yf[4] == 0 &&
               yf[5] == 0 && isnan(yf[6]) && yf[7] == INFINITY && yf[8] == 0,
           "float exp: overflow +Inf, underflow +0, NaN, +-Inf");
    }
    return tap_done();
}
