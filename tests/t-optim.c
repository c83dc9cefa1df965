/* t-optim.c - solvers/optim: SGD, AdamW steps vs hand-computed values; perpGrad orthogonal to the
 * weights with the original norm; nn dense layer vs a naive triple loop; error paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "optim.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void test_perp(void)
{
    enum { N = 37 };
    double w[N], g[N], g0[N];
    float wf[N], gf[N];
    for (int i = 0; i < N; i++) {
        w[i] = sin(2.385 * i + 0.3);
        g[i] = g0[i] = 0.7 * w[i] + cos(1.17 * i * i - 0.4); /* strongly aligned with w */
        wf[i] = (float)w[i];
        gf[i] = (float)g[i];
    }
    smx_optim_perp_f64(g, w, N);
    double nw = sqrt(dot(w, w, N)), ng = sqrt(dot(g, g, N)), ng0 = sqrt(dot(g0, g0, N));
    ok_abs(dot(g, w, N) / (nw * ng), 0, 1e-14, "perp f64: cos(g_perp, w) = 0");
    ok_rel(ng, ng0, 1e-14, "perp f64: ||g_perp|| = ||g||");
    /* g_perp is in span(g0, w): g_perp = c (g0 - a w) */
    double a = dot(w, g0, N) / dot(w, w, N), c = ng0 / sqrt(dot(g0, g0, N) - a * dot(w, g0, N));
    double err = 0;
    for (int i = 0; i < N; i++) err = fmax(err, fabs(g[i] - c * (g0[i] - a * w[i])));
    ok_abs(err, 0, 1e-14, "perp f64 = ||g|| (g - (w.g/w.w) w) / ||g - (w.g/w.w) w||");
    smx_optim_perp_f32(gf, wf, N);
    double dw = 0, gg = 0;
    for (int i = 0; i < N; i++) { dw += (double)gf[i] * wf[i]; gg += (double)gf[i] * gf[i]; }
    ok_abs(dw / (nw * sqrt(gg)), 0, 1e-6, "perp f32: cos(g_perp, w) ~ 0 (float rounding)");
    ok_rel(sqrt(gg), ng0, 1e-6, "perp f32: norm kept");
    /* zero weights: projection is 0, gradient unchanged */
    double wz[3] = {0, 0, 0}, gz[3] = {0.3, -1.25, 2.5};
    smx_optim_perp_f64(gz, wz, 3);
    ok(gz[0] == 0.3 && gz[1] == -1.25 && gz[2] == 2.5, "perp with w = 0 leaves g unchanged");
}

