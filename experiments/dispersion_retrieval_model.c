/* dispersion_retrieval_model.c - the retrieval model of smx-dispersion (dispersion_retrieval.h):
 * parameters carved from one allocation, a workspace, the item sampler, the forward pass (item MLP,
 * one attention head, predictor MLP, cross-entropy) and its backward pass; a gradient check for
 * the tests. Dense layers: solvers/nn.h (BLAS); attention: solvers/attn.h (one head, no
 * exclusion). */
#include "dispersion_cmds.h"
#include "dispersion_retrieval.h"
#include "attn.h"
#include "lse.h"
#include "nn.h"
#include "smx.h"
#include "temperature.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const dret_method_names[3] = {"softmax", "adaptive", "ssmax"};

#define GRAD(m, p) ((m)->g + ((p) - (m)->w))

int dret_model_alloc(dret_model_t *m, size_t d, double s0, gsl_rng *r)
{
    size_t len[DRET_NT] = {d * DRET_DIN, d, d * d, d, d * d, d * d, d, d * d, d, DRET_NC * d, DRET_NC, 1};
    double **ptr[DRET_NT] = {&m->W1, &m->b1, &m->W2, &m->b2, &m->Wk, &m->Wv, &m->q, &m->Wp1, &m->bp1, &m->Wp2,
                            &m->bp2, &m->s};
    size_t fan[DRET_NT] = {DRET_DIN, DRET_DIN, d, d, d, d, d, d, d, d, d, 1};
    m->d = d;
    m->np = 0;
    for (int i = 0; i < DRET_NT; i++) m->np += len[i];
    m->w = calloc(m->np, sizeof *m->w);
    m->g = calloc(m->np, sizeof *m->g);
    if (!m->w || !m->g) return SMX_ENOMEM;
    size_t off = 0;
    for (int i = 0; i < DRET_NT; i++) {
        *ptr[i] = m->w + off;
        m->t[i] = (smx_tensor_t){m->w + off, m->g + off, len[i]};
        smx_nn_init_uniform_f64(m->w + off, len[i], fan[i], r); /* torch.nn.Linear default */
        off += len[i];
    }
    *m->s = s0;
    return SMX_OK;
}

void dret_model_free(dret_model_t *m)
{
    free(m->w);
    free(m->g);
}


int dret_ws_alloc(dret_ws_t *w, size_t rows, size_t sets, size_t d, int train)
{
    memset(w, 0, sizeof *w);
    w->rows = rows, w->sets = sets;
    size_t nd = rows * d;
    w->X = malloc(rows * DRET_DIN * sizeof(double));
    w->R1 = malloc(nd * sizeof(double)), w->H = malloc(nd * sizeof(double));
    w->K = malloc(nd * sizeof(double)), w->V = malloc(nd * sizeof(double));
    w->E = malloc(rows * sizeof(double)), w->A = malloc(rows * sizeof(double)), w->work = malloc(smx_attn_work_size(rows) * sizeof(double));
    w->O = malloc(sets * d * sizeof(double)), w->U = malloc(sets * d * sizeof(double));
    w->L = malloc(sets * DRET_NC * sizeof(double)), w->P = malloc(sets * DRET_NC * sizeof(double));
    w->beta = malloc(sets * sizeof(double));
    w->y = malloc(sets * sizeof(int));
    int bad = !w->X || !w->R1 || !w->H || !w->K || !w->V || !w->E || !w->A || !w->work || !w->O || !w->U || !w->L ||
              !w->P || !w->beta || !w->y;
    if (train) {
        w->dH = malloc(nd * sizeof(double)), w->dH2 = malloc(nd * sizeof(double));
        w->dK = malloc(nd * sizeof(double)), w->dV = malloc(nd * sizeof(double)), w->dR1 = malloc(nd * sizeof(double));
        w->dO = malloc(sets * d * sizeof(double)), w->dU = malloc(sets * d * sizeof(double));
        w->dL = malloc(sets * DRET_NC * sizeof(double));
        bad |= !w->dH || !w->dH2 || !w->dK || !w->dV || !w->dR1 || !w->dO || !w->dU || !w->dL;
    }
    return bad ? SMX_ENOMEM : SMX_OK;
}

