/* bottleneck_recover.c - smx-bottleneck recover: hidden-size recovery from stacked full outputs
 * (Finlayson, Ren, Swayamdipta 2024, science/bottleneck.md "Precision").
 * Outputs of a softmax head with hidden size d, L = log softmax(H W^T + 1 b^T), have
 * rank clr(L) <= d (d + 1 with a bias); clr(L) = L (I - 11^T/V) has a built-in zero singular value
 * (the all-ones vector) when there are >= V outputs. Estimate: the largest drop of log sigma_i. */
#include "bottleneck_cmds.h"
#include "smx.h"
#include "lse.h"
#include "svd.h"
#include "tsv.h"
#include "rng.h"
#include "machine.h"
#include "progress.h"

#include <errno.h>
#include <float.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ model */

void bottleneck_model_gen(double *H, double *W, double *b, gsl_rng *r, size_t n, size_t v, size_t d,
                          bottleneck_head_t head, int bias)
{
    for (size_t i = 0; i < n * d; i++) H[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    for (size_t j = 0; j < v; j++)
        for (size_t k = 0; k < d; k++) {
            double w = gsl_ran_gaussian_ziggurat(r, 1.0);
            /* anisotropic head: column k (1-based) scaled k^-2 (science/bottleneck.md) */
            W[j * d + k] = head == BOTTLENECK_HEAD_ANISO ? w / ((double)(k + 1) * (double)(k + 1)) : w;
        }
    if (b)
        for (size_t j = 0; j < v; j++) b[j] = bias ? gsl_ran_gaussian_ziggurat(r, 1.0) : 0.0;
}

void bottleneck_logprobs(double *L, const double *H, const double *W, const double *b, size_t n, size_t v, size_t d)
{
    /* Z = H W^T (+ 1 b^T); L = Z - lse(Z) row-wise */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)v, (int)d, 1.0, H, (int)d, W, (int)d, 0.0, L,
                (int)v);
    for (size_t i = 0; i < n; i++) {
        double *z = L + i * v;
        if (b)
            for (size_t j = 0; j < v; j++) z[j] += b[j];
        double m = smx_lse_f64(z, v);
        for (size_t j = 0; j < v; j++) z[j] -= m;
    }
}

void bottleneck_clr(double *U, const double *L, size_t n, size_t v)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < v; j++) s += L[i * v + j];
        s /= (double)v;
        for (size_t j = 0; j < v; j++) U[i * v + j] = L[i * v + j] - s;
    }
}

/* ------------------------------------------------------------------ precisions */

int bottleneck_prec_get(bottleneck_prec_t *p, const char *name)
{
    memset(p, 0, sizeof *p);
    if (!strncmp(name, "dec", 3)) {
        long k;
        if (smx_cli_long(&k, name + 3, 1, 12)) return SMX_EDOM;
        p->decimals = (int)k;
        snprintf(p->name, sizeof p->name, "dec%ld", k);
        return SMX_OK;
    }
    if (smx_format_get(&p->fmt, name) || !smx_format_has_fast(&p->fmt)) return SMX_EDOM;
    snprintf(p->name, sizeof p->name, "%s", p->fmt.name);
    return SMX_OK;
}

void bottleneck_prec_round(double *x, size_t len, const bottleneck_prec_t *p)
{
    if (p->decimals > 0) {
        /* k decimals, as an API prints them: nearbyint(x 10^k) / 10^k (round half to even) */
        double s = pow(10.0, p->decimals);
        for (size_t i = 0; i < len; i++) x[i] = nearbyint(x[i] * s) / s;
        return;
    }
    for (size_t i = 0; i < len; i++) x[i] = smx_format_round(x[i], &p->fmt);
}

/* ------------------------------------------------------------------ API with top-k and a logit bias */

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

int bottleneck_api_logprobs(double *L, size_t n, size_t v, size_t topk, double B, const bottleneck_prec_t *p)
{
    /* Each output row: the API returns the top-k log-probs (rounded); every other token j is queried with a
     * logit bias B on it, which returns lq = log p'_j = log p_j + B - log1p(p_j (e^B - 1)) (rounded), and
     * Finlayson et al.'s formula gives back log p_j = lq - log(e^B - e^{B + lq} + e^{lq}). */
    double *c = malloc(v * sizeof *c), eB = exp(B), em1 = expm1(B);
    if (!c) return SMX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        double *l = L + i * v;
        memcpy(c, l, v * sizeof *c);
        qsort(c, v, sizeof *c, cmp_desc);
        double kth = topk == 0 ? INFINITY : c[(topk < v ? topk : v) - 1]; /* top-k: l_j >= kth */
        for (size_t j = 0; j < v; j++) {
            double r[1];
            if (l[j] >= kth) { /* returned directly */
                r[0] = l[j];
                bottleneck_prec_round(r, 1, p);
                l[j] = r[0];
                continue;
            }
            r[0] = l[j] + B - log1p(exp(l[j]) * em1); /* log p'_j, then rounded as returned */
            bottleneck_prec_round(r, 1, p);
            l[j] = r[0] - log(eB - exp(B + r[0]) + exp(r[0]));
        }
    }
    free(c);
    return SMX_OK;
}

