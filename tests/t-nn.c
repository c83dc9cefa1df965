/* t-nn.c - solvers/nn.h: dense forward / backward (with and without the fused ReLU, bias,
 * accumulate) against plain loops in long double, in double and float, on shapes that cut
 * the fixed tiles unevenly (B > SMX_NN_TILE_ROWS, out > SMX_NN_TILE_OUT); ReLU forward and
 * backward; the uniform init's range and mean; same bytes with 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nn.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

enum { B = SMX_NN_TILE_ROWS + 37, IN = 19, OUT = SMX_NN_TILE_OUT + 23 };

static double rnd(unsigned long long *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

/* max relative error of got vs want (scaled by the largest |want|) */
static double relerr(const double *got, const long double *want, size_t n)
{
    long double mx = 0, e = 0;
    for (size_t i = 0; i < n; i++) mx = fmaxl(mx, fabsl(want[i]));
    for (size_t i = 0; i < n; i++) e = fmaxl(e, fabsl((long double)got[i] - want[i]));
    return (double)(e / (mx > 0 ? mx : 1));
}

static void test_dense_f64(void)
{
    static double x[B * IN], W[OUT * IN], b[OUT], y[B * OUT], dy[B * OUT], dx[B * IN], dW[OUT * IN], db[OUT];
    static long double yr[B * OUT], dxr[B * IN], dWr[OUT * IN], dbr[OUT];
    unsigned long long s = 2385;
    for (size_t i = 0; i < B * IN; i++) x[i] = rnd(&s);
    for (size_t i = 0; i < OUT * IN; i++) W[i] = rnd(&s);
    for (size_t i = 0; i < OUT; i++) b[i] = rnd(&s);
    for (size_t i = 0; i < B * OUT; i++) dy[i] = rnd(&s);
    for (int relu = 0; relu < 2; relu++) {
        /* reference: y = x W^T + b (ReLU), dW = dy'^T x, db = sum dy', dx = dy' W, dy' = dy [y > 0] */
        for (size_t r = 0; r < B; r++)
            for (size_t o = 0; o < OUT; o++) {
                long double a = b[o];
                for (size_t k = 0; k < IN; k++) a += (long double)x[r * IN + k] * W[o * IN + k];
                yr[r * OUT + o] = relu && a < 0 ? 0 : a;
            }
        if (relu) smx_nn_dense_relu_fwd_f64(y, x, W, b, B, IN, OUT);
        else smx_nn_dense_fwd_f64(y, x, W, b, B, IN, OUT);
        double e = relerr(y, yr, B * OUT);
        ok(e < 1e-14, "f64 dense%s forward (%d x %d -> %d) vs long double loops (rel err %.2g)", relu ? "+relu" : "", B, IN,
           OUT, e);
        /* backward of a layer whose input x is itself a ReLU output when relu: dx masked by x > 0 */
        memset(dWr, 0, sizeof dWr);
        memset(dbr, 0, sizeof dbr);
        for (size_t r = 0; r < B; r++)
            for (size_t o = 0; o < OUT; o++) {
                dbr[o] += dy[r * OUT + o];
                for (size_t k = 0; k < IN; k++) dWr[o * IN + k] += (long double)dy[r * OUT + o] * x[r * IN + k];
            }
        for (size_t r = 0; r < B; r++)
            for (size_t k = 0; k < IN; k++) {
                long double a = 0;
                for (size_t o = 0; o < OUT; o++) a += (long double)dy[r * OUT + o] * W[o * IN + k];
                dxr[r * IN + k] = relu && !(x[r * IN + k] > 0) ? 0 : a;
            }
        for (int acc = 0; acc < 2; acc++) {
            for (size_t i = 0; i < OUT * IN; i++) dW[i] = acc ? 1.5 : 99;
            for (size_t i = 0; i < OUT; i++) db[i] = acc ? 1.5 : 99;
            /* the four entry points: overwrite / accumulate (_acc), plain / through the ReLU */
            typedef void bwd_fn(double *, double *, double *, const double *, const double *, const double *, size_t,
                                size_t, size_t);
            static bwd_fn *const fns[2][2] = {{smx_nn_dense_bwd_f64, smx_nn_dense_bwd_acc_f64},
                                              {smx_nn_dense_bwd_relu_f64, smx_nn_dense_bwd_relu_acc_f64}};
            fns[relu][acc](dx, dW, db, dy, x, W, B, IN, OUT);
            if (acc) {
                for (size_t i = 0; i < OUT * IN; i++) dW[i] -= 1.5;
                for (size_t i = 0; i < OUT; i++) db[i] -= 1.5;
            }
            double e1 = relerr(dW, dWr, OUT * IN), e2 = relerr(db, dbr, OUT), e3 = relerr(dx, dxr, B * IN);
            ok(e1 < 1e-13 && e2 < 1e-13 && e3 < 1e-14, "f64 dense%s backward%s: dW, db, dx vs loops (%.2g %.2g %.2g)",
               relu ? "+relu" : "", acc ? " (accumulate onto 1.5)" : " (overwrite)", e1, e2, e3);
        }
    }
}

