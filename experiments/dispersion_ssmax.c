/* dispersion_ssmax.c - smx-dispersion ssmax: replicas of Nakanishi 2025 ("Scalable-Softmax Is
 * Superior for Attention") Fig 1 and Fig 3, and the p_max heat map over s*Delta x n.
 * SSMax(z)_i = softmax((s ln n) z)_i (eq. 2). Closed forms from dispersion_theory.c; the same
 * vectors materialised through smx_ssmax / smx_softmax_temp (temperature.h) in fp64. */
#include "dispersion_cmds.h"
#include "dispersion_io.h"
#include "dispersion_theory.h"
#include "smx.h"
#include "temperature.h"
#include "tsv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char prog[] = "smx-dispersion ssmax";
static const char usage[] =
    "Usage: smx-dispersion ssmax [OPTIONS]\n"
    "Nakanishi 2025 Fig 1: all logits -2 but one +3 (gap 5), s = 0.43: p_max vs n for softmax and SSMax;\n"
    "Fig 3: n-1 logits evenly spaced in [0,1] plus z_max: p(z_max) vs z_max for several n;\n"
    "heat map of p_max = 1/(1 + (n-1) n^{-s Delta}) over s*Delta x log2 n. Closed forms in MPFR and\n"
    "materialised vectors (smx_ssmax, smx_softmax_temp in fp64).\n"
    "Writes OUT (summary: quantity, paper, ours) and OUT-fig1.tsv, OUT-fig3.tsv, OUT-heatmap.tsv.\n"
    "  --s S          SSMax scale (default 0.43, the paper's Fig 1 value)\n"
    "  --fig1-nmax N  Fig 1 up to n = N (default 10000; every n <= 1000, then log-spaced)\n"
    "  --fig3-n LIST  Fig 3 set sizes n (default 10,100,1000,10000,100000)\n"
    "  --seed N --out FILE (default data/quick/dispersion-ssmax.tsv) --profile quick|paper --threads N\n"
    "  --quiet (no progress on stderr) --help --version\n";

enum { O_S = DISPERSION_OPT_FIRST_PRIVATE, O_F1N, O_F3N };

typedef struct {
    double s, fig3_n[8];
    size_t nf3;
    long fig1_nmax;
    smx_format_t f64;     /* fp64, for the materialised vectors */
    dispersion_cmd_t cmd; /* common options and the command line for the metadata */
} opts_t;

static void meta(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    const dispersion_meta_t v[] = {{"s", 'g', &o->s}, {"fig1_nmax", 'l', &o->fig1_nmax}};
    dispersion_meta_std(t, prog, &o->cmd);
    dispersion_meta_table(t, v, sizeof v / sizeof v[0]);
    dispersion_meta_list(t, "fig3_n", o->fig3_n, o->nf3);
}

/* Fig 1 vector: n-1 logits -2, one +3 (index 0); p_max through the library in fp64. */
static void fig1_vec(double *pm_soft, double *pm_ss, double *x, double *y, size_t n, double s,
                     const smx_format_t *f64)
{
    x[0] = 3.0;
    for (size_t i = 1; i < n; i++) x[i] = -2.0;
    smx_softmax_temp(y, x, n, 1.0, f64);
    *pm_soft = y[0];
    smx_ssmax(y, x, n, s, f64);
    *pm_ss = y[0];
}

/* Two work vectors of nmax doubles: SMX_OK, or SMX_ENOMEM with nothing left allocated. */
static int alloc_vectors(double **x, double **y, size_t nmax)
{
    *x = malloc(nmax * sizeof **x), *y = malloc(nmax * sizeof **y);
    if (*x && *y) return SMX_OK;
    free(*x), free(*y);
    return SMX_ENOMEM;
}

