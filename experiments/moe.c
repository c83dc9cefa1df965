/* moe.c - smx-moe: convergence rates of maximum likelihood for softmax-gated mixtures of experts
 * (issue 13, science/moe_rates.md). main, sample, fit, loss; sweep / merge / summary in moe_sweep.c,
 * the one-fit task and the shared options in moe_task.c, the model and EM in solvers/moe*.c. */
#include "moe_cmds.h"
#include "moe_topk.h"
#include "smx.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "Usage: smx-moe COMMAND [OPTIONS]   (smx-moe COMMAND --help for its options)\n"
    "Maximum-likelihood convergence rates of softmax-gated Gaussian mixtures of experts (Nguyen, Ho et al.,\n"
    "NeurIPS 2023): EM fits, Voronoi losses D1 / D2, sweeps over n with replications.\n"
    "Commands:\n"
    "  sample   n draws from a mixture of experts (paper (a)'s truth or --truth FILE; a variant's data with\n"
    "           the model options of fit / sweep, for fit --data)\n"
    "  fit      k experts by EM (log-space E-step, WLS experts, Newton/IRLS gate with step halving)\n"
    "  loss     Voronoi loss D1 (k = k*) / D2 (k > k*) of a fitted parameter file against a truth\n"
    "  sweep    fits over a grid of n and replications (OpenMP; --shard I/N; --resume); the model by\n"
    "           --gate softmax|topk|temperature|activation and --experts gaussian|multinomial (also for fit)\n"
    "  merge    join shard files into the bytes one unsharded sweep writes\n"
    "  summary  OLS slopes of log mean / median D on log n with bootstrap 95 %% intervals\n"
    "  gates    paper (c): temperature gate softmax(beta1 x/tau + beta0) vs activation gate (tanh|sigmoid),\n"
    "           fits over n (alias of sweep --gate temperature|activation)\n"
    "  multinomial  paper (d): logistic experts, softmax gate vs modified gate softmax(beta1 tanh(x) + beta0)\n"
    "           (alias of sweep --experts multinomial)\n"
    "  topk     paper (b): top-K sparse softmax gate (weights exactly 0 outside the K largest), fits over n\n"
    "           (alias of sweep --gate topk)\n"
    "Options: --help, --version\n" SMX_CLI_EXIT_HELP;

int main(int argc, char **argv)
{
    static const smx_cli_cmd_t cmds[] = {
        {"sample", moe_cmd_sample}, {"fit", moe_cmd_fit},         {"loss", moe_cmd_loss},
        {"sweep", moe_cmd_sweep},   {"merge", moe_cmd_merge},     {"summary", moe_cmd_summary},
        {"gates", moe_cmd_gates},   {"multinomial", moe_cmd_multinomial}, {"topk", moe_cmd_topk}};
    return smx_cli_dispatch(MOE_PROG, usage, cmds, sizeof cmds / sizeof cmds[0], NULL, argc, argv);
}

static void write_or_fail(smx_tsv_t *t, const char *what, const char *path)
{
    if (smx_tsv_close(t)) smx_cli_io_fail(what, "--out: cannot write", path);
}

/* ---------------- sample ---------------- */

static const char sample_usage[] =
    "Usage: smx-moe sample [OPTIONS]\n"
    "n draws (x, y) from a mixture of experts; TSV columns x_1..x_d y. The draws of `sample --seed S` with a\n"
    "model's options are the data of that model's `fit --n n --seed S` and of its sweep rows with seed S, so\n"
    "`fit --data` of this file (same model options and --seed) gives the same fit bit for bit.\n"
    "  --n N                 sample size (default 1000)\n"
    "  --truth FILE          parameters (default paper (a)'s truth; with --experts multinomial a parameter file\n"
    "                        of S-class multinomial experts, see `smx-moe loss --help`)\n"
    "  --design grid|uniform x = linspace(0,1,n) (the authors', default) or x ~ U(0,1)^d\n"
    "  --gate, --topk, --act, --experts, --classes   the model (as for fit; default paper (a)'s); the variants\n"
    "                        draw from their own truths (see `smx-moe fit --help`); --k K with --gate topk\n"
    "  --seed N --out FILE (default data/PROFILE/moe-sample.tsv) --profile quick|paper --threads N --quiet --help\n"
    "  --version\n";

