/* lse.c - log-sum-exp, softmax and log-softmax in any format (see lse.h).
 *
 * Every algorithm is written once, against the rounded register machine of rreg.h whose operations
 * are rounded to the format either in double (fast path) or in MPFR (reference path); so the
 * two paths execute the same sequence of rounded operations and can be compared bit for bit.
 * The correctly rounded reference is lse_ref.c (MPFR with a Ziv loop, smx_lse_reference); the
 * error bounds are lse_bound.c. */
#include "lse.h"
#include "rreg.h"
#include "smx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

const char *const smx_lse_algo_names[] = {"reference", "naive", "shifted", "log1p", "online", "two-pass", NULL};

int smx_lse_algo_parse(smx_lse_algo_t *a, const char *name)
{
    if (!name) return SMX_EDOM;
    for (int i = 0; smx_lse_algo_names[i]; i++)
        if (!strcmp(name, smx_lse_algo_names[i])) { *a = (smx_lse_algo_t)i; return SMX_OK; }
    if (!strcmp(name, "basic")) *a = SMX_LSE_NAIVE;
    else if (!strcmp(name, "three-pass")) *a = SMX_LSE_SHIFTED;
    else if (!strcmp(name, "twopass")) *a = SMX_LSE_TWOPASS;
    else return SMX_EDOM;
    return SMX_OK;
}

const char *smx_lse_algo_name(smx_lse_algo_t a)
{
    return (unsigned)a < SMX_LSE_NALGOS ? smx_lse_algo_names[a] : "?";
}

/* ---- register machine (rreg.h): each operation rounded to f, in double or in MPFR ---- */

typedef smx_rr_t ar_t;

/* fdlibm's split of ln 2: LN2_HI has 32 significant bits, so k * LN2_HI is exact for |k| < 2^21 */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10

/* r <- fl(a 2^k), k an integer-valued double (exact unless it underflows / overflows) */
static void ar_scale(ar_t *A, size_t r, size_t a, double k)
{
    if (k < -1e6) k = -1e6; /* beyond this every format's result is 0 (or Inf) anyway */
    if (k > 1e6) k = 1e6;
    if (A->mp) {
        smx_rr_fix(A, r, mpfr_mul_2si(A->m[r], A->m[a], (long)k, MPFR_RNDN));
    } else {
        if (k < -3000) k = -3000;
        if (k > 3000) k = 3000;
        A->d[r] = smx_format_round(ldexp(A->d[a], (int)k), A->f);
    }
}

/* r <- fl(e^{x_a} 2^{-k}), the two-pass mantissa (one rounding; |x_a| < 2^52). Fast path:
 * ldexp(exp(x), -k) (exact scaling) while e^x is a normal double, else Cody-Waite reduction
 * r = x - k ln2 with fdlibm's split (fma) and exp(r). MPFR: the reduction and exp at p + 80
 * bits, then rounded once (the 2^-(p+70) error makes a double rounding practically impossible). */
static void ar_exp2split(ar_t *A, size_t r, size_t a, double k)
{
    if (A->mp) {
        mpfr_prec_t w = A->f->p + 80;
        mpfr_t l, t;
        mpfr_inits2(w, l, t, (mpfr_ptr)0);
        mpfr_const_log2(l, MPFR_RNDN);
        mpfr_mul_d(l, l, k, MPFR_RNDN);
        mpfr_sub(t, A->m[a], l, MPFR_RNDN);
        mpfr_exp(t, t, MPFR_RNDN);
        smx_rr_fix(A, r, mpfr_set(A->m[r], t, MPFR_RNDN));
        mpfr_clears(l, t, (mpfr_ptr)0);
    } else {
        double x = A->d[a], v;
        if (fabs(x) < 700) v = ldexp(exp(x), (int)-k);
        else v = exp(fma(-k, LN2_HI, x) - k * LN2_LO);
        A->d[r] = smx_format_round(v, A->f);
    }
}

/* r <- fl(N ln 2) */
static void ar_set_nln2(ar_t *A, size_t r, double N)
{
    if (A->mp) {
        mpfr_t l;
        mpfr_init2(l, A->f->p + 80);
        mpfr_const_log2(l, MPFR_RNDN);
        mpfr_mul_d(l, l, N, MPFR_RNDN);
        smx_rr_fix(A, r, mpfr_set(A->m[r], l, MPFR_RNDN));
        mpfr_clear(l);
    } else {
        A->d[r] = smx_format_round(N * LN2_HI + N * LN2_LO, A->f);
    }
}

