/* xent.h - cross-entropy of one logit row in an emulated format, with its gradient, as a
 * workspace API (alloc once, eval per row without allocation, free). Written once on the
 * rounded register machine of rreg.h, so the fast path (p <= 53: double + rounding) and the
 * MPFR path (p > 53, or forced) run the same rounded operations.
 *
 * For logits z[0..n) and label y, with every operation rounded to the format f (fl):
 *   zr_i = fl(z_i), k = first index of max zr, m = zr_k, e_i = fl(exp(fl(zr_i - m))) (e_k = 1),
 *   S = sum e in the order `sum`:
 *     SMX_SUM_MAXFIRST  e_k first, then the others in index order (sum.h);
 *     SMX_SUM_PAIRWISE  fl(e_k + pairwise sum (sum.h) of the others in index order) (the
 *                       small terms summed first, as SIMD / tree reductions do).
 *   Softmax Collapse (Prieto et al. 2025, Def. 3): S == 1 exactly (a property of the logits,
 *   reported for both losses).
 *   SMX_XENT_SOFTMAX   loss = fl(fl(log S) - fl(zr_y - m)), grad_i = fl(fl(e_i / S) - [i == y]).
 *   SMX_XENT_STABLEMAX (Prieto et al. 2025, StableMax on the raw rounded logits, no shift):
 *                      s_i = fl(s(zr_i)), s(x) = x + 1 (x >= 0), 1 / (1 - x) (x < 0), each
 *                      rounded once (numerics/stablemax.h), S' = sum s (order `sum`, s_k first),
 *                      loss = fl(fl(log S') - fl(log s_y)), g_i = fl(fl(s'(zr_i)) / S'),
 *                      grad_i = g_i - [i == y] fl(fl(s'(zr_y)) / s_y) (rounded), s'(x) = 1
 *                      (x >= 0), 1 / (1 - x)^2 (x < 0), rounded once. Fast path: the double
 *                      formulas of stablemax.h rounded to f; for p <= 25 pinned as the exps are
 *                      (a value within 8 double ulps of a rounding boundary of f is recomputed by
 *                      the MPFR path's operations), so once-rounded and equal to the MPFR path
 *                      (without the pin fp32 double-rounded x = -0x1.e691c6p-12 for s and
 *                      -0x1.2d5dc4p-9 for s'); p > 25, e.g. fp64: within a few ulps (t-xent).
 * The loss and gradient are returned as doubles (exact for p <= 53, rounded to nearest above).
 * One workspace per thread. */
#ifndef SMX_XENT_H
#define SMX_XENT_H

#include <stddef.h>
#include "format.h"
#include "sum.h"

typedef enum { SMX_XENT_SOFTMAX = 0, SMX_XENT_STABLEMAX } smx_xent_loss_t;

/* Result for one row. */
typedef struct {
    double loss;  /* -log p_y in the format */
    int sc;       /* Softmax Collapse: the softmax denominator S == 1 exactly */
    int zero;     /* loss == 0 exactly */
    double gap;   /* max - second largest rounded logit (-Inf second for n == 1: gap +Inf) */
} smx_xent_row_t;

typedef struct smx_xent smx_xent_t;

/* Workspace for rows of up to n logits in format f (copied). sum: SMX_SUM_MAXFIRST or
 * SMX_SUM_PAIRWISE. force_mpfr = 1 takes the MPFR path also for p <= 53 (tests: fast == MPFR).
 * SMX_OK, SMX_EDOM (n == 0, bad loss / sum), SMX_ENOMEM. */
int smx_xent_alloc(smx_xent_t **w, size_t n, smx_xent_loss_t loss, smx_sum_algo_t sum, const smx_format_t *f,
                   int force_mpfr);
void smx_xent_free(smx_xent_t *w);

/* Loss of the row z[0..n) with label y (n <= the workspace's n, y < n); grad[0..n) = dloss/dz
 * (rounded to f) unless grad is NULL. SMX_OK or SMX_EDOM. No allocation. */
int smx_xent_eval(smx_xent_t *w, smx_xent_row_t *r, double *grad, const double *z, size_t n, size_t y);

/* A float model's row: the values of smx_xent_eval on (double) z[0..n), and unless dz is NULL
 * dz[i] = (float) fl(g_i scale) (g_i the gradient smx_xent_eval returns; collapse: scale = 1/rows,
 * the gradient of the mean loss, rounded to f as the reference's loss-format gradient tensor);
 * *kmax = the first index of the largest z_i as smx_xent_eval finds it (z_i > the largest so far,
 * from z_0: a NaN never replaces it, a NaN z_0 is never replaced). For SMX_XENT_SOFTMAX in
 * binary32 (fast path) a float path with vectorised loops (AVX-512 / AVX2 / baseline clones):
 * every rounded operation the same IEEE binary32 operation as xent_run's (a binary32 + - * / of
 * floats equals the double operation rounded once), the same pinned exps, the same order of
 * additions, hence the same bits (t-xent compares it with smx_xent_eval on every entry); other
 * workspaces go through smx_xent_eval. SMX_OK or SMX_EDOM (as smx_xent_eval). No allocation. */
int smx_xent_eval_f32(smx_xent_t *w, smx_xent_row_t *r, float *dz, double scale, const float *z, size_t n, size_t y,
                      size_t *kmax);
/* smx_xent_eval_f32 on `rows` rows at once: row j is z + j ldz (n logits, ldz >= n) with label
 * y[j]; its results go to r[j] and kmax[j], its gradient to dz + j ldd (ldd >= n). The float path
 * takes up to 16 rows per block (one vectorised exp over the block, the rows' sums side by side);
 * the values are those of smx_xent_eval_f32 row by row. SMX_EDOM (nothing computed) if n == 0,
 * n > the workspace's n, ldz < n, ldd < n (dz given) or some y[j] >= n. */
int smx_xent_eval_f32_rows(smx_xent_t *w, smx_xent_row_t *r, float *dz, size_t ldd, double scale, const float *z,
                           size_t ldz, size_t n, const size_t *y, size_t rows, size_t *kmax);

#endif
