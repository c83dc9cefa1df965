/* bench_cmds.h - subcommands of smx-bench (experiments/bench_*.c) and their shared helpers. */
#ifndef BENCH_CMDS_H
#define BENCH_CMDS_H

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

#define BENCH_PROG "smx-bench"

#endif
