/* t-xent.c - cross-entropy in a format (numerics/xent.h): SC of a hand-built logit row at the
 * format neighbours of the collapse threshold (numerics/threshold.h) for fp16, bf16, fp32, fp64,
 * p64 (maxfirst and pairwise); loss and gradient vs numerics/stablemax.h references (fp64 fast
 * path, p80 MPFR path); the fast path equals the forced MPFR path bit for bit (p <= 25, both
 * losses, both orders: one algorithm on rreg.h); loss vs the exact CE within a first-order
 * bound; error statuses. Issue 10 (vectorised exp of the loss pass): smx_rr_exp_n == smx_rr_exp
 * element for element on 10^6 high-entropy arguments per format plus arguments whose exp lies
 * within a few double ulps of a rounding midpoint of the format, and the fast path == the MPFR
 * path bit for bit (p <= 25) on rows with near-ties, huge spreads (subnormal / zero exps), +-Inf
 * and NaN logits. StableMax precision sweep: fast == MPFR over logits of every magnitude in every
 * format (p > 25: within a few ulps), and stablemax.h's double CE gradient vs MPFR. smx_xent_eval_f32
 * (a float model's rows, the vectorised fp32 softmax path) == smx_xent_eval, bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rreg.h"
#include "smx.h"
#include "stablemax.h"
#include "tap.h"
#include "threshold.h"
#include "xent.h"

/* the largest value of the format below x and the smallest at or above (x > 0, p <= 53) */
static void neighbours(double *lo, double *hi, double x, const smx_format_t *f)
{
    int p = f->p > 53 ? 53 : f->p;
    double ulp = ldexp(1.0, ilogb(x) - p + 1);
    double r = floor(x / ulp) * ulp;
    *lo = r < x ? r : r - ulp;
    *hi = r < x ? r + ulp : r;
}

