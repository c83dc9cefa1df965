/* icl_cmds.h - smx-icl (issue 14): in-context learning, softmax regression and multi-head softmax attention.
 * Science: science/icl_softmax_regression.md; papers (a) Li et al. arXiv 2304.13276 (softmax regression,
 * closeness of ICL and weight shifting), (b) He et al. ICML 2025 (multi-head softmax attention for in-context
 * linear regression), (c) von Oswald et al. ICML 2023 (comparison metrics).
 * Subcommands: icl_theory.c (check, lipschitz, shift, gd), icl_estimators.c (estimators),
 * icl_multihead.c (multihead). */
#ifndef ICL_CMDS_H
#define ICL_CMDS_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "cli.h"
#include "tsv.h"

int icl_cmd_check(int argc, char **argv);
int icl_cmd_lipschitz(int argc, char **argv);
int icl_cmd_shift(int argc, char **argv);
int icl_cmd_gd(int argc, char **argv);
int icl_cmd_estimators(int argc, char **argv);
int icl_cmd_multihead(int argc, char **argv);
int icl_cmd_linear_gd(int argc, char **argv);
int icl_cmd_closeness(int argc, char **argv);
/* Closeness TF layer's gradient vs central differences (tiny; icl_closeness.c); *ref_err: the fused forward /
 * backward vs the reference path on solvers/attn (loss, prediction, gradient; max relative difference). */
int icl_closeness_gradcheck(double *max_err, double *ref_err, unsigned long seed);
/* The float layer (--dtype f32) vs the double layer on the same (float-valued) weights and task, n x d: *err = max
 * relative difference of loss, prediction and gradient (icl_closeness.c). */
int icl_closeness_f32check(double *err, size_t n, size_t d, unsigned long seed);

/* Linear self-attention prediction of von Oswald et al. (icl_lineargd.c): W_K, W_Q, W_V, P (D x D, D = d + 1),
 * context X (N, d), y (N), query x_q (d) with initial y-entry y0; grad_xq (d) = d yhat / d x_q if not NULL. */
double icl_lsa_predict(double *grad_xq, const double *WK, const double *WQ, const double *WV, const double *P,
                       const double *X, const double *y, const double *xq, double y0, size_t N, size_t d);
/* LSA training gradient vs central differences (tiny model). */
int icl_lsa_gradcheck(double *max_err, unsigned long seed);

/* Multi-head model's whole gradient vs central differences (tiny model; icl_multihead.c). */
int icl_multihead_gradcheck(double *max_err, size_t H, unsigned long seed);

/* Random softmax-regression document (a): rows of A (n x d) ~ N(0, I/d). */
void icl_random_A(double *A, size_t n, size_t d, gsl_rng *r);
/* v (d) ~ N(0, I) */
void icl_random_normal(double *v, size_t d, double sd, gsl_rng *r);
/* Euclidean norm of v (d), sequential sum. */
double icl_norm(const double *v, size_t d);
/* "# key: v0,v1,..." metadata (%g). */
void icl_meta_list(smx_tsv_t *t, const char *key, const double *v, size_t n);
/* Options of every subcommand beside SMX_CLI_COMMON_OPTIONS (issues 8, 9): --quiet (no progress or timing
 * lines on stderr; the getopt loop's default branch is smx_cli_common_or_quiet). */
#define ICL_COMMON_OPTIONS SMX_CLI_COMMON_OPTIONS, SMX_CLI_QUIET_OPTION
/* Start of every subcommand's getopt_long loop: optind = 1 and opterr = 0 (getopt prints nothing; the bad
 * option is named in one line by smx_cli_common_or_quiet). */
void icl_opt_begin(void);
/* The output path: --out, else data/quick|paper/NAME.tsv (buf, len bytes); before any work: exit 3 naming it
 * unless it can be written. */
const char *icl_out_or_fail(const smx_cli_common_t *c, const char *name, char *buf, size_t len, const char *prog);
/* End of a subcommand's option parsing: positional arguments refused; the output path as icl_out_or_fail
 * (name NULL: none, returns NULL); BLAS single-threaded (our OpenMP loops over tasks). */
const char *icl_opt_end(const smx_cli_common_t *c, const char *name, char *buf, size_t len, const char *prog,
                        int argc, char **argv);
/* Open out with the standard metadata and smx_cli_meta, or exit 3 naming it. */
smx_tsv_t *icl_tsv_open_or_fail(const char *out, const char *prog, const smx_cli_common_t *c, int argc, char **argv);
/* Close t: 0, or exit 3 naming out on a write error (another failure: a line, returns its exit status). */
int icl_tsv_close_or_fail(smx_tsv_t *t, const char *out, const char *prog);
/* OUT without a trailing .tsv, then "-SUFFIX.tsv" (malloc'ed; NULL: out of memory): a multi-file output's siblings. */
char *icl_sibling(const char *out, const char *suffix);
/* Parse a comma list of positive integers into v (at most max), or fail naming the option. */
size_t icl_sizes_or_fail(size_t *v, size_t max, const char *s, size_t lo, size_t hi, const char *prog,
                         const char *opt);

#endif
