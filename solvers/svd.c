/* svd.c - singular values via LAPACKE dgesdd or GSL Golub-Reinsch (svd.h). */
#include "svd.h"
#include "smx.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads); /* OpenBLAS extension (its cblas.h clashes with GSL's) */

const char *smx_svd_method_name(smx_svd_method_t m) { return m == SMX_SVD_GSL ? "gsl" : "lapack"; }

void smx_svd_blas_single_thread(void) { openblas_set_num_threads(1); }

static int check_finite(const double *a, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isfinite(a[i])) return SMX_EDOM;
    return SMX_OK;
}

/* GSL's SV_decomp wants rows >= columns: decompose A or A^T (same singular values). */
static int values_gsl(double *s, const double *a, size_t m, size_t n)
{
    int tr = m < n;
    size_t r = tr ? n : m, c = tr ? m : n;
    gsl_matrix *A = gsl_matrix_alloc(r, c), *V = gsl_matrix_alloc(c, c);
    gsl_vector *S = gsl_vector_alloc(c), *work = gsl_vector_alloc(c);
    if (!A || !V || !S || !work) {
        if (A) gsl_matrix_free(A);
        if (V) gsl_matrix_free(V);
        if (S) gsl_vector_free(S);
        if (work) gsl_vector_free(work);
        return SMX_ENOMEM;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) gsl_matrix_set(A, tr ? j : i, tr ? i : j, a[i * n + j]);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_linalg_SV_decomp(A, V, S, work);
    gsl_set_error_handler(old);
    for (size_t i = 0; i < c; i++) s[i] = gsl_vector_get(S, i);
    gsl_matrix_free(A), gsl_matrix_free(V), gsl_vector_free(S), gsl_vector_free(work);
    return st ? SMX_ERANGE : SMX_OK;
}

int smx_svd_values(double *s, const double *a, size_t m, size_t n, smx_svd_method_t method)
{
    if (m == 0 || n == 0 || check_finite(a, m * n)) return SMX_EDOM;
    if (method == SMX_SVD_GSL) return values_gsl(s, a, m, n);
    double *b = malloc(m * n * sizeof *b);
    if (!b) return SMX_ENOMEM;
    memcpy(b, a, m * n * sizeof *b);
    /* the row-major m x n matrix is the column-major n x m matrix A^T: same singular values */
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)m, b, (lapack_int)n, s,
                                     NULL, 1, NULL, 1);
    free(b);
    if (info < 0) return SMX_EDOM;
    return info > 0 ? SMX_ERANGE : SMX_OK;
}

int smx_svd_thin(double *u, double *s, double *vt, const double *a, size_t m, size_t n)
{
    if (m == 0 || n == 0 || check_finite(a, m * n)) return SMX_EDOM;
    size_t k = m < n ? m : n;
    double *b = malloc(m * n * sizeof *b);
    if (!b) return SMX_ENOMEM;
    memcpy(b, a, m * n * sizeof *b);
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, b, (lapack_int)n, s, u,
                                     (lapack_int)k, vt, (lapack_int)n);
    free(b);
    if (info < 0) return SMX_EDOM;
    return info > 0 ? SMX_ERANGE : SMX_OK;
}