static void test_adamw(void)
{
    /* two tensors of one allocation, three steps, compared with the formulas in double */
    double buf[5] = {0.5, -1.25, 2.0, 0.125, -0.75}, gbuf[5];
    smx_optim_cfg_t c;
    smx_optim_cfg_default(&c, SMX_OPTIM_ADAMW);
    c.lr = 0.0137; c.beta1 = 0.85; c.beta2 = 0.97; c.eps = 1e-6; c.weight_decay = 0.21;
    size_t len[2] = {2, 3};
    smx_optim_t *o;
    ok(smx_optim_alloc(&o, &c, SMX_DTYPE_F64, len, 2) == SMX_OK, "adamw alloc");
    smx_tensor_t t[2] = {{buf, gbuf, 2}, {buf + 2, gbuf + 2, 3}};
    double w[5], m[5] = {0}, v[5] = {0};
    memcpy(w, buf, sizeof w);
    for (int s = 1; s <= 3; s++) {
        for (int i = 0; i < 5; i++) gbuf[i] = sin(1.3 * s + i) + 0.2 * buf[i];
        double worst = 0;
        for (int i = 0; i < 5; i++) {
            double g = gbuf[i];
            w[i] *= 1 - c.lr * c.weight_decay;
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * g;
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g;
            double mh = m[i] / (1 - pow(c.beta1, s)), vh = v[i] / (1 - pow(c.beta2, s));
            w[i] -= c.lr * mh / (sqrt(vh) + c.eps);
        }
        smx_optim_step(o, t, 2);
        for (int i = 0; i < 5; i++) worst = fmax(worst, fabs(buf[i] - w[i]) / fabs(w[i]));
        ok(worst < 1e-14, "adamw step %d equals the hand-computed update (rel err %.2g)", s, worst);
    }
    ok(o->step == 3 && smx_optim_state_size(o) == 2 * 5 * sizeof(double), "adamw state: 3 steps, m and v");
    smx_tensor_t bad[2] = {{buf, gbuf, 2}, {buf + 2, gbuf + 2, 2}};
    ok(smx_optim_step(o, bad, 2) == SMX_EDOM, "step with other lengths -> SMX_EDOM");
    ok(smx_optim_step(o, t, 1) == SMX_EDOM, "step with other tensor count -> SMX_EDOM");
    smx_optim_free(o);
    /* first step of AdamW moves every weight by lr (sign of g) when eps is tiny: |m/sqrt v| = 1 */
    float wf[3] = {1.5f, -2.25f, 0.375f}, gf[3] = {3e-3f, -7.0f, 1e-12f};
    c.weight_decay = 0; c.eps = 1e-25;
    ok(smx_optim_alloc(&o, &c, SMX_DTYPE_F32, (size_t[]){3}, 1) == SMX_OK, "adamw f32 alloc");
    smx_tensor_t tf = {wf, gf, 3};
    smx_optim_step(o, &tf, 1);
    ok_rel(wf[0], 1.5 - 0.0137, 1e-6, "adamw f32 first step: w - lr sign(g)");
    ok_rel(wf[1], -2.25 + 0.0137, 1e-6, "adamw f32 first step: w + lr for g < 0");
    ok_rel(wf[2], 0.375 - 0.0137, 1e-6, "adamw f32 first step: even for g = 1e-12 (eps 1e-25)");
    smx_optim_free(o);
}

static void test_sgd(void)
{
    double w[3] = {0.25, -1.5, 3.0}, g[3], b[3] = {0};
    double w0[3];
    memcpy(w0, w, sizeof w);
    smx_optim_cfg_t c;
    smx_optim_cfg_default(&c, SMX_OPTIM_SGD);
    c.lr = 0.31; c.momentum = 0.2; c.weight_decay = 0.05;
    smx_optim_t *o;
    ok(smx_optim_alloc(&o, &c, SMX_DTYPE_F64, (size_t[]){3}, 1) == SMX_OK, "sgd alloc");
    smx_tensor_t t = {w, g, 3};
    double worst = 0;
    for (int s = 1; s <= 3; s++) {
        for (int i = 0; i < 3; i++) g[i] = cos(0.7 * s * (i + 1));
        for (int i = 0; i < 3; i++) {
            double d = g[i] + c.weight_decay * w0[i];
            b[i] = s == 1 ? d : c.momentum * b[i] + d;
            w0[i] -= c.lr * b[i];
        }
        smx_optim_step(o, &t, 1);
        for (int i = 0; i < 3; i++) worst = fmax(worst, fabs(w[i] - w0[i]));
    }
    ok(worst < 1e-15, "sgd with momentum and L2: 3 steps equal the hand-computed ones (err %.2g)", worst);
    smx_optim_free(o);
    /* perp-SGD: the update is orthogonal to w */
    c.momentum = 0; c.weight_decay = 0; c.perp = 1;
    double w2[4] = {1, 2, -0.5, 0.25}, g2[4] = {2, 4, -1, 0.75}, wold[4];
    memcpy(wold, w2, sizeof w2);
    smx_optim_alloc(&o, &c, SMX_DTYPE_F64, (size_t[]){4}, 1);
    smx_tensor_t t2 = {w2, g2, 4};
    smx_optim_step(o, &t2, 1);
    double d[4];
    for (int i = 0; i < 4; i++) d[i] = w2[i] - wold[i];
    ok_abs(dot(d, wold, 4), 0, 1e-14, "perp-sgd update orthogonal to w");
    smx_optim_free(o);
    /* bad configurations */
    c.lr = -1;
    ok(smx_optim_alloc(&o, &c, SMX_DTYPE_F64, (size_t[]){4}, 1) == SMX_EDOM && !o, "lr < 0 -> SMX_EDOM");
    smx_optim_cfg_default(&c, SMX_OPTIM_ADAMW);
    c.beta2 = 1;
    ok(smx_optim_alloc(&o, &c, SMX_DTYPE_F64, (size_t[]){4}, 1) == SMX_EDOM, "beta2 = 1 -> SMX_EDOM");
    smx_optim_cfg_default(&c, SMX_OPTIM_ADAMW);
    ok(smx_optim_alloc(&o, &c, SMX_DTYPE_F64, NULL, 0) == SMX_EDOM, "no tensors -> SMX_EDOM");
}

