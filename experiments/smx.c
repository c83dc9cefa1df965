/* smx.c - the smx calculator: formats, softmax-family evaluation in any format, the
 * Softmax Collapse threshold, and the data behind the numerics figures. */
#include "cli.h"
#include "format.h"
#include "lse.h"
#include "smx.h"
#include "smx_cmds.h"
#include "sparsemax.h"
#include "softpick.h"
#include "stablemax.h"
#include "sum.h"
#include "temperature.h"
#include "threshold.h"
#include "tsv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *PROG = "smx";

static const char USAGE[] =
    "usage: smx COMMAND [options]\n"
    "  smx formats                     TSV table: name p emin emax u max min_normal min_subnormal\n"
    "  smx eval FUNC [options] [x...]  evaluate FUNC on x (arguments, or whitespace-separated stdin)\n"
    "  smx collapse-threshold --format F [--classes V] [--sum sequential|pairwise] [--exp exact|rounded]\n"
    "  smx threshold-sweep [--classes V] [--pmax N] --out FILE   data for numerics-collapse-threshold\n"
    "  smx lse-error [--out FILE] ...  data for numerics-lse-error (see smx lse-error --help)\n"
    "  smx --help | --version\n"
    "Run 'smx COMMAND --help' for a command's options. Every command accepts '--' (end of options).\n"
    SMX_CLI_EXIT_HELP;

/* ---------------------------------------------------------------- formats */

static void print_mpfr_val(const mpfr_t x)
{
    if (mpfr_zero_p(x)) printf("0");
    else mpfr_printf("%.17Rg", x);
}

static int cmd_formats(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("usage: smx formats [--]\n"
              "Prints name p emin emax u max min_normal min_subnormal (IEEE exponent convention:\n"
              "normal numbers 2^e * 1.f with emin <= e <= emax; u = 2^-p; pN formats have exponent range\n"
              "[-2^30, 2^30] and are listed as p2 and p4096 examples).\n" SMX_CLI_EXIT_HELP, stdout);
        return 0;
    }
    int a1 = argc > 1 && !strcmp(argv[1], "--") ? 2 : 1;
    if (argc > a1) smx_cli_fail(PROG, "formats: unexpected argument '%s'", argv[a1]);
    printf("name\tp\temin\temax\tu\tmax\tmin_normal\tmin_subnormal\n");
    const char *names[32];
    int k = 0;
    for (int i = 0; smx_format_names[i]; i++) names[k++] = smx_format_names[i];
    names[k++] = "p2";
    names[k++] = "p4096";
    mpfr_t v;
    mpfr_init2(v, 64);
    for (int i = 0; i < k; i++) {
        smx_format_t f;
        smx_format_get(&f, names[i]);
        printf("%s\t%d\t%ld\t%ld\t", f.name, f.p, f.emin, f.emax);
        mpfr_set_ui_2exp(v, 1, -f.p, MPFR_RNDN);
        print_mpfr_val(v);
        putchar('\t');
        if (f.has_inf || f.max != f.max) {
            /* (2 - 2^(1-p)) 2^emax, exactly */
            mpfr_set_prec(v, f.p);
            mpfr_set_ui_2exp(v, 1, 1 - f.p, MPFR_RNDN);
            mpfr_ui_sub(v, 2, v, MPFR_RNDN);
            mpfr_mul_2si(v, v, f.emax, MPFR_RNDN);
        } else {
            mpfr_set_d(v, f.max, MPFR_RNDN);
        }
        print_mpfr_val(v);
        putchar('\t');
        mpfr_set_prec(v, 64);
        mpfr_set_ui_2exp(v, 1, f.emin, MPFR_RNDN);
        print_mpfr_val(v);
        putchar('\t');
        mpfr_set_ui_2exp(v, 1, f.subnormals ? f.emin - f.p + 1 : f.emin, MPFR_RNDN);
        print_mpfr_val(v);
        putchar('\n');
    }
    mpfr_clear(v);
    return 0;
}

/* ---------------------------------------------------------------- eval */

