/* attn.c - multi-head attention of one query: forward / backward (formulas and shapes in attn.h). */
#include "attn.h"
#include "lse.h"
#include "smx.h"

#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>

void smx_attn_init(smx_attn_t *a, size_t H, size_t dk, size_t dv)
{
    memset(a, 0, sizeof *a);
    a->H = H, a->dk = dk, a->dv = dv;
    a->scale = 1.0 / sqrt((double)dk);
}

void smx_attn_softmax_vjp(double *g, const double *y, const double *v, size_t n)
{
    double dot = 0;
    for (size_t i = 0; i < n; i++) dot += y[i] * v[i];
    for (size_t i = 0; i < n; i++) g[i] = y[i] * (v[i] - dot);
}

static int bad_args(size_t n, size_t exclude)
{
    return n == 0 || (exclude != SMX_ATTN_NONE && (exclude >= n || n == 1));
}

/* y = N(z) for one head, n entries, key `exclude` left out (y_x = 0). work: 2n doubles. */
static int normalise(double *y, const double *z, size_t n, size_t exclude, const smx_attn_t *a, double *work)
{
    if (exclude == SMX_ATTN_NONE) {
        if (!a->norm) {
            smx_softmax_f64(y, z, n);
            return 0;
        }
        return a->norm(y, z, n, a->ctx);
    }
    double *zc = work, *yc = work + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i != exclude) zc[m++] = z[i];
    int st = 0;
    if (!a->norm) smx_softmax_f64(yc, zc, m);
    else st = a->norm(yc, zc, m, a->ctx);
    for (size_t i = 0, k = 0; i < n; i++) y[i] = i == exclude ? 0.0 : yc[k++];
    return st;
}

/* In place: v (n) = J_N(z)^T v for one head, given y = N(z) (n), key `exclude` out (v_x = 0 after).
 * z (n) is the scaled scores (used by a custom VJP; compacted in place); ybuf: n doubles. */
static int norm_vjp(double *v, const double *y, size_t n, size_t exclude, const smx_attn_t *a, double *z,
                    double *ybuf)
{
    if (exclude == SMX_ATTN_NONE) {
        if (!a->vjp) {
            smx_attn_softmax_vjp(v, y, v, n);
            return 0;
        }
        return a->vjp(v, z, y, v, n, a->ctx);
    }
    size_t m = 0; /* compact in place (m <= i) */
    for (size_t i = 0; i < n; i++)
        if (i != exclude) ybuf[m] = y[i], v[m] = v[i], z[m] = z[i], m++;
    int st = 0;
    if (!a->vjp) smx_attn_softmax_vjp(v, ybuf, v, m);
    else st = a->vjp(v, z, ybuf, v, m, a->ctx);
    for (size_t i = n; i-- > 0;) /* scatter back, from the end */
        v[i] = i == exclude ? 0.0 : v[i > exclude ? i - 1 : i];
    return st;
}

int smx_attn_forward(double *o, double *alpha, double *e, const double *q, const double *K, const double *V,
                     size_t n, size_t exclude, double c, const smx_attn_t *a, double *work)
{
    if (bad_args(n, exclude)) return SMX_EDOM;
    size_t H = a->H, dk = a->dk, dv = a->dv, ldk = H * dk, ldv = H * dv;
    double r = a->scale;
    for (size_t h = 0; h < H; h++) {
        const double *qh = q + h * dk;
        double *eh = e + h * n, *ah = alpha + h * n, *oh = o + h * dv;
        for (size_t i = 0; i < n; i++) {
            const double *k = K + i * ldk + h * dk;
            double s = 0;
            for (size_t j = 0; j < dk; j++) s += qh[j] * k[j];
            eh[i] = s * r;
            work[i] = c * eh[i];
        }
        int st = normalise(ah, work, n, exclude, a, work + n);
        if (st) return st;
        memset(oh, 0, dv * sizeof *oh);
        for (size_t i = 0; i < n; i++) {
            const double *v = V + i * ldv + h * dv;
            for (size_t j = 0; j < dv; j++) oh[j] += ah[i] * v[j];
        }
    }
    return 0;
}

