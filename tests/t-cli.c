/* t-cli.c - the process-wide safety net of cli.h (issue 9): GMP / MPFR out of memory becomes one
 * line and exit 4 (not GMP's abort); a write error on stdout (/dev/full) one line and exit 3;
 * option helpers that exit: bad options named in one line, finite ranges, --out == --checkpoint,
 * up-front memory refusal with the estimate. Each exiting case runs in a child (fork), its
 * stderr captured in a file. Also strict number parsing (smx_cli_double / smx_cli_long) and the
 * comma-separated list helpers. */
#include "cli.h"
#include "smx.h"
#include "tap.h"
#include "machine.h"

#include <fcntl.h>
#include <gmp.h>
#include <mpfr.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
/* under ASan a failed malloc must return NULL (as glibc's does), not abort */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

static char errfile[] = "/tmp/smx-t-cli-XXXXXX";
static char errtext[1024], errshow[1024]; /* errshow: newlines as blanks, for messages */

/* Run fn in a child with stderr into errfile (stdout into out if not NULL); its exit status
 * (128 + signal if killed); errtext gets its stderr. */
static int child(void (*fn)(void), const char *out)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errfile, O_WRONLY | O_TRUNC);
        dup2(fd, 2);
        if (out) {
            int o = open(out, O_WRONLY);
            dup2(o, 1);
        }
        fn();
        exit(0);
    }
    int ws;
    waitpid(pid, &ws, 0);
    FILE *fp = fopen(errfile, "r");
    size_t k = fp ? fread(errtext, 1, sizeof errtext - 1, fp) : 0;
    errtext[k] = '\0';
    if (fp) fclose(fp);
    for (size_t i = 0; i <= k; i++) errshow[i] = errtext[i] == '\n' ? ' ' : errtext[i];
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int one_line(void)
{
    size_t n = strlen(errtext);
    return n > 0 && errtext[n - 1] == '\n' && memchr(errtext, '\n', n - 1) == NULL;
}

static void gmp_huge(void)
{
    smx_cli_init("t-cli");
    struct rlimit rl = {200u << 20, 200u << 20};
    setrlimit(RLIMIT_AS, &rl);
    mpfr_t x;
    mpfr_init2(x, (mpfr_prec_t)1 << 33); /* 1 GB of limbs */
    mpfr_set_ui(x, 2385, MPFR_RNDN);
    printf("%d\n", mpfr_sgn(x));
}

static void stdout_full(void)
{
    smx_cli_init("t-cli");
    printf("2.385\n");
}

static void stdout_full_big(void)
{
    smx_cli_init("t-cli");
    for (int i = 0; i < 100000; i++) printf("%d 2.385\n", i); /* fails long before exit */
}

static void stdout_ok(void)
{
    smx_cli_init("t-cli");
    printf("2.385\n");
}

static void bad_unknown(void)
{
    static const struct option o[] = {{"alpha", required_argument, 0, 'a'}, {0, 0, 0, 0}};
    char *argv[] = {"prog", "--bogus", NULL};
    optind = 1;
    opterr = 0;
    int c = getopt_long(2, argv, "", o, NULL);
    if (c == '?' || c == ':') smx_cli_bad_option_fail("t-cli", 2, argv);
}

static void bad_missing(void)
{
    static const struct option o[] = {{"alpha", required_argument, 0, 'a'}, {0, 0, 0, 0}};
    char *argv[] = {"prog", "--alpha", NULL};
    optind = 1;
    opterr = 0;
    int c = getopt_long(2, argv, "", o, NULL);
    if (c == '?' || c == ':') smx_cli_bad_option_fail("t-cli", 2, argv);
}

static void range_inf(void) { smx_cli_double_range_or_fail("inf", 0, 1e3, "t-cli", "--lr"); }
static void range_big(void) { smx_cli_double_range_or_fail("1e18", 0, 1e3, "t-cli", "--lr"); }
static void same_paths(void) { smx_cli_outputs_or_fail("t-cli", "/tmp/x.tsv", "/tmp/x.tsv"); }
static void mem_huge(void) { smx_cli_mem_or_fail(1e18, "a test job", "t-cli"); }
static void out_bad(void) { smx_cli_outputs_or_fail("t-cli", "/dev/null/x.tsv", NULL); }

