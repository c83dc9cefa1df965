/* dispersion_precision.c - smx-dispersion precision: leakage 1 - p_max and the softmax normaliser
 * vs n in emulated formats (format.h, sum.h) against MPFR closed forms (science/dispersion.md,
 * "Where precision matters").
 * Vector: one logit Delta above n-1 equal others, after max subtraction the terms are
 * t_0 = 1, t_i = fl(e^{-Delta}) (i >= 1). Normaliser S = sum t_i (naive / pairwise / compensated,
 * every addition rounded), p_max = fl(1/S), p_other = fl(t_1/S), leakage 1 - p_max, and the
 * log-space leakage ln(1 - p) = ln S' - log1p(S'), S' = sum_{i>=1} t_i, each op rounded. */
#include "dispersion_cmds.h"
#include "dispersion_io.h"
#include "dispersion_theory.h"
#include "smx.h"
#include "sum.h"
#include "tsv.h"
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char prog[] = "smx-dispersion precision";
static const char usage[] =
    "Usage: smx-dispersion precision [OPTIONS]\n"
    "One logit Delta above n-1 equal others (Delta = 0: n equal logits, normaliser n, coefficients 1/n):\n"
    "normaliser S, p_max = 1/S, the others' coefficient and the leakage 1 - p_max vs n in each format\n"
    "with naive / pairwise / compensated sums (sum.h, every operation rounded), beside the exact values\n"
    "(MPFR, 256 bits) and the log-space leakage ln(1-p) = ln S' - log1p(S') evaluated in the format.\n"
    "Shows: naive sums of equal terms stop at 2^p (bf16 256, fp16 2048, fp32 2^24); 1/n subnormal / 0;\n"
    "1 - p_max rounding to 0 once (n-1) e^{-Delta} < u.\n"
    "  --gaps LIST        Delta values (default 0,14.78,40)\n"
    "  --formats LIST     formats (default fp16,bf16,fp32,fp64; p <= 53)\n"
    "  --nmax-log2 K      n up to 2^K (quick 26, paper 28; needs 8 * 2^K bytes); Delta > 0 and the\n"
    "                     log-space leakage stop at 2^22 (run time)\n"
    "  --per-octave M     grid points per octave (quick 2, paper 4)\n"
    "  --seed N --out FILE (default data/quick/dispersion-precision.tsv) --profile quick|paper --threads N\n"
    "  --quiet (no progress on stderr) --help --version\n";

enum { O_GAPS = DISPERSION_OPT_FIRST_PRIVATE, O_FORMATS, O_NMAX, O_PER };

typedef struct {
    double gaps[8];
    size_t ngaps, nformats;
    smx_format_t formats[8];
    int nmax_log2, per;
    dispersion_cmd_t cmd; /* common options and the command line for the metadata */
} opts_t;

/* Cost control: the log-space leakage (a second sum) and the Delta > 0 rows stop at 2^22. */
#define DISPERSION_LEAK_NMAX ((size_t)1 << 22)

typedef struct {
    double S, pmax, pother, pother_exactS, leak, leak_log;
} prec_row_t;

/* The quantities of one (format, sum, n); t = [1, e, e, ...] already rounded to f. */
static void prec_eval(prec_row_t *r, const double *t, size_t n, smx_sum_algo_t a, const smx_format_t *f)
{
    r->S = smx_sum(t, n, a, f);
    r->pmax = smx_fdiv(1.0, r->S, f);
    r->pother = smx_fdiv(t[1], r->S, f);
    /* t_1 / (exact sum of the rounded terms), rounded once: where 1/n goes subnormal / to 0 */
    r->pother_exactS = smx_format_round(t[1] / (1.0 + (double)(n - 1) * t[1]), f);
    r->leak = 1.0 - r->pmax; /* exact in double (Sterbenz) when pmax >= 1/2 */
    r->leak_log = NAN;
    if (n > DISPERSION_LEAK_NMAX) return;
    double s1 = smx_sum(t + 1, n - 1, a, f);
    r->leak_log = exp(smx_fsub(smx_flog(s1, f), smx_flog1p(s1, f), f));
}

static void put_row(smx_tsv_t *t, double delta, const char *fmt, const char *sum, double n, const prec_row_t *r,
                    double S_ex, double leak_ex)
{
    smx_tsv_num(t, delta);
    smx_tsv_str(t, fmt);
    smx_tsv_str(t, sum);
    smx_tsv_num(t, n);
    smx_tsv_num(t, r->S);
    smx_tsv_num(t, S_ex);
    smx_tsv_num(t, r->pmax);
    smx_tsv_num(t, r->pother);
    smx_tsv_num(t, r->pother_exactS);
    smx_tsv_num(t, r->leak);
    smx_tsv_num(t, r->leak_log);
    smx_tsv_num(t, leak_ex);
    smx_tsv_endrow(t);
}

static void meta(smx_tsv_t *ts, const void *opts)
{
    const opts_t *o = opts;
    const dispersion_meta_t v[] = {{"nmax_log2", 'i', &o->nmax_log2}, {"per_octave", 'i', &o->per}};
    dispersion_meta_std(ts, prog, &o->cmd);
    dispersion_meta_table(ts, v, sizeof v / sizeof v[0]);
    dispersion_meta_list(ts, "gaps", o->gaps, o->ngaps);
    for (size_t fi = 0; fi < o->nformats; fi++) {
        const smx_format_t *f = &o->formats[fi];
        smx_tsv_meta(ts, "format", "%s p=%d saturation_2^p=%.17g min_normal=%.17g min_subnormal=%.17g", f->name, f->p,
                     exp2(f->p), smx_format_min_normal(f), smx_format_min_subnormal(f));
    }
}

