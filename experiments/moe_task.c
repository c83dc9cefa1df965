/* moe_task.c - one fit of smx-moe: sample, EM with restarts, Voronoi losses, Hellinger distance. */
#include "moe_cmds.h"
#include "smx.h"
#include "rng.h"

#include "moe_gate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned long moe_task_seed(unsigned long base, long n, long rep)
{
    unsigned long long z = (unsigned long long)base;
    const unsigned long long in[2] = {(unsigned long long)n, (unsigned long long)rep};
    for (int i = 0; i < 3; i++) { /* SplitMix64 steps over base, n, rep */
        z += 0x9E3779B97F4A7C15ULL + (i ? in[i - 1] * 0xD1B54A32D192ED03ULL : 0);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
    }
    return (unsigned long)(z & 0xFFFFFFFFULL);
}

struct moe_scratch {
    size_t n_max;
    double *x, *y;
    smx_moe_t trial;
    smx_moe_em_t *em;
};

moe_scratch_t *moe_scratch_alloc(const moe_cfg_t *cfg, size_t n_max)
{
    moe_scratch_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_max = n_max;
    s->x = malloc(n_max * cfg->truth.d * sizeof(double));
    s->y = malloc(n_max * sizeof(double));
    s->em = smx_moe_em_alloc(n_max, cfg->k, cfg->truth.d);
    if (!s->x || !s->y || !s->em || smx_moe_alloc(&s->trial, cfg->k, cfg->truth.d)) {
        moe_scratch_free(s);
        return NULL;
    }
    return s;
}

void moe_scratch_free(moe_scratch_t *s)
{
    if (!s) return;
    free(s->x);
    free(s->y);
    smx_moe_em_free(s->em);
    smx_moe_free(&s->trial);
    free(s);
}

int moe_task_alloc(moe_task_t *t, const moe_cfg_t *cfg)
{
    memset(t, 0, sizeof *t);
    return smx_moe_alloc(&t->fit, cfg->k, cfg->truth.d);
}

void moe_task_free(moe_task_t *t) { smx_moe_free(&t->fit); }

int moe_task_run(moe_task_t *t, moe_scratch_t *s, const moe_cfg_t *cfg, size_t n, unsigned long seed,
                 const double *x, const double *y)
{
    if (n > s->n_max) return SMX_EDOM;
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int st = SMX_OK;
    if (!x) { /* data: MT19937 seeded `seed` (= `sample --seed seed`) */
        gsl_rng *rd = smx_rng_alloc(seed);
        if (!rd) return SMX_ENOMEM;
        st = smx_moe_sample(s->x, s->y, &cfg->truth, n, cfg->design, rd);
        gsl_rng_free(rd);
        x = s->x, y = s->y;
    }
    gsl_rng *r = smx_rng_alloc_stream(seed, 1); /* initialisations: their own stream, whatever the data */
    if (!r) return SMX_ENOMEM;
    t->iterations_all = 0;
    t->em.loglik = -INFINITY;
    for (int rs = 0; rs < cfg->restarts && !st; rs++) {
        smx_moe_em_result_t res;
        if ((st = smx_moe_init_near(&s->trial, &cfg->truth, n, cfg->init, r))) break;
        if ((st = smx_moe_em(&res, NULL, &s->trial, s->em, x, y, n, &cfg->em))) break;
        t->iterations_all += res.iterations;
        if (rs == 0 || res.loglik > t->em.loglik) { /* NaN never wins over a number */
            t->em = res;
            smx_moe_copy(&t->fit, &s->trial);
        }
    }
    gsl_rng_free(r);
    if (st) return st;
    double zero[8] = {0};
    t->loss_status = smx_moe_voronoi_min(&t->vmin, &cfg->truth, &t->fit, cfg->rbar_big);
    if (!t->loss_status) t->loss_status = smx_moe_voronoi(&t->vnone, &cfg->truth, &t->fit, zero, cfg->rbar_big);
    t->hellinger = cfg->hell_points ? smx_moe_hellinger(&cfg->truth, &t->fit, cfg->hell_points) : NAN;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    t->seconds = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    return SMX_OK;
}

/* ---- shared options ---- */

static const char *const DESIGNS[] = {"grid", "uniform", NULL};
static const char *const INITS[] = {"intended", "authors", NULL};