static int write_fig1(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    size_t nmax = (size_t)o->fig1_nmax;
    double *x, *y;
    if (alloc_vectors(&x, &y, nmax)) return SMX_ENOMEM;
    smx_tsv_meta(t, "setup", "n-1 logits -2, one +3 (gap 5); softmax beta = 1, SSMax beta = s ln n");
    smx_tsv_meta(t, "paper_values", "softmax p_max 0.5 at n ~ 149, 0.129 at n = 1000; SSMax 0.816 (n=2), 0.940 (10), 0.995 (100)");
    smx_tsv_header(t, "n\tpmax_softmax\tpmax_softmax_vec\tpmax_ssmax\tpmax_ssmax_vec");
    for (size_t n = 2; n <= nmax; n = n < 1000 ? n + 1 : (size_t)ceil(n * 1.05)) {
        double ps, pss;
        fig1_vec(&ps, &pss, x, y, n, o->s, &o->f64);
        smx_tsv_int(t, (long long)n);
        smx_tsv_num(t, dispersion_pmax_gap((double)n, 1.0, 5.0));
        smx_tsv_num(t, ps);
        smx_tsv_num(t, dispersion_pmax_gap((double)n, dispersion_ssmax_beta(o->s, (double)n), 5.0));
        smx_tsv_num(t, pss);
        smx_tsv_endrow(t);
    }
    free(x), free(y);
    return SMX_OK;
}

static int write_fig3(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    size_t nmax = 3;
    for (size_t i = 0; i < o->nf3; i++) nmax = fmax(nmax, o->fig3_n[i]);
    double *x, *y;
    if (alloc_vectors(&x, &y, nmax)) return SMX_ENOMEM;
    smx_tsv_meta(t, "setup", "logits k/(n-2), k = 0..n-2, plus z_max (index 0); n = all entries");
    smx_tsv_meta(t, "paper_claim", "softmax: z_max needed for focus grows without bound in n; SSMax: focus once z_max exceeds the rest by ~1/s");
    smx_tsv_header(t, "n\tzmax\tp_softmax\tp_softmax_vec\tp_ssmax\tp_ssmax_vec");
    for (size_t k = 0; k < o->nf3; k++) {
        size_t n = (size_t)o->fig3_n[k];
        double bss = dispersion_ssmax_beta(o->s, (double)n);
        for (size_t i = 1; i < n; i++) x[i] = (double)(i - 1) / (double)(n - 2);
        for (int j = 0; j <= 300; j++) {
            double z = 0.05 * j;
            x[0] = z;
            smx_tsv_int(t, (long long)n);
            smx_tsv_num(t, z);
            smx_tsv_num(t, dispersion_pz_spaced((double)n, 1.0, z));
            smx_softmax_temp(y, x, n, 1.0, &o->f64);
            smx_tsv_num(t, y[0]);
            smx_tsv_num(t, dispersion_pz_spaced((double)n, bss, z));
            smx_ssmax(y, x, n, o->s, &o->f64);
            smx_tsv_num(t, y[0]);
            smx_tsv_endrow(t);
        }
    }
    free(x), free(y);
    return SMX_OK;
}

/* p_max of the gap configuration at inverse temperature s ln n, gap Delta: depends on s*Delta only. */
static int write_heatmap(smx_tsv_t *t, const void *opts)
{
    (void)opts;
    smx_tsv_meta(t, "formula", "p_max = 1/(1 + (n-1) n^{-s Delta}) -> 1 if s Delta > 1, 1/2 if = 1, 0 if < 1 (Nakanishi 2025)");
    smx_tsv_header(t, "sDelta\tlog2n\tn\tpmax");
    for (int i = 0; i <= 100; i++) {
        for (int j = 0; j <= 116; j++) {
            double sd = 0.025 * i, l2 = 1 + 0.25 * j, n = exp2(l2);
            smx_tsv_num(t, sd);
            smx_tsv_num(t, l2);
            smx_tsv_num(t, n);
            smx_tsv_num(t, dispersion_pmax_gap(n, sd * log(n), 1.0));
            smx_tsv_endrow(t);
        }
        fputc('\n', smx_tsv_stream(t)); /* gnuplot pm3d: blank line between scans */
    }
    return SMX_OK;
}

