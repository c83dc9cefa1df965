/* t-run.c - solvers/run.h: argv filter, checkpoint round trip of an optimiser (AdamW, float and
 * double) and a gsl_rng (the resumed stream continues the same numbers), fingerprint mismatch,
 * missing / truncated / corrupted / foreign files, the checkpoint clock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

static void test_argv(void)
{
    char *argv[] = {"smx-x", "--resume", "--lr", "3e-3", "--stop-at", "25", "--quiet", "--checkpoint=a.ckpt",
                    "--stop-after=7", "--checkpoint-every", "60", "--checkpoint", "b.ckpt", "--seed", "2385",
                    "--resumed", NULL};
    char *out[17];
    int n = smx_run_argv_filter(out, 16, argv);
    char joined[256] = "";
    for (int i = 0; i < n; i++) { strcat(joined, out[i]); strcat(joined, " "); }
    ok(n == 6 && !strcmp(joined, "smx-x --lr 3e-3 --seed 2385 --resumed ") && out[n] == NULL,
       "argv filter drops --resume --quiet --stop-at/--stop-after/--checkpoint(-every) [=]V, keeps the rest (%s)", joined);
}

static void fill(smx_optim_t *o, smx_dtype_t t)
{
    for (size_t i = 0; i < o->total; i++) {
        double a = 2.385 * (double)i - 1.5, b = 1e-3 * (double)(i * i);
        if (t == SMX_DTYPE_F32) { ((float *)o->m)[i] = (float)a; ((float *)o->v)[i] = (float)b; }
        else { ((double *)o->m)[i] = a; ((double *)o->v)[i] = b; }
    }
    o->step = 1234;
}

static void test_roundtrip(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a.ckpt", dir);
    for (int d = 0; d < 2; d++) {
        smx_dtype_t t = d ? SMX_DTYPE_F64 : SMX_DTYPE_F32;
        size_t len[2] = {7, 13};
        smx_optim_cfg_t cfg;
        smx_optim_cfg_default(&cfg, SMX_OPTIM_ADAMW);
        smx_optim_t *a, *b;
        smx_optim_alloc(&a, &cfg, t, len, 2);
        smx_optim_alloc(&b, &cfg, t, len, 2);
        fill(a, t);
        gsl_rng *r1 = smx_rng_alloc(99), *r2 = smx_rng_alloc(5);
        for (int i = 0; i < 17; i++) gsl_rng_get(r1);
        smx_ckpt_t *c = smx_run_ckpt_new("lr=0.003 seed=2385", 42);
        int st = c ? smx_run_put_optim(c, a) : SMX_ENOMEM;
        if (!st) st = smx_run_put_rng(c, "rng", r1);
        if (!st) st = smx_ckpt_write(c, path);
        smx_ckpt_free(c);
        ok(st == SMX_OK, "%s: checkpoint with optimiser and RNG written", d ? "f64" : "f32");
        long step = -1;
        const char *why = NULL;
        st = smx_run_ckpt_open(&c, &step, &why, path, "lr=0.003 seed=2385");
        ok(st == SMX_OK && step == 42, "reopened with the same fingerprint: step 42");
        if (st == SMX_OK) {
            size_t bytes = a->total * (d ? 8 : 4);
            ok(smx_run_get_optim(b, c) == SMX_OK && b->step == 1234 && !memcmp(a->m, b->m, bytes) && !memcmp(a->v, b->v, bytes),
               "optimiser state (step, m, v) restored bit for bit");
            ok(smx_run_get_rng(r2, c, "rng") == SMX_OK, "rng state restored");
            int same = 1;
            for (int i = 0; i < 100; i++) same &= gsl_rng_get(r1) == gsl_rng_get(r2);
            ok(same, "restored rng continues the same stream (100 draws)");
            ok(smx_run_get_rng(r2, c, "other") == SMX_EIO, "missing rng entry -> SMX_EIO");
            smx_optim_t *w;
            size_t len2[2] = {7, 14};
            smx_optim_alloc(&w, &cfg, t, len2, 2);
            ok(smx_run_get_optim(w, c) == SMX_EIO, "optimiser of another size -> SMX_EIO");
            smx_optim_free(w);
            smx_ckpt_free(c);
        }
        st = smx_run_ckpt_open(&c, &step, &why, path, "lr=0.001 seed=2385");
        ok(st == SMX_EDOM && c == NULL && why && strstr(why, "other options"), "other fingerprint -> SMX_EDOM (%s)", why);
        char msg[256];
        smx_run_fingerprint_diff(msg, sizeof msg, path, "lr=0.001 seed=2385");
        ok(!strcmp(msg, "written with lr=0.003, this run has lr=0.001"), "diff names the first field: %s", msg);
        smx_run_fingerprint_diff(msg, sizeof msg, path, "lr=0.003 seed=7");
        ok(!strcmp(msg, "written with seed=2385, this run has seed=7"), "diff names the second field: %s", msg);
        smx_run_fingerprint_diff(msg, sizeof msg, path, "lr=0.003 seed=2385 d=8");
        ok(!strcmp(msg, "written with other options"), "diff of a longer fingerprint: %s", msg);
        ok(!smx_run_ckpt_missing(path), "an existing checkpoint is not missing");
        smx_optim_free(a);
        smx_optim_free(b);
        gsl_rng_free(r1);
        gsl_rng_free(r2);
    }
    /* missing, truncated, corrupted, foreign */
    char p2[512];
    smx_ckpt_t *c;
    long step;
    const char *why = NULL;
    snprintf(p2, sizeof p2, "%s/none.ckpt", dir);
    errno = 0;
    int st = smx_run_ckpt_open(&c, &step, &why, p2, "x");
    ok(st == SMX_EIO && errno == ENOENT && why, "missing file -> SMX_EIO, errno ENOENT (%s)", why);
    ok(smx_run_ckpt_missing(p2), "smx_run_ckpt_missing: the missing file (--resume starts afresh)");
    char msg[128];
    smx_run_fingerprint_diff(msg, sizeof msg, p2, "x");
    ok(!strcmp(msg, "written with other options"), "diff of an unreadable file: %s", msg);
    FILE *in = fopen(path, "rb");
    char buf[4096];
    size_t nb = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (in) fclose(in);
    snprintf(p2, sizeof p2, "%s/trunc.ckpt", dir);
    FILE *out = fopen(p2, "wb");
    if (out) { fwrite(buf, 1, nb / 2, out); fclose(out); }
    st = smx_run_ckpt_open(&c, &step, &why, p2, "lr=0.003 seed=2385");
    ok(st == SMX_EIO, "truncated -> SMX_EIO (%s)", why);
    buf[nb / 3] ^= 0x40;
    out = fopen(p2, "wb");
    if (out) { fwrite(buf, 1, nb, out); fclose(out); }
    st = smx_run_ckpt_open(&c, &step, &why, p2, "lr=0.003 seed=2385");
    ok(st == SMX_EIO, "corrupted -> SMX_EIO (%s)", why);
    c = smx_ckpt_new();
    smx_ckpt_put_long(c, "epoch", 3);
    smx_ckpt_write(c, p2);
    smx_ckpt_free(c);
    st = smx_run_ckpt_open(&c, &step, &why, p2, "x");
    ok(st == SMX_EIO, "checkpoint without options / step -> SMX_EIO (%s)", why);
    remove(path);
    remove(p2);
}