void moe_cfg_init(moe_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    smx_moe_em_opts_default(&cfg->em);
    cfg->design = SMX_MOE_DESIGN_GRID;
    cfg->init = SMX_MOE_INIT_INTENDED;
    cfg->hell_points = 50;
}

int moe_cfg_option(moe_cfg_t *cfg, int opt, const char *arg, const char *cmd)
{
    char what[64];
    snprintf(what, sizeof what, "%s %s", MOE_PROG, cmd);
    switch (opt) {
    case MOE_O_TRUTH: cfg->truth_path = arg; return 1; /* read by moe_cfg_load_truth */
    case MOE_O_K: cfg->k = (size_t)smx_cli_long_or_fail(arg, 1, 64, what, "--k"); cfg->k_given = 1; return 1;
    case MOE_O_DESIGN:
        cfg->design = smx_cli_choice_or_fail(arg, DESIGNS, what, "--design");
        cfg->design_given = 1;
        return 1;
    case MOE_O_INIT: cfg->init = smx_cli_choice_or_fail(arg, INITS, what, "--init"); return 1;
    case MOE_O_RESTARTS:
        cfg->restarts = (int)smx_cli_long_or_fail(arg, 1, 1000, what, "--restarts");
        cfg->restarts_given = 1;
        return 1;
    case MOE_O_MAXIT:
        cfg->em.max_iter = (int)smx_cli_long_or_fail(arg, 1, 10000000, what, "--max-iter");
        cfg->maxit_given = 1;
        return 1;
    case MOE_O_TOL:
        cfg->em.tol = smx_cli_double_or_fail(arg, what, "--tol");
        if (!(cfg->em.tol >= 0 && cfg->em.tol < 1)) smx_cli_fail(what, "--tol: '%s' not in [0, 1)", arg);
        return 1;
    case MOE_O_RBAR:
        cfg->rbar_big = smx_cli_double_or_fail(arg, what, "--rbar");
        if (!(cfg->rbar_big >= 1 && cfg->rbar_big <= 100)) smx_cli_fail(what, "--rbar: '%s' not in [1, 100]", arg);
        return 1;
    case MOE_O_HELL: cfg->hell_points = (size_t)smx_cli_long_or_fail(arg, 0, 100000, what, "--hellinger-points"); return 1;
    }
    return 0;
}

void moe_cfg_load_truth(moe_cfg_t *cfg, const char *cmd)
{
    char what[64], err[512];
    snprintf(what, sizeof what, "%s %s", MOE_PROG, cmd);
    if (!cfg->truth_path) return;
    smx_moe_free(&cfg->truth);
    if (smx_moe_read(&cfg->truth, err, sizeof err, cfg->truth_path, 0)) {
        moe_mparams_t p; /* a file of multinomial experts: say so */
        char e2[512];
        if (!moe_mparams_read(&p, e2, sizeof e2, cfg->truth_path, 0))
            smx_cli_fail(what, "--truth: %s: multinomial experts (S = %zu classes): give --experts multinomial",
                         cfg->truth_path, p.S);
        smx_cli_fail(what, "--truth: %s", err);
    }
    if (cfg->truth.k > SMX_MOE_VORONOI_KMAX || cfg->truth.d > 7)
        smx_cli_fail(what, "--truth: %s: at most %d experts and d <= 7", cfg->truth_path, SMX_MOE_VORONOI_KMAX);
}

void moe_cfg_finish(moe_cfg_t *cfg, const char *cmd)
{
    char what[64];
    snprintf(what, sizeof what, "%s %s", MOE_PROG, cmd);
    moe_cfg_load_truth(cfg, cmd);
    if (!cfg->truth.k) smx_moe_paper_truth(&cfg->truth);
    if (!cfg->k_given) cfg->k = cfg->truth.k;
    if (cfg->k < cfg->truth.k) smx_cli_fail(what, "--k: %zu is below the truth's k* = %zu", cfg->k, cfg->truth.k);
    if (!cfg->restarts_given) cfg->restarts = cfg->k > cfg->truth.k ? 5 : 1;
    if (cfg->design == SMX_MOE_DESIGN_GRID && cfg->truth.d != 1)
        smx_cli_fail(what, "--design: grid needs d = 1 (the truth has d = %zu); use --design uniform", cfg->truth.d);
}

void moe_cfg_free(moe_cfg_t *cfg)
{
    smx_moe_free(&cfg->truth);
    free(cfg->th);
    cfg->th = NULL;
}

