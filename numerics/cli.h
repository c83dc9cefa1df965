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

/* Exit status of every smx program for bad options or bad input. */
#define SMX_EXIT_USAGE 2

/* Options every program has (DESIGN.md): use these ids in getopt_long's table via
 * SMX_CLI_COMMON_OPTIONS and hand the parsed values to smx_cli_common. */
enum { SMX_OPT_SEED = 0x1000, SMX_OPT_OUT, SMX_OPT_PROFILE, SMX_OPT_THREADS, SMX_OPT_HELP, SMX_OPT_VERSION,
       SMX_OPT_FIRST_PRIVATE /* first id free for a program's own options */ };

#define SMX_CLI_COMMON_OPTIONS                                  \
    {"seed", required_argument, 0, SMX_OPT_SEED},               \
    {"out", required_argument, 0, SMX_OPT_OUT},                 \
    {"profile", required_argument, 0, SMX_OPT_PROFILE},         \
    {"threads", required_argument, 0, SMX_OPT_THREADS},         \
    {"help", no_argument, 0, SMX_OPT_HELP},                     \
    {"version", no_argument, 0, SMX_OPT_VERSION}

typedef enum { SMX_PROFILE_QUICK = 0, SMX_PROFILE_PAPER = 1 } smx_profile_t;

typedef struct {
    unsigned long seed;   /* --seed (default 1) */
    const char *out;      /* --out (default NULL: program's choice) */
    smx_profile_t profile;/* --profile quick|paper */
    int threads;          /* --threads (0: OpenMP default) */
} smx_cli_common_t;

void smx_cli_common_init(smx_cli_common_t *c);

/* Handle a common option id. Returns 1 if handled, 0 if opt is not a common option.
 * --help prints usage (the given text) to stdout and exits 0; --version prints
 * "PROG (smx) VERSION" and exits 0; bad values call smx_cli_fail. */
int smx_cli_common(smx_cli_common_t *c, int opt, const char *arg, const char *prog, const char *usage);

/* "quick" or "paper". */
const char *smx_cli_profile_name(smx_profile_t p);

/* "# seed: S" and "# profile: P" metadata lines for a data file. */
void smx_cli_meta(smx_tsv_t *t, const smx_cli_common_t *c);

/* "prog: message" on stderr, then exit(2). */
void smx_cli_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Strict number parsing: the whole string must be a number (leading/trailing blanks
 * rejected); "nan", "inf", "-inf" accepted by smx_cli_double. */
int smx_cli_double(double *v, const char *s);
int smx_cli_long(long *v, const char *s, long lo, long hi);

/* Parse or fail with a message naming the option: "prog: --opt: 'x' is not a number". */
double smx_cli_double_or_fail(const char *s, const char *prog, const char *opt);
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

/* Reject unparsed positional arguments (optind < argc) with a message. */
void smx_cli_no_positional(int argc, char *const argv[], int optind_, const char *prog);

#endif