static void test_dense_f32(void)
{
    static float x[B * IN], W[OUT * IN], y[B * OUT];
    static double yd[B * OUT];
    static long double yr[B * OUT];
    unsigned long long s = 7;
    for (size_t i = 0; i < B * IN; i++) x[i] = (float)rnd(&s);
    for (size_t i = 0; i < OUT * IN; i++) W[i] = (float)rnd(&s);
    smx_nn_dense_fwd_f32(y, x, W, NULL, B, IN, OUT);
    for (size_t r = 0; r < B; r++)
        for (size_t o = 0; o < OUT; o++) {
            long double a = 0;
            for (size_t k = 0; k < IN; k++) a += (long double)x[r * IN + k] * W[o * IN + k];
            yr[r * OUT + o] = a;
            yd[r * OUT + o] = y[r * OUT + o];
        }
    double e = relerr(yd, yr, B * OUT);
    ok(e < IN * 0x1p-24 && e > 0, "f32 dense forward within n u of the exact products (rel err %.2g, bound %.2g)", e,
       IN * 0x1p-24);
}

static void test_relu_init(void)
{
    double x[6] = {-2.385, -0.0, 0.0, 1e-300, 3.5, NAN}, y[6], dy[6] = {1, 2, 3, 4, 5, 6}, dx[6];
    smx_nn_relu_fwd_f64(y, x, 6);
    smx_nn_relu_bwd_f64(dx, dy, y, 6);
    ok(y[0] == 0 && y[1] == 0 && y[3] == 1e-300 && y[4] == 3.5 && isnan(y[5]) && dx[0] == 0 && dx[3] == 4 && dx[4] == 5,
       "relu forward / backward (NaN propagates, gradient only where the output is > 0)");
    enum { N = 20000 };
    static double w[N];
    gsl_rng *r = smx_rng_alloc(5);
    smx_nn_init_uniform_f64(w, N, 16, r);
    gsl_rng_free(r);
    double mx = 0, mean = 0, var = 0;
    for (size_t i = 0; i < N; i++) { mx = fmax(mx, fabs(w[i])); mean += w[i] / N; var += w[i] * w[i] / N; }
    ok(mx <= 0.25 && mx > 0.249 && fabs(mean) < 0.01 && fabs(var - 0.25 * 0.25 / 3) < 0.002,
       "uniform init, fan_in 16: |w| <= 1/4 (max %.4f), mean %.4f, variance %.5f (1/48 = %.5f)", mx, mean, var, 1.0 / 48);
}

static void test_threads(void)
{
#ifdef _OPENMP
    static double x[B * IN], W[OUT * IN], dy[B * OUT], y1[B * OUT], y2[B * OUT], dW1[OUT * IN], dW2[OUT * IN],
        dx1[B * IN], dx2[B * IN];
    unsigned long long s = 11;
    for (size_t i = 0; i < B * IN; i++) x[i] = rnd(&s);
    for (size_t i = 0; i < OUT * IN; i++) W[i] = rnd(&s);
    for (size_t i = 0; i < B * OUT; i++) dy[i] = rnd(&s);
    smx_nn_init_threads(1);
    smx_nn_dense_relu_fwd_f64(y1, x, W, NULL, B, IN, OUT);
    smx_nn_dense_bwd_relu_f64(dx1, dW1, NULL, dy, x, W, B, IN, OUT);
    smx_nn_init_threads(2);
    smx_nn_dense_relu_fwd_f64(y2, x, W, NULL, B, IN, OUT);
    smx_nn_dense_bwd_relu_f64(dx2, dW2, NULL, dy, x, W, B, IN, OUT);
    ok(!memcmp(y1, y2, sizeof y1) && !memcmp(dW1, dW2, sizeof dW1) && !memcmp(dx1, dx2, sizeof dx1),
       "1 and 2 threads: same bytes of y, dW, dx");
#else
    ok(1, "# SKIP no OpenMP");
#endif
}

int main(void)
{
    smx_nn_init_threads(0);
    test_dense_f64();
    test_dense_f32();
    test_relu_init();
    test_threads();
    return tap_done();
}
