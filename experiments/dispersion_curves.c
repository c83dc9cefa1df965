/* dispersion_curves.c - smx-dispersion curves: Lemma 2.1 of Velickovic et al. 2024 at scale.
 * Closed forms (dispersion_theory.c) for n = 2..2^30 and spreads delta; random logit sets;
 * materialised vectors in emulated formats (lse.h, sum.h); beta*(n); adaptive beta(H). */
#include "dispersion_cmds.h"
#include "dispersion_io.h"
#include "dispersion_theory.h"
#include "lse.h"
#include "smx.h"
#include "temperature.h"
#include "tsv.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_randist.h>

static const char prog[] = "smx-dispersion curves";
static const char usage[] =
    "Usage: smx-dispersion curves [OPTIONS]\n"
    "One logit delta above n-1 equal others (the extreme case of Lemma 2.1 of Velickovic et al. 2024):\n"
    "p_max, entropy H and the bound e^{delta}/n for n = 2..2^nmax (closed forms in MPFR, 256 bits), softmax vs\n"
    "SSMax (s ln n) vs adaptive temperature beta(H); random logit sets U[0, delta]; the same vector\n"
    "materialised in each format with each sum; beta*(n) for p_max >= 1 - eps.\n"
    "Writes OUT and its siblings OUT-materialised.tsv, OUT-beta-star.tsv, OUT-adaptive-beta.tsv.\n"
    "  --deltas LIST       spreads delta (default 2.28,5.69,14.78: Gemma 2B min, mean, max)\n"
    "  --s S               SSMax scale parameter (default 0.43, Nakanishi Fig 1)\n"
    "  --eps LIST          eps for beta*(n) (default 0.1,0.01,0.001)\n"
    "  --nmax-log2 K       closed forms up to n = 2^K (default 30)\n"
    "  --per-octave M      grid points per octave (quick 4, paper 8)\n"
    "  --random-log2 K     random logit sets up to 2^K (quick 20, paper 24)\n"
    "  --materialise-log2 K  materialised vectors up to 2^K (quick 18, paper 22)\n"
    "  --formats LIST      formats for materialised vectors (default fp16,bf16,fp32,fp64,fp128); formats\n"
    "                      with p > 53 run in MPFR and stop at n = 2^12\n"
    "  --seed N --out FILE (default data/quick/dispersion-curves.tsv) --profile quick|paper --threads N\n"
    "  --quiet (no progress on stderr) --help --version\n";

enum { O_DELTAS = DISPERSION_OPT_FIRST_PRIVATE, O_S, O_EPS, O_NMAX, O_PER, O_RAND, O_MAT, O_FORMATS };

typedef struct {
    double deltas[8], eps[8], s;
    size_t ndeltas, neps, nformats;
    smx_format_t formats[8];
    int nmax_log2, per, rand_log2, mat_log2;
    dispersion_cmd_t cmd; /* common options and the command line for the metadata */
} opts_t;

static void meta(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    const dispersion_meta_t v[] = {{"s", 'g', &o->s}, {"nmax_log2", 'i', &o->nmax_log2}, {"per_octave", 'i', &o->per},
                                   {"random_log2", 'i', &o->rand_log2}, {"materialise_log2", 'i', &o->mat_log2}};
    dispersion_meta_std(t, prog, &o->cmd);
    dispersion_meta_table(t, v, sizeof v / sizeof v[0]);
    dispersion_meta_list(t, "deltas", o->deltas, o->ndeltas);
    dispersion_meta_list(t, "eps", o->eps, o->neps);
    for (size_t i = 0; i < o->nformats; i++) smx_tsv_meta(t, "format", "%s", o->formats[i].name);
    smx_tsv_meta(t, "paper_delta_gemma2b", "min 2.28, mean 5.69, max 14.78 (Velickovic et al. 2024)");
}

/* Max, min coefficient and entropy of softmax of n random logits U[0, delta] with 0 and delta
 * attained (x_0 = delta, x_1 = 0): the Lemma's two-sided bound must hold for every coefficient. */