/* ---- the algorithms on the register machine ----
 * Layout for n inputs: X = [0, n) inputs (rounded), T = [n, 2n) shifted arguments / running
 * maxima, E = [2n, 3n) exponentials / mantissas, O = [3n, 4n) outputs and reduction slots,
 * then scalars. */
enum { WANT_LSE = 1, WANT_SM = 2, WANT_LSM = 4 };
enum { S_LSE, S_S, S_L, S_A, S_B, S_ONE, S_DEN, S_M, S_NSCALARS };

typedef struct {
    ar_t *A;
    size_t n, X, T, E, O, S;
    smx_lse_algo_t algo;
} job_t;

static size_t argmax(const job_t *J)
{
    size_t k = 0;
    for (size_t i = 1; i < J->n; i++)
        if (smx_rr_cmp(J->A, J->X + i, J->X + k) > 0) k = i;
    return k;
}

/* NaN / Inf rules of lse.h. Returns 1 if the outputs are set. */
static int specials(job_t *J, int want)
{
    ar_t *A = J->A;
    size_t n = J->n, npinf = 0, nminf = 0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (smx_rr_isnan(A, J->X + i)) nan = 1;
        else if (smx_rr_inf(A, J->X + i) > 0) npinf++;
        else if (smx_rr_inf(A, J->X + i) < 0) nminf++;
    }
    if (!nan && !npinf && nminf < n) return 0;
    double lse = nan ? NAN : npinf ? INFINITY : -INFINITY;
    smx_rr_set_d(A, J->S + S_LSE, lse);
    for (size_t i = 0; i < n; i++) {
        double v = NAN;
        if (!nan && npinf) {
            int top = smx_rr_inf(A, J->X + i) > 0;
            if (want & WANT_SM) v = top ? 1.0 / (double)npinf : 0.0;
            else v = top ? -log((double)npinf) : -INFINITY;
        }
        smx_rr_set_d(A, J->O + i, v);
    }
    return 1;
}

/* shifted (three-pass) and log1p (BHH) */
static void run_shifted(job_t *J, smx_sum_algo_t sum, int want, int use_log1p)
{
    ar_t *A = J->A;
    size_t n = J->n, S = J->S, k = argmax(J), j = 0;
    for (size_t i = 0; i < n; i++) {
        smx_rr_sub(A, J->T + i, J->X + i, J->X + k);           /* t_i = fl(x_i - a), t_k = 0 */
        if (use_log1p && i == k) continue;
        smx_rr_exp(A, J->E + j++, J->T + i);                   /* e_i = fl(exp t_i) */
    }
    if (j > 0) smx_rr_sum(A, S + S_S, J->E, j, sum);           /* s */
    else smx_rr_set_d(A, S + S_S, 0.0);
    if (use_log1p) smx_rr_log1p(A, S + S_L, S + S_S);          /* l = fl(log1p s) */
    else smx_rr_log(A, S + S_L, S + S_S);                      /* l = fl(log s) */
    smx_rr_add(A, S + S_LSE, J->X + k, S + S_L);               /* lse = fl(a + l) */
    if (want & WANT_SM) {
        size_t den = S + S_S;
        if (use_log1p) {
            smx_rr_set_d(A, S + S_ONE, 1.0);
            smx_rr_add(A, S + S_DEN, S + S_ONE, S + S_S);      /* fl(1 + s) */
            den = S + S_DEN;
        }
        for (size_t i = 0; i < n; i++) {
            size_t e = !use_log1p ? J->E + i : i == k ? S + S_ONE : J->E + (i < k ? i : i - 1);
            smx_rr_div(A, J->O + i, e, den);
        }
    }
    if (want & WANT_LSM)
        for (size_t i = 0; i < n; i++) smx_rr_sub(A, J->O + i, J->T + i, S + S_L);
}

/* key of reduction slot i: the running max (online, register T+i) or the exponent N
 * (two-pass, ex[O+i]); value: d or M in register O+i. Returns sign(key_i - key_j); -Inf
 * keys mark empty slots. */