static const char EVAL_USAGE[] =
    "usage: smx eval FUNC [--format F] [--algo A] [--sum naive|pairwise|compensated]\n"
    "                [--temperature T] [--s S] [--hex] [x1 x2 ...]\n"
    "Evaluates FUNC on the vector x (from the arguments, or whitespace-separated numbers on stdin)\n"
    "and prints one result per line (%.17g; %a with --hex; formats with p > 53 print every digit\n"
    "of the format's value with MPFR for the softmax family).\n"
    "FUNC: softmax, logsoftmax, lse (softmax family); stablemax, logstablemax (Prieto et al. 2025,\n"
    "      raw logits, not shift invariant), sparsemax (Martins & Astudillo 2016), softpick\n"
    "      (rectified softmax, Zuhri et al. 2025), ssmax (softmax((s ln n) x), Nakanishi 2025; --s,\n"
    "      default 0.43), adaptive (adaptive temperature, Velickovic et al. 2024).\n"
    "--format F   any smx format (smx formats): fp8-e4m3 fp8-e5m2 bf16 fp16 tf32 fp32 fp64 fp80 fp128 pN\n"
    "             (default fp64). Inputs are rounded to F first, except by --algo reference.\n"
    "--algo A     reference: the exact function of the given inputs, correctly rounded to F once;\n"
    "             softmax family: naive (no shift), shifted (three-pass, default), log1p (BHH shifted\n"
    "             with log1p), online (Milakov-Gimelshein), two-pass (Dukhan-Ablavatski), every\n"
    "             operation rounded to F. Other FUNCs: reference, or direct (the defining\n"
    "             formula, every operation rounded to F; needs p <= 53); default direct when\n"
    "             p <= 53, reference otherwise (their results print as doubles).\n"
    "--sum        summation order of the normaliser (default naive = left to right).\n"
    "--temperature T  softmax family: evaluate on x/T (T > 0, default 1). With --algo reference\n"
    "             x/T is formed exactly (MPFR, not rounded to F): small T gives the argmax limit.\n"
    "--s S        ssmax only: the scale s (finite, > 0).\n"
    "--           end of options: every later word is FUNC or a value (for values like -1.5\n"
    "             after options, or --1 is never an option).\n"
    "Values: numbers as strtod reads them, nan, inf, -inf; on stdin separated by blanks or\n"
    "newlines. An empty argument, a NUL byte or any other non-number is an error naming it\n"
    "(stdin: with its line).\n"
    "NaN in x gives NaN results; +Inf / -Inf follow the documented limits of each function (lse.h).\n"
    "Bad options, non-numeric values, an empty vector or an option that does not apply to FUNC:\n"
    "a one-line error and exit status 2. p > 53 needs ~ n (320 + 0.8 p) bytes: sizes beyond the\n"
    "machine's memory (RAM, ulimit -v, the memory cgroup's limit) are refused up front (exit 4).\n" SMX_CLI_EXIT_HELP;

typedef enum { F_SOFTMAX, F_LOGSOFTMAX, F_LSE, F_STABLEMAX, F_LOGSTABLEMAX, F_SPARSEMAX, F_SOFTPICK, F_SSMAX,
               F_ADAPTIVE } func_t;
static const char *const FUNCS[] = {"softmax", "logsoftmax", "lse", "stablemax", "logstablemax", "sparsemax",
                                    "softpick", "ssmax", "adaptive", NULL};

/* s[0..len) for a message: at most 40 bytes, non-printable bytes as \xNN (static buffer). */
static const char *shown(const char *s, size_t len)
{
    static char buf[200];
    size_t k = 0;
    for (size_t i = 0; i < len && k + 8 < sizeof buf; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40) { strcpy(buf + k, "..."); k += 3; break; }
        if (isprint(c) && c != '\\') buf[k++] = (char)c;
        else k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02x", c);
    }
    buf[k] = '\0';
    return buf;
}

/* Append the numbers of s[0..len) (blank-separated) to the vector; fail on anything else,
 * naming the token and where it is: where = "argument N" (line = 0) or "stdin" (lines counted).
 * A NUL byte is never a separator (it would hide the rest of the input). */
