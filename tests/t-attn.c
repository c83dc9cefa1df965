/* t-attn.c - solvers/attn.h: multi-head attention of one query. Forward against its definition and
 * against an MPFR evaluation at 256 bits; backward (dq, dK, dV, dc) against central finite differences,
 * with and without query self-exclusion, for softmax and for a custom normaliser (sigmoid attention of
 * numerics/attnnorm.h); the softmax VJP, argmax, error paths; and the retrieval model's whole gradient
 * (experiments/dispersion_retrieval.c, which runs on this module). */
#include "attn.h"
#include "attnnorm.h"
#include "dispersion_cmds.h"
#include "format.h"
#include "nn.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <mpfr.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

enum { N = 7, H = 3, DK = 4, DV = 2, QW = H * DK, VW = H * DV };

static smx_format_t fp64;
static int sig_norm(double *y, const double *z, size_t n, void *ctx)
{
    (void)ctx;
    return smx_sigmoid_attn(y, z, n, -0.7, &fp64);
}
static int sig_vjp(double *g, const double *z, const double *y, const double *v, size_t n, void *ctx)
{
    (void)ctx, (void)y;
    double t[N];
    int st = smx_sigmoid_attn_vjp(t, z, v, n, -0.7); /* g may alias v: go through t */
    memcpy(g, t, n * sizeof *g);
    return st;
}

typedef struct {
    double q[QW], K[N * QW], V[N * VW], dout[VW], c;
    size_t ex;
    smx_attn_t a;
} prob_t;

/* L = dout . o */
static double loss(const prob_t *p)
{
    double o[VW], al[H * N], e[H * N], w[3 * N], l = 0;
    smx_attn_forward(o, al, e, p->q, p->K, p->V, N, p->ex, p->c, &p->a, w);
    for (int j = 0; j < VW; j++) l += p->dout[j] * o[j];
    return l;
}

/* max |analytic - central difference| over x[0..len), relative to max |analytic| */
static double fd_err(prob_t *p, double *x, size_t len, const double *g)
{
    double h = 1e-6, emax = 0, gmax = 1e-12;
    for (size_t i = 0; i < len; i++) {
        double x0 = x[i];
        x[i] = x0 + h;
        double lp = loss(p);
        x[i] = x0 - h;
        double lm = loss(p);
        x[i] = x0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h) - g[i]));
        gmax = fmax(gmax, fabs(g[i]));
    }
    return emax / gmax;
}

/* o by the definition in MPFR at 256 bits (softmax over the non-excluded keys); max relative error of o. */
static double mpfr_err(const prob_t *p, const double *o)
{
    mpfr_t s, t, m, z[N], den, num;
    mpfr_inits2(256, s, t, m, den, num, (mpfr_ptr)0);
    for (int i = 0; i < N; i++) mpfr_init2(z[i], 256);
    double err = 0;
    for (int h = 0; h < H; h++) {
        mpfr_set_d(m, -INFINITY, MPFR_RNDN);
        for (int i = 0; i < N; i++) { /* z_i = c scale q_h.k_i, exact products / sums at 256 bits */
            mpfr_set_zero(s, 1);
            for (int j = 0; j < DK; j++) {
                mpfr_set_d(t, p->q[h * DK + j], MPFR_RNDN);
                mpfr_mul_d(t, t, p->K[i * QW + h * DK + j], MPFR_RNDN);
                mpfr_add(s, s, t, MPFR_RNDN);
            }
            mpfr_mul_d(s, s, p->c, MPFR_RNDN);
            mpfr_set_ui(t, DK, MPFR_RNDN);
            mpfr_sqrt(t, t, MPFR_RNDN);
            mpfr_div(z[i], s, t, MPFR_RNDN);
            if ((size_t)i != p->ex && mpfr_cmp(z[i], m) > 0) mpfr_set(m, z[i], MPFR_RNDN);
        }
        mpfr_set_zero(den, 1);
        for (int i = 0; i < N; i++) {
            if ((size_t)i == p->ex) continue;
            mpfr_sub(z[i], z[i], m, MPFR_RNDN);
            mpfr_exp(z[i], z[i], MPFR_RNDN);
            mpfr_add(den, den, z[i], MPFR_RNDN);
        }
        for (int j = 0; j < DV; j++) {
            mpfr_set_zero(num, 1);
            for (int i = 0; i < N; i++) {
                if ((size_t)i == p->ex) continue;
                mpfr_mul_d(t, z[i], p->V[i * VW + h * DV + j], MPFR_RNDN);
                mpfr_add(num, num, t, MPFR_RNDN);
            }
            mpfr_div(num, num, den, MPFR_RNDN);
            double ref = mpfr_get_d(num, MPFR_RNDN);
            err = fmax(err, fabs(o[h * DV + j] - ref) / fabs(ref));
        }
    }
    mpfr_clears(s, t, m, den, num, (mpfr_ptr)0);
    for (int i = 0; i < N; i++) mpfr_clear(z[i]);
    return err;
}

