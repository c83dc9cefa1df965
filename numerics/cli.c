/* cli.c - option parsing helpers (see cli.h). */
#include "cli.h"
#include "smx.h"

#include "machine.h"

#include <errno.h>
#include <gmp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- process-wide safety net */

static const char *cli_prog;
static int cli_inited;

static const char *prog_name(void) { return cli_prog ? cli_prog : program_invocation_short_name; }

/* atexit: a write error on stdout (buffered data that could not be written, or an earlier
 * failed write) becomes one line on stderr and exit status SMX_EXIT_IO. */
static void check_stdout(void)
{
    int bad = ferror(stdout) != 0, e = 0;
    errno = 0;
    if (fflush(stdout) != 0) bad = 1, e = errno;
    /* fclose's close() reports deferred errors (e.g. NFS); EBADF from it only means stdout
     * was closed (>&-) by a program that wrote nothing there: not an error */
    if (fclose(stdout) != 0 && !bad && errno != EBADF) bad = 1, e = errno;
    if (!bad) return;
    fprintf(stderr, "%s: write error on standard output%s%s\n", prog_name(), e ? ": " : "",
            e ? strerror(e) : " (an earlier write failed)");
    smx_tmp_cleanup();
    _exit(SMX_EXIT_IO);
}

/* GMP / MPFR allocation that fails cleanly (mp_set_memory_functions) instead of aborting. */
static void gmp_oom(size_t n)
{
    char msg[160];
    int k = snprintf(msg, sizeof msg, "%s: out of memory (GMP/MPFR allocation of %zu bytes failed)\n", prog_name(), n);
    if (k > 0) {
        ssize_t w = write(STDERR_FILENO, msg, (size_t)k < sizeof msg ? (size_t)k : sizeof msg - 1);
        (void)w;
    }
    smx_tmp_cleanup();
    _exit(SMX_EXIT_NOMEM);
}

static void *gmp_alloc(size_t n)
{
    void *p = malloc(n);
    if (!p && n) gmp_oom(n);
    return p;
}

static void *gmp_realloc(void *p, size_t old, size_t n)
{
    (void)old;
    void *q = realloc(p, n);
    if (!q && n) gmp_oom(n);
    return q;
}

static void gmp_free(void *p, size_t n)
{
    (void)n;
    free(p);
}

void smx_cli_init(const char *prog)
{
    if (prog) cli_prog = prog;
    if (cli_inited) return;
    cli_inited = 1;
    mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free);
    atexit(check_stdout);
}

/* ---------------------------------------------------------------- options */

void smx_cli_common_init(smx_cli_common_t *c)
{
    smx_cli_init(NULL);
    c->seed = 1;
    c->out = NULL;
    c->profile = SMX_PROFILE_QUICK;
    c->threads = 0;
}

const char *smx_cli_profile_name(smx_profile_t p) { return p == SMX_PROFILE_PAPER ? "paper" : "quick"; }

void smx_cli_meta(smx_tsv_t *t, const smx_cli_common_t *c)
{
    smx_tsv_meta(t, "seed", "%lu", c->seed);
    smx_tsv_meta(t, "profile", "%s", smx_cli_profile_name(c->profile));
}

/* "prog: message" on stderr, then exit(status): the one body of smx_cli_fail and smx_cli_die. */
static void __attribute__((noreturn)) cli_vdie(int status, const char *prog, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    exit(status);
}

void smx_cli_fail(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vdie(SMX_EXIT_USAGE, prog, fmt, ap);
}

void smx_cli_die(int status, const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vdie(status, prog, fmt, ap);
}

void smx_cli_io_fail(const char *prog, const char *what, const char *path)
{
    int e = errno;
    smx_cli_die(e == ENOMEM ? SMX_EXIT_NOMEM : SMX_EXIT_IO, prog, "%s '%s': %s", what, path ? path : "",
                e ? strerror(e) : "unknown error");
}

void smx_cli_bad_option_fail(const char *prog, int argc, char *const argv[])
{
    /* getopt_long has advanced optind past the bad word (and past a missing value) */
    const char *w = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (optopt && w[0] == '-' && w[1] == '-')
        smx_cli_fail(prog, "option '%s' needs a value (see --help)", w);
    if (optopt && w[0] == '-' && w[1] != '-')
        smx_cli_fail(prog, "unknown option '-%c' (see --help)", optopt);
    smx_cli_fail(prog, "unknown or ambiguous option '%s' (see --help)", w);
}

