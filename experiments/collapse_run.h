/* collapse_run.h - the smx-collapse training loop: logging, checkpoints, resume. */
#ifndef SMX_COLLAPSE_RUN_H
#define SMX_COLLAPSE_RUN_H

#include "collapse_model.h"

typedef struct {
    collapse_cfg_t cfg;
    long epochs;            /* steps; rows are logged at epochs 0, log_every, ..., and epochs */
    long log_every;
    const char *ckpt_path;  /* NULL: no checkpoints */
    double ckpt_every;      /* seconds between checkpoints (plus one at the end / at stop_at) */
    long stop_at;           /* > 0: stop at this epoch (after saving a checkpoint), unfinished */
    int resume;             /* 1: continue from ckpt_path */
    int stop_at_onset;      /* 1: stop at the first logged epoch with sc_fraction > 0.5 */
    int quiet;              /* no progress on stderr */
    const char *cfgstr;     /* canonical text of every option that changes results (checked on resume) */
    int log_offset;         /* 0: row e logged after e steps (smx); 1: after e + 1 steps (the
                               reference code's convention: its epoch e logs after e + 1 steps) */
    /* called at every logged epoch, before the row is logged, with m->rows holding the training
     * rows of this epoch's forward pass (NULL: none); a nonzero return stops the run with it */
    int (*on_log)(void *ctx, const collapse_model_t *m, long epoch);
    void *on_log_ctx;
    /* called once after the model is built and before training (not on --resume): replace the
     * split or the initial weights, dump them; a nonzero return stops the run with it */
    int (*on_init)(void *ctx, collapse_model_t *m);
    void *on_init_ctx;
} collapse_run_opts_t;

/* The logged rows (columns collapse_log_columns), and wall-clock seconds per row. */
typedef struct {
    size_t ncols, nrows, cap;
    double *v;
    double *wall;
} collapse_log_t;

enum { COLLAPSE_COL_EPOCH = 0, COLLAPSE_COL_LOSS, COLLAPSE_COL_TRAIN_ACC, COLLAPSE_COL_TEST_ACC,
       COLLAPSE_COL_SC, COLLAPSE_COL_ZERO, COLLAPSE_COL_GAPMIN, COLLAPSE_COL_GAPMAX, COLLAPSE_COL_NORM1 };

/* Tab-separated header for depth D (D + 1 weight tensors): epoch train_loss train_acc test_acc
 * sc_fraction zero_loss_fraction sc_gap_min nonsc_gap_max w_norm_1..D+1 w_norm_total cos_nlm_1..D+1.
 * Writes into buf (size >= 512). Returns the number of columns. */
size_t collapse_log_columns(char *buf, size_t size, int depth);

void collapse_log_free(collapse_log_t *log);

/* Train. On return *finished = 1 if all epochs ran (or onset reached), 0 if stopped at stop_at.
 * Status: SMX_OK, SMX_EIO (checkpoint unreadable / unwritable), SMX_EDOM (checkpoint of other
 * options), SMX_ENOMEM. The model is freed unless mout != NULL. */
int collapse_run(collapse_log_t *log, collapse_model_t **mout, int *finished, const collapse_run_opts_t *o);

/* First logged epoch with sc_fraction > 0.5 (row index in *row), or -1. */
long collapse_log_onset(const collapse_log_t *log, size_t *row);

#endif
