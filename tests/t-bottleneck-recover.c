/* t-bottleneck-recover.c - smx-bottleneck recover's pieces: the true hidden size from exact and fp32
 * outputs of a flat head (with and without bias), failure of fp16 on a k^-2 head (science/bottleneck.md),
 * the clr rank bound, the estimate on a hand-made spectrum, decimal rounding, and the matrix reader's
 * rejection of NaN, ragged rows, non-numbers and wrong sizes. */
#include "bottleneck_cmds.h"
#include "smx.h"
#include "svd.h"
#include "tap.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t recover(size_t n, size_t v, size_t d, bottleneck_head_t head, int bias, const char *prec,
                      double *gap_true, unsigned long seed)
{
    double *H = malloc(n * d * sizeof *H), *W = malloc(v * d * sizeof *W), *b = malloc(v * sizeof *b);
    double *L = malloc(n * v * sizeof *L), *s = malloc(v * sizeof *s);
    gsl_rng *r = smx_rng_alloc(seed);
    bottleneck_model_gen(H, W, b, r, n, v, d, head, bias);
    bottleneck_logprobs(L, H, W, bias ? b : NULL, n, v, d);
    bottleneck_prec_t p;
    bottleneck_prec_get(&p, prec);
    bottleneck_prec_round(L, n * v, &p);
    bottleneck_clr(L, L, n, v);
    smx_svd_values(s, L, n, v, SMX_SVD_LAPACK);
    size_t k = n < v ? n : v;
    bottleneck_estimate_t e;
    bottleneck_estimate(&e, s, k, 1e-2);
    *gap_true = bottleneck_gap_at(s, k, d + (size_t)bias);
    gsl_rng_free(r);
    free(H), free(W), free(b), free(L), free(s);
    return e.d_gap;
}

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/t-bneck-%ld-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(),
             name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

static int reads(const char *text, bottleneck_file_fmt_t fmt, size_t rows, size_t cols, int neginf, char *err,
                 double **a, size_t *r, size_t *c)
{
    const char *p = write_tmp("m", text, strlen(text));
    *r = rows, *c = cols;
    int st = bottleneck_read_matrix(a, r, c, p, fmt, neginf, err, 256);
    unlink(p);
    return st;
}

