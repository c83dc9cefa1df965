/* collapse_rowgrad.c - smx-collapse rowgrad: train to --epochs, then split every training row's
 * logit gradient into correct class / runner-up / rest under the sequential and the pairwise
 * denominator in the softmax format and exactly (MPFR, 256 bits), on the same logits (issue 11).
 * The parts: collapse_model.h (collapse_grad_parts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "collapse_cmds.h"
#include "smx.h"

static const char *PROG = COLLAPSE_PROG;

/* bands of gap - p ln 2 for the summary (row counts and summed parts per band) */
#define RG_NBANDS 10
static const double RG_EDGE[RG_NBANDS - 1] = {-3, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1};
enum { RG_SEQ = 0, RG_PAIR, RG_EXACT, RG_NORD };
static const char *const RG_ORD[RG_NORD] = {"seq", "pair", "exact"};

typedef struct {
    size_t n, sc[2];               /* rows; rows in SC under the sequential / pairwise sum */
    collapse_gparts_t s[RG_NORD];  /* parts summed over the band's rows */
} rg_band_t;

static size_t band_of(double d)
{
    size_t b = 0;
    while (b < RG_NBANDS - 1 && d >= RG_EDGE[b]) b++;
    return b;
}

static void parts_add(collapse_gparts_t *a, const collapse_gparts_t *p)
{
    a->gy += p->gy; a->gr += p->gr; a->go += p->go; a->gsum += p->gsum;
}

static void meta_bands(smx_tsv_t *t, const rg_band_t *B)
{
    smx_tsv_meta(t, "bands", "per band of gap - p ln 2 [lo, hi): rows, rows in SC (seq, pair), then per order "
                 "(seq pair exact) the summed g_y g_r g_other g_sum");
    for (size_t b = 0; b < RG_NBANDS; b++) {
        char key[16], v[1024];
        int k = snprintf(v, sizeof v, "[%g, %g) n %zu sc %zu %zu", b ? RG_EDGE[b - 1] : -INFINITY,
                         b < RG_NBANDS - 1 ? RG_EDGE[b] : INFINITY, B[b].n, B[b].sc[0], B[b].sc[1]);
        for (int o = 0; o < RG_NORD && k > 0 && (size_t)k < sizeof v; o++)
            k += snprintf(v + k, sizeof v - (size_t)k, " | %s %.6g %.6g %.6g %.6g", RG_ORD[o], B[b].s[o].gy,
                          B[b].s[o].gr, B[b].s[o].go, B[b].s[o].gsum);
        snprintf(key, sizeof key, "band_%zu", b);
        smx_tsv_meta(t, key, "%s", v);
    }
}

