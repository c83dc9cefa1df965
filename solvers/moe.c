/* moe.c - softmax-gated Gaussian mixture of experts: parameters, files, sampling, EM (issue 13).
 * The Voronoi losses and the Hellinger distance are in moe_loss.c. Formulas: moe.h. */
#include "moe.h"
#include "smx.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

int smx_moe_alloc(smx_moe_t *m, size_t k, size_t d)
{
    memset(m, 0, sizeof *m);
    if (k == 0 || d == 0) return SMX_EDOM;
    double *p = calloc(k * (3 + 2 * d), sizeof *p);
    if (!p) return SMX_ENOMEM;
    m->k = k;
    m->d = d;
    m->beta0 = p;
    m->beta1 = p + k;
    m->b = m->beta1 + k * d;
    m->a = m->b + k;
    m->var = m->a + k * d;
    return SMX_OK;
}

void smx_moe_free(smx_moe_t *m)
{
    if (m) free(m->beta0);
    if (m) memset(m, 0, sizeof *m);
}

void smx_moe_copy(smx_moe_t *dst, const smx_moe_t *src)
{
    memcpy(dst->beta0, src->beta0, src->k * (3 + 2 * src->d) * sizeof(double));
}

int smx_moe_paper_truth(smx_moe_t *m)
{
    int st = smx_moe_alloc(m, 2, 1);
    if (st) return st;
    m->beta0[0] = -8, m->beta1[0] = 25, m->b[0] = 15, m->a[0] = -20, m->var[0] = 0.09;
    m->beta0[1] = 0, m->beta1[1] = 0, m->b[1] = -5, m->a[1] = 20, m->var[1] = 0.16;
    return SMX_OK;
}

/* ---- parameter files ---- */

static int rd_fail(char *err, size_t errlen, int st, const char *path, long line, long col, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0 && col > 0) snprintf(err, errlen, "%s:%ld:%ld: %s", path, line, col, msg);
    else if (line > 0) snprintf(err, errlen, "%s:%ld: %s", path, line, msg);
    else snprintf(err, errlen, "%s: %s", path, msg);
    return st;
}

/* Split a line (newline stripped) at tabs in place; returns the field count (at most max). */
static size_t split_tabs(char **f, size_t max, char *s, size_t *overflow)
{
    size_t n = 0;
    *overflow = 0;
    for (;;) {
        char *t = strchr(s, '\t');
        if (n < max) f[n] = s;
        else *overflow = 1;
        n++;
        if (!t) break;
        *t = 0;
        s = t + 1;
    }
    return n;
}

