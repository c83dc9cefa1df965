/* icl_softreg.h - softmax regression (Li, Song, Xia, Yu, Zhou, "The Closeness of In-Context Learning and
 * Weight Shifting for Softmax Regression", arXiv 2304.13276, Sec. 4-5; science/icl_softmax_regression.md (a)).
 *
 *   A (n, d) row-major, b (n), x (d):  f = softmax(Ax), c = f - b,  L = 0.5 ||c||^2
 *   grad L = A^T (diag(f) c - <c,f> f) = A^T S c,     S = diag(f) - f f^T
 *   Hess L = A^T [S^2 + B2] A,  B2 = diag(c o f) - (c o f) f^T - f (c o f)^T + 2<c,f> f f^T - <c,f> diag(f)
 * (S 1 = B2 1 = 0, so rank Hess <= min(d, n - 1); ||S||_2 <= 1/2.)
 * Double: the n x n middle matrix M = S^2 + B2, then Hess = A^T M A by two GEMMs (CBLAS).
 * MPFR: the same formulas at a given precision (every operation rounded to nearest), results rounded to double. */
#ifndef ICL_SOFTREG_H
#define ICL_SOFTREG_H

#include <stddef.h>
#include <mpfr.h>

typedef struct {
    size_t n, d;
    double *z, *f, *c, *g, *M, *T; /* Ax, f, c, S c (n each), M (n x n), T = M A (n x d) */
} icl_softreg_ws_t;

int icl_softreg_ws_alloc(icl_softreg_ws_t *w, size_t n, size_t d);
void icl_softreg_ws_free(icl_softreg_ws_t *w);

/* *L (may be NULL), grad (d, may be NULL), hess (d x d row-major, may be NULL) at x; f = softmax(Ax) is left
 * in w->f. Returns SMX_OK or SMX_EDOM (sizes differ from w's). */
int icl_softreg_eval(double *L, double *grad, double *hess, const double *A, const double *b, const double *x,
                     icl_softreg_ws_t *w);

/* The same in MPFR at prec bits (results rounded to double). Returns SMX_OK or SMX_ENOMEM. */
int icl_softreg_eval_mpfr(double *L, double *grad, double *hess, const double *A, const double *b, const double *x,
                          size_t n, size_t d, mpfr_prec_t prec);

/* f = softmax(A x) (n) by the shifted formula; z: n doubles of work. */
void icl_softreg_f(double *f, const double *A, const double *x, size_t n, size_t d, double *z);

/* Read a problem file (smx-icl check --print): n rows of A with d numbers each, a line with the n entries of b,
 * a line with the d entries of x; '#' lines and blank lines ignored; tabs or spaces; finite numbers only.
 * On success *A (n x d), *b, *x point into ONE allocation (free(*A)). Otherwise all NULL / 0, a one-line
 * message naming the path, line and column in err, and SMX_EIO (cannot open), SMX_EDOM (malformed) or
 * SMX_ENOMEM. */
int icl_problem_read(double **A, double **b, double **x, size_t *n, size_t *d, const char *path, char *err,
                     size_t errlen);

/* Spectral norm of the n x d matrix A (largest singular value, LAPACK dgesvd on a copy). SMX_OK / SMX_ENOMEM. */
int icl_norm2(double *s, const double *A, size_t n, size_t d);

/* Eigenvalues of the symmetric d x d matrix H (GSL, ascending into ev). SMX_OK / SMX_ENOMEM. */
int icl_eig_symm(double *ev, const double *H, size_t d);

#endif