static void test_dense(void)
{
    /* shapes spanning several fixed tiles: B = 1100 rows (3 row tiles), out = 113 (3 dW tiles) */
    enum { B = 1100, IN = 37, OUT = 113 };
    double *x = malloc(B * IN * sizeof *x), *W = malloc(OUT * IN * sizeof *W), *bias = malloc(OUT * sizeof *bias);
    double *y = malloc(B * OUT * sizeof *y), *dy = malloc(B * OUT * sizeof *dy), *dx = malloc(B * IN * sizeof *dx);
    double *dW = malloc(OUT * IN * sizeof *dW), *db = malloc(OUT * sizeof *db);
    gsl_rng *r = smx_rng_alloc(7);
    smx_nn_init_uniform_f64(W, OUT * IN, IN, r);
    double wmax = 0;
    for (int i = 0; i < OUT * IN; i++) wmax = fmax(wmax, fabs(W[i]));
    ok(wmax <= 1 / sqrt(IN) && wmax > 0.9 / sqrt(IN), "init uniform within +-1/sqrt(fan_in) (max %.4f)", wmax);
    for (int i = 0; i < B * IN; i++) x[i] = gsl_rng_uniform(r) - 0.5;
    for (int i = 0; i < OUT; i++) bias[i] = 0.1 * i - 2.385;
    for (int i = 0; i < B * OUT; i++) dy[i] = gsl_rng_uniform(r) - 0.3;
    smx_nn_init_threads(0);
    smx_nn_dense_fwd_f64(y, x, W, bias, B, IN, OUT);
    smx_nn_dense_bwd_f64(dx, dW, db, dy, x, W, B, IN, OUT);
    double ey = 0, ex = 0, ew = 0, eb = 0;
    for (int i = 0; i < B; i++)
        for (int o = 0; o < OUT; o++) {
            double s = bias[o];
            for (int k = 0; k < IN; k++) s += x[i * IN + k] * W[o * IN + k];
            ey = fmax(ey, fabs(s - y[i * OUT + o]));
        }
    for (int i = 0; i < B; i++)
        for (int k = 0; k < IN; k++) {
            double s = 0;
            for (int o = 0; o < OUT; o++) s += dy[i * OUT + o] * W[o * IN + k];
            ex = fmax(ex, fabs(s - dx[i * IN + k]));
        }
    for (int o = 0; o < OUT; o++) {
        double sb = 0;
        for (int i = 0; i < B; i++) sb += dy[i * OUT + o];
        eb = fmax(eb, fabs(sb - db[o]));
        for (int k = 0; k < IN; k++) {
            double s = 0;
            for (int i = 0; i < B; i++) s += dy[i * OUT + o] * x[i * IN + k];
            ew = fmax(ew, fabs(s - dW[o * IN + k]));
        }
    }
    ok(ey < 1e-13, "dense fwd y = x W^T + b vs triple loop (err %.2g)", ey);
    ok(ex < 1e-13, "dense bwd dx = dy W (err %.2g)", ex);
    ok(ew < 1e-12, "dense bwd dW = dy^T x (err %.2g)", ew);
    ok(eb < 1e-12, "dense bwd db = column sums of dy (err %.2g)", eb);
    /* relu */
    double a[4] = {-1.5, 0.0, 2.385, -0.0}, ra[4], g4[4] = {1, 2, 3, 4};
    smx_nn_relu_fwd_f64(ra, a, 4);
    smx_nn_relu_bwd_f64(g4, g4, ra, 4);
    ok(ra[0] == 0 && ra[2] == 2.385 && g4[0] == 0 && g4[1] == 0 && g4[2] == 3 && g4[3] == 0, "relu fwd/bwd");
    /* fused ReLU variants == the unfused composition, bit for bit, over several tiles */
    double *y2 = malloc(B * OUT * sizeof *y2), *dx2 = malloc(B * IN * sizeof *dx2);
    double *dW2 = malloc(OUT * IN * sizeof *dW2), *db2 = malloc(OUT * sizeof *db2);
    smx_nn_relu_fwd_f64(y, y, B * OUT);
    smx_nn_dense_relu_fwd_f64(y2, x, W, bias, B, IN, OUT);
    int same = !memcmp(y, y2, B * OUT * sizeof *y), nz = 0;
    for (int i = 0; i < B * OUT; i++) nz += y[i] == 0;
    ok(same && nz > B * OUT / 10 && nz < B * OUT, "dense_relu_fwd == relu(dense_fwd) bitwise (%d zeros)", nz);
    smx_nn_relu_bwd_f64(dx, dx, x, B * IN);
    smx_nn_dense_bwd_relu_f64(dx2, dW2, db2, dy, x, W, B, IN, OUT);
    ok(!memcmp(dx, dx2, B * IN * sizeof *dx) && !memcmp(dW, dW2, OUT * IN * sizeof *dW) &&
           !memcmp(db, db2, OUT * sizeof *db), "dense_bwd_relu == dense_bwd then dx [x > 0], bitwise");
    float *xf = malloc(B * IN * sizeof *xf), *Wf = malloc(OUT * IN * sizeof *Wf), *dyf = malloc(B * OUT * sizeof *dyf);
    float *yf = malloc(B * OUT * sizeof *yf), *yf2 = malloc(B * OUT * sizeof *yf2);
    float *dxf = malloc(B * IN * sizeof *dxf), *dxf2 = malloc(B * IN * sizeof *dxf2), *dWf = malloc(OUT * IN * sizeof *dWf);
    for (int i = 0; i < B * IN; i++) xf[i] = (float)x[i];
    for (int i = 0; i < OUT * IN; i++) Wf[i] = (float)W[i];
    for (int i = 0; i < B * OUT; i++) dyf[i] = (float)dy[i];
    smx_nn_dense_fwd_f32(yf, xf, Wf, NULL, B, IN, OUT);
    smx_nn_relu_fwd_f32(yf, yf, B * OUT);
    smx_nn_dense_relu_fwd_f32(yf2, xf, Wf, NULL, B, IN, OUT);
    smx_nn_dense_bwd_f32(dxf, dWf, NULL, dyf, xf, Wf, B, IN, OUT);
    smx_nn_relu_bwd_f32(dxf, dxf, xf, B * IN);
    smx_nn_dense_bwd_relu_f32(dxf2, dWf, NULL, dyf, xf, Wf, B, IN, OUT);
    ok(!memcmp(yf, yf2, B * OUT * sizeof *yf) && !memcmp(dxf, dxf2, B * IN * sizeof *dxf),
       "float: fused ReLU forward/backward == unfused, bitwise");
    free(y2); free(dx2); free(dW2); free(db2);
    free(xf); free(Wf); free(dyf); free(yf); free(yf2); free(dxf); free(dxf2); free(dWf);
    gsl_rng_free(r);
    free(x); free(W); free(bias); free(y); free(dy); free(dx); free(dW); free(db);
}

int main(void)
{
    test_perp();
    test_adamw();
    test_sgd();
    test_dense();
    return tap_done();
}
