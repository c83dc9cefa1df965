/* moe.c - smx-moe: convergence rates of maximum likelihood for softmax-gated mixtures of experts
 * (issue 13, science/moe_rates.md). main, sample, fit, loss; sweep / merge / summary in moe_sweep.c,
 * the one-fit task and the shared options in moe_task.c, the model and EM in solvers/moe*.c. */
#include "moe_cmds.h"
#include "moe_topk.h"
#include "smx.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: smx-moe COMMAND [OPTIONS]   (smx-moe COMMAND --help for its options)\n"
    "Maximum-likelihood convergence rates of softmax-gated Gaussian mixtures of experts (Nguyen, Ho et al.,\n"
    "NeurIPS 2023): EM fits, Voronoi losses D1 / D2, sweeps over n with replications.\n"
    "Commands:\n"
    "  sample   n draws from a mixture of experts (paper (a)'s truth or --truth FILE)\n"
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
    "n draws (x, y) from a softmax-gated Gaussian mixture of experts; TSV columns x_1..x_d y.\n"
    "  --n N                 sample size (default 1000)\n"
    "  --truth FILE          parameters (default paper (a)'s truth)\n"
    "  --design grid|uniform x = linspace(0,1,n) (the authors', default) or x ~ U(0,1)^d\n"
    "  --seed N --out FILE (default data/PROFILE/moe-sample.tsv) --profile quick|paper --threads N --quiet --help\n"
    "  --version\n";

int moe_cmd_sample(int argc, char **argv)
{
    const char *what = MOE_PROG " sample";
    enum { O_N = MOE_O_FIRST_CMD };
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, {"n", required_argument, 0, O_N},
                                          {"quiet", no_argument, 0, MOE_O_QUIET}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    moe_cfg_t cfg;
    moe_cfg_init(&cfg);
    long n = 1000;
    int opt;
    optind = 1;
    opterr = 0; /* one line of ours, not getopt's */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == '?' || opt == ':') smx_cli_bad_option_fail(what, argc, argv);
        if (opt == MOE_O_QUIET) continue; /* nothing to silence */
        if (smx_cli_common(&c, opt, optarg, what, sample_usage)) continue;
        if (opt == MOE_O_TRUTH || opt == MOE_O_DESIGN) {
            moe_cfg_option(&cfg, opt, optarg, "sample");
            continue;
        }
        if (opt == O_N) n = smx_cli_long_or_fail(optarg, 2, 100000000, what, "--n");
        else {
            const char *name = "?";
            for (const struct option *l = lopts; l->name; l++)
                if (l->val == opt) name = l->name;
            smx_cli_fail(what, "--%s: not an option of sample (see --help)", name);
        }
    }
    smx_cli_no_positional(argc, argv, optind, what);
    moe_cfg_finish(&cfg, "sample");
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-sample.tsv", smx_cli_profile_name(c.profile));
    const char *out = c.out ? c.out : defout;
    size_t d = cfg.truth.d;
    double *x = malloc((size_t)n * d * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!x || !y) smx_cli_fail(what, "out of memory for --n %ld", n);
    gsl_rng *r = smx_rng_alloc(c.seed);
    smx_moe_sample(x, y, &cfg.truth, (size_t)n, cfg.design, r);
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, &c);
    smx_tsv_meta(t, "n", "%ld", n);
    moe_cfg_meta(t, &cfg);
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
    moe_cfg_free(&cfg);
    return 0;
}

/* ---------------- fit ---------------- */

