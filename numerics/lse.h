/* lse.h - log-sum-exp, softmax and log-softmax in any format, by six algorithms.
 *
 * lse(x) = log sum_i e^{x_i},  softmax_i = e^{x_i - lse},  logsoftmax_i = x_i - lse.
 *
 * Files: lse.c (the algorithms on the rounded register machine of rreg.h, the double /
 * workspace / MPFR entry points, the native kernels), lse_ref.c (the correctly rounded MPFR
 * reference), lse_bound.c (the error bounds).
 *
 * Emulation: inputs are first rounded to the format f (round-to-nearest-even); then every
 * operation (+ - * /, exp, log, log1p, scaling by 2^k) is rounded to f: fast path (double +
 * smx_format_round, libm exp/log) when f->p <= 53, MPFR path (precision p, the format's
 * exponent range and subnormals) otherwise or through the *_mpfr functions. Sums use the
 * order of sum.h (smx_sum_algo_t). Notation: a = max_i x_i (k = first index attaining it),
 * fl() = rounded to f, u = 2^-p.
 *
 * Algorithms (Blanchard, Higham & Higham, IMA J. Numer. Anal. 41(4), 2021 = BHH;
 * Milakov & Gimelshein, arXiv:1805.02867, 2018; Dukhan & Ablavatski, arXiv:2001.04438, 2020):
 *  SMX_LSE_NAIVE ("naive", BHH Alg. 3.1 "basic"):
 *      e_i = fl(exp x_i), s = sum e_i, lse = fl(log s), softmax_i = fl(e_i / s),
 *      logsoftmax_i = fl(x_i - lse). Overflows as soon as some x_i > log(max) (fp16 11.09,
 *      bf16 / fp32 88.72, fp64 709.78).
 *  SMX_LSE_SHIFTED ("shifted", three-pass): t_i = fl(x_i - a), e_i = fl(exp t_i),
 *      s = sum_{all i} e_i (e_k = 1), l = fl(log s), lse = fl(a + l), softmax_i = fl(e_i / s),
 *      logsoftmax_i = fl(t_i - l).
 *  SMX_LSE_LOG1P ("log1p", BHH Alg. 4.1 shifted with log1p): s = sum_{i != k} e_i (the n-1
 *      others, in index order), l = fl(log1p s), lse = fl(a + l), softmax_i = fl(e_i / fl(1 + s))
 *      with e_k = 1, logsoftmax_i = fl(t_i - l).
 *  SMX_LSE_ONLINE ("online", Milakov & Gimelshein Alg. 3): pairs (m, d) with leaves (x_i, 1),
 *      combined by (m1, d1) + (m2, d2) = (m, fl(d1 fl(e^{fl(m1 - m)}) + d2 fl(e^{fl(m2 - m)}))),
 *      m = max(m1, m2), the factor e^0 = 1 (exact) not computed. sum = naive: one sequential
 *      pass m_j = max(m_{j-1}, x_j), d_j = d_{j-1} e^{m_{j-1} - m_j} + e^{x_j - m_j};
 *      sum = pairwise: the same combination in the balanced tree of sum.h (the parallel / SIMD
 *      reduction); sum = compensated or maxfirst: SMX_EUNSUP. Then lse = fl(m + fl(log d)),
 *      softmax_i = fl(fl(e^{fl(x_i - m)}) / d), logsoftmax_i = fl(fl(x_i - m) - fl(log d)).
 *  SMX_LSE_TWOPASS ("two-pass", Dukhan & Ablavatski Alg. 2): no max pass; each e^{x_i} is
 *      held as a pair (mantissa, exponent): n_i = nearbyint(x_i / ln 2), m_i = fl(e^{x_i} 2^{-n_i})
 *      (one rounding; m_i in [0.70, 1.42]); pairs combine as (M1, N1) + (M2, N2) =
 *      (fl(fl(M1 2^{N1-N}) + fl(M2 2^{N2-N})), N = max(N1, N2)) (scalings exact except
 *      underflow), sequentially (sum = naive) or in the tree (pairwise); compensated:
 *      SMX_EUNSUP (also maxfirst). lse = fl(fl(log M) + fl(N ln 2)), softmax_i = fl(fl(m_i / M) 2^{n_i - N}),
 *      logsoftmax_i = fl(x_i - lse). Requires |x_i| < 2^52 (SMX_ERANGE otherwise).
 *  SMX_LSE_REFERENCE ("reference"): the exact function of the (rounded) inputs, correctly
 *      rounded to f once per output. Always computed in MPFR (also from the double API): the
 *      shifted algorithm at working precision w = p + 64 + log2(n) bits with a rigorous
 *      first-order error bound, Ziv loop (mpfr_can_round at p + 1 bits, w increased by half
 *      each round, at most 12 rounds). Exact cases (one finite entry; all entries equal:
 *      softmax = 1/n, lse = a + log n) are handled in closed form, so the loop terminates.
 *
 * Special values (all algorithms, checked on the rounded inputs before the algorithm runs):
 *  - any NaN -> every output NaN;
 *  - k >= 1 entries +Inf -> lse = +Inf, softmax = fl(1/k) on the +Inf entries and 0 elsewhere,
 *    logsoftmax = fl(-log k) on them and -Inf elsewhere (the limit as those entries -> +Inf;
 *    1/k and -log k are evaluated in double, then rounded to f);
 *  - -Inf entries get probability 0 and logsoftmax -Inf; all entries -Inf -> lse = -Inf,
 *    softmax and logsoftmax NaN (no limit exists).
 *  Finite inputs whose intermediate results overflow or underflow (e.g. naive with
 *  x_i > 11.09 in fp16) are not special: the algorithm's own Inf / 0 / NaN is returned.
 *  Formats without Inf (fp8-e4m3): Inf inputs round to NaN.
 *
 * Status: SMX_OK; SMX_EDOM for n == 0 or a bad algorithm / sum enum; SMX_EUNSUP and SMX_ERANGE
 * (online / two-pass, see above); SMX_ENOMEM. */