static int write_precision(smx_tsv_t *ts, const void *opts)
{
    const opts_t *o = opts;
    size_t nmax = (size_t)1 << o->nmax_log2;
    double *grid, *t = malloc(nmax * sizeof *t);
    size_t ng = dispersion_grid(&grid, 1, o->nmax_log2, o->per);
    if (!t || !grid) {
        free(t), free(grid);
        return SMX_ENOMEM;
    }
    smx_tsv_meta(ts, "paper_expectation", "naive sum of equal terms saturates at 2^p: bf16 256, fp16 2048, fp32 2^24; "
                                          "fp16 1/n subnormal beyond n = 16384, 0 past ~2^25 (science/dispersion.md)");
    smx_tsv_meta(ts, "columns", "S: normaliser; pother: coefficient of a non-top entry; pother_exactS: t_1 / (exact sum of the terms) rounded once to the format (Delta = 0: fl(1/n)); leak = 1 - pmax; leak_log = "
                                "exp(ln S' - log1p S') in the format; leak_exact from MPFR; format mpfr = exact");
    smx_tsv_header(ts, "delta\tformat\tsum\tn\tS\tS_exact\tpmax\tpother\tpother_exactS\tleak\tleak_log\tleak_exact");
    smx_progress_t pr;
    smx_progress_start(&pr, prog, (double)(o->ngaps * o->nformats * 3), o->cmd.quiet);
    for (size_t g = 0; g < o->ngaps; g++) {
        double delta = o->gaps[g], e = exp(-delta);
        for (size_t i = 0; i < ng; i++) { /* the exact values */
            double n = grid[i];
            if (delta > 0 && n > (double)DISPERSION_LEAK_NMAX) break;
            prec_row_t r = {1 + (n - 1) * e, dispersion_pmax_gap(n, 1, delta), 0, 0, 0, 0};
            double lx = exp(dispersion_log_leakage(n, 1, delta));
            r.pother = r.pother_exactS = e * r.pmax, r.leak = lx, r.leak_log = lx;
            put_row(ts, delta, "mpfr", "exact", n, &r, r.S, lx);
        }
        for (size_t fi = 0; fi < o->nformats; fi++) {
            const smx_format_t *f = &o->formats[fi];
            double ef = smx_fexp(-delta, f);
            t[0] = 1.0;
            for (size_t i = 1; i < nmax; i++) t[i] = ef;
            for (int a = 0; a < 3; a++) {
                for (size_t i = 0; i < ng; i++) {
                    double n = grid[i];
                    if (delta > 0 && n > (double)DISPERSION_LEAK_NMAX) break;
                    prec_row_t r;
                    prec_eval(&r, t, (size_t)n, (smx_sum_algo_t)a, f);
                    put_row(ts, delta, f->name, smx_sum_algo_name((smx_sum_algo_t)a), n, &r, 1 + (n - 1) * e,
                            exp(dispersion_log_leakage(n, 1, delta)));
                }
                smx_progress_update(&pr, (double)((g * o->nformats + fi) * 3 + a + 1));
            }
        }
    }
    smx_progress_finish(&pr);
    free(t), free(grid);
    return SMX_OK;
}

int dispersion_cmd_precision(int argc, char **argv)
{
    static const struct option lopts[] = {SMX_CLI_ARG("gaps", O_GAPS),
                                          SMX_CLI_ARG("formats", O_FORMATS),
                                          SMX_CLI_ARG("nmax-log2", O_NMAX),
                                          SMX_CLI_ARG("per-octave", O_PER),
                                          DISPERSION_COMMON_OPTIONS,
                                          {0, 0, 0, 0}};
    opts_t o = {.nmax_log2 = -1, .per = -1};
    dispersion_cmd_init(&o.cmd, argc, argv);
    o.ngaps = smx_cli_doubles_or_fail(o.gaps, 8, "0,14.78,40", 0, 700, prog, "--gaps");
    o.nformats = smx_cli_formats_or_fail(o.formats, 8, "fp16,bf16,fp32,fp64", 1, prog, "--formats");
    int opt;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_GAPS: o.ngaps = smx_cli_doubles_or_fail(o.gaps, 8, optarg, 0, 700, prog, "--gaps"); break;
        case O_FORMATS: o.nformats = smx_cli_formats_or_fail(o.formats, 8, optarg, 1, prog, "--formats"); break;
        case O_NMAX: o.nmax_log2 = (int)smx_cli_long_or_fail(optarg, 2, 30, prog, "--nmax-log2"); break;
        case O_PER: o.per = (int)smx_cli_long_or_fail(optarg, 1, 16, prog, "--per-octave"); break;
        default: dispersion_common_or_fail(&o.cmd, opt, optarg, prog, usage);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    int paper = o.cmd.c.profile == SMX_PROFILE_PAPER;
    if (o.nmax_log2 < 0) o.nmax_log2 = paper ? 28 : 26;
    if (o.per < 0) o.per = paper ? 4 : 2;
    char what[64]; /* the vector of 2^K terms, refused up front if it cannot fit (issue 9) */
    snprintf(what, sizeof what, "--nmax-log2 %d (a vector of 2^%d doubles)", o.nmax_log2, o.nmax_log2);
    smx_cli_mem_or_fail(8 * exp2(o.nmax_log2), what, prog);
    char buf[64];
    const char *out = dispersion_out(buf, sizeof buf, &o.cmd.c, "precision");
    static const char *const siblings[] = {NULL};
    static const dispersion_write_t write[] = {write_precision};
    return dispersion_write_files(prog, out, siblings, meta, write, &o);
}