/* Data file: '#' lines, a header naming x_1..x_d and y (other columns ignored), numeric rows. */
static void read_data(double **px, double **py, size_t *pn, const char *path, size_t d, const char *what)
{
    FILE *fp = fopen(path, "r");
    if (!fp) smx_cli_fail(what, "--data: cannot open '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, n = 0, ncap = 0, ncol = 0;
    long lineno = 0, colx[8], coly = -1;
    double *x = NULL, *y = NULL;
    ssize_t len;
    for (size_t u = 0; u < 8; u++) colx[u] = -1;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        char *f[64], *s = line;
        size_t nf = 0;
        for (;;) {
            char *tab = strchr(s, '\t');
            if (nf < 64) f[nf] = s;
            nf++;
            if (!tab) break;
            *tab = 0, s = tab + 1;
        }
        if (!ncol) {
            if (nf > 64) smx_cli_fail(what, "--data: %s:%ld: more than 64 columns", path, lineno);
            ncol = nf;
            for (size_t c = 0; c < nf; c++) {
                if (!strcmp(f[c], "y")) coly = (long)c;
                for (size_t u = 0; u < d; u++) {
                    char nm[32];
                    snprintf(nm, sizeof nm, "x_%zu", u + 1);
                    if (!strcmp(f[c], nm)) colx[u] = (long)c;
                }
            }
            if (coly < 0) smx_cli_fail(what, "--data: %s:%ld: no column 'y'", path, lineno);
            for (size_t u = 0; u < d; u++)
                if (colx[u] < 0) smx_cli_fail(what, "--data: %s:%ld: no column 'x_%zu' (d = %zu)", path, lineno, u + 1, d);
            continue;
        }
        if (nf != ncol) smx_cli_fail(what, "--data: %s:%ld: %zu fields, want %zu", path, lineno, nf, ncol);
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 1024;
            x = realloc(x, ncap * d * sizeof *x);
            y = realloc(y, ncap * sizeof *y);
            if (!x || !y) smx_cli_fail(what, "--data: out of memory");
        }
        for (size_t u = 0; u <= d; u++) {
            long c = u < d ? colx[u] : coly;
            char *end;
            double v = strtod(f[c], &end);
            if (end == f[c] || *end || !isfinite(v))
                smx_cli_fail(what, "--data: %s:%ld:%ld: '%s' is not a finite number", path, lineno, c + 1, f[c]);
            if (u < d) x[n * d + u] = v;
            else y[n] = v;
        }
        n++;
    }
    free(line);
    fclose(fp);
    if (n < 2) smx_cli_fail(what, "--data: %s: fewer than 2 rows", path);
    *px = x, *py = y, *pn = n;
}

/* fit of a variant model: one sweep row's fit at (n, seed) */
static int fit_variant(const moe_model_t *model, moe_cfg_t *cfg, const smx_cli_common_t *c, size_t n, const char *out,
                       int argc, char **argv)
{
    const char *what = MOE_PROG " fit";
    moe_worker_t w;
    if (moe_worker_alloc(&w, cfg, model, n)) smx_cli_fail(what, "out of memory");
    char *row = moe_worker_row(&w, cfg, model, (long)n, 0, c->seed);
    if (!row) smx_cli_fail(what, "fit failed (bad sizes)");
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, c);
    smx_tsv_meta(t, "n", "%zu", n);
    moe_model_meta(t, cfg, model, (long)n, (long)n, 1, 1);
    if (model->gate == MOE_GATE_TEMPERATURE || model->gate == MOE_GATE_ACTIVATION)
        smx_tsv_meta(t, "tau", "%.17g", w.tau);
    if (model->multinomial && model->classes > 2) /* the rows below carry class 1's logits (b, a) */
        for (size_t i = 0; i < cfg->k; i++)
            for (long cl = 1; cl < model->classes; cl++) {
                char key[64];
                const double *th = w.th + (i * (size_t)(model->classes - 1) + (size_t)cl - 1) * 2;
                snprintf(key, sizeof key, "fit_logit_%zu_%ld", i + 1, cl);
                smx_tsv_meta(t, key, "b %.17g a %.17g", th[0], th[1]);
            }
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
    smx_moe_write_rows(smx_tsv_stream(t), &w.fit);
    write_or_fail(t, what, out);
    if (!model->quiet) fprintf(stderr, "%s: %.3f CPU-s\n", what, w.seconds);
    free(hdr);
    free(row);
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
    "sweep row (n, seed; its truth sampled, no --data), writes the estimate as a parameter file and prints\n"
    "the row's columns after n rep seed as NAME VALUE pairs on one line; --gate topk adds selected_i, the\n"
    "fraction of x in [0, 1] (1000 midpoints) where fitted expert i is among the K largest logits.\n"
    "  --seed N --out FILE (default data/PROFILE/moe-fit.tsv) --profile quick|paper --threads N --help --version\n";