static int slot_cmp(const job_t *J, size_t i, size_t j)
{
    if (J->algo == SMX_LSE_ONLINE) return smx_rr_cmp(J->A, J->T + i, J->T + j);
    double a = J->A->ex[J->O + i], b = J->A->ex[J->O + j];
    return (a > b) - (a < b);
}

static int slot_empty(const job_t *J, size_t i)
{
    if (J->algo == SMX_LSE_ONLINE) return smx_rr_inf(J->A, J->T + i) < 0;
    return isinf(J->A->ex[J->O + i]);
}

/* value of slot `from` rescaled to the key of slot `to` into scalar S_A:
 * online fl(d fl(e^{fl(m_from - m_to)})), two-pass fl(M 2^{N_from - N_to}) */
static void slot_rescale(job_t *J, size_t from, size_t to)
{
    ar_t *A = J->A;
    size_t t = J->S + S_A;
    if (J->algo == SMX_LSE_ONLINE) {
        smx_rr_sub(A, t, J->T + from, J->T + to);
        smx_rr_exp(A, t, t);
        smx_rr_mul(A, t, J->O + from, t);
    } else {
        ar_scale(A, t, J->O + from, A->ex[J->O + from] - A->ex[J->O + to]);
    }
}

/* slot i <- slot i + slot j: (m, d) or (N, M) pairs, Milakov-Gimelshein / Dukhan-Ablavatski */
static void slot_combine(job_t *J, size_t i, size_t j)
{
    ar_t *A = J->A;
    if (slot_empty(J, j)) return;
    if (slot_empty(J, i)) {
        smx_rr_copy(A, J->T + i, J->T + j);
        smx_rr_copy(A, J->O + i, J->O + j);
        return;
    }
    int c = slot_cmp(J, j, i);
    if (c > 0) {
        slot_rescale(J, i, j);
        smx_rr_add(A, J->O + i, J->S + S_A, J->O + j);
        smx_rr_copy(A, J->T + i, J->T + j); /* copies ex[] too */
        A->ex[J->O + i] = A->ex[J->O + j];
    } else if (c == 0) {
        smx_rr_add(A, J->O + i, J->O + i, J->O + j);
    } else {
        slot_rescale(J, j, i);
        smx_rr_add(A, J->O + i, J->O + i, J->S + S_A);
    }
}

static void reduce_tree(job_t *J, size_t lo, size_t len)
{
    if (len < 2) return;
    size_t h = len / 2;
    reduce_tree(J, lo, h);
    reduce_tree(J, lo + h, len - h);
    slot_combine(J, lo, lo + h);
}

/* online (Milakov & Gimelshein) and two-pass (Dukhan & Ablavatski) */
static void run_pairs(job_t *J, smx_sum_algo_t sum, int want)
{
    ar_t *A = J->A;
    size_t n = J->n, S = J->S;
    int online = J->algo == SMX_LSE_ONLINE;
    for (size_t i = 0; i < n; i++) {                       /* leaves */
        int minf = smx_rr_inf(A, J->X + i) < 0;
        if (online) {
            smx_rr_copy(A, J->T + i, J->X + i);                /* (x_i, 1) */
            smx_rr_set_d(A, J->O + i, minf ? 0.0 : 1.0);
        } else {
            double k = minf ? -INFINITY : nearbyint(smx_rr_get_d(A, J->X + i) / M_LN2);
            if (minf) smx_rr_set_d(A, J->E + i, 0.0);
            else ar_exp2split(A, J->E + i, J->X + i, k); /* (m_i, n_i) */
            A->ex[J->E + i] = k;
            smx_rr_copy(A, J->O + i, J->E + i);
        }
    }
    if (sum == SMX_SUM_PAIRWISE) reduce_tree(J, 0, n);
    else
        for (size_t j = 1; j < n; j++) slot_combine(J, 0, j);
    smx_rr_copy(A, S + S_M, J->T);                              /* m (online) */
    smx_rr_copy(A, S + S_S, J->O);                              /* d or M */
    double N = A->ex[J->O];
    smx_rr_log(A, S + S_L, S + S_S);                            /* l = fl(log d) */
    if (online) smx_rr_add(A, S + S_LSE, S + S_M, S + S_L);     /* lse = fl(m + l) */
    else {
        ar_set_nln2(A, S + S_B, N);
        smx_rr_add(A, S + S_LSE, S + S_L, S + S_B);             /* lse = fl(l + fl(N ln2)) */
    }
    for (size_t i = 0; i < n && (want & (WANT_SM | WANT_LSM)); i++) {
        size_t o = J->O + i;
        if (online) {
            smx_rr_sub(A, J->T + i, J->X + i, S + S_M);         /* fl(x_i - m) */
            if (want & WANT_SM) {
                smx_rr_exp(A, J->E + i, J->T + i);
                smx_rr_div(A, o, J->E + i, S + S_S);
            } else {
                smx_rr_sub(A, o, J->T + i, S + S_L);
            }
        } else if (want & WANT_SM) {
            if (isinf(A->ex[J->E + i])) { smx_rr_set_d(A, o, 0.0); continue; }
            smx_rr_div(A, S + S_A, J->E + i, S + S_S);         /* fl(m_i / M) */
            ar_scale(A, o, S + S_A, A->ex[J->E + i] - N);  /* times 2^{n_i - N} */
        } else {
            smx_rr_sub(A, o, J->X + i, S + S_LSE);
        }
    }
}

