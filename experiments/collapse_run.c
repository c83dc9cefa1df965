/* collapse_run.c - training loop, log rows, atomic checkpoints and bit-for-bit resume (on solvers/run.h). */
#include "collapse_run.h"
#include "ckpt.h"
#include "run.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smx.h"
#include "tsv.h"
#include "machine.h"
#include "progress.h"

size_t collapse_log_columns(char *buf, size_t size, int depth)
{
    int L = depth + 1, n = snprintf(buf, size, "epoch\ttrain_loss\ttrain_acc\ttest_acc\tsc_fraction\t"
                                               "zero_loss_fraction\tsc_gap_min\tnonsc_gap_max");
    for (int l = 1; l <= L; l++) n += snprintf(buf + n, size - (size_t)n, "\tw_norm_%d", l);
    n += snprintf(buf + n, size - (size_t)n, "\tw_norm_total");
    for (int l = 1; l <= L; l++) n += snprintf(buf + n, size - (size_t)n, "\tcos_nlm_%d", l);
    return (size_t)(COLLAPSE_COL_NORM1 + 2 * L + 1);
}

void collapse_log_free(collapse_log_t *log)
{
    free(log->v);
    free(log->wall);
    memset(log, 0, sizeof *log);
}

static int log_push(collapse_log_t *log, const double *row, double wall)
{
    if (log->nrows == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 64;
        double *v = realloc(log->v, cap * log->ncols * sizeof *v);
        if (!v) return SMX_ENOMEM;
        log->v = v;
        double *w = realloc(log->wall, cap * sizeof *w);
        if (!w) return SMX_ENOMEM;
        log->wall = w;
        log->cap = cap;
    }
    memcpy(log->v + log->nrows * log->ncols, row, log->ncols * sizeof *row);
    log->wall[log->nrows++] = wall;
    return SMX_OK;
}

long collapse_log_onset(const collapse_log_t *log, size_t *row)
{
    for (size_t r = 0; r < log->nrows; r++)
        if (log->v[r * log->ncols + COLLAPSE_COL_SC] > 0.5) {
            if (row) *row = r;
            return (long)log->v[r * log->ncols + COLLAPSE_COL_EPOCH];
        }
    return -1;
}

/* ---- checkpoint (solvers/run.h): fingerprint, step, parameters, optimizer state, log rows
 * and their wall times ---- */
static size_t dsz(const collapse_model_t *m) { return m->cfg.dtype == SMX_DTYPE_F32 ? 4 : 8; }

static int ckpt_save(const char *path, const collapse_run_opts_t *o, const collapse_model_t *m,
                     const collapse_log_t *log)
{
    smx_ckpt_t *c = smx_run_ckpt_new(o->cfgstr, m->epoch);
    if (!c) return SMX_ENOMEM;
    int st = smx_ckpt_put(c, "params", m->param, m->nparam * dsz(m));
    if (!st) st = smx_run_put_optim(c, m->opt);
    if (!st) st = smx_ckpt_put_f64(c, "log", log->v, log->nrows * log->ncols);
    if (!st) st = smx_ckpt_put_f64(c, "wall", log->wall, log->nrows);
    if (!st) st = smx_ckpt_write(c, path);
    smx_ckpt_free(c);
    return st;
}

/* SMX_EDOM if the checkpoint was written with other options, SMX_EIO if unreadable or invalid. */
static int ckpt_load(const char *path, const collapse_run_opts_t *o, collapse_model_t *m, collapse_log_t *log)
{
    smx_ckpt_t *c;
    long epoch;
    int st = smx_run_ckpt_open(&c, &epoch, NULL, path, o->cfgstr);
    if (st != SMX_OK) return st;
    size_t nlog;
    const void *rows = smx_ckpt_get(c, "log", &nlog);
    size_t rowb = log->ncols * sizeof(double);
    st = SMX_EIO;
    if (smx_run_get_blob(m->param, c, "params", m->nparam * dsz(m)) || smx_run_get_optim(m->opt, c) || !rows ||
        log->ncols > 64 || nlog % rowb)
        goto out;
    m->epoch = epoch;
    log->nrows = 0;
    for (size_t r = 0; r < nlog / rowb; r++) {
        double row[64];
        memcpy(row, (const char *)rows + r * rowb, rowb);
        if ((st = log_push(log, row, 0)) != SMX_OK) goto out;
    }
    st = smx_ckpt_get_f64(log->wall, c, "wall", log->nrows) ? SMX_EIO : SMX_OK;
out:
    smx_ckpt_free(c);
    return st;
}

