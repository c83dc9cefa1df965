/* bench_exp.c - smx-bench exp-error: the softmax kernels' exp (numerics/kernels.h) and SLEEF's
 * 1.0-ulp exp (Sleef_expf16_u10avx512f / Sleef_expd8_u10avx512f, or the AVX2 / scalar ones)
 * against the exact e^x.
 *  float:  EVERY float x whose e^x is finite and nonzero in float (x in [-103.97, 88.72],
 *          ~2.1e9 inputs; --stride S takes every S-th bit pattern);
 *  double: --count uniform random x in [-745.1, 709.78] (10^6 quick, 10^8 paper) plus hard cases
 *          (0, +-2^-60, the ends of the range, (k + 1/2) ln 2 for |k| <= 1100).
 * Error in ulps of the exact value (ulp = 2^(e - p) for a result in [2^(e-1), 2^e); the
 * subnormal ulp below the normal range). Screening reference: libm's double exp for float inputs
 * (error < 2^-28 float ulps) and x87 expl for double inputs (error < 2^-9 double ulps); every
 * input whose screened error exceeds 0.75 ulp is re-measured against MPFR (128 bits), so the
 * reported maxima are MPFR's. Rows: a histogram of the errors (bins of 1/32 ulp) per type and
 * implementation; the maxima (normal and subnormal results) in the metadata and on stdout. */
#include "bench_cmds.h"
#include "cli.h"
#include "kernels.h"
#include "smx.h"
#include "tsv.h"
#include "rng.h"
#include "machine.h"

#include <immintrin.h>
#include <sleef.h>
#include <float.h>
#include <math.h>
#include <mpfr.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char EUSAGE[] =
    "usage: smx-bench exp-error [options]\n"
    "  --types LIST  float,double (default both)\n"
    "  --stride S    float: every S-th float bit pattern (default 1: exhaustive)\n"
    "  --count N     double: random inputs (default 10^6 quick, 10^8 paper)\n"
    "  --seed S      double inputs' seed (default 1)   --threads T (default OpenMP's)\n"
    "  --profile P   quick | paper   --out FILE (default data/bench/bench-exp-error.tsv)\n"
    "  --quiet       no progress on stderr\n"
    "Rows: type impl ulp_lo ulp_hi count (histogram, bins of 1/32 ulp; the last bin is open).\n";

#define NBIN 64 /* bins of 1/32 ulp up to 2 ulp, the last one open */
enum { IMPL_SMX = 0, IMPL_SLEEF = 1, NIMPL = 2 };
static const char *const IMPL_NAMES[] = {"smx", "sleef"};

typedef struct {
    double max[2]; /* normal, subnormal results */
    double xmax[2];
    long long hist[NBIN];
    long long count;
} acc_t;

static void acc_init(acc_t *a) { memset(a, 0, sizeof *a); }

static void acc_add(acc_t *a, double e, double x, int sub)
{
    if (e > a->max[sub]) { a->max[sub] = e; a->xmax[sub] = x; }
    if (!(e >= 0)) {
        fprintf(stderr, "smx-bench exp-error: error %g at x = %a\n", e, x);
        e = INFINITY;
    }
    int b = e < NBIN ? (int)(e * 32) : NBIN - 1;
    a->hist[b < NBIN - 1 ? b : NBIN - 1]++;
    a->count++;
}

static void acc_merge(acc_t *a, const acc_t *b)
{
    for (int s = 0; s < 2; s++)
        if (b->max[s] > a->max[s]) { a->max[s] = b->max[s]; a->xmax[s] = b->xmax[s]; }
    for (int k = 0; k < NBIN; k++) a->hist[k] += b->hist[k];
    a->count += b->count;
}

