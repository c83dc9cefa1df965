/* collapse_cmds.h - what the commands of smx-collapse share: the parsed options, the metadata of
 * every data file, the split / weights hooks and the row writer (collapse.c), and the commands of
 * the onset-vs-precision question (collapse_onset.c: onset, gaps). */
#ifndef SMX_COLLAPSE_CMDS_H
#define SMX_COLLAPSE_CMDS_H

#include <stddef.h>

#include "cli.h"
#include "collapse_model.h"
#include "collapse_run.h"
#include "tsv.h"

#define COLLAPSE_PROG "smx-collapse"

extern const char *const collapse_model_formats[]; /* --model-format names, by collapse_cfg_t.dtype */
extern const char *const collapse_sum_names[];     /* --sum names: sequential, pairwise */

typedef struct {
    int mode;
    collapse_cfg_t cfg;
    int optim;
    long epochs, log_every, stop_at;
    double ckpt_every;
    int resume, quiet;
    int set_beta2, set_eps, set_momentum; /* given on the command line (else per-optimizer defaults) */
    const char *formats, *ckpt, *sfmt_name;
    const char *reference, *predict; /* onset --reference F, gaps --predict FILE (NULL: none) */
    double ref_tol;
    const char *dump_split, *dump_weights, *split_file, *init_weights; /* collapse_io.h (NULL: none) */
    int log_conv;                    /* index in LOGCONVS */
    const char *only_opt[5];         /* the options given that belong to one command (checked) */
    smx_cli_common_t com;
} collapse_opts_t;

/* Canonical text of every option that changes the data (checked on --resume). */
void collapse_cfg_string(char *buf, size_t n, const collapse_opts_t *o);
/* The standard metadata of every collapse data file: command line, options, log convention,
 * the paper's numbers. */
void collapse_meta_options(smx_tsv_t *t, const collapse_opts_t *o, int argc, char **argv);
/* "smx-collapse: WHAT: strerror(st)", exit 2 for SMX_EDOM, else 1. */
void collapse_fail_status(int st, const char *what) __attribute__((noreturn));
/* collapse_run's on_init hook: the split and initial weights from files, then their dumps. */
int collapse_io_on_init(void *ctx, collapse_model_t *m);
/* The log's rows (epoch as an integer, the other columns %.17g). */
void collapse_write_rows(smx_tsv_t *t, const collapse_log_t *log);

/* onset: one run per format, stopped at SC onset (one row each); gaps: the training rows' logit
 * gap quantiles per logged epoch and, with --predict, the onset predicted for p = 4..64. */
int collapse_cmd_onset(collapse_opts_t *o, int argc, char **argv);
int collapse_cmd_gaps(collapse_opts_t *o, int argc, char **argv);
/* rowgrad: the training rows' gradient parts under each order after --epochs (collapse_rowgrad.h). */
int collapse_cmd_rowgrad(collapse_opts_t *o, int argc, char **argv);

#endif