void moe_cfg_meta(smx_tsv_t *t, const moe_cfg_t *cfg)
{
    const smx_moe_t *m = &cfg->truth;
    smx_tsv_meta(t, "truth_k", "%zu", m->k);
    smx_tsv_meta(t, "truth_d", "%zu", m->d);
    for (size_t i = 0; i < m->k; i++) {
        char key[48];
        snprintf(key, sizeof key, "truth_expert_%zu", i + 1);
        smx_tsv_meta(t, key, "beta0 %.17g beta1 %.17g b %.17g a %.17g var %.17g%s", m->beta0[i], m->beta1[i * m->d],
                     m->b[i], m->a[i * m->d], m->var[i], m->d > 1 ? " (first coordinates)" : "");
    }
    smx_tsv_meta(t, "k", "%zu", cfg->k);
    smx_tsv_meta(t, "design", "%s", DESIGNS[cfg->design]);
    smx_tsv_meta(t, "init", "%s%s", INITS[cfg->init],
                 cfg->init ? " (the authors' code: one scalar draw per parameter group, variances started at the "
                             "standard deviations)"
                           : " (the evident intent of the authors' code: independent draws, variances at the true "
                             "variances)");
    smx_tsv_meta(t, "init_rule", "fitted expert k on the reference expert, experts 1..k*-1 on true 1..k*-1, the rest "
                                 "uniform; gate +N(0,(0.005 n^-0.083)^2), experts +N(0,(0.05 n^-0.083)^2), variance "
                                 "+|N(0,(0.005 n^-0.25)^2)|");
    smx_tsv_meta(t, "restarts", "%d", cfg->restarts);
    smx_tsv_meta(t, "em", "log-space E-step; WLS experts + weighted variance (floor %g); Newton/IRLS gate, <= %d "
                          "iterations, rel. tol %g, <= %d halvings; stop at |dloglik/loglik| <= %g or %d iterations",
                 cfg->em.var_floor, cfg->em.gate_max_iter, cfg->em.gate_tol, cfg->em.max_halvings, cfg->em.tol,
                 cfg->em.max_iter);
    smx_tsv_meta(t, "rbar", "rbar(2)=4 rbar(3)=6 rbar(>=4)=%s", cfg->rbar_big > 0 ? "given" : "error");
    if (cfg->rbar_big > 0) smx_tsv_meta(t, "rbar_big", "%.17g", cfg->rbar_big);
    smx_tsv_meta(t, "hellinger_points", "%zu", cfg->hell_points);
}

void moe_grid_log(long *ns, long points, long nmin, long nmax)
{
    for (long p = 0; p < points; p++)
        ns[p] = points == 1 ? nmin
                            : (long)floor(exp(log((double)nmin) + (log((double)nmax) - log((double)nmin)) * (double)p /
                                                                       (double)(points - 1)) + 0.5);
}

int moe_rng_pair(gsl_rng **rd, gsl_rng **ri, unsigned long seed)
{
    *rd = smx_rng_alloc(seed), *ri = smx_rng_alloc_stream(seed, 1);
    if (*rd && *ri) return SMX_OK;
    if (*rd) gsl_rng_free(*rd);
    if (*ri) gsl_rng_free(*ri);
    *rd = *ri = NULL;
    return SMX_ENOMEM;
}

/* ---- row text ---- */

void moe_sb_add(moe_sb_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap + (size_t)n + 64) * 2;
        char *ns = realloc(b->s, nc);
        if (!ns) abort();
        b->s = ns, b->cap = nc;
    }
}

void moe_sb_num(moe_sb_t *b, double v)
{
    if (isnan(v)) moe_sb_add(b, "\tnan");
    else if (isinf(v)) moe_sb_add(b, v > 0 ? "\tinf" : "\t-inf");
    else moe_sb_add(b, "\t%.17g", v);
}

/* ---- the model ---- */

static const char *const GATE_NAMES[] = {"softmax", "topk", "temperature", "activation", "modified", NULL};
/* names of the option ids MOE_O_TRUTH .. MOE_O_QUIET, for messages */
static const char *const OPT_NAMES[] = {"truth", "k", "design", "init", "restarts", "max-iter", "tol", "rbar",
                                        "hellinger-points", "gate", "topk", "act", "experts", "tau-init-sd",
                                        "classes", "quiet"};