static void parse_values(double **x, size_t *n, size_t *cap, const char *s, size_t len, const char *where, int lines)
{
    size_t i = 0, line = 1;
    char small[64];
    while (i < len) {
        if (s[i] == '\n') line++;
        if (s[i] != '\0' && isspace((unsigned char)s[i])) { i++; continue; }
        size_t b = i;
        while (i < len && s[i] != '\0' && !isspace((unsigned char)s[i])) i++;
        if (i == b) /* s[i] is a NUL byte */
            lines ? smx_cli_fail(PROG, "eval: %s line %zu, byte %zu: NUL byte in the input", where, line, i + 1)
                  : smx_cli_fail(PROG, "eval: %s: NUL byte", where);
        size_t k = i - b;
        char *tok = k < sizeof small ? small : malloc(k + 1);
        if (!tok) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory");
        memcpy(tok, s + b, k);
        tok[k] = '\0';
        double v;
        if (smx_cli_double(&v, tok) != SMX_OK)
            lines ? smx_cli_fail(PROG, "eval: %s line %zu: '%s' is not a number", where, line, shown(s + b, k))
                  : smx_cli_fail(PROG, "eval: %s: '%s' is not a number", where, shown(s + b, k));
        if (tok != small) free(tok);
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            double *nx = realloc(*x, *cap * sizeof **x);
            if (!nx) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory (%zu values)", *n);
            *x = nx;
        }
        (*x)[(*n)++] = v;
    }
}

static void print_double(double y, int hex)
{
    if (hex) printf("%a\n", y);
    else printf("%.17g\n", y);
}

static void print_mpfr(const mpfr_t y, int hex)
{
    if (hex) mpfr_printf("%Ra\n", y);
    else if (mpfr_nan_p(y)) printf("nan\n");
    else if (mpfr_inf_p(y)) printf(mpfr_sgn(y) > 0 ? "inf\n" : "-inf\n");
    else mpfr_printf("%.*Rg\n", (int)ceil(mpfr_get_prec(y) * 0.30102999566398120) + 1, y);
}

/* softmax family in MPFR all the way to the output: formats with p > 53, and --algo reference
 * with T != 1, where x/T is formed at 2 max(p, 53) + 64 bits (T = 1: the doubles x as they
 * are) and not rounded to F; as_double: print the results as doubles (a format with p <= 53). */
static int eval_family_mpfr(func_t fn, const double *x, size_t n, double T, smx_lse_algo_t algo,
                            smx_sum_algo_t sum, const smx_format_t *f, int hex, int as_double)
{
    mpfr_t *xm = malloc(n * sizeof *xm), *ym = malloc(n * sizeof *ym);
    if (!xm || !ym) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory");
    mpfr_prec_t px = T == 1.0 ? 53 : 2 * (f->p > 53 ? f->p : 53) + 64;
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(xm[i], px);
        mpfr_set_d(xm[i], x[i], MPFR_RNDN);
        if (T != 1.0) mpfr_div_d(xm[i], xm[i], T, MPFR_RNDN);
        mpfr_init2(ym[i], f->p);
    }
    int st;
    if (fn == F_LSE) st = smx_lse_mpfr(ym[0], xm, n, algo, sum, f);
    else if (fn == F_SOFTMAX) st = smx_softmax_mpfr(ym, xm, n, algo, sum, f);
    else st = smx_logsoftmax_mpfr(ym, xm, n, algo, sum, f);
    if (st == SMX_OK)
        for (size_t i = 0; i < (fn == F_LSE ? 1 : n); i++) {
            if (as_double) print_double(mpfr_get_d(ym[i], MPFR_RNDN), hex);
            else print_mpfr(ym[i], hex);
        }
    for (size_t i = 0; i < n; i++) {
        mpfr_clear(xm[i]);
        mpfr_clear(ym[i]);
    }
    free(xm);
    free(ym);
    return st;
}

static int eval_normaliser(func_t fn, double *y, const double *x, size_t n, int ref, double s_param,
                           const smx_format_t *f)
{
    switch (fn) {
    case F_STABLEMAX: return ref ? smx_stablemax_ref(y, x, n, f) : smx_stablemax(y, x, n, f);
    case F_LOGSTABLEMAX: return ref ? smx_logstablemax_ref(y, x, n, f) : smx_logstablemax(y, x, n, f);
    case F_SPARSEMAX: return ref ? smx_sparsemax_ref(y, x, n, f) : smx_sparsemax(y, x, n, f);
    case F_SOFTPICK: return ref ? smx_softpick_ref(y, x, n, SMX_SOFTPICK_EPS, f) : smx_softpick(y, x, n, SMX_SOFTPICK_EPS, f);
    case F_SSMAX: return ref ? smx_ssmax_ref(y, x, n, s_param, f) : smx_ssmax(y, x, n, s_param, f);
    case F_ADAPTIVE: return ref ? smx_adaptive_ref(y, NULL, x, n, f) : smx_adaptive(y, NULL, x, n, f);
    default: return SMX_EDOM;
    }
}