/* ------------------------------------------------------------------ estimates */

static double lg(double s, double s1)
{
    double f = DBL_MIN * (s1 > 0 ? s1 : 1);
    return log10(s > f ? s : f);
}

double bottleneck_gap_at(const double *s, size_t k, size_t i)
{
    if (i < 1 || i >= k) return 0;
    return lg(s[i - 1], s[0]) - lg(s[i], s[0]);
}

static void estimate(bottleneck_estimate_t *e, const double *s, size_t k, double tol, int exclude_last)
{
    e->d_count = 0;
    for (size_t i = 0; i < k; i++) e->d_count += s[i] > tol;
    size_t last = exclude_last ? k - 2 : k - 1; /* largest admissible 1-based i */
    e->d_gap = k, e->gap_decades = 0;
    if (k < 3 || last < 1) return;
    for (size_t i = 1; i <= last; i++) {
        double g = bottleneck_gap_at(s, k, i);
        if (i == 1 || g > e->gap_decades) e->gap_decades = g, e->d_gap = i;
    }
}

void bottleneck_estimate(bottleneck_estimate_t *e, const double *s, size_t k, double tol)
{
    estimate(e, s, k, tol, 1);
}

/* ------------------------------------------------------------------ file reader */

static int fail_msg(char *err, size_t len, int st, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_msg(char *err, size_t len, int st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return st;
}

static int check_value(double x, int allow_neginf)
{
    return !(isnan(x) || (isinf(x) && (x > 0 || !allow_neginf)));
}

/* The readers' common end: close f, free the scratch buffer; on success *a = buf, else buf freed. */
static int read_finish(double **a, double *buf, int st, FILE *f, void *scratch)
{
    fclose(f);
    free(scratch);
    if (st) free(buf);
    else *a = buf;
    return st;
}

static int read_tsv(double **a, size_t *rows, size_t *cols, const char *path, int allow_neginf, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) return fail_msg(err, errlen, SMX_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, n = 0, nc = 0, acap = 0, lineno = 0;
    double *buf = NULL;
    ssize_t len;
    int st = SMX_OK;
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (line[0] == '#' || len == 0) continue;
        size_t c = 0;
        char *p = line;
        for (;;) {
            char *tab = strchr(p, '\t');
            if (tab) *tab = '\0';
            double x;
            if (smx_cli_double(&x, p) || !check_value(x, allow_neginf)) {
                st = fail_msg(err, errlen, SMX_EDOM, "%s:%zu: column %zu: '%s' is not %s", path, lineno, c + 1, p,
                              smx_cli_double(&x, p) ? "a number" : allow_neginf ? "finite or -inf" : "finite");
                goto done;
            }
            if (n * (nc ? nc : 0) + c >= acap) {
                acap = acap ? 2 * acap : 4096;
                double *nb = realloc(buf, acap * sizeof *buf);
                if (!nb) {
                    st = fail_msg(err, errlen, SMX_ENOMEM, "%s: out of memory", path);
                    goto done;
                }
                buf = nb;
            }
            buf[n * nc + c] = x; /* nc is 0 on the first row: n == 0 there */
            c++;
            if (!tab) break;
            p = tab + 1;
        }
        if (n == 0) nc = c;
        else if (c != nc) {
            st = fail_msg(err, errlen, SMX_EDOM, "%s:%zu: ragged row: %zu fields, expected %zu", path, lineno, c, nc);
            goto done;
        }
        n++;
    }
    if (ferror(f)) st = fail_msg(err, errlen, SMX_EIO, "%s: read error", path);
    else if (n == 0) st = fail_msg(err, errlen, SMX_EDOM, "%s: no data rows", path);
done:
    if (!st) *rows = n, *cols = nc;
    return read_finish(a, buf, st, f, line);
}

