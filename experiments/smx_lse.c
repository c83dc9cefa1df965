/* smx_lse.c - `smx lse-error`: the Blanchard-Higham-Higham experiment (IMA J. Numer. Anal.
 * 41(4), 2021, Sec. 5, Figs. 5.1-5.2) for the numerics-lse-error figure.
 *
 * BHH took 2,500 pre-softmax score vectors (n = 10) of a LeCun-style network trained on MNIST,
 * rounded them to fp16 / bfloat16 and plotted, per vector, the error of each LSE / softmax
 * algorithm in units of u against its leading-order error bound. We have no MNIST network, so
 * the score vectors are synthetic logits of the same shape: a nearest-class-mean classifier
 * (a linear classifier: -|z - mu_k|^2 = 2 mu_k.z - |mu_k|^2 - |z|^2, the last term shared) on
 * clustered data. Features z = mu_c + 0.8 g (d = 20, class c uniform on 10 classes, class
 * means mu_k and g standard normal), logits x_k = 14 - 0.35 |z - mu_k|^2, rounded to fp32
 * (BHH's data were single precision). The constants 14 and 0.35 were chosen so that the
 * correct-class logit is ~ 9.5 +- 2 and the others ~ -5 +- 5, i.e. max ~ 5..15 and
 * min ~ -25..-5 as in BHH's plotted bound ranges (spread max - min ~ 10..30); the overflow
 * count of naive LSE in fp16 (max > 11.09) is a property of these data, not of MNIST.
 *
 * For every vector, format (fp16, bf16, fp32), algorithm (naive, shifted, log1p, online,
 * two-pass) and function (lse, softmax) one row: error / u (lse: relative; softmax: BHH's
 * normwise max_i |err_i| / max_i y_i), our leading-order bound (lse.h) and BHH's script
 * expression. The exact values are the correctly rounded fp64 reference of the rounded vector
 * (its 2^-53 error is < 2^-29 u here). Vectors whose computed lse is not finite (overflow) get
 * err_u = inf for both functions and are counted: BHH found the basic LSE overflowing in fp16 on 475 / 2500. */
#include "smx_cmds.h"

#include "cli.h"
#include "lse.h"
#include "smx.h"
#include "tsv.h"
#include "rng.h"
#include "progress.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LSE_PROG "smx lse-error"
#define LSE_CLASSES 10
#define LSE_FEATURES 20
#define LSE_NOISE 0.8
#define LSE_SCALE 0.35
#define LSE_BIAS 14.0

static const char lse_usage[] =
    "Usage: smx lse-error [options]\n"
    "BHH (Blanchard, Higham & Higham 2021) error-vs-bound data for log-sum-exp and softmax:\n"
    "per score vector, format (fp16, bf16, fp32), algorithm (naive, shifted, log1p, online,\n"
    "two-pass) and function (lse, softmax): error / u, our leading-order bound, BHH's bound.\n"
    "The score vectors are SYNTHETIC (no MNIST network here): logits of a random linear\n"
    "nearest-class-mean classifier on clustered data, x_k = 14 - 0.35 |z - mu_k|^2, d = 20,\n"
    "with MNIST-like ranges (max ~ 5..15, spread max - min ~ 10..30).\n"
    "Also counts fp16 overflows per algorithm (paper: basic LSE 475 / 2500, shifted 0).\n"
    "  --vectors N   number of score vectors (default 2500 = BHH's count)\n"
    "  --n N         entries per vector (default 10 = MNIST classes; > 10 pads with more classes)\n"
    "  --sum S       summation order: naive (BHH's), pairwise, compensated (naive is used for\n"
    "                online / two-pass when S = compensated)\n"
    "  --seed S      RNG seed (default 1)\n"
    "  --profile P   quick|paper (both 2500 vectors: the experiment is cheap)\n"
    "  --out FILE    TSV output (default data/PROFILE/numerics-lse-error.tsv)\n"
    "  --threads T   accepted for uniformity; the run is single-threaded (< 10 s)\n"
    "  --quiet       no progress line and no summary on stderr\n"
    "  --help, --version\n"
    "  --            end of options\n"
    SMX_CLI_EXIT_HELP;

