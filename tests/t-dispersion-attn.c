/* t-dispersion-attn.c - the retrieval model's attention head (experiments/dispersion_retrieval.c):
 * forward against its definition, backward (dq, dK, dV, dc) against central finite differences,
 * and the whole model's gradient (SSMax's ds included) against finite differences. */
#include "dispersion_cmds.h"
#include "smx.h"
#include "tap.h"
#include "util.h"
#include "nn.h"

#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

enum { N = 7, D = 5 };

/* L = dout . o(q, K, V, c) */
static double loss(const double *q, const double *K, const double *V, double c, const double *dout)
{
    double o[D], a[N], e[N], w[N], l = 0;
    dispersion_attn_forward(o, a, e, q, K, V, N, D, c, w);
    for (int j = 0; j < D; j++) l += dout[j] * o[j];
    return l;
}

/* max |analytic - central difference| over the entries of p (len), relative to max |analytic| */
static double fd_err(double *p, size_t len, const double *g, double *q, double *K, double *V, double c,
                     const double *dout)
{
    double h = 1e-6, emax = 0, gmax = 1e-12;
    for (size_t i = 0; i < len; i++) {
        double p0 = p[i];
        p[i] = p0 + h;
        double lp = loss(q, K, V, c, dout);
        p[i] = p0 - h;
        double lm = loss(q, K, V, c, dout);
        p[i] = p0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h) - g[i]));
        gmax = fmax(gmax, fabs(g[i]));
    }
    return emax / gmax;
}

int main(void)
{
    smx_nn_init_threads(1); /* tiny GEMMs: no thread start-up cost */
    gsl_rng *r = smx_rng_alloc(2385);
    double q[D], K[N * D], V[N * D], dout[D];
    for (int i = 0; i < D; i++) q[i] = 2.385 * (gsl_rng_uniform(r) - 0.5), dout[i] = gsl_rng_uniform(r) - 0.3;
    for (int i = 0; i < N * D; i++) K[i] = 1.7 * (gsl_rng_uniform(r) - 0.5), V[i] = gsl_rng_uniform(r) - 0.5;
    const double cs[] = {1.0, 2.385, 0.43 * log(N)};
    for (int k = 0; k < 3; k++) {
        double c = cs[k], o[D], a[N], e[N], w[N];
        dispersion_attn_forward(o, a, e, q, K, V, N, D, c, w);
        /* forward against the definition */
        double z[N], zmax = -1e300, s = 0, err = 0;
        for (int i = 0; i < N; i++) {
            double t = 0;
            for (int j = 0; j < D; j++) t += q[j] * K[i * D + j];
            z[i] = c * t / sqrt((double)D);
            zmax = fmax(zmax, z[i]);
            err = fmax(err, fabs(e[i] - t / sqrt((double)D)));
        }
        for (int i = 0; i < N; i++) s += exp(z[i] - zmax);
        for (int i = 0; i < N; i++) err = fmax(err, fabs(a[i] - exp(z[i] - zmax) / s));
        for (int j = 0; j < D; j++) {
            double t = 0;
            for (int i = 0; i < N; i++) t += a[i] * V[i * D + j];
            err = fmax(err, fabs(o[j] - t));
        }
        ok(err < 1e-14, "attention forward = definition, c = %g (err %.3g)", c, err);
        double dq[D] = {0}, dK[N * D], dV[N * D];
        double dc = dispersion_attn_backward(dq, dK, dV, dout, a, e, q, K, V, N, D, c, w);
        double eq = fd_err(q, D, dq, q, K, V, c, dout);
        double ek = fd_err(K, N * D, dK, q, K, V, c, dout);
        double ev = fd_err(V, N * D, dV, q, K, V, c, dout);
        double h = 1e-6, fdc = (loss(q, K, V, c + h, dout) - loss(q, K, V, c - h, dout)) / (2 * h);
        ok(eq < 1e-7, "dL/dq = finite differences, c = %g (rel %.3g)", c, eq);
        ok(ek < 1e-7, "dL/dK = finite differences, c = %g (rel %.3g)", c, ek);
        ok(ev < 1e-7, "dL/dV = finite differences, c = %g (rel %.3g)", c, ev);
        ok_rel(dc, fdc, 1e-6, "dL/dc = finite difference, c = %g", c);
        /* dq accumulates */
        double dq2[D];
        memcpy(dq2, dq, sizeof dq);
        dispersion_attn_backward(dq2, dK, dV, dout, a, e, q, K, V, N, D, c, w);
        ok_rel(dq2[2], 2 * dq[2], 1e-15, "dq accumulates (+=)");
    }
    for (int ss = 0; ss < 2; ss++) {
        double err;
        int st = dispersion_retrieval_gradcheck(&err, ss, 2385 + ss);
        ok(st == SMX_OK && err < 1e-6, "retrieval model gradient (%s) = finite differences (rel %.3g)",
           ss ? "SSMax, ds included" : "softmax", err);
    }
    gsl_rng_free(r);
    return tap_done();
}
