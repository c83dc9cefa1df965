/* nn.c - dense layers (CBLAS GEMM over fixed output tiles), ReLU, uniform init. See nn.h. */
#include "nn.h"

#include <math.h>
#include <gsl/gsl_cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS extension (not in gsl_cblas.h). */
void openblas_set_num_threads(int num_threads);

void smx_nn_init_threads(int threads)
{
    openblas_set_num_threads(1);
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

#define SMX_NN_RELU_CHUNK 4096 /* elements per ReLU chunk */

static size_t ntiles(size_t n, size_t tile) { return (n + tile - 1) / tile; }
static size_t tile_len(size_t n, size_t tile, size_t i) { size_t r = n - i * tile; return r < tile ? r : tile; }

/* Everything below is written once for T in {float, double}: GEMM is cblas_sgemm / cblas_dgemm. */
#define SMX_NN_KERNELS(T, SFX, GEMM)                                                            \
    /* serial ReLU kernels for use inside a tile */                                            \
    static void relu_fwd_##SFX(T *y, const T *x, size_t n)                                     \
    {                                                                                          \
        _Pragma("omp simd")                                                                    \
        for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];                             \
    }                                                                                          \
    static void relu_bwd_##SFX(T *dx, const T *dy, const T *y, size_t n)                       \
    {                                                                                          \
        _Pragma("omp simd")                                                                    \
        for (size_t i = 0; i < n; i++) { T d = dy[i], v = y[i]; dx[i] = v > 0 ? d : 0; }       \
    }                                                                                          \
    /* y = x W^T [+ b], then y = max(y, 0) if relu, tile by tile */                            \
    static void dense_fwd_##SFX(T *y, const T *x, const T *W, const T *b, size_t B, size_t in, \
                                size_t out, int relu)                                          \
    {                                                                                          \
        const size_t nt = ntiles(B, SMX_NN_TILE_ROWS);                                         \
        _Pragma("omp parallel for schedule(dynamic, 1)")                                       \
        for (size_t t = 0; t < nt; t++) {                                                      \
            size_t r0 = t * SMX_NN_TILE_ROWS, m = tile_len(B, SMX_NN_TILE_ROWS, t);            \
            /* y[r0:r0+m] (m, out) = x[r0:r0+m] (m, in) W^T (in, out) */                       \
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)out, (int)in, 1,        \
                 x + r0 * in, (int)in, W, (int)in, 0, y + r0 * out, (int)out);                 \
            if (b)                                                                             \
                for (size_t i = r0; i < r0 + m; i++)                                           \
                    for (size_t o = 0; o < out; o++) y[i * out + o] += b[o];                   \
            if (relu) relu_fwd_##SFX(y + r0 * out, y + r0 * out, m * out);                     \
        }                                                                                      \
    }                                                                                          \
    void smx_nn_dense_fwd_##SFX(T *y, const T *x, const T *W, const T *b, size_t B, size_t in, \
                                size_t out)                                                    \
    {                                                                                          \
        dense_fwd_##SFX(y, x, W, b, B, in, out, 0);                                            \
    }                                                                                          \
    void smx_nn_dense_relu_fwd_##SFX(T *y, const T *x, const T *W, const T *b, size_t B,       \
                                     size_t in, size_t out)                                    \
    {                                                                                          \
        dense_fwd_##SFX(y, x, W, b, B, in, out, 1);                                            \
    }                                                                                          \
                                                                                               \
    /* dW = dy^T x, db = sum dy, dx = dy W, then dx = dx [x > 0] if relu, tile by tile */      \
    static void dense_bwd_##SFX(T *dx, T *dW, T *db, const T *dy, const T *x, const T *W,      \
                                size_t B, size_t in, size_t out, int accumulate, int relu)     \
    {                                                                                          \
        const size_t nw = ntiles(out, SMX_NN_TILE_OUT);                                        \
        const size_t nx = dx ? ntiles(B, SMX_NN_TILE_ROWS) : 0;                                \
        const T beta = accumulate ? 1 : 0;                                                     \
        _Pragma("omp parallel for schedule(dynamic, 1)")                                       \
        for (size_t t = 0; t < nw + nx; t++) {                                                 \
            if (t < nw) {                                                                      \
                size_t o0 = t * SMX_NN_TILE_OUT, m = tile_len(out, SMX_NN_TILE_OUT, t);        \
                /* dW[o0:o0+m] (m, in) = dy[:, o0:o0+m]^T (m, B) x (B, in) */                  \
                GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)in, (int)B, 1,      \
                     dy + o0, (int)out, x, (int)in, beta, dW + o0 * in, (int)in);              \
                if (db)                                                                        \
                    for (size_t o = o0; o < o0 + m; o++) {                                     \
                        T s = accumulate ? db[o] : 0;                                          \
                        for (size_t i = 0; i < B; i++) s += dy[i * out + o];                   \
                        db[o] = s;                                                             \
                    }                                                                          \
            } else {                                                                           \
                size_t k = t - nw, r0 = k * SMX_NN_TILE_ROWS, m = tile_len(B, SMX_NN_TILE_ROWS, k); \
                /* dx[r0:r0+m] (m, in) = dy[r0:r0+m] (m, out) W (out, in) */                   \
                GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)in, (int)out, 1,  \
                     dy + r0 * out, (int)out, W, (int)in, 0, dx + r0 * in, (int)in);           \
                if (relu) relu_bwd_##SFX(dx + r0 * in, dx + r0 * in, x + r0 * in, m * in);     \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    void smx_nn_dense_bwd_##SFX(T *dx, T *dW, T *db, const T *dy, const T *x, const T *W,      \
        size_t B, size_t in, size_t out)                                                       \
    {                                                                                          \
        dense_bwd_##SFX(dx, dW, db, dy, x, W, B, in, out, 0, 0);                               \
    }                                                                                          \
    void smx_nn_dense_bwd_acc_##SFX(T *dx, T *dW, T *db, const T *dy, const T *x, const T *W,  \
        size_t B, size_t in, size_t out)                                                       \
    {                                                                                          \
        dense_bwd_##SFX(dx, dW, db, dy, x, W, B, in, out, 1, 0);                               \
    }                                                                                          \
    void smx_nn_dense_bwd_relu_##SFX(T *dx, T *dW, T *db, const T *dy, const T *x, const T *W, \
        size_t B, size_t in, size_t out)                                                       \
    {                                                                                          \
        dense_bwd_##SFX(dx, dW, db, dy, x, W, B, in, out, 0, 1);                               \
    }                                                                                          \
    void smx_nn_dense_bwd_relu_acc_##SFX(T *dx, T *dW, T *db, const T *dy, const T *x, const T *W,\
        size_t B, size_t in, size_t out)                                                       \
    {                                                                                          \
        dense_bwd_##SFX(dx, dW, db, dy, x, W, B, in, out, 1, 1);                               \
    }                                                                                          \
                                                                                               \
    /* public ReLU: the serial kernels over fixed chunks, chunks shared among threads */       \
    void smx_nn_relu_fwd_##SFX(T *y, const T *x, size_t n)                                     \
    {                                                                                          \
        _Pragma("omp parallel for schedule(static)")                                           \
        for (size_t c = 0; c < ntiles(n, SMX_NN_RELU_CHUNK); c++)                              \
            relu_fwd_##SFX(y + c * SMX_NN_RELU_CHUNK, x + c * SMX_NN_RELU_CHUNK,               \
                           tile_len(n, SMX_NN_RELU_CHUNK, c));                                 \
    }                                                                                          \
                                                                                               \
    void smx_nn_relu_bwd_##SFX(T *dx, const T *dy, const T *y, size_t n)                       \
    {                                                                                          \
        _Pragma("omp parallel for schedule(static)")                                           \
        for (size_t c = 0; c < ntiles(n, SMX_NN_RELU_CHUNK); c++)                              \
            relu_bwd_##SFX(dx + c * SMX_NN_RELU_CHUNK, dy + c * SMX_NN_RELU_CHUNK,             \
                           y + c * SMX_NN_RELU_CHUNK, tile_len(n, SMX_NN_RELU_CHUNK, c));      \
    }                                                                                          \
                                                                                               \
    void smx_nn_init_uniform_##SFX(T *w, size_t n, size_t fan_in, gsl_rng *r)                  \
    {                                                                                          \
        const double a = 1.0 / sqrt((double)fan_in);                                           \
        for (size_t i = 0; i < n; i++) w[i] = (T)(a * (2 * gsl_rng_uniform(r) - 1));           \
    }

SMX_NN_KERNELS(float, f32, cblas_sgemm)
SMX_NN_KERNELS(double, f64, cblas_dgemm)