#ifndef SMX_LSE_H
#define SMX_LSE_H

#include <stddef.h>
#include <mpfr.h>
#include "format.h"
#include "sum.h"

typedef enum { SMX_LSE_REFERENCE = 0, SMX_LSE_NAIVE, SMX_LSE_SHIFTED, SMX_LSE_LOG1P, SMX_LSE_ONLINE,
               SMX_LSE_TWOPASS } smx_lse_algo_t;
#define SMX_LSE_NALGOS 6

/* Names: reference naive shifted log1p online two-pass (aliases: basic = naive,
 * three-pass = shifted, twopass = two-pass). SMX_EDOM if unknown. */
int smx_lse_algo_parse(smx_lse_algo_t *a, const char *name);
const char *smx_lse_algo_name(smx_lse_algo_t a);
/* The canonical names, NULL-terminated, in enum order. */
extern const char *const smx_lse_algo_names[];

/* Double API, any format: *y = lse; y[0..n) = softmax / logsoftmax (y may alias x: the inputs
 * are copied before any output is written).
 * Outputs are exact for p <= 53 (rounded to double for p > 53). */
int smx_lse(double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
            const smx_format_t *f);
int smx_softmax(double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                const smx_format_t *f);
int smx_logsoftmax(double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                   const smx_format_t *f);

/* Workspace API (no allocation per call, for hot loops): registers for up to nmax inputs in
 * format f (copied), allocated once. Same outputs, bit for bit, as the allocating functions
 * above; n > nmax: SMX_EDOM. SMX_LSE_REFERENCE still allocates (MPFR Ziv loop). One workspace
 * per thread. */
typedef struct smx_lse_ws smx_lse_ws_t;
int smx_lse_ws_alloc(smx_lse_ws_t **w, size_t nmax, const smx_format_t *f);
void smx_lse_ws_free(smx_lse_ws_t *w);
int smx_lse_ws(smx_lse_ws_t *w, double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum);
int smx_softmax_ws(smx_lse_ws_t *w, double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum);
int smx_logsoftmax_ws(smx_lse_ws_t *w, double *y, const double *x, size_t n, smx_lse_algo_t algo,
                      smx_sum_algo_t sum);

/* MPFR API: outputs set to precision f->p (y must be initialised by the caller and must not
 * alias x). Inputs of any
 * precision, rounded to f first, except for SMX_LSE_REFERENCE which takes them exactly. */
