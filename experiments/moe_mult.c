/* moe_mult.c - smx-moe multinomial: softmax-gated mixture of logistic experts, paper (d) (issue 13
 * part 3): softmax gate vs modified gate (input transformed by tanh first), exact-fitted k = k* = 2,
 * fits over log-spaced n x replications. No public code exists; every choice is ours and stated in
 * --help and in the metadata. Model and EM: solvers/moe_mult.{h,c}. */
#include "moe_cmds.h"
#include "moe_mult.h"
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

static const char mult_usage[] =
    "Usage: smx-moe multinomial [OPTIONS]\n"
    "Exact-fitted (k = k* = 2) softmax-gated mixture of multinomial-logistic experts, paper (d) (Nguyen, Nguyen,\n"
    "Ho, ICML 2024): P(y|x) = sum_i softmax_i(beta1_i M(x) + beta0_i) softmax_y(0, a_i x + b_i), y in {0, 1}.\n"
    "Fits over log-spaced n x replications; one TSV row per (n, rep). No public code exists; our choices:\n"
    "  classes: S = 2 (class 0 the reference; S > 2 not implemented); x ~ U(0,1).\n"
    "  gates: --gate softmax (M(x) = x) or --gate modified (M(x) = tanh(x): the input transformed first).\n"
    "  truth: gate (beta0, beta1) = (-4, 8), (0, 0); experts (b, a) = (-1, 0) (a vanishing expert slope, the\n"
    "    case of (d) where the softmax gate's rates are slower than polynomial) and (3, -6).\n"
    "  EM: E-step r_ij ~ pi_i P_i(y_j|x_j); experts by weighted logistic Newton (step halving); gate by the\n"
    "    Newton/IRLS gate M-step of `fit` on M(x); stop at |dloglik/loglik| <= tol or --max-iter.\n"
    "  init: paper (a)'s near-truth rule ('intended'); loss: D1 of paper (a) over (beta1, a, b), no translation.\n"
    "  --gate softmax|modified  (default softmax)\n"
    "  --nmin N --nmax N --points P --reps R   log-spaced grid (quick: 1e2..5e4, 8 points, 8 reps;\n"
    "                        paper: 1e2..1e5, 20 points, 40 reps)\n"
    "  --max-iter N (default 2000)   --tol X (1e-6)\n"
    "  --seed N --out FILE (default data/PROFILE/moe-mult.tsv) --profile quick|paper --threads N --help --version\n";

static const char *const MGATES[] = {"softmax", "modified", NULL};

typedef struct {
    double loglik, D, err[3]; /* max over cells of |dbeta1|, |da|, |db| */
    int iterations, converged;
} mres_t;

/* the truth of `multinomial` (see usage) */

static void moe_mult_truth(smx_moe_t *m)
{
    smx_moe_alloc(m, 2, 1);
    m->beta0[0] = -4, m->beta1[0] = 8, m->b[0] = -1, m->a[0] = 0, m->var[0] = 1;
    m->beta0[1] = 0, m->beta1[1] = 0, m->b[1] = 3, m->a[1] = -6, m->var[1] = 1;
}