typedef struct {
    smx_format_t f;
    const char *algo_name;
    smx_sum_algo_t sum;
    double T, s_param;
    int hex;
    int given_sum, given_T, given_s; /* for options that apply to some FUNCs only */
} eval_opts_t;

/* One eval option "--name" with its value (NULL for flags); 0 if name is unknown. */
static int eval_option(eval_opts_t *o, const char *name, const char *val)
{
    static const char *const with_value[] = {"format", "algo", "sum", "temperature", "s", NULL};
    int needs = 0;
    for (int i = 0; with_value[i]; i++) needs |= !strcmp(name, with_value[i]);
    if (needs && !val) smx_cli_fail(PROG, "--%s: missing value", name);
    if (!strcmp(name, "format")) smx_cli_format_or_fail(&o->f, val, PROG, "--format");
    else if (!strcmp(name, "algo")) o->algo_name = val;
    else if (!strcmp(name, "sum")) {
        if (smx_sum_algo_parse(&o->sum, val) != SMX_OK)
            smx_cli_fail(PROG, "--sum: unknown value '%s' (allowed: naive|pairwise|compensated)", val);
        o->given_sum = 1;
    } else if (!strcmp(name, "temperature")) {
        o->T = smx_cli_double_or_fail(val, PROG, "--temperature");
        if (!(o->T > 0) || isinf(o->T)) smx_cli_fail(PROG, "--temperature: must be finite and > 0, got '%s'", val);
        o->given_T = 1;
    } else if (!strcmp(name, "s")) {
        o->s_param = smx_cli_double_or_fail(val, PROG, "--s");
        if (!isfinite(o->s_param) || !(o->s_param > 0))
            smx_cli_fail(PROG, "--s: must be a finite number > 0 (SSMax scale), got '%s'", val);
        o->given_s = 1;
    } else if (!strcmp(name, "hex")) o->hex = 1;
    else return 0;
    return needs ? 2 : 1;
}

