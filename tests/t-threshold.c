/* t-threshold.c - precision sweep of the Softmax Collapse threshold against theory:
 * sequential order with exact terms: D* = p ln 2 (relative 1e-12) for p = 2..256 and every
 * named format, for V = 2 and V = 113; pairwise with V-1 equal gaps: p ln 2 + ln(V-1) within
 * the pairwise rounding of the small sum; correctly rounded exp, V = 2:
 * D* = p ln 2 - ln(1 + 2^-p); predicate just below / above the threshold. */
#include "format.h"
#include "smx.h"
#include "tap.h"
#include "threshold.h"

static const double LN2 = 0.69314718055994530942;

static void check_format(const smx_format_t *f, int verbose)
{
    double d2, d113, dpair, drnd;
    double th = f->p * LN2;
    smx_threshold_collapse(&d2, 2, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, f);
    smx_threshold_collapse(&d113, 113, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, f);
    int good = fabs(d2 - th) <= 1e-12 * th && fabs(d113 - th) <= 1e-12 * th;
    if (verbose || !good) {
        ok_rel(d2, th, 1e-12, "%s: sequential threshold V=2 == p ln 2 = %.6f", f->name, th);
        ok_rel(d113, th, 1e-12, "%s: sequential threshold V=113 == p ln 2", f->name);
    } else
        ok(good, "%s: sequential threshold == p ln 2", f->name);

    smx_threshold_collapse(&drnd, 2, SMX_SUM_NAIVE, SMX_THRESHOLD_ROUNDED_EXP, f);
    double want = th - log1p(ldexp(1.0, -f->p));
    ok_rel(drnd, want, 1e-12, "%s: rounded exp, V=2: p ln 2 - ln(1 + 2^-p) = %.9g", f->name, want);

    /* pairwise: the small sum S = fl(sum of 112 copies of t) has relative error at most
     * ceil(log2 112) u / (1 - ...) ~ 7u (Higham, eq. 4.6), so D* = p ln2 + ln 112 + ln(1 + d),
     * |d| <= 7u/(1-7u); only where the small terms stay normal (not the fp8 formats). */
    double tsmall = ldexp(1.0, -f->p) / 112;
    if (f->p >= 6 && (f->emin < -1000 || tsmall > smx_format_min_normal(f))) {
        smx_threshold_collapse(&dpair, 113, SMX_SUM_PAIRWISE, SMX_THRESHOLD_EXACT_EXP, f);
        double u = ldexp(1.0, -f->p);
        /* plus the double rounding of D* and of the reference p ln2 + ln 112 themselves */
        double slack = -log1p(-7 * u / (1 - 7 * u)) * 1.0000001 + 4e-16 * (th + log(112.0));
        ok_abs(dpair, th + log(112.0), slack, "%s: pairwise V=113 == p ln 2 + ln 112 within ln(1+7u)", f->name);
    }
}

int main(void)
{
    smx_format_t f;
    for (int i = 0; smx_format_names[i]; i++) {
        smx_format_get(&f, smx_format_names[i]);
        check_format(&f, 1);
    }
    for (int p = 2; p <= 256; p++) {
        smx_format_pN(&f, p);
        check_format(&f, 0);
    }
    /* the predicate right at the threshold, fp16 and fp32: p ln2 -/+ 1e-6 */
    const char *names[] = {"fp16", "bf16", "fp32", "fp64"};
    for (int i = 0; i < 4; i++) {
        smx_format_get(&f, names[i]);
        double th = f.p * LN2;
        ok(!smx_threshold_is_sc(th * (1 - 1e-9), 113, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, &f) &&
               smx_threshold_is_sc(th * (1 + 1e-9), 113, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, &f),
           "%s: no SC at gap p ln2 (1 - 1e-9), SC at p ln2 (1 + 1e-9)", names[i]);
        ok(!smx_threshold_is_sc(th + 2.385, 113, SMX_SUM_PAIRWISE, SMX_THRESHOLD_EXACT_EXP, &f) &&
               smx_threshold_is_sc(th + 4.8, 113, SMX_SUM_PAIRWISE, SMX_THRESHOLD_EXACT_EXP, &f),
           "%s: pairwise V=113 needs ~ln 112 = 4.72 more gap", names[i]);
    }
    double d;
    ok(smx_threshold_collapse(&d, 1, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, &f) == SMX_EDOM &&
           smx_threshold_collapse(&d, 5, SMX_SUM_COMPENSATED, SMX_THRESHOLD_EXACT_EXP, &f) == SMX_EDOM,
       "V < 2 and compensated order rejected");
    return tap_done();
}
