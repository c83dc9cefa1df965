/* dispersion_io.c - what every smx-dispersion subcommand does around its computation: the
 * data's standard metadata, default and sibling output paths, the log-spaced n grid, list
 * metadata, common options and the exit status (declared in dispersion_io.h). */
#include "dispersion_io.h"
#include "smx.h"
#include "tsv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dispersion_cmd_init(dispersion_cmd_t *cmd, int argc, char **argv)
{
    smx_cli_common_init(&cmd->c);
    cmd->quiet = 0;
    cmd->argc = argc, cmd->argv = argv;
    cmd->meta_argc = 0, cmd->meta_argv = NULL;
    optind = 1, opterr = 0;
}

void dispersion_meta_std(smx_tsv_t *t, const char *prog, const dispersion_cmd_t *cmd)
{
    if (cmd->meta_argv) smx_tsv_meta_std(t, prog, cmd->meta_argc, cmd->meta_argv);
    else {
        char **kept = malloc(((size_t)cmd->argc + 1) * sizeof *kept);
        int n = 0;
        for (int i = 0; kept && i < cmd->argc; i++)
            if (i == 0 || strcmp(cmd->argv[i], "--quiet")) kept[n++] = cmd->argv[i];
        smx_tsv_meta_std(t, prog, kept ? n : cmd->argc, kept ? kept : cmd->argv);
        free(kept);
    }
    smx_cli_meta(t, &cmd->c);
}

const char *dispersion_out(char *buf, size_t size, const smx_cli_common_t *c, const char *name)
{
    if (c->out) return c->out;
    snprintf(buf, size, "data/%s/dispersion-%s.tsv", c->profile == SMX_PROFILE_PAPER ? "paper" : "quick", name);
    return buf;
}

void dispersion_common_or_fail(dispersion_cmd_t *cmd, int opt, const char *arg, const char *prog, const char *usage)
{
    smx_cli_common_or_quiet(&cmd->c, &cmd->quiet, opt, arg, prog, usage, cmd->argc, cmd->argv);
}

int dispersion_exit(const char *prog, const char *out, int st)
{
    if (st == SMX_OK) return 0;
    if (st == SMX_EIO || (st == SMX_ENOMEM && errno == ENOMEM)) {
        int e = errno ? errno : EIO;
        fprintf(stderr, "%s: writing %s: %s\n", prog, out, strerror(e));
        return e == ENOMEM ? SMX_EXIT_NOMEM : SMX_EXIT_IO;
    }
    if (st == SMX_ENOMEM) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return SMX_EXIT_NOMEM;
    }
    fprintf(stderr, "%s: computation failed: %s\n", prog, smx_strerror(st));
    return SMX_EXIT_FAILURE;
}

int dispersion_files_open(dispersion_files_t *f, const char *out, const char *const *suffixes)
{
    memset(f, 0, sizeof *f);
    snprintf(f->failed, sizeof f->failed, "%s", out);
    for (size_t i = 0; !i || suffixes[i - 1]; i++) {
        if (i == DISPERSION_FILES_MAX) return dispersion_files_close(f, SMX_EDOM);
        f->path[i] = i ? dispersion_sibling(out, suffixes[i - 1]) : strdup(out);
        if (!f->path[i]) {
            errno = ENOMEM;
            return dispersion_files_close(f, SMX_ENOMEM);
        }
        f->n = i + 1;
        f->t[i] = smx_tsv_open(f->path[i]);
        if (!f->t[i]) {
            snprintf(f->failed, sizeof f->failed, "%s", f->path[i]);
            int e = errno;
            dispersion_files_close(f, SMX_EIO);
            errno = e;
            return SMX_EIO;
        }
    }
    return SMX_OK;
}

int dispersion_files_close(dispersion_files_t *f, int st)
{
    if (st == SMX_OK) {
        size_t at;
        st = smx_tsv_close_all_at(f->t, f->n, &at);
        if (st && at < f->n) snprintf(f->failed, sizeof f->failed, "%s", f->path[at]);
    } else
        for (size_t i = 0; i < f->n; i++)
            if (f->t[i]) smx_tsv_abort(f->t[i]), f->t[i] = NULL;
    int e = errno;
    for (size_t i = 0; i < f->n; i++) free(f->path[i]), f->path[i] = NULL;
    errno = e;
    return st;
}

int dispersion_write_files(const char *prog, const char *out, const char *const *siblings,
                           void (*meta)(smx_tsv_t *t, const void *opts), const dispersion_write_t *write,
                           const void *opts)
{
    dispersion_files_t f;
    int st = dispersion_files_open(&f, out, siblings);
    for (size_t i = 0; i < f.n && !st; i++) {
        meta(f.t[i], opts);
        st = write[i](f.t[i], opts);
    }
    st = dispersion_files_close(&f, st);
    return dispersion_exit(prog, f.failed, st);
}

void dispersion_meta_table(smx_tsv_t *t, const dispersion_meta_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].type == 'i') smx_tsv_meta(t, m[i].key, "%d", *(const int *)m[i].value);
        else if (m[i].type == 'l') smx_tsv_meta(t, m[i].key, "%ld", *(const long *)m[i].value);
        else smx_tsv_meta(t, m[i].key, "%g", *(const double *)m[i].value);
    }
}

char *dispersion_sibling(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    if (n >= 4 && !strcmp(out + n - 4, ".tsv")) n -= 4;
    char *p = malloc(n + strlen(suffix) + 6);
    if (!p) return NULL;
    memcpy(p, out, n);
    p[n] = '-';
    strcpy(p + n + 1, suffix);
    strcat(p, ".tsv");
    return p;
}

size_t dispersion_grid(double **grid, int lo, int hi, int per)
{
    size_t cap = (size_t)(hi - lo) * per + 2, k = 0;
    double *g = malloc(cap * sizeof *g);
    if (!g) { *grid = NULL; return 0; }
    for (int i = 0; i <= (hi - lo) * per; i++) {
        double v = nearbyint(exp2(lo + (double)i / per));
        if (k == 0 || v > g[k - 1]) g[k++] = v;
    }
    *grid = g;
    return k;
}

void dispersion_meta_list(struct smx_tsv *t, const char *key, const double *v, size_t n)
{
    char buf[512] = "";
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof buf; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%g", i ? "," : "", v[i]);
    smx_tsv_meta(t, key, "%s", buf);
}
