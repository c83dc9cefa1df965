/* moe_mult.c - softmax / modified-gated mixture of logistic experts and its EM (issue 13 part 3,
 * paper (d)). Formulas: moe_mult.h. */
#include "moe_mult.h"
#include "smx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

static double dot(const double *u, const double *v, size_t d)
{
    double s = 0;
    for (size_t c = 0; c < d; c++) s += u[c] * v[c];
    return s;
}

/* log(1 + e^t) without overflow */
static double log1pexp(double t) { return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)); }

/* log P_i(y | x) = y t - log(1 + e^t), t = a_i.x + b_i */
static double log_expert(const smx_moe_t *m, size_t i, const double *x, double y)
{
    double t = m->b[i] + dot(m->a + i * m->d, x, m->d);
    return y * t - log1pexp(t);
}

/* the expert of one draw at x: inverse CDF of the gate pi(M(x)) with one uniform */
static size_t draw_expert(const smx_moe_t *m, smx_moe_mgate_t g, const double *x, gsl_rng *r)
{
    double lp[64], gx[8], u, acc = 0;
    smx_moe_mult_gate_input(gx, x, 1, m->d, g);
    smx_moe_log_gate(lp, m, gx);
    u = gsl_rng_uniform(r);
    for (size_t i = 0; i < m->k; i++)
        if (u < (acc += exp(lp[i]))) return i;
    return m->k - 1;
}

void smx_moe_mult_gate_input(double *gx, const double *x, size_t n, size_t d, smx_moe_mgate_t g)
{
    for (size_t j = 0; j < n * d; j++) gx[j] = g == SMX_MOE_GATE_MODIFIED ? tanh(x[j]) : x[j];
}

int smx_moe_mult_sample(double *x, double *y, const smx_moe_t *m, smx_moe_mgate_t g, size_t n, gsl_rng *r)
{
    size_t k = m->k, d = m->d;
    if (k > 64 || d > 7) return SMX_EDOM;
    for (size_t j = 0; j < n; j++) {
        double *xj = x + j * d;
        for (size_t c = 0; c < d; c++) xj[c] = gsl_rng_uniform(r);
        size_t z = draw_expert(m, g, xj, r);
        double t = m->b[z] + dot(m->a + z * d, xj, d);
        y[j] = gsl_rng_uniform(r) < 1 / (1 + exp(-t)) ? 1.0 : 0.0;
    }
    return SMX_OK;
}

static double estep(double *r, const smx_moe_t *m, const double *x, const double *gx, const double *y, size_t n)
{
    size_t k = m->k, d = m->d;
    double ll = 0, lw[64];
    for (size_t j = 0; j < n; j++) {
        smx_moe_log_gate(lw, m, gx + j * d);
        for (size_t i = 0; i < k; i++) lw[i] += log_expert(m, i, x + j * d, y[j]);
        ll += smx_moe_posterior(r ? r + j * k : NULL, lw, k);
    }
    return ll;
}

double smx_moe_mult_loglik(const smx_moe_t *m, const double *x, const double *gx, const double *y, size_t n)
{
    return estep(NULL, m, x, gx, y, n);
}

/* The data of expert i's weighted objective (binary or S-class logistic): responsibilities r (n x k), x, y. */
typedef struct {
    const double *r, *x, *y;
    size_t k, i, S, n, d;
} expert_data_t;
typedef double (*expert_obj_fn)(const double *th, const expert_data_t *e);

/* weighted log-likelihood of expert i: sum_j r_ij (y_j t_j - log(1 + e^t_j)) at theta = (b, a) */
static double expert_obj(const double *th, const expert_data_t *e)
{
    const double *r = e->r, *x = e->x, *y = e->y;
    size_t k = e->k, i = e->i, n = e->n, d = e->d;
    double q = 0;
    for (size_t j = 0; j < n; j++) {
        double w = r[j * k + i];
        if (w == 0) continue;
        double t = th[0] + dot(th + 1, x + j * d, d);
        q += w * (y[j] * t - log1pexp(t));
    }
    return q;
}

#define MULT_PMAX ((SMX_MOE_MULT_SMAX - 1) * 8)

