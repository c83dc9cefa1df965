/* icl_softreg.c - softmax regression loss, gradient and Hessian in double (CBLAS) and MPFR (formulas in
 * icl_softreg.h). */
#include "icl_softreg.h"
#include "lse.h"
#include "smx.h"

#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_sort.h>

int icl_softreg_ws_alloc(icl_softreg_ws_t *w, size_t n, size_t d)
{
    w->n = n, w->d = d;
    w->z = malloc(n * sizeof(double)), w->f = malloc(n * sizeof(double));
    w->c = malloc(n * sizeof(double)), w->g = malloc(n * sizeof(double));
    w->M = malloc(n * n * sizeof(double)), w->T = malloc(n * d * sizeof(double));
    if (!w->z || !w->f || !w->c || !w->g || !w->M || !w->T) {
        icl_softreg_ws_free(w);
        return SMX_ENOMEM;
    }
    return SMX_OK;
}

void icl_softreg_ws_free(icl_softreg_ws_t *w)
{
    free(w->z), free(w->f), free(w->c), free(w->g), free(w->M), free(w->T);
    w->z = w->f = w->c = w->g = w->M = w->T = NULL;
}

void icl_softreg_f(double *f, const double *A, const double *x, size_t n, size_t d, double *z)
{
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.0, A, (int)d, x, 1, 0.0, z, 1);
    smx_softmax_f64(f, z, n);
}

