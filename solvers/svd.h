/* svd.h - singular values (and optionally vectors) of a dense row-major matrix (issue 15).
 *
 * Two independent backends: LAPACK's divide-and-conquer dgesdd through LAPACKE (on OpenBLAS,
 * for large matrices) and GSL's Golub-Reinsch gsl_linalg_SV_decomp (small ones, and as a
 * cross-check). Never the eigenvalues of the Gram matrix A^T A: that squares the condition
 * number and caps the visible drop of sigma_i / sigma_1 at ~1e-8 (science/bottleneck.md). */
#ifndef SMX_SVD_H
#define SMX_SVD_H

#include <stddef.h>

typedef enum { SMX_SVD_LAPACK = 0, SMX_SVD_GSL = 1 } smx_svd_method_t;

/* "lapack" / "gsl". */
const char *smx_svd_method_name(smx_svd_method_t m);

/* s[0..min(m,n)-1]: singular values of the m x n row-major matrix a (leading dimension n),
 * descending. a is not modified. SMX_EDOM for m or n = 0 or a non-finite entry, SMX_ENOMEM,
 * SMX_ERANGE if the backend did not converge. */
int smx_svd_values(double *s, const double *a, size_t m, size_t n, smx_svd_method_t method);

/* Thin SVD a = U diag(s) V^T with k = min(m, n): u is m x k, vt is k x n (row-major), s descending.
 * LAPACK backend (dgesdd, jobz 'S'). Same status values as smx_svd_values. */
int smx_svd_thin(double *u, double *s, double *vt, const double *a, size_t m, size_t n);

/* Make the BLAS behind LAPACKE single-threaded (OpenBLAS), so results do not depend on the
 * thread count; programs parallelise over independent SVDs instead. */
void smx_svd_blas_single_thread(void);

#endif
