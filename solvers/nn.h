/* nn.h - dense layers and ReLU, forward and backward, in float (_f32) and double (_f64),
 * with GEMMs through CBLAS (OpenBLAS). Layout as torch.nn.Linear, row-major:
 *   x (B, in), W (out, in), b (out) or NULL, y (B, out):   y = x W^T + b
 *
 * Determinism whatever the thread count: OpenBLAS is kept single-threaded
 * (smx_nn_init_threads) and the output of every GEMM is cut into FIXED tiles (SMX_NN_TILE_ROWS
 * rows of y / dx, SMX_NN_TILE_OUT rows of dW) that an OpenMP loop hands out to threads. A
 * reduction dimension is never split, so every element is computed by the same single-threaded
 * kernel call whatever --threads is. The tiles only depend on the shapes. */
#ifndef SMX_NN_H
#define SMX_NN_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#define SMX_NN_TILE_ROWS 512  /* rows of y and dx per GEMM call */
#define SMX_NN_TILE_OUT 50    /* rows of dW (output features) per GEMM call */

/* Keep OpenBLAS single-threaded (the parallelism is ours: OpenMP over tiles) and, if
 * threads > 0, set the OpenMP thread count. Call once at program start. */
void smx_nn_init_threads(int threads);

/* Forward: y (B, out) = x (B, in) W^T (W: (out, in)) [+ b (out)]. */
void smx_nn_dense_fwd_f32(float *y, const float *x, const float *W, const float *b, size_t B, size_t in, size_t out);
void smx_nn_dense_fwd_f64(double *y, const double *x, const double *W, const double *b, size_t B, size_t in, size_t out);
/* Forward with the ReLU fused: y = max(x W^T [+ b], 0), applied per tile while it is in cache. */
void smx_nn_dense_relu_fwd_f32(float *y, const float *x, const float *W, const float *b, size_t B, size_t in,
                               size_t out);
void smx_nn_dense_relu_fwd_f64(double *y, const double *x, const double *W, const double *b, size_t B, size_t in,
                               size_t out);

/* Backward, given dy (B, out) = dL/dy:
 *   dW (out, in) = dy^T x          (overwritten)
 *   db (out)     = sum_rows dy     (if db != NULL, overwritten; rows summed in order 0..B-1)
 *   dx (B, in)   = dy W            (if dx != NULL; overwritten)
 * The _acc variants add dy^T x into dW and the row sums into db instead (dW += dy^T x,
 * db = db + dy_0 + ... + dy_{B-1} in that order: a gradient summed over several uses of W). */
void smx_nn_dense_bwd_f32(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W,
                          size_t B, size_t in, size_t out);
void smx_nn_dense_bwd_f64(double *dx, double *dW, double *db, const double *dy, const double *x, const double *W,
                          size_t B, size_t in, size_t out);
void smx_nn_dense_bwd_acc_f32(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W,
                              size_t B, size_t in, size_t out);
void smx_nn_dense_bwd_acc_f64(double *dx, double *dW, double *db, const double *dy, const double *x,
                              const double *W, size_t B, size_t in, size_t out);
/* Backward through the ReLU that produced x (x = max(u, 0)): as above, then dx = dx [x > 0],
 * i.e. dx = dL/du, applied per tile. */
void smx_nn_dense_bwd_relu_f32(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W,
                               size_t B, size_t in, size_t out);
void smx_nn_dense_bwd_relu_f64(double *dx, double *dW, double *db, const double *dy, const double *x,
                               const double *W, size_t B, size_t in, size_t out);
void smx_nn_dense_bwd_relu_acc_f32(float *dx, float *dW, float *db, const float *dy, const float *x,
                                   const float *W, size_t B, size_t in, size_t out);
void smx_nn_dense_bwd_relu_acc_f64(double *dx, double *dW, double *db, const double *dy, const double *x,
                                   const double *W, size_t B, size_t in, size_t out);

/* ReLU (OpenMP over elements): y = max(x, 0) (in place allowed; NaN propagates); backward dx = dy [x > 0]
 * where x is the ReLU output (or input: same sign test), in place allowed (dx == dy). */
void smx_nn_relu_fwd_f32(float *y, const float *x, size_t n);
void smx_nn_relu_fwd_f64(double *y, const double *x, size_t n);
void smx_nn_relu_bwd_f32(float *dx, const float *dy, const float *y, size_t n);
void smx_nn_relu_bwd_f64(double *dx, const double *dy, const double *y, size_t n);

/* w[0..n) ~ uniform(-1/sqrt(fan_in), +1/sqrt(fan_in)) (torch.nn.Linear's default bound),
 * drawn in index order from r: a = 1/sqrt(fan_in), w = a (2 u - 1), u = gsl_rng_uniform. */
void smx_nn_init_uniform_f32(float *w, size_t n, size_t fan_in, gsl_rng *r);
void smx_nn_init_uniform_f64(double *w, size_t n, size_t fan_in, gsl_rng *r);

#endif