static void run_naive_full(job_t *J, smx_sum_algo_t sum, int want)
{
    ar_t *A = J->A;
    size_t n = J->n, S = J->S;
    for (size_t i = 0; i < n; i++) smx_rr_exp(A, J->E + i, J->X + i);  /* e_i = fl(exp x_i) */
    smx_rr_sum(A, S + S_S, J->E, n, sum);                              /* s */
    smx_rr_log(A, S + S_LSE, S + S_S);                                 /* lse = fl(log s) */
    for (size_t i = 0; i < n; i++) {
        if (want & WANT_SM) smx_rr_div(A, J->O + i, J->E + i, S + S_S);
        else if (want & WANT_LSM) smx_rr_sub(A, J->O + i, J->X + i, S + S_LSE);
    }
}

/* Runs algo on the loaded inputs X; lse in S + S_LSE, softmax or logsoftmax in O. */
static int job_run(job_t *J, smx_sum_algo_t sum, int want)
{
    ar_t *A = J->A;
    if ((J->algo == SMX_LSE_ONLINE || J->algo == SMX_LSE_TWOPASS) && (sum == SMX_SUM_COMPENSATED || sum == SMX_SUM_MAXFIRST))
        return SMX_EUNSUP;
    smx_rr_begin(A);
    int st = SMX_OK;
    if (!specials(J, want)) {
        switch (J->algo) {
        case SMX_LSE_NAIVE: run_naive_full(J, sum, want); break;
        case SMX_LSE_SHIFTED: run_shifted(J, sum, want, 0); break;
        case SMX_LSE_LOG1P: run_shifted(J, sum, want, 1); break;
        case SMX_LSE_ONLINE: run_pairs(J, sum, want); break;
        case SMX_LSE_TWOPASS:
            for (size_t i = 0; i < J->n; i++)
                if (!smx_rr_inf(A, J->X + i) && fabs(smx_rr_get_d(A, J->X + i)) >= 0x1p52) st = SMX_ERANGE;
            if (st == SMX_OK) run_pairs(J, sum, want);
            break;
        default: st = SMX_EDOM;
        }
    }
    smx_rr_end(A);
    return st;
}

static void job_init(job_t *J, ar_t *A, size_t n, smx_lse_algo_t algo)
{
    J->A = A;
    J->n = n;
    J->X = 0;
    J->T = n;
    J->E = 2 * n;
    J->O = 3 * n;
    J->S = 4 * n;
    J->algo = algo;
}

/* ---- public API ---- */

static int check_args(size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum)
{
    if (n == 0 || (unsigned)algo >= SMX_LSE_NALGOS || (unsigned)sum >= SMX_SUM_NALGOS) return SMX_EDOM;
    return SMX_OK;
}

