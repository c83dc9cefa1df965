/* moe_gates.c - smx-moe gates: gating variants of paper (c) (issue 13 part 3): the dense-to-sparse
 * temperature gate softmax((beta1.x)/tau + beta0) with tau estimated vs the activation gate
 * softmax(act(beta1.x)/tau + beta0), act = tanh | sigmoid. Fits over log-spaced n x replications,
 * exact-fitted k = k* = 2. No public code exists; every choice is ours and stated in --help and in the
 * metadata. Model and EM: solvers/moe_gate.{h,c}. */
#include "moe_cmds.h"
#include "moe_gate.h"
#include "smx.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static const char gates_usage[] =
    "Usage: smx-moe gates [OPTIONS]\n"
    "Exact-fitted (k = k* = 2) Gaussian MoE with a tempered gate, paper (c) (Nguyen, Akbarian, Ho, ICML 2024):\n"
    "  pi_i(x) = softmax_i(act(beta1_i x)/tau + beta0_i), tau shared and estimated; reference expert (0, 0).\n"
    "Fits over log-spaced n x replications; one TSV row per (n, rep). No public code exists; our choices:\n"
    "  truth: beta1* = (2.5, 0), tau* = 0.1 (for the identity act this is paper (a)'s gate 25x - 8),\n"
    "    beta0* = (-8, 0) for identity / tanh and (-3, 0) for sigmoid (so that both experts carry mass);\n"
    "    experts 15-20x, -5+20x, variances 0.09, 0.16 (paper (a)); x ~ U(0,1) or the grid (--design).\n"
    "  EM: E-step with the tempered gate; WLS experts; gate M-step by BFGS over (beta0, beta1, log tau),\n"
    "    <= 30 iterations, accepted only if it does not decrease Q; stop at |dloglik/loglik| <= tol or --max-iter.\n"
    "  init: paper (a)'s near-truth rule for (beta, a, b, var) ('intended'), then tau0 = tau* exp(N(0, s^2))\n"
    "    and beta1_0 multiplied by its own exp(N(0, s^2)), s = --tau-init-sd (default 0.3), independent of n\n"
    "    (a start near (beta1*, tau*) itself would tell the identity gate which point of its ridge is true).\n"
    "    With act = identity only beta1/tau is identifiable: the data fix the ratio, the initialisation\n"
    "    and the optimiser's path fix where on the ridge (beta1, tau) -> (c beta1, c tau) the fit stops,\n"
    "    so |tau - tau*| keeps a part of the initial error.\n"
    "  loss: D1 of paper (a) (no translation: the reference gate is fixed) + |tau - tau*|; the rows also\n"
    "    give |tau - tau*| and the identifiable |beta1/tau - beta1*/tau*| of the non-reference expert.\n"
    "  --gate temperature|activation  identity act (default) or --act\n"
    "  --act tanh|sigmoid    activation of the activation gate (default tanh)\n"
    "  --nmin N --nmax N --points P --reps R   log-spaced grid (quick: 1e2..5e4, 8 points, 8 reps;\n"
    "                        paper: 1e2..1e5, 20 points, 40 reps)\n"
    "  --tau-init-sd S       spread of log tau0 around log tau* (default 0.3)\n"
    "  --design grid|uniform (default uniform)   --max-iter N (default 500)   --tol X (1e-6)\n"
    "  --seed N --out FILE (default data/PROFILE/moe-gates.tsv) --profile quick|paper --threads N --help --version\n";

static const char *const GATES[] = {"temperature", "activation", NULL};
static const char *const ACTS[] = {"tanh", "sigmoid", NULL};
static const char *const ACT_NAMES[] = {"identity", "tanh", "sigmoid"};
static const double TAU_TRUE = 0.1;

typedef struct {
    double loglik, tau, D, err[6]; /* err: beta1, a, b, var (max over the cell), tau, beta1/tau of expert 1 */
    int iterations, converged;
} gres_t;