/* One damped Newton step maximising obj over P <= MULT_PMAX parameters th (*q = obj(th); gd the gradient,
 * Hd the negative Hessian, P x P, overwritten): s = H^{-1} g by GSL Cholesky, step st = 1, 1/2, ... (at most
 * o->max_halvings halvings) until obj(th + st s) >= *q, then th and *q move there. Returns 1 when Newton
 * stops: H not positive definite, no step without a decrease, or an increase <= o->gate_tol |q|. */
static int newton_ascent_step(double *th, double *q, double *Hd, double *gd, size_t P, expert_obj_fn obj,
                              const expert_data_t *e, const smx_moe_em_opts_t *o)
{
    double sd[MULT_PMAX], tt[MULT_PMAX];
    gsl_matrix_view H = gsl_matrix_view_array(Hd, P, P);
    gsl_vector_view g = gsl_vector_view_array(gd, P), sv = gsl_vector_view_array(sd, P);
    if (gsl_linalg_cholesky_decomp1(&H.matrix)) return 1;
    gsl_linalg_cholesky_solve(&H.matrix, &g.vector, &sv.vector);
    double st = 1, qn = -INFINITY;
    int h;
    for (h = 0; h <= o->max_halvings; h++, st *= 0.5) {
        for (size_t u = 0; u < P; u++) tt[u] = th[u] + st * sd[u];
        if ((qn = obj(tt, e)) >= *q) break;
    }
    if (h > o->max_halvings) return 1;
    memcpy(th, tt, P * sizeof *th);
    double dq = qn - *q;
    *q = qn;
    return dq <= o->gate_tol * fabs(*q);
}

/* Newton for each expert's weighted logistic regression: gradient sum_j r_ij (y_j - p_j) z_j, negative
 * Hessian sum_j r_ij p_j (1 - p_j) z_j z_j^T (z = (1, x)); step halved until the objective does not decrease. */
static void expert_mstep(smx_moe_t *m, const double *r, const double *x, const double *y, size_t n,
                         const smx_moe_em_opts_t *o)
{
    size_t k = m->k, d = m->d, D1 = d + 1;
    double Hd[64], gd[8], th[8];
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t i = 0; i < k; i++) {
        const expert_data_t e = {r, x, y, k, i, 2, n, d};
        th[0] = m->b[i];
        for (size_t c = 0; c < d; c++) th[1 + c] = m->a[i * d + c];
        double q = expert_obj(th, &e);
        for (int it = 0; it < o->gate_max_iter; it++) {
            memset(Hd, 0, sizeof Hd);
            memset(gd, 0, sizeof gd);
            for (size_t j = 0; j < n; j++) {
                double w = r[j * k + i], z[8];
                if (w == 0) continue;
                z[0] = 1;
                for (size_t c = 0; c < d; c++) z[1 + c] = x[j * d + c];
                double t = dot(th, z, D1), p = 1 / (1 + exp(-t));
                for (size_t u = 0; u < D1; u++) {
                    gd[u] += w * (y[j] - p) * z[u];
                    for (size_t v = 0; v < D1; v++) Hd[u * D1 + v] += w * p * (1 - p) * z[u] * z[v];
                }
            }
            if (newton_ascent_step(th, &q, Hd, gd, D1, expert_obj, &e, o)) break;
        }
        m->b[i] = th[0];
        for (size_t c = 0; c < d; c++) m->a[i * d + c] = th[1 + c];
    }
    gsl_set_error_handler(old);
}

int smx_moe_mult_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, smx_moe_em_t *w, const double *x,
                    const double *gx, const double *y, size_t n, const smx_moe_em_opts_t *o)
{
    size_t k = m->k, d = m->d;
    if (k > 64 || d > 7) return SMX_EDOM;
    smx_moe_em_begin(res, m);
    double *r = smx_moe_em_resp(w), ll = estep(r, m, x, gx, y, n);
    if (trace) trace[0] = ll;
    for (int it = 1; it <= o->max_iter; it++) {
        double q;
        expert_mstep(m, r, x, y, n, o);
        res->gate_iters += smx_moe_gate_mstep(m, &q, w, gx, n, o);
        double lln = estep(r, m, x, gx, y, n);
        if (smx_moe_em_step_done(res, &ll, trace, it, lln, o)) break;
    }
    res->loglik = ll;
    return SMX_OK;
}

