/* kernels.h - native softmax, log-softmax and log-sum-exp kernels for float and double arrays,
 * written to run at the memory-bandwidth limit (issue 10).
 *
 * Algorithms (passes over memory; Blanchard, Higham & Higham 2021 = BHH; Milakov & Gimelshein,
 * arXiv:1805.02867 = MG; Dukhan & Ablavatski, arXiv:2001.04438 = DA):
 *  SMX_KERNELS_THREEPASS ("three-pass"): a = max x_i; s = sum e^{x_i - a}; y_i = e^{x_i - a} / s
 *      with the exp recomputed in the third pass (3 reads + 1 write).
 *  SMX_KERNELS_RELOAD ("reload"): as three-pass, but pass 2 stores e^{x_i - a} in y and pass 3
 *      rescales y in place (3 reads + 2 writes; softmax only, log-softmax / LSE = three-pass).
 *  SMX_KERNELS_ONLINE ("online", MG Alg. 3): one pass for the pair (m, d),
 *      m_j = max(m_{j-1}, x_j), d_j = d_{j-1} e^{m_{j-1} - m_j} + e^{x_j - m_j}, evaluated with ONE
 *      exp per element: e = e^{min(x_j, m) - max(x_j, m)}, d = (x_j > m) ? d e + 1 : d + e;
 *      pairs combine associatively (m1, d1) + (m2, d2) = (m, d1 e^{m1 - m} + d2 e^{m2 - m}).
 *  SMX_KERNELS_TWOPASS ("two-pass", DA Alg. 2): no max pass; e^{x_i} = m_i 2^{n_i} with
 *      n_i = nearbyint(x_i / ln 2), m_i in [0.70, 1.42]; (M, N) pairs combine as
 *      (M1 2^{N1 - N} + M2 2^{N2 - N}, N = max(N1, N2)) (exact power-of-two scalings; factors
 *      below 2^-bias flushed to 0, a relative change < 2^-125 of M); lse = log M + N ln 2,
 *      softmax_i = (m_i (1/M)) 2^{n_i - N}, logsoftmax_i = x_i - lse. Valid for
 *      |x_i| < SMX_KERNELS_TWOPASS_LIM (2^14 float, 2^20 double), entries below -LIM count 0;
 *      when max x_i is outside (-LIM + margin, LIM) the call falls back to three-pass (same ISA);
 *      margin 200 (float) / 800 (double): entries below -LIM then give outputs below the
 *      smallest subnormal, so counting them 0 changes no output.
 *  The softmax output is e (1/s): one reciprocal and a multiply (one rounding more than BHH's
 *  division); log-softmax y_i = (x_i - a) - log s (two-pass: x_i - lse); lse = a + log s.
 *
 * Exp: this file's own vectorised exp (not libm, not SLEEF): Cody-Waite reduction
 * x = n ln2 + r, n = nearbyint(x log2 e), |r| <= ln2/2, ln 2 split in two (hi + lo) and both
 * products taken by FMA; e^r by a polynomial in Horner form with FMA (double: Taylor, degree 13;
 * float: 1 + r + r^2 q(r), q a degree-4 relative minimax, kernels_inst.h); e^x = (p 2^{n1}) 2^{n2},
 * n1 = nearbyint(n/2), n2 = n - n1 (both factors normal, so the subnormal range is rounded once). Two-pass needs the unscaled (p, n) pair, which no library
 * exposes; SLEEF's exp is measured beside it by smx-bench exp-error. The log (called once per
 * vector) is libm's. Error bound SMX_KERNELS_EXP_ULP_* (ulps, measured by tests/t-vexp.c on a sample
 * and exhaustively for float by smx-bench exp-error).
 *
 * Bytes: every element-wise operation is the same IEEE operation sequence in every ISA (FMA in
 * all, scalar via fma()), reductions run in a canonical lane structure (L = 8 double / 16 float
 * lanes, element i in lane i mod L, lanes combined by the halving tree, blocks of
 * SMX_KERNELS_BLOCK elements combined sequentially in block order). Hence EVERY algorithm gives
 * the same bytes for scalar, AVX2 and AVX-512 and for any thread count (OpenMP over blocks).
 * Never compiled with value-changing FP optimisation flags (no unsafe-math mode); -std=c11 keeps
 * FP contraction off.
 *
 * Special values (checked only when the normaliser comes out non-finite, by a scalar scan, then
 * as numerics/lse.h): any NaN -> every output NaN (lse NaN); k >= 1 entries +Inf -> lse +Inf,
 * softmax 1/k on them and 0 elsewhere, logsoftmax -log k on them and -Inf elsewhere; -Inf
 * entries get probability 0; all entries -Inf -> lse -Inf, softmax and logsoftmax NaN.
 * n == 0: SMX_OK, lse = -Inf, nothing written.
 *
 * Status: SMX_OK; SMX_EDOM for a bad algorithm / ISA value; SMX_EUNSUP if the CPU lacks the
 * requested ISA; SMX_ENOMEM. y may alias x (same pointer). threads <= 0: OpenMP's default. */
