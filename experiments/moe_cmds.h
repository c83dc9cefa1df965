/* moe_cmds.h - smx-moe (issue 13, science/moe_rates.md): subcommands and the one-fit task shared by
 * `fit` and `sweep`. Paper (a): Nguyen, Nguyen, Ho, "Demystifying Softmax Gating Function in Gaussian
 * Mixture of Experts", NeurIPS 2023 (code: github Trung-TinNGUYEN/CRPE-SGaME). */
#ifndef MOE_CMDS_H
#define MOE_CMDS_H

#include "cli.h"
#include "moe.h"

#define MOE_PROG "smx-moe"

int moe_cmd_sample(int argc, char **argv);
int moe_cmd_fit(int argc, char **argv);
int moe_cmd_loss(int argc, char **argv);
int moe_cmd_sweep(int argc, char **argv);
int moe_cmd_merge(int argc, char **argv);
int moe_cmd_summary(int argc, char **argv);
int moe_cmd_gates(int argc, char **argv); /* moe_gates.c: paper (c)'s temperature / activation gates */
int moe_cmd_multinomial(int argc, char **argv); /* moe_mult.c: paper (d)'s logistic experts */
int moe_cmd_topk(int argc, char **argv); /* moe_topk.c: paper (b)'s top-K gate */

/* What one fit needs besides n and its seed. */
typedef struct {
    smx_moe_t truth;          /* paper (a)'s truth unless --truth */
    size_t k;                 /* fitted experts */
    smx_moe_design_t design;  /* grid (authors) or uniform */
    smx_moe_init_t init;      /* intended (default) or authors */
    int restarts;             /* EM runs from fresh initialisations, best log-likelihood kept */
    smx_moe_em_opts_t em;
    double rbar_big;          /* r for Voronoi cells of >= 4 members (0: such a cell is an error) */
    size_t hell_points;       /* x points of the Hellinger distance */
    int k_given, restarts_given;
} moe_cfg_t;

typedef struct {
    smx_moe_t fit;            /* best fit (allocated by moe_task_alloc) */
    smx_moe_em_result_t em;   /* of the best restart */
    long iterations_all;      /* EM iterations over all restarts */
    smx_moe_voronoi_t vmin;   /* --translation min */
    smx_moe_voronoi_t vnone;  /* --translation none (the authors') */
    int loss_status;          /* SMX_OK or SMX_EDOM (a cell of >= 4 members without --rbar) */
    double hellinger;
    double seconds;           /* CPU seconds of the fit's thread: stderr / timing files only, never the data */
} moe_task_t;

/* Seed of replication rep at sample size n: SplitMix64 of (base, n, rep), 32 bits (an MT19937 seed). */
unsigned long moe_task_seed(unsigned long base, long n, long rep);

/* Scratch for fits of at most n_max points (x, y, a trial fit, the EM workspace). */
typedef struct moe_scratch moe_scratch_t;
moe_scratch_t *moe_scratch_alloc(const moe_cfg_t *cfg, size_t n_max);
void moe_scratch_free(moe_scratch_t *s);

int moe_task_alloc(moe_task_t *t, const moe_cfg_t *cfg);
void moe_task_free(moe_task_t *t);
/* Sample n points from cfg->truth with a MT19937 seeded `seed` (x, y: the scratch's; or the given data
 * when x != NULL), then cfg->restarts EM runs from initialisations drawn from smx_rng_alloc_stream(seed, 1). */
int moe_task_run(moe_task_t *t, moe_scratch_t *s, const moe_cfg_t *cfg, size_t n, unsigned long seed,
                 const double *x, const double *y);

#endif

/* Model / fit options shared by fit and sweep (ids after SMX_OPT_FIRST_PRIVATE). */
enum { MOE_O_TRUTH = SMX_OPT_FIRST_PRIVATE, MOE_O_K, MOE_O_DESIGN, MOE_O_INIT, MOE_O_RESTARTS, MOE_O_MAXIT,
       MOE_O_TOL, MOE_O_RBAR, MOE_O_HELL, MOE_O_FIRST_CMD };
#define MOE_CFG_OPTIONS                                        \
    {"truth", required_argument, 0, MOE_O_TRUTH},              \
    {"k", required_argument, 0, MOE_O_K},                      \
    {"design", required_argument, 0, MOE_O_DESIGN},            \
    {"init", required_argument, 0, MOE_O_INIT},                \
    {"restarts", required_argument, 0, MOE_O_RESTARTS},        \
    {"max-iter", required_argument, 0, MOE_O_MAXIT},           \
    {"tol", required_argument, 0, MOE_O_TOL},                  \
    {"rbar", required_argument, 0, MOE_O_RBAR},                \
    {"hellinger-points", required_argument, 0, MOE_O_HELL}
#define MOE_CFG_HELP                                                                                          \
    "  --truth FILE          true parameters (parameter file; default paper (a)'s: k*=2, d=1, gates (-8,25),\n" \
    "                        (0,0), experts 15-20x, -5+20x, variances 0.09, 0.16)\n"                          \
    "  --k K                 fitted experts (default k*)\n"                                                  \
    "  --design grid|uniform x = linspace(0,1,n) (the authors', default) or x ~ U(0,1)\n"                      \
    "  --init intended|authors  initialisation near the truth (paper (a)'s code): 'intended' (default) draws\n" \
    "                        each coordinate independently and starts variances at the true variances;\n"      \
    "                        'authors' adds ONE scalar draw to both gate coordinates (and one to both expert\n" \
    "                        coefficients) and starts variances at the standard deviations, as their code does\n" \
    "  --restarts R          EM runs from fresh initialisations, best log-likelihood kept (default 1 for\n"     \
    "                        k = k*, 5 for k > k*, the authors')\n"                                            \
    "  --max-iter N          EM iterations (default 2000)   --tol X  stop at |dloglik/loglik| <= X (1e-6)\n"    \
    "  --rbar R              r for Voronoi cells of >= 4 members (default: such a cell is an error)\n"          \
    "  --hellinger-points M  x points of the Hellinger distance (default 50)\n"

/* Defaults (no truth loaded yet); moe_cfg_option handles one MOE_O_* id (1) or not (0); moe_cfg_finish
 * loads the default truth and sets k and restarts if not given. */
void moe_cfg_init(moe_cfg_t *cfg);
int moe_cfg_option(moe_cfg_t *cfg, int opt, const char *arg, const char *cmd);
void moe_cfg_finish(moe_cfg_t *cfg, const char *cmd);
void moe_cfg_free(moe_cfg_t *cfg);
/* Metadata lines of every cfg value, the EM rules and the initialisation. */
void moe_cfg_meta(smx_tsv_t *t, const moe_cfg_t *cfg);
/* ns[p] = round(exp(log nmin + (log nmax - log nmin) p / (points - 1))), p = 0..points-1 (nmin if points = 1):
 * the log-spaced n grid of the gates / multinomial / topk subcommands. */
void moe_grid_log(long *ns, long points, long nmin, long nmax);