int moe_cmd_sample(int argc, char **argv)
{
    const char *what = MOE_PROG " sample";
    enum { O_N = MOE_O_FIRST_CMD };
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, MOE_MODEL_OPTIONS,
                                          {"n", required_argument, 0, O_N}, {0, 0, 0, 0}};
    moe_opts_t o;
    moe_opts_init(&o, MOE_CMD_FIT);
    long n = 1000;
    int opt;
    optind = 1;
    opterr = 0; /* one line of ours, not getopt's */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (moe_opt_common(&o.c, o.given, opt, optarg, what, sample_usage, argc, argv)) continue;
        if (opt == MOE_O_TRUTH || opt == MOE_O_DESIGN || opt == MOE_O_K) {
            moe_cfg_option(&o.cfg, opt, optarg, "sample");
            continue;
        }
        if (opt != MOE_O_TAUSD && moe_model_option(&o.model, opt, optarg, what)) continue;
        if (opt == O_N) n = smx_cli_long_or_fail(optarg, 2, 100000000, what, "--n");
        else {
            const char *name = "?";
            for (const struct option *l = lopts; l->name; l++)
                if (l->val == opt) name = l->name;
            smx_cli_fail(what, "--%s: not an option of sample (see --help)", name);
        }
    }
    smx_cli_no_positional(argc, argv, optind, what);
    moe_model_finish(&o.model, &o.cfg, o.given, what, "sample");
    if (o.given[MOE_O_K - SMX_OPT_FIRST_PRIVATE] && o.model.gate != MOE_GATE_TOPK)
        smx_cli_fail(what, "--k: not an option of sample (only with --gate topk)");
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-sample.tsv", smx_cli_profile_name(o.c.profile));
    const char *out = o.c.out ? o.c.out : defout;
    size_t d = o.cfg.truth.d;
    /* memory estimate: the sample x (n x d) and y (n doubles); nothing else grows with n */
    smx_cli_mem_or_fail(8.0 * (double)n * (double)(d + 1), "--n", what);
    double *x = malloc((size_t)n * d * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!x || !y) smx_cli_fail(what, "out of memory for --n %ld", n);
    gsl_rng *r = smx_rng_alloc(o.c.seed);
    moe_model_sample(x, y, &o.cfg, &o.model, (size_t)n, r);
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, &o.c);
    smx_tsv_meta(t, "n", "%ld", n);
    if (moe_model_is_a(&o.model)) moe_cfg_meta(t, &o.cfg);
    else moe_model_meta(t, &o.cfg, &o.model, n, n, 1, 1);
    char hdr[512] = "";
    for (size_t u = 0; u < d; u++) snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "x_%zu\t", u + 1);
    strcat(hdr, "y");
    smx_tsv_header(t, hdr);
    for (long j = 0; j < n; j++) {
        for (size_t u = 0; u < d; u++) smx_tsv_num(t, x[j * d + u]);
        smx_tsv_num(t, y[j]);
        smx_tsv_endrow(t);
    }
    write_or_fail(t, what, out);
    gsl_rng_free(r);
    free(x);
    free(y);
    moe_cfg_free(&o.cfg);
    return 0;
}

/* ---------------- fit ---------------- */

/* Data file: '#' lines, a header naming x_1..x_d and y (other columns ignored), numeric rows; labels y in
 * {0, .., classes-1} when classes > 0 (multinomial experts). */
