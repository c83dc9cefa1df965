/* run.c - fingerprint, checkpoints, clock and argv filter of a training run (see run.h). */
#include "run.h"
#include "smx.h"
#include "cli.h"

_Static_assert(SMX_RUN_EXIT_STOPPED == SMX_EXIT_STOPPED, "one exit status for --stop-after (cli.h)");

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* 1 if a is an ignored option; *takes_value = 1 if it is the "--opt" form of one with a value */
static int ignored(const char *a, int *takes_value)
{
    static const char *const opts[] = {"--resume", "--quiet", NULL};
    static const char *const valued[] = {"--stop-at", "--stop-after", "--checkpoint", "--checkpoint-every", NULL};
    *takes_value = 0;
    for (int i = 0; opts[i]; i++)
        if (!strcmp(a, opts[i])) return 1;
    for (int i = 0; valued[i]; i++) {
        size_t l = strlen(valued[i]);
        if (!strncmp(a, valued[i], l) && a[l] == '=') return 1;
        if (!strcmp(a, valued[i])) { *takes_value = 1; return 1; }
    }
    return 0;
}

int smx_run_argv_filter(char **out, int argc, char **argv)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        int tv;
        if (ignored(argv[i], &tv)) { i += tv; continue; }
        out[n++] = argv[i];
    }
    out[n] = NULL;
    return n;
}

smx_ckpt_t *smx_run_ckpt_new(const char *fingerprint, long step)
{
    smx_ckpt_t *c = smx_ckpt_new();
    if (!c) return NULL;
    if (smx_ckpt_put_str(c, "options", fingerprint) || smx_ckpt_put_long(c, "step", step)) {
        smx_ckpt_free(c);
        return NULL;
    }
    return c;
}

int smx_run_ckpt_open(smx_ckpt_t **c, long *step, const char **why, const char *path, const char *fingerprint)
{
    const char *w = NULL;
    errno = 0;
    int st = smx_ckpt_read(c, &w, path);
    if (st != SMX_OK) {
        int e = errno;
        if (why) *why = w ? w : e == ENOENT ? "no such file" : e ? "cannot be read" : "truncated or invalid";
        errno = e;
        return st == SMX_ENOMEM ? st : SMX_EIO;
    }
    const char *fp = smx_ckpt_get_str(*c, "options");
    if (!fp || smx_ckpt_get_long(step, *c, "step") || *step < 0) {
        if (why) *why = "not a training checkpoint (no options / step entry)";
        st = SMX_EIO;
    } else if (strcmp(fp, fingerprint)) {
        if (why) *why = "written with other options";
        st = SMX_EDOM;
    }
    if (st != SMX_OK) {
        smx_ckpt_free(*c);
        *c = NULL;
    }
    return st;
}

int smx_run_ckpt_missing(const char *path)
{
    struct stat sb;
    return stat(path, &sb) != 0 && errno == ENOENT;
}

/* length of the field at s (up to a space or the end) */
static size_t field_len(const char *s) { return strcspn(s, " "); }

void smx_run_fingerprint_diff(char *msg, size_t size, const char *path, const char *fingerprint)
{
    smx_ckpt_t *c = NULL;
    const char *why, *old = NULL;
    if (smx_ckpt_read(&c, &why, path) != SMX_OK) c = NULL;
    if (c) old = smx_ckpt_get_str(c, "options");
    if (!old) {
        snprintf(msg, size, "written with other options");
        if (c) smx_ckpt_free(c);
        return;
    }
    const char *a = old, *b = fingerprint;
    for (;;) {
        size_t la = field_len(a), lb = field_len(b);
        if (la != lb || memcmp(a, b, la)) {
            snprintf(msg, size, "written with %.*s, this run has %.*s", (int)la, a, (int)lb, b);
            break;
        }
        if (!a[la] || !b[lb]) { snprintf(msg, size, "written with other options"); break; }
        a += la + 1, b += lb + 1;
    }
    smx_ckpt_free(c);
}