/* Shannon entropy H = -sum p_i ln p_i (nats, 0 ln 0 = 0) of a computed softmax: the exact
 * definition beside the closed forms, not the 1e-9-guarded entropy of Velickovic et al.'s code
 * that adaptive temperature uses (smx_softmax_entropy, temperature.h). */
static double shannon_entropy(const double *p, size_t n)
{
    double h = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] > 0) h -= p[i] * log(p[i]);
    return h;
}

static void random_set(double *pmax, double *pmin, double *H, double *x, double *y, size_t n, double delta,
                       gsl_rng *r)
{
    for (size_t i = 0; i < n; i++) x[i] = delta * gsl_rng_uniform(r);
    x[0] = delta;
    x[1] = 0.0;
    smx_softmax_f64(y, x, n);
    double hi = 0, lo = 1;
    for (size_t i = 0; i < n; i++) {
        hi = fmax(hi, y[i]);
        lo = fmin(lo, y[i]);
    }
    *pmax = hi;
    *pmin = lo;
    *H = shannon_entropy(y, n);
}

static int write_curves(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    double *grid;
    size_t ng = dispersion_grid(&grid, 1, o->nmax_log2, o->per);
    size_t nr = (size_t)1 << o->rand_log2;
    double *x = malloc(nr * sizeof *x), *y = malloc(nr * sizeof *y);
    if (!grid || !x || !y) {
        free(grid), free(x), free(y);
        return SMX_ENOMEM;
    }
    smx_tsv_meta(t, "columns", "p_max/H: one logit delta above n-1 equal (closed form); bound_*: Lemma 2.1 "
                               "e^{+-delta}/n; ssmax: beta = s ln n; adaptive: beta(H) of Velickovic et al.; "
                               "random_*: one draw of U[0,delta] logits (nan beyond random_log2)");
    smx_tsv_header(t, "n\tln_n\tdelta\tpmax_softmax\tH_softmax\tbound_upper\tbound_lower\tpmax_ssmax\tH_ssmax"
                      "\tbeta_adaptive\tpmax_adaptive\tH_adaptive\trandom_pmax\trandom_pmin\trandom_H");
    gsl_rng *r = smx_rng_alloc(o->cmd.c.seed);
    for (size_t d = 0; d < o->ndeltas; d++) {
        double delta = o->deltas[d];
        for (size_t i = 0; i < ng; i++) {
            double n = grid[i], bs = dispersion_ssmax_beta(o->s, n), ba = dispersion_adaptive_beta_gap(n, delta);
            double rp = NAN, rq = NAN, rh = NAN;
            if (n <= (double)nr && n >= 2) random_set(&rp, &rq, &rh, x, y, (size_t)n, delta, r);
            smx_tsv_num(t, n);
            smx_tsv_num(t, log(n));
            smx_tsv_num(t, delta);
            smx_tsv_num(t, dispersion_pmax_gap(n, 1, delta));
            smx_tsv_num(t, dispersion_entropy_gap(n, 1, delta));
            smx_tsv_num(t, dispersion_lemma_upper(n, 1, delta));
            smx_tsv_num(t, dispersion_lemma_lower(n, 1, delta));
            smx_tsv_num(t, dispersion_pmax_gap(n, bs, delta));
            smx_tsv_num(t, dispersion_entropy_gap(n, bs, delta));
            smx_tsv_num(t, ba);
            smx_tsv_num(t, dispersion_pmax_gap(n, ba, delta));
            smx_tsv_num(t, dispersion_entropy_gap(n, ba, delta));
            smx_tsv_num(t, rp);
            smx_tsv_num(t, rq);
            smx_tsv_num(t, rh);
            smx_tsv_endrow(t);
        }
    }
    gsl_rng_free(r);
    free(grid), free(x), free(y);
    return SMX_OK;
}

/* Formats without the fast path (MPFR emulation) are materialised up to this n only. */
#define DISPERSION_MPFR_NMAX 4096