/* MPFR error in ulps of e^x for a p-bit result with normal exponent range from emin. */
static double mpfr_ulp_err(double y, double x, int p, long emin)
{
    mpfr_t t;
    mpfr_init2(t, 128);
    mpfr_set_d(t, x, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    long e = mpfr_get_exp(t);
    if (e < emin) e = emin;
    mpfr_sub_d(t, t, y, MPFR_RNDN);
    mpfr_abs(t, t, MPFR_RNDN);
    mpfr_mul_2si(t, t, p - e, MPFR_RNDN);
    double r = mpfr_get_d(t, MPFR_RNDN);
    mpfr_clear(t);
    return r;
}

/* SLEEF's 1.0-ulp exp, widest ISA available. sleef.h declares the vector functions only when the
 * translation unit is compiled with -mavx2 / -mavx512f; this file uses target attributes instead,
 * so it declares the four it calls (prototypes as in sleef.h 3.5). */
__m512 Sleef_expf16_u10avx512f(__m512);
__m256 Sleef_expf8_u10avx2(__m256);
__m512d Sleef_expd8_u10avx512f(__m512d);
__m256d Sleef_expd4_u10avx2(__m256d);
__attribute__((target("avx512f"))) static void sleef_f32_avx512(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, Sleef_expf16_u10avx512f(_mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = Sleef_expf_u10(x[i]);
}
__attribute__((target("avx2,fma"))) static void sleef_f32_avx2(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, Sleef_expf8_u10avx2(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = Sleef_expf_u10(x[i]);
}
__attribute__((target("avx512f"))) static void sleef_f64_avx512(double *y, const double *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm512_storeu_pd(y + i, Sleef_expd8_u10avx512f(_mm512_loadu_pd(x + i)));
    for (; i < n; i++) y[i] = Sleef_exp_u10(x[i]);
}
__attribute__((target("avx2,fma"))) static void sleef_f64_avx2(double *y, const double *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, Sleef_expd4_u10avx2(_mm256_loadu_pd(x + i)));
    for (; i < n; i++) y[i] = Sleef_exp_u10(x[i]);
}
static void sleef_f32(float *y, const float *x, size_t n)
{
    if (smx_kernels_isa_available(SMX_KERNELS_AVX512)) sleef_f32_avx512(y, x, n);
    else if (smx_kernels_isa_available(SMX_KERNELS_AVX2)) sleef_f32_avx2(y, x, n);
    else for (size_t i = 0; i < n; i++) y[i] = Sleef_expf_u10(x[i]);
}
static void sleef_f64(double *y, const double *x, size_t n)
{
    if (smx_kernels_isa_available(SMX_KERNELS_AVX512)) sleef_f64_avx512(y, x, n);
    else if (smx_kernels_isa_available(SMX_KERNELS_AVX2)) sleef_f64_avx2(y, x, n);
    else for (size_t i = 0; i < n; i++) y[i] = Sleef_exp_u10(x[i]);
}
static const char *sleef_isa(void)
{
    return smx_kernels_isa_available(SMX_KERNELS_AVX512) ? "Sleef_exp{f16,d8}_u10avx512f"
           : smx_kernels_isa_available(SMX_KERNELS_AVX2) ? "Sleef_exp{f8,d4}_u10avx2"
                                                         : "Sleef_exp{f,}_u10";
}

/* float: chunk k covers bit patterns [k C, (k+1) C) of the positive and negative ranges */
#define FCHUNK 16384u

static void float_chunk(acc_t acc[NIMPL], uint32_t b0, uint32_t b1, unsigned stride)
{
    static const float lo = -103.97208f, hi = 88.72283f; /* e^x finite and nonzero in float */
    float x[FCHUNK], y[FCHUNK], ys[FCHUNK];
    size_t n = 0;
    for (uint64_t b = b0; b < b1; b += stride) {
        uint32_t u = (uint32_t)b;
        float v;
        memcpy(&v, &u, 4);
        if (!(v >= lo && v <= hi)) continue;
        if (expf(v) == 0 || isinf(expf(v))) continue;
        x[n++] = v;
    }
    smx_kernels_exp_f32(y, x, n, SMX_KERNELS_AUTO);
    sleef_f32(ys, x, n);
    for (size_t i = 0; i < n; i++) {
        double ex = exp((double)x[i]);
        int e;
        frexp(ex, &e);
        int sub = e < -125;
        if (sub) e = -125;
        for (int im = 0; im < NIMPL; im++) {
            double got = im ? ys[i] : y[i];
            double err = ldexp(fabs(got - ex), 24 - e);
            if (err > 0.75) err = mpfr_ulp_err(got, x[i], 24, -125);
            acc_add(&acc[im], err, x[i], sub);
        }
    }
}

#define DCHUNK 4096

static void double_chunk(acc_t acc[NIMPL], const double *x, size_t n)
{
    double y[DCHUNK], ys[DCHUNK];
    smx_kernels_exp_f64(y, x, n, SMX_KERNELS_AUTO);
    sleef_f64(ys, x, n);
    for (size_t i = 0; i < n; i++) {
        long double ex = expl((long double)x[i]);
        if (!(ex <= (long double)DBL_MAX) || ex < 0x1p-1075L) continue; /* result not finite and nonzero */
        int e;
        frexpl(ex, &e);
        int sub = e < -1021;
        if (sub) e = -1021;
        for (int im = 0; im < NIMPL; im++) {
            double got = im ? ys[i] : y[i];
            double err = (double)ldexpl(fabsl((long double)got - ex), 53 - e);
            if (err > 0.75) err = mpfr_ulp_err(got, x[i], 53, -1021);
            acc_add(&acc[im], err, x[i], sub);
        }
    }
}

int bench_cmd_exp_error(int argc, char **argv)
{
    const char *PROG = "smx-bench exp-error";
    enum { OPT_TYPES = SMX_OPT_FIRST_PRIVATE, OPT_STRIDE, OPT_COUNT };
    static const struct option opts[] = {BENCH_COMMON_OPTIONS,
                                         {"types", required_argument, 0, OPT_TYPES},
                                         {"stride", required_argument, 0, OPT_STRIDE},
                                         {"count", required_argument, 0, OPT_COUNT},
                                         {0, 0, 0, 0}};
    static const char *const TYPES[] = {"float", "double", NULL};
    smx_cli_common_t c;
    int quiet;
    bench_opt_begin(&c, &quiet);
    int types[2] = {1, 1};
    long stride = 1, count = -1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case OPT_TYPES: bench_names_or_fail(types, optarg, TYPES, PROG, "--types"); break;
        case OPT_STRIDE: stride = smx_cli_long_or_fail(optarg, 1, 1L << 30, PROG, "--stride"); break;
        case OPT_COUNT: count = smx_cli_long_or_fail(optarg, 1, 10000000000L, PROG, "--count"); break;
        default: smx_cli_common_or_quiet(&c, &quiet, o, optarg, PROG, EUSAGE, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, PROG);
    if (count < 0) count = c.profile == SMX_PROFILE_PAPER ? 100000000L : 1000000L;
    const char *out = c.out ? c.out : "data/bench/bench-exp-error.tsv";
    smx_cli_out_check_or_fail(out, PROG, "--out"); /* before the work (issue 9) */
    int nt = c.threads > 0 ? c.threads : omp_get_max_threads();

    acc_t res[2][NIMPL];
    for (int t = 0; t < 2; t++)
        for (int im = 0; im < NIMPL; im++) acc_init(&res[t][im]);
    double t0 = smx_time_now();
    if (types[0]) {
        /* positive floats: bits [0, 0x42b17218], negative: [0x80000000, 0xc2cff1b5]; chunk in order */
        const uint32_t ranges[2][2] = {{0u, 0x42b17219u}, {0x80000000u, 0xc2cff1b6u}};
        for (int rgi = 0; rgi < 2; rgi++) {
            uint32_t a = ranges[rgi][0], b = ranges[rgi][1];
            long nch = (long)(((uint64_t)b - a + FCHUNK - 1) / FCHUNK);
            acc_t *part = malloc((size_t)nch * NIMPL * sizeof(acc_t));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16)
            for (long k = 0; k < nch; k++) {
                uint64_t c0 = a + (uint64_t)k * FCHUNK, c1 = c0 + FCHUNK < b ? c0 + FCHUNK : b;
                /* the stride runs over the whole range: first pattern of this chunk on the grid */
                uint64_t first = c0 + ((stride - (c0 - a) % stride) % stride);
                for (int im = 0; im < NIMPL; im++) acc_init(&part[k * NIMPL + im]);
                if (first < c1) float_chunk(&part[k * NIMPL], (uint32_t)first, (uint32_t)c1, (unsigned)stride);
            }
            for (long k = 0; k < nch; k++)
                for (int im = 0; im < NIMPL; im++) acc_merge(&res[0][im], &part[k * NIMPL + im]);
            free(part);
        }
        if (!quiet) fprintf(stderr, "%s: float done, %lld inputs, %.1f s\n", PROG, res[0][0].count, smx_time_now() - t0);
    }
    if (types[1]) {
        long nh = 0;
        double hard[4500];
        double hv[] = {0.0, -0.0, 0x1p-60, -0x1p-60, 709.782712893384, -745.1332191019411, -708.3964185322641,
                       1.0, -1.0, 2.385, -2.385, 0x1.62e42fefa39efp-2, -0x1.62e42fefa39efp-2};
        for (size_t i = 0; i < sizeof hv / sizeof hv[0]; i++) hard[nh++] = hv[i];
        for (int k = -1075; k <= 1023; k++) hard[nh++] = (k + 0.5) * M_LN2;
        long total = count + nh, nch = (total + DCHUNK - 1) / DCHUNK;
        acc_t *part = malloc((size_t)nch * NIMPL * sizeof(acc_t));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 4)
        for (long k = 0; k < nch; k++) {
            /* chunk k's inputs from its own RNG stream: the same for any thread count */
            gsl_rng *r = smx_rng_alloc_stream(c.seed, (unsigned long)k);
            double x[DCHUNK];
            long i0 = k * DCHUNK, m = total - i0 < DCHUNK ? total - i0 : DCHUNK;
            for (long i = 0; i < m; i++) {
                long g = i0 + i;
                x[i] = g < nh ? hard[g] : -745.1332191019411 + (709.782712893384 + 745.1332191019411) * gsl_rng_uniform(r);
                if (!(x[i] >= -745.1332191019411 && x[i] <= 709.782712893384)) x[i] = 0;
            }
            gsl_rng_free(r);
            for (int im = 0; im < NIMPL; im++) acc_init(&part[k * NIMPL + im]);
            double_chunk(&part[k * NIMPL], x, (size_t)m);
        }
        for (long k = 0; k < nch; k++)
            for (int im = 0; im < NIMPL; im++) acc_merge(&res[1][im], &part[k * NIMPL + im]);
        free(part);
        if (!quiet) fprintf(stderr, "%s: double done, %lld inputs, %.1f s\n", PROG, res[1][0].count, smx_time_now() - t0);
    }

    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", out);
    smx_tsv_meta_std(t, PROG, argc, argv);
    smx_cli_meta(t, &c);
    bench_meta_machine(t);
    smx_tsv_meta(t, "options", "stride %ld, count %ld", stride, count);
    smx_tsv_meta(t, "sleef", "%s (SLEEF 3.5, documented bound 1.0 ulp)", sleef_isa());
    smx_tsv_meta(t, "smx_bound", "SMX_KERNELS_EXP_ULP_F32 %g, SMX_KERNELS_EXP_ULP_F64 %g", SMX_KERNELS_EXP_ULP_F32,
                 SMX_KERNELS_EXP_ULP_F64);
    for (int ty = 0; ty < 2; ty++) {
        if (!types[ty]) continue;
        for (int im = 0; im < NIMPL; im++) {
            const acc_t *a = &res[ty][im];
            smx_tsv_meta(t, "max_error", "%s %s: %.6f ulp at x = %a (normal results), %.6f ulp at x = %a "
                                         "(subnormal results), %lld inputs",
                         TYPES[ty], IMPL_NAMES[im], a->max[0], a->xmax[0], a->max[1], a->xmax[1], a->count);
            printf("bench-exp-error: %s %s max %.4f ulp (normal results), %.4f ulp (subnormal), %lld inputs\n",
                   TYPES[ty], IMPL_NAMES[im], a->max[0], a->max[1], a->count);
        }
    }
    smx_tsv_header(t, "type\timpl\tulp_lo\tulp_hi\tcount");
    for (int ty = 0; ty < 2; ty++) {
        if (!types[ty]) continue;
        for (int im = 0; im < NIMPL; im++)
            for (int k = 0; k < NBIN; k++) {
                smx_tsv_str(t, TYPES[ty]);
                smx_tsv_str(t, IMPL_NAMES[im]);
                smx_tsv_num(t, k / 32.0);
                smx_tsv_num(t, k == NBIN - 1 ? INFINITY : (k + 1) / 32.0);
                smx_tsv_int(t, res[ty][im].hist[k]);
                smx_tsv_endrow(t);
            }
    }
    if (smx_tsv_close(t)) smx_cli_io_fail(PROG, "--out: cannot write", out);
    return 0;
}