static void read_data(double **px, double **py, size_t *pn, const char *path, size_t d, long classes,
                      const char *what)
{
    moe_tab_t t;
    char err[512];
    if (moe_tab_read(&t, err, sizeof err, path, 64)) smx_cli_fail(what, "--data: %s", err);
    long coly = moe_tab_col(&t, "y"), colx[8];
    if (coly < 0) smx_cli_fail(what, "--data: %s: no column 'y'", path);
    for (size_t u = 0; u < d; u++) {
        char nm[32];
        snprintf(nm, sizeof nm, "x_%zu", u + 1);
        if ((colx[u] = moe_tab_col(&t, nm)) < 0) smx_cli_fail(what, "--data: %s: no column 'x_%zu' (d = %zu)", path, u + 1, d);
    }
    size_t n = t.nrow;
    if (n < 2) smx_cli_fail(what, "--data: %s: fewer than 2 rows", path);
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x), free(y), moe_tab_free(&t);
        smx_cli_fail(what, "--data: out of memory");
    }
    for (size_t j = 0; j < n; j++) {
        const double *r = t.v + j * t.ncol;
        for (size_t u = 0; u < d; u++) x[j * d + u] = r[colx[u]];
        y[j] = r[coly];
        if (classes > 0 && !(y[j] >= 0 && y[j] < (double)classes && y[j] == floor(y[j]))) {
            double bad = y[j]; /* freed before exiting: LeakSanitizer reports unreachable blocks at exit */
            free(x), free(y), moe_tab_free(&t);
            smx_cli_fail(what, "--data: %s: data row %zu: y = %.17g is not a class label in 0..%ld", path, j + 1, bad,
                         classes - 1);
        }
    }
    moe_tab_free(&t);
    *px = x, *py = y, *pn = n;
}

/* Refuse up front a fit whose memory estimate exceeds the machine: one worker for n points
 * (moe_worker_bytes). With --data, n is not known before reading: each value takes at least 2 bytes
 * ("0" and a tab or newline), so a file of B bytes has at most B / (2 (d + 1)) rows, and the table read
 * holds at most B / 2 doubles (4 B bytes). */
static void fit_mem_or_fail(const moe_cfg_t *cfg, const moe_model_t *model, size_t n, const char *data,
                            const char *what)
{
    if (!data) {
        smx_cli_mem_or_fail(moe_worker_bytes(cfg, model, n), "--n x --k", what);
        return;
    }
    struct stat st;
    if (stat(data, &st) || !S_ISREG(st.st_mode)) return; /* the reader names the problem */
    double B = (double)st.st_size;
    size_t rows = (size_t)(B / (2.0 * (double)(cfg->truth.d + 1)));
    smx_cli_mem_or_fail(4.0 * B + moe_worker_bytes(cfg, model, rows), "--data (bounded by its size) x --k", what);
}

