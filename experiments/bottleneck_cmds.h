/* bottleneck_cmds.h - smx-bottleneck (issue 15, science/bottleneck.md): the softmax bottleneck,
 * hidden-size recovery from full outputs and unargmaxable classes of low-rank softmax heads.
 * Papers: (a) Yang et al. ICLR 2018; (c) Finlayson, Ren, Swayamdipta 2024 (hidden size from
 * logits); (d) Grivas, Bogoychev, Lopez ACL 2022 (unargmaxable classes). */
#ifndef BOTTLENECK_CMDS_H
#define BOTTLENECK_CMDS_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "cli.h"

/* ---- model and recovery (bottleneck_recover.c) ---- */
typedef enum { BOTTLENECK_HEAD_FLAT = 0, BOTTLENECK_HEAD_ANISO = 1 } bottleneck_head_t;

/* Random softmax model: H (n x d), W (v x d) with N(0,1) entries, column k (1-based) of W scaled by
 * k^-2 for the anisotropic head; b ~ N(0,1) if bias, else 0. Draw order: H, W, b (row-major). */
void bottleneck_model_gen(double *H, double *W, double *b, gsl_rng *r, size_t n, size_t v, size_t d,
                          bottleneck_head_t head, int bias);
/* L = log softmax(H W^T + 1 b^T) row-wise (n x v), b may be NULL. */
void bottleneck_logprobs(double *L, const double *H, const double *W, const double *b, size_t n, size_t v, size_t d);
/* clr: U = L (I - 11^T/v), each row minus its mean (U may alias L). */
void bottleneck_clr(double *U, const double *L, size_t n, size_t v);

/* Output precisions: an IEEE-like format (format.h) or k decimals (round-half-even of x 10^k). */
typedef struct {
    char name[24];
    int decimals;     /* > 0: round to this many decimals; 0: use fmt */
    smx_format_t fmt;
} bottleneck_prec_t;
/* "fp32", "fp8-e4m3", ..., or "decK" (K in 1..12). SMX_EDOM if unknown. */
int bottleneck_prec_get(bottleneck_prec_t *p, const char *name);
/* Round every entry of x (len) to the precision, in place. */
void bottleneck_prec_round(double *x, size_t len, const bottleneck_prec_t *p);

/* Replace each row of log-probs L (n x v) by what an API with top-k log-probs and a logit bias B gives back:
 * top-k entries rounded to p; every other token from the biased query's log p' rounded to p and inverted
 * with log p = log p' - log(e^B - e^{B + log p'} + p'). SMX_OK or SMX_ENOMEM. */
int bottleneck_api_logprobs(double *L, size_t n, size_t v, size_t topk, double B, const bottleneck_prec_t *p);

/* Hidden-size estimates from singular values s[0..k-1] (descending) of the clr outputs:
 * gap: d = argmax_{1 <= i <= k-2} (log10 s_i - log10 s_{i+1}) (1-based; the last gap, into the
 * built-in zero of clr, excluded), its size in decades; count: #{i : s_i > tol} (Carlini et al.'s
 * rule with tol = 1e-2). Zeros are floored at DBL_MIN * s_1. k < 3: gap = k, decades 0. */
typedef struct {
    size_t d_gap, d_count;
    double gap_decades;
} bottleneck_estimate_t;
void bottleneck_estimate(bottleneck_estimate_t *e, const double *s, size_t k, double tol);
/* log10(s_{i} / s_{i+1}) at 1-based index i (the gap just after i), floored like above; 0 if i >= k. */
double bottleneck_gap_at(const double *s, size_t k, size_t i);

/* Matrix reader for recover --file and argmax --file: TSV without header ('#' lines and blank lines
 * skipped, tab-separated, every row the same length) or raw little-endian float32 / float64 with given
 * rows and cols. allow_neginf: -inf accepted (log-probs of underflowed probabilities); NaN, +inf and
 * (unless allowed) -inf rejected. On error returns SMX_EDOM / SMX_EIO with a one-line message
 * (naming file, line, column) in err. *a malloc'ed row-major. */
typedef enum { BOTTLENECK_FILE_TSV = 0, BOTTLENECK_FILE_F32 = 1, BOTTLENECK_FILE_F64 = 2 } bottleneck_file_fmt_t;
int bottleneck_read_matrix(double **a, size_t *rows, size_t *cols, const char *path, bottleneck_file_fmt_t fmt,
                           int allow_neginf, char *err, size_t errlen);

/* Shape of a matrix file before it is read (up-front memory estimates, issue 9): raw formats the given
 * *rows x *cols (0 unless the file's size is rows x cols values); TSV: *cols from the first data row, *rows about the data bytes over that row's bytes (an
 * estimate: rows of other lengths change it; a first row longer than 64 MB counts as one row of
 * size / 2 values, the bound). 0 if the file cannot be inspected (the reader then says why), else 1. */
int bottleneck_file_shape(size_t *rows, size_t *cols, const char *path, bottleneck_file_fmt_t fmt);
/* bottleneck_read_matrix or one line naming the problem and exit: 2 bad content or unreadable,
 * 4 out of memory. */
void bottleneck_read_matrix_or_fail(double **a, size_t *rows, size_t *cols, const char *path,
                                    bottleneck_file_fmt_t fmt, int allow_neginf, const char *prog);