int smx_moe_read(smx_moe_t *m, char *err, size_t errlen, const char *path, size_t want_d)
{
    memset(m, 0, sizeof *m);
    FILE *fp = fopen(path, "r");
    if (!fp) return rd_fail(err, errlen, SMX_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0, d = 0, ncol = 0, k = 0, kcap = 0;
    long lineno = 0;
    ssize_t len;
    double *rows = NULL;
    int st = SMX_OK, have_header = 0;
    enum { MAXF = 64 };
    char *f[MAXF];
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (line[0] == '#' || len == 0) continue;
        size_t over, nf = split_tabs(f, MAXF, line, &over);
        if (!have_header) {
            /* beta0, beta1_1..beta1_d, b, a_1..a_d, var: 2d + 3 columns */
            if (over || nf < 5 || (nf - 3) % 2) {
                st = rd_fail(err, errlen, SMX_EDOM, path, lineno, 0,
                             "header has %zu columns, want beta0 beta1_1..beta1_d b a_1..a_d var", nf);
                goto out;
            }
            d = (nf - 3) / 2;
            ncol = nf;
            for (size_t c = 0; c < nf; c++) {
                char want[32];
                if (c == 0) snprintf(want, sizeof want, "beta0");
                else if (c <= d) snprintf(want, sizeof want, "beta1_%zu", c);
                else if (c == d + 1) snprintf(want, sizeof want, "b");
                else if (c <= 2 * d + 1) snprintf(want, sizeof want, "a_%zu", c - d - 1);
                else snprintf(want, sizeof want, "var");
                if (strcmp(f[c], want)) {
                    st = rd_fail(err, errlen, SMX_EDOM, path, lineno, (long)c + 1, "column '%s', want '%s'", f[c],
                                 want);
                    goto out;
                }
            }
            if (want_d && d != want_d) {
                st = rd_fail(err, errlen, SMX_EDOM, path, lineno, 0, "d = %zu, want d = %zu", d, want_d);
                goto out;
            }
            have_header = 1;
            continue;
        }
        if (nf != ncol) {
            st = rd_fail(err, errlen, SMX_EDOM, path, lineno, (long)(nf < ncol ? nf + 1 : ncol + 1),
                         "%zu fields, want %zu", nf, ncol);
            goto out;
        }
        if (k == kcap) {
            kcap = kcap ? 2 * kcap : 8;
            double *nr = realloc(rows, kcap * ncol * sizeof *nr);
            if (!nr) {
                st = rd_fail(err, errlen, SMX_ENOMEM, path, lineno, 0, "out of memory");
                goto out;
            }
            rows = nr;
        }
        for (size_t c = 0; c < ncol; c++) {
            char *end;
            errno = 0;
            double v = strtod(f[c], &end);
            if (end == f[c] || *end || !isfinite(v)) {
                st = rd_fail(err, errlen, SMX_EDOM, path, lineno, (long)c + 1, "'%s' is not a finite number", f[c]);
                goto out;
            }
            if (c == ncol - 1 && !(v > 0)) {
                st = rd_fail(err, errlen, SMX_EDOM, path, lineno, (long)c + 1, "variance %s is not positive", f[c]);
                goto out;
            }
            rows[k * ncol + c] = v;
        }
        k++;
    }
    if (!have_header) {
        st = rd_fail(err, errlen, SMX_EDOM, path, 0, 0, "no header line");
        goto out;
    }
    if (k == 0) {
        st = rd_fail(err, errlen, SMX_EDOM, path, 0, 0, "no experts (k = 0)");
        goto out;
    }
    if ((st = smx_moe_alloc(m, k, d))) {
        rd_fail(err, errlen, st, path, 0, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        const double *r = rows + i * ncol;
        m->beta0[i] = r[0];
        for (size_t c = 0; c < d; c++) m->beta1[i * d + c] = r[1 + c], m->a[i * d + c] = r[d + 2 + c];
        m->b[i] = r[d + 1];
        m->var[i] = r[2 * d + 2];
    }
out:
    free(line);
    free(rows);
    fclose(fp);
    return st;
}

void smx_moe_write_rows(FILE *fp, const smx_moe_t *m)
{
    size_t d = m->d;
    fputs("beta0", fp);
    for (size_t c = 1; c <= d; c++) fprintf(fp, "\tbeta1_%zu", c);
    fputs("\tb", fp);
    for (size_t c = 1; c <= d; c++) fprintf(fp, "\ta_%zu", c);
    fputs("\tvar\n", fp);
    for (size_t i = 0; i < m->k; i++) {
        fprintf(fp, "%.17g", m->beta0[i]);
        for (size_t c = 0; c < d; c++) fprintf(fp, "\t%.17g", m->beta1[i * d + c]);
        fprintf(fp, "\t%.17g", m->b[i]);
        for (size_t c = 0; c < d; c++) fprintf(fp, "\t%.17g", m->a[i * d + c]);
        fprintf(fp, "\t%.17g\n", m->var[i]);
    }
}

/* ---- model evaluation ---- */

static double dot(const double *u, const double *v, size_t d)
{
    double s = 0;
    for (size_t c = 0; c < d; c++) s += u[c] * v[c];
    return s;
}

void smx_moe_log_gate(double *logpi, const smx_moe_t *m, const double *x)
{
    size_t k = m->k, d = m->d;
    double mx = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        logpi[i] = m->beta0[i] + dot(m->beta1 + i * d, x, d);
        if (logpi[i] > mx) mx = logpi[i];
    }
    double s = 0;
    for (size_t i = 0; i < k; i++) s += exp(logpi[i] - mx);
    double lse = mx + log(s);
    for (size_t i = 0; i < k; i++) logpi[i] -= lse;
}