int collapse_cmd_rowgrad(collapse_opts_t *o, int argc, char **argv)
{
    char cs[1024];
    collapse_cfg_string(cs, sizeof cs, o);
    collapse_run_opts_t ro = {.cfg = o->cfg, .epochs = o->epochs, .log_every = o->log_every, .quiet = o->quiet,
                              .cfgstr = cs, .log_offset = o->log_conv, .on_init = collapse_io_on_init,
                              .on_init_ctx = (void *)o};
    collapse_log_t log;
    collapse_model_t *m;
    int fin, st = collapse_run(&log, &m, &fin, &ro);
    if (st != SMX_OK) collapse_fail_status(st, "training");
    collapse_metrics_t mt;
    collapse_model_forward(m, &mt, COLLAPSE_TRAIN); /* the training rows' logits in m->z */
    const size_t V = m->V, n = m->ntrain;
    smx_format_t fx;
    smx_format_get(&fx, "p256");
    smx_xent_t *w[RG_NORD] = {NULL, NULL, NULL};
    double *z = malloc(V * sizeof *z), *g = malloc(V * sizeof *g);
    if (!z || !g || smx_xent_alloc(&w[RG_SEQ], V, SMX_XENT_SOFTMAX, SMX_SUM_MAXFIRST, &o->cfg.fmt, 0) ||
        smx_xent_alloc(&w[RG_PAIR], V, SMX_XENT_SOFTMAX, SMX_SUM_PAIRWISE, &o->cfg.fmt, 0) ||
        smx_xent_alloc(&w[RG_EXACT], V, SMX_XENT_SOFTMAX, SMX_SUM_PAIRWISE, &fx, 1))
        collapse_fail_status(SMX_ENOMEM, "rowgrad");
    smx_tsv_t *t = smx_tsv_open(o->com.out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    collapse_meta_options(t, o, argc, argv);
    const double pl2 = o->cfg.fmt.p * M_LN2;
    smx_tsv_meta(t, "rowgrad", "every training row after epoch %ld of this run (trained with --sum %s): its logits' "
                 "gradient d loss / d z (before the 1/n of the mean) under the sequential and the pairwise "
                 "denominator in %s and exactly (p256, MPFR); g_y: correct class, g_r: runner-up (largest other "
                 "logit), g_other: the sum over the remaining classes, g_sum: over all (exactly 0)",
                 o->epochs, collapse_sum_names[o->cfg.sum == SMX_SUM_PAIRWISE], o->cfg.fmt.name);
    smx_tsv_header(t, "row\tlabel\tcorrect\tgap\tgap_minus_pln2\tsc_seq\tsc_pair\tg_y_seq\tg_r_seq\tg_other_seq\tg_sum_seq"
                      "\tg_y_pair\tg_r_pair\tg_other_pair\tg_sum_pair\tg_y_exact\tg_r_exact\tg_other_exact\tg_sum_exact");
    rg_band_t B[RG_NBANDS] = {{0}};
    collapse_gparts_t tot[RG_NORD] = {{0}};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < V; k++)
            z[k] = o->cfg.dtype == SMX_DTYPE_F32 ? ((const float *)m->z)[i * V + k] : ((const double *)m->z)[i * V + k];
        size_t y = collapse_label(m, m->train[i]), r = collapse_runner_up(z, V, y);
        smx_xent_row_t xr[RG_NORD];
        collapse_gparts_t p[RG_NORD];
        for (int od = 0; od < RG_NORD; od++) {
            (void)smx_xent_eval(w[od], &xr[od], g, z, V, y); /* V = the workspace's n, y < V */
            collapse_grad_parts(&p[od], g, V, y, r);
        }
        rg_band_t *b = &B[band_of(xr[RG_SEQ].gap - pl2)];
        b->n++;
        b->sc[0] += (size_t)xr[RG_SEQ].sc;
        b->sc[1] += (size_t)xr[RG_PAIR].sc;
        smx_tsv_int(t, (long long)i);
        smx_tsv_int(t, (long long)y);
        smx_tsv_int(t, m->rows[i].correct);
        smx_tsv_num(t, xr[RG_SEQ].gap);
        smx_tsv_num(t, xr[RG_SEQ].gap - pl2);
        smx_tsv_int(t, xr[RG_SEQ].sc);
        smx_tsv_int(t, xr[RG_PAIR].sc);
        for (int od = 0; od < RG_NORD; od++) {
            parts_add(&b->s[od], &p[od]);
            parts_add(&tot[od], &p[od]);
            smx_tsv_num(t, p[od].gy);
            smx_tsv_num(t, p[od].gr);
            smx_tsv_num(t, p[od].go);
            smx_tsv_num(t, p[od].gsum);
        }
        smx_tsv_endrow(t);
    }
    meta_bands(t, B);
    smx_tsv_meta(t, "totals", "over all rows, seq / pair / exact: g_y %.6g %.6g %.6g, g_r %.6g %.6g %.6g, g_other "
                 "%.6g %.6g %.6g, g_sum %.6g %.6g %.6g", tot[0].gy, tot[1].gy, tot[2].gy, tot[0].gr, tot[1].gr,
                 tot[2].gr, tot[0].go, tot[1].go, tot[2].go, tot[0].gsum, tot[1].gsum, tot[2].gsum);
    smx_tsv_meta(t, "g_y_ratio", "sum of g_y over rows, to the exact one: seq %.6g, pair %.6g", tot[0].gy / tot[2].gy,
                 tot[1].gy / tot[2].gy);
    for (int od = 0; od < RG_NORD; od++) smx_xent_free(w[od]);
    free(z);
    free(g);
    collapse_model_free(m);
    collapse_log_free(&log);
    if (smx_tsv_close(t) != SMX_OK) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    return 0;
}
