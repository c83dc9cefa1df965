/* t-svd.c - solvers/svd: LAPACK dgesdd and GSL Golub-Reinsch singular values against a matrix built
 * with known singular values (A = Q1 diag(s) Q2^T, Q from Householder QR of Gaussian matrices), against
 * each other, an exactly rank-40 400 x 300 matrix (GSL's Jacobi SVD failed there, science/bottleneck.md),
 * error paths. */
#include "smx.h"
#include "svd.h"
#include "tap.h"
#include "rng.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

/* Q (n x n, row-major) orthogonal from the QR of a Gaussian matrix. */
static void random_orthogonal(double *Q, size_t n, gsl_rng *r)
{
    gsl_matrix *A = gsl_matrix_alloc(n, n), *Qm = gsl_matrix_alloc(n, n), *R = gsl_matrix_alloc(n, n);
    gsl_vector *tau = gsl_vector_alloc(n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) gsl_matrix_set(A, i, j, gsl_ran_gaussian(r, 1.0));
    gsl_linalg_QR_decomp(A, tau);
    gsl_linalg_QR_unpack(A, tau, Qm, R);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) Q[i * n + j] = gsl_matrix_get(Qm, i, j);
    gsl_matrix_free(A), gsl_matrix_free(Qm), gsl_matrix_free(R), gsl_vector_free(tau);
}

/* A (m x n) = Q1[:, :k] diag(s) Q2[:, :k]^T */
static void build(double *A, const double *s, size_t k, size_t m, size_t n, gsl_rng *r)
{
    double *Q1 = malloc(m * m * sizeof *Q1), *Q2 = malloc(n * n * sizeof *Q2);
    random_orthogonal(Q1, m, r), random_orthogonal(Q2, n, r);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double a = 0;
            for (size_t l = 0; l < k; l++) a += Q1[i * m + l] * s[l] * Q2[j * n + l];
            A[i * n + j] = a;
        }
    free(Q1), free(Q2);
}

int main(void)
{
    smx_svd_blas_single_thread();
    gsl_rng *r = smx_rng_alloc(2385);
    /* known spectrum s_l = 2.385 * 1.37^-l, wide (m < n) and tall shapes */
    size_t shapes[2][2] = {{23, 37}, {41, 19}};
    for (int sh = 0; sh < 2; sh++) {
        size_t m = shapes[sh][0], n = shapes[sh][1], k = m < n ? m : n;
        double *A = malloc(m * n * sizeof *A), *s = malloc(k * sizeof *s), *got = malloc(k * sizeof *got);
        for (size_t l = 0; l < k; l++) s[l] = 2.385 * pow(1.37, -(double)l);
        build(A, s, k, m, n, r);
        for (int meth = 0; meth < 2; meth++) {
            ok(smx_svd_values(got, A, m, n, (smx_svd_method_t)meth) == SMX_OK, "%s %zux%zu: status",
               smx_svd_method_name((smx_svd_method_t)meth), m, n);
            double err = 0;
            for (size_t l = 0; l < k; l++) err = fmax(err, fabs(got[l] - s[l]) / s[l]);
            ok(err < 1e-12, "%s %zux%zu: max relative error of the known singular values %.3g < 1e-12",
               smx_svd_method_name((smx_svd_method_t)meth), m, n, err);
            int desc = 1;
            for (size_t l = 1; l < k; l++) desc &= got[l] <= got[l - 1];
            ok(desc, "%s: descending", smx_svd_method_name((smx_svd_method_t)meth));
        }
        /* thin SVD reconstructs A */
        double *u = malloc(m * k * sizeof *u), *vt = malloc(k * n * sizeof *vt), err = 0;
        ok(smx_svd_thin(u, got, vt, A, m, n) == SMX_OK, "thin %zux%zu: status", m, n);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                double a = 0;
                for (size_t l = 0; l < k; l++) a += u[i * k + l] * got[l] * vt[l * n + j];
                err = fmax(err, fabs(a - A[i * n + j]));
            }
        ok(err < 1e-13 * 2.385 * 10, "thin %zux%zu: |U S V^T - A|_max = %.3g", m, n, err);
        free(A), free(s), free(got), free(u), free(vt);
    }
    /* exactly rank 40, 400 x 300 (as built: rounding leaves sigma_41 ~ 1e-16 sigma_1) */
    {
        size_t m = 400, n = 300, k = 40;
        double *A = malloc(m * n * sizeof *A), s[40], got[300];
        for (size_t l = 0; l < k; l++) s[l] = 1.0 + 0.1 * (double)l;
        build(A, s, k, m, n, r);
        for (int meth = 0; meth < 2; meth++) {
            smx_svd_values(got, A, m, n, (smx_svd_method_t)meth);
            ok(got[40] / got[0] < 1e-13 && got[39] / got[0] > 0.1, "%s rank-40 400x300: sigma_41/sigma_1 = %.3g, "
               "sigma_40/sigma_1 = %.3g", smx_svd_method_name((smx_svd_method_t)meth), got[40] / got[0],
               got[39] / got[0]);
        }
        free(A);
    }
    /* error paths */
    double a[6] = {1, 2, 3, 4, 5, NAN}, sv[3];
    ok(smx_svd_values(sv, a, 2, 3, SMX_SVD_LAPACK) == SMX_EDOM, "NaN entry: SMX_EDOM (lapack)");
    ok(smx_svd_values(sv, a, 2, 3, SMX_SVD_GSL) == SMX_EDOM, "NaN entry: SMX_EDOM (gsl)");
    a[5] = INFINITY;
    ok(smx_svd_values(sv, a, 3, 2, SMX_SVD_LAPACK) == SMX_EDOM, "Inf entry: SMX_EDOM");
    ok(smx_svd_values(sv, a, 0, 3, SMX_SVD_LAPACK) == SMX_EDOM, "0 rows: SMX_EDOM");
    ok(smx_svd_thin(sv, sv, sv, a, 2, 0) == SMX_EDOM, "thin, 0 columns: SMX_EDOM");
    gsl_rng_free(r);
    return tap_done();
}
