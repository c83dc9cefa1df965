/* cli.h - option parsing helpers shared by the smx programs.
 *
 * Parsers return SMX_OK or SMX_EDOM and never exit. smx_cli_fail is the one function in
 * libsmx that exits: it is for programs' option handling only (one-line message naming the
 * problem on stderr, exit status 2, per DESIGN.md). */
#ifndef SMX_CLI_H
#define SMX_CLI_H

#include <getopt.h>
#include "format.h"
#include "tsv.h"

/* Exit status of every smx program, one per kind of failure (documented in every --help by
 * SMX_CLI_EXIT_HELP, which smx_cli_common's --help appends):
 *   0 success; 1 a computation failed; 2 bad option or bad input (usage);
 *   3 an output or input file (or standard output) could not be written / read;
 *   4 out of memory, or a size whose memory estimate exceeds the machine;
 *   5 a training run stopped by --stop-after N (checkpoint written, no data: resume with --resume). */
#define SMX_EXIT_FAILURE 1
#define SMX_EXIT_USAGE 2
#define SMX_EXIT_IO 3
#define SMX_EXIT_NOMEM 4
#define SMX_EXIT_STOPPED 5
#define SMX_CLI_EXIT_HELP                                                                          \
    "Exit status: 0 success, 1 computation failed, 2 bad option or input, 3 file or output error\n" \
    "(e.g. --out not writable, disk full, stdout closed), 4 out of memory or size too large,\n"         \
    "5 stopped by --stop-after (checkpoint written).\n"

/* Options every program has (DESIGN.md): use these ids in getopt_long's table via
 * SMX_CLI_COMMON_OPTIONS and hand the parsed values to smx_cli_common. */
enum { SMX_OPT_SEED = 0x1000, SMX_OPT_OUT, SMX_OPT_PROFILE, SMX_OPT_THREADS, SMX_OPT_HELP, SMX_OPT_VERSION,
       SMX_OPT_QUIET /* SMX_CLI_QUIET_OPTION, smx_cli_common_or_quiet */,
       SMX_OPT_FIRST_PRIVATE /* first id free for a program's own options */ };

#define SMX_CLI_COMMON_OPTIONS                                  \
    {"seed", required_argument, 0, SMX_OPT_SEED},               \
    {"out", required_argument, 0, SMX_OPT_OUT},                 \
    {"profile", required_argument, 0, SMX_OPT_PROFILE},         \
    {"threads", required_argument, 0, SMX_OPT_THREADS},         \
    {"help", no_argument, 0, SMX_OPT_HELP},                     \
    {"version", no_argument, 0, SMX_OPT_VERSION}

/* --quiet (progress and estimates off), for a table with the common options; handled by smx_cli_common_or_quiet. */
#define SMX_CLI_QUIET_OPTION {"quiet", no_argument, 0, SMX_OPT_QUIET}

/* Entries of a getopt_long table: an option with a value, a flag. */
#define SMX_CLI_ARG(name, id) {name, required_argument, 0, id}
#define SMX_CLI_FLAG(name, id) {name, no_argument, 0, id}

typedef enum { SMX_PROFILE_QUICK = 0, SMX_PROFILE_PAPER = 1 } smx_profile_t;

typedef struct {
    unsigned long seed;   /* --seed (default 1) */
    const char *out;      /* --out (default NULL: program's choice) */
    smx_profile_t profile;/* --profile quick|paper */
    int threads;          /* --threads (0: OpenMP default) */
} smx_cli_common_t;

/* Defaults; also calls smx_cli_init(NULL). */
void smx_cli_common_init(smx_cli_common_t *c);

/* Process-wide safety net, idempotent (smx_cli_common_init calls it; programs that do not use
 * smx_cli_common call it first thing in main). prog: name for messages (NULL: the invocation
 * name). Installs:
 * - an atexit check of standard output (fflush + fclose): a write error, e.g. stdout on
 *   /dev/full or a closed pipe, prints "prog: write error on standard output: REASON" and the
 *   exit status becomes SMX_EXIT_IO;
 * - GMP / MPFR memory functions that turn a failed allocation into one line
 *   "prog: out of memory (GMP/MPFR allocation of N bytes)" and exit SMX_EXIT_NOMEM, instead of
 *   GMP's abort. Temporaries of unfinished outputs are removed in both cases (tsv.h). */
void smx_cli_init(const char *prog);

/* Handle a common option id. Returns 1 if handled, 0 if opt is not a common option.
 * --help prints usage (the given text) to stdout and exits 0; --version prints
 * "PROG (smx) VERSION" and exits 0; bad values call smx_cli_fail. */
int smx_cli_common(smx_cli_common_t *c, int opt, const char *arg, const char *prog, const char *usage);

/* The default branch of a getopt_long loop (called with opterr = 0) whose table has the common options and
 * SMX_CLI_QUIET_OPTION: --quiet sets *quiet = 1 (quiet may be NULL where nothing is printed), a common option
 * goes to smx_cli_common, anything else is ONE line naming it (smx_cli_bad_option_fail), exit 2. */
void smx_cli_common_or_quiet(smx_cli_common_t *c, int *quiet, int opt, const char *arg, const char *prog,
                             const char *usage, int argc, char **argv);

/* "quick" or "paper". */
const char *smx_cli_profile_name(smx_profile_t p);