static const double LOG_2PI = 1.8378770664093454836;
/* products of LOG_BLOCK factors in [1/64, 64] stay within 64^16 = 8e28: no overflow (k <= 64) */
#define LOG_BLOCK 16

/* log N(y; b_i + a_i.x, var_i) */
static double log_normal(const smx_moe_t *m, size_t i, const double *x, double y)
{
    double r = y - m->b[i] - dot(m->a + i * m->d, x, m->d);
    return -0.5 * (LOG_2PI + log(m->var[i]) + r * r / m->var[i]);
}

int smx_moe_sample(double *x, double *y, const smx_moe_t *m, size_t n, smx_moe_design_t design, gsl_rng *r)
{
    size_t k = m->k, d = m->d;
    if (design == SMX_MOE_DESIGN_GRID && (d != 1 || n < 2)) return SMX_EDOM;
    double logpi[64];
    if (k > 64) return SMX_EDOM;
    for (size_t j = 0; j < n; j++) {
        double *xj = x + j * d;
        if (design == SMX_MOE_DESIGN_GRID) xj[0] = (double)j / (double)(n - 1);
        else
            for (size_t c = 0; c < d; c++) xj[c] = gsl_rng_uniform(r);
        smx_moe_log_gate(logpi, m, xj);
        double u = gsl_rng_uniform(r), acc = 0;
        size_t z = k - 1;
        for (size_t i = 0; i < k; i++) {
            acc += exp(logpi[i]);
            if (u < acc) {
                z = i;
                break;
            }
        }
        y[j] = m->b[z] + dot(m->a + z * d, xj, d) + gsl_ran_gaussian_ziggurat(r, sqrt(m->var[z]));
    }
    return SMX_OK;
}

double smx_moe_loglik(const smx_moe_t *m, const double *x, const double *y, size_t n)
{
    size_t k = m->k, d = m->d;
    double lw[64], ll = 0;
    for (size_t j = 0; j < n; j++) {
        smx_moe_log_gate(lw, m, x + j * d);
        double mx = -INFINITY;
        for (size_t i = 0; i < k; i++) {
            lw[i] += log_normal(m, i, x + j * d, y[j]);
            if (lw[i] > mx) mx = lw[i];
        }
        double s = 0;
        for (size_t i = 0; i < k; i++) s += exp(lw[i] - mx);
        ll += mx + log(s);
    }
    return ll;
}

/* ---- EM ---- */

struct smx_moe_em {
    size_t n_max, k, d, P;  /* P = (k-1)(d+1) gate parameters */
    double *r;              /* n x k responsibilities */
    double *pi;             /* n x k gate probabilities */
    double *gam, *gtry;     /* P: gate parameters (current, trial) */
    gsl_matrix *H;          /* P x P negative Hessian */
    gsl_vector *g, *step;   /* P */
    gsl_matrix *A;          /* (d+1)^2 normal equations */
    gsl_vector *rhs, *th;   /* d+1 */
};

smx_moe_em_t *smx_moe_em_alloc(size_t n_max, size_t k, size_t d)
{
    if (k == 0 || k > 64 || d == 0) return NULL;
    smx_moe_em_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->n_max = n_max, w->k = k, w->d = d, w->P = (k - 1) * (d + 1);
    size_t P = w->P ? w->P : 1;
    w->r = malloc(n_max * k * sizeof(double));
    w->pi = malloc(n_max * k * sizeof(double));
    w->gam = malloc(P * sizeof(double));
    w->gtry = malloc(P * sizeof(double));
    w->H = gsl_matrix_alloc(P, P);
    w->g = gsl_vector_alloc(P);
    w->step = gsl_vector_alloc(P);
    w->A = gsl_matrix_alloc(d + 1, d + 1);
    w->rhs = gsl_vector_alloc(d + 1);
    w->th = gsl_vector_alloc(d + 1);
    if (!w->r || !w->pi || !w->gam || !w->gtry || !w->H || !w->g || !w->step || !w->A || !w->rhs || !w->th) {
        smx_moe_em_free(w);
        return NULL;
    }
    return w;
}