int smx_lse_mpfr(mpfr_t y, mpfr_t *const x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                 const smx_format_t *f);
int smx_softmax_mpfr(mpfr_t *y, mpfr_t *const x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                     const smx_format_t *f);
int smx_logsoftmax_mpfr(mpfr_t *y, mpfr_t *const x, size_t n, smx_lse_algo_t algo,
                        smx_sum_algo_t sum, const smx_format_t *f);

/* The correctly rounded reference (lse_ref.c; what SMX_LSE_REFERENCE computes): lse, sm[0..n),
 * lsm[0..n) (any may be NULL; initialised by the caller) set to precision f->p and correctly
 * rounded into f, of the exact inputs x[0..n), n >= 1 (MPFR with a Ziv loop). SMX_OK, SMX_ENOMEM. */
int smx_lse_reference(mpfr_t lse, mpfr_t *sm, mpfr_t *lsm, mpfr_t *const x, size_t n, const smx_format_t *f);

/* Native kernels: shifted three-pass in the machine's own arithmetic (no emulation, no
 * allocation; y may alias x; the max and division loops vectorise, exp / expf stay libm calls
 * without fast-math compiler options). n == 0: lse = -Inf, nothing written. NaN/Inf as above
 * only where the plain formulas give it (NaN in -> NaN out; +Inf gives NaN). */
double smx_lse_f64(const double *x, size_t n);
float smx_lse_f32(const float *x, size_t n);
void smx_softmax_f64(double *y, const double *x, size_t n);
void smx_softmax_f32(float *y, const float *x, size_t n);

/* Leading-order relative error bounds, in units of u (error <= bound * u + O(u^2)), for finite
 * x (exact in the format, no overflow / underflow), lse = the exact lse(x). They are derived for
 * the algorithms exactly as defined above (each operation, exp and log included, rounded once),
 * with sigma(m) = the first-order constant of summing m positive terms: naive m - 1, pairwise
 * ceil(log2 m), compensated 1; D = max x - min x; L = lse - max x = log sum e^{x_i - a} >= 0.
 *   lse:  naive     1 + (sigma(n) + 1) / |lse|           (BHH Thm 3.2: 1 + (n+1)/|lse|)
 *         shifted   (|lse| + L + D + sigma(n) + 1) / |lse|
 *         log1p     (|lse| + L + D + sigma(n-1) + 1) / |lse|  (BHH Thm 4.2 script:
 *                   |lse + n - x_min| / |lse|, which omits the u|lse| of the final a + l)
 *         online    (|lse| + L + D + c_m) / |lse|, c_m = n + 2K (sequential, K = number of
 *                   strict increases of the running max) or 3 ceil(log2 n) (tree)
 *         two-pass  (|lse| + |lse - N ln2| + |N ln2| + sigma(n) + 1) / |lse|, N = nearbyint(a/ln2)
 *         reference 1/2
 *   softmax (componentwise relative; BHH measure max_i|err_i| / max_i y_i is bounded by it too):
 *         naive     sigma(n) + 3                          (BHH Thm 3.3: n + 3)
 *         shifted   2D + sigma(n) + 3                     (BHH Thm 4.3: n + 2 + 2D)
 *         log1p     2D + sigma(n-1) + 4
 *         online    2D + c_m + 2
 *         two-pass  sigma(n) + 3                          (no D: there is no max subtraction)
 *         reference 1/2
 * sum = compensated has an extra O(n^2 u^2) term (the correction is itself summed naively).
 * For online / two-pass, sum chooses sequential (naive) or tree (pairwise). n >= 1. */
double smx_lse_error_bound(smx_lse_algo_t algo, smx_sum_algo_t sum, const double *x, size_t n,
                           double lse);
double smx_softmax_error_bound(smx_lse_algo_t algo, smx_sum_algo_t sum, const double *x, size_t n,
                               double lse);
/* The expressions of BHH's experiment scripts (higham/logsumexp-softmax-tests): basic LSE
 * 1 + (n+1)/|y|, shifted LSE |y + n - x_min|/|y|, basic softmax n + 3, shifted softmax
 * n + 2 + 2D; for online / two-pass / reference the shifted ones. For comparison only. */
double smx_lse_error_bound_bhh(smx_lse_algo_t algo, const double *x, size_t n, double lse);
double smx_softmax_error_bound_bhh(smx_lse_algo_t algo, const double *x, size_t n, double lse);

#endif