/* "# seed: S" and "# profile: P" metadata lines for a data file. */
void smx_cli_meta(smx_tsv_t *t, const smx_cli_common_t *c);

/* "prog: message" on stderr, then exit(2). */
void smx_cli_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* "prog: message" on stderr, then exit(status) (one of SMX_EXIT_*). */
void smx_cli_die(int status, const char *prog, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
/* After a failed file operation (errno set): "prog: WHAT 'PATH': strerror(errno)", exit
 * SMX_EXIT_NOMEM if errno is ENOMEM, else SMX_EXIT_IO. what: e.g. "--out: cannot write". */
void smx_cli_io_fail(const char *prog, const char *what, const char *path) __attribute__((noreturn));
/* getopt_long returned '?' or ':' (call with opterr = 0): one line naming the option
 * ("unknown option '--x'", "option '--x' needs a value"), exit 2. */
void smx_cli_bad_option_fail(const char *prog, int argc, char *const argv[]) __attribute__((noreturn));

/* Before any work: fail (smx_cli_io_fail) unless PATH can be written (smx_out_check). opt
 * names the option, e.g. "--out". */
void smx_cli_out_check_or_fail(const char *path, const char *prog, const char *opt);
/* Two output paths must not be the same file (same string, or same device and inode):
 * e.g. --out and --checkpoint. Fails with exit 2 naming both options. */
void smx_cli_distinct_or_fail(const char *a, const char *opt_a, const char *b, const char *opt_b,
                              const char *prog);
/* Before any work, for a program writing a data file and a checkpoint: out and ckpt (either may
 * be NULL) are distinct (smx_cli_distinct_or_fail, "--out" / "--checkpoint") and writable
 * (smx_cli_out_check_or_fail). One call in main after option parsing. */
void smx_cli_outputs_or_fail(const char *prog, const char *out, const char *ckpt);
/* Refuse up front a job whose memory estimate (bytes) exceeds what this process can get
 * (smx_mem_available): "prog: WHAT needs about X MB of memory, only Y MB available", exit 4. */
void smx_cli_mem_or_fail(double bytes, const char *what, const char *prog);
/* The same, freeing owned (may be NULL) before the refusal: a caller's buffer read before the exact
 * estimate was known is not reported as a leak (LeakSanitizer). */
void smx_cli_mem_or_fail_free(double bytes, const char *what, const char *prog, void *owned);
/* Refuse up front a job whose run-time estimate (seconds) exceeds limit seconds: "prog: WHAT would
 * take about X days (estimate: ...); more than Y days refused", exit 2 (an absurd size). basis:
 * how the estimate was made, e.g. "4e15 flops at 1e10 flop/s". */
void smx_cli_time_or_fail(double seconds, double limit, const char *basis, const char *what, const char *prog);

/* Strict number parsing: the whole string must be a number (leading/trailing blanks
 * rejected); "nan", "inf", "-inf" accepted by smx_cli_double. */
int smx_cli_double(double *v, const char *s);
int smx_cli_long(long *v, const char *s, long lo, long hi);

/* Parse or fail with a message naming the option: "prog: --opt: 'x' is not a number". */
double smx_cli_double_or_fail(const char *s, const char *prog, const char *opt);
/* A finite number in [lo, hi], or fail: "prog: --opt: 'x' is not a finite number in [lo, hi]". */
double smx_cli_double_range_or_fail(const char *s, double lo, double hi, const char *prog, const char *opt);
long smx_cli_long_or_fail(const char *s, long lo, long hi, const char *prog, const char *opt);
/* Index of s in the NULL-terminated list, or fail listing the allowed values. */
int smx_cli_choice_or_fail(const char *s, const char *const *choices, const char *prog, const char *opt);
/* A format name (see smx_format_get), or fail listing the named formats and pN. */
void smx_cli_format_or_fail(smx_format_t *f, const char *s, const char *prog, const char *opt);

/* Comma-separated list of doubles (at most max) in [lo, hi], or fail naming the option. */
size_t smx_cli_doubles_or_fail(double *v, size_t max, const char *s, double lo, double hi, const char *prog,
                               const char *opt);
/* Comma-separated list of format names (at most max), or fail naming the option; fast_only: only
 * formats with the fast path (p <= 53). */
size_t smx_cli_formats_or_fail(smx_format_t *f, size_t max, const char *s, int fast_only, const char *prog,
                               const char *opt);

/* A program's subcommand: its name and its main (called with argv[0] = the name). */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
} smx_cli_cmd_t;
/* The one way to dispatch subcommands: argv[1] names one of the n cmds. "--help" / "-h" print
 * usage to stdout (exit 0), "--version" prints "PROG (smx) VERSION"; a missing or unknown command
 * fails in one line listing the allowed names (exit 2). before (may be NULL) runs just before the
 * command with the whole command line, e.g. to check its outputs. Returns the command's status. */
int smx_cli_dispatch(const char *prog, const char *usage, const smx_cli_cmd_t *cmds, size_t n,
                     void (*before)(const char *prog, int argc, char **argv), int argc, char **argv);

/* Reject unparsed positional arguments (optind < argc) with a message. */
void smx_cli_no_positional(int argc, char *const argv[], int optind_, const char *prog);

#endif
