/* dispersion_io.h - what every smx-dispersion subcommand does around its computation
 * (dispersion_io.c): common options, the data's standard metadata, default and sibling output
 * paths, the log-spaced n grid, list metadata and the exit status. */
#ifndef DISPERSION_IO_H
#define DISPERSION_IO_H

#include <stddef.h>
#include "cli.h"

/* Sibling output path: OUT with its ".tsv" replaced by "-SUFFIX.tsv" (malloc'ed). */
char *dispersion_sibling(const char *out, const char *suffix);
/* log-spaced n grid: every power of 2 from 2^lo to 2^hi with `per` points per octave
 * (rounded to integers, deduplicated, ascending). Returns count; *grid malloc'ed. */
size_t dispersion_grid(double **grid, int lo, int hi, int per);

/* "# key: v0,v1,..." metadata line (%g) on the TSV writer t. */
void dispersion_meta_list(smx_tsv_t *t, const char *key, const double *v, size_t n);

/* A subcommand's common options (SMX_CLI_COMMON_OPTIONS) and the command line its data record. */
typedef struct {
    smx_cli_common_t c;
    int argc;
    char **argv;
} dispersion_cmd_t;
/* c = the common options' defaults (smx_cli_common_init); the command line argc, argv. */
void dispersion_cmd_init(dispersion_cmd_t *cmd, int argc, char **argv);
/* The data's standard metadata: program, version, commit, libraries, command line
 * (smx_tsv_meta_std), seed and profile (smx_cli_meta). */
void dispersion_meta_std(smx_tsv_t *t, const char *prog, const dispersion_cmd_t *cmd);
/* The output path: --out if given, else data/{quick,paper}/dispersion-NAME.tsv by --profile
 * (written into buf). */
const char *dispersion_out(char *buf, size_t size, const smx_cli_common_t *c, const char *name);
/* A common option (SMX_CLI_COMMON_OPTIONS) or exit 2: "bad option (see --help)". */
void dispersion_common_or_fail(smx_cli_common_t *c, int opt, const char *arg, const char *prog, const char *usage);
/* Exit status of a subcommand that wrote out with status st (one line on stderr if not SMX_OK). */
int dispersion_exit(const char *prog, const char *out, int st);

#endif
