/* bench_mpfr.c - smx-bench mpfr: the cost of the MPFR softmax (numerics/lse.h,
 * smx_softmax_mpfr) against the precision p, 2..4096 bits: the shifted three-pass algorithm with
 * every operation rounded to p bits (emulation) and the correctly rounded reference (Ziv loop at
 * p + 64 + log2 n bits). Time per element = median of --reps runs / n. The growth is fitted as
 * time ~ C p^b by least squares on log t vs log p over p >= --fit-from (default 256; below it the
 * constant overheads dominate); b in the metadata and on stdout. Inputs x_i = 4 N(0,1) + 2.385. */
#include "bench_cmds.h"
#include "cli.h"
#include "format.h"
#include "lse.h"
#include "smx.h"
#include "tsv.h"
#include "rng.h"
#include "machine.h"

#include <gsl/gsl_fit.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MUSAGE[] =
    "usage: smx-bench mpfr [options]\n"
    "  --ps LIST      precisions in bits (default 2,4,8,16,24,32,53,64,113,128,256,512,1024,2048,4096)\n"
    "  --n N          vector length (default 200 quick, 2000 paper)\n"
    "  --reps R       repetitions, the median is reported (default 3 quick, 7 paper)\n"
    "  --fit-from P   smallest p of the power-law fit (default 256)\n"
    "  --seed S       inputs' seed (default 1)   --threads T (accepted; single-threaded)\n"
    "  --profile P    quick | paper   --out FILE (default data/bench/bench-mpfr.tsv)\n"
    "  --quiet        no progress on stderr\n"
    "Rows: algo p n ns_per_elem.\n";


