/* moe_gates.c - smx-moe gates: gating variants of paper (c) (issue 13 part 3): the dense-to-sparse
 * temperature gate softmax((beta1.x)/tau + beta0) with tau estimated vs the activation gate
 * softmax(act(beta1.x)/tau + beta0), act = tanh | sigmoid. Fits over log-spaced n x replications,
 * exact-fitted k = k* = 2. No public code exists; every choice is ours and stated in --help and in the
 * metadata. Model and EM: solvers/moe_gate.{h,c}. */
#include "moe_cmds.h"
#include "moe_gate.h"
#include "smx.h"
#include "rng.h"

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
    "  --seed N --out FILE (default data/PROFILE/moe-gates.tsv) --profile quick|paper --threads N --help --version\n"
    "This is `smx-moe sweep --gate temperature|activation` (same bytes); the sweep options --grid, --shard,\n"
    "--checkpoint, --resume, --quiet apply (see `smx-moe sweep --help`).\n";

static const char *const ACT_NAMES[] = {"identity", "tanh", "sigmoid"};
static const double TAU_TRUE = 0.1;

static smx_moe_act_t gate_act(const moe_model_t *m)
{
    return m->gate == MOE_GATE_TEMPERATURE ? SMX_MOE_ACT_IDENTITY : (smx_moe_act_t)m->act;
}

/* truth: paper (a)'s experts, tempered gate (see usage); defaults: uniform design, 500 EM iterations,
 * <= 30 BFGS iterations per gate M-step (a generalised EM only needs Q not to decrease) */
void moe_gates_setup(moe_cfg_t *cfg, const moe_model_t *m)
{
    smx_moe_act_t act = gate_act(m);
    if (!cfg->design_given) cfg->design = SMX_MOE_DESIGN_UNIFORM;
    if (!cfg->maxit_given) cfg->em.max_iter = 500;
    cfg->em.gate_max_iter = 30;
    smx_moe_paper_truth(&cfg->truth);
    cfg->truth.beta1[0] = 2.5;
    cfg->truth.beta0[0] = act == SMX_MOE_ACT_SIGMOID ? -3 : -8;
    cfg->k = 2;
}

void moe_gates_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post)
{
    if (!post) {
        smx_tsv_meta(t, "gate", "%s", m->gate == MOE_GATE_TEMPERATURE ? "temperature" : "activation");
        smx_tsv_meta(t, "act", "%s", ACT_NAMES[gate_act(m)]);
        smx_tsv_meta(t, "model", "pi_i(x) = softmax_i(act(beta1_i x)/tau + beta0_i), tau shared and estimated (paper (c)); "
                                 "no public code: choices ours");
        smx_tsv_meta(t, "tau_true", "%.17g", TAU_TRUE);
        return;
    }
    smx_tsv_meta(t, "gate_mstep", "BFGS (gsl vector_bfgs2) over (beta0, beta1, log tau), <= %d iterations, accepted "
                                  "only if Q does not decrease", cfg->em.gate_max_iter);
    smx_tsv_meta(t, "tau_init", "tau* exp(N(0, s^2)) and beta1 (near-truth rule) times its own exp(N(0, s^2)), s = %.17g, independent of n", m->tau_sd);
    smx_tsv_meta(t, "loss", "D = D1 (paper (a), no translation) + |tau - tau*|");
    smx_tsv_meta(t, "theory", "temperature gate: parameter rates slower than any polynomial, as slow as 1/log n "
                              "(paper (c)); activation gate: polynomial (n^-1/2 .. n^-1/4 up to logs)");
}

const char *moe_gates_header(const moe_model_t *m)
{
    (void)m;
    return "n\trep\tseed\tgate\tact\tloglik\titerations\tconverged\ttau\tD\terr_beta1\terr_a\terr_b\terr_var"
           "\terr_tau\terr_ratio";
}

/* one fit: sample with the tempered gate, near-truth init with tau0 = tau* exp(N(0, s^2)) and beta1 scaled by
 * its own exp(N(0, s^2)), generalised EM, D1 (no translation) + |tau - tau*| */
int moe_gates_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd)
{
    return smx_moe_tgate_sample(x, y, &cfg->truth, TAU_TRUE, gate_act(m), n, cfg->design, rd);
}

char *moe_gates_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed,
                    int have_data)
{
    smx_moe_act_t act = gate_act(m);
    gsl_rng *rd, *ri;
    if (moe_rng_pair(&rd, &ri, seed)) return NULL;
    smx_moe_t *fit = &w->fit;
    if (!have_data) moe_gates_sample(w->x, w->y, cfg, m, (size_t)n, rd);
    smx_moe_init_near(fit, &cfg->truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
    double tau = TAU_TRUE * exp(gsl_ran_gaussian(ri, m->tau_sd));
    for (size_t u = 0; u < 2 - 1; u++) fit->beta1[u] *= exp(gsl_ran_gaussian(ri, m->tau_sd)); /* own scale draw */
    smx_moe_em_result_t er;
    int st = smx_moe_tgate_em(&er, NULL, fit, &tau, act, w->w, w->x, w->y, (size_t)n, &cfg->em);
    gsl_rng_free(rd);
    gsl_rng_free(ri);
    if (st) return NULL;
    w->tau = tau;
    smx_moe_voronoi_t v;
    double zero[2] = {0, 0}, err[6];
    smx_moe_voronoi(&v, &cfg->truth, fit, zero, 0);
    err[4] = fabs(tau - TAU_TRUE);
    double D = v.D + err[4];
    err[5] = fabs(fit->beta1[0] / tau - cfg->truth.beta1[0] / TAU_TRUE); /* identifiable for every act */
    for (int e = 0; e < 4; e++) {
        double mx = 0;
        for (size_t j = 0; j < 2; j++)
            if (isfinite(v.err[j][e]) && v.err[j][e] > mx) mx = v.err[j][e];
        err[e] = mx;
    }
    moe_sb_t b = {0};
    moe_sb_add(&b, "%ld\t%ld\t%lu\t%s\t%s", n, rep, seed, m->gate == MOE_GATE_TEMPERATURE ? "temperature" : "activation",
               ACT_NAMES[act]);
    moe_sb_num(&b, er.loglik);
    moe_sb_add(&b, "\t%d\t%d", er.iterations, er.converged);
    moe_sb_num(&b, tau);
    moe_sb_num(&b, D);
    for (int e = 0; e < 6; e++) moe_sb_num(&b, err[e]);
    moe_sb_add(&b, "\n");
    return b.s;
}

int moe_cmd_gates(int argc, char **argv) { return moe_sweep_main(argc, argv, MOE_CMD_GATES, gates_usage); }
