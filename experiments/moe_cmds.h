/* moe_cmds.h - smx-moe (issue 13, science/moe_rates.md): subcommands and the one-fit task shared by
 * `fit` and `sweep`. Paper (a): Nguyen, Nguyen, Ho, "Demystifying Softmax Gating Function in Gaussian
 * Mixture of Experts", NeurIPS 2023 (code: github Trung-TinNGUYEN/CRPE-SGaME). */
#ifndef MOE_CMDS_H
#define MOE_CMDS_H

#include "cli.h"
#include "moe.h"
#include "moe_mult.h"

#include <stdio.h>

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
    int k_given, restarts_given, design_given, maxit_given;
    const char *truth_path;   /* --truth (read by moe_cfg_load_truth) */
    double *th;               /* multinomial experts: the truth's class logits (moe_mparams_t's th), else NULL */
    size_t classes;           /* multinomial experts: the truth's S */
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


/* Model / fit options shared by fit and sweep (ids after SMX_OPT_FIRST_PRIVATE). */
enum { MOE_O_TRUTH = SMX_OPT_FIRST_PRIVATE, MOE_O_K, MOE_O_DESIGN, MOE_O_INIT, MOE_O_RESTARTS, MOE_O_MAXIT,
       MOE_O_TOL, MOE_O_RBAR, MOE_O_HELL, MOE_O_GATE, MOE_O_TOPK, MOE_O_ACT, MOE_O_EXPERTS, MOE_O_TAUSD,
       MOE_O_CLASSES, MOE_O_QUIET, MOE_O_FIRST_CMD };
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
    "  --hellinger-points M  x points of the Hellinger distance (default 50): d = 1 the midpoint rule on [0,1],\n" \
    "                        d > 1 quasi-Monte Carlo over the first M Sobol points of [0,1]^d\n"

/* Defaults (no truth loaded yet); moe_cfg_option handles one MOE_O_* id (1) or not (0); moe_cfg_finish
 * loads the default truth and sets k and restarts if not given. */
void moe_cfg_init(moe_cfg_t *cfg);
int moe_cfg_option(moe_cfg_t *cfg, int opt, const char *arg, const char *cmd);
void moe_cfg_finish(moe_cfg_t *cfg, const char *cmd);
/* Reads --truth's file (if given) into cfg->truth; a bad file: one line, exit 2. */
void moe_cfg_load_truth(moe_cfg_t *cfg, const char *cmd);
void moe_cfg_free(moe_cfg_t *cfg);
/* Metadata lines of every cfg value, the EM rules and the initialisation. */
void moe_cfg_meta(smx_tsv_t *t, const moe_cfg_t *cfg);
/* ns[p] = round(exp(log nmin + (log nmax - log nmin) p / (points - 1))), p = 0..points-1 (nmin if points = 1):
 * the log-spaced n grid of the gates / multinomial / topk subcommands. */
void moe_grid_log(long *ns, long points, long nmin, long nmax);

/* ---- the model of fit / sweep (issue 13: gating variants as options) ----
 * experts gaussian: --gate softmax (paper (a), the default) | topk (b) | temperature | activation (c);
 * experts multinomial (d): --gate softmax | modified. The old subcommands gates / topk / multinomial are
 * aliases of sweep with the model fixed (same output bytes). */
typedef enum { MOE_GATE_SOFTMAX = 0, MOE_GATE_TOPK, MOE_GATE_TEMPERATURE, MOE_GATE_ACTIVATION,
               MOE_GATE_MODIFIED } moe_gate_t;
typedef enum { MOE_CMD_SWEEP = 0, MOE_CMD_FIT, MOE_CMD_GATES, MOE_CMD_TOPK, MOE_CMD_MULT } moe_cmd_t;
typedef struct {
    moe_cmd_t cmd;            /* which command parses (aliases restrict the choices) */
    int multinomial;          /* --experts multinomial */
    moe_gate_t gate;
    long topk;                /* K of the top-K gate (default 1) */
    int act;                  /* smx_moe_act_t of --gate activation (default tanh) */
    double tau_sd;            /* --tau-init-sd (default 0.3) */
    long classes;             /* --classes S of multinomial experts (default 2) */
    int quiet;                /* --quiet: no progress on stderr */
    const char *gate_arg, *experts_arg;
    int topk_given, act_given, tau_given, classes_given;
} moe_model_t;

#define MOE_MODEL_OPTIONS                                      \
    {"gate", required_argument, 0, MOE_O_GATE},                \
    {"topk", required_argument, 0, MOE_O_TOPK},                \
    {"act", required_argument, 0, MOE_O_ACT},                  \
    {"experts", required_argument, 0, MOE_O_EXPERTS},          \
    {"tau-init-sd", required_argument, 0, MOE_O_TAUSD},        \
    {"classes", required_argument, 0, MOE_O_CLASSES},          \
    {"quiet", no_argument, 0, MOE_O_QUIET}