static void time_huge(void) { smx_cli_time_or_fail(86400 * 40.0, 86400 * 30.0, "4e16 flops at 1e10 flop/s", "--d", "t-cli"); }
static void time_ok(void) { smx_cli_time_or_fail(86400 * 29.0, 86400 * 30.0, "x", "--d", "t-cli"); }

/* smx_cli_dispatch over two commands that exit with 23 + argc and 40 + argc; before() exits 7 if
 * the command line has "--stop" */
static int cmd_a(int argc, char **argv) { return strcmp(argv[0], "alpha") ? 99 : 23 + argc; }
static int cmd_b(int argc, char **argv) { return strcmp(argv[0], "beta") ? 99 : 40 + argc; }
static void before(const char *prog, int argc, char **argv)
{
    (void)prog;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--stop")) exit(7);
}
static char *dargv[4];
static int dargc;
static void dispatch(void)
{
    static const smx_cli_cmd_t cmds[] = {{"alpha", cmd_a}, {"beta", cmd_b}};
    exit(smx_cli_dispatch("t-cli", "usage text\n", cmds, 2, before, dargc, dargv));
}
static int run_dispatch(const char *a1, const char *a2)
{
    static char p0[] = "t-cli", b1[64], b2[64];
    snprintf(b1, sizeof b1, "%s", a1 ? a1 : ""), snprintf(b2, sizeof b2, "%s", a2 ? a2 : "");
    dargv[0] = p0, dargv[1] = a1 ? b1 : NULL, dargv[2] = a2 ? b2 : NULL, dargv[3] = NULL;
    dargc = 1 + (a1 != NULL) + (a2 != NULL);
    return child(dispatch, "/dev/null");
}

/* strict number parsing and the list helpers (no exit on these inputs) */
static void check_parse(void)
{
    double d;
    long l;
    ok(smx_cli_double(&d, "2.385") == SMX_OK && d == 2.385, "double parsed");
    ok(smx_cli_double(&d, "-1e-310") == SMX_OK && d == -1e-310, "subnormal accepted");
    ok(smx_cli_double(&d, "inf") == SMX_OK && isinf(d) && smx_cli_double(&d, "nan") == SMX_OK && isnan(d), "inf and nan accepted");
    ok(smx_cli_double(&d, "1e999") == SMX_EDOM, "overflowing literal rejected");
    ok(smx_cli_double(&d, "2.385x") == SMX_EDOM && smx_cli_double(&d, "") == SMX_EDOM &&
           smx_cli_double(&d, " 1") == SMX_EDOM && smx_cli_double(&d, NULL) == SMX_EDOM,
       "trailing junk, empty, leading blank, NULL rejected");
    ok(smx_cli_long(&l, "113", 2, 4096) == SMX_OK && l == 113, "integer parsed");
    ok(smx_cli_long(&l, "1", 2, 4096) == SMX_EDOM && smx_cli_long(&l, "5000", 2, 4096) == SMX_EDOM &&
           smx_cli_long(&l, "7.5", 2, 4096) == SMX_EDOM && smx_cli_long(&l, "99999999999999999999", 0, 10) == SMX_EDOM,
       "out of range, fractional and overflowing integers rejected");
    double v[4];
    smx_format_t fl[4];
    ok(smx_cli_doubles_or_fail(v, 4, "2.385,-1.5,1e-3", -10, 10, "t", "--x") == 3 && v[0] == 2.385 && v[1] == -1.5 &&
           v[2] == 1e-3,
       "comma-separated doubles parsed");
    ok(smx_cli_formats_or_fail(fl, 4, "bf16,p37,binary64", 1, "t", "--f") == 3 && fl[0].p == 8 && fl[1].p == 37 &&
           fl[2].p == 53,
       "comma-separated formats parsed (the failing cases exit 2: tests/t-dispersion.sh, t-collapse.sh)");
    ok(!strcmp(smx_strerror(SMX_EDOM), "invalid argument") && !strcmp(smx_strerror(99), "unknown error"), "status texts");
}

