/* moe_mult.c - smx-moe multinomial: softmax-gated mixture of logistic experts, paper (d) (issue 13
 * part 3): softmax gate vs modified gate (input transformed by tanh first), exact-fitted k = k* = 2,
 * fits over log-spaced n x replications. No public code exists; every choice is ours and stated in
 * --help and in the metadata. Model and EM: solvers/moe_mult.{h,c}. */
#include "moe_cmds.h"
#include "moe_mult.h"
#include "smx.h"
#include <gsl/gsl_randist.h>
#include "rng.h"

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
    "  classes: S = 2 by default, class 0 the reference; --classes S (<= 8): expert i's class-c logit\n"
    "    b_ic + a_ic x, c = 1..S-1, class 1 as below, class c >= 2: expert 1 (0.5 (c-1), -(c-1)),\n"
    "    expert 2 (-(c-1), 2 (c-1)); init: class-c logits + N(0, (0.05 n^-0.083)^2) each; loss: D1 with\n"
    "    |da|, |db| the norms over all classes' slopes / intercepts. x ~ U(0,1).\n"
    "  gates: --gate softmax (M(x) = x) or --gate modified (M(x) = tanh(x): the input transformed first).\n"
    "  truth: gate (beta0, beta1) = (-4, 8), (0, 0); experts (b, a) = (-1, 0) (a vanishing expert slope, the\n"
    "    case of (d) where the softmax gate's rates are slower than polynomial) and (3, -6).\n"
    "  EM: E-step r_ij ~ pi_i P_i(y_j|x_j); experts by weighted logistic Newton (step halving); gate by the\n"
    "    Newton/IRLS gate M-step of `fit` on M(x); stop at |dloglik/loglik| <= tol or --max-iter.\n"
    "  init: paper (a)'s near-truth rule ('intended'); loss: D1 of paper (a) over (beta1, a, b), no translation.\n"
    "  --truth FILE          another truth: a parameter file of S-class experts (header beta0 beta1_1..beta1_d\n"
    "                        b_1 a_1_1..a_1_d .. b_{S-1} a_{S-1}_1..a_{S-1}_d, last row the reference expert;\n"
    "                        or the Gaussian format, read as S = 2); k*, d and S from the file (k* <= 16, d <= 7)\n"
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

/* the truth's class logits th (k = 2, d = 1, S classes; see usage): class 1 from m, class c >= 2 */
static void mult_truth_th(double *th, const smx_moe_t *m, size_t S)
{
    for (size_t i = 0; i < 2; i++)
        for (size_t c = 1; c < S; c++) {
            double *t = th + (i * (S - 1) + c - 1) * 2, f = (double)(c - 1);
            t[0] = c == 1 ? m->b[i] : i == 0 ? 0.5 * f : -f;
            t[1] = c == 1 ? m->a[i] : i == 0 ? -f : 2 * f;
        }
}

/* the truth (see usage, or --truth FILE: either parameter-file format), its class logits in cfg->th;
 * k = k*, uniform design, 1 restart */
void moe_mult_setup(moe_cfg_t *cfg, moe_model_t *m, const char *what)
{
    size_t S = (size_t)m->classes;
    if (cfg->truth_path) {
        moe_mparams_t p;
        char err[512];
        if (moe_mparams_read(&p, err, sizeof err, cfg->truth_path, 0)) smx_cli_fail(what, "--truth: %s", err);
        if (p.m.k > 16) smx_cli_fail(what, "--truth: %s: at most 16 experts", cfg->truth_path);
        if (m->classes_given && p.S != S)
            smx_cli_fail(what, "--classes: %zu, but --truth %s has S = %zu classes", S, cfg->truth_path, p.S);
        S = p.S;
        m->classes = (long)S;
        cfg->truth = p.m;
        cfg->th = p.th;
    } else {
        moe_mult_truth(&cfg->truth);
        cfg->th = malloc(2 * (S - 1) * 2 * sizeof *cfg->th);
        if (!cfg->th) smx_cli_fail(what, "out of memory");
        mult_truth_th(cfg->th, &cfg->truth, S);
    }
    cfg->classes = S;
    cfg->k = cfg->truth.k;
    cfg->design = SMX_MOE_DESIGN_UNIFORM;
    cfg->restarts = 1;
}