int icl_softreg_eval(double *L, double *grad, double *hess, const double *A, const double *b, const double *x,
                     icl_softreg_ws_t *w)
{
    size_t n = w->n, d = w->d;
    double *f = w->f, *c = w->c, *g = w->g, *M = w->M;
    icl_softreg_f(f, A, x, n, d, w->z);
    double cf = 0, l = 0;
    for (size_t i = 0; i < n; i++) c[i] = f[i] - b[i], l += c[i] * c[i], cf += c[i] * f[i];
    if (L) *L = 0.5 * l;
    if (grad) { /* grad = A^T (f o c - <c,f> f) */
        for (size_t i = 0; i < n; i++) g[i] = f[i] * c[i] - cf * f[i];
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0, A, (int)d, g, 1, 0.0, grad, 1);
    }
    if (hess) {
        /* M = S^2 + B2; (S^2)_ij = sum_k S_ik S_kj with S_ik = f_i [i=k] - f_i f_k:
         * S^2 = diag(f^2) - (f o f) f^T - f (f o f)^T + |f|^2 f f^T */
        double ff = 0;
        for (size_t i = 0; i < n; i++) ff += f[i] * f[i];
        for (size_t i = 0; i < n; i++) {
            double u = c[i] * f[i];
            for (size_t j = 0; j < n; j++) {
                double v = c[j] * f[j];
                double s2 = -f[i] * f[i] * f[j] - f[i] * f[j] * f[j] + ff * f[i] * f[j];
                double b2 = -u * f[j] - f[i] * v + 2 * cf * f[i] * f[j];
                if (i == j) s2 += f[i] * f[i], b2 += u - cf * f[i];
                M[i * n + j] = s2 + b2;
            }
        }
        /* T = M A (n x d), hess = A^T T (d x d) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)n, 1.0, M, (int)n, A, (int)d, 0.0,
                    w->T, (int)d);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)n, 1.0, A, (int)d, w->T, (int)d, 0.0,
                    hess, (int)d);
    }
    return SMX_OK;
}

int icl_softreg_eval_mpfr(double *L, double *grad, double *hess, const double *A, const double *b, const double *x,
                          size_t n, size_t d, mpfr_prec_t prec)
{
    size_t nv = 4 * n + n * n + n * d;
    mpfr_t *v = malloc(nv * sizeof *v), t, s, cf, ff, mx;
    if (!v) return SMX_ENOMEM;
    for (size_t i = 0; i < nv; i++) mpfr_init2(v[i], prec);
    mpfr_inits2(prec, t, s, cf, ff, mx, (mpfr_ptr)0);
    mpfr_t *z = v, *f = v + n, *c = v + 2 * n, *g = v + 3 * n, *M = v + 4 * n, *T = M + n * n;
    /* z = A x, f = exp(z - max z) / sum */
    for (size_t i = 0; i < n; i++) {
        mpfr_set_zero(z[i], 1);
        for (size_t j = 0; j < d; j++) {
            mpfr_set_d(t, A[i * d + j], MPFR_RNDN);
            mpfr_mul_d(t, t, x[j], MPFR_RNDN);
            mpfr_add(z[i], z[i], t, MPFR_RNDN);
        }
        if (i == 0 || mpfr_cmp(z[i], mx) > 0) mpfr_set(mx, z[i], MPFR_RNDN);
    }
    mpfr_set_zero(s, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_sub(f[i], z[i], mx, MPFR_RNDN);
        mpfr_exp(f[i], f[i], MPFR_RNDN);
        mpfr_add(s, s, f[i], MPFR_RNDN);
    }
    mpfr_set_zero(cf, 1);
    mpfr_set_zero(ff, 1);
    mpfr_set_zero(t, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_div(f[i], f[i], s, MPFR_RNDN);
        mpfr_sub_d(c[i], f[i], b[i], MPFR_RNDN);
        mpfr_fma(cf, c[i], f[i], cf, MPFR_RNDN);
        mpfr_fma(ff, f[i], f[i], ff, MPFR_RNDN);
        mpfr_fma(t, c[i], c[i], t, MPFR_RNDN);
    }
    if (L) {
        mpfr_mul_2si(t, t, -1, MPFR_RNDN);
        *L = mpfr_get_d(t, MPFR_RNDN);
    }
    if (grad) {
        for (size_t i = 0; i < n; i++) {
            mpfr_sub(g[i], c[i], cf, MPFR_RNDN);
            mpfr_mul(g[i], g[i], f[i], MPFR_RNDN); /* f_i (c_i - <c,f>) */
        }
        for (size_t j = 0; j < d; j++) {
            mpfr_set_zero(s, 1);
            for (size_t i = 0; i < n; i++) {
                mpfr_mul_d(t, g[i], A[i * d + j], MPFR_RNDN);
                mpfr_add(s, s, t, MPFR_RNDN);
            }
            grad[j] = mpfr_get_d(s, MPFR_RNDN);
        }
    }
    if (hess) {
        mpfr_t u, w2;
        mpfr_inits2(prec, u, w2, (mpfr_ptr)0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                mpfr_t *m = &M[i * n + j];
                /* S^2: -f_i^2 f_j - f_i f_j^2 + |f|^2 f_i f_j (+ f_i^2 on the diagonal) */
                mpfr_mul(u, f[i], f[j], MPFR_RNDN);           /* u = f_i f_j */
                mpfr_add(w2, f[i], f[j], MPFR_RNDN);
                mpfr_sub(w2, ff, w2, MPFR_RNDN);              /* |f|^2 - f_i - f_j */
                /* B2: -c_i f_i f_j - f_i c_j f_j + 2<c,f> f_i f_j = f_i f_j (2<c,f> - c_i - c_j) */
                mpfr_mul_2si(t, cf, 1, MPFR_RNDN);
                mpfr_sub(t, t, c[i], MPFR_RNDN);
                mpfr_sub(t, t, c[j], MPFR_RNDN);
                mpfr_add(w2, w2, t, MPFR_RNDN);
                mpfr_mul(*m, u, w2, MPFR_RNDN);
                if (i == j) { /* + f_i^2 + c_i f_i - <c,f> f_i = f_i (f_i + c_i - <c,f>) */
                    mpfr_add(t, f[i], c[i], MPFR_RNDN);
                    mpfr_sub(t, t, cf, MPFR_RNDN);
                    mpfr_fma(*m, t, f[i], *m, MPFR_RNDN);
                }
            }
        for (size_t i = 0; i < n; i++) /* T = M A */
            for (size_t j = 0; j < d; j++) {
                mpfr_set_zero(T[i * d + j], 1);
                for (size_t k = 0; k < n; k++) {
                    mpfr_mul_d(t, M[i * n + k], A[k * d + j], MPFR_RNDN);
                    mpfr_add(T[i * d + j], T[i * d + j], t, MPFR_RNDN);
                }
            }
        for (size_t a = 0; a < d; a++) /* hess = A^T T */
            for (size_t j = 0; j < d; j++) {
                mpfr_set_zero(s, 1);
                for (size_t k = 0; k < n; k++) {
                    mpfr_mul_d(t, T[k * d + j], A[k * d + a], MPFR_RNDN);
                    mpfr_add(s, s, t, MPFR_RNDN);
                }
                hess[a * d + j] = mpfr_get_d(s, MPFR_RNDN);
            }
        mpfr_clears(u, w2, (mpfr_ptr)0);
    }
    for (size_t i = 0; i < nv; i++) mpfr_clear(v[i]);
    free(v);
    mpfr_clears(t, s, cf, ff, mx, (mpfr_ptr)0);
    return SMX_OK;
}

