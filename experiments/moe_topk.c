/* moe_topk.c - smx-moe topk: top-K sparse softmax gate, paper (b) (issue 13 part 3): fits over log-spaced
 * n x replications of k experts with a top-K gate on paper (a)'s truth. No public code exists; every choice
 * is ours and stated in --help and in the metadata. Model and EM: solvers/moe_topk.{h,c}. */
#include "moe_cmds.h"
#include "moe_topk.h"

#include <gsl/gsl_randist.h>
#include "smx.h"
#include "rng.h"

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
    "  --seed N --out FILE (default data/PROFILE/moe-topk.tsv) --profile quick|paper --threads N --help --version\n"
    "This is `smx-moe sweep --gate topk` (same bytes); the sweep options --grid, --shard, --checkpoint,\n"
    "--resume, --quiet apply (see `smx-moe sweep --help`).\n";

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

/* truth: paper (a)'s (k* = 2); k fitted (default 2, K <= k), uniform design, 1 restart */
void moe_topk_setup(moe_cfg_t *cfg, const moe_model_t *m, const char *what)
{
    smx_moe_paper_truth(&cfg->truth);
    if (!cfg->k_given) cfg->k = 2;
    if (cfg->k < 2) smx_cli_fail(what, "--k: %zu is below the truth's k* = 2", cfg->k);
    if ((size_t)m->topk > cfg->k) smx_cli_fail(what, "--topk: %ld exceeds --k %zu", m->topk, cfg->k);
    cfg->design = SMX_MOE_DESIGN_UNIFORM;
    cfg->restarts = 1;
}

static size_t truth_K(const moe_cfg_t *cfg, const moe_model_t *m)
{
    return (size_t)m->topk < cfg->truth.k ? (size_t)m->topk : cfg->truth.k;
}

void moe_topk_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post)
{
    if (!post) {
        smx_tsv_meta(t, "topk", "%ld", m->topk);
        smx_tsv_meta(t, "model", "top-K sparse softmax gate, exactly 0 outside the K largest logits (paper (b); no "
                                 "public code: choices ours); data drawn with the top-%zu gate", truth_K(cfg, m));
        return;
    }
    smx_tsv_meta(t, "gate_mstep", "Newton/IRLS on the dense-softmax posteriors; experts on the top-K posteriors");
    smx_tsv_meta(t, "loss", "D1 (k = k*) / D2 (k > k*) of paper (a), minimised over the gate translation");
    smx_tsv_meta(t, "theory", "density parametric; exact-fitted parameter rates n^-1/2; over-specified slower (paper (b))");
}

const char *moe_topk_header(const moe_model_t *m)
{
    (void)m;
    return "n\trep\tseed\tk\tK\tloglik\titerations\tconverged\tD";
}

int moe_topk_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd)
{
    topk_sample(x, y, &cfg->truth, truth_K(cfg, m), n, rd);
    return 0;
}

char *moe_topk_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed,
                   int have_data)
{
    gsl_rng *rd, *ri;
    if (moe_rng_pair(&rd, &ri, seed)) return NULL;
    if (!have_data) moe_topk_sample(w->x, w->y, cfg, m, (size_t)n, rd);
    smx_moe_init_near(&w->fit, &cfg->truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
    smx_moe_em_result_t er;
    int st = smx_moe_topk_em(&er, NULL, &w->fit, (size_t)m->topk, w->w, w->x, w->y, (size_t)n, &cfg->em);
    gsl_rng_free(rd);
    gsl_rng_free(ri);
    if (st) return NULL;
    smx_moe_voronoi_t v;
    int ls = smx_moe_voronoi_min(&v, &cfg->truth, &w->fit, cfg->rbar_big);
    moe_sb_t b = {0};
    moe_sb_add(&b, "%ld\t%ld\t%lu\t%zu\t%ld", n, rep, seed, cfg->k, m->topk);
    moe_sb_num(&b, er.loglik);
    moe_sb_add(&b, "\t%d\t%d", er.iterations, er.converged);
    moe_sb_num(&b, ls ? NAN : v.D);
    moe_sb_add(&b, "\n");
    return b.s;
}

int moe_cmd_topk(int argc, char **argv) { return moe_sweep_main(argc, argv, MOE_CMD_TOPK, topk_usage); }
