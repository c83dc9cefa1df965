/* collapse_io.c - the split and initial weights of smx-collapse as TSV files. See collapse_io.h. */
#include "collapse_io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smx.h"
#include "tsv.h"

static const char *const OPNAMES[] = {"add", "mul", "sub"};
#define SPLIT_MAGIC "smx-collapse-split 1"
#define WEIGHTS_MAGIC "smx-collapse-weights 1"
#define SPLIT_HEADER "a\tb\tlabel\tset"
#define WEIGHTS_HEADER "tensor\trow\tcol\tvalue"

int collapse_io_write_split(const char *path, const collapse_model_t *m)
{
    smx_tsv_t *t = smx_tsv_open(path);
    if (!t) return SMX_EIO;
    smx_tsv_meta(t, "format", SPLIT_MAGIC);
    smx_tsv_meta(t, "modulus", "%zu", m->V);
    smx_tsv_meta(t, "op", "%s", OPNAMES[m->cfg.op]);
    smx_tsv_meta(t, "train", "%zu", m->ntrain);
    smx_tsv_meta(t, "test", "%zu", m->ntest);
    smx_tsv_header(t, SPLIT_HEADER);
    for (int s = 0; s < 2; s++) {
        const size_t *idx = s ? m->test : m->train, n = s ? m->ntest : m->ntrain;
        for (size_t i = 0; i < n; i++) {
            smx_tsv_int(t, (long long)(idx[i] / m->V));
            smx_tsv_int(t, (long long)(idx[i] % m->V));
            smx_tsv_int(t, (long long)collapse_label(m, idx[i]));
            smx_tsv_str(t, s ? "test" : "train");
            smx_tsv_endrow(t);
        }
    }
    return smx_tsv_close(t);
}

/* the shape of tensor l: rows x W */
static size_t tensor_rows(const collapse_model_t *m, size_t l)
{
    return l == 0 ? 2 * m->V : l == m->D ? m->V : m->W;
}

int collapse_io_write_weights(const char *path, const collapse_model_t *m)
{
    smx_tsv_t *t = smx_tsv_open(path);
    if (!t) return SMX_EIO;
    smx_tsv_meta(t, "format", WEIGHTS_MAGIC);
    smx_tsv_meta(t, "modulus", "%zu", m->V);
    smx_tsv_meta(t, "width", "%zu", m->W);
    smx_tsv_meta(t, "depth", "%zu", m->D);
    smx_tsv_meta(t, "model_format", "%s", m->cfg.dtype == SMX_DTYPE_F32 ? "fp32" : "fp64");
    smx_tsv_header(t, WEIGHTS_HEADER);
    for (size_t l = 0; l <= m->D; l++)
        for (size_t r = 0; r < tensor_rows(m, l); r++)
            for (size_t c = 0; c < m->W; c++) {
                smx_tsv_int(t, (long long)l);
                smx_tsv_int(t, (long long)r);
                smx_tsv_int(t, (long long)c);
                smx_tsv_num(t, collapse_param_get(m, m->off[l] + r * m->W + c));
                smx_tsv_endrow(t);
            }
    return smx_tsv_close(t);
}

/* ---- reading: a line reader that knows the line number ---- */
typedef struct {
    FILE *f;
    char *line;
    size_t cap;
    long no;
    char *err;
    size_t errn;
    const char *path;
} rd_t;

static int rd_err(rd_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rd_err(rd_t *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errn, "%s line %ld: %s", r->path, r->no, msg);
    return SMX_EDOM;
}

/* next line without its newline; 0 at the end */
static int rd_next(rd_t *r)
{
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) return 0;
    r->no++;
    if (n > 0 && r->line[n - 1] == '\n') r->line[--n] = 0;
    return 1;
}

/* the "# format:" line, then metadata lines "# key: value" (the wanted keys' values kept as
 * longs), then the header; SMX_OK or SMX_EDOM */