static void row3(smx_tsv_t *t, const char *q, const char *paper, double ours)
{
    smx_tsv_str(t, q);
    smx_tsv_str(t, paper);
    smx_tsv_num(t, ours);
    smx_tsv_endrow(t);
}

static int write_summary(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    smx_tsv_meta(t, "paper", "Nakanishi 2025 Fig 1 (s = 0.43, logits -2 and one +3)");
    smx_tsv_header(t, "quantity\tpaper\tours");
    double s = o->s;
    row3(t, "softmax: n with p_max = 0.5 (1 + e^5)", "~149", 1.0 + exp(5.0));
    row3(t, "softmax p_max at n = 149", "0.5", dispersion_pmax_gap(149, 1, 5));
    row3(t, "softmax p_max at n = 1000", "0.129", dispersion_pmax_gap(1000, 1, 5));
    row3(t, "SSMax p_max at n = 2", "0.816", dispersion_pmax_gap(2, dispersion_ssmax_beta(s, 2), 5));
    row3(t, "SSMax p_max at n = 10", "0.940", dispersion_pmax_gap(10, dispersion_ssmax_beta(s, 10), 5));
    row3(t, "SSMax p_max at n = 100", "0.995", dispersion_pmax_gap(100, dispersion_ssmax_beta(s, 100), 5));
    row3(t, "SSMax p_max at n = 2^30", "-> 1", dispersion_pmax_gap(exp2(30), dispersion_ssmax_beta(s, exp2(30)), 5));
    row3(t, "threshold s*Delta = 1: p_max at n = 2^30", "-> 1/2", dispersion_pmax_gap(exp2(30), log(exp2(30)), 1));
    return SMX_OK;
}

int dispersion_cmd_ssmax(int argc, char **argv)
{
    static const struct option lopts[] = {SMX_CLI_ARG("s", O_S),
                                          SMX_CLI_ARG("fig1-nmax", O_F1N),
                                          SMX_CLI_ARG("fig3-n", O_F3N),
                                          DISPERSION_COMMON_OPTIONS,
                                          {0, 0, 0, 0}};
    opts_t o = {.s = 0.43, .fig1_nmax = 10000};
    dispersion_cmd_init(&o.cmd, argc, argv);
    o.nf3 = smx_cli_doubles_or_fail(o.fig3_n, 8, "10,100,1000,10000,100000", 3, 1e7, prog, "--fig3-n");
    int opt;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_S: o.s = smx_cli_double_or_fail(optarg, prog, "--s");
            if (!(o.s > 0 && o.s < 100)) smx_cli_fail(prog, "--s: must be in (0, 100)");
            break;
        case O_F1N: o.fig1_nmax = smx_cli_long_or_fail(optarg, 2, 100000000, prog, "--fig1-nmax"); break;
        case O_F3N: o.nf3 = smx_cli_doubles_or_fail(o.fig3_n, 8, optarg, 3, 1e7, prog, "--fig3-n"); break;
        default: dispersion_common_or_fail(&o.cmd, opt, optarg, prog, usage);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    for (size_t i = 0; i < o.nf3; i++)
        if (o.fig3_n[i] != floor(o.fig3_n[i])) smx_cli_fail(prog, "--fig3-n: %g is not an integer", o.fig3_n[i]);
    double nmax = (double)o.fig1_nmax; /* two vectors of nmax doubles, refused up front if they cannot fit */
    for (size_t i = 0; i < o.nf3; i++) nmax = fmax(nmax, o.fig3_n[i]);
    char what[96];
    snprintf(what, sizeof what, "--fig1-nmax / --fig3-n (two vectors of %.0f doubles)", nmax);
    smx_cli_mem_or_fail(16 * nmax, what, prog);
    char buf[64];
    const char *out = dispersion_out(buf, sizeof buf, &o.cmd.c, "ssmax");
    smx_format_get(&o.f64, "fp64");
    static const char *const siblings[] = {"fig1", "fig3", "heatmap", NULL};
    static const dispersion_write_t write[] = {write_summary, write_fig1, write_fig3, write_heatmap};
    return dispersion_write_files(prog, out, siblings, meta, write, &o);
}
