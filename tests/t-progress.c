/* t-progress.c - the progress line (numerics/progress.h) on a non-terminal stderr: no line before
 * 5 s have passed since the last one, then "LABEL: done/total (pct%) rate/s ETA s" with
 * ETA = (total - done) / rate; "LABEL: done in Ts" at the end; nothing at all with quiet. */
#include "machine.h"
#include "progress.h"
#include "tap.h"

#include <string.h>
#include <unistd.h>

static char errfile[] = "/tmp/smx-t-progress-XXXXXX";

static size_t captured(char *buf, size_t cap)
{
    fflush(stderr);
    FILE *f = fopen(errfile, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return n;
}

int main(void)
{
    int fd = mkstemp(errfile);
    ok(fd >= 0 && freopen(errfile, "w", stderr) != NULL, "stderr to a file (not a terminal)");
    if (fd >= 0) close(fd);
    char buf[1024];

    smx_progress_t p;
    smx_progress_start(&p, "t-progress", 2385, 0);
    smx_progress_update(&p, 100);
    ok(captured(buf, sizeof buf) == 0, "no line within 5 s of the start");
    p.t0 -= 10, p.last -= 10; /* as if started 10 s ago */
    smx_progress_update(&p, 477);
    double done = 0, total = 0, pct = 0, rate = 0, eta = -1;
    int got = sscanf(buf + (captured(buf, sizeof buf), 0), "t-progress: %lf/%lf (%lf%%) %lf/s ETA %lfs", &done, &total,
                     &pct, &rate, &eta);
    ok(got == 5 && done == 477 && total == 2385 && pct == 20.0, "a line after 5 s: 477/2385 (20.0%%)");
    ok(rate > 47 && rate < 47.8 && eta > 39.5 && eta < 40.5, "rate 47.7/s over 10 s and ETA (2385 - 477) / rate = 40 s");
    size_t n = strlen(buf);
    smx_progress_update(&p, 500);
    ok(captured(buf, sizeof buf) == n, "no second line within 5 s of the first");
    smx_progress_finish(&p);
    captured(buf, sizeof buf);
    ok(strstr(buf + n, "t-progress: done in 10.") == buf + n, "finish: 'done in 10.x s'");

    size_t before = captured(buf, sizeof buf);
    smx_progress_t q;
    smx_progress_start(&q, "quiet", 10, 1);
    q.t0 -= 10, q.last -= 10;
    smx_progress_update(&q, 5);
    smx_progress_finish(&q);
    ok(captured(buf, sizeof buf) == before && !strstr(buf, "quiet"), "quiet: nothing written");
    unlink(errfile);
    return tap_done();
}