int main(void)
{
    int fd = mkstemp(errfile);
    ok(fd >= 0, "stderr capture file");
    close(fd);

    int st = child(gmp_huge, NULL);
    ok(st == SMX_EXIT_NOMEM && one_line() && strstr(errtext, "t-cli: out of memory (GMP/MPFR allocation of"),
       "MPFR allocation of 1 GB under a 200 MB limit: exit 4, one line (status %d: %.80s)", st, errshow);
    st = child(stdout_full, "/dev/full");
    ok(st == SMX_EXIT_IO && one_line() && strstr(errtext, "write error on standard output: No space left on device"),
       "stdout on /dev/full: exit 3, one line naming ENOSPC (status %d: %.80s)", st, errshow);
    st = child(stdout_full_big, "/dev/full");
    ok(st == SMX_EXIT_IO && one_line() && strstr(errtext, "write error on standard output"),
       "1.2 MB to /dev/full (earlier failed writes): exit 3, one line (%.80s)", errshow);
    st = child(stdout_ok, "/dev/null");
    ok(st == 0 && errtext[0] == '\0', "stdout on /dev/null: exit 0, silent");

    st = child(bad_unknown, NULL);
    ok(st == SMX_EXIT_USAGE && one_line() && strstr(errtext, "'--bogus'"), "unknown option named (%.80s)", errshow);
    st = child(bad_missing, NULL);
    ok(st == SMX_EXIT_USAGE && one_line() && strstr(errtext, "option '--alpha' needs a value"),
       "missing value named (%.80s)", errshow);
    st = child(range_inf, NULL);
    ok(st == SMX_EXIT_USAGE && one_line() && strstr(errtext, "--lr: 'inf' is not a finite number in [0, 1000]"),
       "inf refused with the range (%.80s)", errshow);
    st = child(range_big, NULL);
    ok(st == SMX_EXIT_USAGE && strstr(errtext, "'1e18'"), "1e18 refused with the range");
    ok(smx_cli_double_range_or_fail("2.385", 0, 1e3, "t-cli", "--lr") == 2.385, "2.385 accepted");
    st = child(same_paths, NULL);
    ok(st == SMX_EXIT_USAGE && one_line() && strstr(errtext, "--out and --checkpoint are the same file"),
       "--out == --checkpoint refused (%.80s)", errshow);
    st = child(mem_huge, NULL);
    ok(st == SMX_EXIT_NOMEM && one_line() && strstr(errtext, "a test job needs about 1000000000000 MB of memory"),
       "1e18 bytes refused with the estimate (%.90s)", errshow);
    ok(smx_mem_available() > 1e6, "smx_mem_available: %.0f MB", smx_mem_available() / 1e6);
    st = child(out_bad, NULL);
    ok(st == SMX_EXIT_IO && one_line() && strstr(errtext, "--out: cannot write '/dev/null/x.tsv': Not a directory"),
       "unwritable --out: exit 3 naming errno and path (%.80s)", errshow);
    st = child(time_huge, NULL);
    ok(st == SMX_EXIT_USAGE && one_line() &&
           strstr(errtext, "--d would take about 40 days (estimate: 4e16 flops at 1e10 flop/s); more than 30 days refused"),
       "a 40-day run refused with the estimate (%.100s)", errshow);
    ok(child(time_ok, NULL) == 0 && errtext[0] == '\0', "a 29-day estimate passes silently");

    ok(run_dispatch("alpha", NULL) == 24 && run_dispatch("beta", "x") == 42, "dispatch: the named command runs with argv + 1");
    ok(run_dispatch("alpha", "--stop") == 7, "dispatch: before() runs first, with the whole command line");
    st = run_dispatch(NULL, NULL);
    ok(st == SMX_EXIT_USAGE && one_line() && strstr(errtext, "t-cli: missing COMMAND (allowed: alpha|beta; see --help)"),
       "dispatch: missing command, one line (%.80s)", errshow);
    st = run_dispatch("gamma", NULL);
    ok(st == SMX_EXIT_USAGE && one_line() && strstr(errtext, "unknown command 'gamma' (allowed: alpha|beta)"),
       "dispatch: unknown command, one line (%.80s)", errshow);
    ok(run_dispatch("--help", NULL) == 0 && run_dispatch("--version", NULL) == 0 && errtext[0] == '\0',
       "dispatch: --help, --version exit 0");
    unlink(errfile);
    check_parse();
    return tap_done();
}
