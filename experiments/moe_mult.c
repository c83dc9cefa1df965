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
    "  --seed N --out FILE (default data/PROFILE/moe-mult.tsv) --profile quick|paper --threads N --help --version\n"
    "This is `smx-moe sweep --experts multinomial` (same bytes); the sweep options --grid, --shard,\n"
    "--checkpoint, --resume, --quiet apply (see `smx-moe sweep --help`).\n";


/* the truth of `multinomial` (see usage) */

static void moe_mult_truth(smx_moe_t *m)
{
    smx_moe_alloc(m, 2, 1);
    m->beta0[0] = -4, m->beta1[0] = 8, m->b[0] = -1, m->a[0] = 0, m->var[0] = 1;
    m->beta0[1] = 0, m->beta1[1] = 0, m->b[1] = 3, m->a[1] = -6, m->var[1] = 1;
}

/* k = k* = 2, uniform design, 1 restart */
void moe_mult_setup(moe_cfg_t *cfg, const moe_model_t *m)
{
    (void)m;
    moe_mult_truth(&cfg->truth);
    cfg->k = 2;
    cfg->design = SMX_MOE_DESIGN_UNIFORM;
    cfg->restarts = 1;
}

void moe_mult_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post)
{
    (void)cfg;
    int mod = m->gate == MOE_GATE_MODIFIED;
    if (!post) {
        smx_tsv_meta(t, "gate", "%s", mod ? "modified" : "softmax");
        smx_tsv_meta(t, "model", "P(y|x) = sum_i softmax_i(beta1_i M(x) + beta0_i) softmax_y(0, a_i x + b_i), S = 2, "
                                 "M(x) = %s (paper (d); no public code: choices ours)", mod ? "tanh(x)" : "x");
        return;
    }
    smx_tsv_meta(t, "expert_mstep", "weighted logistic regression by Newton with step halving (var column unused)");
    smx_tsv_meta(t, "loss", "D1 of paper (a) over (beta1, a, b), no translation (the reference gate is fixed)");
    smx_tsv_meta(t, "theory", "softmax gate with a vanishing expert slope: slower than polynomial (paper (d)); "
                              "modified gate: polynomial");
}

const char *moe_mult_header(const moe_model_t *m)
{
    (void)m;
    return "n\trep\tseed\tgate\tloglik\titerations\tconverged\tD\terr_beta1\terr_a\terr_b";
}

char *moe_mult_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed)
{
    smx_moe_mgate_t gate = m->gate == MOE_GATE_MODIFIED ? SMX_MOE_GATE_MODIFIED : SMX_MOE_GATE_SOFTMAX;
    gsl_rng *rd = smx_rng_alloc(seed), *ri = smx_rng_alloc_stream(seed, 1);
    if (!rd || !ri) {
        if (rd) gsl_rng_free(rd);
        if (ri) gsl_rng_free(ri);
        return NULL;
    }
    smx_moe_t *fit = &w->fit;
    smx_moe_mult_sample(w->x, w->y, &cfg->truth, gate, (size_t)n, rd);
    smx_moe_mult_gate_input(w->gx, w->x, (size_t)n, 1, gate);
    smx_moe_init_near(fit, &cfg->truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
    fit->var[0] = fit->var[1] = 1; /* unused by logistic experts */
    smx_moe_em_result_t er;
    int st = smx_moe_mult_em(&er, NULL, fit, w->w, w->x, w->gx, w->y, (size_t)n, &cfg->em);
    gsl_rng_free(rd);
    gsl_rng_free(ri);
    if (st) return NULL;
    smx_moe_voronoi_t v;
    double zero[2] = {0, 0}, err[3];
    smx_moe_voronoi(&v, &cfg->truth, fit, zero, 0);
    for (int e = 0; e < 3; e++) {
        double mx = 0;
        for (size_t j = 0; j < 2; j++)
            if (isfinite(v.err[j][e]) && v.err[j][e] > mx) mx = v.err[j][e];
        err[e] = mx;
    }
    moe_sb_t b = {0};
    moe_sb_add(&b, "%ld\t%ld\t%lu\t%s", n, rep, seed, (m->gate == MOE_GATE_MODIFIED ? "modified" : "softmax"));
    moe_sb_num(&b, er.loglik);
    moe_sb_add(&b, "\t%d\t%d", er.iterations, er.converged);
    moe_sb_num(&b, v.D);
    for (int e = 0; e < 3; e++) moe_sb_num(&b, err[e]);
    moe_sb_add(&b, "\n");
    return b.s;
}

int moe_cmd_multinomial(int argc, char **argv) { return moe_sweep_main(argc, argv, MOE_CMD_MULT, mult_usage); }
