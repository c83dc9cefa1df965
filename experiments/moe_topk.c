/* moe_topk.c - smx-moe topk: top-K sparse softmax gate, paper (b) (issue 13 part 3): fits over log-spaced
 * n x replications of k experts with a top-K gate on paper (a)'s truth. No public code exists; every choice
 * is ours and stated in --help and in the metadata. Model and EM: solvers/moe_topk.{h,c}. */
#include "moe_cmds.h"
#include "moe_topk.h"

#include <gsl/gsl_randist.h>
#include "smx.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static const char topk_usage[] =
    "Usage: smx-moe topk [OPTIONS]\n"
    "Top-K sparse softmax gate, paper (b) (Nguyen et al., ICLR 2024): pi_i(x) = softmax over the K largest\n"
    "logits beta0_l + beta1_l x, exactly 0 outside them. Fits over log-spaced n x replications, one TSV row\n"
    "per (n, rep). No public code exists; our choices:\n"
    "  truth: paper (a)'s (k* = 2), x ~ U(0,1), data drawn with the top-min(K, k*) gate (K = 1: the expert\n"
    "    with the larger logit; K >= 2: the dense gate).\n"
    "  EM: experts on the top-K posteriors; gate by the Newton/IRLS step on the DENSE-softmax posteriors\n"
    "    (the top-K objective is non-smooth, and for K = 1 its posteriors are 0/1: zero gradient); the\n"
    "    top-K set is recomputed at every E-step. Init: paper (a)'s near-truth rule, 1 restart.\n"
    "  loss: D1 (k = k*) / D2 (k > k*) of paper (a), minimised over the gate translation.\n"
    "  --k K --topk K        fitted experts and K (defaults 2 and 1; K <= k)\n"
    "  --nmin N --nmax N --points P --reps R   log-spaced grid (quick: 1e2..5e4, 8 points, 8 reps)\n"
    "  --max-iter N (default 2000)   --tol X (1e-6)   --rbar R (cells of >= 4 members)\n"
    "  --seed N --out FILE (default data/PROFILE/moe-topk.tsv) --profile quick|paper --threads N --help --version\n";

typedef struct {
    double loglik, D;
    int iterations, converged, status;
} mres_t;

/* draw n points from m with the top-K gate */
static void topk_sample(double *x, double *y, const smx_moe_t *m, size_t K, size_t n, gsl_rng *r)
{
    double lp[64];
    for (size_t j = 0; j < n; j++) {
        x[j] = gsl_rng_uniform(r);
        smx_moe_topk_log_gate(lp, m, K, x + j);
        double u = gsl_rng_uniform(r), acc = 0;
        size_t z = m->k - 1;
        for (size_t i = 0; i < m->k; i++)
            if (u < (acc += exp(lp[i]))) {
                z = i;
                break;
            }
        y[j] = m->b[z] + m->a[z] * x[j] + gsl_ran_gaussian_ziggurat(r, sqrt(m->var[z]));
    }
}

int moe_cmd_topk(int argc, char **argv)
{
    const char *what = MOE_PROG " topk";
    enum { O_GATE = MOE_O_FIRST_CMD, O_NMIN, O_NMAX, O_POINTS, O_REPS };
    static const struct option lopts[] = {
        SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, {"topk", required_argument, 0, O_GATE},
        {"nmin", required_argument, 0, O_NMIN}, {"nmax", required_argument, 0, O_NMAX},
        {"points", required_argument, 0, O_POINTS}, {"reps", required_argument, 0, O_REPS}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    moe_cfg_t cfg;
    moe_cfg_init(&cfg);
    int opt;
    long K = 1;
    long nmin = 100, nmax = -1, points = -1, reps = -1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == '?') smx_cli_fail(what, "bad option (see --help)");
        if (smx_cli_common(&c, opt, optarg, what, topk_usage)) continue;
        switch (opt) {
        case O_GATE: K = smx_cli_long_or_fail(optarg, 1, 64, what, "--topk"); continue;
        case O_NMIN: nmin = smx_cli_long_or_fail(optarg, 10, 100000000, what, "--nmin"); continue;
        case O_NMAX: nmax = smx_cli_long_or_fail(optarg, 10, 100000000, what, "--nmax"); continue;
        case O_POINTS: points = smx_cli_long_or_fail(optarg, 1, 10000, what, "--points"); continue;
        case O_REPS: reps = smx_cli_long_or_fail(optarg, 1, 100000, what, "--reps"); continue;
        case MOE_O_K: case MOE_O_RBAR: case MOE_O_MAXIT: case MOE_O_TOL: moe_cfg_option(&cfg, opt, optarg, "topk"); continue;
        }
        const char *name = "?";
        for (const struct option *l = lopts; l->name; l++)
            if (l->val == opt) name = l->name;
        smx_cli_fail(what, "--%s: not an option of topk (see --help)", name);
    }
    smx_cli_no_positional(argc, argv, optind, what);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (nmax < 0) nmax = paper ? 100000 : 50000;
    if (points < 0) points = paper ? 20 : 8;
    if (reps < 0) reps = paper ? 40 : 8;
    if (nmax < nmin) smx_cli_fail(what, "--nmax: %ld is below --nmin %ld", nmax, nmin);
    smx_moe_paper_truth(&cfg.truth);
    if (!cfg.k_given) cfg.k = 2;
    if (cfg.k < 2) smx_cli_fail(what, "--k: %zu is below the truth's k* = 2", cfg.k);
    if ((size_t)K > cfg.k) smx_cli_fail(what, "--topk: %ld exceeds --k %zu", K, cfg.k);
    size_t Kt = (size_t)K < cfg.truth.k ? (size_t)K : cfg.truth.k, k = cfg.k;
    cfg.design = SMX_MOE_DESIGN_UNIFORM;
    cfg.restarts = 1;
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-topk.tsv", smx_cli_profile_name(c.profile));
    const char *out = c.out ? c.out : defout;
    long *ns = malloc((size_t)points * sizeof *ns);
    mres_t *res = calloc((size_t)(points * reps), sizeof *res);
    if (!ns || !res) smx_cli_fail(what, "out of memory");
    moe_grid_log(ns, points, nmin, nmax);
    size_t ntask = (size_t)(points * reps);
    int fail = 0;
    double t0 = smx_time_now();