/* Reference from double inputs: rounded to f, then ref_compute; outputs to double. */
static int ref_from_d(double *lse, double *y, int want, const double *x, size_t n, const smx_format_t *f)
{
    mpfr_t *xm = malloc(n * sizeof *xm), *ym = malloc(n * sizeof *ym), l, t;
    if (!xm || !ym) { free(xm); free(ym); return SMX_ENOMEM; }
    mpfr_init2(t, 53);
    mpfr_init2(l, f->p);
    for (size_t i = 0; i < n; i++) {
        mpfr_inits2(f->p, xm[i], ym[i], (mpfr_ptr)0);
        mpfr_set_d(t, x[i], MPFR_RNDN);
        smx_format_round_mpfr(xm[i], t, f);
    }
    int st = smx_lse_reference(want & WANT_LSE ? l : NULL, want & WANT_SM ? ym : NULL, want & WANT_LSM ? ym : NULL, xm, n, f);
    if (want & WANT_LSE) *lse = mpfr_get_d(l, MPFR_RNDN);
    if (want & (WANT_SM | WANT_LSM))
        for (size_t i = 0; i < n; i++) y[i] = mpfr_get_d(ym[i], MPFR_RNDN);
    for (size_t i = 0; i < n; i++) mpfr_clears(xm[i], ym[i], (mpfr_ptr)0);
    mpfr_clears(t, l, (mpfr_ptr)0);
    free(xm);
    free(ym);
    return st;
}

/* ---- workspaces: registers for up to nmax inputs, allocated once ---- */

struct smx_lse_ws {
    smx_format_t f;
    size_t nmax;
    ar_t A;
    mpfr_t t; /* MPFR path: the double input before its rounding to f */
};

int smx_lse_ws_alloc(smx_lse_ws_t **out, size_t nmax, const smx_format_t *f)
{
    *out = NULL;
    if (nmax == 0) return SMX_EDOM;
    smx_lse_ws_t *w = calloc(1, sizeof *w);
    if (!w) return SMX_ENOMEM;
    w->f = *f;
    w->nmax = nmax;
    int mp = !smx_format_has_fast(f);
    if (smx_rr_alloc(&w->A, 4 * nmax + S_NSCALARS, mp, &w->f) != SMX_OK) { free(w); return SMX_ENOMEM; }
    if (mp) mpfr_init2(w->t, 53);
    *out = w;
    return SMX_OK;
}

void smx_lse_ws_free(smx_lse_ws_t *w)
{
    if (!w) return;
    if (w->A.mp) mpfr_clear(w->t);
    smx_rr_free(&w->A);
    free(w);
}

static int run_ws(smx_lse_ws_t *w, double *lse, double *y, int want, const double *x, size_t n, smx_lse_algo_t algo,
                  smx_sum_algo_t sum)
{
    int st = check_args(n, algo, sum);
    if (st) return st;
    if (algo == SMX_LSE_REFERENCE) return ref_from_d(lse, y, want, x, n, &w->f);
    if (n > w->nmax) return SMX_EDOM;
    ar_t *A = &w->A;
    job_t J;
    job_init(&J, A, n, algo);
    for (size_t i = 0; i < n; i++) {
        if (A->mp) {
            mpfr_set_d(w->t, x[i], MPFR_RNDN);
            smx_format_round_mpfr(A->m[i], w->t, &w->f);
        } else {
            A->d[i] = smx_format_round(x[i], &w->f);
        }
    }
    st = job_run(&J, sum, want);
    if (st == SMX_OK) {
        if (want & WANT_LSE) *lse = smx_rr_get_d(A, J.S + S_LSE);
        if (want & (WANT_SM | WANT_LSM))
            for (size_t i = 0; i < n; i++) y[i] = smx_rr_get_d(A, J.O + i);
    }
    return st;
}

int smx_lse_ws(smx_lse_ws_t *w, double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum)
{
    return run_ws(w, y, NULL, WANT_LSE, x, n, algo, sum);
}

int smx_softmax_ws(smx_lse_ws_t *w, double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum)
{
    return run_ws(w, NULL, y, WANT_SM, x, n, algo, sum);
}

int smx_logsoftmax_ws(smx_lse_ws_t *w, double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum)
{
    return run_ws(w, NULL, y, WANT_LSM, x, n, algo, sum);
}

/* The allocating API: a workspace for this call. */
static int run_d(double *lse, double *y, int want, const double *x, size_t n, smx_lse_algo_t algo,
                 smx_sum_algo_t sum, const smx_format_t *f)
{
    int st = check_args(n, algo, sum);
    if (st) return st;
    if (algo == SMX_LSE_REFERENCE) return ref_from_d(lse, y, want, x, n, f);
    smx_lse_ws_t *w;
    if ((st = smx_lse_ws_alloc(&w, n, f)) != SMX_OK) return st;
    st = run_ws(w, lse, y, want, x, n, algo, sum);
    smx_lse_ws_free(w);
    return st;
}

