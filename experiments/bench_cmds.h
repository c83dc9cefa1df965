/* bench_cmds.h - subcommands of smx-bench (experiments/bench_*.c) and their shared helpers. */
#ifndef BENCH_CMDS_H
#define BENCH_CMDS_H

#include "cli.h"
#include "tsv.h"

int bench_cmd_kernels(int argc, char **argv);                 /* bench_kernels.c */
int bench_cmd_copy(int argc, char **argv);                    /* bench_kernels.c: the copy rows alone */
int bench_cmd_exp_error(int argc, char **argv);               /* bench_exp.c */
int bench_cmd_mpfr(int argc, char **argv);                    /* bench_mpfr.c */

/* "# cpu", "# cores", "# caches", "# isa", "# compiler" metadata lines. */
void bench_meta_machine(smx_tsv_t *t);

/* Comma-separated list of names from choices (NULL-terminated): sets sel[i] = 1 for each;
 * fails naming the option. "all" selects every choice. */
void bench_names_or_fail(int *sel, const char *s, const char *const *choices, const char *prog, const char *opt);

/* Options of every smx-bench command beside its own: the common ones and --quiet (no progress on stderr).
 * The getopt loop's default branch is smx_cli_common_or_quiet. */
#define BENCH_COMMON_OPTIONS SMX_CLI_COMMON_OPTIONS, SMX_CLI_QUIET_OPTION
/* The start of every smx-bench command's option parsing: c's defaults (smx_cli_common_init), *quiet = 0,
 * and getopt_long reset to the first argument with its own messages off (optind = 1, opterr = 0). */
void bench_opt_begin(smx_cli_common_t *c, int *quiet);

#define BENCH_PROG "smx-bench"

#endif