static int cmd_eval(int argc, char **argv)
{
    eval_opts_t o = {.algo_name = NULL, .sum = SMX_SUM_NAIVE, .T = 1.0, .s_param = 0.43, .hex = 0};
    smx_format_get(&o.f, "fp64");
    /* Hand-parsed so that negative numbers ("-2.385") are values: "--name[=value]" is an
     * option anywhere, the first other word is FUNC, the rest are values. */
    int fn_index = -1, nvals = 0, end_opts = 0;
    char **vals = calloc((size_t)argc, sizeof *vals);
    int *vali = calloc((size_t)argc, sizeof *vali);
    if (!vals || !vali) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!end_opts && !strcmp(a, "--")) { end_opts = 1; continue; }
        if (!end_opts && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            fputs(EVAL_USAGE, stdout);
            free(vals);
            free(vali);
            return 0;
        }
        if (!end_opts && !strncmp(a, "--", 2)) {
            char name[64];
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (len >= sizeof name) len = sizeof name - 1;
            memcpy(name, a + 2, len);
            name[len] = '\0';
            const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
            int used = eval_option(&o, name, val);
            if (!used) smx_cli_fail(PROG, "eval: unknown option '%s' (see smx eval --help)", a);
            if (used == 2 && !eq) i++;
            if (used == 1 && eq) smx_cli_fail(PROG, "eval: option '--%s' takes no value", name);
        } else if (fn_index < 0) {
            fn_index = smx_cli_choice_or_fail(a, FUNCS, PROG, "eval FUNC");
        } else {
            vali[nvals] = i;
            vals[nvals++] = argv[i];
        }
    }
    if (fn_index < 0)
        smx_cli_fail(PROG, "eval: missing FUNC (one of softmax, logsoftmax, lse, stablemax, logstablemax, "
                           "sparsemax, softpick, ssmax, adaptive)");
    func_t fn = (func_t)fn_index;
    if (o.given_s && fn != F_SSMAX) smx_cli_fail(PROG, "eval: --s applies to ssmax only, not to %s", FUNCS[fn]);
    if (o.given_sum && fn > F_LSE)
        smx_cli_fail(PROG, "eval: --sum applies to softmax, logsoftmax and lse only, not to %s", FUNCS[fn]);
    if (o.given_T && fn > F_LSE)
        smx_cli_fail(PROG, "eval: --temperature applies to softmax, logsoftmax and lse only, not to %s", FUNCS[fn]);
    smx_format_t f = o.f;
    const char *algo_name = o.algo_name;
    smx_sum_algo_t sum = o.sum;
    double T = o.T, s_param = o.s_param;
    int hex = o.hex;
    double *x = NULL;
    size_t n = 0, cap = 0;
    if (nvals > 0) {
        for (int i = 0; i < nvals; i++) {
            char where[64];
            snprintf(where, sizeof where, "argument %d", vali[i] + 1);
            size_t len = strlen(vals[i]), b = strspn(vals[i], " \t\n\v\f\r");
            if (b == len) smx_cli_fail(PROG, "eval: %s is empty (every argument after FUNC must be a number)", where);
            parse_values(&x, &n, &cap, vals[i], len, where, 0);
        }
    } else {
        /* read all of stdin, then parse (a token may straddle buffer boundaries) */
        char *all = NULL;
        size_t len = 0, allcap = 0, k;
        do {
            if (allcap - len < 65536) {
                allcap = allcap ? 2 * allcap : 65536;
                char *na = realloc(all, allcap);
                if (!na) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory reading standard input (%zu bytes)", len);
                all = na;
            }
            k = fread(all + len, 1, allcap - len, stdin);
            len += k;
        } while (k > 0);
        if (ferror(stdin)) smx_cli_io_fail(PROG, "eval: cannot read", "standard input");
        parse_values(&x, &n, &cap, all, len, "stdin", 1);
        free(all);
    }
    free(vals);
    free(vali);
    if (n == 0) smx_cli_fail(PROG, "eval: empty vector (give values as arguments or on stdin)");

    int family = fn <= F_LSE, st;
    if (family) {
        smx_lse_algo_t algo = SMX_LSE_SHIFTED;
        if (algo_name && smx_lse_algo_parse(&algo, algo_name) != SMX_OK)
            smx_cli_fail(PROG, "--algo: unknown value '%s' (allowed: reference|naive|shifted|log1p|online|two-pass)",
                         algo_name);
        int mp = !smx_format_has_fast(&f), ref_T = algo == SMX_LSE_REFERENCE && T != 1.0;
        if (mp || ref_T) {
            /* measured peak (x86-64): ~ n (320 + 0.8 p) bytes, beside x and the input text */
            char what[96];
            snprintf(what, sizeof what, "eval in MPFR (%zu values, p = %d)", n, f.p);
            smx_cli_mem_or_fail((double)n * (320.0 + 0.8 * (ref_T ? 2 * f.p + 64 : f.p)), what, PROG);
        }
        if (T != 1.0 && !ref_T)
            for (size_t i = 0; i < n; i++) x[i] /= T;
        if (mp || ref_T) {
            st = eval_family_mpfr(fn, x, n, ref_T ? T : 1.0, algo, sum, &f, hex, !mp);
        } else {
            double *y = malloc(n * sizeof *y);
            if (!y) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory");
            st = fn == F_LSE       ? smx_lse(y, x, n, algo, sum, &f)
                 : fn == F_SOFTMAX ? smx_softmax(y, x, n, algo, sum, &f)
                                   : smx_logsoftmax(y, x, n, algo, sum, &f);
            if (st == SMX_OK)
                for (size_t i = 0; i < (fn == F_LSE ? 1 : n); i++) print_double(y[i], hex);
            free(y);
        }
    } else {
        int ref = !smx_format_has_fast(&f); /* default: direct where it exists, else reference */
        if (algo_name) {
            ref = 0;
            if (!strcmp(algo_name, "reference")) ref = 1;
            else if (strcmp(algo_name, "direct"))
                smx_cli_fail(PROG, "--algo: '%s' does not apply to %s (allowed: reference|direct)", algo_name,
                             FUNCS[fn]);
        }
        if (!ref && !smx_format_has_fast(&f))
            smx_cli_fail(PROG, "--algo direct needs a format with p <= 53 (%s has p = %d); use --algo reference",
                         f.name, f.p);
        double *y = malloc(n * sizeof *y);
        if (!y) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval: out of memory");
        st = eval_normaliser(fn, y, x, n, ref, s_param, &f);
        if (st == SMX_OK)
            for (size_t i = 0; i < n; i++) print_double(y[i], hex);
        free(y);
    }
    free(x);
    if (st == SMX_ENOMEM) smx_cli_die(SMX_EXIT_NOMEM, PROG, "eval %s: out of memory", FUNCS[fn]);
    if (st != SMX_OK) smx_cli_fail(PROG, "eval %s: %s", FUNCS[fn], smx_strerror(st));
    return 0;
}