/* ---- unargmaxable classes (bottleneck_argmax.c) ---- */
/* Fast approximate pass of Grivas et al.: x = w_i, then up to patience reflections of x across the
 * hyperplane (w_j - w_i).x = b_i - b_j of the current argmax j. 1 if class i became the strict argmax
 * (argmaxable, x returned in x), 0 if undecided. b may be NULL. */
int bottleneck_argmax_approx(double *x, const double *W, const double *b, size_t v, size_t d, size_t i,
                             int patience);

/* ---- subcommands ---- */
int bottleneck_cmd_recover(int argc, char **argv);
int bottleneck_cmd_argmax(int argc, char **argv);
int bottleneck_cmd_bench(int argc, char **argv);
int bottleneck_cmd_rank(int argc, char **argv);
int bottleneck_cmd_kl(int argc, char **argv);
int bottleneck_cmd_bat(int argc, char **argv);

/* ---- softmax fits (bottleneck_rank.c) ---- */
/* Target log-probs A (n x v) with clr(A) = U of the prescribed spectrum sig (min(n, v) values, written):
 * kind 0: rank param (equal values), kind 1: sigma_k ~ k^-param; sum sigma^2 = 4 n v. */
int bottleneck_target(double *A, double *sig, gsl_rng *r, size_t n, size_t v, int kind, double param);
/* Softmax fit of A with hidden size d (and a bias) from the thin SVD (u: n x k, s, vt: k x v) of clr(A):
 * Lfit (n x v) the fitted log-probs, KL at the start and after up to iters L-BFGS iterations. */
int bottleneck_fit_softmax(double *Lfit, double *kl_init, double *kl_opt, const double *A, const double *u,
                           const double *s, const double *vt, size_t n, size_t v, size_t d, int iters);

/* Options every subcommand shares: --quiet (no progress or timings on stderr) and SMX_CLI_COMMON_OPTIONS;
 * the getopt loop's default branch is smx_cli_common_or_quiet. */
#define BOTTLENECK_COMMON_OPTIONS SMX_CLI_QUIET_OPTION, SMX_CLI_COMMON_OPTIONS

/* smx_tsv_open(out) with the standard metadata (smx_tsv_meta_std, smx_cli_meta); on failure one line naming
 * --out and the cause, exit 3 (smx_cli_io_fail). */
#include "tsv.h"
smx_tsv_t *bottleneck_tsv_open_or_fail(const char *out, const char *prog, const smx_cli_common_t *c, int argc,
                                       char **argv);

/* A comma-separated list of names (indices into the NULL-terminated names) into v, at most max, none
 * repeated; otherwise one line naming opt, exit 2. Returns the count. */
int bottleneck_parse_choices(int *v, int max, const char *s, const char *const *names, const char *prog,
                             const char *opt);
/* OUT with its ".tsv" replaced by "-SUFFIX.tsv" (malloc'ed). */
char *bottleneck_sibling(const char *out, const char *suffix);
/* omp_set_num_threads(t) if t > 0; the BLAS stays single-threaded (same bytes for any --threads). */
void bottleneck_threads(int t);

/* Mixture of Softmaxes fit (bottleneck_mos.c): K components, shared W (v x d) and b; Lfit = log P. */
int bottleneck_fit_mos(double *Lfit, double *kl_opt, const double *A, const double *u, const double *s,
                       const double *vt, size_t n, size_t v, size_t d, size_t K, int iters, gsl_rng *r);
/* max_i |g_i - (f(th + e_i h) - f(th - e_i h)) / 2h| / max(1e-6, |g_i|), h = 1e-6 (th restored). */
#include <gsl/gsl_vector.h>
double bottleneck_grad_maxrel(double (*f)(const gsl_vector *, void *), void *par, gsl_vector *th, const gsl_vector *g);
/* Largest relative difference between the MoS gradient and central differences at a random point. */
int bottleneck_mos_check_grad(double *maxrel, const double *A, size_t n, size_t v, size_t d, size_t K, gsl_rng *r);

/* Yang et al.'s parameterisation (bottleneck_mix.c): free context vectors g_i in R^d, pi_i = softmax(W_pi g_i),
 * h_ik = tanh(W_k g_i + c_k), shared decoder W (v x d) with bias b. moc = 0: Mixture of Softmaxes
 * P_i = sum_k pi_ik softmax(h_ik W^T + b); moc = 1: Mixture of Contexts P_i = softmax((sum_k pi_ik h_ik) W^T + b).
 * theta = [G (n x d) | W_pi (K x d) | W_1..W_K (each d x d, row = output) | c (K x d) | W (v x d) | b (v)]. */
size_t bottleneck_mix_nparams(size_t n, size_t v, size_t d, size_t K);
/* L (n x v) = log P for parameters theta. SMX_OK or SMX_ENOMEM. */
int bottleneck_mix_logprobs(double *L, const double *theta, size_t n, size_t v, size_t d, size_t K, int moc);
/* Fit of A by L-BFGS (start in bottleneck_mix.c); Lfit = log P, kl_opt = mean KL(p* || P). */
int bottleneck_fit_mix(double *Lfit, double *kl_opt, const double *A, const double *u, const double *s, const double *vt,
                       size_t n, size_t v, size_t d, size_t K, int moc, int iters, gsl_rng *r);
/* Largest relative difference between the analytic gradient and central differences at a random point. */
int bottleneck_mix_check_grad(double *maxrel, const double *A, size_t n, size_t v, size_t d, size_t K, int moc,
                              gsl_rng *r);

#endif