void smx_moe_em_free(smx_moe_em_t *w)
{
    if (!w) return;
    free(w->r);
    free(w->pi);
    free(w->gam);
    free(w->gtry);
    if (w->H) gsl_matrix_free(w->H);
    if (w->g) gsl_vector_free(w->g);
    if (w->step) gsl_vector_free(w->step);
    if (w->A) gsl_matrix_free(w->A);
    if (w->rhs) gsl_vector_free(w->rhs);
    if (w->th) gsl_vector_free(w->th);
    free(w);
}

double *smx_moe_em_resp(smx_moe_em_t *w) { return w->r; }

void smx_moe_em_opts_default(smx_moe_em_opts_t *o)
{
    o->max_iter = 2000;
    o->tol = 1e-6;
    o->gate_max_iter = 300;
    o->gate_tol = 1e-7;
    o->max_halvings = 30;
    o->var_floor = 1e-8;
}

/* The exps of an E-step or a gate pass go through the kernels' vectorised exp (numerics/kernels.h: the
 * same bytes on every ISA, <= SMX_KERNELS_EXP_ULP_F64 ulps), one call over the n x k shifted logits. */
static void exp_all(double *v, size_t len)
{
    smx_kernels_exp_f64(v, v, len, SMX_KERNELS_AUTO);
}

double smx_moe_estep(smx_moe_em_t *w, const smx_moe_t *m, const double *x, const double *y, size_t n)
{
    size_t k = m->k, d = m->d;
    double c[64], iv[64], ll = 0, prod = 1;
    int cnt = 0;
    for (size_t i = 0; i < k; i++) c[i] = -0.5 * (LOG_2PI + log(m->var[i])), iv[i] = 1 / m->var[i];
    /* pass 1: lw_ij - mx_j into r, eta_ij - me_j into pi (scratch here; gate_q refills it) */
    for (size_t j = 0; j < n; j++) {
        const double *xj = x + j * d;
        double *lw = w->r + j * k, *eta = w->pi + j * k, me = -INFINITY, mx = -INFINITY;
        for (size_t i = 0; i < k; i++) { /* eta_i = gate logit; lw_i = eta_i + log N(y; mean_i, var_i) */
            eta[i] = m->beta0[i] + dot(m->beta1 + i * d, xj, d);
            double e = y[j] - m->b[i] - dot(m->a + i * d, xj, d);
            lw[i] = eta[i] + c[i] - 0.5 * e * e * iv[i];
            if (eta[i] > me) me = eta[i];
            if (lw[i] > mx) mx = lw[i];
        }
        for (size_t i = 0; i < k; i++) eta[i] -= me, lw[i] -= mx;
        ll += mx - me;
    }
    exp_all(w->r, n * k);
    exp_all(w->pi, n * k);
    /* pass 2: r_ij = w_ij / sum_l w_lj (max-shifted); log sum_i pi_i N_i = lse(eta + log N) - lse(eta)
     * = (mx - me) + log(s / se), s / se in [1/k, k]: the logs of LOG_BLOCK consecutive ratios are taken as
     * one log of their product */
    for (size_t j = 0; j < n; j++) {
        double *lw = w->r + j * k, *e = w->pi + j * k, se = 0, s = 0;
        for (size_t i = 0; i < k; i++) se += e[i], s += lw[i];
        for (size_t i = 0; i < k; i++) lw[i] /= s;
        prod *= s / se;
        if (++cnt == LOG_BLOCK) ll += log(prod), prod = 1, cnt = 0;
    }
    return ll + log(prod);
}