/* ---------------------------------------------------------------- collapse threshold */

static const char THRESHOLD_USAGE[] =
    "usage: smx collapse-threshold --format F [--classes V] [--sum sequential|pairwise] [--exp exact|rounded]\n"
    "Prints the smallest logit gap D such that, with the correct logit D above all V-1 others\n"
    "(default V = 2), the format's softmax sum 1 + sum_k e^{-D} rounds to exactly 1: Softmax Collapse\n"
    "(Prieto et al., ICLR 2025, Def. 3; the loss is then exactly 0).\n"
    "D is an exact real; every addition is rounded to nearest-even in F (precision, range,\n"
    "subnormals). --exp exact (default): the terms e^{-D} are exact reals, so the sequential\n"
    "threshold is p ln 2 exactly (fl(1 + t) == 1 iff t <= 2^-p, the tie rounding to even 1);\n"
    "--exp rounded: each term is first correctly rounded into F, as a softmax kernel computes it\n"
    "(V = 2: p ln 2 - ln(1 + 2^-p)).\n"
    "--sum sequential (default): ((1 + t) + t) + ..., the max's 1 first; pairwise: the V-1 small\n"
    "terms summed first in a pairwise tree, then added to 1 (threshold ~ p ln 2 + ln(V-1)).\n"
    "D is found by bisection in MPFR (relative accuracy 2^-80) and printed as the nearest double.\n"
    SMX_CLI_EXIT_HELP;

static void parse_threshold_common(int c, const char *arg, smx_format_t *f, int *have_f, long *V,
                                   smx_sum_algo_t *order, smx_threshold_exp_t *em)
{
    static const char *const orders[] = {"sequential", "pairwise", NULL};
    static const char *const exps[] = {"exact", "rounded", NULL};
    switch (c) {
    case 'f': smx_cli_format_or_fail(f, arg, PROG, "--format"); *have_f = 1; break;
    case 'V': *V = smx_cli_long_or_fail(arg, 2, 100000000, PROG, "--classes"); break;
    case 's':
        *order = smx_cli_choice_or_fail(arg, orders, PROG, "--sum") ? SMX_SUM_PAIRWISE : SMX_SUM_NAIVE;
        break;
    case 'e': *em = (smx_threshold_exp_t)smx_cli_choice_or_fail(arg, exps, PROG, "--exp"); break;
    }
}

static int cmd_collapse_threshold(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'}, {"classes", required_argument, 0, 'V'},
                                         {"sum", required_argument, 0, 's'},    {"exp", required_argument, 0, 'e'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    smx_format_t f;
    int have_f = 0, c;
    long V = 2;
    smx_sum_algo_t order = SMX_SUM_NAIVE;
    smx_threshold_exp_t em = SMX_THRESHOLD_EXACT_EXP;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') { fputs(THRESHOLD_USAGE, stdout); return 0; }
        if (c == '?' || c == ':') smx_cli_bad_option_fail("smx collapse-threshold", argc, argv);
        parse_threshold_common(c, optarg, &f, &have_f, &V, &order, &em);
    }
    smx_cli_no_positional(argc, argv, optind, PROG);
    if (!have_f) smx_cli_fail(PROG, "collapse-threshold: --format is required");
    double D;
    int st = smx_threshold_collapse(&D, (size_t)V, order, em, &f);
    if (st != SMX_OK) smx_cli_fail(PROG, "collapse-threshold: %s", smx_strerror(st));
    printf("%.17g\n", D);
    return 0;
}