int smx_lse(double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum, const smx_format_t *f)
{
    return run_d(y, NULL, WANT_LSE, x, n, algo, sum, f);
}

int smx_softmax(double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum, const smx_format_t *f)
{
    return run_d(NULL, y, WANT_SM, x, n, algo, sum, f);
}

int smx_logsoftmax(double *y, const double *x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                   const smx_format_t *f)
{
    return run_d(NULL, y, WANT_LSM, x, n, algo, sum, f);
}

static int run_mpfr(mpfr_ptr lse, mpfr_t *y, int want, mpfr_t *const x, size_t n, smx_lse_algo_t algo,
                    smx_sum_algo_t sum, const smx_format_t *f)
{
    int st = check_args(n, algo, sum);
    if (st) return st;
    if (algo == SMX_LSE_REFERENCE) {
        mpfr_t *yy = want & (WANT_SM | WANT_LSM) ? y : NULL;
        if (lse) {
            mpfr_t l;
            mpfr_init2(l, f->p);
            st = smx_lse_reference(l, NULL, NULL, x, n, f);
            mpfr_set_prec(lse, f->p);
            mpfr_set(lse, l, MPFR_RNDN);
            mpfr_clear(l);
            return st;
        }
        return smx_lse_reference(NULL, want & WANT_SM ? yy : NULL, want & WANT_LSM ? yy : NULL, x, n, f);
    }
    ar_t A;
    job_t J;
    if ((st = smx_rr_alloc(&A, 4 * n + S_NSCALARS, 1, f))) return st;
    job_init(&J, &A, n, algo);
    for (size_t i = 0; i < n; i++) smx_format_round_mpfr(A.m[i], x[i], f);
    st = job_run(&J, sum, want);
    if (st == SMX_OK) {
        if (want & WANT_LSE) { mpfr_set_prec(lse, f->p); mpfr_set(lse, A.m[J.S + S_LSE], MPFR_RNDN); }
        if (want & (WANT_SM | WANT_LSM))
            for (size_t i = 0; i < n; i++) { mpfr_set_prec(y[i], f->p); mpfr_set(y[i], A.m[J.O + i], MPFR_RNDN); }
    }
    smx_rr_free(&A);
    return st;
}

int smx_lse_mpfr(mpfr_t y, mpfr_t *const x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum, const smx_format_t *f)
{
    return run_mpfr(y, NULL, WANT_LSE, x, n, algo, sum, f);
}

int smx_softmax_mpfr(mpfr_t *y, mpfr_t *const x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                     const smx_format_t *f)
{
    return run_mpfr(NULL, y, WANT_SM, x, n, algo, sum, f);
}

int smx_logsoftmax_mpfr(mpfr_t *y, mpfr_t *const x, size_t n, smx_lse_algo_t algo, smx_sum_algo_t sum,
                        const smx_format_t *f)
{
    return run_mpfr(NULL, y, WANT_LSM, x, n, algo, sum, f);
}

/* ---- native kernels: shifted three-pass ---- */

#define NATIVE_MAX(T, x, n)                                                         \
    T a = x[0];                                                                     \
    for (size_t i = 1; i < n; i++) a = x[i] > a ? x[i] : a;

double smx_lse_f64(const double *x, size_t n)
{
    if (n == 0) return -INFINITY;
    NATIVE_MAX(double, x, n)
    if (a == -INFINITY) return a;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += exp(x[i] - a);
    return a + log(s);
}

float smx_lse_f32(const float *x, size_t n)
{
    if (n == 0) return -INFINITY;
    NATIVE_MAX(float, x, n)
    if (a == -INFINITY) return a;
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += expf(x[i] - a);
    return a + logf(s);
}

void smx_softmax_f64(double *y, const double *x, size_t n)
{
    if (n == 0) return;
    NATIVE_MAX(double, x, n)
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (y[i] = exp(x[i] - a));
    for (size_t i = 0; i < n; i++) y[i] /= s;
}

void smx_softmax_f32(float *y, const float *x, size_t n)
{
    if (n == 0) return;
    NATIVE_MAX(float, x, n)
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += (y[i] = expf(x[i] - a));
    for (size_t i = 0; i < n; i++) y[i] /= s;
}