int bench_cmd_mpfr(int argc, char **argv)
{
    const char *PROG = "smx-bench mpfr";
    enum { OPT_PS = SMX_OPT_FIRST_PRIVATE, OPT_N, OPT_REPS, OPT_FIT };
    static const struct option opts[] = {BENCH_COMMON_OPTIONS,
                                         {"ps", required_argument, 0, OPT_PS},
                                         {"n", required_argument, 0, OPT_N},
                                         {"reps", required_argument, 0, OPT_REPS},
                                         {"fit-from", required_argument, 0, OPT_FIT},
                                         {0, 0, 0, 0}};
    smx_cli_common_t c;
    int quiet;
    bench_opt_begin(&c, &quiet);
    double ps[64] = {2, 4, 8, 16, 24, 32, 53, 64, 113, 128, 256, 512, 1024, 2048, 4096};
    size_t np = 15;
    long n = -1, reps = -1, fit_from = 256;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case OPT_PS:
            np = smx_cli_doubles_or_fail(ps, 64, optarg, SMX_FORMAT_PMIN, SMX_FORMAT_PMAX, PROG, "--ps");
            for (size_t k = 0; k < np; k++)
                if (ps[k] != floor(ps[k])) smx_cli_fail(PROG, "--ps: '%g' is not an integer", ps[k]);
            break;
        case OPT_N: n = smx_cli_long_or_fail(optarg, 1, 10000000, PROG, "--n"); break;
        case OPT_REPS: reps = smx_cli_long_or_fail(optarg, 1, 1001, PROG, "--reps"); break;
        case OPT_FIT: fit_from = smx_cli_long_or_fail(optarg, 2, 4096, PROG, "--fit-from"); break;
        default: smx_cli_common_or_quiet(&c, &quiet, o, optarg, PROG, MUSAGE, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, PROG);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (n < 0) n = paper ? 2000 : 200;
    if (reps < 0) reps = paper ? 7 : 3;
    const char *out = c.out ? c.out : "data/bench/bench-mpfr.tsv";
    smx_cli_out_check_or_fail(out, PROG, "--out"); /* before the work (issue 9) */

    size_t N = (size_t)n;
    double *xd = malloc(N * sizeof(double)), *ts = malloc((size_t)reps * sizeof(double));
    double res[2][64];
    gsl_rng *r = smx_rng_alloc(c.seed);
    for (size_t i = 0; i < N; i++) xd[i] = 4 * gsl_ran_ugaussian(r) + 2.385;
    gsl_rng_free(r);
    static const smx_lse_algo_t algos[2] = {SMX_LSE_SHIFTED, SMX_LSE_REFERENCE};
    for (size_t k = 0; k < np; k++) {
        smx_format_t f;
        smx_format_pN(&f, (int)ps[k]);
        mpfr_t *x = malloc(N * sizeof(mpfr_t)), *y = malloc(N * sizeof(mpfr_t));
        for (size_t i = 0; i < N; i++) {
            mpfr_init2(x[i], 64);
            mpfr_set_d(x[i], xd[i], MPFR_RNDN);
            mpfr_init2(y[i], f.p);
        }
        for (int a = 0; a < 2; a++) {
            for (long rep = 0; rep < reps; rep++) {
                double t0 = smx_time_now();
                int st = smx_softmax_mpfr(y, x, N, algos[a], SMX_SUM_NAIVE, &f);
                ts[rep] = smx_time_now() - t0;
                if (st) {
                    fprintf(stderr, "%s: smx_softmax_mpfr failed at p = %g: %s\n", PROG, ps[k], smx_strerror(st));
                    return 1;
                }
            }
            res[a][k] = smx_time_median(ts, (size_t)reps) / (double)N * 1e9;
        }
        for (size_t i = 0; i < N; i++) { mpfr_clear(x[i]); mpfr_clear(y[i]); }
        free(x);
        free(y);
        if (!quiet) fprintf(stderr, "%s: p = %g: %.4g ns/element (shifted), %.4g (reference)\n", PROG, ps[k], res[0][k], res[1][k]);
    }
    /* fit log t = log C + b log p over p >= fit_from */
    double slope[2] = {NAN, NAN};
    for (int a = 0; a < 2; a++) {
        double lx[64], ly[64];
        size_t m = 0;
        for (size_t k = 0; k < np; k++)
            if (ps[k] >= (double)fit_from) { lx[m] = log(ps[k]); ly[m] = log(res[a][k]); m++; }
        double c0, c1, v00, v01, v11, ss;
        if (m >= 2 && !gsl_fit_linear(lx, 1, ly, 1, m, &c0, &c1, &v00, &v01, &v11, &ss)) slope[a] = c1;
    }
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", out);
    smx_tsv_meta_std(t, PROG, argc, argv);
    smx_cli_meta(t, &c);
    bench_meta_machine(t);
    smx_tsv_meta(t, "options", "n %ld, reps %ld, fit-from %ld", n, reps, fit_from);
    smx_tsv_meta(t, "fit", "time per element ~ p^b for p >= %ld: b = %.3f (shifted), %.3f (reference)", fit_from,
                 slope[0], slope[1]);
    smx_tsv_meta(t, "expected", "MPFR exp costs about M(p) log p or M(p) sqrt(p) (M(p) = multiplication, "
                                "~p^1.58 Karatsuba ... p log p FFT): b between about 1 and 2 in this range");
    smx_tsv_header(t, "algo\tp\tn\tns_per_elem");
    for (int a = 0; a < 2; a++)
        for (size_t k = 0; k < np; k++) {
            smx_tsv_str(t, smx_lse_algo_name(algos[a]));
            smx_tsv_int(t, (long long)ps[k]);
            smx_tsv_int(t, n);
            smx_tsv_num(t, res[a][k]);
            smx_tsv_endrow(t);
        }
    free(xd);
    free(ts);
    long p53 = -1;
    for (size_t k = 0; k < np; k++)
        if (ps[k] == 53) p53 = (long)k;
    if (smx_tsv_close(t)) smx_cli_io_fail(PROG, "--out: cannot write", out);
    printf("bench-mpfr: n = %ld, softmax time per element ~ p^%.2f (shifted), p^%.2f (reference) for p >= %ld; "
           "p = 53: %.3g ns, p = %g: %.3g ns (reference)\n",
           n, slope[0], slope[1], fit_from, p53 >= 0 ? res[1][p53] : NAN, ps[np - 1], res[1][np - 1]);
    return 0;
}