void moe_model_init(moe_model_t *m, moe_cmd_t cmd)
{
    memset(m, 0, sizeof *m);
    m->cmd = cmd;
    m->gate = MOE_GATE_SOFTMAX;
    m->topk = 1;
    m->act = SMX_MOE_ACT_TANH;
    m->tau_sd = 0.3;
    m->classes = 2;
    m->multinomial = cmd == MOE_CMD_MULT;
    if (cmd == MOE_CMD_GATES) m->gate = MOE_GATE_TEMPERATURE;
    if (cmd == MOE_CMD_TOPK) m->gate = MOE_GATE_TOPK;
}

void moe_opts_init(moe_opts_t *o, moe_cmd_t cmd)
{
    smx_cli_common_init(&o->c);
    moe_cfg_init(&o->cfg);
    moe_model_init(&o->model, cmd);
    memset(o->given, 0, sizeof o->given);
}

int moe_opt_common(smx_cli_common_t *c, unsigned char *given, int opt, const char *arg, const char *what,
                   const char *usage, int argc, char **argv)
{
    if (opt == '?' || opt == ':') smx_cli_bad_option_fail(what, argc, argv);
    if (given && opt >= SMX_OPT_FIRST_PRIVATE && opt < MOE_O_FIRST_CMD) given[opt - SMX_OPT_FIRST_PRIVATE] = 1;
    return smx_cli_common(c, opt, arg, what, usage);
}

const char *moe_model_gate_name(const moe_model_t *m) { return GATE_NAMES[m->gate]; }

int moe_model_option(moe_model_t *m, int opt, const char *arg, const char *what)
{
    static const char *const ACTS[] = {"tanh", "sigmoid", NULL};
    static const char *const EXPERTS[] = {"gaussian", "multinomial", NULL};
    switch (opt) {
    case MOE_O_GATE: m->gate_arg = arg; return 1;
    case MOE_O_TOPK: m->topk = smx_cli_long_or_fail(arg, 1, 64, what, "--topk"), m->topk_given = 1; return 1;
    case MOE_O_ACT:
        m->act = smx_cli_choice_or_fail(arg, ACTS, what, "--act") ? SMX_MOE_ACT_SIGMOID : SMX_MOE_ACT_TANH;
        m->act_given = 1;
        return 1;
    case MOE_O_EXPERTS: m->multinomial = smx_cli_choice_or_fail(arg, EXPERTS, what, "--experts"); return 1;
    case MOE_O_TAUSD:
        m->tau_sd = smx_cli_double_or_fail(arg, what, "--tau-init-sd");
        if (!(m->tau_sd >= 0 && m->tau_sd <= 3)) smx_cli_fail(what, "--tau-init-sd: '%s' not in [0, 3]", arg);
        m->tau_given = 1;
        return 1;
    case MOE_O_CLASSES:
        m->classes = smx_cli_long_or_fail(arg, 2, 8, what, "--classes");
        m->classes_given = 1;
        return 1;
    case MOE_O_QUIET: m->quiet = 1; return 1;
    }
    return 0;
}