#ifndef SMX_KERNELS_H
#define SMX_KERNELS_H

#include <stddef.h>

typedef enum { SMX_KERNELS_THREEPASS = 0, SMX_KERNELS_RELOAD, SMX_KERNELS_ONLINE, SMX_KERNELS_TWOPASS }
    smx_kernels_algo_t;
#define SMX_KERNELS_NALGOS 4
typedef enum { SMX_KERNELS_AUTO = 0, SMX_KERNELS_SCALAR, SMX_KERNELS_AVX2, SMX_KERNELS_AVX512 } smx_kernels_isa_t;
#define SMX_KERNELS_NISAS 4

#define SMX_KERNELS_BLOCK 8192
/* Outputs of at least smx_kernels_stream_bytes() bytes are written with non-temporal stores (AVX2 /
 * AVX-512), which skip the read-for-ownership of y; below it, ordinary stores. The values are the
 * same (only the store instruction differs). Default: never (SIZE_MAX). Measured on the machine
 * this was tuned on (AMD EPYC, Zen 5, AVX-512; smx-bench kernels --stream-bytes): out of cache,
 * non-temporal stores make a plain copy no faster (copy 0.22 ns/element either way) and the
 * softmax output passes 10-20 % slower on one thread (float two-pass, n = 2^27: 0.52 -> 0.45
 * ns/element with ordinary stores; two threads: 0.41 -> 0.33 in one run, equal in another), so they
 * are opt-in: set a threshold on a machine where `smx-bench kernels --stream-bytes` shows they help. */
#define SMX_KERNELS_STREAM_NEVER ((size_t)-1)
size_t smx_kernels_stream_bytes(void);
/* Set the threshold in bytes (SMX_KERNELS_STREAM_NEVER: ordinary stores always; 0 restores the
 * default); returns the previous one. Not thread-safe against running kernels: for benchmarks and
 * tests. */
size_t smx_kernels_set_stream_bytes(size_t bytes);
#define SMX_KERNELS_TWOPASS_LIM_F32 16384.0
#define SMX_KERNELS_TWOPASS_LIM_F64 1048576.0
/* Max error of the kernels' exp over its range, in ulps of the correctly rounded result (normal
 * results; measured maxima in README and smx-bench exp-error data; asserted by t-vexp). */
#define SMX_KERNELS_EXP_ULP_F64 1.0
#define SMX_KERNELS_EXP_ULP_F32 1.0

/* Names: three-pass (alias threepass), reload, online, two-pass (twopass); auto, scalar, avx2,
 * avx512. SMX_EDOM if unknown. */