int moe_cmd_fit(int argc, char **argv)
{
    const char *what = MOE_PROG " fit";
    enum { O_N = MOE_O_FIRST_CMD, O_DATA, O_OUTP };
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, MOE_MODEL_OPTIONS,
                                          {"n", required_argument, 0, O_N}, {"data", required_argument, 0, O_DATA},
                                          {"out-params", required_argument, 0, O_OUTP}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    moe_cfg_t cfg;
    moe_cfg_init(&cfg);
    moe_model_t model;
    moe_model_init(&model, MOE_CMD_FIT);
    unsigned char given[MOE_O_FIRST_CMD - SMX_OPT_FIRST_PRIVATE] = {0};
    long n = 1000;
    const char *data = NULL;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == '?' || opt == ':') smx_cli_bad_option_fail(what, argc, argv);
        if (opt >= SMX_OPT_FIRST_PRIVATE && opt < MOE_O_FIRST_CMD) given[opt - SMX_OPT_FIRST_PRIVATE] = 1;
        if (smx_cli_common(&c, opt, optarg, what, fit_usage)) continue;
        if (moe_cfg_option(&cfg, opt, optarg, "fit")) continue;
        if (moe_model_option(&model, opt, optarg, what)) continue;
        if (opt == O_N) n = smx_cli_long_or_fail(optarg, 2, 100000000, what, "--n");
        else if (opt == O_DATA) data = optarg;
        else if (opt == O_OUTP) c.out = optarg;
    }
    smx_cli_no_positional(argc, argv, optind, what);
    moe_model_finish(&model, &cfg, given, what, "fit");
    char defout[256];
    snprintf(defout, sizeof defout, "data/%s/moe-fit.tsv", smx_cli_profile_name(c.profile));
    const char *out = c.out ? c.out : defout;
    if (!moe_model_is_a(&model)) {
        if (data) smx_cli_fail(what, "--data: only with paper (a)'s model (--gate softmax, Gaussian experts)");
        return fit_variant(&model, &cfg, &c, (size_t)n, out, argc, argv);
    }
    double *x = NULL, *y = NULL;
    size_t nn = (size_t)n;
    if (data) read_data(&x, &y, &nn, data, cfg.truth.d, what);
    moe_scratch_t *s = moe_scratch_alloc(&cfg, nn);
    moe_task_t task;
    if (!s || moe_task_alloc(&task, &cfg)) smx_cli_fail(what, "out of memory");
    if (moe_task_run(&task, s, &cfg, nn, c.seed, x, y)) smx_cli_fail(what, "fit failed (bad sizes)");
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(t, MOE_PROG, argc, argv);
    smx_cli_meta(t, &c);
    smx_tsv_meta(t, "n", "%zu", nn);
    smx_tsv_meta(t, "data", "%s", data ? data : "sampled from the truth with --seed");
    moe_cfg_meta(t, &cfg);
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
    if (!model.quiet) fprintf(stderr, "%s: %.3f CPU-s\n", what, task.seconds);
    moe_task_free(&task);
    moe_scratch_free(s);
    free(x);
    free(y);
    moe_cfg_free(&cfg);
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
    "  --seed N --profile quick|paper --threads N --quiet (accepted; no effect) --help --version\n";

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
    int trans = 1, opt;
    optind = 1;
    opterr = 0; /* one line of ours, not getopt's */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (opt == '?' || opt == ':') smx_cli_bad_option_fail(what, argc, argv);
        if (opt == MOE_O_QUIET) continue; /* nothing to silence */
        if (smx_cli_common(&c, opt, optarg, what, loss_usage)) continue;
        if (moe_cfg_option(&cfg, opt, optarg, "loss")) continue;
        if (opt == O_FIT) fitpath = optarg;
        else if (opt == O_TRANS) trans = smx_cli_choice_or_fail(optarg, TRANS, what, "--translation");
    }
    smx_cli_no_positional(argc, argv, optind, what);
    moe_cfg_load_truth(&cfg, "loss");
    if (!cfg.truth.k) smx_cli_fail(what, "--truth: missing (a parameter file)");
    if (!fitpath) smx_cli_fail(what, "--fit: missing (a parameter file)");
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