static int rd_head(rd_t *r, const char *magic, const char *header, const char *const *keys, long *vals, size_t nk)
{
    char want[64];
    snprintf(want, sizeof want, "# format: %s", magic);
    if (!rd_next(r) || strcmp(r->line, want)) return rd_err(r, "not a '%s' file (the first line must be '%s')", magic, want);
    for (size_t k = 0; k < nk; k++) vals[k] = -1;
    while (rd_next(r)) {
        if (r->line[0] != '#') {
            if (strcmp(r->line, header)) return rd_err(r, "expected the header '%s'", header);
            for (size_t k = 0; k < nk; k++)
                if (vals[k] < 0) return rd_err(r, "no '# %s:' line before the header", keys[k]);
            return SMX_OK;
        }
        for (size_t k = 0; k < nk; k++) {
            size_t kl = strlen(keys[k]);
            if (!strncmp(r->line + 2, keys[k], kl) && r->line[2 + kl] == ':') {
                char *e;
                errno = 0;
                long v = strtol(r->line + 3 + kl, &e, 10);
                if (errno || e == r->line + 3 + kl || *e || v < 0) return rd_err(r, "'# %s:' is not a count", keys[k]);
                vals[k] = v;
            }
        }
    }
    return rd_err(r, "ends before the header '%s'", header);
}

/* n tab-separated fields of a data line (modified in place) */
static int rd_fields(rd_t *r, char **fld, int n)
{
    char *s = r->line;
    for (int i = 0; i < n; i++) {
        fld[i] = s;
        char *tab = strchr(s, '\t');
        if (i < n - 1) {
            if (!tab) return rd_err(r, "%d fields expected", n);
            *tab = 0;
            s = tab + 1;
        } else if (tab) return rd_err(r, "%d fields expected", n);
    }
    return SMX_OK;
}

static int rd_ulong(rd_t *r, const char *s, size_t lim, size_t *v, const char *what)
{
    char *e;
    errno = 0;
    unsigned long long x = strtoull(s, &e, 10);
    if (errno || e == s || *e || s[0] == '-' || x >= lim) return rd_err(r, "%s '%s' is not an integer in [0, %zu)", what, s, lim);
    *v = (size_t)x;
    return SMX_OK;
}

static int rd_open(rd_t *r, const char *path, char *err, size_t errn)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->err = err;
    r->errn = errn;
    if (!(r->f = fopen(path, "r"))) return SMX_EIO;
    return SMX_OK;
}

static void rd_close(rd_t *r)
{
    fclose(r->f);
    free(r->line);
}

int collapse_io_read_split(collapse_model_t *m, const char *path, char *err, size_t errn)
{
    rd_t r;
    if (rd_open(&r, path, err, errn) != SMX_OK) return SMX_EIO;
    static const char *const keys[] = {"modulus", "train", "test"};
    long v[3];
    size_t P = m->V * m->V, *tr = malloc(m->ntrain * sizeof *tr), *te = malloc(m->ntest * sizeof *te);
    unsigned char *seen = calloc(P, 1);
    int st = SMX_ENOMEM;
    if (!tr || !te || !seen) goto out;
    if ((st = rd_head(&r, SPLIT_MAGIC, SPLIT_HEADER, keys, v, 3)) != SMX_OK) goto out;
    st = SMX_EDOM;
    if ((size_t)v[0] != m->V) { rd_err(&r, "modulus %ld, the model's is %zu", v[0], m->V); goto out; }
    if ((size_t)v[1] != m->ntrain || (size_t)v[2] != m->ntest) {
        rd_err(&r, "%ld train / %ld test pairs, the model has %zu / %zu (--train-frac)", v[1], v[2], m->ntrain, m->ntest);
        goto out;
    }
    size_t ntr = 0, nte = 0;
    while (rd_next(&r)) {
        char *f[4];
        size_t a, b, y;
        if ((st = rd_fields(&r, f, 4)) || (st = rd_ulong(&r, f[0], m->V, &a, "a")) || (st = rd_ulong(&r, f[1], m->V, &b, "b")) ||
            (st = rd_ulong(&r, f[2], m->V, &y, "label")))
            goto out;
        st = SMX_EDOM;
        size_t i = a * m->V + b;
        if (y != collapse_label(m, i)) { rd_err(&r, "label %zu of (%zu, %zu) is not a %s b mod %zu", y, a, b, OPNAMES[m->cfg.op], m->V); goto out; }
        if (seen[i]) { rd_err(&r, "pair (%zu, %zu) appears twice", a, b); goto out; }
        seen[i] = 1;
        int test = !strcmp(f[3], "test");
        if (!test && strcmp(f[3], "train")) { rd_err(&r, "set '%s' is neither train nor test", f[3]); goto out; }
        if (test ? nte >= m->ntest : ntr >= m->ntrain) { rd_err(&r, "more %s rows than '# %s:' says", f[3], f[3]); goto out; }
        if (test) te[nte++] = i;
        else tr[ntr++] = i;
    }
    if (ferror(r.f)) { st = SMX_EIO; goto out; }
    if (ntr != m->ntrain || nte != m->ntest) { st = rd_err(&r, "%zu train / %zu test rows, the header says %zu / %zu", ntr, nte, m->ntrain, m->ntest); goto out; }
    memcpy(m->train, tr, ntr * sizeof *tr);
    memcpy(m->test, te, nte * sizeof *te);
    st = SMX_OK;
out:
    free(tr);
    free(te);
    free(seen);
    rd_close(&r);
    return st;
}

