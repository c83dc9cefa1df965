/* sparsemax.h - sparsemax (Martins & Astudillo 2016, "From softmax to sparsemax", Alg. 1, Prop. 2).
 *
 * sparsemax(z) = argmin_{p in simplex} ||p - z||^2 = max(z - tau, 0), where with z sorted
 * decreasingly z_(1) >= ... >= z_(n):  K = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)},
 * tau = (sum_{j<=K} z_(j) - 1) / K.  KKT: y >= 0, sum y = 1, y_i = z_i - tau on the support
 * S = {i : y_i > 0}, z_i <= tau off it. Shift invariant.
 * Jacobian (Martins & Astudillo eq. 12): J = diag(s) - s s^T / |S|, s = 1_S, so
 * J^T v = s * (v - (sum_{j in S} v_j) / |S|).
 *
 * Fast (smx_sparsemax): inputs rounded to f, sorted (exact), the cumulative sums in sorted order
 * and the tests 1 + k z_(k) > c_k, tau and z_i - tau all rounded to f (f->p <= 53 else SMX_EUNSUP).
 * Reference: K, the sums and K z_i - sum + 1 computed exactly in MPFR (precision chosen to
 * hold every bit of the double inputs), then one correctly rounded division by K into f.
 * NaN / Inf: any NaN -> all NaN; k >= 1 entries +Inf -> 1/k on them, 0 elsewhere (the
 * symmetric limit); -Inf entries get 0; all entries -Inf -> all NaN. The vjp uses the support
 * of that output (NaN in -> NaN).
 * Fast functions: y may alias x. _ref and _vjp: outputs must not alias inputs.
 * Status: SMX_EDOM for n == 0; SMX_ENOMEM. */
#ifndef SMX_SPARSEMAX_H
#define SMX_SPARSEMAX_H

#include <stddef.h>
#include "format.h"

int smx_sparsemax(double *y, const double *x, size_t n, const smx_format_t *f);
int smx_sparsemax_ref(double *y, const double *x, size_t n, const smx_format_t *f);
/* g = J^T v with the support of smx_sparsemax in fp64 (ties z_i == tau count as off-support). */
int smx_sparsemax_vjp(double *g, const double *x, const double *v, size_t n);
/* tau of sparsemax in fp64 arithmetic (fast algorithm above) and the support size K. */
int smx_sparsemax_tau(double *tau, size_t *K, const double *x, size_t n);

#endif
