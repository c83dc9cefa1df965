/* moe_topk.c - top-K sparse softmax gate and its EM (issue 13 part 3, paper (b)). Formulas: moe_topk.h. */
#include "moe_topk.h"
#include "smx.h"

#include <math.h>
#include <string.h>

static const double LOG_2PI = 1.8378770664093454836;

void smx_moe_topk_log_gate(double *logpi, const smx_moe_t *m, size_t K, const double *x)
{
    size_t k = m->k, d = m->d;
    double eta[64];
    unsigned char in[64];
    for (size_t i = 0; i < k; i++) {
        eta[i] = m->beta0[i];
        for (size_t c = 0; c < d; c++) eta[i] += m->beta1[i * d + c] * x[c];
        in[i] = 0;
    }
    for (size_t s = 0; s < K && s < k; s++) { /* K largest by repeated selection (k <= 64); ties: lower index */
        size_t b = k;
        for (size_t i = 0; i < k; i++)
            if (!in[i] && (b == k || eta[i] > eta[b])) b = i;
        in[b] = 1;
    }
    double mx = -INFINITY, s = 0;
    for (size_t i = 0; i < k; i++)
        if (in[i] && eta[i] > mx) mx = eta[i];
    for (size_t i = 0; i < k; i++)
        if (in[i]) s += exp(eta[i] - mx);
    double lse = mx + log(s);
    for (size_t i = 0; i < k; i++) logpi[i] = in[i] ? eta[i] - lse : -INFINITY;
}

/* top-K log-likelihood; r (n x k or NULL): top-K posteriors (exactly 0 outside the set) */
static double estep(double *r, const smx_moe_t *m, size_t K, const double *x, const double *y, size_t n)
{
    size_t k = m->k, d = m->d;
    double ll = 0, lw[64];
    for (size_t j = 0; j < n; j++) {
        const double *xj = x + j * d;
        smx_moe_topk_log_gate(lw, m, K, xj);
        double mx = -INFINITY, s = 0;
        for (size_t i = 0; i < k; i++) {
            if (lw[i] == -INFINITY) continue;
            double e = y[j] - m->b[i];
            for (size_t c = 0; c < d; c++) e -= m->a[i * d + c] * xj[c];
            lw[i] += -0.5 * (LOG_2PI + log(m->var[i]) + e * e / m->var[i]);
            if (lw[i] > mx) mx = lw[i];
        }
        for (size_t i = 0; i < k; i++) s += (lw[i] = lw[i] == -INFINITY ? 0 : exp(lw[i] - mx));
        if (r)
            for (size_t i = 0; i < k; i++) r[j * k + i] = lw[i] / s;
        ll += mx + log(s);
    }
    return ll;
}

double smx_moe_topk_loglik(const smx_moe_t *m, size_t K, const double *x, const double *y, size_t n)
{
    return estep(NULL, m, K, x, y, n);
}

int smx_moe_topk_em(smx_moe_em_result_t *res, double *trace, smx_moe_t *m, size_t K, smx_moe_em_t *w,
                    const double *x, const double *y, size_t n, const smx_moe_em_opts_t *o)
{
    size_t k = m->k, d = m->d;
    if (K == 0 || K > k || k > 64 || d > 7) return SMX_EDOM;
    smx_moe_em_begin(res, m);
    double *r = smx_moe_em_resp(w), ll = estep(r, m, K, x, y, n);
    if (trace) trace[0] = ll;
    for (int it = 1; it <= o->max_iter; it++) {
        double q;
        smx_moe_expert_mstep(m, w, x, y, n, o); /* top-K posteriors */
        smx_moe_estep(w, m, x, y, n);           /* dense posteriors for the gate */
        res->gate_iters += smx_moe_gate_mstep(m, &q, w, x, n, o);
        double lln = estep(r, m, K, x, y, n);
        if (smx_moe_em_step_done(res, &ll, trace, it, lln, o)) break;
    }
    res->loglik = ll;
    return SMX_OK;
}