int main(void)
{
    smx_svd_blas_single_thread();
    /* 1. recovery: N = 240 outputs, V = 200, d = 20 */
    double g;
    for (int bias = 0; bias < 2; bias++) {
        size_t dt = 20 + (size_t)bias;
        size_t e = recover(240, 200, 20, BOTTLENECK_HEAD_FLAT, bias, "fp64", &g, 11);
        ok(e == dt && g > 11, "flat head%s, exact outputs: hidden size %zu (want %zu), gap %.2f decades > 11",
           bias ? " + bias" : "", e, dt, g);
        e = recover(240, 200, 20, BOTTLENECK_HEAD_FLAT, bias, "fp32", &g, 12);
        ok(e == dt && g > 5.5 && g < 8.5, "flat head%s, fp32 outputs: hidden size %zu (want %zu), gap %.2f decades "
           "in (5.5, 8.5) (ulp noise floor)", bias ? " + bias" : "", e, dt, g);
        e = recover(240, 200, 20, BOTTLENECK_HEAD_FLAT, bias, "bf16", &g, 13);
        ok(e == dt && g > 1 && g < 3.5, "flat head%s, bf16 outputs: still %zu, gap %.2f decades in (1, 3.5)",
           bias ? " + bias" : "", e, g);
    }
    /* d = 50: the last column of W is scaled 1/2500 */
    size_t e = recover(240, 200, 50, BOTTLENECK_HEAD_ANISO, 1, "fp16", &g, 14);
    ok(e != 51 && g < 1, "k^-2 head + bias, d = 50, fp16 outputs: recovery fails (got %zu, gap at 51: %.2f decades)",
       e, g);
    e = recover(240, 200, 50, BOTTLENECK_HEAD_ANISO, 1, "fp32", &g, 14);
    ok(e == 51 && g > 2, "k^-2 head + bias, d = 50, fp32 outputs: %zu, gap %.2f decades", e, g);
    /* fewer outputs than d: no gap at d */
    e = recover(15, 200, 20, BOTTLENECK_HEAD_FLAT, 0, "fp64", &g, 15);
    ok(e != 20, "15 outputs of a d = 20 head: estimate %zu is not 20", e);

    /* 2. the estimate on a hand-made spectrum: the largest drop, the last gap excluded */
    double s[8] = {9.1, 8.3, 7.7, 1e-3, 9e-4, 8e-4, 7e-4, 1e-19};
    bottleneck_estimate_t est;
    bottleneck_estimate(&est, s, 8, 1e-2);
    ok(est.d_gap == 3 && fabs(est.gap_decades - log10(7.7 / 1e-3)) < 1e-12 && est.d_count == 3,
       "estimate: gap after index 3 (%zu), %.4f decades, count 3 (%zu); the clr zero at index 8 excluded",
       est.d_gap, est.gap_decades, est.d_count);
    s[7] = 0;
    bottleneck_estimate(&est, s, 8, 1e-2);
    ok(est.d_gap == 3, "estimate: an exact zero last value is excluded too");
    ok_abs(bottleneck_gap_at(s, 8, 8), 0, 0, "gap_at beyond the spectrum: 0");

    /* 3. precisions */
    bottleneck_prec_t p;
    ok(bottleneck_prec_get(&p, "dec2") == SMX_OK && p.decimals == 2, "dec2 parses");
    double x[4] = {-2.385, -0.125, -7.0049999, -1e-9};
    bottleneck_prec_round(x, 4, &p);
    ok(x[0] == -2.38 && x[1] == -0.12 && x[2] == -7.0 && x[3] == 0.0,
       "dec2: -2.385 -> %.17g, -0.125 -> %.17g (half even), -7.0049999 -> %.17g, -1e-9 -> %g", x[0], x[1], x[2], x[3]);
    ok(bottleneck_prec_get(&p, "fp16") == SMX_OK && p.decimals == 0 && p.fmt.p == 11, "fp16 parses");
    x[0] = -2.385;
    bottleneck_prec_round(x, 1, &p);
    ok(x[0] == -2.384765625, "fp16: -2.385 -> %.17g", x[0]);
    ok(bottleneck_prec_get(&p, "dec0") == SMX_EDOM && bottleneck_prec_get(&p, "fp128") == SMX_EDOM &&
       bottleneck_prec_get(&p, "dec13") == SMX_EDOM, "dec0, dec13, fp128 rejected");

    /* 4. clr rank <= d + 1 with bias: sigma_{d+2} negligible, sigma_{d+1} not */
    {
        size_t n = 60, v = 40, d = 7;
        double H[60 * 7], W[40 * 7], b[40], L[60 * 40], sv[40];
        gsl_rng *r = smx_rng_alloc(99);
        bottleneck_model_gen(H, W, b, r, n, v, d, BOTTLENECK_HEAD_FLAT, 1);
        bottleneck_logprobs(L, H, W, b, n, v, d);
        double rowsum = 0;
        for (size_t j = 0; j < v; j++) rowsum += exp(L[j]);
        ok_abs(rowsum, 1.0, 1e-14, "log-probs: a row's probabilities sum to 1");
        bottleneck_clr(L, L, n, v);
        smx_svd_values(sv, L, n, v, SMX_SVD_GSL);
        ok(sv[8] / sv[0] < 1e-13 && sv[7] / sv[0] > 1e-3, "clr rank d + 1 = 8: sigma_9/sigma_1 = %.3g, "
           "sigma_8/sigma_1 = %.3g", sv[8] / sv[0], sv[7] / sv[0]);
        gsl_rng_free(r);
    }

    /* 4b. API simulation: top-k + logit-bias queries give the log-probs back (Finlayson et al.'s formula) */
    {
        size_t n = 30, v = 25, d = 4;
        double H[30 * 4], W[25 * 4], b[25], L[30 * 25], La[30 * 25];
        gsl_rng *r = smx_rng_alloc(4);
        bottleneck_model_gen(H, W, b, r, n, v, d, BOTTLENECK_HEAD_FLAT, 1);
        bottleneck_logprobs(L, H, W, b, n, v, d);
        bottleneck_prec_t p64, p32;
        bottleneck_prec_get(&p64, "fp64"), bottleneck_prec_get(&p32, "fp32");
        double err5 = 0, err20 = 0, err32 = 0;
        memcpy(La, L, sizeof L);
        bottleneck_api_logprobs(La, n, v, 3, 5.0, &p64);
        for (size_t i = 0; i < n * v; i++) err5 = fmax(err5, fabs(La[i] - L[i]));
        memcpy(La, L, sizeof L);
        bottleneck_api_logprobs(La, n, v, 3, 20.0, &p64);
        for (size_t i = 0; i < n * v; i++) err20 = fmax(err20, fabs(La[i] - L[i]));
        memcpy(La, L, sizeof L);
        bottleneck_api_logprobs(La, n, v, 3, 5.0, &p32);
        for (size_t i = 0; i < n * v; i++) err32 = fmax(err32, fabs(La[i] - L[i]));
        ok(err5 < 1e-12, "API (top-3, logit bias 5), fp64: log-probs recovered to %.3g", err5);
        ok(err20 > 1e3 * err5 && err20 < 1e-3, "logit bias 20: cancellation in e^B (1 - p') costs digits: error %.3g",
           err20);
        ok(err32 > 1e-8 && err32 < 1e-4, "fp32 answers, bias 5: error %.3g (fp32 rounding, amplified)", err32);
        /* the top-k entries are returned as they are */
        memcpy(La, L, sizeof L);
        bottleneck_api_logprobs(La, n, v, v, 5.0, &p64);
        int same = 1;
        for (size_t i = 0; i < n * v; i++) same &= La[i] == L[i];
        ok(same, "top-V: every log-prob returned directly, bit for bit");
        gsl_rng_free(r);
    }

    /* 5. reader */
    char err[256];
    double *a = NULL;
    size_t r, c;
    int st = reads("# comment\n-1.5\t-2.25\t-3\n\n-0.5\t-1e-3\t-4\n", BOTTLENECK_FILE_TSV, 0, 0, 0, err, &a, &r, &c);
    ok(st == SMX_OK && r == 2 && c == 3 && a[4] == -1e-3 && a[2] == -3, "TSV: 2 x 3 read, comments and blank lines "
       "skipped");
    free(a), a = NULL;
    st = reads("-1\t-2\n-3\tnan\n", BOTTLENECK_FILE_TSV, 0, 0, 0, err, &a, &r, &c);
    ok(st == SMX_EDOM && strstr(err, ":2: column 2") && !strchr(err, '\n'), "TSV NaN rejected: %s", err);
    st = reads("-1\t-2\n-3\n", BOTTLENECK_FILE_TSV, 0, 0, 0, err, &a, &r, &c);
    ok(st == SMX_EDOM && strstr(err, ":2: ragged row: 1 fields, expected 2"), "TSV ragged row rejected: %s", err);
    st = reads("-1\t-2x\n", BOTTLENECK_FILE_TSV, 0, 0, 0, err, &a, &r, &c);
    ok(st == SMX_EDOM && strstr(err, ":1: column 2: '-2x' is not a number"), "TSV non-number rejected: %s", err);
    st = reads("-1\t-inf\n", BOTTLENECK_FILE_TSV, 0, 0, 0, err, &a, &r, &c);
    ok(st == SMX_EDOM, "TSV -inf rejected unless allowed: %s", err);
    st = reads("-1\t-inf\n", BOTTLENECK_FILE_TSV, 0, 0, 1, err, &a, &r, &c);
    ok(st == SMX_OK && isinf(a[1]), "TSV -inf accepted when allowed");
    free(a), a = NULL;
    st = reads("-1\tinf\n", BOTTLENECK_FILE_TSV, 0, 0, 1, err, &a, &r, &c);
    ok(st == SMX_EDOM, "TSV +inf rejected: %s", err);
    st = reads("# only a comment\n", BOTTLENECK_FILE_TSV, 0, 0, 0, err, &a, &r, &c);
    ok(st == SMX_EDOM && strstr(err, "no data rows"), "TSV without rows rejected: %s", err);
    {
        float f[6] = {-1.5f, -2.5f, -3.5f, -4.5f, -5.5f, -6.5f};
        const char *pth = write_tmp("f32", f, sizeof f);
        r = 2, c = 3;
        st = bottleneck_read_matrix(&a, &r, &c, pth, BOTTLENECK_FILE_F32, 0, err, sizeof err);
        ok(st == SMX_OK && a[5] == -6.5, "raw float32 2 x 3 read");
        free(a), a = NULL;
        r = 2, c = 2;
        st = bottleneck_read_matrix(&a, &r, &c, pth, BOTTLENECK_FILE_F32, 0, err, sizeof err);
        ok(st == SMX_EDOM && strstr(err, "wrong size"), "raw float32 with the wrong size rejected: %s", err);
        r = 1, c = 3;
        st = bottleneck_read_matrix(&a, &r, &c, pth, BOTTLENECK_FILE_F64, 0, err, sizeof err);
        double w;
        memcpy(&w, f + 2, 8);
        ok(st == SMX_OK && a[1] == w, "raw float64 1 x 3 from the same 24 bytes reads");
        free(a), a = NULL;
        f[4] = NAN;
        pth = write_tmp("f32", f, sizeof f);
        r = 2, c = 3;
        st = bottleneck_read_matrix(&a, &r, &c, pth, BOTTLENECK_FILE_F32, 0, err, sizeof err);
        ok(st == SMX_EDOM && strstr(err, "row 2, column 2"), "raw float32 NaN rejected: %s", err);
        unlink(pth);
    }
    st = bottleneck_read_matrix(&a, &r, &c, "/nonexistent/x.tsv", BOTTLENECK_FILE_TSV, 0, err, sizeof err);
    ok(st == SMX_EIO && strstr(err, "/nonexistent/x.tsv"), "missing file: %s", err);
    return tap_done();
}
