/* tap.h - minimal test harness: one "ok N - ..." / "not ok N - ..." line per check (TAP),
 * tests/run.sh counts them across all test programs. Header-only; include once per test. */
#ifndef SMX_TAP_H
#define SMX_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n = 0, tap_failed = 0;

static int tap_vok(int cond, const char *fmt, va_list ap)
{
    tap_n++;
    if (!cond) tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

/* Record one check. */
static int __attribute__((format(printf, 2, 3), unused)) ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = tap_vok(cond, fmt, ap);
    va_end(ap);
    return r;
}

/* |got - want| <= tol * |want| (relative), or both NaN, or equal infinities. */
static int __attribute__((format(printf, 4, 5), unused)) ok_rel(double got, double want, double tol, const char *fmt, ...)
{
    int cond;
    if (isnan(want)) cond = isnan(got);
    else if (isinf(want)) cond = got == want;
    else cond = fabs(got - want) <= tol * fabs(want);
    va_list ap;
    va_start(ap, fmt);
    int r = tap_vok(cond, fmt, ap);
    va_end(ap);
    if (!cond) printf("#   got %.17g, want %.17g (rel tol %g)\n", got, want, tol);
    return r;
}

/* |got - want| <= tol (absolute). */
static int __attribute__((format(printf, 4, 5), unused)) ok_abs(double got, double want, double tol, const char *fmt, ...)
{
    int cond = fabs(got - want) <= tol || (isnan(got) && isnan(want));
    va_list ap;
    va_start(ap, fmt);
    int r = tap_vok(cond, fmt, ap);
    va_end(ap);
    if (!cond) printf("#   got %.17g, want %.17g (abs tol %g)\n", got, want, tol);
    return r;
}

/* Print the plan line and return the exit status for main. */
static int __attribute__((unused)) tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