int smx_attn_backward(double *dq, double *dK, double *dV, double *dc, const double *dout, const double *alpha,
                      const double *e, const double *q, const double *K, const double *V, size_t n, size_t exclude,
                      double c, const smx_attn_t *a, double *work)
{
    if (bad_args(n, exclude)) return SMX_EDOM;
    size_t H = a->H, dk = a->dk, dv = a->dv, ldk = H * dk, ldv = H * dv;
    double r = a->scale, sdc = 0;
    double *da = work, *z = work + n, *ybuf = work + 2 * n;
    for (size_t h = 0; h < H; h++) {
        const double *qh = q + h * dk, *ah = alpha + h * n, *eh = e + h * n, *gh = dout + h * dv;
        double *dqh = dq + h * dk;
        /* dalpha_i = dout_h . v_i, dV_i = alpha_i dout_h */
        for (size_t i = 0; i < n; i++) {
            const double *v = V + i * ldv + h * dv;
            double *dvi = dV + i * ldv + h * dv, s = 0;
            for (size_t j = 0; j < dv; j++) {
                s += gh[j] * v[j];
                dvi[j] = ah[i] * gh[j];
            }
            da[i] = s;
        }
        if (a->vjp)
            for (size_t i = 0; i < n; i++) z[i] = c * eh[i];
        int st = norm_vjp(da, ah, n, exclude, a, z, ybuf); /* dz = J^T dalpha, in place in da */
        if (st) return st;
        /* de = c dz, dK_i = scale de_i q_h, dq_h += scale de_i k_i, dL/dc += dz_i e_i */
        for (size_t i = 0; i < n; i++) {
            double de = c * da[i];
            const double *k = K + i * ldk + h * dk;
            double *dki = dK + i * ldk + h * dk;
            sdc += da[i] * eh[i];
            for (size_t j = 0; j < dk; j++) {
                dki[j] = de * r * qh[j];
                dqh[j] += de * r * k[j];
            }
        }
    }
    if (dc) *dc = sdc;
    return 0;
}

/* Self-attention of nq queries over nk keys, one head, softmax, in GEMM form (CBLAS; shapes in attn.h). */
int smx_attn_forward_rows(double *O, double *Al, const double *Q, const double *K, const double *V, size_t nq,
                          size_t nk, size_t dk, size_t dv, double scale)
{
    if (nq == 0 || nk == 0 || dk == 0 || dv == 0) return SMX_EDOM;
    int iq = (int)nq, ik = (int)nk, idk = (int)dk, idv = (int)dv;
    /* E = scale Q K^T (nq, nk), in Al */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, iq, ik, idk, scale, Q, idk, K, idk, 0.0, Al, ik);
    for (size_t i = 0; i < nq; i++) smx_softmax_f64(Al + i * nk, Al + i * nk, nk); /* Al_i = softmax(E_i) */
    /* O = Al V (nq, dv) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, iq, idv, ik, 1.0, Al, ik, V, idv, 0.0, O, idv);
    return SMX_OK;
}

int smx_attn_backward_rows(double *dQ, double *dK, double *dV, double *dE, const double *dO, const double *Al,
                           const double *Q, const double *K, const double *V, size_t nq, size_t nk, size_t dk,
                           size_t dv, double scale)
{
    if (nq == 0 || nk == 0 || dk == 0 || dv == 0) return SMX_EDOM;
    int iq = (int)nq, ik = (int)nk, idk = (int)dk, idv = (int)dv;
    /* dAl = dO V^T (nq, nk), in dE; dE_i = J_softmax(Al_i)^T dAl_i */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, iq, ik, idv, 1.0, dO, idv, V, idv, 0.0, dE, ik);
    for (size_t i = 0; i < nq; i++) smx_attn_softmax_vjp(dE + i * nk, Al + i * nk, dE + i * nk, nk);
    /* dQ = scale dE K, dK = scale dE^T Q, dV = Al^T dO */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, iq, idk, ik, scale, dE, ik, K, idk, 0.0, dQ, idk);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ik, idk, iq, scale, dE, ik, Q, idk, 0.0, dK, idk);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ik, idv, iq, 1.0, Al, ik, dO, idv, 0.0, dV, idv);
    return SMX_OK;
}