void dret_ws_free(dret_ws_t *w)
{
    double *p[] = {w->X, w->R1, w->H, w->K, w->V, w->E, w->A, w->work, w->O, w->U, w->L, w->P, w->beta,
                   w->dH, w->dH2, w->dK, w->dV, w->dR1, w->dO, w->dU, w->dL};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    free(w->y);
}

/* B sets of n items into w->X, targets into w->y: priority U(0,1), class uniform of 10. */
void dret_sample(dret_ws_t *w, size_t B, size_t n, gsl_rng *r)
{
    for (size_t b = 0; b < B; b++) {
        double best = -1;
        for (size_t i = 0; i < n; i++) {
            double *x = w->X + (b * n + i) * DRET_DIN;
            memset(x, 0, DRET_DIN * sizeof *x);
            x[0] = gsl_rng_uniform(r);
            int cls = (int)gsl_rng_uniform_int(r, DRET_NC);
            x[1 + cls] = 1.0;
            if (x[0] > best) best = x[0], w->y[b] = cls;
        }
    }
}

/* Item MLP and projections for N rows: R1 = relu(X W1^T + b1), H = R1 W2^T + b2, K, V. */
void dret_encode(dret_ws_t *w, const dret_model_t *m, size_t N)
{
    size_t d = m->d;
    smx_nn_dense_fwd_f64(w->R1, w->X, m->W1, m->b1, N, DRET_DIN, d);
    smx_nn_relu_fwd_f64(w->R1, w->R1, N * d);
    smx_nn_dense_fwd_f64(w->H, w->R1, m->W2, m->b2, N, d, d);
    smx_nn_dense_fwd_f64(w->K, w->H, m->Wk, NULL, N, d, d);
    smx_nn_dense_fwd_f64(w->V, w->H, m->Wv, NULL, N, d, d);
}

/* The scale c of set b after its attention with c = 1 (adaptive: beta(H) of Velickovic et al.). */
static double dret_scale(const dret_model_t *m, dret_method_t meth, size_t n)
{
    return meth == DRET_SSMAX ? smx_ssmax_scale(*m->s, n) : 1.0;
}

/* Attention per set and predictor: O, U, L, P; w->beta[b] = c used. Returns the summed CE loss. */
double dret_head(dret_ws_t *w, const dret_model_t *m, size_t B, size_t n, dret_method_t meth)
{
    size_t d = m->d;
    double loss = 0;
    smx_attn_t at;
    smx_attn_init(&at, 1, d, d); /* one head, scores q.k / sqrt(d), softmax */
    for (size_t b = 0; b < B; b++) {
        double *o = w->O + b * d, *a = w->A + b * n, *e = w->E + b * n;
        const double *K = w->K + b * n * d, *V = w->V + b * n * d;
        double c = dret_scale(m, meth, n);
        if (smx_attn_forward(o, a, e, m->q, K, V, n, SMX_ATTN_NONE, c, &at, w->work)) return NAN; /* n == 0 */
        if (meth == DRET_ADAPTIVE) { /* inference-only sharpening, Velickovic et al. Alg. */
            c = smx_adaptive_beta(smx_softmax_entropy(a, n));
            if (c != 1.0) smx_attn_forward(o, a, e, m->q, K, V, n, SMX_ATTN_NONE, c, &at, w->work);
        }
        w->beta[b] = c;
    }
    smx_nn_dense_fwd_f64(w->U, w->O, m->Wp1, m->bp1, B, d, d);
    smx_nn_relu_fwd_f64(w->U, w->U, B * d);
    smx_nn_dense_fwd_f64(w->L, w->U, m->Wp2, m->bp2, B, d, DRET_NC);
    for (size_t b = 0; b < B; b++) {
        smx_softmax_f64(w->P + b * DRET_NC, w->L + b * DRET_NC, DRET_NC);
        loss += smx_lse_f64(w->L + b * DRET_NC, DRET_NC) - w->L[b * DRET_NC + w->y[b]];
    }
    return loss;
}