static const char *const lse_formats[] = {"fp16", "bf16", "fp32"};
static const smx_lse_algo_t lse_algos[] = {SMX_LSE_NAIVE, SMX_LSE_SHIFTED, SMX_LSE_LOG1P, SMX_LSE_ONLINE,
                                           SMX_LSE_TWOPASS};
#define LSE_NF 3
#define LSE_NA 5

typedef struct {
    double err_lse, err_sm, bound_lse, bound_sm, bhh_lse, bhh_sm;
} lse_row_t;

/* Synthetic score vectors: n logits of the nearest-class-mean classifier (see the file comment). */
static void lse_gen_scores(double *x, size_t n, const double *mu, gsl_rng *r)
{
    double z[LSE_FEATURES];
    size_t c = gsl_rng_uniform_int(r, n < LSE_CLASSES ? n : LSE_CLASSES);
    for (int j = 0; j < LSE_FEATURES; j++) z[j] = mu[c * LSE_FEATURES + j] + gsl_ran_gaussian(r, LSE_NOISE);
    for (size_t k = 0; k < n; k++) {
        double s = 0;
        for (int j = 0; j < LSE_FEATURES; j++) s += (z[j] - mu[k * LSE_FEATURES + j]) * (z[j] - mu[k * LSE_FEATURES + j]);
        x[k] = (double)(float)(LSE_BIAS - LSE_SCALE * s);
    }
}

/* Error / u of one algorithm on one vector x (already in f); exact lse l, softmax e[]. */
static void lse_measure(lse_row_t *row, const double *x, size_t n, double l, const double *e, smx_lse_algo_t a,
                        smx_sum_algo_t sum, const smx_format_t *f, double *y)
{
    double u = smx_format_u(f), got, emax = 0, nw = 0;
    smx_sum_algo_t s = (sum == SMX_SUM_COMPENSATED && (a == SMX_LSE_ONLINE || a == SMX_LSE_TWOPASS)) ? SMX_SUM_NAIVE : sum;
    int st = smx_lse(&got, x, n, a, s, f) | smx_softmax(y, x, n, a, s, f);
    row->err_lse = st || !isfinite(got) ? INFINITY : fabs(got - l) / (u * fabs(l));
    for (size_t i = 0; i < n; i++) {
        emax = fmax(emax, e[i]);
        nw = isfinite(y[i]) ? fmax(nw, fabs(y[i] - e[i])) : INFINITY;
    }
    /* the normaliser overflowed (naive: s = Inf gives softmax 0 or NaN): an overflow, not an error */
    row->err_sm = st || !isfinite(got) ? INFINITY : nw / (u * emax);
    row->bound_lse = smx_lse_error_bound(a, s, x, n, l);
    row->bound_sm = smx_softmax_error_bound(a, s, x, n, l);
    row->bhh_lse = smx_lse_error_bound_bhh(a, x, n, l);
    row->bhh_sm = smx_softmax_error_bound_bhh(a, x, n, l);
}

