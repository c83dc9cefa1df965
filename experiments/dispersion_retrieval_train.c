/* dispersion_retrieval_train.c - training of the retrieval models of smx-dispersion
 * (dispersion_retrieval.h): the training state (both models, AdamW, sampler, log), its checkpoint
 * (solvers/run.h on numerics/ckpt.h: a resumed run writes the same bytes as an uninterrupted one)
 * and the training loop (softmax model, then SSMax model). */
#include "dispersion_retrieval.h"
#include "ckpt.h"
#include "run.h"
#include "smx.h"
#include "rng.h"
#include "machine.h"
#include "progress.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dret_method_t dret_phase_meth[2] = {DRET_SOFTMAX, DRET_SSMAX};

int dret_state_alloc(dret_state_t *S, const dret_opts_t *o)
{
    memset(S, 0, sizeof *S);
    int st = SMX_OK;
    for (int i = 0; i < 2 && !st; i++) {
        gsl_rng *r = smx_rng_alloc_stream(o->cmd.c.seed, 999); /* the same initial weights */
        st = dret_model_alloc(&S->m[i], (size_t)o->d, o->s_init, r);
        gsl_rng_free(r);
    }
    S->logcap = 2 * (size_t)(o->steps / DRET_LOG_EVERY);
    S->log = malloc((S->logcap + 1) * DRET_LOGW * sizeof *S->log);
    return st ? st : S->log ? SMX_OK : SMX_ENOMEM;
}

/* Optimiser and sampler of the model S->phase, fresh. */
static int dret_phase_begin(dret_state_t *S, const dret_opts_t *o)
{
    smx_optim_cfg_t cfg;
    smx_optim_cfg_default(&cfg, SMX_OPTIM_ADAMW);
    cfg.lr = o->lr;
    cfg.weight_decay = o->wd;
    size_t len[DRET_NT];
    for (int i = 0; i < DRET_NT; i++) len[i] = S->m[S->phase].t[i].n;
    S->r = smx_rng_alloc_stream(o->cmd.c.seed, 1000 + dret_phase_meth[S->phase]);
    return smx_optim_alloc(&S->opt, &cfg, SMX_DTYPE_F64, len, DRET_NT);
}

static void dret_phase_end(dret_state_t *S)
{
    smx_optim_free(S->opt);
    gsl_rng_free(S->r);
    S->opt = NULL, S->r = NULL;
    S->step = 0, S->acc_loss = S->acc_hit = 0;
    S->phase++;
}

void dret_state_free(dret_state_t *S)
{
    smx_optim_free(S->opt);
    if (S->r) gsl_rng_free(S->r);
    dret_model_free(&S->m[0]);
    dret_model_free(&S->m[1]);
    free(S->log);
}

/* The options fingerprint (solvers/run.h): every option that changes results, "key=value". */
static void dret_fingerprint(char *buf, size_t size, const dret_opts_t *o)
{
    snprintf(buf, size, "seed=%lu d=%ld steps=%ld batch=%ld lr=%.17g wd=%.17g train-nmax=%ld test-log2=%ld "
             "test-sets=%ld s-init=%.17g", o->cmd.c.seed, o->d, o->steps, o->batch, o->lr, o->wd, o->train_nmax,
             o->test_log2, o->test_sets, o->s_init);
}

/* Steps taken in all (the softmax model's, then the SSMax model's): the checkpoint's step count. */
static long dret_total_step(const dret_state_t *S, const dret_opts_t *o) { return S->phase * o->steps + S->step; }

/* Write the checkpoint o->ckpt (solvers/run.h): fingerprint, steps in all, phase, both models,
 * the log, and for a model in training its AdamW state, its sampler's state and the log sums. */
static int dret_ckpt_save(const dret_state_t *S, const dret_opts_t *o)
{
    char fp[512];
    dret_fingerprint(fp, sizeof fp, o);
    smx_ckpt_t *c = smx_run_ckpt_new(fp, dret_total_step(S, o));
    if (!c) return SMX_ENOMEM;
    int st = smx_ckpt_put_long(c, "phase", S->phase);
    if (!st) st = smx_ckpt_put_f64(c, "w.softmax", S->m[0].w, S->m[0].np);
    if (!st) st = smx_ckpt_put_f64(c, "w.ssmax", S->m[1].w, S->m[1].np);
    if (!st) st = smx_ckpt_put_f64(c, "log", S->log, S->nlog * DRET_LOGW);
    if (!st && S->phase < 2) {
        double acc[2] = {S->acc_loss, S->acc_hit};
        st = smx_ckpt_put_f64(c, "acc", acc, 2);
        if (!st) st = smx_run_put_optim(c, S->opt);
        if (!st) st = smx_run_put_rng(c, "rng", S->r);
    }
    if (!st) st = smx_ckpt_write(c, o->ckpt);
    smx_ckpt_free(c);
    return st;
}

