/* dispersion_cmds.h - smx-dispersion: closed forms (dispersion_theory.c), subcommands
 * (dispersion_curves.c, dispersion_ssmax.c, dispersion_precision.c, dispersion_retrieval.c)
 * and the retrieval model's attention forward / backward (tested by tests/t-dispersion*.c).
 * Science: science/dispersion.md; papers (a) Velickovic et al. 2024 arXiv 2410.01104,
 * (b) Nakanishi 2025 arXiv 2501.19399. */
#ifndef DISPERSION_CMDS_H
#define DISPERSION_CMDS_H

#include <stddef.h>
#include <mpfr.h>
#include "cli.h"

/* ---- closed forms (dispersion_theory.c), all in MPFR at precision prec ----
 * Configuration "gap": one logit Delta above n-1 equal others, inverse temperature beta;
 * S = (n-1) e^{-beta Delta} is the others' share of the normaliser relative to the top term. */
#define DISPERSION_PREC 256
/* p_max = 1 / (1 + S)                                                   (dispersion.md) */
void dispersion_pmax_gap_mpfr(mpfr_t rop, double n, double beta, double Delta);
/* H = -p ln p - (1-p) ln((1-p)/(n-1)) = log1p(S) + beta Delta S/(1+S)       (nats) */
void dispersion_entropy_gap_mpfr(mpfr_t rop, double n, double beta, double Delta);
/* ln(1 - p_max) = ln S - log1p(S), ln S = ln(n-1) - beta Delta (log-space leakage) */
void dispersion_log_leakage_mpfr(mpfr_t rop, double n, double beta, double Delta);
/* Lemma 2.1 of (a): logits in [m, m + delta] => e^{-beta delta}/n <= alpha_k <= e^{beta delta}/n */
void dispersion_lemma_upper_mpfr(mpfr_t rop, double n, double beta, double delta);
void dispersion_lemma_lower_mpfr(mpfr_t rop, double n, double beta, double delta);
/* beta*(n) = [ln(n-1) + ln((1-eps)/eps)] / Delta: least beta with p_max >= 1 - eps */
void dispersion_beta_star_mpfr(mpfr_t rop, double n, double eps, double Delta);
/* Fig 3 of (b): n-1 values k/(n-2), k = 0..n-2, evenly spaced in [0,1], plus z; inverse
 * temperature beta: p(z) = e^{beta z} / (e^{beta z} + G), G = sum_k e^{beta k/(n-2)}
 * = expm1(beta (n-1)/(n-2)) / expm1(beta/(n-2)) (geometric series; n >= 3, beta > 0). */
void dispersion_pz_spaced_mpfr(mpfr_t rop, double n, double beta, double z);

/* The same as doubles (MPFR at DISPERSION_PREC bits, rounded once). */
double dispersion_pmax_gap(double n, double beta, double Delta);
double dispersion_entropy_gap(double n, double beta, double Delta);
double dispersion_log_leakage(double n, double beta, double Delta);
double dispersion_lemma_upper(double n, double beta, double delta);
double dispersion_lemma_lower(double n, double beta, double delta);
double dispersion_beta_star(double n, double eps, double Delta);
double dispersion_pz_spaced(double n, double beta, double z);
/* SSMax (b) eq. 2: softmax((s ln n) z): inverse temperature s ln n (smx_ssmax_scale). */
double dispersion_ssmax_beta(double s, double n);
/* Adaptive temperature of (a): beta(H) of the softmax entropy H at beta = 1 of the gap
 * configuration (smx_adaptive_beta), then p_max and H at that beta. */
double dispersion_adaptive_beta_gap(double n, double Delta);

/* Roots of beta(H) = 1 in (0.5, 8) and the maximum of beta(H), by bisection on the polynomial
 * and golden-section search (double). */
void dispersion_adaptive_window(double *h_lo, double *h_hi, double *h_max, double *beta_max);

/* ---- subcommands ---- */
int dispersion_cmd_curves(int argc, char **argv);
int dispersion_cmd_ssmax(int argc, char **argv);
int dispersion_cmd_precision(int argc, char **argv);
int dispersion_cmd_retrieval(int argc, char **argv);

/* Sibling output path: OUT with its ".tsv" replaced by "-SUFFIX.tsv" (malloc'ed). */
char *dispersion_sibling(const char *out, const char *suffix);
/* log-spaced n grid: every power of 2 from 2^lo to 2^hi with `per` points per octave
 * (rounded to integers, deduplicated, ascending). Returns count; *grid malloc'ed. */
size_t dispersion_grid(double **grid, int lo, int hi, int per);

/* "# key: v0,v1,..." metadata line (%g) on the TSV writer t (a smx_tsv_t *). */
struct smx_tsv;
void dispersion_meta_list(struct smx_tsv *t, const char *key, const double *v, size_t n);

/* ---- what every subcommand does around its computation (dispersion_io.c) ---- */
/* A subcommand's common options (SMX_CLI_COMMON_OPTIONS) and the command line its data record. */
typedef struct {
    smx_cli_common_t c;
    int argc;
    char **argv;
} dispersion_cmd_t;
/* c = the common options' defaults (smx_cli_common_init); the command line argc, argv. */
void dispersion_cmd_init(dispersion_cmd_t *cmd, int argc, char **argv);
/* The data's standard metadata: program, version, commit, libraries, command line
 * (smx_tsv_meta_std), seed and profile (smx_cli_meta). */
void dispersion_meta_std(struct smx_tsv *t, const char *prog, const dispersion_cmd_t *cmd);
/* The output path: --out if given, else data/{quick,paper}/dispersion-NAME.tsv by --profile
 * (written into buf). */
const char *dispersion_out(char *buf, size_t size, const smx_cli_common_t *c, const char *name);
/* A common option (SMX_CLI_COMMON_OPTIONS) or exit 2: "bad option (see --help)". */
void dispersion_common_or_fail(smx_cli_common_t *c, int opt, const char *arg, const char *prog, const char *usage);
/* Exit status of a subcommand that wrote out with status st (one line on stderr if not SMX_OK). */
int dispersion_exit(const char *prog, const char *out, int st);

/* Whole retrieval model's gradient vs central differences (tiny model); see dispersion_retrieval.c. */
int dispersion_retrieval_gradcheck(double *max_err, int ssmax, unsigned long seed);

#endif