int bottleneck_read_matrix(double **a, size_t *rows, size_t *cols, const char *path, bottleneck_file_fmt_t fmt,
                           int allow_neginf, char *err, size_t errlen)
{
    if (fmt == BOTTLENECK_FILE_TSV) return read_tsv(a, rows, cols, path, allow_neginf, err, errlen);
    size_t r = *rows, c = *cols, es = fmt == BOTTLENECK_FILE_F32 ? 4 : 8;
    if (r == 0 || c == 0) return fail_msg(err, errlen, SMX_EDOM, "%s: raw input needs --rows and --cols", path);
    FILE *f = fopen(path, "rb");
    if (!f) return fail_msg(err, errlen, SMX_EIO, "%s: %s", path, strerror(errno));
    double *buf = malloc(r * c * sizeof *buf);
    unsigned char *raw = malloc(r * c * es + 1);
    int st = SMX_OK;
    if (!buf || !raw) {
        st = fail_msg(err, errlen, SMX_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    size_t got = fread(raw, 1, r * c * es + 1, f);
    if (got != r * c * es) {
        st = fail_msg(err, errlen, SMX_EDOM, "%s: wrong size: %s%zu bytes, expected %zu (%zu x %zu %s)", path,
                      got > r * c * es ? "more than " : "", got > r * c * es ? r * c * es : got, r * c * es, r, c,
                      es == 4 ? "float32" : "float64");
        goto done;
    }
    for (size_t i = 0; i < r * c; i++) {
        double x;
        if (es == 4) {
            float y;
            memcpy(&y, raw + 4 * i, 4);
            x = y;
        } else
            memcpy(&x, raw + 8 * i, 8);
        if (!check_value(x, allow_neginf)) {
            st = fail_msg(err, errlen, SMX_EDOM, "%s: row %zu, column %zu: %g is not %s", path, i / c + 1, i % c + 1,
                          x, allow_neginf ? "finite or -inf" : "finite");
            goto done;
        }
        buf[i] = x;
    }
done:
    return read_finish(a, buf, st, f, raw);
}

int bottleneck_file_shape(size_t *rows, size_t *cols, const char *path, bottleneck_file_fmt_t fmt)
{
    struct stat sb;
    if (stat(path, &sb) || !S_ISREG(sb.st_mode)) return 0;
    if (fmt != BOTTLENECK_FILE_TSV) /* the given --rows x --cols, if the size agrees (else the reader says so) */
        return (double)sb.st_size == (double)*rows * (double)*cols * (fmt == BOTTLENECK_FILE_F32 ? 4 : 8);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    const double size = (double)sb.st_size, cap = 64e6;
    double skipped = 0, len = 0, tabs = 0;
    int c, start = 1, comment = 0;
    /* skip '#' and blank lines; count the first data row's bytes and tabs */
    while ((c = getc(f)) != EOF && len < cap) {
        if (start && c == '\n') { skipped++; continue; }
        if (start) comment = c == '#', start = 0;
        if (comment) {
            skipped++;
            if (c == '\n') start = 1;
            continue;
        }
        len++, tabs += c == '\t';
        if (c == '\n') break;
    }
    fclose(f);
    if (len == 0) return 0; /* no data row: the reader says so */
    if (len >= cap) *rows = 1, *cols = (size_t)(size / 2 + 1);
    else *cols = (size_t)tabs + 1, *rows = (size_t)ceil((size - skipped) / len);
    return 1;
}

void bottleneck_read_matrix_or_fail(double **a, size_t *rows, size_t *cols, const char *path,
                                    bottleneck_file_fmt_t fmt, int allow_neginf, const char *prog)
{
    char err[512];
    int st = bottleneck_read_matrix(a, rows, cols, path, fmt, allow_neginf, err, sizeof err);
    if (st) smx_cli_die(st == SMX_ENOMEM ? SMX_EXIT_NOMEM : SMX_EXIT_USAGE, prog, "%s", err);
}

/* ------------------------------------------------------------------ helpers */

char *bottleneck_sibling(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    const char *base = out;
    if (n >= 4 && !strcmp(out + n - 4, ".tsv")) n -= 4;
    char *s = malloc(n + strlen(suffix) + 6);
    if (s) sprintf(s, "%.*s-%s.tsv", (int)n, base, suffix);
    return s;
}

smx_tsv_t *bottleneck_tsv_open_or_fail(const char *out, const char *prog, const smx_cli_common_t *c, int argc,
                                       char **argv)
{
    smx_tsv_t *ts = smx_tsv_open(out);
    if (!ts) smx_cli_io_fail(prog, "--out: cannot write", out);
    smx_tsv_meta_std(ts, prog, argc, argv);
    smx_cli_meta(ts, c);
    return ts;
}

int bottleneck_parse_choices(int *v, int max, const char *s, const char *const *names, const char *prog,
                             const char *opt)
{
    int n = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int k = smx_cli_choice_or_fail(tok, names, prog, opt);
        for (int i = 0; i < n; i++)
            if (v[i] == k) smx_cli_fail(prog, "%s: '%s' repeated", opt, tok);
        if (n == max) smx_cli_fail(prog, "%s: at most %d values", opt, max);
        v[n++] = k;
    }
    if (n == 0) smx_cli_fail(prog, "%s: empty list", opt);
    return n;
}

void bottleneck_threads(int t)
{
    smx_svd_blas_single_thread();
    if (t > 0) omp_set_num_threads(t);
}

/* ------------------------------------------------------------------ subcommand */

static const char prog[] = "smx-bottleneck recover";
static const char usage[] =
    "Usage: smx-bottleneck recover [OPTIONS]\n"
    "       smx-bottleneck recover --file F [--file-format tsv|f32|f64 --rows R --cols C]\n"
    "Hidden-size recovery (Finlayson et al. 2024): N outputs of a random softmax head with hidden size d,\n"
    "L = log softmax(H W^T + 1 b^T), H, W, b ~ N(0,1) (anisotropic head: column k of W scaled k^-2),\n"
    "rounded to each output precision (the log-probs are rounded, as an API returns them: an IEEE-like\n"
    "format or K decimals; no probability is rounded, so no -inf appears), then the clr transform and its\n"
    "singular values (LAPACK dgesdd). Estimates: d_gap = argmax_i log(s_i / s_{i+1}) (with >= V outputs the\n"
    "last gap, into clr's built-in zero, is excluded) and d_count = #{s_i > tol} (Carlini et al.'s rule).\n"
    "Success: d_gap = d (d + 1 with a bias). The N sweep uses the first N outputs of each model.\n"
    "  --vocab V          tokens (quick 500, paper 1000)\n"
    "  --outputs N        largest number of outputs (quick 600, paper 1200)\n"
    "  --hidden d         hidden size (quick 50, paper 100)\n"
    "  --seeds S          models per setting (quick 5, paper 20)\n"
    "  --precisions LIST  default fp64,fp32,fp16,bf16,fp8-e4m3,dec4,dec2 (formats with p <= 53, decK)\n"
    "  --heads LIST       flat,aniso (default both)   --bias LIST   0,1 (default both)\n"
    "  --tol X            Carlini threshold (default 1e-2)\n"
    "  --svd lapack|gsl   backend (default lapack)\n"
    "  --api-topk K       outputs as an API exposes them: the top-K log-probs, every other token from a query\n"
    "                     with --logit-bias B (default 20) on it: the biased log p' (rounded to the precision)\n"
    "                     gives log p = log p' - log(e^B - e^(B + log p') + p') (Finlayson et al. 2024)\n"
    "  --file F           estimate the hidden size of a matrix of log-probs (one output per row); prints\n"
    "                     '#' lines, then 'hidden_size N' as stdout's last line (N = rank of the clr outputs:\n"
    "                     d, or d + 1 with a bias). Columns holding -inf (underflowed probabilities) are dropped.\n"
    "  --file-format tsv|f32|f64 (default tsv: tab-separated, no header, '#' lines skipped); raw needs\n"
    "  --rows R --cols C\n"
    "  --seed N --out FILE (default data/PROFILE/bottleneck-recovery.tsv; also -summary.tsv, -spectra.tsv)\n"
    "  --profile quick|paper --threads N --quiet (no progress or timings on stderr) --help --version\n";

enum { O_V = SMX_OPT_FIRST_PRIVATE, O_N, O_D, O_SEEDS, O_PREC, O_HEADS, O_BIAS, O_TOL, O_SVD, O_FILE, O_FFMT, O_ROWS,
       O_COLS, O_TOPK, O_LBIAS };

#define MAXPREC 12
#define MAXGRID 16

typedef struct {
    long v, n, d, seeds;
    bottleneck_prec_t prec[MAXPREC];
    size_t nprec;
    int heads[2], nheads, biases[2], nbiases;
    double tol;
    smx_svd_method_t svd;
    const char *file;
    bottleneck_file_fmt_t ffmt;
    long rows, cols;
    long topk;      /* >= 0: outputs through the API simulation (top-k + logit-bias queries) */
    double lbias;   /* the logit bias B of those queries */
    smx_cli_common_t c;
    int quiet;
} opts_t;

typedef struct {
    size_t d_gap, d_count;
    double gap_true, gap_max;
} rec_t;

/* Memory of recover --file on an r x c matrix: the matrix (the TSV reader's doubling buffer: up to 2 r c),
 * the clr outputs and the SVD's copy (r c each) and dgesdd's workspace (below min(r, c)^2 + 10 (r + c)). */
static double recover_file_bytes(size_t r, size_t c)
{
    double R = (double)r, C = (double)c, k = fmin(R, C);
    return 8 * (4 * R * C + k * k + 10 * (R + C));
}

static int run_file(const opts_t *o)
{
    double *a = NULL;
    size_t r = (size_t)o->rows, c = (size_t)o->cols;
    char what[160];
    /* up front, from the file's size and first row (raw: --rows x --cols), then exactly once it is read */
    if (bottleneck_file_shape(&r, &c, o->file, o->ffmt)) {
        snprintf(what, sizeof what, "--file (about %zu x %zu from its size and first row)", r, c);
        smx_cli_mem_or_fail(recover_file_bytes(r, c), what, prog);
    }
    bottleneck_read_matrix_or_fail(&a, &r, &c, o->file, o->ffmt, 1, prog);
    snprintf(what, sizeof what, "--file (%zu x %zu)", r, c);
    smx_cli_mem_or_fail_free(recover_file_bytes(r, c), what, prog, a);
    int st;
    /* drop columns with -inf (probabilities that underflowed to 0) */
    size_t keep = 0;
    for (size_t j = 0; j < c; j++) {
        int bad = 0;
        for (size_t i = 0; i < r && !bad; i++) bad = isinf(a[i * c + j]);
        if (bad) continue;
        for (size_t i = 0; i < r; i++) a[i * c + keep] = a[i * c + j];
        keep++;
    }
    if (keep < 2 || r < 2) {
        fprintf(stderr, "%s: %s: need at least 2 outputs and 2 finite columns (have %zu x %zu)\n", prog, o->file, r,
                keep);
        free(a);
        return SMX_EXIT_USAGE;
    }
    double *U = malloc(r * keep * sizeof *U);
    for (size_t i = 0; i < r; i++) memmove(a + i * keep, a + i * c, keep * sizeof *a);
    size_t k = r < keep ? r : keep;
    double *s = malloc(k * sizeof *s);
    if (!U || !s) {
        free(a), free(U), free(s);
        smx_cli_die(SMX_EXIT_NOMEM, prog, "out of memory (%zu x %zu outputs)", r, keep);
    }
    bottleneck_clr(U, a, r, keep);
    st = smx_svd_values(s, U, r, keep, o->svd);
    if (st) {
        fprintf(stderr, "%s: SVD failed: %s\n", prog, smx_strerror(st));
        free(a), free(U), free(s);
        return st == SMX_ENOMEM ? SMX_EXIT_NOMEM : SMX_EXIT_FAILURE;
    }
    bottleneck_estimate_t e;
    estimate(&e, s, k, o->tol, r >= keep);
    printf("# outputs %zu, tokens %zu (%zu columns with -inf dropped), svd %s\n", r, keep, c - keep,
           smx_svd_method_name(o->svd));
    printf("# sigma_1 %.17g, sigma_d %.17g, sigma_d+1 %.17g\n", s[0], s[e.d_gap - 1], e.d_gap < k ? s[e.d_gap] : 0.0);
    printf("# largest gap after index %zu: %.6g decades; count of sigma > %g: %zu\n", e.d_gap, e.gap_decades, o->tol,
           e.d_count);
    if (e.d_gap >= k - 1 && r < keep)
        printf("# warning: the gap is at the last index: fewer outputs than the hidden size + 2?\n");
    printf("hidden_size %zu\n", e.d_gap);
    free(a), free(U), free(s);
    return 0;
}

/* N grid: d/2, d, d+1, d+2, d+5, 3d/2, 2d, 4d, N (clipped to N, ascending, unique). */
static size_t make_grid(size_t *g, size_t d, size_t n)
{
    size_t c[] = {(d + 1) / 2, d, d + 1, d + 2, d + 5, (3 * d + 1) / 2, 2 * d, 4 * d, n}, m = 0;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        size_t x = c[i] < n ? c[i] : n;
        if (x < 2) x = 2;
        if (m == 0 || x > g[m - 1]) g[m++] = x;
    }
    return m;
}

