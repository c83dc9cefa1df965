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

/* Option values as metadata lines "# key: value", in table order: type 'i' int (%d), 'l' long
 * (%ld), 'g' double (%g). */
typedef struct {
    const char *key;
    char type;
    const void *value;
} dispersion_meta_t;
void dispersion_meta_table(smx_tsv_t *t, const dispersion_meta_t *m, size_t n);
/* "# key: v0,v1,..." metadata line (%g) on the TSV writer t. */
void dispersion_meta_list(smx_tsv_t *t, const char *key, const double *v, size_t n);

/* Options every subcommand has: SMX_CLI_COMMON_OPTIONS and --quiet (no progress on stderr). A
 * subcommand's own option ids start at DISPERSION_OPT_FIRST_PRIVATE. */
enum { DISPERSION_OPT_FIRST_PRIVATE = SMX_OPT_FIRST_PRIVATE };
#define DISPERSION_COMMON_OPTIONS SMX_CLI_COMMON_OPTIONS, SMX_CLI_QUIET_OPTION

/* A subcommand's common options and its command line. */
typedef struct {
    smx_cli_common_t c;
    int quiet;          /* --quiet */
    int argc;           /* the command line (argv[0]: the subcommand) */
    char **argv;
    int meta_argc;      /* the command line the data record (meta_argv NULL: argv without --quiet) */
    char **meta_argv;
} dispersion_cmd_t;
/* c = the common options' defaults (smx_cli_common_init); the command line argc, argv; getopt
 * reset for it (optind = 1) and silent (opterr = 0: dispersion_common_or_fail says it in one line). */
void dispersion_cmd_init(dispersion_cmd_t *cmd, int argc, char **argv);
/* The data's standard metadata: program, version, commit, libraries, command line
 * (smx_tsv_meta_std; without --quiet, --out, --threads, which do not change the data), seed and
 * profile (smx_cli_meta). */
void dispersion_meta_std(smx_tsv_t *t, const char *prog, const dispersion_cmd_t *cmd);
/* The output path: --out if given, else data/{quick,paper}/dispersion-NAME.tsv by --profile
 * (written into buf). */
const char *dispersion_out(char *buf, size_t size, const smx_cli_common_t *c, const char *name);
/* A common option (DISPERSION_COMMON_OPTIONS) into cmd, or exit 2 with one line naming the
 * unknown option or the option missing its value (smx_cli_bad_option_fail). */
void dispersion_common_or_fail(dispersion_cmd_t *cmd, int opt, const char *arg, const char *prog, const char *usage);
/* Exit status of a subcommand whose output `out` ended with status st, with one line on stderr
 * if st is not SMX_OK: SMX_EIO "prog: writing OUT: strerror(errno)" exit 3 (SMX_EXIT_IO);
 * SMX_ENOMEM exit 4 (SMX_EXIT_NOMEM); any other status "computation failed" exit 1. */
int dispersion_exit(const char *prog, const char *out, int st);

/* A multi-file output (issue 9): OUT and its siblings OUT-SUFFIX.tsv, all opened before any work
 * and renamed onto their paths at the end only if every one was written (smx_tsv_close_all):
 * they appear all together or not at all; a failure or an interruption leaves none of them. */
#define DISPERSION_FILES_MAX 4
typedef struct {
    smx_tsv_t *t[DISPERSION_FILES_MAX]; /* [0] OUT, [i] OUT-suffix[i-1].tsv */
    char *path[DISPERSION_FILES_MAX];
    size_t n;
    char failed[1024];  /* after a failure: the path it concerns (for dispersion_exit) */
} dispersion_files_t;
/* Open OUT and OUT-SUFFIX.tsv for each of the NULL-terminated suffixes (at most
 * DISPERSION_FILES_MAX - 1). SMX_OK; else SMX_EIO or SMX_ENOMEM, errno set, f->failed the path,
 * nothing left open. */
int dispersion_files_open(dispersion_files_t *f, const char *out, const char *const *suffixes);
/* st == SMX_OK: close all together (smx_tsv_close_all_at; SMX_EIO if any fails, errno set,
 * f->failed = the file that failed); else drop every temporary and return st. Frees the paths. */
int dispersion_files_close(dispersion_files_t *f, int st);
/* What a subcommand writes into one of its files after the common metadata: its own metadata,
 * the header and the rows. opts: the subcommand's options. A status SMX_*. */
typedef int (*dispersion_write_t)(smx_tsv_t *t, const void *opts);
/* The whole output of a subcommand: open OUT and OUT-SIBLING.tsv for each of the NULL-terminated
 * siblings (dispersion_files_open), write into file i meta(t, opts) then write[i](t, opts), close
 * them all together (dispersion_files_close). Returns the exit status (dispersion_exit). */
int dispersion_write_files(const char *prog, const char *out, const char *const *siblings,
                           void (*meta)(smx_tsv_t *t, const void *opts), const dispersion_write_t *write,
                           const void *opts);

#endif