int icl_norm2(double *s, const double *A, size_t n, size_t d)
{
    size_t k = n < d ? n : d;
    double *a = malloc(n * d * sizeof *a), *sv = malloc(k * sizeof *sv), *sup = malloc(k * sizeof *sup);
    if (!a || !sv || !sup) {
        free(a), free(sv), free(sup);
        return SMX_ENOMEM;
    }
    memcpy(a, A, n * d * sizeof *a);
    int info = (int)LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)d, a, (lapack_int)d, sv,
                                   NULL, 1, NULL, 1, sup);
    *s = info == 0 ? sv[0] : NAN;
    free(a), free(sv), free(sup);
    return SMX_OK;
}

int icl_eig_symm(double *ev, const double *H, size_t d)
{
    gsl_matrix *m = gsl_matrix_alloc(d, d);
    gsl_vector *e = gsl_vector_alloc(d);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(d);
    if (!m || !e || !w) {
        if (m) gsl_matrix_free(m);
        if (e) gsl_vector_free(e);
        if (w) gsl_eigen_symm_free(w);
        return SMX_ENOMEM;
    }
    memcpy(m->data, H, d * d * sizeof(double)); /* gsl_matrix_alloc: tda == d */
    gsl_eigen_symm(m, e, w);
    for (size_t i = 0; i < d; i++) ev[i] = gsl_vector_get(e, i);
    gsl_sort(ev, 1, d);
    gsl_matrix_free(m), gsl_vector_free(e), gsl_eigen_symm_free(w);
    return SMX_OK;
}

int icl_problem_read(double **A, double **b, double **x, size_t *n, size_t *d, const char *path, char *err,
                     size_t errlen)
{
    *A = *b = *x = NULL, *n = *d = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SMX_EIO;
    }
    int st = SMX_EDOM;
    char *line = NULL, msg[512] = "";
    size_t cap = 0, nl = 0, cnt = 0, vcap = 0;
    double *val = NULL;
    size_t *width = NULL, *lineno = NULL, lcap = 0;
    size_t ln = 0;
/* record the first error; everything is freed before the program exits (sanitizer-clean) */
#define RP_FAIL(...) do { snprintf(msg, sizeof msg, __VA_ARGS__); goto done; } while (0)
    while (getline(&line, &cap, fp) != -1) {
        ln++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == 0) continue;
        if (nl == lcap) {
            lcap = lcap ? 2 * lcap : 64;
            size_t *w2 = realloc(width, lcap * sizeof *width), *l2 = w2 ? realloc(lineno, lcap * sizeof *lineno) : NULL;
            if (w2) width = w2;
            if (l2) lineno = l2;
            if (!w2 || !l2) { st = SMX_ENOMEM; RP_FAIL("%s: out of memory", path); }
        }
        size_t w = 0, col = 1;
        while (*p && *p != '\n' && *p != '\r') {
            char *end;
            double v = strtod(p, &end);
            if (end == p || (*end && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r'))
                RP_FAIL("%s:%zu:%zu: not a number", path, ln, col);
            if (!isfinite(v)) RP_FAIL("%s:%zu:%zu: not a finite number", path, ln, col);
            if (cnt == vcap) {
                vcap = vcap ? 2 * vcap : 256;
                double *v2 = realloc(val, vcap * sizeof *val);
                if (!v2) { st = SMX_ENOMEM; RP_FAIL("%s: out of memory", path); }
                val = v2;
            }
            val[cnt++] = v, w++, col++;
            p = end;
            while (*p == ' ' || *p == '\t') p++;
        }
        width[nl] = w, lineno[nl++] = ln;
    }
    if (nl < 3) RP_FAIL("%s: need n >= 1 rows of A, a line b and a line x (found %zu lines)", path, nl);
    *n = nl - 2, *d = width[0];
    for (size_t i = 1; i < *n; i++)
        if (width[i] != *d) RP_FAIL("%s:%zu:%zu: row of A has %zu columns, the first has %zu", path, lineno[i],
                                    (width[i] < *d ? width[i] : *d) + 1, width[i], *d);
    if (width[*n] != *n) RP_FAIL("%s:%zu: b has %zu entries, A has %zu rows", path, lineno[*n], width[*n], *n);
    if (width[*n + 1] != *d) RP_FAIL("%s:%zu: x has %zu entries, A has %zu columns", path, lineno[*n + 1],
                                     width[*n + 1], *d);
    *A = val, *b = val + *n * *d, *x = *b + *n;
done:
#undef RP_FAIL
    free(line), free(width), free(lineno);
    fclose(fp);
    if (*msg) {
        free(val);
        *A = *b = *x = NULL, *n = *d = 0;
        snprintf(err, errlen, "%s", msg);
        return st;
    }
    return SMX_OK;
}
