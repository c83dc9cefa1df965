/* collapse_onset.c - smx-collapse onset and gaps: Softmax Collapse onset vs the softmax precision p,
 * measured (one run per format, stopped at onset) and predicted from one high-precision run's logit
 * gaps against numerics/threshold.h (issue 11; README "SC onset vs precision p"). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "collapse_cmds.h"
#include "smx.h"
#include "threshold.h"

static const char *PROG = COLLAPSE_PROG;

/* the epoch of a run's last logged row */
static long log_last_epoch(const collapse_log_t *l)
{
    return (long)l->v[(l->nrows - 1) * l->ncols + COLLAPSE_COL_EPOCH];
}

int collapse_cmd_onset(collapse_opts_t *o, int argc, char **argv)
{
    /* parse the list first: every name must be a format */
    smx_format_t fmts[64];
    int nf = (int)smx_cli_formats_or_fail(fmts, 64, o->formats, 0, PROG, "--formats");
    smx_format_t rfmt;
    if (o->reference) smx_cli_format_or_fail(&rfmt, o->reference, PROG, "--reference");
    smx_tsv_t *t = smx_tsv_open(o->com.out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    collapse_meta_options(t, o, argc, argv);
    smx_tsv_meta(t, "formats", "%s", o->formats);
    smx_tsv_meta(t, "note", "the run stops at the first logged epoch with sc_fraction > 0.5; onset_epoch -1: none within --epochs");
    /* the formats' runs first (each stops at onset or at --epochs), then the reference run only up to
     * the latest onset among the runs that reached it (all runs' last epoch if none did): a run
     * without onset (p6 sequential diverges and runs to --epochs) would otherwise force a
     * full-length reference for a comparison that means nothing; such runs are compared up to
     * that epoch only, and the metadata names them. A shorter run of the same options logs the
     * same rows (no option depends on --epochs except where the run ends), so the compared rows
     * are those of a full-length reference */
    collapse_log_t *logs = calloc((size_t)nf, sizeof *logs);
    if (!logs) { smx_tsv_abort(t); collapse_fail_status(SMX_ENOMEM, "onset"); }
    long need = 0, need_all = 0;
    int any_onset = 0;
    for (int i = 0; i < nf; i++) {
        char cs[1024];
        collapse_opts_t oi = *o;
        oi.cfg.fmt = fmts[i];
        collapse_cfg_string(cs, sizeof cs, &oi);
        collapse_run_opts_t ro = {.cfg = oi.cfg, .epochs = o->epochs, .log_every = o->log_every,
                                  .stop_at_onset = 1, .quiet = o->quiet, .cfgstr = cs,
                              .log_offset = o->log_conv, .on_init = collapse_io_on_init, .on_init_ctx = (void *)o};
        int fin, st = collapse_run(&logs[i], NULL, &fin, &ro);
        if (st != SMX_OK) { smx_tsv_abort(t); collapse_fail_status(st, "training"); }
        long last = log_last_epoch(&logs[i]), on = collapse_log_onset(&logs[i], NULL);
        any_onset |= on >= 0;
        if (on > need) need = on;
        if (last > need_all) need_all = last;
        if (!o->quiet) fprintf(stderr, "%s: onset %s: epoch %ld\n", PROG, fmts[i].name, on);
    }
    if (!any_onset) need = need_all;
    collapse_log_t ref = {0};
    if (o->reference) {
        char cs[1024];
        collapse_opts_t oi = *o;
        oi.cfg.fmt = rfmt;
        collapse_cfg_string(cs, sizeof cs, &oi);
        collapse_run_opts_t ro = {.cfg = oi.cfg, .epochs = need, .log_every = o->log_every, .quiet = o->quiet,
                                  .cfgstr = cs,
                              .log_offset = o->log_conv, .on_init = collapse_io_on_init, .on_init_ctx = (void *)o};
        int fin, st = collapse_run(&ref, NULL, &fin, &ro);
        if (st != SMX_OK) { smx_tsv_abort(t); collapse_fail_status(st, "reference run"); }
        long ron = collapse_log_onset(&ref, NULL);
        smx_tsv_meta(t, "reference", "%s (same options, run to epoch %ld of --epochs %ld: %s; its onset epoch %ld, -1: "
                     "none up to there)", oi.cfg.fmt.name, need, o->epochs,
                     any_onset ? "the latest onset among the runs below that reached onset"
                               : "no run below reached onset: the last logged epoch of the longest one", ron);
        char cut[1024] = "";
        size_t k = 0;
        for (int i = 0; i < nf && k < sizeof cut; i++)
            if (log_last_epoch(&logs[i]) > need)
                k += (size_t)snprintf(cut + k, sizeof cut - k, "%s%s", k ? "," : "", fmts[i].name);
        smx_tsv_meta(t, "reference_cut", "%s", k ? cut : "none");
        smx_tsv_meta(t, "reference_cut_note", "runs named in reference_cut never reached onset and ran past the "
                     "reference's last epoch: their ref_* columns compare only the rows up to it (ref_*_at_end: "
                     "at the reference's last row), the rest of such a run (e.g. a diverging p6) is not compared");
        smx_tsv_meta(t, "reference_tol", "%.17g", o->ref_tol);
        smx_tsv_meta(t, "reference_note", "ref_depart_epoch: first logged epoch with |train_loss - reference's| > "
                     "tol * reference's (-1: none up to the run's end); ref_loss_reldiff_max: largest relative "
                     "difference before that epoch (over the whole run if none), ref_loss_reldiff_at_end: at the run's "
                     "last row; ref_norm_*: the same for w_norm_total (the model's state; the loss is "
                     "computed, and rounded, in each run's format)");
    }
    smx_tsv_header(t, o->reference ? "format\tp\tonset_epoch\tp_ln2\tsc_gap_min\tnonsc_gap_max\tsc_fraction\ttrain_acc\ttest_acc"
                                     "\tref_depart_epoch\tref_loss_reldiff_max\tref_loss_reldiff_at_end"
                                     "\tref_norm_depart_epoch\tref_norm_reldiff_at_end"
                                   : "format\tp\tonset_epoch\tp_ln2\tsc_gap_min\tnonsc_gap_max\tsc_fraction\ttrain_acc\ttest_acc");
    for (int i = 0; i < nf; i++) {
        const collapse_log_t *lg = &logs[i];
        size_t row = lg->nrows - 1;
        long on = collapse_log_onset(lg, &row);
        const double *v = lg->v + row * lg->ncols;
        smx_tsv_str(t, fmts[i].name);
        smx_tsv_int(t, fmts[i].p);
        smx_tsv_int(t, on);
        smx_tsv_num(t, fmts[i].p * M_LN2);
        smx_tsv_num(t, v[COLLAPSE_COL_GAPMIN]);
        smx_tsv_num(t, v[COLLAPSE_COL_GAPMAX]);
        smx_tsv_num(t, v[COLLAPSE_COL_SC]);
        smx_tsv_num(t, v[COLLAPSE_COL_TRAIN_ACC]);
        smx_tsv_num(t, v[COLLAPSE_COL_TEST_ACC]);
        if (o->reference) {
            /* the train loss (as computed in each run's format) and the total weight norm (the
             * model's state, not rounded to the format) against the reference's at the same epoch */
            const size_t cols[2] = {COLLAPSE_COL_LOSS, COLLAPSE_COL_NORM1 + (size_t)o->cfg.depth + 1};
            for (int k = 0; k < 2; k++) {
                long dep = -1;
                double dmax = 0, dend = NAN;
                for (size_t r = 0; r < lg->nrows && r < ref.nrows; r++) {
                    double a = lg->v[r * lg->ncols + cols[k]], b = ref.v[r * ref.ncols + cols[k]];
                    double d = fabs(a - b) / fabs(b);
                    dend = d;
                    if (dep >= 0) continue;
                    if (!(d <= o->ref_tol)) dep = (long)lg->v[r * lg->ncols];
                    else if (d > dmax) dmax = d;
                }
                smx_tsv_int(t, dep);
                if (k == 0) smx_tsv_num(t, dmax);
                smx_tsv_num(t, dend);
            }
        }
        smx_tsv_endrow(t);
    }
    for (int i = 0; i < nf; i++) collapse_log_free(&logs[i]);
    free(logs);
    collapse_log_free(&ref);
    if (smx_tsv_close(t) != SMX_OK) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    return 0;
}

/* ---- gaps: the distribution of the training rows' logit gaps per logged epoch ---- */
#define GAPS_NQ 7
static const double GAPS_Q[GAPS_NQ] = {0, 0.10, 0.25, 0.50, 0.75, 0.90, 1}; /* min .. max */
static const int GAPS_P[3] = {8, 16, 24};

typedef struct {
    double *g;              /* ntrain gaps (scratch) */
    double *q;              /* per logged row: GAPS_NQ quantiles, 3 fractions */
    size_t nrows, cap;
    double thr[3];          /* sequential-sum thresholds of GAPS_P */
} gaps_ctx_t;

static int gaps_on_log(void *ctx, const collapse_model_t *m, long epoch)
{
    (void)epoch;
    gaps_ctx_t *G = ctx;
    if (G->nrows == G->cap) {
        size_t cap = G->cap ? 2 * G->cap : 256;
        double *q = realloc(G->q, cap * (GAPS_NQ + 3) * sizeof *q);
        if (!q) return SMX_ENOMEM;
        G->q = q;
        G->cap = cap;
    }
    size_t n = m->ntrain;
    for (size_t i = 0; i < n; i++) G->g[i] = m->rows[i].x.gap;
    gsl_sort(G->g, 1, n);
    double *row = G->q + G->nrows++ * (GAPS_NQ + 3);
    for (int k = 0; k < GAPS_NQ; k++) row[k] = gsl_stats_quantile_from_sorted_data(G->g, 1, n, GAPS_Q[k]);
    for (int k = 0; k < 3; k++) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++) c += G->g[i] >= G->thr[k];
        row[GAPS_NQ + k] = (double)c / (double)n;
    }
    return SMX_OK;
}