/* fit of a variant model: one sweep row's fit at (n, seed) */
static int fit_variant(const moe_model_t *model, moe_cfg_t *cfg, const smx_cli_common_t *c, size_t n, const char *out,
                       const char *data, int argc, char **argv)
{
    const char *what = MOE_PROG " fit";
    moe_worker_t w;
    double *x = NULL, *y = NULL;
    if (data) read_data(&x, &y, &n, data, cfg->truth.d, model->multinomial ? model->classes : 0, what);
    if (moe_worker_alloc(&w, cfg, model, n)) smx_cli_fail(what, "out of memory");
    char *row = moe_worker_row(&w, cfg, model, (long)n, 0, c->seed, x, y);
    if (!row) smx_cli_fail(what, "fit failed (bad sizes)");
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, c);
    smx_tsv_meta(t, "n", "%zu", n);
    if (data) smx_tsv_meta(t, "data", "%s", data);
    moe_model_meta(t, cfg, model, (long)n, (long)n, 1, 1);
    if (model->gate == MOE_GATE_TEMPERATURE || model->gate == MOE_GATE_ACTIVATION)
        smx_tsv_meta(t, "tau", "%.17g", w.tau);
    /* the row's columns after n rep seed, as NAME VALUE pairs (metadata and stdout) */
    char *hdr = strdup(model->multinomial ? moe_mult_header(model) : model->gate == MOE_GATE_TOPK ? moe_topk_header(model)
                                                                                                 : moe_gates_header(model));
    char *hs = NULL, *rs = NULL, *h = strtok_r(hdr, "\t", &hs), *v = strtok_r(row, "\t\n", &rs);
    for (int col = 0; h && v; col++, h = strtok_r(NULL, "\t", &hs), v = strtok_r(NULL, "\t\n", &rs)) {
        if (col < 3) continue;
        smx_tsv_meta(t, h, "%s", v);
        printf("%s%s %s", col > 3 ? " " : "", h, v);
    }
    if (model->gate == MOE_GATE_TOPK) { /* where each fitted expert is in the top-K set: x = (q + 1/2) / 1000 */
        double lp[64], sel[64] = {0};
        for (int q = 0; q < 1000; q++) {
            double xx = (q + 0.5) / 1000;
            smx_moe_topk_log_gate(lp, &w.fit, (size_t)model->topk, &xx);
            for (size_t i = 0; i < cfg->k; i++) sel[i] += lp[i] > -INFINITY;
        }
        for (size_t i = 0; i < cfg->k; i++) {
            char key[32];
            snprintf(key, sizeof key, "selected_%zu", i + 1);
            smx_tsv_meta(t, key, "%.3f", sel[i] / 1000);
            printf(" %s %.3f", key, sel[i] / 1000);
        }
    }
    printf("\n");
    if (model->multinomial && model->classes > 2) /* every class's logits (moe_cmds.h: the S-class format) */
        moe_mparams_write_rows(smx_tsv_stream(t), &w.fit, w.th, (size_t)model->classes);
    else smx_moe_write_rows(smx_tsv_stream(t), &w.fit);
    write_or_fail(t, what, out);
    if (!model->quiet) fprintf(stderr, "%s: %.3f CPU-s\n", what, w.seconds);
    free(hdr);
    free(row);
    free(x);
    free(y);
    moe_worker_free(&w, model);
    moe_cfg_free(cfg);
    return 0;
}

static const char fit_usage[] =
    "Usage: smx-moe fit [OPTIONS]\n"
    "Fit k experts by EM to --data FILE (columns x_1..x_d, y) or to n draws from the truth sampled with --seed\n"
    "(the same draws as `sample --seed S`; a sweep row with seed S and size n is `fit --n n --seed S`).\n"
    "Writes the best fit as a parameter file (--out, alias --out-params) and prints one line on stdout:\n"
    "loglik, iterations, converged, and the Voronoi losses against the truth (translation min and none).\n"
    "EM (as the authors' code, except that our E-step is max-shifted in log space where theirs can underflow):\n"
    "E-step responsibilities; experts by weighted least squares + weighted variance; the gate by Newton/IRLS on\n"
    "the weighted multinomial log-likelihood (GSL Cholesky, <= 30 step halvings, <= 300 iterations, relative\n"
    "tolerance 1e-7); the last expert's gate fixed at (0, 0); stop at |dloglik/loglik| <= --tol or --max-iter.\n"
    "  --data FILE           data to fit (default: sample n points)\n"
    "  --n N                 sample size when sampling (default 1000)\n" MOE_CFG_HELP MOE_MODEL_HELP
    "With a variant model (--gate topk|temperature|activation, --experts multinomial) fit runs the fit of one\n"
    "sweep row (n, seed: its truth sampled with --seed, or --data FILE as `sample` writes it with the same\n"
    "model options; the initialisation from --seed either way), writes the estimate as a parameter file and\n"
    "prints the row's columns after n rep seed as NAME VALUE pairs on one line; --gate topk adds selected_i, the\n"
    "fraction of x in [0, 1] (1000 midpoints) where fitted expert i is among the K largest logits.\n"
    "--experts multinomial: --data's y must be class labels 0..S-1; --truth FILE in either parameter-file\n"
    "format (S from the file); for S > 2 the estimate is written in the S-class format (`smx-moe loss --help`).\n"
    "  --seed N --out FILE (default data/PROFILE/moe-fit.tsv) --profile quick|paper --threads N --help --version\n";