void moe_model_finish(moe_model_t *m, moe_cfg_t *cfg, const unsigned char *given, const char *what, const char *cmd)
{
    static const char *const G_GAUSS[] = {"softmax", "topk", "temperature", "activation", NULL};
    static const char *const G_MULT[] = {"softmax", "modified", NULL};
    static const char *const G_GATES[] = {"temperature", "activation", NULL};
    if (m->gate_arg) {
        if (m->cmd == MOE_CMD_TOPK) smx_cli_fail(what, "--gate: not an option of topk (see --help)");
        if (m->cmd == MOE_CMD_GATES)
            m->gate = smx_cli_choice_or_fail(m->gate_arg, G_GATES, what, "--gate") ? MOE_GATE_ACTIVATION
                                                                                   : MOE_GATE_TEMPERATURE;
        else if (m->multinomial)
            m->gate = smx_cli_choice_or_fail(m->gate_arg, G_MULT, what, "--gate") ? MOE_GATE_MODIFIED
                                                                                  : MOE_GATE_SOFTMAX;
        else m->gate = (moe_gate_t)smx_cli_choice_or_fail(m->gate_arg, G_GAUSS, what, "--gate");
    }
    /* the options each model accepts (the alias subcommands' sets) */
    int a = moe_model_is_a(m), tempered = m->gate == MOE_GATE_TEMPERATURE || m->gate == MOE_GATE_ACTIVATION;
    unsigned char ok[MOE_O_FIRST_CMD - SMX_OPT_FIRST_PRIVATE];
    memset(ok, a, sizeof ok);
    for (int id = MOE_O_GATE; id <= MOE_O_QUIET; id++) ok[id - SMX_OPT_FIRST_PRIVATE] = 0; /* the model's own */
    ok[MOE_O_QUIET - SMX_OPT_FIRST_PRIVATE] = ok[MOE_O_GATE - SMX_OPT_FIRST_PRIVATE] = 1;
    ok[MOE_O_MAXIT - SMX_OPT_FIRST_PRIVATE] = ok[MOE_O_TOL - SMX_OPT_FIRST_PRIVATE] = 1;
    ok[MOE_O_EXPERTS - SMX_OPT_FIRST_PRIVATE] = m->cmd == MOE_CMD_SWEEP || m->cmd == MOE_CMD_FIT;
    if (m->gate == MOE_GATE_TOPK)
        ok[MOE_O_K - SMX_OPT_FIRST_PRIVATE] = ok[MOE_O_RBAR - SMX_OPT_FIRST_PRIVATE] = ok[MOE_O_TOPK - SMX_OPT_FIRST_PRIVATE] = 1;
    if (tempered) ok[MOE_O_DESIGN - SMX_OPT_FIRST_PRIVATE] = ok[MOE_O_TAUSD - SMX_OPT_FIRST_PRIVATE] = 1;
    if (m->gate == MOE_GATE_ACTIVATION) ok[MOE_O_ACT - SMX_OPT_FIRST_PRIVATE] = 1;
    if (m->multinomial) ok[MOE_O_CLASSES - SMX_OPT_FIRST_PRIVATE] = ok[MOE_O_TRUTH - SMX_OPT_FIRST_PRIVATE] = 1;
    for (int id = MOE_O_TRUTH; id < MOE_O_FIRST_CMD; id++) {
        if (!given[id - SMX_OPT_FIRST_PRIVATE] || ok[id - SMX_OPT_FIRST_PRIVATE]) continue;
        const char *opt = OPT_NAMES[id - MOE_O_TRUTH];
        if (id == MOE_O_ACT) smx_cli_fail(what, "--act: needs --gate activation");
        if (m->cmd >= MOE_CMD_GATES) smx_cli_fail(what, "--%s: not an option of %s (see --help)", opt, cmd);
        smx_cli_fail(what, "--%s: not an option of the %s%s model (see --help)", opt,
                     m->multinomial ? "multinomial-expert " : "", GATE_NAMES[m->gate]);
    }
    if (a) {
        moe_cfg_finish(cfg, cmd);
        return;
    }
    if (m->gate == MOE_GATE_TOPK) moe_topk_setup(cfg, m, what);
    else if (tempered) moe_gates_setup(cfg, m);
    else moe_mult_setup(cfg, m, what);
}

void moe_model_meta(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m, long nmin, long nmax, long points,
                    long reps)
{
    for (int post = 0; post < 2; post++) { /* the variant's model lines, the grid, the cfg, the variant's rest */
        if (post) {
            smx_tsv_meta(t, "nmin", "%ld", nmin);
            smx_tsv_meta(t, "nmax", "%ld", nmax);
            smx_tsv_meta(t, "points", "%ld", points);
            smx_tsv_meta(t, "reps", "%ld", reps);
            moe_cfg_meta(t, cfg);
        }
        if (m->multinomial) moe_mult_meta(t, cfg, m, post);
        else if (m->gate == MOE_GATE_TOPK) moe_topk_meta(t, cfg, m, post);
        else moe_gates_meta(t, cfg, m, post);
    }
}

void moe_model_header(smx_tsv_t *t, const moe_cfg_t *cfg, const moe_model_t *m)
{
    (void)cfg;
    smx_tsv_header(t, m->multinomial ? moe_mult_header(m) : m->gate == MOE_GATE_TOPK ? moe_topk_header(m)
                                                                                    : moe_gates_header(m));
}

/* ---- workers ---- */

