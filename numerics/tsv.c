/* tsv.c - atomic TSV writer (see tsv.h). */
#include "tsv.h"
#include "smx.h"

#include <errno.h>
#include <gmp.h>
#include <gsl/gsl_version.h>
#include <math.h>
#include <mpfr.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SMX_GIT_COMMIT
#define SMX_GIT_COMMIT "unknown"
#endif

struct smx_tsv {
    FILE *fp;
    char *path, *tmp;
    int col; /* fields written on the current row */
};

int smx_mkdir_parent(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return SMX_EIO;
    memcpy(buf, path, n + 1);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return SMX_EIO;
        *s = '/';
    }
    return SMX_OK;
}

smx_tsv_t *smx_tsv_open(const char *path)
{
    smx_tsv_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    size_t n = strlen(path);
    t->path = malloc(n + 1);
    t->tmp = malloc(n + 5);
    if (!t->path || !t->tmp || smx_mkdir_parent(path) != SMX_OK) goto fail;
    memcpy(t->path, path, n + 1);
    memcpy(t->tmp, path, n);
    memcpy(t->tmp + n, ".tmp", 5);
    t->fp = fopen(t->tmp, "w");
    if (!t->fp) goto fail;
    return t;
fail:
    free(t->path);
    free(t->tmp);
    free(t);
    return NULL;
}

void smx_tsv_meta(smx_tsv_t *t, const char *key, const char *fmt, ...)
{
    va_list ap;
    fprintf(t->fp, "# %s: ", key);
    va_start(ap, fmt);
    vfprintf(t->fp, fmt, ap);
    va_end(ap);
    fputc('\n', t->fp);
}

void smx_tsv_meta_std(smx_tsv_t *t, const char *program, int argc, char *const argv[])
{
    smx_tsv_meta(t, "program", "%s", program);
    smx_tsv_meta(t, "smx_version", "%s", SMX_VERSION);
    smx_tsv_meta(t, "git_commit", "%s", SMX_GIT_COMMIT);
    smx_tsv_meta(t, "libraries", "GSL %s, MPFR %s, GMP %s", GSL_VERSION, mpfr_get_version(), gmp_version);
    fprintf(t->fp, "# command:");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int skip_next = 0;
        if (!strcmp(a, "--out") || !strcmp(a, "--threads") || !strcmp(a, "-o")) skip_next = 1;
        if (!strncmp(a, "--out=", 6) || !strncmp(a, "--threads=", 10)) continue;
        if (skip_next) { i++; continue; }
        fprintf(t->fp, " %s", i == 0 ? program : a);
    }
    fputc('\n', t->fp);
}

void smx_tsv_header(smx_tsv_t *t, const char *columns)
{
    fprintf(t->fp, "%s\n", columns);
    t->col = 0;
}

static void sep(smx_tsv_t *t)
{
    if (t->col++) fputc('\t', t->fp);
}

void smx_tsv_num(smx_tsv_t *t, double x)
{
    sep(t);
    if (isnan(x)) fputs("nan", t->fp);
    else if (isinf(x)) fputs(x > 0 ? "inf" : "-inf", t->fp);
    else fprintf(t->fp, "%.17g", x);
}

void smx_tsv_int(smx_tsv_t *t, long long x)
{
    sep(t);
    fprintf(t->fp, "%lld", x);
}

void smx_tsv_str(smx_tsv_t *t, const char *s)
{
    sep(t);
    fputs(s, t->fp);
}

void smx_tsv_endrow(smx_tsv_t *t)
{
    fputc('\n', t->fp);
    t->col = 0;
}

FILE *smx_tsv_stream(smx_tsv_t *t) { return t->fp; }

static void tsv_free(smx_tsv_t *t)
{
    free(t->path);
    free(t->tmp);
    free(t);
}

int smx_tsv_close(smx_tsv_t *t)
{
    int bad = ferror(t->fp) | fflush(t->fp);
    bad |= fsync(fileno(t->fp));
    bad |= fclose(t->fp);
    if (!bad) bad = rename(t->tmp, t->path);
    if (bad) remove(t->tmp);
    tsv_free(t);
    return bad ? SMX_EIO : SMX_OK;
}

void smx_tsv_abort(smx_tsv_t *t)
{
    fclose(t->fp);
    remove(t->tmp);
    tsv_free(t);
}

int smx_file_write_atomic(const char *path, const void *data, size_t size)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp) return SMX_ENOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    int bad = smx_mkdir_parent(path) != SMX_OK;
    FILE *fp = bad ? NULL : fopen(tmp, "wb");
    if (!fp) bad = 1;
    else {
        bad |= fwrite(data, 1, size, fp) != size;
        bad |= fflush(fp);
        bad |= fsync(fileno(fp));
        bad |= fclose(fp);
        if (!bad) bad = rename(tmp, path);
        if (bad) remove(tmp);
    }
    free(tmp);
    return bad ? SMX_EIO : SMX_OK;
}
