/* moe_task.c - one fit of smx-moe: sample, EM with restarts, Voronoi losses, Hellinger distance. */
#include "moe_cmds.h"
#include "smx.h"
#include "util.h"

#include <math.h>
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
    case MOE_O_TRUTH: {
        char err[512];
        smx_moe_free(&cfg->truth);
        if (smx_moe_read(&cfg->truth, err, sizeof err, arg, 0)) smx_cli_fail(what, "--truth: %s", err);
        if (cfg->truth.k > SMX_MOE_VORONOI_KMAX || cfg->truth.d > 7)
            smx_cli_fail(what, "--truth: %s: at most %d experts and d <= 7", arg, SMX_MOE_VORONOI_KMAX);
        return 1;
    }
    case MOE_O_K: cfg->k = (size_t)smx_cli_long_or_fail(arg, 1, 64, what, "--k"); cfg->k_given = 1; return 1;
    case MOE_O_DESIGN: cfg->design = smx_cli_choice_or_fail(arg, DESIGNS, what, "--design"); return 1;
    case MOE_O_INIT: cfg->init = smx_cli_choice_or_fail(arg, INITS, what, "--init"); return 1;
    case MOE_O_RESTARTS:
        cfg->restarts = (int)smx_cli_long_or_fail(arg, 1, 1000, what, "--restarts");
        cfg->restarts_given = 1;
        return 1;
    case MOE_O_MAXIT: cfg->em.max_iter = (int)smx_cli_long_or_fail(arg, 1, 10000000, what, "--max-iter"); return 1;
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

void moe_cfg_finish(moe_cfg_t *cfg, const char *cmd)
{
    char what[64];
    snprintf(what, sizeof what, "%s %s", MOE_PROG, cmd);
    if (!cfg->truth.k) smx_moe_paper_truth(&cfg->truth);
    if (!cfg->k_given) cfg->k = cfg->truth.k;
    if (cfg->k < cfg->truth.k) smx_cli_fail(what, "--k: %zu is below the truth's k* = %zu", cfg->k, cfg->truth.k);
    if (!cfg->restarts_given) cfg->restarts = cfg->k > cfg->truth.k ? 5 : 1;
    if (cfg->design == SMX_MOE_DESIGN_GRID && cfg->truth.d != 1)
        smx_cli_fail(what, "--design: grid needs d = 1 (the truth has d = %zu); use --design uniform", cfg->truth.d);
}

void moe_cfg_free(moe_cfg_t *cfg) { smx_moe_free(&cfg->truth); }

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
