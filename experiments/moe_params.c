/* moe_params.c - smx-moe (issue 13): numeric TSV tables (the data files of `fit --data`) and the parameter
 * files of multinomial-logistic experts with S classes (moe_cmds.h describes the format). */
#include "moe_cmds.h"
#include "smx.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tab_fail(char *err, size_t errlen, int st, const char *path, long line, long col, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* err = "path[:line[:col]]: message" (the location parts where known) */
static int tab_fail(char *err, size_t errlen, int st, const char *path, long line, long col, const char *fmt, ...)
{
    int k = snprintf(err, errlen, "%s", path);
    for (int part = 0; part < 2; part++) {
        long v = part ? col : line;
        if (v > 0 && line > 0 && k >= 0 && (size_t)k < errlen) k += snprintf(err + k, errlen - (size_t)k, ":%ld", v);
    }
    if (k >= 0 && (size_t)k + 2 < errlen) {
        strcpy(err + k, ": ");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + k + 2, errlen - (size_t)k - 2, fmt, ap);
        va_end(ap);
    }
    return st;
}

void moe_tab_free(moe_tab_t *t)
{
    if (t->names)
        for (size_t c = 0; c < t->ncol; c++) free(t->names[c]);
    free(t->names);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int moe_tab_read(moe_tab_t *t, char *err, size_t errlen, const char *path, size_t maxcol)
{
    memset(t, 0, sizeof *t);
    FILE *fp = fopen(path, "r");
    if (!fp) return tab_fail(err, errlen, SMX_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    char *line = NULL, **f = malloc(maxcol * sizeof *f);
    size_t cap = 0, rcap = 0;
    long lineno = 0;
    ssize_t len;
    int st = f ? SMX_OK : tab_fail(err, errlen, SMX_ENOMEM, path, 0, 0, "out of memory");
    while (!st && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        size_t nf = 0;
        for (char *s = line;;) { /* split at tabs in place */
            char *tab = strchr(s, '\t');
            if (nf < maxcol) f[nf] = s;
            nf++;
            if (!tab) break;
            *tab = 0, s = tab + 1;
        }
        if (nf > maxcol) {
            st = tab_fail(err, errlen, SMX_EDOM, path, lineno, 0, "more than %zu columns", maxcol);
            break;
        }
        if (!t->names) { /* the header */
            if (!(t->names = calloc(nf, sizeof *t->names))) {
                st = tab_fail(err, errlen, SMX_ENOMEM, path, lineno, 0, "out of memory");
                break;
            }
            t->ncol = nf;
            t->header_line = lineno;
            for (size_t c = 0; c < nf && !st; c++)
                if (!(t->names[c] = strdup(f[c]))) st = tab_fail(err, errlen, SMX_ENOMEM, path, lineno, 0, "out of memory");
            continue;
        }
        if (nf != t->ncol) {
            st = tab_fail(err, errlen, SMX_EDOM, path, lineno, (long)(nf < t->ncol ? nf + 1 : t->ncol + 1),
                          "%zu fields, want %zu", nf, t->ncol);
            break;
        }
        if (t->nrow == rcap) {
            rcap = rcap ? 2 * rcap : 64;
            double *nv = realloc(t->v, rcap * t->ncol * sizeof *nv);
            if (!nv) {
                st = tab_fail(err, errlen, SMX_ENOMEM, path, lineno, 0, "out of memory");
                break;
            }
            t->v = nv;
        }
        for (size_t c = 0; c < nf && !st; c++) {
            char *end;
            double v = strtod(f[c], &end);
            if (end == f[c] || *end || !isfinite(v))
                st = tab_fail(err, errlen, SMX_EDOM, path, lineno, (long)c + 1, "'%s' is not a finite number", f[c]);
            t->v[t->nrow * t->ncol + c] = v;
        }
        t->nrow++;
    }
    if (!st && !t->names) st = tab_fail(err, errlen, SMX_EDOM, path, 0, 0, "no header line");
    free(line);
    free(f);
    fclose(fp);
    if (st) moe_tab_free(t);
    return st;
}

long moe_tab_col(const moe_tab_t *t, const char *name)
{
    for (size_t c = 0; c < t->ncol; c++)
        if (!strcmp(t->names[c], name)) return (long)c;
    return -1;
}

/* ---- parameter files of multinomial experts ---- */

void moe_mparams_free(moe_mparams_t *p)
{
    smx_moe_free(&p->m);
    free(p->th);
    memset(p, 0, sizeof *p);
}

/* want[c] = the c-th column name of the S-class format with d inputs and S classes */
static void mcol_name(char *want, size_t len, size_t c, size_t d)
{
    if (c == 0) snprintf(want, len, "beta0");
    else if (c <= d) snprintf(want, len, "beta1_%zu", c);
    else {
        size_t q = c - d - 1, s = q / (d + 1) + 1, u = q % (d + 1);
        if (!u) snprintf(want, len, "b_%zu", s);
        else snprintf(want, len, "a_%zu_%zu", s, u);
    }
}

int moe_mparams_read(moe_mparams_t *p, char *err, size_t errlen, const char *path, size_t want_d)
{
    memset(p, 0, sizeof *p);
    moe_tab_t t;
    int st = moe_tab_read(&t, err, errlen, path, 1 + MOE_MPARAMS_DMAX + (SMX_MOE_MULT_SMAX - 1) * (MOE_MPARAMS_DMAX + 1));
    if (st) return st;
    size_t d = 0;
    for (char nm[32]; 1 + d < t.ncol; d++) { /* d: the beta1_* columns */
        snprintf(nm, sizeof nm, "beta1_%zu", d + 1);
        if (strcmp(t.names[1 + d], nm)) break;
    }
    if (moe_tab_col(&t, "b") >= 0 || moe_tab_col(&t, "var") >= 0) { /* the Gaussian format: S = 2, (b, a) */
        moe_tab_free(&t);
        if ((st = smx_moe_read(&p->m, err, errlen, path, want_d))) return st;
        p->S = 2, p->gaussian_format = 1;
        if (!(p->th = malloc(p->m.k * (p->m.d + 1) * sizeof *p->th))) {
            smx_moe_free(&p->m);
            return tab_fail(err, errlen, SMX_ENOMEM, path, 0, 0, "out of memory");
        }
        for (size_t i = 0; i < p->m.k; i++) {
            p->th[i * (p->m.d + 1)] = p->m.b[i];
            for (size_t u = 0; u < p->m.d; u++) p->th[i * (p->m.d + 1) + 1 + u] = p->m.a[i * p->m.d + u];
            p->m.var[i] = 1; /* unused by logistic experts */
        }
        return SMX_OK;
    }
    size_t rest = t.ncol - 1 - d;
    if (d == 0 || d > MOE_MPARAMS_DMAX || rest < d + 1 || rest % (d + 1)) {
        st = tab_fail(err, errlen, SMX_EDOM, path, t.header_line, 0,
                      "header has %zu columns, want beta0 beta1_1..beta1_d b a_1..a_d var (Gaussian or S = 2) or "
                      "beta0 beta1_1..beta1_d b_1 a_1_1..a_1_d .. b_S-1 a_S-1_1..a_S-1_d (d <= %d)",
                      t.ncol, MOE_MPARAMS_DMAX);
        goto out;
    }
    size_t S = rest / (d + 1) + 1;
    if (S > SMX_MOE_MULT_SMAX) {
        st = tab_fail(err, errlen, SMX_EDOM, path, t.header_line, 0, "S = %zu classes, at most %d", S, SMX_MOE_MULT_SMAX);
        goto out;
    }
    for (size_t c = 0; c < t.ncol; c++) {
        char want[48];
        mcol_name(want, sizeof want, c, d);
        if (strcmp(t.names[c], want)) {
            st = tab_fail(err, errlen, SMX_EDOM, path, t.header_line, (long)c + 1, "header column '%s', want '%s'", t.names[c], want);
            goto out;
        }
    }
    if (want_d && d != want_d) {
        st = tab_fail(err, errlen, SMX_EDOM, path, t.header_line, 0, "d = %zu, want d = %zu", d, want_d);
        goto out;
    }
    if (!t.nrow) {
        st = tab_fail(err, errlen, SMX_EDOM, path, 0, 0, "no experts (k = 0)");
        goto out;
    }
    size_t k = t.nrow, P = (S - 1) * (d + 1);
    if ((st = smx_moe_alloc(&p->m, k, d)) || !(p->th = malloc(k * P * sizeof *p->th))) {
        st = tab_fail(err, errlen, SMX_ENOMEM, path, 0, 0, "out of memory");
        goto out;
    }
    p->S = S;
    for (size_t i = 0; i < k; i++) {
        const double *r = t.v + i * t.ncol;
        p->m.beta0[i] = r[0];
        for (size_t u = 0; u < d; u++) p->m.beta1[i * d + u] = r[1 + u];
        memcpy(p->th + i * P, r + 1 + d, P * sizeof *p->th);
        p->m.b[i] = r[1 + d]; /* class 1's logit, as the S = 2 code reads it */
        for (size_t u = 0; u < d; u++) p->m.a[i * d + u] = r[2 + d + u];
        p->m.var[i] = 1;
    }
out:
    moe_tab_free(&t);
    if (st) moe_mparams_free(p);
    return st;
}

void moe_mparams_write_rows(FILE *fp, const smx_moe_t *m, const double *th, size_t S)
{
    size_t d = m->d, P = (S - 1) * (d + 1);
    char nm[48];
    for (size_t c = 0; c < 1 + d + P; c++) {
        mcol_name(nm, sizeof nm, c, d);
        fprintf(fp, "%s%s", c ? "\t" : "", nm);
    }
    fputc('\n', fp);
    for (size_t i = 0; i < m->k; i++) {
        fprintf(fp, "%.17g", m->beta0[i]);
        for (size_t u = 0; u < d; u++) fprintf(fp, "\t%.17g", m->beta1[i * d + u]);
        for (size_t q = 0; q < P; q++) fprintf(fp, "\t%.17g", th[i * P + q]);
        fputc('\n', fp);
    }
}