int moe_worker_alloc(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, size_t n_max)
{
    memset(w, 0, sizeof *w);
    if (moe_model_is_a(m)) {
        w->s = moe_scratch_alloc(cfg, n_max);
        if (!w->s) return SMX_ENOMEM;
        if (moe_task_alloc(&w->r, cfg)) {
            moe_scratch_free(w->s);
            w->s = NULL;
            return SMX_ENOMEM;
        }
        w->ok = 1;
        return SMX_OK;
    }
    size_t d = cfg->truth.d, S = (size_t)m->classes;
    w->x = malloc(n_max * d * sizeof *w->x);
    w->gx = malloc(n_max * d * sizeof *w->gx);
    w->y = malloc(n_max * sizeof *w->y);
    w->th = malloc(cfg->k * (S - 1) * (d + 1) * sizeof *w->th);
    w->w = smx_moe_em_alloc(n_max, cfg->k, d);
    if (!w->x || !w->gx || !w->y || !w->th || !w->w || smx_moe_alloc(&w->fit, cfg->k, d)) {
        free(w->x), free(w->gx), free(w->y), free(w->th);
        smx_moe_em_free(w->w);
        memset(w, 0, sizeof *w);
        return SMX_ENOMEM;
    }
    w->ok = 1;
    return SMX_OK;
}

void moe_worker_free(moe_worker_t *w, const moe_model_t *m)
{
    if (!w->ok) return;
    if (moe_model_is_a(m)) {
        moe_scratch_free(w->s);
        moe_task_free(&w->r);
    } else {
        free(w->x), free(w->gx), free(w->y), free(w->th);
        smx_moe_em_free(w->w);
        smx_moe_free(&w->fit);
    }
    w->ok = 0;
}

/* paper (a)'s row: n rep seed k loglik iterations converged restarts iterations_all D_min D_none t0 t1_*
 * hellinger loss_status, then per true expert size err_beta1 err_a err_b err_var */
static char *task_row(const moe_task_t *r, const moe_cfg_t *cfg, long n, long rep, unsigned long seed)
{
    moe_sb_t b = {0};
    moe_sb_add(&b, "%ld\t%ld\t%lu\t%zu", n, rep, seed, cfg->k);
    moe_sb_num(&b, r->em.loglik);
    moe_sb_add(&b, "\t%d\t%d\t%d\t%ld", r->em.iterations, r->em.converged, cfg->restarts, r->iterations_all);
    int okl = r->loss_status == SMX_OK;
    moe_sb_num(&b, okl ? r->vmin.D : NAN);
    moe_sb_num(&b, okl ? r->vnone.D : NAN);
    for (size_t u = 0; u <= cfg->truth.d; u++) moe_sb_num(&b, okl ? r->vmin.t[u] : NAN);
    moe_sb_num(&b, r->hellinger);
    moe_sb_add(&b, "\t%d", r->loss_status);
    for (size_t j = 0; j < cfg->truth.k; j++) {
        moe_sb_add(&b, "\t%d", okl ? r->vmin.size[j] : -1);
        for (int g = 0; g < 4; g++) moe_sb_num(&b, okl ? r->vmin.err[j][g] : NAN);
    }
    moe_sb_add(&b, "\n");
    return b.s;
}

int moe_model_sample(double *x, double *y, const moe_cfg_t *cfg, const moe_model_t *m, size_t n, gsl_rng *rd)
{
    if (moe_model_is_a(m)) return smx_moe_sample(x, y, &cfg->truth, n, cfg->design, rd);
    return m->multinomial ? moe_mult_sample(x, y, cfg, m, n, rd)
           : m->gate == MOE_GATE_TOPK ? moe_topk_sample(x, y, cfg, m, n, rd)
                                      : moe_gates_sample(x, y, cfg, m, n, rd);
}

char *moe_worker_row(moe_worker_t *w, const moe_cfg_t *cfg, const moe_model_t *m, long n, long rep,
                     unsigned long seed, const double *x, const double *y)
{
    if (moe_model_is_a(m)) {
        if (moe_task_run(&w->r, w->s, cfg, (size_t)n, seed, x, y)) return NULL;
        w->seconds = w->r.seconds;
        return task_row(&w->r, cfg, n, rep, seed);
    }
    if (x) { /* the given data in the worker's buffers */
        memcpy(w->x, x, (size_t)n * cfg->truth.d * sizeof *x);
        memcpy(w->y, y, (size_t)n * sizeof *y);
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int hd = x != NULL;
    char *row = m->multinomial ? moe_mult_row(w, cfg, m, n, rep, seed, hd)
                : m->gate == MOE_GATE_TOPK ? moe_topk_row(w, cfg, m, n, rep, seed, hd)
                                           : moe_gates_row(w, cfg, m, n, rep, seed, hd);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    w->seconds = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    return row;
}
