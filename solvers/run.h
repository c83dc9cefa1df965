/* run.h - the machinery every training program shares around its loop: the options
 * fingerprint, checkpoints on numerics/ckpt.h (optimiser and RNG state included), the
 * checkpoint clock (interval and --stop-after) and the argv filter for the data's metadata.
 *
 * Contract (what a program using it promises and gets):
 *  - Fingerprint: the program writes one canonical string of every option that changes results
 *    (not --threads, --quiet, --out, the checkpoint options) into each checkpoint; a checkpoint
 *    with another fingerprint is refused (SMX_EDOM), so --resume can never mix two runs.
 *  - A checkpoint holds the fingerprint ("options"), the step count ("step") and the program's
 *    own entries; smx_run_put_optim / smx_run_put_rng store an optimiser's state (step, m, v in
 *    its dtype) and a gsl_rng's state so that a resumed run continues bit for bit. Files are
 *    written atomically (ckpt.h), so an interrupted write leaves the previous checkpoint.
 *  - Clock: a checkpoint is due every `every` seconds of wall time (SMX_RUN_CKPT_EVERY by
 *    default; 0 = only at the end / at the stop), and when the step count reaches stop_after
 *    (> 0), after which the program stops unfinished and exits SMX_RUN_EXIT_STOPPED.
 *  - --resume without a checkpoint file starts afresh: the program says so in one line on
 *    stderr (smx_run_ckpt_missing tells); an unreadable checkpoint or one written with other
 *    options is refused with exit status 2 naming the file and, for options, the first one that
 *    differs (smx_run_fingerprint_diff). The fingerprint is "key=value" fields separated by
 *    single spaces.
 *  - argv filter: the options that do not change the data (SMX_RUN_IGNORED_OPTIONS) are left
 *    out of the command line recorded in the data's metadata, so a resumed run and an
 *    uninterrupted one write the same bytes.
 * Library functions return SMX_OK / SMX_EDOM / SMX_EIO / SMX_ENOMEM and never exit.
 *
 * Usage (a program's loop):
 *     smx_run_clock_t clk; smx_run_clock_start(&clk, every, stop_after, smx_time_now());
 *     if (resume) { smx_ckpt_t *c; long step; st = smx_run_ckpt_open(&c, &step, path, fp);
 *                   ... smx_run_get_optim(opt, c); smx_ckpt_get...; smx_ckpt_free(c); }
 *     for (;;) { ... one step ...;
 *                int due = smx_run_clock_due(&clk, step, smx_time_now());
 *                if (due) { smx_ckpt_t *c = smx_run_ckpt_new(fp, step); smx_run_put_optim(c, opt);
 *                           ... smx_ckpt_write(c, path); smx_ckpt_free(c); }
 *                if (due == SMX_RUN_STOP) return unfinished; } */
#ifndef SMX_RUN_H
#define SMX_RUN_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "ckpt.h"
#include "optim.h"

#define SMX_RUN_CKPT_EVERY 180.0   /* default seconds between checkpoints */
#define SMX_RUN_EXIT_STOPPED 5 /* a run stopped by --stop-after (checkpoint written): SMX_EXIT_STOPPED of cli.h */

/* Options that do not change the data; those marked with a value take one (--opt V or --opt=V). */
#define SMX_RUN_IGNORED_OPTIONS "--resume --quiet --stop-at= --stop-after= --checkpoint= --checkpoint-every="

/* out[0..n) = argv without the ignored options (and their values), out[n] = NULL; returns n.
 * out has room for argc + 1 pointers (it may not alias argv). */
int smx_run_argv_filter(char **out, int argc, char **argv);

/* A new checkpoint holding the fingerprint ("options") and the step ("step"); NULL if out of memory. */
smx_ckpt_t *smx_run_ckpt_new(const char *fingerprint, long step);

/* Read path and check the fingerprint: *c and *step on SMX_OK (free *c with smx_ckpt_free);
 * SMX_EIO if the file is missing (errno ENOENT), unreadable, truncated or corrupted; SMX_EDOM if
 * it was written with another fingerprint; SMX_ENOMEM. *why (if not NULL) names the problem. */
int smx_run_ckpt_open(smx_ckpt_t **c, long *step, const char **why, const char *path, const char *fingerprint);

/* 1 if --resume from path must start afresh because there is no such file (ENOENT), else 0. */
int smx_run_ckpt_missing(const char *path);

/* After smx_run_ckpt_open returned SMX_EDOM: msg = "written with KEY=OLD, this run has KEY=NEW"
 * for the first space-separated field of the checkpoint's fingerprint that differs from
 * fingerprint's (or "written with other options" if the file cannot be read again). */
void smx_run_fingerprint_diff(char *msg, size_t size, const char *path, const char *fingerprint);

/* Copy the entry name, which must be exactly size bytes, into dst: SMX_OK or SMX_EIO. */
int smx_run_get_blob(void *dst, const smx_ckpt_t *c, const char *name, size_t size);

/* Optimiser state: "optim_step" and, where the optimiser has them, "optim_m" / "optim_v"
 * (o->total elements of its dtype). get: SMX_EIO if missing or of another size. */
int smx_run_put_optim(smx_ckpt_t *c, const smx_optim_t *o);
int smx_run_get_optim(smx_optim_t *o, const smx_ckpt_t *c);
/* The same with every entry name prefixed (e.g. "H2.optim_m"): several models' optimisers in one checkpoint. */
int smx_run_put_optim_prefixed(smx_ckpt_t *c, const char *prefix, const smx_optim_t *o);
int smx_run_get_optim_prefixed(smx_optim_t *o, const smx_ckpt_t *c, const char *prefix);

/* RNG state under "NAME.type" (gsl_rng_name) and "NAME.state"; get: SMX_EIO unless the type
 * and state size match r's. */
int smx_run_put_rng(smx_ckpt_t *c, const char *name, const gsl_rng *r);
int smx_run_get_rng(gsl_rng *r, const smx_ckpt_t *c, const char *name);

/* The checkpoint clock. */
typedef struct {
    double every;     /* seconds between checkpoints (0: none in between) */
    long stop_after;  /* > 0: stop when the step count reaches it */
    double last;      /* wall time of the last checkpoint (or of the start) */
} smx_run_clock_t;

enum { SMX_RUN_CONTINUE = 0, SMX_RUN_CKPT = 1, SMX_RUN_STOP = 2 };

/* Start the clock at wall time now (e.g. smx_time_now()). */
void smx_run_clock_start(smx_run_clock_t *k, double every, long stop_after, double now);
/* After step `step` (steps taken so far) at wall time now: SMX_RUN_STOP if stop_after > 0 and
 * step >= stop_after (write a checkpoint, then stop), SMX_RUN_CKPT if every > 0 seconds have
 * passed since the last checkpoint (the clock restarts), else SMX_RUN_CONTINUE. */
int smx_run_clock_due(smx_run_clock_t *k, long step, double now);

#endif