int smx_cmd_lse_error(int argc, char **argv)
{
    enum { OPT_VECTORS = SMX_OPT_FIRST_PRIVATE, OPT_N, OPT_SUM, OPT_QUIET };
    static const struct option opts[] = {SMX_CLI_COMMON_OPTIONS,
                                         {"vectors", required_argument, 0, OPT_VECTORS},
                                         {"n", required_argument, 0, OPT_N},
                                         {"sum", required_argument, 0, OPT_SUM},
                                         {"quiet", no_argument, 0, OPT_QUIET},
                                         {0, 0, 0, 0}};
    static const char *const sums[] = {"naive", "pairwise", "compensated", NULL};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    long nvec = 2500, n = 10;
    smx_sum_algo_t sum = SMX_SUM_NAIVE;
    int quiet = 0;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (smx_cli_common(&c, o, optarg, LSE_PROG, lse_usage)) continue;
        switch (o) {
        case OPT_VECTORS: nvec = smx_cli_long_or_fail(optarg, 1, 10000000, LSE_PROG, "--vectors"); break;
        case OPT_N: n = smx_cli_long_or_fail(optarg, 2, 100000, LSE_PROG, "--n"); break;
        case OPT_SUM: sum = (smx_sum_algo_t)smx_cli_choice_or_fail(optarg, sums, LSE_PROG, "--sum"); break;
        case OPT_QUIET: quiet = 1; break;
        default: smx_cli_bad_option_fail(LSE_PROG, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, LSE_PROG);
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/numerics-lse-error.tsv", c.profile == SMX_PROFILE_PAPER ? "paper" : "quick");
    const char *out = c.out ? c.out : defout;
    smx_cli_out_check_or_fail(out, LSE_PROG, "--out"); /* before the work, not after */

    smx_format_t fmt[LSE_NF], f64;
    for (int k = 0; k < LSE_NF; k++) smx_format_get(&fmt[k], lse_formats[k]);
    smx_format_get(&f64, "fp64");
    size_t N = (size_t)n, nrows = (size_t)nvec * LSE_NF * LSE_NA;
    /* memory estimate, dominant arrays only: the result rows (one per vector, format and algorithm) and
     * the class means mu (n x LSE_FEATURES); the five n-vectors are small beside them */
    smx_cli_mem_or_fail((double)nrows * sizeof(lse_row_t) + 8.0 * (double)N * (LSE_FEATURES + 5), "--vectors x --n",
                        LSE_PROG);
    lse_row_t *rows = malloc(nrows * sizeof *rows);
    double *x0 = malloc(N * sizeof *x0), *x = malloc(N * sizeof *x), *e = malloc(N * sizeof *e),
           *y = malloc(N * sizeof *y), *mu = malloc(N * LSE_FEATURES * sizeof *mu);
    if (!rows || !x0 || !x || !e || !y || !mu)
        smx_cli_die(SMX_EXIT_NOMEM, LSE_PROG, "out of memory (%zu result rows of %zu bytes)", nrows, sizeof *rows);
    gsl_rng *r = smx_rng_alloc(c.seed);
    for (size_t k = 0; k < N * LSE_FEATURES; k++) mu[k] = gsl_ran_gaussian(r, 1.0);
    long ovf[LSE_NF][LSE_NA] = {{0}}, above[LSE_NF][LSE_NA][2] = {{{0}}};
    double worst[LSE_NF][LSE_NA][2] = {{{0}}}, spread_sum = 0, max_sum = 0;
    smx_progress_t pr;
    smx_progress_start(&pr, "lse-error", (double)nvec, quiet);
    for (long v = 0; v < nvec; v++) {
        lse_gen_scores(x0, N, mu, r);
        double a = x0[0], b = x0[0];
        for (size_t i = 1; i < N; i++) { a = fmax(a, x0[i]); b = fmin(b, x0[i]); }
        spread_sum += a - b;
        max_sum += a;
        for (int k = 0; k < LSE_NF; k++) {
            double l;
            for (size_t i = 0; i < N; i++) x[i] = smx_format_round(x0[i], &fmt[k]);
            /* exact values of the rounded vector: the correctly rounded fp64 reference */
            if (smx_lse(&l, x, N, SMX_LSE_REFERENCE, SMX_SUM_NAIVE, &f64) ||
                smx_softmax(e, x, N, SMX_LSE_REFERENCE, SMX_SUM_NAIVE, &f64)) {
                fprintf(stderr, "%s: reference failed\n", LSE_PROG);
                return 1;
            }
            for (int j = 0; j < LSE_NA; j++) {
                lse_row_t *row = &rows[((size_t)v * LSE_NF + k) * LSE_NA + j];
                lse_measure(row, x, N, l, e, lse_algos[j], sum, &fmt[k], y);
                if (isinf(row->err_lse)) ovf[k][j]++;
                double er[2] = {row->err_lse, row->err_sm}, bd[2] = {row->bound_lse, row->bound_sm};
                for (int w = 0; w < 2; w++)
                    if (isfinite(er[w])) {
                        worst[k][j][w] = fmax(worst[k][j][w], er[w] / bd[w]);
                        above[k][j][w] += er[w] > bd[w];
                    }
            }
        }
        smx_progress_update(&pr, (double)(v + 1));
    }
    smx_progress_finish(&pr);

    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(LSE_PROG, "--out: cannot write", out);
    smx_tsv_meta_std(t, LSE_PROG, argc, argv);
    smx_cli_meta(t, &c);
    smx_tsv_meta(t, "vectors", "%ld", nvec);
    smx_tsv_meta(t, "n", "%ld", n);
    smx_tsv_meta(t, "sum", "%s (online / two-pass: %s)", smx_sum_algo_name(sum),
                 sum == SMX_SUM_COMPENSATED ? "naive" : smx_sum_algo_name(sum));
    smx_tsv_meta(t, "data", "SYNTHETIC score vectors (no MNIST): logits 14 - 0.35 |z - mu_k|^2 of a nearest-class-mean "
                            "classifier, z = mu_c + 0.8 g, d = 20, mu, g ~ N(0, I), rounded to fp32; mean max %.2f, "
                            "mean spread max-min %.2f",
                 max_sum / (double)nvec, spread_sum / (double)nvec);
    smx_tsv_meta(t, "err_u", "lse: |lse^ - lse| / (u |lse|); softmax: max_i |y^_i - y_i| / (u max_i y_i) (BHH); "
                             "inf = overflow / non-finite result");
    smx_tsv_meta(t, "bound", "leading-order bound of lse.h (ours, exact for the algorithm as implemented)");
    smx_tsv_meta(t, "bound_bhh", "BHH script expressions: basic lse 1+(n+1)/|y|, shifted lse |y+n-xmin|/|y|, "
                                 "basic softmax n+3, shifted softmax n+2+2(xmax-xmin)");
    smx_tsv_meta(t, "paper_overflow_fp16_basic", "475/2500");
    smx_tsv_meta(t, "paper_overflow_fp16_shifted", "0/2500");
    for (int k = 0; k < LSE_NF; k++)
        for (int j = 0; j < LSE_NA; j++) {
            char key[96];
            snprintf(key, sizeof key, "overflow_%s_%s", lse_formats[k], smx_lse_algo_name(lse_algos[j]));
            smx_tsv_meta(t, key, "%ld/%ld", ovf[k][j], nvec);
            for (int w = 0; w < 2; w++) {
                snprintf(key, sizeof key, "above_bound_%s_%s_%s", lse_formats[k], smx_lse_algo_name(lse_algos[j]),
                         w ? "softmax" : "lse");
                smx_tsv_meta(t, key, "%ld (max err/bound %.3f)", above[k][j][w], worst[k][j][w]);
            }
        }
    smx_tsv_header(t, "vector\tformat\talgo\tfunction\terr_u\tbound\tbound_bhh");
    for (long v = 0; v < nvec; v++)
        for (int k = 0; k < LSE_NF; k++)
            for (int j = 0; j < LSE_NA; j++) {
                const lse_row_t *row = &rows[((size_t)v * LSE_NF + k) * LSE_NA + j];
                for (int w = 0; w < 2; w++) {
                    smx_tsv_int(t, v);
                    smx_tsv_str(t, lse_formats[k]);
                    smx_tsv_str(t, smx_lse_algo_name(lse_algos[j]));
                    smx_tsv_str(t, w ? "softmax" : "lse");
                    smx_tsv_num(t, w ? row->err_sm : row->err_lse);
                    smx_tsv_num(t, w ? row->bound_sm : row->bound_lse);
                    smx_tsv_num(t, w ? row->bhh_sm : row->bhh_lse);
                    smx_tsv_endrow(t);
                }
            }
    int st = smx_tsv_close(t), st_errno = errno;
    if (!quiet) fprintf(stderr, "%s: fp16 overflows (lse not finite) of %ld vectors:", LSE_PROG, nvec);
    for (int j = 0; j < LSE_NA && !quiet; j++) fprintf(stderr, " %s %ld", smx_lse_algo_name(lse_algos[j]), ovf[0][j]);
    if (!quiet) fprintf(stderr, " (paper: basic 475/2500, shifted 0)\n");
    for (int k = 0; k < LSE_NF && !quiet; k++)
        for (int j = 0; j < LSE_NA; j++)
            fprintf(stderr, "%s: %s %-9s max err/bound: lse %.3f, softmax %.3f; above bound: %ld, %ld\n", LSE_PROG,
                    lse_formats[k], smx_lse_algo_name(lse_algos[j]), worst[k][j][0], worst[k][j][1], above[k][j][0],
                    above[k][j][1]);
    gsl_rng_free(r);
    free(rows);
    free(x0);
    free(x);
    free(e);
    free(y);
    free(mu);
    if (st) {
        errno = st_errno;
        smx_cli_io_fail(LSE_PROG, "--out: cannot write", out);
    }
    return 0;
}