int moe_mult_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd)
{
    smx_moe_mgate_t gate = m->gate == MOE_GATE_MODIFIED ? SMX_MOE_GATE_MODIFIED : SMX_MOE_GATE_SOFTMAX;
    return m->classes > 2 ? smx_moe_mults_sample(x, y, &cfg->truth, cfg->th, (size_t)m->classes, gate, n, rd)
                          : smx_moe_mult_sample(x, y, &cfg->truth, gate, n, rd);
}

void moe_mult_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post)
{
    int mod = m->gate == MOE_GATE_MODIFIED;
    if (!post) {
        smx_tsv_meta(t, "gate", "%s", mod ? "modified" : "softmax");
        if (m->classes == 2) {
            smx_tsv_meta(t, "model", "P(y|x) = sum_i softmax_i(beta1_i M(x) + beta0_i) softmax_y(0, a_i x + b_i), S = 2, "
                                     "M(x) = %s (paper (d); no public code: choices ours)", mod ? "tanh(x)" : "x");
            return;
        }
        size_t S = (size_t)m->classes, d = cfg->truth.d, P = (S - 1) * (d + 1);
        smx_tsv_meta(t, "model", "P(y|x) = sum_i softmax_i(beta1_i M(x) + beta0_i) softmax_y(0, a_i1 x + b_i1, .., "
                                 "a_i,S-1 x + b_i,S-1), S = %zu, M(x) = %s (paper (d); no public code: choices ours)",
                     S, mod ? "tanh(x)" : "x");
        smx_tsv_meta(t, "classes", "%zu", S);
        for (size_t i = 0; i < cfg->truth.k; i++)
            for (size_t c = 1; c < S; c++) {
                char key[64], val[512] = "";
                const double *th = cfg->th + i * P + (c - 1) * (d + 1);
                snprintf(key, sizeof key, "truth_logit_%zu_%zu", i + 1, c);
                for (size_t u = 0; u < d; u++) /* d = 1: "a X" */
                    snprintf(val + strlen(val), sizeof val - strlen(val), " %.17g", th[1 + u]);
                smx_tsv_meta(t, key, "b %.17g a%s", th[0], val);
            }
        return;
    }
    smx_tsv_meta(t, "expert_mstep", m->classes == 2 ? "weighted logistic regression by Newton with step halving (var column unused)"
                                                    : "weighted multinomial logistic regression by Newton with step halving");
    smx_tsv_meta(t, "loss", "D1 of paper (a) over (beta1, a, b), no translation (the reference gate is fixed)");
    smx_tsv_meta(t, "theory", "softmax gate with a vanishing expert slope: slower than polynomial (paper (d)); "
                              "modified gate: polynomial");
}

const char *moe_mult_header(const moe_model_t *m)
{
    (void)m;
    return "n\trep\tseed\tgate\tloglik\titerations\tconverged\tD\terr_beta1\terr_a\terr_b";
}

/* the max over the true experts of each error (the row's err_* columns) */
static void mult_errmax(double *e, const double (*err)[3], size_t kt)
{
    for (int q = 0; q < 3; q++) {
        double mx = 0;
        for (size_t j = 0; j < kt; j++)
            if (isfinite(err[j][q]) && err[j][q] > mx) mx = err[j][q];
        e[q] = mx;
    }
}