int moe_cmd_gates(int argc, char **argv)
{
    const char *what = MOE_PROG " gates";
    enum { O_GATE = MOE_O_FIRST_CMD, O_ACT, O_NMIN, O_NMAX, O_POINTS, O_REPS, O_TAUSD };
    static const struct option lopts[] = {
        SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, {"gate", required_argument, 0, O_GATE},
        {"act", required_argument, 0, O_ACT}, {"nmin", required_argument, 0, O_NMIN},
        {"nmax", required_argument, 0, O_NMAX}, {"points", required_argument, 0, O_POINTS},
        {"reps", required_argument, 0, O_REPS}, {"tau-init-sd", required_argument, 0, O_TAUSD}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    moe_cfg_t cfg;
    moe_cfg_init(&cfg);
    cfg.design = SMX_MOE_DESIGN_UNIFORM;
    cfg.em.max_iter = 500;
    cfg.em.gate_max_iter = 30; /* BFGS iterations per gate M-step: a generalised EM only needs Q not to decrease */
    int gate = 0, act_opt = 0, act_given = 0, opt;
    double tau_sd = 0.3;
    long nmin = 100, nmax = -1, points = -1, reps = -1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == '?') smx_cli_fail(what, "bad option (see --help)");
        if (smx_cli_common(&c, opt, optarg, what, gates_usage)) continue;
        switch (opt) {
        case O_GATE: gate = smx_cli_choice_or_fail(optarg, GATES, what, "--gate"); continue;
        case O_ACT: act_opt = smx_cli_choice_or_fail(optarg, ACTS, what, "--act"), act_given = 1; continue;
        case O_NMIN: nmin = smx_cli_long_or_fail(optarg, 10, 100000000, what, "--nmin"); continue;
        case O_NMAX: nmax = smx_cli_long_or_fail(optarg, 10, 100000000, what, "--nmax"); continue;
        case O_POINTS: points = smx_cli_long_or_fail(optarg, 1, 10000, what, "--points"); continue;
        case O_REPS: reps = smx_cli_long_or_fail(optarg, 1, 100000, what, "--reps"); continue;
        case O_TAUSD:
            tau_sd = smx_cli_double_or_fail(optarg, what, "--tau-init-sd");
            if (!(tau_sd >= 0 && tau_sd <= 3)) smx_cli_fail(what, "--tau-init-sd: '%s' not in [0, 3]", optarg);
            continue;
        case MOE_O_DESIGN: case MOE_O_MAXIT: case MOE_O_TOL: moe_cfg_option(&cfg, opt, optarg, "gates"); continue;
        }
        const char *name = "?";
        for (const struct option *l = lopts; l->name; l++)
            if (l->val == opt) name = l->name;
        smx_cli_fail(what, "--%s: not an option of gates (see --help)", name);
    }
    smx_cli_no_positional(argc, argv, optind, what);
    if (act_given && gate == 0) smx_cli_fail(what, "--act: needs --gate activation");
    smx_moe_act_t act = gate == 0 ? SMX_MOE_ACT_IDENTITY : act_opt == 0 ? SMX_MOE_ACT_TANH : SMX_MOE_ACT_SIGMOID;
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (nmax < 0) nmax = paper ? 100000 : 50000;
    if (points < 0) points = paper ? 20 : 8;
    if (reps < 0) reps = paper ? 40 : 8;
    if (nmax < nmin) smx_cli_fail(what, "--nmax: %ld is below --nmin %ld", nmax, nmin);
    /* truth: paper (a)'s experts, tempered gate (see usage) */
    smx_moe_paper_truth(&cfg.truth);
    cfg.truth.beta1[0] = 2.5;
    cfg.truth.beta0[0] = act == SMX_MOE_ACT_SIGMOID ? -3 : -8;
    cfg.k = 2;
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-gates.tsv", smx_cli_profile_name(c.profile));
    const char *out = c.out ? c.out : defout;
    long *ns = malloc((size_t)points * sizeof *ns);
    gres_t *res = calloc((size_t)(points * reps), sizeof *res);
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
        smx_moe_em_t *w = smx_moe_em_alloc(nm, 2, 1);
        smx_moe_t fit;
        int bad = !x || !y || !w || smx_moe_alloc(&fit, 2, 1);
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
            gres_t *g = res + q;
            smx_moe_tgate_sample(x, y, &cfg.truth, TAU_TRUE, act, (size_t)n, cfg.design, rd);
            smx_moe_init_near(&fit, &cfg.truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
            double tau = TAU_TRUE * exp(gsl_ran_gaussian(ri, tau_sd));
            for (size_t u = 0; u < 2 - 1; u++) fit.beta1[u] *= exp(gsl_ran_gaussian(ri, tau_sd)); /* own scale draw */
            smx_moe_em_result_t er;
            if (smx_moe_tgate_em(&er, NULL, &fit, &tau, act, w, x, y, (size_t)n, &cfg.em)) {
#pragma omp atomic write
                fail = 1;
            }
            smx_moe_voronoi_t v;
            double zero[2] = {0, 0};
            smx_moe_voronoi(&v, &cfg.truth, &fit, zero, 0);
            g->loglik = er.loglik, g->iterations = er.iterations, g->converged = er.converged, g->tau = tau;
            g->err[4] = fabs(tau - TAU_TRUE);
            g->D = v.D + g->err[4];
            g->err[5] = fabs(fit.beta1[0] / tau - cfg.truth.beta1[0] / TAU_TRUE); /* identifiable for every act */
            for (int e = 0; e < 4; e++) {
                double mx = 0;
                for (size_t j = 0; j < 2; j++)
                    if (isfinite(v.err[j][e]) && v.err[j][e] > mx) mx = v.err[j][e];
                g->err[e] = mx;
            }
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
    smx_tsv_meta(t, "gate", "%s", GATES[gate]);
    smx_tsv_meta(t, "act", "%s", ACT_NAMES[act]);
    smx_tsv_meta(t, "model", "pi_i(x) = softmax_i(act(beta1_i x)/tau + beta0_i), tau shared and estimated (paper (c)); "
                             "no public code: choices ours");
    smx_tsv_meta(t, "tau_true", "%.17g", TAU_TRUE);
    smx_tsv_meta(t, "nmin", "%ld", nmin);
    smx_tsv_meta(t, "nmax", "%ld", nmax);
    smx_tsv_meta(t, "points", "%ld", points);
    smx_tsv_meta(t, "reps", "%ld", reps);
    moe_cfg_meta(t, &cfg);
    smx_tsv_meta(t, "gate_mstep", "BFGS (gsl vector_bfgs2) over (beta0, beta1, log tau), <= %d iterations, accepted "
                                  "only if Q does not decrease", cfg.em.gate_max_iter);
    smx_tsv_meta(t, "tau_init", "tau* exp(N(0, s^2)) and beta1 (near-truth rule) times its own exp(N(0, s^2)), s = %.17g, independent of n", tau_sd);
    smx_tsv_meta(t, "loss", "D = D1 (paper (a), no translation) + |tau - tau*|");
    smx_tsv_meta(t, "theory", "temperature gate: parameter rates slower than any polynomial, as slow as 1/log n "
                              "(paper (c)); activation gate: polynomial (n^-1/2 .. n^-1/4 up to logs)");
    smx_tsv_header(t, "n\trep\tseed\tgate\tact\tloglik\titerations\tconverged\ttau\tD\terr_beta1\terr_a\terr_b\terr_var"
                      "\terr_tau\terr_ratio");
    for (size_t q = 0; q < ntask; q++) {
        const gres_t *g = res + q;
        long n = ns[q / (size_t)reps], rep = (long)(q % (size_t)reps);
        smx_tsv_int(t, n);
        smx_tsv_int(t, rep);
        smx_tsv_int(t, (long long)moe_task_seed(c.seed, n, rep));
        smx_tsv_str(t, GATES[gate]);
        smx_tsv_str(t, ACT_NAMES[act]);
        smx_tsv_num(t, g->loglik);
        smx_tsv_int(t, g->iterations);
        smx_tsv_int(t, g->converged);
        smx_tsv_num(t, g->tau);
        smx_tsv_num(t, g->D);
        for (int e = 0; e < 6; e++) smx_tsv_num(t, g->err[e]);
        smx_tsv_endrow(t);
    }
    if (smx_tsv_close(t)) smx_cli_io_fail(what, "--out: cannot write", out);
    free(ns);
    free(res);
    moe_cfg_free(&cfg);
    return 0;
}