/* The gap vector [delta, 0, ..., 0] through smx_softmax (shifted algorithm) in each format and sum. */
static int write_materialised(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    size_t nmax = (size_t)1 << o->mat_log2;
    double *x = calloc(nmax, sizeof *x), *y = malloc(nmax * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        return SMX_ENOMEM;
    }
    smx_tsv_meta(t, "algorithm", "smx_softmax shifted (lse.h): every operation rounded to the format");
    smx_tsv_header(t, "n\tdelta\tformat\tsum\tpmax\tpmax_exact\tpmax_relerr\tpother\tpother_exact\tH\tH_exact");
    int status = SMX_OK;
    for (size_t d = 0; d < o->ndeltas && !status; d++)
        for (size_t fi = 0; fi < o->nformats && !status; fi++)
            for (int a = 0; a < 3 && !status; a++)
                for (size_t n = 2; n <= nmax && !status; n *= 2) {
                    if (!smx_format_has_fast(&o->formats[fi]) && n > DISPERSION_MPFR_NMAX) break;
                    double delta = o->deltas[d];
                    x[0] = delta;
                    status = smx_softmax(y, x, n, SMX_LSE_SHIFTED, (smx_sum_algo_t)a, &o->formats[fi]);
                    double h = shannon_entropy(y, n), pe = dispersion_pmax_gap((double)n, 1, delta);
                    smx_tsv_int(t, (long long)n);
                    smx_tsv_num(t, delta);
                    smx_tsv_str(t, o->formats[fi].name);
                    smx_tsv_str(t, smx_sum_algo_name((smx_sum_algo_t)a));
                    smx_tsv_num(t, y[0]);
                    smx_tsv_num(t, pe);
                    smx_tsv_num(t, (y[0] - pe) / pe);
                    smx_tsv_num(t, y[1]);
                    smx_tsv_num(t, (1 - pe) / (double)(n - 1));
                    smx_tsv_num(t, h);
                    smx_tsv_num(t, dispersion_entropy_gap((double)n, 1, delta));
                    smx_tsv_endrow(t);
                }
    free(x), free(y);
    return status;
}

static int write_beta_star(smx_tsv_t *t, const void *opts)
{
    const opts_t *o = opts;
    double *grid;
    size_t ng = dispersion_grid(&grid, 1, o->nmax_log2, o->per);
    if (!grid) return SMX_ENOMEM;
    smx_tsv_meta(t, "formula", "beta*(n) = [ln(n-1) + ln((1-eps)/eps)]/delta; s* = beta*/ln n -> 1/delta");
    smx_tsv_header(t, "n\tln_n\tdelta\teps\tbeta_star\ts_star\tbeta_ssmax\tbeta_adaptive");
    for (size_t d = 0; d < o->ndeltas; d++)
        for (size_t e = 0; e < o->neps; e++)
            for (size_t i = 0; i < ng; i++) {
                double n = grid[i], b = dispersion_beta_star(n, o->eps[e], o->deltas[d]);
                smx_tsv_num(t, n);
                smx_tsv_num(t, log(n));
                smx_tsv_num(t, o->deltas[d]);
                smx_tsv_num(t, o->eps[e]);
                smx_tsv_num(t, b);
                smx_tsv_num(t, b / log(n));
                smx_tsv_num(t, dispersion_ssmax_beta(o->s, n));
                smx_tsv_num(t, dispersion_adaptive_beta_gap(n, o->deltas[d]));
                smx_tsv_endrow(t);
            }
    free(grid);
    return SMX_OK;
}

static int write_adaptive_beta(smx_tsv_t *t, const void *opts)
{
    (void)opts;
    double lo, hi, hm, bm;
    dispersion_adaptive_window(&lo, &hi, &hm, &bm);
    smx_tsv_meta(t, "formula", "beta(H) = max(-0.037H^4 + 0.481H^3 - 2.3H^2 + 4.917H - 1.791, 1) if H > 0.5 else 1");
    smx_tsv_meta(t, "window_lo", "%.6f", lo);
    smx_tsv_meta(t, "window_hi", "%.6f", hi);
    smx_tsv_meta(t, "argmax_H", "%.6f", hm);
    smx_tsv_meta(t, "beta_max", "%.6f", bm);
    smx_tsv_meta(t, "paper_window", "0.849-5.944 nats, max 2.421 at H = 4.41 (science/dispersion.md)");
    smx_tsv_header(t, "H\tbeta\tpoly");
    for (int i = 0; i <= 800; i++) {
        double H = i * 0.01;
        double poly = smx_adaptive_poly(H);
        smx_tsv_num(t, H);
        smx_tsv_num(t, smx_adaptive_beta(H));
        smx_tsv_num(t, poly);
        smx_tsv_endrow(t);
    }
    return SMX_OK;
}