#define MOE_MODEL_HELP                                                                                        \
    "  --gate softmax|topk|temperature|activation  gating (Gaussian experts; default softmax = paper (a)):\n"   \
    "                        topk = paper (b) (see `smx-moe topk --help`), temperature / activation = paper\n" \
    "                        (c) (see `smx-moe gates --help`); with --experts multinomial: softmax|modified\n" \
    "                        (paper (d), see `smx-moe multinomial --help`). The variants use their own\n"      \
    "                        truths and defaults, as the alias subcommands do (same bytes).\n"                \
    "  --topk K              K of --gate topk (default 1)   --act tanh|sigmoid  of --gate activation (tanh)\n" \
    "  --tau-init-sd S       spread of log tau0 (temperature / activation gates; default 0.3)\n"               \
    "  --experts gaussian|multinomial   expert family (default gaussian)\n"                                   \
    "  --classes S           classes of multinomial experts (default 2)\n"                                    \
    "  --quiet               no progress line on stderr\n"

void moe_model_init(moe_model_t *m, moe_cmd_t cmd);
/* Handles one MOE_O_GATE .. MOE_O_QUIET id (1) or not (0). */
int moe_model_option(moe_model_t *m, int opt, const char *arg, const char *what);
/* Resolves --gate against --experts and the command, checks the companions (--topk, --act, ...) and the
 * cfg options the model accepts, and sets the model's truth and defaults in cfg (then moe_cfg_finish for
 * the softmax model). given: the option ids seen (given[id - SMX_OPT_FIRST_PRIVATE]). */
void moe_model_finish(moe_model_t *m, moe_cfg_t *cfg, const unsigned char *given, const char *what, const char *cmd);
/* 1 for paper (a)'s model (sweep's own columns), 0 for a variant */
static inline int moe_model_is_a(const moe_model_t *m) { return !m->multinomial && m->gate == MOE_GATE_SOFTMAX; }
/* "softmax", "topk", ... */
const char *moe_model_gate_name(const moe_model_t *m);

/* What sample, fit and sweep parse alike: the common options, the fit's cfg, the model and the MOE_O_* ids
 * given (given[id - SMX_OPT_FIRST_PRIVATE], for moe_model_finish). moe_opts_init: the defaults of command cmd. */
typedef struct {
    smx_cli_common_t c;
    moe_cfg_t cfg;
    moe_model_t model;
    unsigned char given[MOE_O_FIRST_CMD - SMX_OPT_FIRST_PRIVATE];
} moe_opts_t;
void moe_opts_init(moe_opts_t *o, moe_cmd_t cmd);
/* The first step of every smx-moe option loop, for the id getopt_long returned: an unknown option or a
 * missing value fails (one line, exit 2); a MOE_O_* id is marked in given (unless given is NULL); a common
 * option (--seed, --out, --help, ...) is taken into c and 1 returned; else 0 (the command's own option). */
int moe_opt_common(smx_cli_common_t *c, unsigned char *given, int opt, const char *arg, const char *what,
                   const char *usage, int argc, char **argv);

/* One worker (thread): scratch for fits of at most n_max points of either model. */
typedef struct {
    moe_scratch_t *s;         /* paper (a) */
    moe_task_t r;
    double *x, *gx, *y;       /* variants */
    smx_moe_em_t *w;
    smx_moe_t fit;
    double tau;               /* tempered gates: the fitted temperature */
    double *th;               /* multinomial experts with S > 2 classes: k x (S-1) x (d+1) logit parameters */
    double seconds;           /* CPU seconds of the last fit (thread clock) */
    int ok;
} moe_worker_t;
int moe_worker_alloc(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, size_t n_max);
/* Memory estimate (bytes) of one worker fitting n points, dominant arrays only (moe_sweep.c): x, a copy of
 * x, y, responsibilities and gate probabilities (n x k; multinomial experts: per class). It bounds
 * model (a)'s scratch + EM worker (x, y, r, pi) too. */
double moe_worker_bytes(const moe_cfg_t *cfg, const moe_model_t *m, size_t n);
void moe_worker_free(moe_worker_t *w, const moe_model_t *m);
/* One (n, rep) task: its TSV row (malloc'd, ending in a newline), or NULL on failure. After it the worker's
 * fit (w->r.fit for paper (a), w->fit otherwise) holds the estimate. The data: x, y (n x d, n; n <= the
 * worker's n_max) when x != NULL, else n draws of moe_model_sample with smx_rng_alloc(seed); the
 * initialisation always from smx_rng_alloc_stream(seed, 1), so given data equal to the draws give the same
 * fit bit for bit. */
char *moe_worker_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep,
                     unsigned long seed, const double *x, const double *y);