int moe_cmd_fit(int argc, char **argv)
{
    const char *what = MOE_PROG " fit";
    enum { O_N = MOE_O_FIRST_CMD, O_DATA, O_OUTP };
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, MOE_MODEL_OPTIONS,
                                          {"n", required_argument, 0, O_N}, {"data", required_argument, 0, O_DATA},
                                          {"out-params", required_argument, 0, O_OUTP}, {0, 0, 0, 0}};
    moe_opts_t o;
    moe_opts_init(&o, MOE_CMD_FIT);
    long n = 1000;
    const char *data = NULL;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (moe_opt_common(&o.c, o.given, opt, optarg, what, fit_usage, argc, argv)) continue;
        if (moe_cfg_option(&o.cfg, opt, optarg, "fit")) continue;
        if (moe_model_option(&o.model, opt, optarg, what)) continue;
        if (opt == O_N) n = smx_cli_long_or_fail(optarg, 2, 100000000, what, "--n");
        else if (opt == O_DATA) data = optarg;
        else if (opt == O_OUTP) o.c.out = optarg;
    }
    smx_cli_no_positional(argc, argv, optind, what);
    moe_model_finish(&o.model, &o.cfg, o.given, what, "fit");
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-fit.tsv", smx_cli_profile_name(o.c.profile));
    const char *out = o.c.out ? o.c.out : defout;
    fit_mem_or_fail(&o.cfg, &o.model, (size_t)n, data, what);
    if (!moe_model_is_a(&o.model)) return fit_variant(&o.model, &o.cfg, &o.c, (size_t)n, out, data, argc, argv);
    double *x = NULL, *y = NULL;
    size_t nn = (size_t)n;
    if (data) read_data(&x, &y, &nn, data, o.cfg.truth.d, 0, what);
    moe_scratch_t *s = moe_scratch_alloc(&o.cfg, nn);
    moe_task_t task;
    if (!s || moe_task_alloc(&task, &o.cfg)) smx_cli_fail(what, "out of memory");
    if (moe_task_run(&task, s, &o.cfg, nn, o.c.seed, x, y)) smx_cli_fail(what, "fit failed (bad sizes)");
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, &o.c);
    smx_tsv_meta(t, "n", "%zu", nn);
    smx_tsv_meta(t, "data", "%s", data ? data : "sampled from the truth with --seed");
    moe_cfg_meta(t, &o.cfg);
    smx_tsv_meta(t, "loglik", "%.17g", task.em.loglik);
    smx_tsv_meta(t, "iterations", "%d", task.em.iterations);
    smx_tsv_meta(t, "converged", "%d", task.em.converged);
    if (!task.loss_status) {
        smx_tsv_meta(t, "D_min", "%.17g", task.vmin.D);
        smx_tsv_meta(t, "D_none", "%.17g", task.vnone.D);
    }
    smx_moe_write_rows(smx_tsv_stream(t), &task.fit);
    write_or_fail(t, what, out);
    printf("loglik %.17g iterations %d converged %d D_min %.17g D_none %.17g hellinger %.17g gate_newton %ld\n",
           task.em.loglik, task.em.iterations, task.em.converged, task.loss_status ? NAN : task.vmin.D,
           task.loss_status ? NAN : task.vnone.D, task.hellinger, task.em.gate_iters);
    if (!o.model.quiet) fprintf(stderr, "%s: %.3f CPU-s\n", what, task.seconds);
    moe_task_free(&task);
    moe_scratch_free(s);
    free(x);
    free(y);
    moe_cfg_free(&o.cfg);
    return 0;
}

/* ---------------- loss ---------------- */