/* ---- S classes ---- */

/* eta_s (s = 1..S-1) of expert i at x into eta[1..S-1], eta[0] = 0; returns log sum_s e^{eta_s} */
static double class_logits(double *eta, const double *th, size_t i, size_t S, const double *x, size_t d)
{
    double mx = 0, s = 0;
    eta[0] = 0;
    for (size_t c = 1; c < S; c++) {
        const double *t = th + (i * (S - 1) + c - 1) * (d + 1);
        eta[c] = t[0] + dot(t + 1, x, d);
        if (eta[c] > mx) mx = eta[c];
    }
    for (size_t c = 0; c < S; c++) s += exp(eta[c] - mx);
    return mx + log(s);
}

int smx_moe_mults_sample(double *x, double *y, const smx_moe_t *m, const double *th, size_t S, smx_moe_mgate_t g,
                         size_t n, gsl_rng *r)
{
    size_t k = m->k, d = m->d;
    if (k > 64 || d > 7 || S < 2 || S > SMX_MOE_MULT_SMAX) return SMX_EDOM;
    double eta[SMX_MOE_MULT_SMAX], u, acc;
    for (size_t j = 0; j < n; j++) {
        double *xj = x + j * d;
        for (size_t c = 0; c < d; c++) xj[c] = gsl_rng_uniform(r);
        size_t z = draw_expert(m, g, xj, r);
        double lse = class_logits(eta, th, z, S, xj, d);
        u = gsl_rng_uniform(r), acc = 0;
        size_t yc = S - 1;
        for (size_t c = 0; c < S; c++)
            if (u < (acc += exp(eta[c] - lse))) {
                yc = c;
                break;
            }
        y[j] = (double)yc;
    }
    return SMX_OK;
}

static double estep_s(double *r, const smx_moe_t *m, const double *th, size_t S, const double *x, const double *gx,
                      const double *y, size_t n)
{
    size_t k = m->k, d = m->d;
    double ll = 0, lw[64], eta[SMX_MOE_MULT_SMAX];
    for (size_t j = 0; j < n; j++) {
        smx_moe_log_gate(lw, m, gx + j * d);
        size_t yc = (size_t)y[j];
        for (size_t i = 0; i < k; i++) {
            double lse = class_logits(eta, th, i, S, x + j * d, d);
            lw[i] += eta[yc] - lse;
        }
        ll += smx_moe_posterior(r ? r + j * k : NULL, lw, k);
    }
    return ll;
}

double smx_moe_mults_loglik(const smx_moe_t *m, const double *th, size_t S, const double *x, const double *gx,
                            const double *y, size_t n)
{
    return estep_s(NULL, m, th, S, x, gx, y, n);
}

/* weighted log-likelihood of expert i: sum_j r_ij log softmax_{y_j}(eta_i(x_j)) (th: expert i's block) */
static double expert_obj_s(const double *th, const expert_data_t *e)
{
    const double *r = e->r, *x = e->x, *y = e->y;
    size_t k = e->k, i = e->i, S = e->S, n = e->n, d = e->d;
    double q = 0, eta[SMX_MOE_MULT_SMAX];
    for (size_t j = 0; j < n; j++) {
        double w = r[j * k + i];
        if (w == 0) continue;
        double lse = class_logits(eta, th, 0, S, x + j * d, d);
        q += w * (eta[(size_t)y[j]] - lse);
    }
    return q;
}

