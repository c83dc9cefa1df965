/* bottleneck_bench.c - smx-bottleneck bench: the SVD of the 1200 x 1000 recovery matrix (LAPACKE dgesdd vs
 * GSL Golub-Reinsch, same matrix, same run) and LPs per second of the unargmaxable sweep at V = 10000 with
 * and without the approximate pass (issue 15, "Speed"). Timings on stdout (this command writes no data). */
#include "bottleneck_cmds.h"
#include "lp.h"
#include "smx.h"
#include "svd.h"
#include "rng.h"
#include "machine.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char prog[] = "smx-bottleneck bench";
static const char usage[] = "Usage: smx-bottleneck bench [--classes K] [--seed N]\n"
                            "SVD of the N = 1200, V = 1000, d = 100 + bias clr matrix with LAPACK and GSL; the\n"
                            "first K classes (default 200) of a V = 10000, d = 10 N(0,1) head with bias through the full\n"
                            "LP (K / 4 classes), the LP by constraint generation, and the approximate pass (patience 5,\n"
                            "50) + constraint generation. Single-threaded; timings on stdout (--out does not apply).\n"
                            "  --quiet (accepted; no progress is printed) --help --version\n";

int bottleneck_cmd_bench(int argc, char **argv)
{
    static const struct option lopts[] = {{"classes", required_argument, 0, SMX_OPT_FIRST_PRIVATE},
                                          BOTTLENECK_COMMON_OPTIONS, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    long K = 200;
    int quiet = 0;
    int opt;
    optind = 1, opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == SMX_OPT_FIRST_PRIVATE) K = smx_cli_long_or_fail(optarg, 1, 10000, prog, "--classes");
        else smx_cli_common_or_quiet(&c, &quiet, opt, optarg, prog, usage, argc, argv);
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    if (c.out) smx_cli_fail(prog, "--out: does not apply to bench (it writes no data; timings go to stdout)");
    bottleneck_threads(1);
    /* SVD */
    const size_t N = 1200, V = 1000, d = 100;
    double *H = malloc(N * d * sizeof *H), *W = malloc(V * d * sizeof *W), *b = malloc(V * sizeof *b);
    double *L = malloc(N * V * sizeof *L), *s1 = malloc(V * sizeof *s1), *s2 = malloc(V * sizeof *s2);
    gsl_rng *r = smx_rng_alloc(c.seed);
    bottleneck_model_gen(H, W, b, r, N, V, d, BOTTLENECK_HEAD_FLAT, 1);
    bottleneck_logprobs(L, H, W, b, N, V, d);
    bottleneck_clr(L, L, N, V);
    double t0 = smx_time_now();
    smx_svd_values(s1, L, N, V, SMX_SVD_LAPACK);
    double t1 = smx_time_now();
    smx_svd_values(s2, L, N, V, SMX_SVD_GSL);
    double t2 = smx_time_now(), dmax = 0;
    for (size_t i = 0; i < 101; i++) dmax = fmax(dmax, fabs(s1[i] - s2[i]) / s1[i]);
    printf("svd 1200x1000 values: lapack dgesdd %.3f s, gsl golub-reinsch %.3f s (x%.1f); max rel diff of sigma_1..101 "
           "%.2g; gap at 101: %.2f / %.2f decades\n", t1 - t0, t2 - t1, (t2 - t1) / (t1 - t0), dmax,
           bottleneck_gap_at(s1, V, 101), bottleneck_gap_at(s2, V, 101));
    free(H), free(W), free(b), free(L), free(s1), free(s2);
    /* LPs */
    const size_t V2 = 10000, d2 = 10;
    double *W2 = malloc(V2 * d2 * sizeof *W2), *b2 = malloc(V2 * sizeof *b2), x[16];
    for (size_t j = 0; j < V2 * d2; j++) W2[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
    for (size_t j = 0; j < V2; j++) b2[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
    smx_lp_cheb_t *lp = smx_lp_cheb_alloc(V2, d2);
    /* full LP (every constraint; the first K / 4 classes only: slow), constraint generation, and constraint
     * generation after the approximate pass (patience 5, the argmax default, and 50) */
    static const struct { int full, patience; const char *name; } mode[] = {
        {1, -1, "full LP"}, {0, -1, "constraint generation"}, {0, 5, "approx (patience 5) + constraint generation"},
        {0, 50, "approx (patience 50) + constraint generation"}};
    for (int m = 0; m < 4; m++) {
        size_t nlp = 0, un = 0, rows = 0, rounds = 0, nk = mode[m].full ? (size_t)(K + 3) / 4 : (size_t)K;
        smx_lp_cheb_set_full(lp, mode[m].full);
        t0 = smx_time_now();
        for (size_t i = 0; i < nk; i++) {
            if (mode[m].patience >= 0 && bottleneck_argmax_approx(x, W2, b2, V2, d2, i, mode[m].patience)) continue;
            smx_lp_cheb_result_t q;
            smx_lp_cheb_solve(&q, NULL, lp, W2, b2, V2, d2, i, 100, 1e-6);
            nlp++, un += !q.argmaxable, rows += smx_lp_cheb_rows(lp), rounds += smx_lp_cheb_rounds(lp);
        }
        t1 = smx_time_now();
        printf("argmax V=10000 d=10 bias, %zu classes, %s: %zu LPs (mean %.1f rows, %.1f solves), %zu unargmaxable, "
               "%.2f s (%.1f classes/s, %.1f LPs/s)\n", nk, mode[m].name, nlp, nlp ? (double)rows / (double)nlp : 0.0,
               nlp ? (double)rounds / (double)nlp : 0.0, un, t1 - t0, (double)nk / (t1 - t0), (double)nlp / (t1 - t0));
    }
    smx_lp_cheb_free(lp);
    smx_lp_thread_done();
    free(W2), free(b2);
    gsl_rng_free(r);
    return 0;
}