int moe_cmd_multinomial(int argc, char **argv)
{
    const char *what = MOE_PROG " multinomial";
    enum { O_GATE = MOE_O_FIRST_CMD, O_NMIN, O_NMAX, O_POINTS, O_REPS };
    static const struct option lopts[] = {
        SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, {"gate", required_argument, 0, O_GATE},
        {"nmin", required_argument, 0, O_NMIN}, {"nmax", required_argument, 0, O_NMAX},
        {"points", required_argument, 0, O_POINTS}, {"reps", required_argument, 0, O_REPS}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    moe_cfg_t cfg;
    moe_cfg_init(&cfg);
    int gate = 0, opt;
    long nmin = 100, nmax = -1, points = -1, reps = -1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == '?') smx_cli_fail(what, "bad option (see --help)");
        if (smx_cli_common(&c, opt, optarg, what, mult_usage)) continue;
        switch (opt) {
        case O_GATE: gate = smx_cli_choice_or_fail(optarg, MGATES, what, "--gate"); continue;
        case O_NMIN: nmin = smx_cli_long_or_fail(optarg, 10, 100000000, what, "--nmin"); continue;
        case O_NMAX: nmax = smx_cli_long_or_fail(optarg, 10, 100000000, what, "--nmax"); continue;
        case O_POINTS: points = smx_cli_long_or_fail(optarg, 1, 10000, what, "--points"); continue;
        case O_REPS: reps = smx_cli_long_or_fail(optarg, 1, 100000, what, "--reps"); continue;
        case MOE_O_MAXIT: case MOE_O_TOL: moe_cfg_option(&cfg, opt, optarg, "multinomial"); continue;
        }
        const char *name = "?";
        for (const struct option *l = lopts; l->name; l++)
            if (l->val == opt) name = l->name;
        smx_cli_fail(what, "--%s: not an option of multinomial (see --help)", name);
    }
    smx_cli_no_positional(argc, argv, optind, what);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (nmax < 0) nmax = paper ? 100000 : 50000;
    if (points < 0) points = paper ? 20 : 8;
    if (reps < 0) reps = paper ? 40 : 8;
    if (nmax < nmin) smx_cli_fail(what, "--nmax: %ld is below --nmin %ld", nmax, nmin);
    moe_mult_truth(&cfg.truth);
    cfg.k = 2;
    cfg.design = SMX_MOE_DESIGN_UNIFORM;
    cfg.restarts = 1;
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-mult.tsv", smx_cli_profile_name(c.profile));
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
        double *x = malloc(nm * sizeof *x), *gx = malloc(nm * sizeof *gx), *y = malloc(nm * sizeof *y);
        smx_moe_em_t *w = smx_moe_em_alloc(nm, 2, 1);
        smx_moe_t fit;
        int bad = !x || !gx || !y || !w || smx_moe_alloc(&fit, 2, 1);
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
            smx_moe_mult_sample(x, y, &cfg.truth, (smx_moe_mgate_t)gate, (size_t)n, rd);
            smx_moe_mult_gate_input(gx, x, (size_t)n, 1, (smx_moe_mgate_t)gate);
            smx_moe_init_near(&fit, &cfg.truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
            fit.var[0] = fit.var[1] = 1; /* unused by logistic experts */
            smx_moe_em_result_t er;
            if (smx_moe_mult_em(&er, NULL, &fit, w, x, gx, y, (size_t)n, &cfg.em)) {
#pragma omp atomic write
                fail = 1;
            }
            smx_moe_voronoi_t v;
            double zero[2] = {0, 0};
            smx_moe_voronoi(&v, &cfg.truth, &fit, zero, 0);
            g->loglik = er.loglik, g->iterations = er.iterations, g->converged = er.converged, g->D = v.D;
            for (int e = 0; e < 3; e++) {
                double mx = 0;
                for (size_t j = 0; j < 2; j++)
                    if (isfinite(v.err[j][e]) && v.err[j][e] > mx) mx = v.err[j][e];
                g->err[e] = mx;
            }
            gsl_rng_free(rd);
            gsl_rng_free(ri);
        }
        free(x);
        free(gx);
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
    smx_tsv_meta(t, "gate", "%s", MGATES[gate]);
    smx_tsv_meta(t, "model", "P(y|x) = sum_i softmax_i(beta1_i M(x) + beta0_i) softmax_y(0, a_i x + b_i), S = 2, "
                             "M(x) = %s (paper (d); no public code: choices ours)", gate ? "tanh(x)" : "x");
    smx_tsv_meta(t, "nmin", "%ld", nmin);
    smx_tsv_meta(t, "nmax", "%ld", nmax);
    smx_tsv_meta(t, "points", "%ld", points);
    smx_tsv_meta(t, "reps", "%ld", reps);
    moe_cfg_meta(t, &cfg);
    smx_tsv_meta(t, "expert_mstep", "weighted logistic regression by Newton with step halving (var column unused)");
    smx_tsv_meta(t, "loss", "D1 of paper (a) over (beta1, a, b), no translation (the reference gate is fixed)");
    smx_tsv_meta(t, "theory", "softmax gate with a vanishing expert slope: slower than polynomial (paper (d)); "
                              "modified gate: polynomial");
    smx_tsv_header(t, "n\trep\tseed\tgate\tloglik\titerations\tconverged\tD\terr_beta1\terr_a\terr_b");
    for (size_t q = 0; q < ntask; q++) {
        const mres_t *g = res + q;
        long n = ns[q / (size_t)reps], rep = (long)(q % (size_t)reps);
        smx_tsv_int(t, n);
        smx_tsv_int(t, rep);
        smx_tsv_int(t, (long long)moe_task_seed(c.seed, n, rep));
        smx_tsv_str(t, MGATES[gate]);
        smx_tsv_num(t, g->loglik);
        smx_tsv_int(t, g->iterations);
        smx_tsv_int(t, g->converged);
        smx_tsv_num(t, g->D);
        for (int e = 0; e < 3; e++) smx_tsv_num(t, g->err[e]);
        smx_tsv_endrow(t);
    }
    if (smx_tsv_close(t)) smx_cli_io_fail(what, "--out: cannot write", out);
    free(ns);
    free(res);
    moe_cfg_free(&cfg);
    return 0;
}