int main(void)
{
    smx_nn_init_threads(1); /* tiny GEMMs: no thread start-up cost */
    smx_format_get(&fp64, "fp64");
    gsl_rng *r = smx_rng_alloc(2385);
    prob_t p;
    for (int i = 0; i < QW; i++) p.q[i] = 2.385 * (gsl_rng_uniform(r) - 0.5);
    for (int i = 0; i < VW; i++) p.dout[i] = gsl_rng_uniform(r) - 0.3;
    for (int i = 0; i < N * QW; i++) p.K[i] = 1.7 * (gsl_rng_uniform(r) - 0.5);
    for (int i = 0; i < N * VW; i++) p.V[i] = gsl_rng_uniform(r) - 0.5;
    const double cs[] = {1.0, 2.385, 0.43 * log(N)};
    const size_t exs[] = {SMX_ATTN_NONE, 3};
    for (int norm = 0; norm < 2; norm++)
        for (int xi = 0; xi < 2; xi++)
            for (int k = 0; k < 3; k++) {
                smx_attn_init(&p.a, H, DK, DV);
                if (norm) p.a.norm = sig_norm, p.a.vjp = sig_vjp;
                p.c = cs[k], p.ex = exs[xi];
                const char *nm = norm ? "sigmoid" : "softmax", *xn = xi ? "query excluded" : "no exclusion";
                double o[VW], al[H * N], e[H * N], w[3 * N];
                int st = smx_attn_forward(o, al, e, p.q, p.K, p.V, N, p.ex, p.c, &p.a, w);
                /* forward against the definition */
                double err = 0;
                for (int h = 0; h < H; h++) {
                    double z[N], zmax = -1e300, s = 0;
                    for (int i = 0; i < N; i++) {
                        double t = 0;
                        for (int j = 0; j < DK; j++) t += p.q[h * DK + j] * p.K[i * QW + h * DK + j];
                        z[i] = p.c * t / sqrt((double)DK);
                        err = fmax(err, fabs(e[h * N + i] - t / sqrt((double)DK)));
                        if ((size_t)i != p.ex) zmax = fmax(zmax, z[i]);
                    }
                    for (int i = 0; i < N; i++)
                        if ((size_t)i != p.ex) s += exp(z[i] - zmax);
                    for (int i = 0; i < N; i++) {
                        double want = (size_t)i == p.ex ? 0 : norm ? 1 / (1 + exp(-(z[i] - 0.7))) : exp(z[i] - zmax) / s;
                        err = fmax(err, fabs(al[h * N + i] - want));
                    }
                    for (int j = 0; j < DV; j++) {
                        double t = 0;
                        for (int i = 0; i < N; i++) t += al[h * N + i] * p.V[i * VW + h * DV + j];
                        err = fmax(err, fabs(o[h * DV + j] - t));
                    }
                }
                ok(st == 0 && err < 1e-14, "forward = definition, %s, %s, c = %g (err %.3g)", nm, xn, p.c, err);
                if (!norm) {
                    double me = mpfr_err(&p, o);
                    ok(me < 1e-14, "forward = MPFR 256-bit evaluation, %s, c = %g (rel %.3g)", xn, p.c, me);
                }
                double dq[QW] = {0}, dK[N * QW], dV[N * VW], dc;
                st = smx_attn_backward(dq, dK, dV, &dc, p.dout, al, e, p.q, p.K, p.V, N, p.ex, p.c, &p.a, w);
                double eq = fd_err(&p, p.q, QW, dq), ek = fd_err(&p, p.K, N * QW, dK), ev = fd_err(&p, p.V, N * VW, dV);
                double c0 = p.c, hh = 1e-6;
                p.c = c0 + hh;
                double lp = loss(&p);
                p.c = c0 - hh;
                double lm = loss(&p);
                p.c = c0;
                ok(st == 0 && eq < 1e-7, "dL/dq = finite differences, %s, %s, c = %g (rel %.3g)", nm, xn, p.c, eq);
                ok(ek < 1e-7, "dL/dK = finite differences, %s, %s, c = %g (rel %.3g)", nm, xn, p.c, ek);
                ok(ev < 1e-7, "dL/dV = finite differences, %s, %s, c = %g (rel %.3g)", nm, xn, p.c, ev);
                ok_rel(dc, (lp - lm) / (2 * hh), 1e-6, "dL/dc = finite difference, %s, %s, c = %g", nm, xn, p.c);
                if (xi) {
                    double z = 0;
                    for (int j = 0; j < QW; j++) z += fabs(dK[3 * QW + j]);
                    for (int j = 0; j < VW; j++) z += fabs(dV[3 * VW + j]);
                    for (int h = 0; h < H; h++) z += al[h * N + 3];
                    ok(z == 0, "excluded key: alpha, dK, dV exactly 0 (%s, c = %g)", nm, p.c);
                }
                double dq2[QW];
                memcpy(dq2, dq, sizeof dq);
                smx_attn_backward(dq2, dK, dV, NULL, p.dout, al, e, p.q, p.K, p.V, N, p.ex, p.c, &p.a, w);
                ok_rel(dq2[5], 2 * dq[5], 1e-15, "dq accumulates (+=), dc may be NULL");
            }
    /* softmax VJP against the Jacobian written out; argmax; error paths */
    double y[5] = {0.1, 0.25, 0.3, 0.05, 0.3}, v[5] = {2.385, -1.1, 0.4, 7.0, -0.2}, g[5], gmax = 0;
    smx_attn_softmax_vjp(g, y, v, 5);
    for (int i = 0; i < 5; i++) {
        double t = 0;
        for (int j = 0; j < 5; j++) t += ((i == j) * y[i] - y[i] * y[j]) * v[j];
        gmax = fmax(gmax, fabs(g[i] - t));
    }
    ok(gmax < 1e-15, "softmax VJP = (diag(y) - y y^T) v (err %.3g)", gmax);
    double xs[6] = {NAN, 1.5, 2.385, -4, 2.385, NAN};
    ok(smx_argmax(xs, 6) == 2, "argmax: first largest, NaN skipped");
    ok(smx_argmax(xs, 1) == 0 && smx_argmax(xs, 0) == 0, "argmax: all NaN or empty -> 0");
    double o[VW], al[H * N], e[H * N], w[3 * N];
    smx_attn_init(&p.a, H, DK, DV);
    ok(smx_attn_forward(o, al, e, p.q, p.K, p.V, 0, SMX_ATTN_NONE, 1, &p.a, w) == SMX_EDOM, "n = 0: SMX_EDOM");
    ok(smx_attn_forward(o, al, e, p.q, p.K, p.V, N, N, 1, &p.a, w) == SMX_EDOM, "exclude >= n: SMX_EDOM");
    ok(smx_attn_forward(o, al, e, p.q, p.K, p.V, 1, 0, 1, &p.a, w) == SMX_EDOM, "n = 1 with its key excluded: SMX_EDOM");
    double dq[QW], dK[N * QW], dV[N * VW];
    ok(smx_attn_backward(dq, dK, dV, NULL, p.dout, al, e, p.q, p.K, p.V, N, N + 4, 1, &p.a, w) == SMX_EDOM,
       "backward: bad exclude: SMX_EDOM");
    for (int ss = 0; ss < 2; ss++) {
        double err;
        int st = dispersion_retrieval_gradcheck(&err, ss, 2385 + ss);
        ok(st == SMX_OK && err < 1e-6, "retrieval model gradient (%s) = finite differences (rel %.3g)",
           ss ? "SSMax, ds included" : "softmax", err);
    }
    gsl_rng_free(r);
    return tap_done();
}