static void expert_mstep_s(double *th_all, size_t k, size_t S, const double *r, const double *x, const double *y,
                           size_t n, size_t d, const smx_moe_em_opts_t *o)
{
    size_t D1 = d + 1, P = (S - 1) * D1;
    double Hd[MULT_PMAX * MULT_PMAX], gd[MULT_PMAX], eta[SMX_MOE_MULT_SMAX],
        p[SMX_MOE_MULT_SMAX], z[8];
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t i = 0; i < k; i++) {
        double *th = th_all + i * P;
        const expert_data_t e = {r, x, y, k, i, S, n, d};
        double q = expert_obj_s(th, &e);
        for (int it = 0; it < o->gate_max_iter; it++) {
            memset(Hd, 0, P * P * sizeof *Hd);
            memset(gd, 0, P * sizeof *gd);
            for (size_t j = 0; j < n; j++) {
                double w = r[j * k + i];
                if (w == 0) continue;
                z[0] = 1;
                for (size_t c = 0; c < d; c++) z[1 + c] = x[j * d + c];
                double lse = class_logits(eta, th, 0, S, x + j * d, d);
                for (size_t c = 1; c < S; c++) p[c] = exp(eta[c] - lse);
                size_t yc = (size_t)y[j];
                for (size_t s = 1; s < S; s++)
                    for (size_t u = 0; u < D1; u++) {
                        size_t a = (s - 1) * D1 + u;
                        gd[a] += w * ((yc == s) - p[s]) * z[u];
                        for (size_t t = 1; t < S; t++) {
                            double c = w * ((s == t) * p[s] - p[s] * p[t]);
                            for (size_t v = 0; v < D1; v++) Hd[a * P + (t - 1) * D1 + v] += c * z[u] * z[v];
                        }
                    }
            }
            if (newton_ascent_step(th, &q, Hd, gd, P, expert_obj_s, &e, o)) break;
        }
    }
    gsl_set_error_handler(old);
}

int smx_moe_mults_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, double *th, size_t S, smx_moe_em_t *w,
                     const double *x, const double *gx, const double *y, size_t n, const smx_moe_em_opts_t *o)
{
    size_t k = m->k, d = m->d;
    if (k > 64 || d > 7 || S < 2 || S > SMX_MOE_MULT_SMAX) return SMX_EDOM;
    for (size_t j = 0; j < n; j++)
        if (!(y[j] >= 0 && y[j] < (double)S && y[j] == floor(y[j]))) return SMX_EDOM;
    smx_moe_em_begin(res, m);
    double *r = smx_moe_em_resp(w), ll = estep_s(r, m, th, S, x, gx, y, n);
    if (trace) trace[0] = ll;
    for (int it = 1; it <= o->max_iter; it++) {
        double q;
        expert_mstep_s(th, k, S, r, x, y, n, d, o);
        res->gate_iters += smx_moe_gate_mstep(m, &q, w, gx, n, o);
        double lln = estep_s(r, m, th, S, x, gx, y, n);
        if (smx_moe_em_step_done(res, &ll, trace, it, lln, o)) break;
    }
    res->loglik = ll;
    return SMX_OK;
}

double smx_moe_mults_d1(double err[][3], const smx_moe_t *truth, const double *th_truth, const smx_moe_t *fit,
                        const double *th_fit, size_t S)
{
    size_t kt = truth->k, kf = fit->k, d = truth->d, P = (S - 1) * (d + 1);
    if (kt > 16 || kf > 64 || fit->d != d) return NAN;
    double mass[16] = {0}, D = 0;
    for (size_t j = 0; j < kt; j++) err[j][0] = err[j][1] = err[j][2] = NAN;
    for (size_t i = 0; i < kf; i++) {
        size_t best = 0;
        double bd = INFINITY, e[16][3];
        for (size_t j = 0; j < kt; j++) { /* |dbeta1|, |da|, |db| and the cell distance */
            double s1 = 0, sa = 0, sb = 0;
            for (size_t c = 0; c < d; c++) s1 += pow(fit->beta1[i * d + c] - truth->beta1[j * d + c], 2);
            for (size_t u = 0; u < P; u++) {
                double df = th_fit[i * P + u] - th_truth[j * P + u];
                if (u % (d + 1) == 0) sb += df * df;
                else sa += df * df;
            }
            e[j][0] = sqrt(s1), e[j][1] = sqrt(sa), e[j][2] = sqrt(sb);
            if (s1 + sa + sb < bd) bd = s1 + sa + sb, best = j;
        }
        double wgt = exp(fit->beta0[i]);
        mass[best] += wgt;
        D += wgt * (e[best][0] + e[best][1] + e[best][2]);
        for (int q = 0; q < 3; q++)
            if (isnan(err[best][q]) || e[best][q] > err[best][q]) err[best][q] = e[best][q];
    }
    for (size_t j = 0; j < kt; j++) D += fabs(mass[j] - exp(truth->beta0[j]));
    return D;
}