static int cmd_threshold_sweep(int argc, char **argv)
{
    static const struct option opts[] = {{"classes", required_argument, 0, 'V'}, {"pmax", required_argument, 0, 'P'},
                                         {"out", required_argument, 0, 'o'},     {"help", no_argument, 0, 'h'},
                                         {"quiet", no_argument, 0, 'q'},         {0, 0, 0, 0}};
    long V = 113, pmax = 256;
    const char *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'V': V = smx_cli_long_or_fail(optarg, 2, 1000000, PROG, "--classes"); break;
        case 'P': pmax = smx_cli_long_or_fail(optarg, 2, SMX_FORMAT_PMAX, PROG, "--pmax"); break;
        case 'o':
            if (!*optarg) smx_cli_fail(PROG, "threshold-sweep: --out: empty path");
            out = optarg;
            break;
        case 'q': break; /* nothing goes to stderr but errors */
        case 'h':
            fputs("usage: smx threshold-sweep [--classes V (113)] [--pmax N (256)] [--quiet] --out FILE\n"
                  "Writes the collapse threshold (see smx collapse-threshold --help) for p = 2..N and every\n"
                  "named format: sequential and pairwise orders with exact terms, sequential with rounded\n"
                  "terms, beside the theory p ln 2 and p ln 2 + ln(V-1).\n"
                  "FILE: a regular file is replaced atomically; a device or FIFO is written in place.\n"
                  SMX_CLI_EXIT_HELP, stdout);
            return 0;
        default: smx_cli_bad_option_fail("smx threshold-sweep", argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, PROG);
    if (!out) smx_cli_fail(PROG, "threshold-sweep: --out is required");
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(PROG, "threshold-sweep: --out: cannot write", out);
    smx_tsv_meta_std(t, "smx threshold-sweep", argc, argv);
    smx_tsv_meta(t, "classes", "%ld", V);
    smx_tsv_meta(t, "theory", "sequential p ln 2; pairwise p ln 2 + ln(V-1) (Prieto et al. 2025; collapse.md)");
    smx_tsv_meta(t, "paper_thresholds", "fp16 7.62, bf16 5.55, fp32 16.64, fp64 36.74 (p ln 2)");
    smx_tsv_header(t, "format\tp\tsequential\tpairwise\tsequential_rounded_exp\tp_ln2\tp_ln2_plus_ln_Vm1\tnamed");
    for (int pass = 0; pass < 2; pass++) {
        long count = pass ? 0 : pmax - 1;
        for (long i = 0; pass == 0 ? i < count : smx_format_names[i] != NULL; i++) {
            smx_format_t f;
            if (pass == 0) smx_format_pN(&f, (int)(i + 2));
            else smx_format_get(&f, smx_format_names[i]);
            double ds, dp, dr;
            smx_threshold_collapse(&ds, (size_t)V, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, &f);
            smx_threshold_collapse(&dp, (size_t)V, SMX_SUM_PAIRWISE, SMX_THRESHOLD_EXACT_EXP, &f);
            smx_threshold_collapse(&dr, (size_t)V, SMX_SUM_NAIVE, SMX_THRESHOLD_ROUNDED_EXP, &f);
            smx_tsv_str(t, f.name);
            smx_tsv_int(t, f.p);
            smx_tsv_num(t, ds);
            smx_tsv_num(t, dp);
            smx_tsv_num(t, dr);
            smx_tsv_num(t, f.p * M_LN2);
            smx_tsv_num(t, f.p * M_LN2 + log((double)(V - 1)));
            smx_tsv_int(t, pass);
            smx_tsv_endrow(t);
        }
    }
    if (smx_tsv_close(t) != SMX_OK) smx_cli_io_fail(PROG, "threshold-sweep: --out: cannot write", out);
    return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    static const smx_cli_cmd_t cmds[] = {{"formats", cmd_formats},
                                         {"eval", cmd_eval},
                                         {"collapse-threshold", cmd_collapse_threshold},
                                         {"threshold-sweep", cmd_threshold_sweep},
                                         {"lse-error", smx_cmd_lse_error}};
    smx_cli_init(PROG);
    return smx_cli_dispatch(PROG, USAGE, cmds, sizeof cmds / sizeof cmds[0], NULL, argc, argv);
}