/* a row of S > 2 classes: the general code (solvers/moe_mult.c smx_moe_mults_*) */
static char *mult_row_s(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, smx_moe_mgate_t gate, long n,
                        long rep, unsigned long seed, gsl_rng *ri)
{
    size_t S = (size_t)m->classes, k = cfg->k, d = cfg->truth.d, P = (S - 1) * (d + 1);
    double err[16][3], e[3];
    smx_moe_t *fit = &w->fit;
    smx_moe_mult_gate_input(w->gx, w->x, (size_t)n, d, gate);
    smx_moe_init_near(fit, &cfg->truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
    for (size_t i = 0; i < k; i++) fit->var[i] = 1; /* unused by logistic experts */
    double sd = 0.05 * pow((double)n, -0.083); /* paper (a)'s expert perturbation, every class logit */
    for (size_t i = 0; i < k; i++)
        for (size_t u = 0; u < P; u++) w->th[i * P + u] = cfg->th[i * P + u] + gsl_ran_gaussian(ri, sd);
    smx_moe_em_result_t er;
    if (smx_moe_mults_em(&er, NULL, fit, w->th, S, w->w, w->x, w->gx, w->y, (size_t)n, &cfg->em)) return NULL;
    double D = smx_moe_mults_d1(err, &cfg->truth, cfg->th, fit, w->th, S);
    for (size_t i = 0; i < k; i++) { /* class 1's logit */
        fit->b[i] = w->th[i * P];
        for (size_t u = 0; u < d; u++) fit->a[i * d + u] = w->th[i * P + 1 + u];
    }
    mult_errmax(e, (const double(*)[3])err, cfg->truth.k);
    moe_sb_t b = {0};
    moe_sb_add(&b, "%ld\t%ld\t%lu\t%s", n, rep, seed, gate == SMX_MOE_GATE_MODIFIED ? "modified" : "softmax");
    moe_sb_num(&b, er.loglik);
    moe_sb_add(&b, "\t%d\t%d", er.iterations, er.converged);
    moe_sb_num(&b, D);
    for (int q = 0; q < 3; q++) moe_sb_num(&b, e[q]);
    moe_sb_add(&b, "\n");
    return b.s;
}

char *moe_mult_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed,
                   int have_data)
{
    smx_moe_mgate_t gate = m->gate == MOE_GATE_MODIFIED ? SMX_MOE_GATE_MODIFIED : SMX_MOE_GATE_SOFTMAX;
    gsl_rng *rd, *ri;
    if (moe_rng_pair(&rd, &ri, seed)) return NULL;
    smx_moe_t *fit = &w->fit;
    size_t k = cfg->k, d = cfg->truth.d;
    if (!have_data) moe_mult_sample(w->x, w->y, cfg, m, (size_t)n, rd);
    gsl_rng_free(rd);
    if (m->classes > 2) {
        char *row = mult_row_s(w, cfg, m, gate, n, rep, seed, ri);
        gsl_rng_free(ri);
        return row;
    }
    smx_moe_mult_gate_input(w->gx, w->x, (size_t)n, d, gate);
    smx_moe_init_near(fit, &cfg->truth, (size_t)n, SMX_MOE_INIT_INTENDED, ri);
    for (size_t i = 0; i < k; i++) fit->var[i] = 1; /* unused by logistic experts */
    smx_moe_em_result_t er;
    int st = smx_moe_mult_em(&er, NULL, fit, w->w, w->x, w->gx, w->y, (size_t)n, &cfg->em);
    gsl_rng_free(ri);
    if (st) return NULL;
    smx_moe_voronoi_t v;
    double zero[8] = {0}, err[SMX_MOE_VORONOI_KMAX][3], e[3];
    smx_moe_voronoi(&v, &cfg->truth, fit, zero, 0);
    for (size_t j = 0; j < cfg->truth.k; j++)
        for (int q = 0; q < 3; q++) err[j][q] = v.err[j][q];
    mult_errmax(e, (const double(*)[3])err, cfg->truth.k);
    moe_sb_t b = {0};
    moe_sb_add(&b, "%ld\t%ld\t%lu\t%s", n, rep, seed, (m->gate == MOE_GATE_MODIFIED ? "modified" : "softmax"));
    moe_sb_num(&b, er.loglik);
    moe_sb_add(&b, "\t%d\t%d", er.iterations, er.converged);
    moe_sb_num(&b, v.D);
    for (int q = 0; q < 3; q++) moe_sb_num(&b, e[q]);
    moe_sb_add(&b, "\n");
    return b.s;
}

int moe_cmd_multinomial(int argc, char **argv) { return moe_sweep_main(argc, argv, MOE_CMD_MULT, mult_usage); }