static int run(const opts_t *o, const char *out, int argc, char **argv)
{
    const size_t V = (size_t)o->v, N = (size_t)o->n, d = (size_t)o->d, S = (size_t)o->seeds;
    const size_t ncombo = (size_t)(o->nheads * o->nbiases), ntask = ncombo * S, K = N < V ? N : V;
    size_t grid[MAXGRID], ng = make_grid(grid, d, N);
    rec_t *rec = calloc(ntask * o->nprec * ng, sizeof *rec);
    double *spec = calloc(ncombo * o->nprec * 2 * K, sizeof *spec); /* seed 0, N outputs: raw, clr */
    int fail = 0;
    if (!rec || !spec) {
        free(rec), free(spec);
        return SMX_ENOMEM;
    }
    smx_progress_t pr;
    smx_progress_start(&pr, prog, (double)ntask, o->quiet);
    size_t done = 0;
    double t0 = smx_time_now();
#pragma omp parallel
    {
        double *H = malloc(N * d * sizeof *H), *W = malloc(V * d * sizeof *W), *b = malloc(V * sizeof *b);
        double *L = malloc(N * V * sizeof *L), *Lp = malloc(N * V * sizeof *Lp), *U = malloc(N * V * sizeof *U);
        double *s = malloc(K * sizeof *s);
        int ok = H && W && b && L && Lp && U && s;
        if (!ok) {
#pragma omp atomic write
            fail = SMX_ENOMEM;
        }
#pragma omp for schedule(dynamic)
        for (size_t t = 0; t < ntask; t++) {
            if (!ok) continue;
            size_t combo = t / S, seed = t % S;
            bottleneck_head_t head = (bottleneck_head_t)o->heads[combo / (size_t)o->nbiases];
            int bias = o->biases[combo % (size_t)o->nbiases];
            size_t dt = d + (size_t)bias;
            /* every setting of one seed draws the same H, W (and b): stream = seed index */
            gsl_rng *r = smx_rng_alloc_stream(o->c.seed, seed);
            bottleneck_model_gen(H, W, b, r, N, V, d, head, bias);
            gsl_rng_free(r);
            bottleneck_logprobs(L, H, W, bias ? b : NULL, N, V, d);
            for (size_t p = 0; p < o->nprec; p++) {
                memcpy(Lp, L, N * V * sizeof *L);
                if (o->topk >= 0) bottleneck_api_logprobs(Lp, N, V, (size_t)o->topk, o->lbias, &o->prec[p]);
                else bottleneck_prec_round(Lp, N * V, &o->prec[p]);
                for (size_t gi = 0; gi < ng; gi++) {
                    size_t n = grid[gi], k = n < V ? n : V;
                    bottleneck_clr(U, Lp, n, V);
                    int st = smx_svd_values(s, U, n, V, o->svd);
                    if (st) {
#pragma omp atomic write
                        fail = st;
                        continue;
                    }
                    bottleneck_estimate_t e;
                    estimate(&e, s, k, o->tol, n >= V);
                    rec_t *q = &rec[(t * o->nprec + p) * ng + gi];
                    q->d_gap = e.d_gap, q->d_count = e.d_count, q->gap_max = e.gap_decades;
                    q->gap_true = bottleneck_gap_at(s, k, dt);
                    if (seed == 0 && gi == ng - 1) {
                        memcpy(spec + ((combo * o->nprec + p) * 2 + 1) * K, s, K * sizeof *s);
                        st = smx_svd_values(s, Lp, N, V, o->svd);
                        if (st) {
#pragma omp atomic write
                            fail = st;
                        }
                        memcpy(spec + ((combo * o->nprec + p) * 2) * K, s, K * sizeof *s);
                    }
                }
            }
#pragma omp critical
            smx_progress_update(&pr, (double)++done);
        }
        free(H), free(W), free(b), free(L), free(Lp), free(U), free(s);
    }
    smx_progress_finish(&pr);
    if (!o->quiet) fprintf(stderr, "%s: %zu tasks in %.2f s\n", prog, ntask, smx_time_now() - t0);
    if (fail) {
        free(rec), free(spec);
        return fail;
    }
    static const char *hn[] = {"flat", "aniso"};
    char *psum = bottleneck_sibling(out, "summary"), *pspec = bottleneck_sibling(out, "spectra");
    smx_tsv_t *ts[3] = {smx_tsv_open(out), psum ? smx_tsv_open(psum) : NULL, pspec ? smx_tsv_open(pspec) : NULL};
    int st = SMX_OK;
    if (!ts[0] || !ts[1] || !ts[2]) {
        for (int i = 0; i < 3; i++)
            if (ts[i]) smx_tsv_abort(ts[i]);
        free(rec), free(spec), free(psum), free(pspec);
        return SMX_EIO;
    }
    for (int i = 0; i < 3; i++) {
        smx_tsv_meta_std(ts[i], prog, argc, argv);
        smx_cli_meta(ts[i], &o->c);
        smx_tsv_meta(ts[i], "vocab", "%ld", o->v);
        smx_tsv_meta(ts[i], "outputs", "%ld", o->n);
        smx_tsv_meta(ts[i], "hidden", "%ld", o->d);
        smx_tsv_meta(ts[i], "seeds", "%ld", o->seeds);
        smx_tsv_meta(ts[i], "tol", "%.17g", o->tol);
        smx_tsv_meta(ts[i], "svd", "%s", smx_svd_method_name(o->svd));
        if (o->topk >= 0)
            smx_tsv_meta(ts[i], "api", "top-%ld log-probs returned directly, every other token by a query with logit "
                                       "bias %.17g (its biased log-prob rounded to the precision, then Finlayson et al.'s "
                                       "formula)", o->topk, o->lbias);
        FILE *f = smx_tsv_stream(ts[i]);
        fputs("# precisions:", f);
        for (size_t p = 0; p < o->nprec; p++) fprintf(f, " %s", o->prec[p].name);
        fputs("\n# n_grid:", f);
        for (size_t g = 0; g < ng; g++) fprintf(f, " %zu", grid[g]);
        fputc('\n', f);
        smx_tsv_meta(ts[i], "model", "H, W, b ~ N(0,1); aniso: column k of W scaled k^-2; log-probs rounded to the "
                                     "precision (no probability rounded: no -inf)");
        smx_tsv_meta(ts[i], "paper_reference", "science/bottleneck.md: N=1200, V=1000, d=100 + bias, gap at index 101 "
                                               "in decades: exact 13.3, fp32 7.0, fp16 3.1, bf16 2.2 (flat head); "
                                               "k^-2 head: fp32 4.0, fp16/bf16 fail");
    }
    smx_tsv_header(ts[0], "head\tbias\tprecision\tseed\tn_outputs\td_true\td_gap\td_count\tgap_true_decades\t"
                          "gap_max_decades\tsuccess");
    smx_tsv_header(ts[1], "head\tbias\tprecision\tp_index\tn_outputs\tn_is_max\td_true\tsuccess_rate\tcount_success_rate\t"
                          "mean_gap_true_decades\tmin_gap_true_decades\tmean_d_gap");
    smx_tsv_header(ts[2], "head\tbias\tprecision\ttransform\ti\tsigma\tsigma_rel");
    for (size_t combo = 0; combo < ncombo; combo++) {
        const char *h = hn[o->heads[combo / (size_t)o->nbiases]];
        int bias = o->biases[combo % (size_t)o->nbiases];
        size_t dt = d + (size_t)bias;
        for (size_t p = 0; p < o->nprec; p++) {
            for (size_t gi = 0; gi < ng; gi++) {
                double succ = 0, csucc = 0, gsum = 0, gmin = INFINITY, dsum = 0;
                for (size_t sd = 0; sd < S; sd++) {
                    const rec_t *q = &rec[((combo * S + sd) * o->nprec + p) * ng + gi];
                    smx_tsv_str(ts[0], h), smx_tsv_int(ts[0], bias), smx_tsv_str(ts[0], o->prec[p].name);
                    smx_tsv_int(ts[0], (long long)sd), smx_tsv_int(ts[0], (long long)grid[gi]);
                    smx_tsv_int(ts[0], (long long)dt), smx_tsv_int(ts[0], (long long)q->d_gap);
                    smx_tsv_int(ts[0], (long long)q->d_count), smx_tsv_num(ts[0], q->gap_true);
                    smx_tsv_num(ts[0], q->gap_max), smx_tsv_int(ts[0], q->d_gap == dt);
                    smx_tsv_endrow(ts[0]);
                    succ += q->d_gap == dt, csucc += q->d_count == dt, gsum += q->gap_true, dsum += (double)q->d_gap;
                    if (q->gap_true < gmin) gmin = q->gap_true;
                }
                smx_tsv_str(ts[1], h), smx_tsv_int(ts[1], bias), smx_tsv_str(ts[1], o->prec[p].name);
                smx_tsv_int(ts[1], (long long)p), smx_tsv_int(ts[1], (long long)grid[gi]);
                smx_tsv_int(ts[1], gi == ng - 1), smx_tsv_int(ts[1], (long long)dt);
                smx_tsv_num(ts[1], succ / (double)S), smx_tsv_num(ts[1], csucc / (double)S);
                smx_tsv_num(ts[1], gsum / (double)S), smx_tsv_num(ts[1], gmin), smx_tsv_num(ts[1], dsum / (double)S);
                smx_tsv_endrow(ts[1]);
            }
            for (int tr = 0; tr < 2; tr++) {
                const double *sp = spec + ((combo * o->nprec + p) * 2 + (size_t)tr) * K;
                for (size_t i = 0; i < K; i++) {
                    smx_tsv_str(ts[2], h), smx_tsv_int(ts[2], bias), smx_tsv_str(ts[2], o->prec[p].name);
                    smx_tsv_str(ts[2], tr ? "clr" : "raw"), smx_tsv_int(ts[2], (long long)i + 1);
                    smx_tsv_num(ts[2], sp[i]), smx_tsv_num(ts[2], sp[0] > 0 ? sp[i] / sp[0] : 0);
                    smx_tsv_endrow(ts[2]);
                }
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        int s2 = smx_tsv_close(ts[i]);
        if (!st) st = s2;
    }
    free(rec), free(spec), free(psum), free(pspec);
    return st;
}

static size_t parse_precs(bottleneck_prec_t *p, const char *s)
{
    size_t n = 0;
    char buf[256];
    if (!*s) smx_cli_fail(prog, "--precisions: empty list");
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == MAXPREC) smx_cli_fail(prog, "--precisions: at most %d", MAXPREC);
        if (bottleneck_prec_get(&p[n], tok))
            smx_cli_fail(prog, "--precisions: unknown precision '%s' (a format with p <= 53 such as fp64, fp32, fp16, "
                               "bf16, fp8-e4m3, pN, or decK with K in 1..12)", tok);
        n++;
    }
    return n;
}