static const char loss_usage[] =
    "Usage: smx-moe loss --truth FILE --fit FILE [OPTIONS]\n"
    "Voronoi loss of paper (a) of a fitted parameter set against a truth; prints the loss (%.17g) alone on\n"
    "stdout's last line. D1 when k <= k* (exponent 1 for every member of every cell), D2 when k > k*\n"
    "(a cell of m >= 2 members: r = rbar(m), rbar(2) = 4, rbar(3) = 6; |dbeta1|^r + |db|^r + |da|^(r/2) +\n"
    "|dvar|^(r/2)). Cells by Euclidean distance over (beta1, a, b, var), never by index; an empty cell costs\n"
    "e^{beta0*_j}. |.| is the Euclidean norm of each parameter group.\n"
    "  --truth FILE          true parameters (required)\n"
    "  --fit FILE            fitted parameters (required; the same d)\n"
    "  --translation none|min  none: gates as given (the authors', last gate (0,0)); min (default): the loss\n"
    "                        minimised over one translation (t0, t1) added to every FITTED gate\n"
    "  --rbar R              r for cells of >= 4 members (default: such a cell is an error, exit 2)\n"
    "  --out FILE            also write a TSV with the cells (size and errors) and the translation\n"
    "Multinomial-logistic experts (a file in the S-class format, header beta0 beta1_1..beta1_d b_1 a_1_1..a_1_d\n"
    "  .. b_{S-1} a_{S-1}_1..a_{S-1}_d, one row per expert, the last the reference; class 0 the reference class\n"
    "  with logit 0; what `fit --experts multinomial --classes S` writes for S > 2): both files of the same S\n"
    "  (a file in the Gaussian format counts as S = 2, its var ignored); the loss is D1 of paper (a) over\n"
    "  (beta1, a, b) without translation (the multinomial sweep's D; |da|, |db| the norms over all classes),\n"
    "  --translation none implied (min refused); --out writes each cell's errors.\n"
    "  --seed N --profile quick|paper --threads N --quiet (accepted; no effect) --help --version\n";

/* loss of multinomial-expert parameter files: both of S classes (the Gaussian format counts as S = 2) */
static int loss_mult(const moe_mparams_t *pt, const moe_mparams_t *pf, int trans, const char *tpath,
                     const char *fpath, const smx_cli_common_t *c, int argc, char **argv)
{
    const char *what = MOE_PROG " loss";
    if (pt->S != pf->S)
        smx_cli_fail(what, "--fit: %s has S = %zu classes, --truth %s has S = %zu", fpath, pf->S, tpath, pt->S);
    if (trans == 1)
        smx_cli_fail(what, "--translation: min is not defined for multinomial experts (their loss is D1 without translation)");
    if (pt->m.k > 16) smx_cli_fail(what, "--truth: %s: at most 16 experts", tpath);
    if (pf->m.k > 64) smx_cli_fail(what, "--fit: %s: more than 64 experts", fpath);
    double err[16][3];
    double D = smx_moe_mults_d1(err, &pt->m, pt->th, &pf->m, pf->th, pt->S);
    if (c->out) {
        smx_tsv_t *t = smx_tsv_open(c->out);
        if (!t) smx_cli_io_fail(what, "--out: cannot create", c->out);
        smx_tsv_meta_std(t, MOE_PROG, argc, argv);
        smx_tsv_meta(t, "experts", "multinomial, S = %zu classes", pt->S);
        smx_tsv_meta(t, "translation", "none");
        smx_tsv_meta(t, "D", "%.17g", D);
        smx_tsv_header(t, "cell\terr_beta1\terr_a\terr_b");
        for (size_t j = 0; j < pt->m.k; j++) {
            smx_tsv_int(t, (long long)j + 1);
            for (int g = 0; g < 3; g++) smx_tsv_num(t, err[j][g]);
            smx_tsv_endrow(t);
        }
        write_or_fail(t, what, c->out);
    }
    printf("%.17g\n", D);
    return 0;
}