/* Gate parameters gamma (P = (k-1)(d+1): expert i < k-1 has (beta0_i, beta1_i)) <-> m. */
static void gam_get(double *gam, const smx_moe_t *m)
{
    size_t d = m->d;
    for (size_t i = 0; i + 1 < m->k; i++) {
        gam[i * (d + 1)] = m->beta0[i];
        for (size_t c = 0; c < d; c++) gam[i * (d + 1) + 1 + c] = m->beta1[i * d + c];
    }
}
static void gam_set(smx_moe_t *m, const double *gam)
{
    size_t d = m->d;
    for (size_t i = 0; i + 1 < m->k; i++) {
        m->beta0[i] = gam[i * (d + 1)];
        for (size_t c = 0; c < d; c++) m->beta1[i * d + c] = gam[i * (d + 1) + 1 + c];
    }
    m->beta0[m->k - 1] = 0;
    for (size_t c = 0; c < d; c++) m->beta1[(m->k - 1) * d + c] = 0;
}

/* Q(gamma) = sum_j sum_i r_ij log pi_ij = sum_j [sum_i r_ij (eta_ij - mx_j) - log s_j] (rows of r sum to 1;
 * s_j = sum_i e^{eta_ij - mx_j} in [1, k], their logs taken LOG_BLOCK at a time); pi (n x k) filled. */
static double gate_q(smx_moe_em_t *w, const double *gam, const double *x, size_t n)
{
    size_t k = w->k, d = w->d;
    double q = 0, prod = 1;
    int cnt = 0;
    for (size_t j = 0; j < n; j++) { /* pass 1: eta_ij - mx_j into pi, the linear part of Q */
        const double *xj = x + j * d, *r = w->r + j * k;
        double *p = w->pi + j * k, mx = 0; /* reference logit 0 */
        for (size_t i = 0; i + 1 < k; i++) {
            const double *g = gam + i * (d + 1);
            p[i] = g[0] + dot(g + 1, xj, d);
            if (p[i] > mx) mx = p[i];
        }
        p[k - 1] = 0;
        for (size_t i = 0; i < k; i++) {
            p[i] -= mx;
            if (r[i] > 0) q += r[i] * p[i];
        }
    }
    exp_all(w->pi, n * k);
    for (size_t j = 0; j < n; j++) { /* pass 2: pi_ij = e_ij / s_j, the log part of Q */
        double *p = w->pi + j * k, s = 0;
        for (size_t i = 0; i < k; i++) s += p[i];
        double is = 1 / s;
        for (size_t i = 0; i < k; i++) p[i] *= is;
        prod *= s;
        if (++cnt == LOG_BLOCK) q -= log(prod), prod = 1, cnt = 0;
    }
    return q - log(prod);
}

