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
/* Closeness TF layer's gradient vs central differences (tiny; icl_closeness.c). */
int icl_closeness_gradcheck(double *max_err, unsigned long seed);

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
/* Parse a comma list of positive integers into v (at most max), or fail naming the option. */
size_t icl_sizes_or_fail(size_t *v, size_t max, const char *s, size_t lo, size_t hi, const char *prog,
                         const char *opt);

#endif
