/* progress.h - a progress line for long runs on stderr. */
#ifndef SMX_PROGRESS_H
#define SMX_PROGRESS_H

/* Progress on stderr: a bar with rate and ETA when stderr is a terminal, otherwise one
 * line every 5 seconds. quiet = 1 disables it. */
typedef struct {
    const char *label;
    double total, t0, last;
    int tty, quiet;
} smx_progress_t;

void smx_progress_start(smx_progress_t *p, const char *label, double total, int quiet);
void smx_progress_update(smx_progress_t *p, double done);
void smx_progress_finish(smx_progress_t *p);

#endif