int collapse_io_read_weights(collapse_model_t *m, const char *path, char *err, size_t errn)
{
    rd_t r;
    if (rd_open(&r, path, err, errn) != SMX_OK) return SMX_EIO;
    static const char *const keys[] = {"modulus", "width", "depth"};
    long v[3];
    double *w = malloc(m->nparam * sizeof *w);
    int st = SMX_ENOMEM;
    if (!w) goto out;
    if ((st = rd_head(&r, WEIGHTS_MAGIC, WEIGHTS_HEADER, keys, v, 3)) != SMX_OK) goto out;
    st = SMX_EDOM;
    if ((size_t)v[0] != m->V || (size_t)v[1] != m->W || (size_t)v[2] != m->D) {
        rd_err(&r, "modulus %ld width %ld depth %ld, the model's are %zu %zu %zu", v[0], v[1], v[2], m->V, m->W, m->D);
        goto out;
    }
    size_t k = 0;
    for (size_t l = 0; l <= m->D; l++)
        for (size_t row = 0; row < tensor_rows(m, l); row++)
            for (size_t c = 0; c < m->W; c++, k++) {
                char *f[4], *e;
                size_t a[3];
                if (!rd_next(&r)) { st = ferror(r.f) ? SMX_EIO : rd_err(&r, "ends after %zu of %zu parameters", k, m->nparam); goto out; }
                if ((st = rd_fields(&r, f, 4)) || (st = rd_ulong(&r, f[0], m->D + 1, &a[0], "tensor")) ||
                    (st = rd_ulong(&r, f[1], 1u << 30, &a[1], "row")) || (st = rd_ulong(&r, f[2], 1u << 30, &a[2], "col")))
                    goto out;
                st = SMX_EDOM;
                if (a[0] != l || a[1] != row || a[2] != c) {
                    rd_err(&r, "expected tensor %zu row %zu col %zu (the model's order)", l, row, c);
                    goto out;
                }
                errno = 0;
                w[k] = strtod(f[3], &e);
                if (errno == ERANGE || e == f[3] || *e || !(w[k] - w[k] == 0)) { rd_err(&r, "value '%s' is not a finite number", f[3]); goto out; }
            }
    if (rd_next(&r)) { st = rd_err(&r, "more rows than the model's %zu parameters", m->nparam); goto out; }
    for (size_t i = 0; i < m->nparam; i++) collapse_param_set(m, i, w[i]);
    st = SMX_OK;
out:
    free(w);
    rd_close(&r);
    return st;
}
