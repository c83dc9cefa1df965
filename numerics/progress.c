/* progress.c - the progress line on stderr (see progress.h). */
#include "progress.h"
#include "machine.h"

#include <stdio.h>
#include <unistd.h>

void smx_progress_start(smx_progress_t *p, const char *label, double total, int quiet)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = smx_time_now();
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
}

void smx_progress_update(smx_progress_t *p, double done)
{
    if (p->quiet) return;
    double now = smx_time_now();
    if (now - p->last < (p->tty ? 0.2 : 5.0)) return;
    p->last = now;
    double el = now - p->t0, rate = done / (el > 0 ? el : 1e-9);
    double eta = rate > 0 ? (p->total - done) / rate : 0;
    double frac = p->total > 0 ? done / p->total : 0;
    if (p->tty) {
        char bar[31];
        int k = (int)(30 * frac);
        for (int i = 0; i < 30; i++) bar[i] = i < k ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %5.1f%% %.3g/s ETA %.0fs ", p->label, bar, 100 * frac, rate, eta);
    } else {
        fprintf(stderr, "%s: %.0f/%.0f (%.1f%%) %.3g/s ETA %.0fs\n", p->label, done, p->total, 100 * frac, rate, eta);
    }
}

void smx_progress_finish(smx_progress_t *p)
{
    if (p->quiet) return;
    double el = smx_time_now() - p->t0;
    fprintf(stderr, "%s%s: done in %.1fs\n", p->tty ? "\r" : "", p->label, el);
}