/* Gradient of the mean CE into m->g (after dret_encode + dret_head on the same w). */
void dret_backward(dret_ws_t *w, dret_model_t *m, size_t B, size_t n, dret_method_t meth)
{
    size_t d = m->d, N = B * n;
    for (size_t b = 0; b < B; b++)
        for (int k = 0; k < DRET_NC; k++)
            w->dL[b * DRET_NC + k] = (w->P[b * DRET_NC + k] - (k == w->y[b])) / (double)B;
    smx_nn_dense_bwd_f64(w->dU, GRAD(m, m->Wp2), GRAD(m, m->bp2), w->dL, w->U, m->Wp2, B, d, DRET_NC);
    smx_nn_relu_bwd_f64(w->dU, w->dU, w->U, B * d);
    smx_nn_dense_bwd_f64(w->dO, GRAD(m, m->Wp1), GRAD(m, m->bp1), w->dU, w->O, m->Wp1, B, d, d);
    double *gq = GRAD(m, m->q), *gs = GRAD(m, m->s);
    memset(gq, 0, d * sizeof *gq);
    *gs = 0;
    smx_attn_t at;
    smx_attn_init(&at, 1, d, d);
    for (size_t b = 0; b < B; b++) {
        double dc = 0; /* the status is that of the forward (n >= 2 here): not rechecked */
        (void)smx_attn_backward(gq, w->dK + b * n * d, w->dV + b * n * d, &dc, w->dO + b * d, w->A + b * n,
                                w->E + b * n, m->q, w->K + b * n * d, w->V + b * n * d, n, SMX_ATTN_NONE,
                                w->beta[b], &at, w->work);
        if (meth == DRET_SSMAX) *gs += log((double)n) * dc; /* c = s ln n */
    }
    smx_nn_dense_bwd_f64(w->dH, GRAD(m, m->Wk), NULL, w->dK, w->H, m->Wk, N, d, d);
    smx_nn_dense_bwd_f64(w->dH2, GRAD(m, m->Wv), NULL, w->dV, w->H, m->Wv, N, d, d);
    for (size_t i = 0; i < N * d; i++) w->dH[i] += w->dH2[i];
    smx_nn_dense_bwd_f64(w->dR1, GRAD(m, m->W2), GRAD(m, m->b2), w->dH, w->R1, m->W2, N, d, d);
    smx_nn_relu_bwd_f64(w->dR1, w->dR1, w->R1, N * d);
    smx_nn_dense_bwd_f64(NULL, GRAD(m, m->W1), GRAD(m, m->b1), w->dR1, w->X, m->W1, N, DRET_DIN, d);
}

/* Test hook: the whole model's gradient (dret_backward) against central differences of the mean
 * loss on a tiny model (d = 6, 3 sets of 5 items). *max_err = max_i |g_i - fd_i| / (1e-8 + max_i |g_i|). */
int dispersion_retrieval_gradcheck(double *max_err, int ssmax, unsigned long seed)
{
    dret_model_t m = {0};
    dret_ws_t w;
    size_t B = 3, n = 5, d = 6;
    dret_method_t meth = ssmax ? DRET_SSMAX : DRET_SOFTMAX;
    gsl_rng *r = smx_rng_alloc(seed);
    int st = dret_model_alloc(&m, d, 0.6385, r);
    if (!st) st = dret_ws_alloc(&w, B * n, B, d, 1);
    if (st) {
        gsl_rng_free(r);
        dret_model_free(&m);
        return st;
    }
    dret_sample(&w, B, n, r);
    gsl_rng_free(r);
    dret_encode(&w, &m, B * n);
    dret_head(&w, &m, B, n, meth);
    dret_backward(&w, &m, B, n, meth);
    double gmax = 0, emax = 0, h = 1e-6;
    for (size_t i = 0; i < m.np; i++) gmax = fmax(gmax, fabs(m.g[i]));
    for (size_t i = 0; i < m.np; i++) {
        double w0 = m.w[i];
        m.w[i] = w0 + h;
        dret_encode(&w, &m, B * n);
        double lp = dret_head(&w, &m, B, n, meth);
        m.w[i] = w0 - h;
        dret_encode(&w, &m, B * n);
        double lm = dret_head(&w, &m, B, n, meth);
        m.w[i] = w0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h * B) - m.g[i]));
    }
    *max_err = emax / (1e-8 + gmax);
    dret_ws_free(&w);
    dret_model_free(&m);
    return SMX_OK;
}