int dispersion_cmd_curves(int argc, char **argv)
{
    static const struct option lopts[] = {
        SMX_CLI_ARG("deltas", O_DELTAS), SMX_CLI_ARG("s", O_S),
        SMX_CLI_ARG("eps", O_EPS), SMX_CLI_ARG("nmax-log2", O_NMAX),
        SMX_CLI_ARG("per-octave", O_PER), SMX_CLI_ARG("random-log2", O_RAND),
        SMX_CLI_ARG("materialise-log2", O_MAT), SMX_CLI_ARG("formats", O_FORMATS),
        DISPERSION_COMMON_OPTIONS, {0, 0, 0, 0}};
    opts_t o = {.s = 0.43, .nmax_log2 = 30, .per = -1, .rand_log2 = -1, .mat_log2 = -1};
    dispersion_cmd_init(&o.cmd, argc, argv);
    o.ndeltas = smx_cli_doubles_or_fail(o.deltas, 8, "2.28,5.69,14.78", 0, 700, prog, "--deltas");
    o.neps = smx_cli_doubles_or_fail(o.eps, 8, "0.1,0.01,0.001", 0, 1, prog, "--eps");
    o.nformats = smx_cli_formats_or_fail(o.formats, 8, "fp16,bf16,fp32,fp64,fp128", 0, prog, "--formats");
    int opt;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_DELTAS: o.ndeltas = smx_cli_doubles_or_fail(o.deltas, 8, optarg, 1e-3, 700, prog, "--deltas"); break;
        case O_S: o.s = smx_cli_double_or_fail(optarg, prog, "--s");
            if (!(o.s > 0 && o.s < 100)) smx_cli_fail(prog, "--s: must be in (0, 100)");
            break;
        case O_EPS: o.neps = smx_cli_doubles_or_fail(o.eps, 8, optarg, 1e-300, 0.5, prog, "--eps"); break;
        case O_NMAX: o.nmax_log2 = (int)smx_cli_long_or_fail(optarg, 2, 50, prog, "--nmax-log2"); break;
        case O_PER: o.per = (int)smx_cli_long_or_fail(optarg, 1, 64, prog, "--per-octave"); break;
        case O_RAND: o.rand_log2 = (int)smx_cli_long_or_fail(optarg, 1, 28, prog, "--random-log2"); break;
        case O_MAT: o.mat_log2 = (int)smx_cli_long_or_fail(optarg, 1, 26, prog, "--materialise-log2"); break;
        case O_FORMATS: o.nformats = smx_cli_formats_or_fail(o.formats, 8, optarg, 0, prog, "--formats"); break;
        default: dispersion_common_or_fail(&o.cmd, opt, optarg, prog, usage);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    int paper = o.cmd.c.profile == SMX_PROFILE_PAPER;
    if (o.per < 0) o.per = paper ? 8 : 4;
    if (o.rand_log2 < 0) o.rand_log2 = paper ? 24 : 20;
    if (o.mat_log2 < 0) o.mat_log2 = paper ? 22 : 18;
    char what[96]; /* two vectors of 2^K doubles, refused up front if they cannot fit (issue 9) */
    int big = o.rand_log2 > o.mat_log2 ? o.rand_log2 : o.mat_log2;
    snprintf(what, sizeof what, "--random-log2 %d / --materialise-log2 %d (two vectors of 2^%d doubles)",
             o.rand_log2, o.mat_log2, big);
    smx_cli_mem_or_fail(16 * exp2(big), what, prog);
    char buf[64];
    const char *out = dispersion_out(buf, sizeof buf, &o.cmd.c, "curves");
    static const char *const siblings[] = {"materialised", "beta-star", "adaptive-beta", NULL};
    static const dispersion_write_t write[] = {write_curves, write_materialised, write_beta_star,
                                                         write_adaptive_beta};
    return dispersion_write_files(prog, out, siblings, meta, write, &o);
}