static void test_sc(void)
{
    enum { V = 113 };
    const char *fmts[] = {"fp16", "bf16", "fp32", "fp64", "p64"};
    smx_xent_t *ws;
    double z[V], gr[V];
    for (int fi = 0; fi < 5; fi++) {
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        for (int order = 0; order < 2; order++) {
            smx_xent_alloc(&ws, V, SMX_XENT_SOFTMAX, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
            smx_sum_algo_t so = order ? SMX_SUM_PAIRWISE : SMX_SUM_NAIVE;
            double D;
            smx_threshold_collapse(&D, V, so, SMX_THRESHOLD_ROUNDED_EXP, &f);
            double theory = f.p * M_LN2 + (order ? log(V - 1.0) : 0);
            double lo, hi;
            neighbours(&lo, &hi, D, &f);
            /* D is the double nearest to the real threshold: step up if it lies below */
            if (!smx_threshold_is_sc(hi, V, so, SMX_THRESHOLD_ROUNDED_EXP, &f)) neighbours(&lo, &hi, nextafter(hi, INFINITY), &f);
            smx_xent_row_t rl, rh;
            const size_t y = 37;
            for (int k = 0; k < V; k++) z[k] = -lo;
            z[y] = 0;
            smx_xent_eval(ws, &rl, gr, z, V, y);
            for (int k = 0; k < V; k++) z[k] = -hi;
            z[y] = 0;
            smx_xent_eval(ws, &rh, gr, z, V, y);
            ok(!rl.sc && rh.sc && rl.gap == lo && rh.gap == hi,
               "%s %s: no SC at gap %.9g, SC at gap %.9g (threshold %.9g; p ln 2%s = %.6g)", fmts[fi],
               order ? "pairwise" : "sequential", lo, hi, D, order ? " + ln(V-1)" : "", theory);
            ok(rh.zero && rh.loss == 0 && gr[y] == 0 && gr[0] > 0 && !rl.zero && rl.loss > 0,
               "%s %s: in SC loss and correct-class gradient are exactly 0, others not", fmts[fi],
               order ? "pairwise" : "sequential");
            ok(fabs(D - theory) < (order ? 0.1 : 1e-3 + ldexp(1.0, 1 - f.p)), "%s %s: threshold %.6g near %.6g", fmts[fi],
               order ? "pairwise" : "sequential", D, theory);
            smx_xent_free(ws);
        }
    }
}

/* loss and gradient of one row against numerics/stablemax.h (softmax_ce, stablemax_ce) */
static void test_row_ref(void)
{
    enum { V = 13 };
    double z[V], g[V], gref[V], lref;
    for (int k = 0; k < V; k++) z[k] = 3.1 * sin(2.385 * k) - 0.4 * k;
    smx_format_t f64, p80;
    smx_format_get(&f64, "fp64");
    smx_format_get(&p80, "p80");
    smx_xent_t *ws, *wm;
    smx_xent_row_t r;
    for (int loss = 0; loss < 2; loss++) {
        smx_xent_alloc(&ws, V, (smx_xent_loss_t)loss, SMX_SUM_MAXFIRST, &f64, 0);
        smx_xent_alloc(&wm, V, (smx_xent_loss_t)loss, SMX_SUM_PAIRWISE, &p80, 0);
        const char *nm = loss ? "stablemax" : "softmax";
        if (loss) smx_stablemax_ce(&lref, gref, z, V, 5);
        else smx_softmax_ce(&lref, gref, z, V, 5, &f64);
        smx_xent_eval(ws, &r, g, z, V, 5);
        double e = 0;
        for (int k = 0; k < V; k++) e = fmax(e, fabs(g[k] - gref[k]));
        ok_rel(r.loss, lref, 1e-14, "%s CE fp64 row loss vs stablemax.h reference", nm);
        ok(e < 1e-15, "%s CE fp64 row gradient vs reference (err %.2g)", nm, e);
        smx_xent_eval(wm, &r, g, z, V, 5);
        e = 0;
        for (int k = 0; k < V; k++) e = fmax(e, fabs(g[k] - gref[k]));
        ok_rel(r.loss, lref, 1e-14, "%s CE p80 (MPFR path) row loss vs reference", nm);
        ok(e < 1e-15, "%s CE p80 row gradient vs reference (err %.2g)", nm, e);
        if (loss) ok(smx_xent_eval(ws, &r, g, z, V, V) == SMX_EDOM && smx_xent_eval(ws, &r, g, z, V + 1, 0) == SMX_EDOM &&
                     smx_xent_eval(ws, &r, g, z, 0, 0) == SMX_EDOM, "label >= n, n > workspace, n == 0 -> SMX_EDOM");
        smx_xent_free(ws);
        smx_xent_free(wm);
    }
}

static int same(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

/* the fast (wf) and MPFR (wm) workspaces on one row: outputs that differ among the n + 3 (loss, sc,
 * gap, gradient); *sc = the fast path's SC flag */
static long row_diff(smx_xent_t *wf, smx_xent_t *wm, const double *z, size_t n, size_t y, int *sc)
{
    double g1[128], g2[128]; /* n <= 128 here */
    smx_xent_row_t r1, r2;
    smx_xent_eval(wf, &r1, g1, z, n, y);
    smx_xent_eval(wm, &r2, g2, z, n, y);
    long diff = !same(r1.loss, r2.loss) + (r1.sc != r2.sc) + !same(r1.gap, r2.gap);
    for (size_t k = 0; k < n; k++) diff += !same(g1[k], g2[k]);
    *sc = r1.sc;
    return diff;
}

/* fast path == forced MPFR path, bit for bit, for formats with p <= 25 (there the double
 * emulation of + - * / is exact and libm's exp / log almost always round the same way: a
 * mismatch rate below 1e-3 is allowed for exp / log double rounding, none for the rest) */
static void test_fast_vs_mpfr(void)
{
    const char *fmts[] = {"fp16", "bf16", "p13", "fp32"};
    enum { V = 29 };
    unsigned long long s = 2385;
    for (int fi = 0; fi < 4; fi++) {
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        for (int loss = 0; loss < 2; loss++)
            for (int order = 0; order < 2; order++) {
                smx_sum_algo_t so = order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST;
                smx_xent_t *wf, *wm;
                smx_xent_alloc(&wf, V, (smx_xent_loss_t)loss, so, &f, 0);
                smx_xent_alloc(&wm, V, (smx_xent_loss_t)loss, so, &f, 1);
                long diff = 0, total = 0, scs = 0;
                for (int rep = 0; rep < 300; rep++) {
                    double z[V];
                    double scale = 0.5 + (rep % 10) * 2.385; /* up to ~22: SC in the small formats */
                    for (int k = 0; k < V; k++) {
                        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                        z[k] = scale * ((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
                    }
                    size_t y = (size_t)(s % V);
                    z[y] += scale; /* often the max: SC rows */
                    int sc;
                    total += V + 3;
                    diff += row_diff(wf, wm, z, V, y, &sc);
                    scs += sc;
                }
                ok(diff <= total / 1000, "%s %s %s: fast == MPFR path on %ld outputs (%ld differ; %ld SC rows)", fmts[fi],
                   loss ? "stablemax" : "softmax", order ? "pairwise" : "maxfirst", total, diff, scs);
                smx_xent_free(wf);
                smx_xent_free(wm);
            }
    }
}

static unsigned long long xs_next(unsigned long long *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}
static double xs_unit(unsigned long long *s) { return (double)(xs_next(s) >> 11) / 9007199254740992.0; }

/* a double near log of a midpoint between two neighbours of f (p <= 52) in [2^-60, 2^60] (or
 * of the format's overflow threshold max + ulp/2, or of half its smallest subnormal): exp of
 * it lies within a few double ulps of a rounding boundary of f */
static double near_tie_arg(unsigned long long *s, const smx_format_t *f)
{
    unsigned k = (unsigned)(xs_next(s) % 16);
    if (k == 0 && f->max < 1e300) return log(f->max) + log1p(ldexp(1.0, -f->p - 1)); /* overflow edge */
    if (k == 1 && smx_format_min_subnormal(f) > 1e-300) return log(smx_format_min_subnormal(f) / 2);
    int e = (int)(xs_next(s) % 121) - 60;
    double m = floor(ldexp(1.0 + xs_unit(s), f->p - 1)) + 0.5; /* a midpoint in [2^(p-1), 2^p) */
    return log(ldexp(m, e - f->p + 1));
}

/* smx_rr_exp_n == smx_rr_exp element for element */
static void test_exp_n(void)
{
    const char *fmts[] = {"fp32", "bf16", "fp16", "p11", "p5", "p20", "p25", "p40", "fp8-e4m3", "fp8-e5m2"};
    enum { N = 1000, ROWS = 1000 };
    unsigned long long s = 2385;
    for (int fi = 0; fi < 10; fi++) {
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        smx_rr_t A;
        smx_rr_alloc(&A, 2 * N, 0, &f);
        long diff = 0, ties = 0;
        for (int row = 0; row < ROWS; row++) {
            for (int i = 0; i < N; i++) {
                double x;
                unsigned c = (unsigned)(xs_next(&s) % 8);
                if (c < 3) x = -23.85 * xs_unit(&s);                /* the loss pass's range */
                else if (c < 5) x = 1500 * xs_unit(&s) - 750;       /* overflow / underflow */
                else if (c < 7) { x = near_tie_arg(&s, &f); ties++; }
                else x = (double)(float)(-16 * xs_unit(&s));          /* float arguments */
                if (xs_next(&s) % 4096 == 0) x = (xs_next(&s) & 1) ? NAN : (xs_next(&s) & 1) ? INFINITY : -INFINITY;
                A.d[N + i] = x;
            }
            smx_rr_exp_n(&A, 0, N, N);
            for (int i = 0; i < N; i++) {
                double v = A.d[i];
                smx_rr_exp(&A, 0, N + i);
                diff += !same(v, A.d[0]);
            }
        }
        ok(diff == 0, "%s: smx_rr_exp_n == smx_rr_exp on %d arguments (%ld near a rounding boundary; %ld differ)",
           fmts[fi], N * ROWS, ties, diff);
        smx_rr_free(&A);
    }
}

/* fast path == forced MPFR path bit for bit, rows engineered for the vectorised exp's fallback:
 * logits z_i = m + t_i with e^{t_i} within a few double ulps of a midpoint of the format (fp32,
 * p25: found by search, below), huge spreads (subnormal and zero exps), -Inf / +Inf / NaN logits */
static void test_fast_vs_mpfr_edges(void)
{
    const char *fmts[] = {"fp32", "bf16", "fp16", "p11", "p5", "p20", "p25"};
    /* the float t in [-87, -2^-31] whose e^t lies within 8 double ulps of a binary32 midpoint (a scan
     * of all 1.1e9 of them: 4 ulps, 4, 2, 1); for p25, t = -2^-26: e^t = 1 - 2^-26 + 2^-53 + ..., one
     * double ulp above the midpoint 1 - 2^-26. A format value t of p <= 20 bits has none. */
    static const double ties32[4] = {-0x1p-25, -0x1.c1c4b8p-10, -0x1.e1dbe2p-8, -0x1.d2259ap+3};
    enum { V = 97 };
    unsigned long long s = 4711;
    for (int c = 0; c < 7 * 4; c++) { /* format, loss, order */
        const int fi = c / 4, loss = c / 2 % 2, order = c % 2;
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
            {
                smx_xent_t *wf, *wm;
                smx_xent_alloc(&wf, V, (smx_xent_loss_t)loss, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
                smx_xent_alloc(&wm, V, (smx_xent_loss_t)loss, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 1);
                long diff = 0, total = 0, near = 0;
                for (int rep = 0; rep < 60; rep++) {
                    double z[V];
                    const double m = rep % 2 ? smx_format_round(2.385 * (rep % 7), &f) : 0; /* 0: t survives exactly */
                    /* every third row: exps below the format's subnormals (named formats) or down to
                     * e^-600 (pN: the fast path has double's range, so results below 2^-1022 would
                     * double-round in the division, a format limit, not the exp's); StableMax terms
                     * 1 / (1 - x) of the same logits (large |x|: test_stablemax_sweep) */
                    const double spread = rep % 3 == 0 ? (f.name[0] == 'p' ? 600 : 3000) : 60;
                    for (int k = 0; k < V; k++) {
                        unsigned c = (unsigned)(xs_next(&s) % 6);
                        double t;
                        if (c < 2) t = fi == 0 ? ties32[xs_next(&s) % 4] : fi == 6 ? -0x1p-26 : smx_format_round(near_tie_arg(&s, &f), &f);
                        else if (c < 4) t = -spread * xs_unit(&s);
                        else t = -8 * xs_unit(&s);
                        if (t > 0) t = -t;
                        if (c < 2) {
                            /* distance of e^t to the nearest midpoint of the format, in double ulps */
                            double e = exp(t), M = ldexp(1.0, ilogb(e) - f.p + 1);
                            near += fabs(e / M - floor(e / M) - 0.5) * M < 8 * ldexp(1.0, ilogb(e) - 52) &&
                                    smx_format_round(m + t, &f) - m == t; /* the exp's argument is t */
                        }
                        z[k] = m + t;
                    }
                    size_t y = (size_t)(xs_next(&s) % V);
                    z[y] = m; /* the max (t <= 0 elsewhere) */
                    if (rep % 10 == 7) z[(y + 1) % V] = -INFINITY;
                    if (rep % 20 == 9) z[(y + 2) % V] = INFINITY;
                    if (rep % 20 == 19) z[(y + 3) % V] = NAN;
                    int sc;
                    total += V + 3;
                    diff += row_diff(wf, wm, z, V, y, &sc);
                }
                ok(diff == 0, "%s %s %s: fast == MPFR bit for bit on %ld outputs, rows with +-Inf, NaN, underflowing "
                   "exps and %ld exps within 8 double ulps of a midpoint (%ld differ)", fmts[fi],
                   loss ? "stablemax" : "softmax", order ? "pairwise" : "maxfirst", total, near, diff);
                smx_xent_free(wf);
                smx_xent_free(wm);
            }
    }
}

/* fp64's fast path (identity rounding, libm exp / log) equals xent.h's formulas written out in
 * plain double here, bit for bit: both losses, both sums, the row's maximum at every position,
 * row lengths 1..57, -Inf logits (an independent text of the algorithm; guards the fused fp64
 * loop of exp_sum) */
static void test_fp64_plain(void)
{
    enum { V = 57 };
    smx_format_t f;
    smx_format_get(&f, "fp64");
    unsigned long long s = 777;
    for (int c = 0; c < 4; c++) {
        const int loss = c / 2, pw = c % 2;
        smx_xent_t *w;
        smx_xent_alloc(&w, V, (smx_xent_loss_t)loss, pw ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
        long diff = 0, total = 0;
        for (int rep = 0; rep < 400; rep++) {
            double z[V], g[V], e[V], o[V];
            const size_t n = 1 + (size_t)rep % V, y = (size_t)(xs_next(&s) % n);
            const double sc = 1 + rep % 25;
            for (size_t i = 0; i < n; i++) z[i] = sc * (2 * xs_unit(&s) - 1);
            if (rep % 7 == 3 && n > 1) z[(y + 1) % n] = -INFINITY;
            size_t k = 0;
            for (size_t i = 1; i < n; i++)
                if (z[i] > z[k]) k = i;
            /* e_i: exp(z_i - m) (softmax) or s(z_i) (StableMax); S: e_k first, then the others in
             * index order (sequential) or pairwise (sum.h) */
            for (size_t i = 0; i < n; i++) e[i] = loss ? smx_stablemax_s(z[i]) : exp(z[i] - z[k]);
            size_t j = 0;
            double S = e[k];
            for (size_t i = 0; i < n; i++)
                if (i != k) {
                    o[j++] = e[i];
                    if (!pw) S += e[i];
                }
            if (pw) S = e[k] + smx_sum(o, j, SMX_SUM_PAIRWISE, &f);
            const double want = loss ? log(S) - log(e[y]) : log(S) - (z[y] - z[k]);
            smx_xent_row_t r;
            smx_xent_eval(w, &r, g, z, n, y);
            diff += !same(r.loss, want);
            for (size_t i = 0; i < n; i++) {
                double gi = loss ? smx_stablemax_ds(z[i]) / S : e[i] / S;
                if (i == y) gi -= loss ? smx_stablemax_ds(z[y]) / e[y] : 1;
                diff += !same(g[i], gi);
            }
            total += (long)n + 1;
        }
        ok(diff == 0, "fp64 %s %s: fast path == xent.h's formulas in plain double on %ld outputs (%ld differ)",
           loss ? "stablemax" : "softmax", pw ? "pairwise" : "maxfirst", total, diff);
        smx_xent_free(w);
    }
}

/* ulp-level distance allowed between the fast and MPFR paths where they are not bit-identical
 * (p > 25: double-rounded s, s' and libm log): loss |d| <= 8 u (|log S'| + |log s_y|) + 8 u,
 * gradient |d| <= 8 u (|g_i| + [i == y] / (1 + |zr_y|)) (the label's entry is g_y - s'_y / s_y,
 * s'_y / s_y = 1 / (1 + |zr_y|)); + 4 subnormal spacings */
static int within_ulps(const smx_xent_row_t *r1, const smx_xent_row_t *r2, const double *g1, const double *g2,
                       const double *zr, size_t n, size_t y, const smx_format_t *f)
{
    const double u = smx_format_u(f), sub = 4 * smx_format_min_subnormal(f);
    double sy = smx_stablemax_s(zr[y]), S = 0;
    for (size_t k = 0; k < n; k++) S += smx_stablemax_s(zr[k]);
    int good = same(r1->loss, r2->loss) || fabs(r1->loss - r2->loss) <= 8 * u * (fabs(log(S)) + fabs(log(sy)) + 1);
    for (size_t k = 0; k < n; k++)
        good &= same(g1[k], g2[k]) ||
                fabs(g1[k] - g2[k]) <= 8 * u * (fabs(g2[k]) + (k == y ? 1 / (1 + fabs(zr[y])) : 0)) + sub;
    return good;
}

/* StableMax precision sweep (issue 10): fast path == forced MPFR path, loss and gradient, over
 * logits x of every magnitude in every format: rows {x, 0.75, -3.5} and {x, -x, x / 3} (rounded;
 * the second makes S' ~ |x| and g ~ |x|^-3: subnormal and zero gradients), every label, both
 * sums. x: log-spaced magnitudes from the smallest subnormal to the format's max (pN: 1e90, the
 * fast path's double range then holds every intermediate), 2,001 points of [-70000, 70000] and
 * the format's neighbours of x0 = 1 - 2^((emax + 1) / 2), where (1 - x)^2 reaches 2^(emax + 1) (pN: -255..-270):
 * the MPFR path once squared 1 - x in the format's exponent range, so s'(x) overflowed there
 * (fp16 x <= -255, fp8-e4m3 x <= -22) and the gradient was 0 instead of the fast path's value.
 * p <= 25: bit for bit; fp64, p40, p53 (double-rounded s, s', libm log on the fast path):
 * within a few ulps of the format (within_ulps). */
static void test_stablemax_sweep(void)
{
    const char *fmts[] = {"fp8-e4m3", "fp8-e5m2", "bf16", "fp16", "tf32", "fp32", "p2", "p3", "p5", "p8",
                          "p11", "p13", "p20", "p25", "fp64", "p40", "p53"};
    enum { NF = sizeof fmts / sizeof *fmts, NLOG = 1500, NLIN = 2001, NEDGE = 16 };
    for (int fi = 0; fi < NF; fi++) {
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        const int exact = f.p <= 25;
        const double top = f.name[0] == 'p' ? 1e90 : f.max, bot = f.name[0] == 'p' ? 1e-90 : smx_format_min_subnormal(&f);
        smx_xent_t *wf[2], *wm[2];
        for (int o = 0; o < 2; o++) {
            smx_xent_alloc(&wf[o], 3, SMX_XENT_STABLEMAX, o ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
            smx_xent_alloc(&wm[o], 3, SMX_XENT_STABLEMAX, o ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 1);
        }
        long diff = 0, total = 0, big = 0;
        double firstx = NAN, x0 = f.name[0] == 'p' ? -255 : 1 - exp2((f.emax + 1) / 2.0);
        for (int i = 0; i < 2 * NLOG + NLIN + NEDGE; i++) {
            double x;
            if (i < 2 * NLOG) x = (i % 2 ? -1 : 1) * exp(log(bot) + (log(top) - log(bot)) * (i / 2) / (NLOG - 1.0));
            else if (i < 2 * NLOG + NLIN) x = -70000 + 70 * (i - 2 * NLOG);
            else x = f.name[0] == 'p' ? x0 - (i % NEDGE) : smx_format_round(x0, &f);
            x = smx_format_round(x, &f);
            for (int j = 0; i >= 2 * NLOG + NLIN && f.name[0] != 'p' && j < i % NEDGE - NEDGE / 2; j++)
                x = smx_format_round(nextafter(x, INFINITY) + fabs(x) * ldexp(1.0, -f.p), &f); /* walk up */
            for (int j = 0; i >= 2 * NLOG + NLIN && f.name[0] != 'p' && j < NEDGE / 2 - i % NEDGE; j++)
                x = smx_format_round(nextafter(x, -INFINITY) - fabs(x) * ldexp(1.0, -f.p - 1), &f); /* walk down */
            big += x <= x0;
            const double rows[2][3] = {{x, 0.75, -3.5}, {x, smx_format_round(-x, &f), smx_format_round(x / 3, &f)}};
            for (int rw = 0; rw < 2; rw++)
                for (size_t y = 0; y < 3; y++)
                    for (int o = 0; o < 2; o++) {
                        double g1[3], g2[3];
                        smx_xent_row_t r1, r2;
                        smx_xent_eval(wf[o], &r1, g1, rows[rw], 3, y);
                        smx_xent_eval(wm[o], &r2, g2, rows[rw], 3, y);
                        int d = 0;
                        if (exact) {
                            d = !same(r1.loss, r2.loss);
                            for (int k = 0; k < 3; k++) d |= !same(g1[k], g2[k]);
                        } else {
                            d = !within_ulps(&r1, &r2, g1, g2, rows[rw], 3, y, &f);
                        }
                        if (d && isnan(firstx)) firstx = x;
                        diff += d;
                        total++;
                    }
        }
        ok(diff == 0, "%s StableMax sweep, |x| from %.3g to %.3g (%ld x <= %.6g): fast %s MPFR on %ld rows "
           "(%ld differ, first at x = %.9g)", fmts[fi], bot, top, big, x0, exact ? "==" : "within 8 ulps of", total,
           diff, firstx);
        for (int o = 0; o < 2; o++) {
            smx_xent_free(wf[o]);
            smx_xent_free(wm[o]);
        }
    }
}

/* stablemax.h's double smx_stablemax_ce: gradient vs MPFR at 2,600 bits (exact for these rows:
 * the label's entry s'(z_y)/S - s'(z_y)/s_y cancels to ~R / z_y^2 for z_y >> 1), z = {x, 0.75, -3.5},
 * label 0, |x| up to 1e300: within 8 double ulps (the direct difference had no correct digit from
 * x ~ 2^53: 0 instead of -1.3e-32 at x = 2.2e16) */
static void test_stablemax_ce_grad(void)
{
    mpfr_t a, S, t;
    mpfr_inits2(2600, a, S, t, (mpfr_ptr)0);
    double worst = 0, wx = 0;
    for (int i = 0; i <= 2000; i++) {
        double x = (i % 2 ? -1 : 1) * exp(log(1e300) * i / 2000.0), z[3] = {x, 0.75, -3.5}, g[3], loss;
        smx_stablemax_ce(&loss, g, z, 3, 0);
        mpfr_set_ui(S, 0, MPFR_RNDN);
        for (int k = 0; k < 3; k++) { /* S = sum s(z_k), exact at 2,600 bits */
            mpfr_set_d(a, z[k], MPFR_RNDN);
            if (z[k] >= 0) mpfr_add_ui(a, a, 1, MPFR_RNDN);
            else mpfr_ui_sub(a, 1, a, MPFR_RNDN), mpfr_ui_div(a, 1, a, MPFR_RNDN);
            mpfr_add(S, S, a, MPFR_RNDN);
        }
        for (int k = 0; k < 3; k++) { /* g_k = s'(z_k) / S - [k == 0] / (1 + |z_0|) */
            mpfr_set_d(a, z[k], MPFR_RNDN);
            if (z[k] >= 0) mpfr_set_ui(t, 1, MPFR_RNDN);
            else mpfr_ui_sub(a, 1, a, MPFR_RNDN), mpfr_sqr(a, a, MPFR_RNDN), mpfr_ui_div(t, 1, a, MPFR_RNDN);
            mpfr_div(t, t, S, MPFR_RNDN);
            if (k == 0) {
                mpfr_set_d(a, fabs(z[0]), MPFR_RNDN);
                mpfr_add_ui(a, a, 1, MPFR_RNDN);
                mpfr_ui_div(a, 1, a, MPFR_RNDN);
                mpfr_sub(t, t, a, MPFR_RNDN);
            }
            double ex = mpfr_get_d(t, MPFR_RNDN), e = g[k] == ex ? 0 : fabs(g[k] - ex) / fabs(ex);
            if (!(e <= worst)) { worst = e; wx = x; }
        }
    }
    mpfr_clears(a, S, t, (mpfr_ptr)0);
    ok(worst <= 8 * 0x1p-53, "smx_stablemax_ce gradient within 8 ulps of MPFR for |z_y| up to 1e300 (worst %.2f ulps at "
       "z_y = %.3g)", worst / 0x1p-53, wx);
}

/* softmax CE in fp32 vs the exact CE (long double): |err| <= (n + 4 + |zr_y - m|) u (|log S| +
 * |zr_y - m| + 1)-ish first-order bound, and the bound is reached within 100x somewhere */
static void test_error(void)
{
    enum { V = 50 };
    smx_format_t f;
    smx_format_get(&f, "fp32");
    double u = smx_format_u(&f), worst = 0;
    smx_xent_t *w;
    smx_xent_alloc(&w, V, SMX_XENT_SOFTMAX, SMX_SUM_MAXFIRST, &f, 0);
    unsigned long long s = 99;
    long bad = 0;
    for (int rep = 0; rep < 400; rep++) {
        double z[V];
        for (int k = 0; k < V; k++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            z[k] = (double)(float)(4.0 * ((double)(s >> 11) / 9007199254740992.0 * 2 - 1));
        }
        size_t y = (size_t)(s % V), k = 0;
        for (int i = 1; i < V; i++)
            if (z[i] > z[k]) k = (size_t)i;
        long double se = 0;
        for (int i = 0; i < V; i++) se += expl((long double)z[i] - z[k]);
        long double ls = logl(se), d = (long double)z[y] - z[k];
        double exact = (double)(ls - d);
        smx_xent_row_t r;
        smx_xent_eval(w, &r, NULL, z, V, y);
        /* log S: (n - 1 + 2) u / S relative to S plus u |log S|; the subtraction u |loss| */
        double bound = u * ((double)(V + 1) + fabs((double)ls) + fabs(exact) + fabs((double)d));
        double q = fabs(r.loss - exact) / bound;
        worst = fmax(worst, q);
        bad += !(q <= 1);
    }
    ok(bad == 0, "fp32 softmax CE within u (n + 1 + |log S| + |loss| + |zr_y - m|) of the exact CE (worst %.3f)", worst);
    ok(worst >= 0.01, "that bound is tight within 100x somewhere (worst %.3f)", worst);
    smx_xent_free(w);
}

static void test_errors(void)
{
    smx_format_t f;
    smx_format_get(&f, "fp16");
    smx_xent_t *w = (smx_xent_t *)&f;
    ok(smx_xent_alloc(&w, 0, SMX_XENT_SOFTMAX, SMX_SUM_MAXFIRST, &f, 0) == SMX_EDOM && w == NULL &&
           smx_xent_alloc(&w, 5, SMX_XENT_SOFTMAX, SMX_SUM_NAIVE, &f, 0) == SMX_EDOM &&
           smx_xent_alloc(&w, 5, (smx_xent_loss_t)7, SMX_SUM_PAIRWISE, &f, 0) == SMX_EDOM,
       "alloc: n == 0, sum naive, bad loss -> SMX_EDOM");
    smx_xent_free(NULL);
}

/* smx_xent_eval_f32 (a float model's rows, scaled float gradient) == smx_xent_eval on the same row as
 * doubles, then (float) fl(g_i scale), bit for bit: the vectorised fp32 softmax path and the
 * general route (other formats, StableMax, MPFR), on rows with the fp32 exps nearest a midpoint
 * (ties32 of test_fast_vs_mpfr_edges), rows in Softmax Collapse (gap >= 24 ln 2), exact ties of
 * the max, huge spreads, +-Inf and NaN logits, n = 1 .. 113, and scales that keep, underflow and
 * overflow the float gradient */
static void test_eval_f32(void)
{
    const char *fmts[] = {"fp32", "fp16", "bf16", "p20", "p60"};
    static const float ties32[4] = {-0x1p-25f, -0x1.c1c4b8p-10f, -0x1.e1dbe2p-8f, -0x1.d2259ap+3f};
    static const double scales[4] = {1.0 / 5107, 2.385, 1e-42, 3e37};
    static const size_t ns[5] = {1, 2, 5, 64, 113};
    unsigned long long s = 90210;
    for (int c = 0; c < 5 * 4; c++) {
        const int fi = c / 4, loss = c / 2 % 2, order = c % 2;
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        smx_xent_t *wa, *wb;
        smx_xent_alloc(&wa, 113, (smx_xent_loss_t)loss, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
        smx_xent_alloc(&wb, 113, (smx_xent_loss_t)loss, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
        long diff = 0, total = 0, nsc = 0, nties = 0;
        const int rows = fi == 0 ? 400 : 60;
        for (int rep = 0; rep < rows; rep++) {
            const size_t n = ns[rep % 5];
            float z[113], dz[113];
            double zd[113], g[113];
            const float m = (float)(2.385 * (rep % 9) - 7);
            const int kind = rep / 5 % 5;
            for (size_t k = 0; k < n; k++) {
                float t;
                unsigned u = (unsigned)(xs_next(&s) % 4);
                if (kind == 0 && u < 3) { t = ties32[xs_next(&s) % 4]; nties++; }
                else if (kind == 1) t = (float)(-17 - 40 * xs_unit(&s));      /* SC: every other e below 2^-24 */
                else if (kind == 2) t = (float)(-3000 * xs_unit(&s));         /* zero and subnormal exps */
                else t = (float)(-9.5 * xs_unit(&s));
                z[k] = kind == 0 ? t : m + t;
            }
            const size_t y = (size_t)(xs_next(&s) % n);
            z[(y + 1) % n] = kind == 0 ? 0.0f : m; /* the max (a tie with y when n == 1) */
            if (rep % 7 == 3) z[(y + 2) % n] = z[(y + 1) % n];  /* an exact tie of the max */
            if (rep % 11 == 5) z[(y + 3) % n] = -INFINITY;
            if (rep % 23 == 9) z[(y + 1) % n] = INFINITY;
            if (rep % 29 == 13) z[(y + 2) % n] = NAN;
            const double sc = scales[rep % 4];
            for (size_t k = 0; k < n; k++) zd[k] = z[k];
            smx_xent_row_t ra, rb;
            size_t km = 99;
            smx_xent_eval_f32(wa, &ra, dz, sc, z, n, y, &km);
            smx_xent_eval(wb, &rb, g, zd, n, y);
            size_t kr = 0;
            for (size_t k = 1; k < n; k++)
                if (z[k] > z[kr]) kr = k;
            diff += !same(ra.loss, rb.loss) + (ra.sc != rb.sc) + (ra.zero != rb.zero) + !same(ra.gap, rb.gap) + (km != kr);
            for (size_t k = 0; k < n; k++) diff += !same(dz[k], (float)smx_format_round(g[k] * sc, &f));
            total += (long)n + 5;
            nsc += ra.sc;
            smx_xent_eval_f32(wa, &ra, NULL, sc, z, n, y, &km); /* no gradient: the same row result */
            diff += !same(ra.loss, rb.loss) + (ra.sc != rb.sc) + !same(ra.gap, rb.gap) + (km != kr);
        }
        ok(diff == 0 && nsc > 0, "%s %s %s: smx_xent_eval_f32 == smx_xent_eval then (float) fl(g scale) on %ld "
           "outputs (%ld rows in SC, %ld exps next to an fp32 midpoint, %ld differ)", fmts[fi],
           loss ? "stablemax" : "softmax", order ? "pairwise" : "maxfirst", total, nsc, nties, diff);
        smx_xent_free(wa);
        smx_xent_free(wb);
    }
    /* blocks: smx_xent_eval_f32_rows on 37 rows (blocks of 16, 16, 5) with strides == row by row */
    for (int c = 0; c < 5 * 2; c++) {
        const int fi = c / 2, order = c % 2;
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        smx_xent_t *wa, *wb;
        smx_xent_alloc(&wa, 113, SMX_XENT_SOFTMAX, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
        smx_xent_alloc(&wb, 113, SMX_XENT_SOFTMAX, order ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
        enum { R = 37, N = 101, LDZ = 107, LDD = 103 };
        static float z[R * LDZ], dz[R * LDD], d1[N];
        size_t y[R], km[R], k1;
        smx_xent_row_t r[R], r1;
        for (int j = 0; j < R; j++) {
            const double spread = j % 3 == 0 ? 40 : j % 3 == 1 ? 3000 : 8;
            for (int i = 0; i < N; i++) z[j * LDZ + i] = (float)(2.385 * j - spread * xs_unit(&s));
            y[j] = (size_t)(xs_next(&s) % N);
            if (j % 4 == 1) z[j * LDZ + y[j]] += 30; /* SC rows */
        }
        z[5 * LDZ + 7] = NAN;
        z[9 * LDZ + 3] = INFINITY;
        long diff = 0, nsc = 0;
        smx_xent_eval_f32_rows(wa, r, dz, LDD, 1.0 / 3, z, LDZ, N, y, R, km);
        for (int j = 0; j < R; j++) {
            smx_xent_eval_f32(wb, &r1, d1, 1.0 / 3, z + j * LDZ, N, y[j], &k1);
            diff += !same(r[j].loss, r1.loss) + (r[j].sc != r1.sc) + (r[j].zero != r1.zero) + !same(r[j].gap, r1.gap) +
                    (km[j] != k1);
            for (int i = 0; i < N; i++) diff += !same(dz[j * LDD + i], d1[i]);
            nsc += r1.sc;
        }
        ok(diff == 0 && nsc > 0, "%s softmax %s: smx_xent_eval_f32_rows on %d strided rows == row by row (%ld in SC, "
           "%ld outputs differ)", fmts[fi], order ? "pairwise" : "maxfirst", R, nsc, diff);
        smx_xent_free(wa);
        smx_xent_free(wb);
    }
    smx_format_t f32;
    smx_format_get(&f32, "fp32");
    smx_xent_t *w;
    smx_xent_alloc(&w, 8, SMX_XENT_SOFTMAX, SMX_SUM_MAXFIRST, &f32, 0);
    smx_xent_row_t r;
    float z[9] = {0}, dz[9];
    size_t km;
    ok(smx_xent_eval_f32(w, &r, dz, 1, z, 8, 8, &km) == SMX_EDOM && smx_xent_eval_f32(w, &r, dz, 1, z, 9, 0, &km) == SMX_EDOM &&
       smx_xent_eval_f32(w, &r, dz, 1, z, 0, 0, &km) == SMX_EDOM, "smx_xent_eval_f32: label >= n, n > workspace, n == 0 -> SMX_EDOM");
    smx_xent_free(w);
}

/* The StableMax fast path's pin (xent.c rr_stablemax): the two negative floats whose s / s' the
 * double formula double-rounds in fp32 (x = -0x1.e691c6p-12 for s, -0x1.2d5dc4p-9 for s', found
 * with MPFR over all negative floats) and 2^12 floats around each, in rows {x, 0} and {x, 0.75,
 * -3.5} with every label and both sums: fast == MPFR bit for bit (loss and gradient) */
static void test_stablemax_pin(void)
{
    static const float bad[2] = {-0x1.e691c6p-12f, -0x1.2d5dc4p-9f};
    smx_format_t f;
    smx_format_get(&f, "fp32");
    long diff = 0, total = 0, baddiff = 0;
    for (int o = 0; o < 2; o++) {
        smx_xent_t *wf, *wm;
        smx_xent_alloc(&wf, 3, SMX_XENT_STABLEMAX, o ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 0);
        smx_xent_alloc(&wm, 3, SMX_XENT_STABLEMAX, o ? SMX_SUM_PAIRWISE : SMX_SUM_MAXFIRST, &f, 1);
        for (int b = 0; b < 2; b++) {
            float x = bad[b];
            for (int k = 0; k < 2048; k++) x = nextafterf(x, 0.0f);
            for (int k = 0; k <= 4096; k++, x = nextafterf(x, -INFINITY)) {
                const double rows[2][3] = {{x, 0, 0}, {x, 0.75, -3.5}};
                for (int rw = 0; rw < 2; rw++)
                    for (size_t y = 0; y < (size_t)(rw ? 3 : 2); y++) {
                        int sc;
                        const long d = row_diff(wf, wm, rows[rw], rw ? 3 : 2, y, &sc);
                        diff += d;
                        baddiff += k == 2048 ? d : 0;
                        total++;
                    }
            }
        }
        smx_xent_free(wf);
        smx_xent_free(wm);
    }
    ok(diff == 0, "fp32 StableMax, s and s' near their two double-rounding inputs: fast == MPFR on %ld rows "
       "(%ld differ, %ld at the two inputs)", total, diff, baddiff);
}

int main(void)
{
    test_sc();
    test_row_ref();
    test_fast_vs_mpfr();
    test_exp_n();
    test_fast_vs_mpfr_edges();
    test_fp64_plain();
    test_eval_f32();
    test_stablemax_sweep();
    test_stablemax_pin();
    test_stablemax_ce_grad();
    test_error();
    test_errors();
    return tap_done();
}