static void test_clock(void)
{
    smx_run_clock_t k;
    smx_run_clock_start(&k, 10, 0, 100.0);
    int a = smx_run_clock_due(&k, 1, 105.0), b = smx_run_clock_due(&k, 2, 110.0), c = smx_run_clock_due(&k, 3, 115.0),
        d = smx_run_clock_due(&k, 4, 120.5);
    ok(a == SMX_RUN_CONTINUE && b == SMX_RUN_CKPT && c == SMX_RUN_CONTINUE && d == SMX_RUN_CKPT,
       "every 10 s: due at 110 and 120.5 (the clock restarts at each checkpoint), not at 105 / 115");
    smx_run_clock_start(&k, 0, 5, 0.0);
    int n = 0, stop_at = -1;
    for (long s = 1; s <= 8; s++) {
        int due = smx_run_clock_due(&k, s, 1e9 * (double)s);
        n += due == SMX_RUN_CKPT;
        if (due == SMX_RUN_STOP && stop_at < 0) stop_at = (int)s;
    }
    ok(n == 0 && stop_at == 5, "every 0: no interval checkpoints; stop_after 5: stop due at step 5 (%d)", stop_at);
}

int main(void)
{
    char dir[] = "/tmp/t-run.XXXXXX";
    if (!mkdtemp(dir)) { ok(0, "mkdtemp"); return tap_done(); }
    test_argv();
    test_roundtrip(dir);
    test_clock();
    rmdir(dir);
    return tap_done();
}