#ifdef _OPENMP
    if (c.threads > 0) omp_set_num_threads(c.threads);
#endif
#pragma omp parallel
    {
        size_t nm = (size_t)nmax;
        double *x = malloc(nm * sizeof *x), *y = malloc(nm * sizeof *y);
        smx_moe_em_t *w = smx_moe_em_alloc(nm, k, 1);
        smx_moe_t fit;
        int bad = !x || !y || !w || smx_moe_alloc(&fit, k, 1);
#pragma omp for schedule(dynamic, 1)
        for (size_t q = 0; q < ntask; q++) {
            if (bad) {
#pragma omp atomic write
                fail = 1;
                continue;
            }
            long n = ns[q / (size_t)reps], rep = (long)(q % (size_t)reps);
            unsigned long seed = moe_task_seed(c.seed, n, rep);
            gsl_rng *rd = smx_rng_alloc(seed), *ri = smx_rng_alloc_stream(seed, 1);
            mres_t *g = res + q;
            topk_sample(x, y, &cfg.truth, Kt, (size_t)n, rd);
            smx_moe_init_near(&fit, &cfg.truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
            smx_moe_em_result_t er;
            if (smx_moe_topk_em(&er, NULL, &fit, (size_t)K, w, x, y, (size_t)n, &cfg.em)) {
#pragma omp atomic write
                fail = 1;
            }
            smx_moe_voronoi_t v;
            g->status = smx_moe_voronoi_min(&v, &cfg.truth, &fit, cfg.rbar_big);
            g->loglik = er.loglik, g->iterations = er.iterations, g->converged = er.converged;
            g->D = g->status ? NAN : v.D;
            gsl_rng_free(rd);
            gsl_rng_free(ri);
        }
        free(x);
        free(y);
        smx_moe_em_free(w);
        if (!bad) smx_moe_free(&fit);
    }
    if (fail) smx_cli_fail(what, "out of memory or bad sizes");
    fprintf(stderr, "%s: %zu fits in %.2f s\n", what, ntask, smx_time_now() - t0);
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, &c);
    smx_tsv_meta(t, "topk", "%ld", K);
    smx_tsv_meta(t, "model", "top-K sparse softmax gate, exactly 0 outside the K largest logits (paper (b); no "
                             "public code: choices ours); data drawn with the top-%zu gate", Kt);
    smx_tsv_meta(t, "nmin", "%ld", nmin);
    smx_tsv_meta(t, "nmax", "%ld", nmax);
    smx_tsv_meta(t, "points", "%ld", points);
    smx_tsv_meta(t, "reps", "%ld", reps);
    moe_cfg_meta(t, &cfg);
    smx_tsv_meta(t, "gate_mstep", "Newton/IRLS on the dense-softmax posteriors; experts on the top-K posteriors");
    smx_tsv_meta(t, "loss", "D1 (k = k*) / D2 (k > k*) of paper (a), minimised over the gate translation");
    smx_tsv_meta(t, "theory", "density parametric; exact-fitted parameter rates n^-1/2; over-specified slower (paper (b))");
    smx_tsv_header(t, "n\trep\tseed\tk\tK\tloglik\titerations\tconverged\tD");
    for (size_t q = 0; q < ntask; q++) {
        const mres_t *g = res + q;
        long n = ns[q / (size_t)reps], rep = (long)(q % (size_t)reps);
        smx_tsv_int(t, n);
        smx_tsv_int(t, rep);
        smx_tsv_int(t, (long long)moe_task_seed(c.seed, n, rep));
        smx_tsv_int(t, (long long)k);
        smx_tsv_int(t, K);
        smx_tsv_num(t, g->loglik);
        smx_tsv_int(t, g->iterations);
        smx_tsv_int(t, g->converged);
        smx_tsv_num(t, g->D);
        smx_tsv_endrow(t);
    }
    if (smx_tsv_close(t)) smx_cli_io_fail(what, "--out: cannot write", out);
    free(ns);
    free(res);
    moe_cfg_free(&cfg);
    return 0;
}