int smx_run_get_blob(void *dst, const smx_ckpt_t *c, const char *name, size_t size)
{
    size_t n;
    const void *p = smx_ckpt_get(c, name, &n);
    if (!p || n != size) return SMX_EIO;
    if (size) memcpy(dst, p, size);
    return SMX_OK;
}

static size_t dtype_size(smx_dtype_t t) { return t == SMX_DTYPE_F32 ? sizeof(float) : sizeof(double); }

/* prefix + name into buf */
static const char *pkey(char *buf, size_t n, const char *prefix, const char *name)
{
    snprintf(buf, n, "%s%s", prefix, name);
    return buf;
}

int smx_run_put_optim_prefixed(smx_ckpt_t *c, const char *prefix, const smx_optim_t *o)
{
    size_t w = dtype_size(o->dtype);
    char k[300];
    int st = smx_ckpt_put_long(c, pkey(k, sizeof k, prefix, "optim_step"), o->step);
    if (!st && o->m) st = smx_ckpt_put(c, pkey(k, sizeof k, prefix, "optim_m"), o->m, o->total * w);
    if (!st && o->v) st = smx_ckpt_put(c, pkey(k, sizeof k, prefix, "optim_v"), o->v, o->total * w);
    return st;
}

int smx_run_get_optim_prefixed(smx_optim_t *o, const smx_ckpt_t *c, const char *prefix)
{
    size_t w = dtype_size(o->dtype);
    long step;
    char k[300];
    if (smx_ckpt_get_long(&step, c, pkey(k, sizeof k, prefix, "optim_step")) || step < 0) return SMX_EIO;
    if (o->m && smx_run_get_blob(o->m, c, pkey(k, sizeof k, prefix, "optim_m"), o->total * w)) return SMX_EIO;
    if (o->v && smx_run_get_blob(o->v, c, pkey(k, sizeof k, prefix, "optim_v"), o->total * w)) return SMX_EIO;
    o->step = step;
    return SMX_OK;
}

int smx_run_put_optim(smx_ckpt_t *c, const smx_optim_t *o) { return smx_run_put_optim_prefixed(c, "", o); }

int smx_run_get_optim(smx_optim_t *o, const smx_ckpt_t *c) { return smx_run_get_optim_prefixed(o, c, ""); }

static void rng_key(char *buf, size_t n, const char *name, const char *what) { snprintf(buf, n, "%s.%s", name, what); }

int smx_run_put_rng(smx_ckpt_t *c, const char *name, const gsl_rng *r)
{
    char k1[300], k2[300];
    rng_key(k1, sizeof k1, name, "type");
    rng_key(k2, sizeof k2, name, "state");
    int st = smx_ckpt_put_str(c, k1, gsl_rng_name(r));
    if (!st) st = smx_ckpt_put(c, k2, gsl_rng_state(r), gsl_rng_size(r));
    return st;
}

int smx_run_get_rng(gsl_rng *r, const smx_ckpt_t *c, const char *name)
{
    char k1[300], k2[300];
    rng_key(k1, sizeof k1, name, "type");
    rng_key(k2, sizeof k2, name, "state");
    const char *t = smx_ckpt_get_str(c, k1);
    if (!t || strcmp(t, gsl_rng_name(r))) return SMX_EIO;
    return smx_run_get_blob(gsl_rng_state(r), c, k2, gsl_rng_size(r));
}

void smx_run_clock_start(smx_run_clock_t *k, double every, long stop_after, double now)
{
    k->every = every;
    k->stop_after = stop_after;
    k->last = now;
}

int smx_run_clock_due(smx_run_clock_t *k, long step, double now)
{
    if (k->stop_after > 0 && step >= k->stop_after) { k->last = now; return SMX_RUN_STOP; }
    if (k->every > 0 && now - k->last >= k->every) { k->last = now; return SMX_RUN_CKPT; }
    return SMX_RUN_CONTINUE;
}
