/* collapse_run.c - training loop, log rows, atomic checkpoints and bit-for-bit resume. */
#include "collapse_run.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smx.h"
#include "tsv.h"
#include "util.h"

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

/* ---- checkpoint: "SMXCKPT1", cfgstr, epoch, params, optimizer state + step, log rows, wall ---- */
typedef struct { char *p; size_t n, cap; int err; } buf_t;

static void put(buf_t *b, const void *x, size_t n)
{
    if (b->err) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->err = 1; return; }
        b->p = p; b->cap = cap;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
static void put_u64(buf_t *b, uint64_t v) { put(b, &v, sizeof v); }

static size_t dsz(const collapse_model_t *m) { return m->cfg.dtype == SMX_DTYPE_F32 ? 4 : 8; }

static int ckpt_save(const char *path, const collapse_run_opts_t *o, const collapse_model_t *m,
                     const collapse_log_t *log)
{
    buf_t b = {0};
    const smx_optim_t *op = m->opt;
    put(&b, "SMXCKPT1", 8);
    put_u64(&b, strlen(o->cfgstr));
    put(&b, o->cfgstr, strlen(o->cfgstr));
    put_u64(&b, (uint64_t)m->epoch);
    put(&b, m->param, m->nparam * dsz(m));
    put_u64(&b, (uint64_t)op->step);
    if (op->m) put(&b, op->m, op->total * dsz(m));
    if (op->v) put(&b, op->v, op->total * dsz(m));
    put_u64(&b, log->nrows);
    put(&b, log->v, log->nrows * log->ncols * sizeof(double));
    put(&b, log->wall, log->nrows * sizeof(double));
    int st = b.err ? SMX_ENOMEM : smx_file_write_atomic(path, b.p, b.n);
    free(b.p);
    return st;
}

static int get(FILE *fp, void *x, size_t n) { return fread(x, 1, n, fp) == n ? SMX_OK : SMX_EIO; }

static int ckpt_load(const char *path, const collapse_run_opts_t *o, collapse_model_t *m, collapse_log_t *log)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return SMX_EIO;
    int st = SMX_EIO;
    char magic[8];
    uint64_t len, epoch, step, nrows;
    char *cs = NULL;
    if (get(fp, magic, 8) || memcmp(magic, "SMXCKPT1", 8) || get(fp, &len, 8) || len > 1 << 20) goto out;
    if (!(cs = malloc(len + 1))) { st = SMX_ENOMEM; goto out; }
    if (get(fp, cs, len)) goto out;
    cs[len] = 0;
    if (strcmp(cs, o->cfgstr)) { st = SMX_EDOM; goto out; }
    if (get(fp, &epoch, 8) || get(fp, m->param, m->nparam * dsz(m)) || get(fp, &step, 8)) goto out;
    m->epoch = (long)epoch;
    m->opt->step = (long)step;
    if (m->opt->m && get(fp, m->opt->m, m->opt->total * dsz(m))) goto out;
    if (m->opt->v && get(fp, m->opt->v, m->opt->total * dsz(m))) goto out;
    if (get(fp, &nrows, 8) || nrows > (1u << 30)) goto out;
    log->nrows = 0;
    for (uint64_t r = 0; r < nrows; r++) {
        double row[64];
        if (log->ncols > 64 || get(fp, row, log->ncols * sizeof(double))) goto out;
        if ((st = log_push(log, row, 0)) != SMX_OK) goto out;
        st = SMX_EIO;
    }
    for (uint64_t r = 0; r < nrows; r++) {
        double wall;
        if (get(fp, &wall, sizeof wall)) goto out;
        log->wall[r] = wall;
    }
    st = SMX_OK;
out:
    free(cs);
    fclose(fp);
    return st;
}

static int log_row(collapse_log_t *log, collapse_model_t *m, const collapse_metrics_t *tr, double wall)
{
    collapse_metrics_t te;
    collapse_metrics_t nm = *tr;
    collapse_model_norms(m, &nm);
    collapse_model_eval(m, &te, 1, 0);
    double row[64];
    size_t L = m->D + 1, c = 0;
    row[c++] = (double)m->epoch;
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
    double wall0 = 0;
    if (o->resume) {
        if ((st = ckpt_load(o->ckpt_path, o, m, log)) != SMX_OK) goto out;
        if (log->nrows) wall0 = log->wall[log->nrows - 1];
    }
    double t0 = smx_time_now(), tck = t0;
    smx_progress_t pr;
    smx_progress_start(&pr, "collapse", (double)o->epochs, o->quiet);
    for (;;) {
        collapse_metrics_t tr;
        collapse_model_eval(m, &tr, 0, 1);
        int logit = m->epoch % o->log_every == 0 || m->epoch == o->epochs;
        int dup = log->nrows && log->v[(log->nrows - 1) * log->ncols] == (double)m->epoch;
        if (logit && !dup && (st = log_row(log, m, &tr, wall0 + smx_time_now() - t0)) != SMX_OK) goto out;
        if (m->epoch >= o->epochs || (o->stop_at_onset && logit && tr.sc_frac > 0.5)) { *finished = 1; break; }
        if ((st = collapse_model_step(m)) != SMX_OK) goto out;
        smx_progress_update(&pr, (double)m->epoch);
        double now = smx_time_now();
        int stop = o->stop_at > 0 && m->epoch >= o->stop_at;
        if (o->ckpt_path && (stop || now - tck >= o->ckpt_every)) {
            if ((st = ckpt_save(o->ckpt_path, o, m, log)) != SMX_OK) goto out;
            tck = now;
        }
        if (stop) break;
    }
    smx_progress_finish(&pr);
    if (*finished && o->ckpt_path && !o->stop_at_onset) st = ckpt_save(o->ckpt_path, o, m, log);
out:
    if (st == SMX_OK && mout) *mout = m;
    else collapse_model_free(m);
    return st;
}