/* Restore S (freshly allocated) from the checkpoint c holding `total` steps; a static reason on failure. */
static const char *dret_ckpt_restore(dret_state_t *S, const smx_ckpt_t *c, long total, const dret_opts_t *o)
{
    long phase, step;
    size_t size;
    if (smx_ckpt_get_long(&phase, c, "phase") || phase < 0 || phase > 2) return "bad phase or step";
    step = total - phase * o->steps;
    if (step < 0 || step > o->steps || (phase == 2 && step)) return "bad phase or step";
    if (smx_ckpt_get_f64(S->m[0].w, c, "w.softmax", S->m[0].np) ||
        smx_ckpt_get_f64(S->m[1].w, c, "w.ssmax", S->m[1].np))
        return "bad parameters";
    if (!smx_ckpt_get(c, "log", &size) || size % (DRET_LOGW * sizeof(double)) ||
        size / (DRET_LOGW * sizeof(double)) > S->logcap)
        return "bad training log";
    S->nlog = size / (DRET_LOGW * sizeof(double));
    smx_ckpt_get_f64(S->log, c, "log", S->nlog * DRET_LOGW);
    for (size_t i = 0; i < S->nlog; i++)
        if (S->log[i * DRET_LOGW] != DRET_SOFTMAX && S->log[i * DRET_LOGW] != DRET_SSMAX) return "bad training log";
    S->phase = (int)phase, S->step = step;
    if (phase == 2) return NULL;
    double acc[2];
    if (smx_ckpt_get_f64(acc, c, "acc", 2)) return "bad log sums";
    S->acc_loss = acc[0], S->acc_hit = acc[1];
    if (dret_phase_begin(S, o)) return "out of memory";
    if (smx_run_get_optim(S->opt, c)) return "bad AdamW state";
    if (smx_run_get_rng(S->r, c, "rng")) return "bad RNG state";
    return NULL;
}

/* --resume: load o->ckpt (which exists) into S. SMX_OK; DRET_BADCKPT with a one-line message in
 * msg if it is unreadable, corrupted or was written with other options. */
int dret_ckpt_load(dret_state_t *S, const dret_opts_t *o, char *msg, size_t msglen)
{
    char fp[512], diff[600];
    dret_fingerprint(fp, sizeof fp, o);
    smx_ckpt_t *c;
    const char *why = NULL;
    long total;
    int st = smx_run_ckpt_open(&c, &total, &why, o->ckpt, fp);
    if (st == SMX_EDOM) {
        smx_run_fingerprint_diff(diff, sizeof diff, o->ckpt, fp);
        snprintf(msg, msglen, "--resume: %s was %s", o->ckpt, diff);
        return DRET_BADCKPT;
    }
    if (st) {
        snprintf(msg, msglen, "--resume: %s: %s", o->ckpt, why ? why : smx_strerror(st));
        return DRET_BADCKPT;
    }
    why = dret_ckpt_restore(S, c, total, o);
    if (why) {
        snprintf(msg, msglen, "--resume: %s: %s", o->ckpt, why);
        st = DRET_BADCKPT;
    }
    smx_ckpt_free(c);
    return st;
}

/* One AdamW step of the model in training; a log row every DRET_LOG_EVERY steps. */
static int dret_train_step(dret_state_t *S, dret_ws_t *w, const dret_opts_t *o)
{
    dret_model_t *m = &S->m[S->phase];
    dret_method_t meth = dret_phase_meth[S->phase];
    size_t B = (size_t)o->batch, n = 2 + gsl_rng_uniform_int(S->r, (unsigned long)o->train_nmax - 1);
    dret_sample(w, B, n, S->r);
    dret_encode(w, m, B * n);
    S->acc_loss += dret_head(w, m, B, n, meth) / (double)B;
    for (size_t b = 0; b < B; b++) {
        int am = 0;
        for (int k = 1; k < DRET_NC; k++)
            if (w->L[b * DRET_NC + k] > w->L[b * DRET_NC + am]) am = k;
        S->acc_hit += (am == w->y[b]) / (double)B;
    }
    dret_backward(w, m, B, n, meth);
    int st = smx_optim_step(S->opt, m->t, DRET_NT);
    if (++S->step % DRET_LOG_EVERY == 0) {
        double *row = S->log + S->nlog++ * DRET_LOGW;
        row[0] = meth, row[1] = (double)S->step, row[2] = S->acc_loss / DRET_LOG_EVERY;
        row[3] = S->acc_hit / DRET_LOG_EVERY, row[4] = *m->s;
        S->acc_loss = S->acc_hit = 0;
    }
    return st;
}

/* Train the softmax model, then the SSMax model, from wherever S stands, on the checkpoint
 * clock of solvers/run.h: a checkpoint every o->ckpt_every seconds (0: none in between) and
 * after training; with o->stop_after, a checkpoint once that many steps in all are done and
 * DRET_STOPPED. */
int dret_train(dret_state_t *S, const dret_opts_t *o)
{
    dret_ws_t w;
    int st = dret_ws_alloc(&w, (size_t)(o->batch * o->train_nmax), (size_t)o->batch, (size_t)o->d, 1);
    /* the training GEMMs are small (64 x 16 rows): threads cost more than they give, so train on
     * one thread (results do not depend on it: nn.h's fixed tiles) */
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    smx_run_clock_t clk;
    smx_run_clock_start(&clk, o->ckpt_every, o->stop_after, smx_time_now());
    while (!st && S->phase < 2) {
        if (!S->opt) st = dret_phase_begin(S, o);
        smx_progress_t pr;
        smx_progress_start(&pr, S->phase ? "train ssmax" : "train softmax", (double)o->steps, o->cmd.quiet);
        while (!st && S->step < o->steps) {
            st = dret_train_step(S, &w, o);
            smx_progress_update(&pr, (double)S->step);
            int due = st ? SMX_RUN_CONTINUE : smx_run_clock_due(&clk, dret_total_step(S, o), smx_time_now());
            if (due != SMX_RUN_CONTINUE) st = dret_ckpt_save(S, o);
            if (!st && due == SMX_RUN_STOP) st = DRET_STOPPED;
        }
        smx_progress_finish(&pr);
        if (!st) dret_phase_end(S);
    }
    if (!st) st = dret_ckpt_save(S, o);
    omp_set_num_threads(threads);
    dret_ws_free(&w);
    return st;
}