void smx_cli_out_check_or_fail(const char *path, const char *prog, const char *opt)
{
    char what[96];
    snprintf(what, sizeof what, "%s: cannot write", opt);
    if (smx_out_check(path) != SMX_OK) smx_cli_io_fail(prog, what, path);
}

void smx_cli_distinct_or_fail(const char *a, const char *opt_a, const char *b, const char *opt_b,
                              const char *prog)
{
    struct stat sa, sb;
    if (!a || !b) return;
    if (!strcmp(a, b) || (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino))
        smx_cli_fail(prog, "%s and %s are the same file ('%s'): one would overwrite the other", opt_a, opt_b, b);
}

void smx_cli_outputs_or_fail(const char *prog, const char *out, const char *ckpt)
{
    smx_cli_distinct_or_fail(out, "--out", ckpt, "--checkpoint", prog);
    if (out) smx_cli_out_check_or_fail(out, prog, "--out");
    if (ckpt) smx_cli_out_check_or_fail(ckpt, prog, "--checkpoint");
}

void smx_cli_mem_or_fail(double bytes, const char *what, const char *prog)
{
    smx_cli_mem_or_fail_free(bytes, what, prog, NULL);
}

void smx_cli_mem_or_fail_free(double bytes, const char *what, const char *prog, void *owned)
{
    double avail = smx_mem_available();
    if (bytes > avail) {
        free(owned);
        smx_cli_die(SMX_EXIT_NOMEM, prog, "%s needs about %.0f MB of memory; only %.0f MB available (RAM / ulimit)",
                    what, bytes / 1e6, avail / 1e6);
    }
}

void smx_cli_time_or_fail(double seconds, double limit, const char *basis, const char *what, const char *prog)
{
    if (seconds > limit)
        smx_cli_fail(prog, "%s would take about %.3g days (estimate: %s); more than %.3g days refused", what,
                     seconds / 86400, basis, limit / 86400);
}

int smx_cli_double(double *v, const char *s)
{
    if (!s || !*s || s[0] == ' ' || s[0] == '\t') return SMX_EDOM;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end != '\0' || end == s) return SMX_EDOM;
    /* strtod sets ERANGE on overflow (returns +-HUGE_VAL) and on underflow; accept
     * gradual underflow, reject overflow of a finite literal */
    if (errno == ERANGE && isinf(x)) return SMX_EDOM;
    *v = x;
    return SMX_OK;
}

int smx_cli_long(long *v, const char *s, long lo, long hi)
{
    if (!s || !*s || s[0] == ' ' || s[0] == '\t') return SMX_EDOM;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || x < lo || x > hi) return SMX_EDOM;
    *v = x;
    return SMX_OK;
}

double smx_cli_double_or_fail(const char *s, const char *prog, const char *opt)
{
    double v;
    if (smx_cli_double(&v, s) != SMX_OK) smx_cli_fail(prog, "%s: '%s' is not a number", opt, s ? s : "");
    return v;
}

double smx_cli_double_range_or_fail(const char *s, double lo, double hi, const char *prog, const char *opt)
{
    double v;
    if (smx_cli_double(&v, s) != SMX_OK || !isfinite(v) || v < lo || v > hi)
        smx_cli_fail(prog, "%s: '%s' is not a finite number in [%g, %g]", opt, s ? s : "", lo, hi);
    return v;
}

long smx_cli_long_or_fail(const char *s, long lo, long hi, const char *prog, const char *opt)
{
    long v;
    if (smx_cli_long(&v, s, lo, hi) != SMX_OK)
        smx_cli_fail(prog, "%s: '%s' is not an integer in [%ld, %ld]", opt, s ? s : "", lo, hi);
    return v;
}