int moe_cmd_loss(int argc, char **argv)
{
    const char *what = MOE_PROG " loss";
    enum { O_FIT = MOE_O_FIRST_CMD, O_TRANS };
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS,
                                          {"truth", required_argument, 0, MOE_O_TRUTH},
                                          {"rbar", required_argument, 0, MOE_O_RBAR},
                                          {"fit", required_argument, 0, O_FIT},
                                          {"translation", required_argument, 0, O_TRANS},
                                          {"quiet", no_argument, 0, MOE_O_QUIET}, {0, 0, 0, 0}};
    static const char *const TRANS[] = {"none", "min", NULL};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    moe_cfg_t cfg;
    moe_cfg_init(&cfg);
    const char *fitpath = NULL;
    int trans = 1, trans_given = 0, opt;
    optind = 1;
    opterr = 0; /* one line of ours, not getopt's */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (moe_opt_common(&c, NULL, opt, optarg, what, loss_usage, argc, argv) || opt == MOE_O_QUIET)
            continue; /* --quiet: nothing to silence */
        if (moe_cfg_option(&cfg, opt, optarg, "loss")) continue;
        if (opt == O_FIT) fitpath = optarg;
        else if (opt == O_TRANS) trans = smx_cli_choice_or_fail(optarg, TRANS, what, "--translation"), trans_given = 1;
    }
    smx_cli_no_positional(argc, argv, optind, what);
    if (!cfg.truth_path) smx_cli_fail(what, "--truth: missing (a parameter file)");
    if (!fitpath) smx_cli_fail(what, "--fit: missing (a parameter file)");
    { /* files of multinomial experts (the S-class format on either side): D1 of smx_moe_mults_d1 */
        moe_mparams_t pt, pf;
        char e[512];
        if (moe_mparams_read(&pt, e, sizeof e, cfg.truth_path, 0)) smx_cli_fail(what, "--truth: %s", e);
        if (moe_mparams_read(&pf, e, sizeof e, fitpath, pt.m.d)) smx_cli_fail(what, "--fit: %s", e);
        if (!pt.gaussian_format || !pf.gaussian_format) {
            int r = loss_mult(&pt, &pf, trans_given ? trans : -1, cfg.truth_path, fitpath, &c, argc, argv);
            moe_mparams_free(&pt);
            moe_mparams_free(&pf);
            moe_cfg_free(&cfg);
            return r;
        }
        moe_mparams_free(&pt);
        moe_mparams_free(&pf);
    }
    moe_cfg_load_truth(&cfg, "loss");
    smx_moe_t fit;
    char err[512];
    if (smx_moe_read(&fit, err, sizeof err, fitpath, cfg.truth.d)) smx_cli_fail(what, "--fit: %s", err);
    if (fit.k > 64) smx_cli_fail(what, "--fit: %s: more than 64 experts", fitpath);
    smx_moe_voronoi_t v;
    double zero[8] = {0};
    int st = trans ? smx_moe_voronoi_min(&v, &cfg.truth, &fit, cfg.rbar_big)
                   : smx_moe_voronoi(&v, &cfg.truth, &fit, zero, cfg.rbar_big);
    if (st) smx_cli_fail(what, "--rbar: a Voronoi cell has >= 4 fitted experts: give --rbar R (rbar(m) >= 7 for m >= 4)");
    if (c.out) {
        smx_tsv_t *t = smx_tsv_open(c.out);
        if (!t) smx_cli_io_fail(what, "--out: cannot create", c.out);
        smx_tsv_meta_std(t, MOE_PROG, argc, argv);
        smx_tsv_meta(t, "translation", "%s", TRANS[trans]);
        smx_tsv_meta(t, "D", "%.17g", v.D);
        smx_tsv_meta(t, "t0", "%.17g", v.t[0]);
        for (size_t u = 0; u < cfg.truth.d; u++) smx_tsv_meta(t, "t1", "%.17g", v.t[1 + u]);
        smx_tsv_header(t, "cell\tsize\terr_beta1\terr_a\terr_b\terr_var");
        for (size_t j = 0; j < cfg.truth.k; j++) {
            smx_tsv_int(t, (long long)j + 1);
            smx_tsv_int(t, v.size[j]);
            for (int g = 0; g < 4; g++) smx_tsv_num(t, v.err[j][g]);
            smx_tsv_endrow(t);
        }
        write_or_fail(t, what, c.out);
    }
    printf("%.17g\n", v.D);
    smx_moe_free(&fit);
    moe_cfg_free(&cfg);
    return 0;
}