static double threshold_or_fail(int p, smx_sum_algo_t order, size_t V)
{
    char name[16];
    smx_format_t f;
    snprintf(name, sizeof name, "p%d", p);
    double D;
    if (smx_format_get(&f, name) != SMX_OK ||
        smx_threshold_collapse(&D, V, order, SMX_THRESHOLD_ROUNDED_EXP, &f) != SMX_OK)
        collapse_fail_status(SMX_EDOM, "collapse threshold");
    return D;
}

int collapse_cmd_gaps(collapse_opts_t *o, int argc, char **argv)
{
    char cs[1024];
    collapse_cfg_string(cs, sizeof cs, o);
    size_t V = (size_t)o->cfg.modulus, ntrain = (size_t)floor(o->cfg.train_frac * (double)V * (double)V);
    gaps_ctx_t G = {0};
    if (!(G.g = malloc(ntrain * sizeof *G.g))) collapse_fail_status(SMX_ENOMEM, "gaps");
    for (int k = 0; k < 3; k++) G.thr[k] = threshold_or_fail(GAPS_P[k], SMX_SUM_NAIVE, V);
    collapse_run_opts_t ro = {.cfg = o->cfg, .epochs = o->epochs, .log_every = o->log_every, .quiet = o->quiet,
                              .cfgstr = cs,
                              .log_offset = o->log_conv, .on_init = collapse_io_on_init, .on_init_ctx = (void *)o, .on_log = gaps_on_log, .on_log_ctx = &G};
    collapse_log_t log;
    int fin, st = collapse_run(&log, NULL, &fin, &ro);
    if (st != SMX_OK) collapse_fail_status(st, "training");
    /* the median gap's straight line (least squares) from the first logged epoch >= --epochs / 6
     * (past the initial transient) to the last one before this run's own SC fraction becomes
     * nonzero (past it the run's own collapse bends the gaps) */
    size_t r0 = 0, r1 = 0;
    while (r0 < log.nrows && log.v[r0 * log.ncols] < (double)o->epochs / 6) r0++;
    for (r1 = r0; r1 < log.nrows && !(log.v[r1 * log.ncols + COLLAPSE_COL_SC] > 0); r1++) {}
    size_t nf = r1 - r0;
    double *ex = malloc(log.nrows * sizeof *ex), *med = malloc(log.nrows * sizeof *med);
    if (!ex || !med) collapse_fail_status(SMX_ENOMEM, "gaps");
    for (size_t r = 0; r < log.nrows; r++) { ex[r] = log.v[r * log.ncols]; med[r] = G.q[r * (GAPS_NQ + 3) + 3]; }
    double a = NAN, b = NAN, rmax = NAN;
    if (nf >= 2) {
        double mx = gsl_stats_mean(ex + r0, 1, nf), my = gsl_stats_mean(med + r0, 1, nf), sxx = 0, sxy = 0;
        for (size_t r = r0; r < r1; r++) { sxx += (ex[r] - mx) * (ex[r] - mx); sxy += (ex[r] - mx) * (med[r] - my); }
        b = sxy / sxx;
        a = my - b * mx;
        rmax = 0;
        for (size_t r = r0; r < r1; r++) rmax = fmax(rmax, fabs(med[r] - (a + b * ex[r])));
    }
    smx_tsv_t *t = smx_tsv_open(o->com.out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    collapse_meta_options(t, o, argc, argv);
    smx_tsv_meta(t, "gap", "z_max - z_second of each training row's logits (rounded to the softmax format), "
                 "quantiles by linear interpolation (GSL); frac_ge_pN: fraction of rows with gap >= the "
                 "sequential-sum collapse threshold of pN (numerics/threshold.h, rounded exp)");
    smx_tsv_meta(t, "median_gap_fit", "%.17g + %.17g * epoch (least squares over epochs %.0f..%.0f; largest residual %.3g)",
                 a, b, nf ? ex[r0] : NAN, nf ? ex[r1 - 1] : NAN, rmax);
    smx_tsv_meta(t, "epochs_per_bit", "%.17g (ln 2 / slope)", M_LN2 / b);
    smx_tsv_header(t, "epoch\ttrain_loss\ttrain_acc\tsc_fraction\tgap_min\tgap_q10\tgap_q25\tgap_q50\tgap_q75"
                      "\tgap_q90\tgap_max\tfrac_ge_p8\tfrac_ge_p16\tfrac_ge_p24");
    for (size_t r = 0; r < log.nrows; r++) {
        const double *v = log.v + r * log.ncols, *q = G.q + r * (GAPS_NQ + 3);
        smx_tsv_int(t, (long long)v[COLLAPSE_COL_EPOCH]);
        smx_tsv_num(t, v[COLLAPSE_COL_LOSS]);
        smx_tsv_num(t, v[COLLAPSE_COL_TRAIN_ACC]);
        smx_tsv_num(t, v[COLLAPSE_COL_SC]);
        for (int k = 0; k < GAPS_NQ + 3; k++) smx_tsv_num(t, q[k]);
        smx_tsv_endrow(t);
    }
    smx_tsv_t *tp = NULL;
    if (o->predict) {
        if (!(tp = smx_tsv_open(o->predict))) { smx_tsv_abort(t); smx_cli_io_fail(PROG, "--predict: cannot write", o->predict); }
        collapse_meta_options(tp, o, argc, argv);
        smx_tsv_meta(tp, "prediction", "SC onset of a run in pN = the first epoch at which half the training rows' "
                     "gaps reach pN's collapse threshold D (the 'SC fraction > 50 %%' rule), read off this run's "
                     "median gap (%s, %s model); threshold: numerics/threshold.h, V = %zu, rounded exp", o->cfg.fmt.name,
                     collapse_model_formats[o->cfg.dtype], V);
        smx_tsv_meta(tp, "median_gap_fit", "%.17g + %.17g * epoch (epochs %.0f..%.0f)", a, b,
                     nf ? ex[r0] : NAN, nf ? ex[r1 - 1] : NAN);
        smx_tsv_meta(tp, "columns", "onset_first: first logged epoch with median gap >= D (-1: not within "
                     "--epochs); onset_fit: (D - a) / b from the fit (extrapolated past --epochs)");
        smx_tsv_header(tp, "p\tsum\tthreshold\tonset_first\tonset_fit");
        for (int s = 0; s < 2; s++)
            for (int p = 4; p <= 64; p++) {
                double D = threshold_or_fail(p, s ? SMX_SUM_PAIRWISE : SMX_SUM_NAIVE, V);
                long first = -1;
                for (size_t r = 0; r < log.nrows && first < 0; r++)
                    if (med[r] >= D) first = (long)ex[r];
                smx_tsv_int(tp, p);
                smx_tsv_str(tp, collapse_sum_names[s]);
                smx_tsv_num(tp, D);
                smx_tsv_int(tp, first);
                smx_tsv_num(tp, (D - a) / b);
                smx_tsv_endrow(tp);
            }
    }
    smx_tsv_t *all[2] = {t, tp};
    size_t bad;
    if (smx_tsv_close_all_at(all, tp ? 2 : 1, &bad) != SMX_OK) {
        smx_cli_io_fail(PROG, bad ? "--predict: cannot write" : "--out: cannot write", bad ? o->predict : o->com.out);
    }
    free(ex); free(med); free(G.g); free(G.q);
    collapse_log_free(&log);
    return 0;
}