int smx_moe_gate_mstep(smx_moe_t *m, double *Q, smx_moe_em_t *w, const double *x, size_t n,
                       const smx_moe_em_opts_t *o)
{
    size_t k = w->k, d = w->d, P = w->P, D1 = d + 1;
    if (P == 0) {
        *Q = 0;
        return 0;
    }
    gam_get(w->gam, m);
    double q = gate_q(w, w->gam, x, n);
    int it;
    for (it = 0; it < o->gate_max_iter; it++) {
        /* gradient and negative Hessian at gam (pi from gate_q) */
        gsl_vector_set_zero(w->g);
        gsl_matrix_set_zero(w->H);
        double *g = w->g->data, *H = w->H->data;
        size_t tda = w->H->tda;
        for (size_t j = 0; j < n; j++) {
            const double *xj = x + j * d, *p = w->pi + j * k, *r = w->r + j * k;
            double z[8];
            z[0] = 1;
            for (size_t c = 0; c < d && c < 7; c++) z[1 + c] = xj[c];
            for (size_t i = 0; i + 1 < k; i++) {
                double gi = r[i] - p[i];
                for (size_t u = 0; u < D1; u++) g[i * D1 + u] += gi * z[u];
                for (size_t l = i; l + 1 < k; l++) {
                    double h = p[i] * ((i == l) - p[l]);
                    for (size_t u = 0; u < D1; u++)
                        for (size_t v = 0; v < D1; v++) H[(i * D1 + u) * tda + l * D1 + v] += h * z[u] * z[v];
                }
            }
        }
        for (size_t a = 0; a < P; a++) /* symmetric: fill the lower triangle */
            for (size_t b = a + 1; b < P; b++) H[b * tda + a] = H[a * tda + b];
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        int chol = gsl_linalg_cholesky_decomp1(w->H);
        if (chol) { /* negative Hessian not numerically positive definite: keep the current gates */
            gsl_set_error_handler(old);
            break;
        }
        gsl_linalg_cholesky_solve(w->H, w->g, w->step);
        gsl_set_error_handler(old);
        double t = 1, qn = -INFINITY;
        int h;
        for (h = 0; h <= o->max_halvings; h++, t *= 0.5) {
            for (size_t a = 0; a < P; a++) w->gtry[a] = w->gam[a] + t * w->step->data[a];
            qn = gate_q(w, w->gtry, x, n);
            if (qn >= q) break;
        }
        if (h > o->max_halvings) { /* no step increased Q: restore pi at gam and stop */
            gate_q(w, w->gam, x, n);
            break;
        }
        memcpy(w->gam, w->gtry, P * sizeof(double));
        double dq = qn - q;
        q = qn;
        if (dq <= o->gate_tol * fabs(q)) {
            it++;
            break;
        }
    }
    gam_set(m, w->gam);
    *Q = q;
    return it;
}

void smx_moe_expert_mstep(smx_moe_t *m, smx_moe_em_t *w, const double *x, const double *y, size_t n,
                          const smx_moe_em_opts_t *o)
{
    size_t k = w->k, d = w->d, D1 = d + 1;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t i = 0; i < k; i++) {
        gsl_matrix_set_zero(w->A);
        gsl_vector_set_zero(w->rhs);
        double *A = w->A->data, *rhs = w->rhs->data, sw = 0;
        size_t tda = w->A->tda;
        for (size_t j = 0; j < n; j++) {
            double r = w->r[j * k + i], z[8];
            if (r == 0) continue;
            z[0] = 1;
            for (size_t c = 0; c < d && c < 7; c++) z[1 + c] = x[j * d + c];
            sw += r;
            for (size_t u = 0; u < D1; u++) {
                rhs[u] += r * z[u] * y[j];
                for (size_t v = u; v < D1; v++) A[u * tda + v] += r * z[u] * z[v];
            }
        }
        for (size_t u = 0; u < D1; u++)
            for (size_t v = u + 1; v < D1; v++) A[v * tda + u] = A[u * tda + v];
        if (!(sw > 0) || gsl_linalg_cholesky_decomp1(w->A)) continue; /* no weight: keep expert i */
        gsl_linalg_cholesky_solve(w->A, w->rhs, w->th);
        m->b[i] = w->th->data[0];
        for (size_t c = 0; c < d; c++) m->a[i * d + c] = w->th->data[1 + c];
        double ss = 0;
        for (size_t j = 0; j < n; j++) {
            double r = w->r[j * k + i];
            if (r == 0) continue;
            double e = y[j] - m->b[i] - dot(m->a + i * d, x + j * d, d);
            ss += r * e * e;
        }
        m->var[i] = fmax(ss / sw, o->var_floor);
    }
    gsl_set_error_handler(old);
}