int smx_kernels_algo_parse(smx_kernels_algo_t *a, const char *name);
const char *smx_kernels_algo_name(smx_kernels_algo_t a);
extern const char *const smx_kernels_algo_names[];
int smx_kernels_isa_parse(smx_kernels_isa_t *isa, const char *name);
const char *smx_kernels_isa_name(smx_kernels_isa_t isa);
extern const char *const smx_kernels_isa_names[];
/* 1 if this CPU runs the ISA (auto and scalar: always). */
int smx_kernels_isa_available(smx_kernels_isa_t isa);
/* The ISA auto resolves to: avx512 > avx2 (with FMA) > scalar. */
smx_kernels_isa_t smx_kernels_isa_best(void);

int smx_kernels_softmax_f64(double *y, const double *x, size_t n, smx_kernels_algo_t algo,
                            smx_kernels_isa_t isa, int threads);
int smx_kernels_softmax_f32(float *y, const float *x, size_t n, smx_kernels_algo_t algo,
                            smx_kernels_isa_t isa, int threads);
int smx_kernels_logsoftmax_f64(double *y, const double *x, size_t n, smx_kernels_algo_t algo,
                               smx_kernels_isa_t isa, int threads);
int smx_kernels_logsoftmax_f32(float *y, const float *x, size_t n, smx_kernels_algo_t algo,
                               smx_kernels_isa_t isa, int threads);
int smx_kernels_lse_f64(double *lse, const double *x, size_t n, smx_kernels_algo_t algo,
                        smx_kernels_isa_t isa, int threads);
int smx_kernels_lse_f32(float *lse, const float *x, size_t n, smx_kernels_algo_t algo,
                        smx_kernels_isa_t isa, int threads);

/* The kernels' exp alone, y_i = e^{x_i} (y may alias x). */
int smx_kernels_exp_f64(double *y, const double *x, size_t n, smx_kernels_isa_t isa);
int smx_kernels_exp_f32(float *y, const float *x, size_t n, smx_kernels_isa_t isa);
/* The kernels' max pass alone (three-pass's first pass), m = max x_i over x without NaN (-Inf for
 * n = 0; a NaN entry may or may not be returned): a read-only stream, the bandwidth limit of a
 * pass that only reads (smx-bench kernels' "read" row). Blocks over threads as the kernels. */
int smx_kernels_max_f64(double *m, const double *x, size_t n, smx_kernels_isa_t isa, int threads);
int smx_kernels_max_f32(float *m, const float *x, size_t n, smx_kernels_isa_t isa, int threads);
/* Streaming copy-and-scale y_i = alpha x_i: the bandwidth limit (one read + one write);
 * nontemporal: non-temporal (streaming) stores, as the kernels use beyond smx_kernels_stream_bytes(). */
int smx_kernels_scale_f64(double *y, const double *x, size_t n, double alpha, int nontemporal,
                          smx_kernels_isa_t isa, int threads);
int smx_kernels_scale_f32(float *y, const float *x, size_t n, float alpha, int nontemporal,
                          smx_kernels_isa_t isa, int threads);

/* Leading-order componentwise relative error bound of the softmax kernels, in units of u
 * (2^-53 or 2^-24), for finite x without underflow (pass the finite entries only: -Inf entries
 * add exact zeros): lse.h's smx_softmax_error_bound for the algorithm (three-pass / reload:
 * shifted; online: online, sequential; two-pass: two-pass) with sigma = n - 1 (valid for any
 * order of the additions, so for the lanes, tree and blocks here), plus 2 (E - 1) for the exp's
 * error of E = 2 SMX_KERNELS_EXP_ULP_* units of u instead of lse.h's 1 (in the numerator and in
 * every term of the sum; 1 ulp <= 2u), plus 1 for the reciprocal (y = e (1/s)).
 * lse: smx_lse_error_bound likewise + (E - 1) / |lse| (the sum's exp error, through the log). */
double smx_kernels_softmax_error_bound(smx_kernels_algo_t algo, const double *x, size_t n, double lse,
                                       int is_float);
double smx_kernels_lse_error_bound(smx_kernels_algo_t algo, const double *x, size_t n, double lse,
                                   int is_float);

#endif