static int log_row(collapse_log_t *log, collapse_model_t *m, long epoch, const collapse_metrics_t *tr, double wall)
{
    collapse_metrics_t te;
    collapse_metrics_t nm = *tr;
    collapse_model_norms(m, &nm);
    collapse_model_forward(m, &te, COLLAPSE_TEST);
    double row[64];
    size_t L = m->D + 1, c = 0;
    row[c++] = (double)epoch;
    row[c++] = tr->loss;
    row[c++] = tr->acc;
    row[c++] = te.acc;
    row[c++] = tr->sc_frac;
    row[c++] = tr->zero_frac;
    row[c++] = tr->sc_gap_min;
    row[c++] = tr->nonsc_gap_max;
    for (size_t l = 0; l < L; l++) row[c++] = nm.norm[l];
    row[c++] = nm.norm_total;
    for (size_t l = 0; l < L; l++) row[c++] = nm.cos_nlm[l];
    return log_push(log, row, wall);
}

int collapse_run(collapse_log_t *log, collapse_model_t **mout, int *finished, const collapse_run_opts_t *o)
{
    char hdr[1024];
    *finished = 0;
    if (mout) *mout = NULL;
    memset(log, 0, sizeof *log);
    log->ncols = collapse_log_columns(hdr, sizeof hdr, o->cfg.depth);
    collapse_model_t *m;
    int st = collapse_model_alloc(&m, &o->cfg);
    if (st != SMX_OK) return st;
    if (!o->resume && o->on_init && (st = o->on_init(o->on_init_ctx, m)) != SMX_OK) goto out;
    double wall0 = 0;
    if (o->resume) {
        if ((st = ckpt_load(o->ckpt_path, o, m, log)) != SMX_OK) goto out;
        if (log->nrows) wall0 = log->wall[log->nrows - 1];
    }
    double t0 = smx_time_now();
    smx_run_clock_t clk;
    smx_run_clock_start(&clk, o->ckpt_every, o->stop_at, t0);
    smx_progress_t pr;
    smx_progress_start(&pr, "collapse", (double)(o->epochs + o->log_offset), o->quiet);
    for (;;) {
        collapse_metrics_t tr;
        collapse_model_forward_backward(m, &tr);
        long e = m->epoch - o->log_offset; /* the epoch this state is logged as */
        int logit = e >= 0 && (e % o->log_every == 0 || e == o->epochs);
        int dup = log->nrows && log->v[(log->nrows - 1) * log->ncols] == (double)e;
        if (logit && !dup && o->on_log && (st = o->on_log(o->on_log_ctx, m, e)) != SMX_OK) goto out;
        if (logit && !dup && (st = log_row(log, m, e, &tr, wall0 + smx_time_now() - t0)) != SMX_OK) goto out;
        if (e >= o->epochs || (o->stop_at_onset && logit && tr.sc_frac > 0.5)) { *finished = 1; break; }
        if ((st = collapse_model_step(m)) != SMX_OK) goto out;
        smx_progress_update(&pr, (double)m->epoch);
        int due = smx_run_clock_due(&clk, m->epoch, smx_time_now());
        if (o->ckpt_path && due != SMX_RUN_CONTINUE && (st = ckpt_save(o->ckpt_path, o, m, log)) != SMX_OK) goto out;
        if (due == SMX_RUN_STOP) break;
    }
    smx_progress_finish(&pr);
    if (*finished && o->ckpt_path && !o->stop_at_onset) st = ckpt_save(o->ckpt_path, o, m, log);
out:
    if (st == SMX_OK && mout) *mout = m;
    else collapse_model_free(m);
    return st;
}