int smx_moe_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, smx_moe_em_t *w, const double *x,
               const double *y, size_t n, const smx_moe_em_opts_t *o)
{
    if (n > w->n_max || m->k != w->k || m->d != w->d || m->d > 7) return SMX_EDOM;
    smx_moe_em_begin(res, m);
    double ll = smx_moe_estep(w, m, x, y, n);
    if (trace) trace[0] = ll;
    for (int it = 1; it <= o->max_iter; it++) {
        double q;
        smx_moe_expert_mstep(m, w, x, y, n, o);
        res->gate_iters += smx_moe_gate_mstep(m, &q, w, x, n, o);
        double lln = smx_moe_estep(w, m, x, y, n);
        if (smx_moe_em_step_done(res, &ll, trace, it, lln, o)) break;
    }
    res->loglik = ll;
    return SMX_OK;
}

void smx_moe_em_begin(smx_moe_em_result_t *res, smx_moe_t *m)
{
    memset(res, 0, sizeof *res);
    m->beta0[m->k - 1] = 0;
    for (size_t c = 0; c < m->d; c++) m->beta1[(m->k - 1) * m->d + c] = 0;
}

double smx_moe_posterior(double *r, double *lw, size_t k)
{
    double mx = -INFINITY, s = 0;
    for (size_t i = 0; i < k; i++)
        if (lw[i] > mx) mx = lw[i];
    for (size_t i = 0; i < k; i++) s += (lw[i] = exp(lw[i] - mx));
    if (r)
        for (size_t i = 0; i < k; i++) r[i] = lw[i] / s;
    return mx + log(s);
}

int smx_moe_em_step_done(smx_moe_em_result_t *res, double *ll, double *trace, int it, double lln,
                         const smx_moe_em_opts_t *o)
{
    if (trace) trace[it] = lln;
    res->iterations = it;
    double dl = lln - *ll;
    *ll = res->loglik = lln;
    if (!isfinite(lln)) return 1;
    if (fabs(dl) <= o->tol * fabs(lln)) {
        res->converged = 1;
        return 1;
    }
    return 0;
}

/* ---- initialisation ---- */

int smx_moe_init_near(smx_moe_t *fit, const smx_moe_t *truth, size_t n, smx_moe_init_t mode, gsl_rng *r)
{
    size_t k = fit->k, ks = truth->k, d = truth->d;
    if (fit->d != d || k < ks) return SMX_EDOM;
    double sg = 0.005 * pow((double)n, -0.083), se = 0.05 * pow((double)n, -0.083),
           sv = 0.005 * pow((double)n, -0.25);
    for (size_t i = 0; i < k; i++) {
        size_t c = i == k - 1 ? ks - 1 : i < ks - 1 ? i : gsl_rng_uniform_int(r, ks);
        int ref = i == k - 1;
        if (mode == SMX_MOE_INIT_AUTHORS) {
            double eg = gsl_ran_gaussian(r, sg), ee = gsl_ran_gaussian(r, se);
            fit->beta0[i] = ref ? 0 : truth->beta0[c] + eg;
            for (size_t u = 0; u < d; u++) fit->beta1[i * d + u] = ref ? 0 : truth->beta1[c * d + u] + eg;
            fit->b[i] = truth->b[c] + ee;
            for (size_t u = 0; u < d; u++) fit->a[i * d + u] = truth->a[c * d + u] + ee;
            fit->var[i] = sqrt(truth->var[c]) + fabs(gsl_ran_gaussian(r, sv));
        } else {
            fit->beta0[i] = ref ? 0 : truth->beta0[c] + gsl_ran_gaussian(r, sg);
            for (size_t u = 0; u < d; u++)
                fit->beta1[i * d + u] = ref ? 0 : truth->beta1[c * d + u] + gsl_ran_gaussian(r, sg);
            fit->b[i] = truth->b[c] + gsl_ran_gaussian(r, se);
            for (size_t u = 0; u < d; u++) fit->a[i * d + u] = truth->a[c * d + u] + gsl_ran_gaussian(r, se);
            fit->var[i] = truth->var[c] + fabs(gsl_ran_gaussian(r, sv));
        }
    }
    return SMX_OK;
}