int smx_cli_choice_or_fail(const char *s, const char *const *choices, const char *prog, const char *opt)
{
    for (int i = 0; choices[i]; i++)
        if (s && !strcmp(s, choices[i])) return i;
    char list[512] = "";
    for (int i = 0; choices[i]; i++) {
        if (i) strncat(list, "|", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    smx_cli_fail(prog, "%s: unknown value '%s' (allowed: %s)", opt, s ? s : "", list);
}

void smx_cli_format_or_fail(smx_format_t *f, const char *s, const char *prog, const char *opt)
{
    if (smx_format_get(f, s) == SMX_OK) return;
    char list[256] = "";
    for (int i = 0; smx_format_names[i]; i++) {
        strncat(list, smx_format_names[i], sizeof list - strlen(list) - 1);
        strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    smx_cli_fail(prog, "%s: unknown format '%s' (allowed: %spN with %d <= N <= %d)", opt, s ? s : "", list,
                 SMX_FORMAT_PMIN, SMX_FORMAT_PMAX);
}

int smx_cli_common(smx_cli_common_t *c, int opt, const char *arg, const char *prog, const char *usage)
{
    static const char *const profiles[] = {"quick", "paper", NULL};
    switch (opt) {
    case SMX_OPT_SEED: {
        long v = smx_cli_long_or_fail(arg, 0, 4294967295L, prog, "--seed");
        c->seed = (unsigned long)v;
        return 1;
    }
    case SMX_OPT_OUT:
        if (!arg || !*arg) smx_cli_fail(prog, "--out: empty path");
        c->out = arg;
        return 1;
    case SMX_OPT_PROFILE:
        c->profile = (smx_profile_t)smx_cli_choice_or_fail(arg, profiles, prog, "--profile");
        return 1;
    case SMX_OPT_THREADS:
        c->threads = (int)smx_cli_long_or_fail(arg, 0, 1024, prog, "--threads");
        return 1;
    case SMX_OPT_HELP:
        fputs(usage, stdout);
        if (!strstr(usage, "Exit status")) fputs(SMX_CLI_EXIT_HELP, stdout);
        exit(0);
    case SMX_OPT_VERSION:
        printf("%s (smx) %s\n", prog, SMX_VERSION);
        exit(0);
    }
    return 0;
}

void smx_cli_common_or_quiet(smx_cli_common_t *c, int *quiet, int opt, const char *arg, const char *prog,
                             const char *usage, int argc, char **argv)
{
    if (opt == SMX_OPT_QUIET) {
        if (quiet) *quiet = 1;
    } else if (!smx_cli_common(c, opt, arg, prog, usage)) {
        smx_cli_bad_option_fail(prog, argc, argv);
    }
}

int smx_cli_dispatch(const char *prog, const char *usage, const smx_cli_cmd_t *cmds, size_t n,
                     void (*before)(const char *prog, int argc, char **argv), int argc, char **argv)
{
    char allowed[512] = "";
    for (size_t i = 0, k = 0; i < n && k < sizeof allowed; i++)
        k += (size_t)snprintf(allowed + k, sizeof allowed - k, "%s%s", i ? "|" : "", cmds[i].name);
    if (argc < 2) smx_cli_fail(prog, "missing COMMAND (allowed: %s; see --help)", allowed);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s (smx) %s\n", prog, SMX_VERSION);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name)) {
            if (before) before(prog, argc, argv);
            return cmds[i].run(argc - 1, argv + 1);
        }
    smx_cli_fail(prog, "unknown command '%s' (allowed: %s)", argv[1], allowed);
}

void smx_cli_no_positional(int argc, char *const argv[], int optind_, const char *prog)
{
    if (optind_ < argc) smx_cli_fail(prog, "unexpected argument '%s' (see --help)", argv[optind_]);
}

size_t smx_cli_doubles_or_fail(double *v, size_t max, const char *s, double lo, double hi, const char *prog,
                             const char *opt)
{
    char buf[1024];
    size_t k = 0;
    if (!s || strlen(s) >= sizeof buf) smx_cli_fail(prog, "%s: empty or too long list", opt);
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double x = smx_cli_double_or_fail(tok, prog, opt);
        if (k == max) smx_cli_fail(prog, "%s: at most %zu values", opt, max);
        if (!(x >= lo && x <= hi)) smx_cli_fail(prog, "%s: %s is outside [%g, %g]", opt, tok, lo, hi);
        v[k++] = x;
    }
    if (k == 0) smx_cli_fail(prog, "%s: empty list", opt);
    return k;
}

size_t smx_cli_formats_or_fail(smx_format_t *f, size_t max, const char *s, int fast_only, const char *prog,
                                const char *opt)
{
    char buf[512];
    size_t k = 0;
    if (!s || strlen(s) >= sizeof buf) smx_cli_fail(prog, "%s: empty or too long list", opt);
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k == max) smx_cli_fail(prog, "%s: at most %zu formats", opt, max);
        smx_cli_format_or_fail(&f[k], tok, prog, opt);
        if (fast_only && !smx_format_has_fast(&f[k])) smx_cli_fail(prog, "%s: format '%s' needs p <= 53 and double's range", opt, tok);
        k++;
    }
    if (k == 0) smx_cli_fail(prog, "%s: empty list", opt);
    return k;
}
