/* attn.h - multi-head attention of one query over n keys, forward and backward (llm.c style),
 * with optional query self-exclusion, a score scale, a temperature c and any normaliser;
 * the softmax vector-Jacobian product. (The row argmax is smx_argmax, numerics/sum.h.) Double precision.
 *
 * Shapes (row-major; heads are slices of the channel dimension, as in llm.c):
 *   q (H*dk)        the query, already projected (head h: q[h*dk .. h*dk+dk))
 *   K (n, H*dk)     the keys,  already projected
 *   V (n, H*dv)     the values, already projected
 *   e (H, n)        scores     e_hi = scale * q_h . k_hi
 *   alpha (H, n)    weights    alpha_h = norm(c e_h)  (softmax by default)
 *   o (H*dv)        outputs    o_h = sum_i alpha_hi v_hi
 * Exclusion (exclude = index x < n): key x is left out of every head's normaliser (the normaliser
 * runs on the n - 1 other scores; alpha_hx = 0, dK_x = dV_x = 0), e.g. a token that must not attend
 * to itself (von Oswald et al. 2023; He et al. 2025). SMX_ATTN_NONE: no exclusion.
 *
 * Backward, given dout (H*dv) = dL/do:
 *   dalpha_hi = dout_h . v_hi,   dV_hi = alpha_hi dout_h,   dz_h = J_norm(z_h)^T dalpha_h (z = c e),
 *   de_hi = c dz_hi,  dK_hi = scale de_hi q_h,  dq_h += scale sum_i de_hi k_hi,  dL/dc = sum_hi dz_hi e_hi.
 * Softmax VJP (J = diag(y) - y y^T): g_i = y_i (v_i - <v, y>), <v, y> summed in index order. */
#ifndef SMX_ATTN_H
#define SMX_ATTN_H

#include <stddef.h>

#define SMX_ATTN_NONE ((size_t)-1)

/* A normaliser y = N(z) (n entries) and its VJP g = J_N(z)^T v (y = N(z) given). ctx is passed through.
 * Return 0 on success. Any numerics/ normaliser fits (wrap it in these signatures). */
typedef int (*smx_attn_norm_fn)(double *y, const double *z, size_t n, void *ctx);
typedef int (*smx_attn_vjp_fn)(double *g, const double *z, const double *y, const double *v, size_t n, void *ctx);

typedef struct {
    size_t H, dk, dv;     /* heads, query/key width per head, value width per head */
    double scale;         /* e = scale q.k; the usual 1/sqrt(dk) */
    smx_attn_norm_fn norm;/* NULL: softmax (smx_softmax_f64) */
    smx_attn_vjp_fn vjp;  /* NULL: softmax VJP (smx_attn_softmax_vjp); must be set iff norm is */
    void *ctx;
} smx_attn_t;

/* cfg with H heads of widths dk, dv, scale 1/sqrt(dk), softmax. */
void smx_attn_init(smx_attn_t *a, size_t H, size_t dk, size_t dv);

/* Doubles of work space the forward / backward need for n keys. */
static inline size_t smx_attn_work_size(size_t n) { return 3 * n; }

/* Forward (shapes above). c multiplies the scores before the normaliser (1: plain; a temperature
 * 1/T, adaptive beta or SSMax's s ln n). Returns 0, SMX_EDOM (n == 0, or exclude < n with n == 1,
 * or exclude not < n and not SMX_ATTN_NONE) or the normaliser's status. */
int smx_attn_forward(double *o, double *alpha, double *e, const double *q, const double *K, const double *V,
                     size_t n, size_t exclude, double c, const smx_attn_t *a, double *work);

/* Backward: accumulates (+=) dq (H*dk); overwrites dK (n, H*dk) and dV (n, H*dv); *dc (if not NULL)
 * = dL/dc. alpha and e from the forward with the same inputs. Returns 0 or the VJP's status. */
int smx_attn_backward(double *dq, double *dK, double *dV, double *dc, const double *dout, const double *alpha,
                      const double *e, const double *q, const double *K, const double *V, size_t n, size_t exclude,
                      double c, const smx_attn_t *a, double *work);

/* Self-attention of nq queries over nk keys (one head, softmax, no exclusion, c = 1) in GEMM form, e.g. every token
 * of a sequence attending to every token: Q (nq, dk), K (nk, dk), V (nk, dv) row-major;
 *   E = scale Q K^T,  Al (nq, nk) = row-wise softmax(E),  O (nq, dv) = Al V.
 * Backward, given dO (nq, dv): dAl = dO V^T, dE_i = J_softmax(Al_i)^T dAl_i (dE: nq x nk, overwritten),
 *   dQ = scale dE K,  dK = scale dE^T Q,  dV = Al^T dO (all overwritten). Row i equals smx_attn_forward /
 *   backward of query i with H = 1 up to rounding (different summation order). Return 0 or SMX_EDOM (a zero size). */
int smx_attn_forward_rows(double *O, double *Al, const double *Q, const double *K, const double *V, size_t nq,
                          size_t nk, size_t dk, size_t dv, double scale);
int smx_attn_backward_rows(double *dQ, double *dK, double *dV, double *dE, const double *dO, const double *Al,
                           const double *Q, const double *K, const double *V, size_t nq, size_t nk, size_t dk,
                           size_t dv, double scale);

/* Softmax VJP g = (diag(y) - y y^T) v, g_i = y_i (v_i - <v, y>) (g may alias v). */
void smx_attn_softmax_vjp(double *g, const double *y, const double *v, size_t n);

#endif