int bottleneck_cmd_recover(int argc, char **argv)
{
    static const struct option lopts[] = {
        SMX_CLI_ARG("vocab", O_V), SMX_CLI_ARG("outputs", O_N), SMX_CLI_ARG("hidden", O_D),
        SMX_CLI_ARG("seeds", O_SEEDS), SMX_CLI_ARG("precisions", O_PREC), SMX_CLI_ARG("heads", O_HEADS),
        SMX_CLI_ARG("bias", O_BIAS), SMX_CLI_ARG("tol", O_TOL), SMX_CLI_ARG("svd", O_SVD),
        SMX_CLI_ARG("file", O_FILE), SMX_CLI_ARG("file-format", O_FFMT), SMX_CLI_ARG("rows", O_ROWS),
        SMX_CLI_ARG("cols", O_COLS), SMX_CLI_ARG("api-topk", O_TOPK), SMX_CLI_ARG("logit-bias", O_LBIAS),
        BOTTLENECK_COMMON_OPTIONS, {0, 0, 0, 0}};
    static const char *const headn[] = {"flat", "aniso", NULL}, *const biasn[] = {"0", "1", NULL},
                             *const svdn[] = {"lapack", "gsl", NULL}, *const ffn[] = {"tsv", "f32", "f64", NULL};
    opts_t o = {.v = -1, .n = -1, .d = -1, .seeds = -1, .tol = 1e-2, .heads = {0, 1}, .nheads = 2,
                .biases = {0, 1}, .nbiases = 2, .topk = -1, .lbias = 20};
    smx_cli_common_init(&o.c);
    o.nprec = parse_precs(o.prec, "fp64,fp32,fp16,bf16,fp8-e4m3,dec4,dec2");
    int opt;
    optind = 1, opterr = 0; /* one line on stderr: ours */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_V: o.v = smx_cli_long_or_fail(optarg, 3, 100000, prog, "--vocab"); break;
        case O_N: o.n = smx_cli_long_or_fail(optarg, 2, 100000, prog, "--outputs"); break;
        case O_D: o.d = smx_cli_long_or_fail(optarg, 1, 100000, prog, "--hidden"); break;
        case O_SEEDS: o.seeds = smx_cli_long_or_fail(optarg, 1, 100000, prog, "--seeds"); break;
        case O_PREC: o.nprec = parse_precs(o.prec, optarg); break;
        case O_HEADS: o.nheads = bottleneck_parse_choices(o.heads, 2, optarg, headn, prog, "--heads"); break;
        case O_BIAS: o.nbiases = bottleneck_parse_choices(o.biases, 2, optarg, biasn, prog, "--bias"); break;
        case O_TOL:
            o.tol = smx_cli_double_or_fail(optarg, prog, "--tol");
            if (!(o.tol > 0 && isfinite(o.tol))) smx_cli_fail(prog, "--tol: '%s' is not a positive number", optarg);
            break;
        case O_SVD: o.svd = (smx_svd_method_t)smx_cli_choice_or_fail(optarg, svdn, prog, "--svd"); break;
        case O_FILE: o.file = optarg; break;
        case O_FFMT: o.ffmt = (bottleneck_file_fmt_t)smx_cli_choice_or_fail(optarg, ffn, prog, "--file-format"); break;
        case O_ROWS: o.rows = smx_cli_long_or_fail(optarg, 1, 1L << 24, prog, "--rows"); break;
        case O_COLS: o.cols = smx_cli_long_or_fail(optarg, 1, 1L << 24, prog, "--cols"); break;
        case O_TOPK: o.topk = smx_cli_long_or_fail(optarg, 0, 1L << 24, prog, "--api-topk"); break;
        case O_LBIAS:
            o.lbias = smx_cli_double_or_fail(optarg, prog, "--logit-bias");
            if (!(o.lbias > 0 && o.lbias <= 100)) smx_cli_fail(prog, "--logit-bias: '%s' is not in (0, 100]", optarg);
            break;
        default:
            smx_cli_common_or_quiet(&o.c, &o.quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    bottleneck_threads(o.c.threads);
    if (o.file) {
        if (o.c.out) smx_cli_fail(prog, "--out: does not apply with --file (the estimate goes to stdout)");
        if (o.ffmt != BOTTLENECK_FILE_TSV && (o.rows <= 0 || o.cols <= 0))
            smx_cli_fail(prog, "--file-format %s needs --rows and --cols", ffn[o.ffmt]);
        if (o.ffmt == BOTTLENECK_FILE_TSV && (o.rows > 0 || o.cols > 0))
            smx_cli_fail(prog, "--rows/--cols: only with --file-format f32|f64");
        return run_file(&o);
    }
    int paper = o.c.profile == SMX_PROFILE_PAPER;
    if (o.v < 0) o.v = paper ? 1000 : 500;
    if (o.n < 0) o.n = paper ? 1200 : 600;
    if (o.d < 0) o.d = paper ? 100 : 50;
    if (o.seeds < 0) o.seeds = paper ? 20 : 5;
    if (o.d + 1 >= o.v) smx_cli_fail(prog, "--hidden: %ld must be below --vocab - 1 (%ld)", o.d, o.v - 1);
    if ((double)o.n * (double)o.v > 4e8) smx_cli_fail(prog, "--outputs x --vocab: %ld x %ld is too large", o.n, o.v);
    {
        /* memory estimate, dominant arrays only: per thread H (N x d), W (V x d), L, L', U (3 N x V, run) and
         * the SVD's copy and workspace (about 2 N x V more) */
        double N = (double)o.n, V = (double)o.v, d = (double)o.d;
        smx_cli_mem_or_fail(8.0 * (double)omp_get_max_threads() * (N * d + V * d + 5.0 * N * V),
                            "--outputs x --vocab x --threads", prog);
    }
    const char *out = o.c.out ? o.c.out : paper ? "data/paper/bottleneck-recovery.tsv" : "data/quick/bottleneck-recovery.tsv";
    smx_cli_out_check_or_fail(out, prog, "--out");
    for (int k = 0; k < 2; k++) { /* the sibling files too, before any work */
        char *sib = bottleneck_sibling(out, k ? "spectra" : "summary");
        if (!sib) smx_cli_die(SMX_EXIT_NOMEM, prog, "out of memory");
        smx_cli_out_check_or_fail(sib, prog, "--out");
        free(sib);
    }
    int st = run(&o, out, argc, argv);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out);
    if (st) fprintf(stderr, "%s: writing %s: %s\n", prog, out, smx_strerror(st));
    return st == SMX_ENOMEM ? SMX_EXIT_NOMEM : st ? SMX_EXIT_FAILURE : 0;
}