/* n draws (x: n x d, y: n) of model m's truth (paper (a)'s smx_moe_sample for the softmax model; the
 * variant's sampler otherwise): the data of `sample` and of a sweep row with the same seed. */
int moe_model_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd);
/* Metadata (after the std lines) and the header of a sweep file of model m. */
void moe_model_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, long nmin, long nmax, long points,
                    long reps);
void moe_model_header(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m);

/* The two MT19937 streams of a task: data (*rd, seeded `seed`, = `sample --seed seed`) and initialisation
 * (*ri, smx_rng_alloc_stream(seed, 1)). SMX_ENOMEM (nothing allocated) if either fails. */
int moe_rng_pair(gsl_rng **rd, gsl_rng **ri, unsigned long seed);

/* Row text helpers: b->s grows as needed. */
typedef struct {
    char *s;
    size_t len, cap;
} moe_sb_t;
void moe_sb_add(moe_sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void moe_sb_num(moe_sb_t *b, double v); /* "\t" then v as smx_tsv_num spells it */

/* The variants (moe_gates.c, moe_topk.c, moe_mult.c): setup (truth, k, defaults), meta (post = 0: the lines
 * before the grid's, 1: after moe_cfg_meta's), header, row (have_data: w->x, w->y already hold n points,
 * else they are drawn by the variant's sampler from smx_rng_alloc(seed)), sampler. */
void moe_gates_setup(moe_cfg_t *cfg, const moe_model_t *m);
void moe_gates_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post);
const char *moe_gates_header(const moe_model_t *m);
char *moe_gates_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed,
                   int have_data);
int moe_gates_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd);
void moe_topk_setup(moe_cfg_t *cfg, const moe_model_t *m, const char *what);
void moe_topk_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post);
const char *moe_topk_header(const moe_model_t *m);
char *moe_topk_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed,
                   int have_data);
int moe_topk_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd);
void moe_mult_setup(moe_cfg_t *cfg, moe_model_t *m, const char *what); /* --truth: either format */
void moe_mult_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, int post);
const char *moe_mult_header(const moe_model_t *m);
char *moe_mult_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep, unsigned long seed,
                   int have_data);
int moe_mult_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd);

/* ---- numeric TSV tables and the parameter files of multinomial experts (moe_params.c) ----
 * A table: '#' comment lines and empty lines skipped, a header line of names, rows of finite numbers (each
 * with the header's field count). Errors: "path:line:column: problem" in err, SMX_EDOM / SMX_EIO /
 * SMX_ENOMEM, *t left empty. */
typedef struct {
    size_t ncol, nrow;
    long header_line; /* its line number in the file */
    char **names;  /* ncol header names */
    double *v;     /* nrow x ncol */
} moe_tab_t;
int moe_tab_read(moe_tab_t *t, char *err, size_t errlen, const char *path, size_t maxcol);
void moe_tab_free(moe_tab_t *t);
long moe_tab_col(const moe_tab_t *t, const char *name); /* -1 if absent */

/* Parameter file of multinomial-logistic experts with S classes (issue 13; class 0 the reference, its logit
 * 0): TSV, '#' comments, header
 *   beta0 beta1_1 .. beta1_d  b_1 a_1_1 .. a_1_d  b_2 a_2_1 .. a_2_d  ..  b_{S-1} a_{S-1}_1 .. a_{S-1}_d
 * (b_s, a_s_j: intercept and slope on x_j of class s's logit), one row per expert, the last row the
 * reference expert (gate (0, 0)); no var column. S - 1 >= 1 groups, S <= SMX_MOE_MULT_SMAX, d <= 7. The
 * Gaussian format (beta0 beta1_* b a_* var) is read as S = 2 (b, a the class-1 logit, var ignored): what
 * `fit --experts multinomial` writes for S = 2. */
#define MOE_MPARAMS_DMAX 7
typedef struct {
    smx_moe_t m;          /* gates; b, a = class 1's logit; var = 1 */
    double *th;           /* k x (S-1) x (d+1): th[(i (S-1) + s-1)(d+1)] = b_is, [.. + 1 + j] = a_is,j */
    size_t S;
    int gaussian_format;  /* read from the Gaussian format (S = 2) */
} moe_mparams_t;
int moe_mparams_read(moe_mparams_t *p, char *err, size_t errlen, const char *path, size_t want_d);
void moe_mparams_free(moe_mparams_t *p);
/* the header line and the rows (%.17g) of the S-class format */
void moe_mparams_write_rows(FILE *fp, const smx_moe_t *m, const double *th, size_t S);

/* The sweep driver shared by sweep and its aliases gates / topk / multinomial: cmd fixes the model's
 * family, usage is the --help text. */
int moe_sweep_main(int argc, char **argv, moe_cmd_t cmd, const char *usage);
extern void *moe_sweep_live[8];

#endif
