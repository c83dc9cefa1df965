/* icl_multihead.c - smx-icl multihead: H-head softmax attention trained on in-context linear regression
 * (He, Pan, Chen, Yang, ICML 2025; code XintianPan/ICL_linear), on solvers/attn (forward / backward), dense
 * projections by solvers/nn (CBLAS), Adam from solvers/optim.
 *
 * Model (shapes; D = d + 1; tokens z_l = (x_l, y_l), query z_q = (x_q, 0)):
 *   Wq, Wk, Wv (H*D, D): rows h*D..h*D+D-1 are Q_h, K_h, V_h;  O (1, H*D)
 *   q = Wq z_q (H*D), K = Z Wk^T (L, H*D), V = Z Wv^T (L, H*D)
 *   head h: alpha_h = softmax(K_h z . Q_h z_q / sqrt(D)) over the L context tokens (the query does not attend
 *   to itself), o_h = sum_l alpha_hl V_h z_l;  yhat = O . (o_1, ..., o_H)
 * Loss: mean squared error over the batch (torch MSELoss). Init: torch.nn.Linear default U(+-1/sqrt(fan_in)).
 * Data every step: x_l, x_q ~ N(0, I_d), beta ~ N(0, I/d), y = beta.x + N(0, s2) on every y including y_q.
 * Recorded: KQ_h = K_h^T Q_h (the bilinear form of the scores), OV_h = V_h^T O_h^T;
 *   omega_h = mean of the first d diagonal entries of KQ_h, reported raw and divided by sqrt(d+1) (the forward
 *   pass's units: the effective omega of softmax(omega X x_q)) and by sqrt(d+2) (the authors' plots' units);
 *   mu_h = the last entry of OV_h. */
#include "icl_cmds.h"
#include "attn.h"
#include "nn.h"
#include "optim.h"
#include "smx.h"
#include "rng.h"
#include "machine.h"
#include "progress.h"
#include "run.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>

typedef struct {
    size_t H, D, np;
    double *w, *g;              /* all parameters / gradients, one allocation each */
    double *Wq, *Wk, *Wv, *O;   /* views into w */
    smx_tensor_t t[4];
    smx_attn_t at;
} mh_model_t;

#define MG(m, p) ((m)->g + ((p) - (m)->w))

static int mh_model_alloc(mh_model_t *m, size_t H, size_t d, gsl_rng *r)
{
    size_t D = d + 1, HD = H * D, len[4] = {HD * D, HD * D, HD * D, HD}, fan[4] = {D, D, D, HD};
    double **ptr[4] = {&m->Wq, &m->Wk, &m->Wv, &m->O};
    m->H = H, m->D = D, m->np = 3 * HD * D + HD;
    m->w = calloc(m->np, sizeof *m->w);
    m->g = calloc(m->np, sizeof *m->g);
    if (!m->w || !m->g) return SMX_ENOMEM;
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        *ptr[i] = m->w + off;
        m->t[i] = (smx_tensor_t){m->w + off, m->g + off, len[i]};
        smx_nn_init_uniform_f64(m->w + off, len[i], fan[i], r); /* torch.nn.Linear default */
        off += len[i];
    }
    smx_attn_init(&m->at, H, D, D); /* scale 1/sqrt(d+1) */
    return SMX_OK;
}

static void mh_model_free(mh_model_t *m) { free(m->w), free(m->g); }

/* Work unit: MH_CHUNK consecutive sequences of the batch. The partition is fixed (not by thread), each chunk's
 * forward / backward writes only its own rows and its own gradient slot, and the slots are summed in chunk order:
 * the bytes do not depend on the thread count. */
#define MH_CHUNK 16

enum { MH_STOPPED = 100, MH_BADCKPT = 101 }; /* training statuses beside SMX_* */

typedef struct {
    size_t B, L, D, HD, nt, nc;
    double *Z, *Zq, *yq, *Kp, *Vp, *Qp, *E, *A, *Oa, *yh, *dKp, *dVp, *dQp, *work, *gc;
} mh_ws_t;

static int mh_ws_alloc(mh_ws_t *w, size_t B, size_t L, const mh_model_t *m)
{
    memset(w, 0, sizeof *w);
    size_t D = m->D, HD = m->H * D, BL = B * L, nt = (size_t)omp_get_max_threads(), nc = (B + MH_CHUNK - 1) / MH_CHUNK;
    w->B = B, w->L = L, w->D = D, w->HD = HD, w->nt = nt, w->nc = nc;
    double **p[] = {&w->Z, &w->Zq, &w->yq, &w->Kp, &w->Vp, &w->Qp, &w->E, &w->A, &w->Oa, &w->yh, &w->dKp, &w->dVp,
                    &w->dQp, &w->work, &w->gc};
    size_t n[] = {BL * D, B * D, B, BL * HD, BL * HD, B * HD, B * m->H * L, B * m->H * L, B * HD, B, BL * HD,
                  BL * HD, B * HD, nt * smx_attn_work_size(L), nc * m->np};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        if (!(*p[i] = malloc(n[i] * sizeof(double)))) return SMX_ENOMEM;
    return SMX_OK;
}

static void mh_ws_free(mh_ws_t *w)
{
    double *p[] = {w->Z,  w->Zq, w->yq, w->Kp,  w->Vp,  w->Qp,  w->E,    w->A,
                   w->Oa, w->yh, w->dKp, w->dVp, w->dQp, w->work, w->gc};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

/* B tasks of L context pairs into w (sequential draws from r: the same data whatever --threads). */
static void mh_sample(mh_ws_t *w, size_t B, size_t L, size_t d, double s2, gsl_rng *r)
{
    size_t D = d + 1;
    double beta[64], sd = sqrt(s2), bs = 1 / sqrt((double)d);
    for (size_t b = 0; b < B; b++) {
        for (size_t j = 0; j < d; j++) beta[j] = gsl_ran_gaussian_ziggurat(r, bs);
        for (size_t l = 0; l <= L; l++) {
            double *z = l < L ? w->Z + (b * L + l) * D : w->Zq + b * D, y = 0;
            for (size_t j = 0; j < d; j++) y += beta[j] * (z[j] = gsl_ran_gaussian_ziggurat(r, 1.0));
            y += gsl_ran_gaussian_ziggurat(r, sd);
            if (l < L) z[d] = y;
            else z[d] = 0, w->yq[b] = y;
        }
    }
}

/* Inside a chunk, plain single-threaded GEMMs (the chunk loop holds the threads; smx_nn's own OpenMP tiling
 * would open a nested region per call): y (rows, out) = x (rows, in) W^T; dW (out, in) = dy^T x (overwritten). */
static void mh_gemm_fwd(double *y, const double *x, const double *W, size_t rows, size_t in, size_t out)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)out, (int)in, 1.0, x, (int)in, W, (int)in,
                0.0, y, (int)out);
}

static void mh_gemm_dw(double *dW, const double *dy, const double *x, size_t rows, size_t in, size_t out)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)rows, 1.0, dy, (int)out, x, (int)in,
                0.0, dW, (int)in);
}

static size_t mh_chunk_len(size_t B, size_t c) { return B - c * MH_CHUNK < MH_CHUNK ? B - c * MH_CHUNK : MH_CHUNK; }

/* Forward of chunk c (sequences b0 = c MH_CHUNK .. b0 + nb - 1): K = Z Wk^T, V = Z Wv^T, q = Wq z_q on its rows,
 * attention per sequence, yhat_b = O . (o_1, ..., o_H). wk: this thread's attention workspace. */
static void mh_fwd_chunk(mh_ws_t *w, const mh_model_t *m, size_t B, size_t L, size_t c, double *wk)
{
    size_t D = m->D, HD = m->H * D, b0 = c * MH_CHUNK, nb = mh_chunk_len(B, c);
    mh_gemm_fwd(w->Kp + b0 * L * HD, w->Z + b0 * L * D, m->Wk, nb * L, D, HD);
    mh_gemm_fwd(w->Vp + b0 * L * HD, w->Z + b0 * L * D, m->Wv, nb * L, D, HD);
    mh_gemm_fwd(w->Qp + b0 * HD, w->Zq + b0 * D, m->Wq, nb, D, HD);
    for (size_t b = b0; b < b0 + nb; b++) {
        double *o = w->Oa + b * HD, y = 0;
        smx_attn_forward(o, w->A + b * m->H * L, w->E + b * m->H * L, w->Qp + b * HD, w->Kp + b * L * HD,
                         w->Vp + b * L * HD, L, SMX_ATTN_NONE, 1.0, &m->at, wk); /* L >= 1: cannot fail */
        for (size_t k = 0; k < HD; k++) y += m->O[k] * o[k];
        w->yh[b] = y;
    }
}

/* Gradient of chunk c's part of the batch's mean squared error (dL/dyhat_b = 2 (yhat_b - y_b) / B) into its
 * slot w->gc + c np (the layout of m->w), after mh_fwd_chunk on the same chunk:
 *   dO = sum_b dy_b o_b (in b order); attention backward per sequence; dWk = dK^T Z, dWv = dV^T Z, dWq = dq^T Z_q
 *   over the chunk's rows. */
static void mh_bwd_chunk(mh_ws_t *w, const mh_model_t *m, size_t B, size_t L, size_t c, double *wk)
{
    size_t D = m->D, HD = m->H * D, b0 = c * MH_CHUNK, nb = mh_chunk_len(B, c);
    double *g = w->gc + c * m->np, *gO = g + (m->O - m->w), dout[512];
    memset(gO, 0, HD * sizeof *gO);
    for (size_t b = b0; b < b0 + nb; b++) {
        double dy = 2 * (w->yh[b] - w->yq[b]) / (double)B;
        for (size_t k = 0; k < HD; k++) gO[k] += dy * w->Oa[b * HD + k], dout[k] = dy * m->O[k];
        memset(w->dQp + b * HD, 0, HD * sizeof(double));
        smx_attn_backward(w->dQp + b * HD, w->dKp + b * L * HD, w->dVp + b * L * HD, NULL, dout, w->A + b * m->H * L,
                          w->E + b * m->H * L, w->Qp + b * HD, w->Kp + b * L * HD, w->Vp + b * L * HD, L,
                          SMX_ATTN_NONE, 1.0, &m->at, wk);
    }
    mh_gemm_dw(g + (m->Wk - m->w), w->dKp + b0 * L * HD, w->Z + b0 * L * D, nb * L, D, HD);
    mh_gemm_dw(g + (m->Wv - m->w), w->dVp + b0 * L * HD, w->Z + b0 * L * D, nb * L, D, HD);
    mh_gemm_dw(g + (m->Wq - m->w), w->dQp + b0 * HD, w->Zq + b0 * D, nb, D, HD);
}

/* Mean squared error of w->yh against w->yq (sum in batch order). */
static double mh_loss(const mh_ws_t *w, size_t B)
{
    double loss = 0;
    for (size_t b = 0; b < B; b++) loss += (w->yh[b] - w->yq[b]) * (w->yh[b] - w->yq[b]);
    return loss / (double)B;
}

/* Forward on w's batch (B tasks, L tokens): w->yh; returns the mean squared error. */
static double mh_forward(mh_ws_t *w, const mh_model_t *m, size_t B, size_t L)
{
    size_t nc = (B + MH_CHUNK - 1) / MH_CHUNK;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t c = 0; c < nc; c++)
        mh_fwd_chunk(w, m, B, L, c, w->work + (size_t)omp_get_thread_num() * smx_attn_work_size(L));
    return mh_loss(w, B);
}

/* One training step's forward and backward in ONE parallel region (chunks handed out dynamically; each does its
 * forward then its backward), then m->g = sum of the chunks' gradients in chunk order. Returns the loss. */
static double mh_step(mh_ws_t *w, mh_model_t *m, size_t B, size_t L)
{
    size_t nc = (B + MH_CHUNK - 1) / MH_CHUNK;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t c = 0; c < nc; c++) {
        double *wk = w->work + (size_t)omp_get_thread_num() * smx_attn_work_size(L);
        mh_fwd_chunk(w, m, B, L, c, wk);
        mh_bwd_chunk(w, m, B, L, c, wk);
    }
    memcpy(m->g, w->gc, m->np * sizeof *m->g);
    for (size_t c = 1; c < nc; c++)
        for (size_t i = 0; i < m->np; i++) m->g[i] += w->gc[c * m->np + i];
    return mh_loss(w, B);
}

/* KQ_h = K_h^T Q_h (D x D) and OV_h = V_h^T O_h^T (D) of head h */
static void mh_patterns(double *KQ, double *OV, const mh_model_t *m, size_t h)
{
    size_t D = m->D;
    const double *Q = m->Wq + h * D * D, *K = m->Wk + h * D * D, *V = m->Wv + h * D * D, *O = m->O + h * D;
    for (size_t i = 0; i < D; i++) {
        for (size_t j = 0; j < D; j++) {
            double s = 0;
            for (size_t k = 0; k < D; k++) s += K[k * D + i] * Q[k * D + j];
            KQ[i * D + j] = s;
        }
        double s = 0;
        for (size_t k = 0; k < D; k++) s += V[k * D + i] * O[k];
        OV[i] = s;
    }
}

/* Test hook: the model's gradient against central differences of the loss (tiny model and batch).
 * *max_err = max_i |g_i - fd_i| / max_i |g_i|. */
int icl_multihead_gradcheck(double *max_err, size_t H, unsigned long seed)
{
    mh_model_t m;
    mh_ws_t w;
    size_t B = 37, L = 6, d = 3; /* 37 = 16 + 16 + 5: three chunks, the last one partial */
    gsl_rng *r = smx_rng_alloc(seed);
    int st = mh_model_alloc(&m, H, d, r);
    if (!st) st = mh_ws_alloc(&w, B, L, &m);
    if (st) {
        gsl_rng_free(r);
        return st;
    }
    for (size_t i = 0; i < m.np; i++) m.w[i] *= 3.0; /* sharper attention than at init */
    mh_sample(&w, B, L, d, 0.1, r);
    gsl_rng_free(r);
    mh_step(&w, &m, B, L);
    double gmax = 0, emax = 0, h = 1e-6;
    for (size_t i = 0; i < m.np; i++) gmax = fmax(gmax, fabs(m.g[i]));
    for (size_t i = 0; i < m.np; i++) {
        double w0 = m.w[i];
        m.w[i] = w0 + h;
        double lp = mh_forward(&w, &m, B, L);
        m.w[i] = w0 - h;
        double lm = mh_forward(&w, &m, B, L);
        m.w[i] = w0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h) - m.g[i]));
    }
    *max_err = emax / gmax;
    mh_ws_free(&w);
    mh_model_free(&m);
    return SMX_OK;
}

/* --dump: the initial weights of an H-head model (RNG stream (seed, H), as in training), its first batch, the loss
 * and the gradient of one forward / backward, as text (%.17g): a line "smx-icl-multihead-dump H d L B np", then
 * lines "name count" followed by count values one a line: Wq, Wk, Wv, O (torch.nn.Linear weight layout: (out, in)
 * row-major), Z (B, L, d+1), Zq (B, d+1), yq (B), loss (1), grad (np, the order of Wq, Wk, Wv, O). */
static int mh_dump(const char *path, size_t H, size_t d, size_t L, size_t B, double s2, unsigned long seed)
{
    mh_model_t m = {0};
    mh_ws_t w = {0};
    gsl_rng *r = smx_rng_alloc_stream(seed, H);
    int st = r ? mh_model_alloc(&m, H, d, r) : SMX_ENOMEM;
    if (!st) st = mh_ws_alloc(&w, B, L, &m);
    FILE *f = NULL;
    if (!st) {
        mh_sample(&w, B, L, d, s2, r);
        double loss = mh_step(&w, &m, B, L);
        size_t D = m.D, HD = H * D;
        const char *names[] = {"Wq", "Wk", "Wv", "O", "Z", "Zq", "yq", "loss", "grad"};
        const double *v[] = {m.Wq, m.Wk, m.Wv, m.O, w.Z, w.Zq, w.yq, &loss, m.g};
        size_t cnt[] = {HD * D, HD * D, HD * D, HD, B * L * D, B * D, B, 1, m.np};
        if (!(f = fopen(path, "w"))) st = SMX_EIO;
        if (f) {
            fprintf(f, "smx-icl-multihead-dump %zu %zu %zu %zu %zu\n", H, d, L, B, m.np);
            for (size_t i = 0; i < sizeof cnt / sizeof cnt[0]; i++) {
                fprintf(f, "%s %zu\n", names[i], cnt[i]);
                for (size_t k = 0; k < cnt[i]; k++) fprintf(f, "%.17g\n", v[i][k]);
            }
            if (fclose(f)) st = SMX_EIO;
        }
    }
    mh_ws_free(&w);
    mh_model_free(&m);
    if (r) gsl_rng_free(r);
    return st;
}

/* ---------------- checkpoints (solvers/run.h) ----------------
 * The models (one per H) train independently, one per thread, so each keeps a snapshot of its own state taken at
 * its own step: step, weights, Adam's step and moments, its RNG, the log sum of the current window and its log so
 * far. A checkpoint is every snapshot at once (entries "H<k>.step", "H<k>.w", "H<k>.acc", "H<k>.log",
 * "H<k>.optim_*", "H<k>.rng.*"), written under one lock whenever a model's clock is due (--checkpoint-every seconds
 * of its training, --stop-after N of its steps, the end of its training); the file's "step" is the least of the
 * models' steps (0 while a model has no snapshot yet; such a model restarts from scratch on --resume, which gives
 * the same bytes: its data and initial weights come from its own RNG stream). */
typedef struct {
    int valid;
    long step;
    size_t np;
    double acc, *w, *log;
    smx_optim_t o;          /* Adam's step and moments only (m, v: np doubles each) */
    gsl_rng *r;
} mh_snap_t;

typedef struct {
    const char *path;       /* NULL: no checkpoints */
    const smx_ckpt_t *in;   /* --resume: the checkpoint read (fingerprint checked), else NULL */
    char fp[1024];
    double every;
    long stop_after;        /* > 0: each model stops at this step (a checkpoint, then exit 5) */
    size_t nlogw;           /* doubles of one model's log */
    mh_snap_t s[8];
} mh_ckpt_t;

/* Copy a model's state into its snapshot p (allocated on first use): SMX_OK or SMX_ENOMEM. */
static int mh_snap_take(mh_snap_t *p, long step, double acc, const mh_model_t *m, const smx_optim_t *o,
                        const gsl_rng *r, const double *log, size_t nlogw)
{
    if (!p->w) {
        p->np = m->np, p->o.dtype = SMX_DTYPE_F64, p->o.total = m->np;
        p->w = malloc(m->np * sizeof *p->w), p->o.m = malloc(m->np * sizeof(double));
        p->o.v = malloc(m->np * sizeof(double)), p->log = malloc((nlogw + 1) * sizeof *p->log);
        p->r = gsl_rng_clone(r);
        if (!p->w || !p->o.m || !p->o.v || !p->log || !p->r) return SMX_ENOMEM;
    }
    memcpy(p->w, m->w, m->np * sizeof *p->w);
    memcpy(p->o.m, o->m, m->np * sizeof(double));
    memcpy(p->o.v, o->v, m->np * sizeof(double));
    memcpy(p->log, log, nlogw * sizeof *p->log);
    gsl_rng_memcpy(p->r, r);
    p->step = step, p->acc = acc, p->o.step = o->step, p->valid = 1;
    return SMX_OK;
}

static void mh_snap_free(mh_snap_t *p)
{
    free(p->w), free(p->o.m), free(p->o.v), free(p->log);
    if (p->r) gsl_rng_free(p->r);
}

/* Write every snapshot to k->path atomically (call under the lock); Hs: each slot's H. */
static int mh_ckpt_write(const mh_ckpt_t *k, const size_t *Hs, size_t nH)
{
    long least = -1;
    for (size_t i = 0; i < nH; i++)
        least = !k->s[i].valid ? 0 : (least < 0 || k->s[i].step < least) ? k->s[i].step : least;
    smx_ckpt_t *c = smx_run_ckpt_new(k->fp, least);
    int st = c ? SMX_OK : SMX_ENOMEM;
    for (size_t i = 0; i < nH && !st; i++) {
        const mh_snap_t *p = &k->s[i];
        if (!p->valid) continue;
        char pre[32], key[64];
        double acc = p->acc;
        snprintf(pre, sizeof pre, "H%zu.", Hs[i]);
        st = smx_ckpt_put_long(c, (snprintf(key, sizeof key, "%sstep", pre), key), p->step);
        if (!st) st = smx_ckpt_put_f64(c, (snprintf(key, sizeof key, "%sw", pre), key), p->w, p->np);
        if (!st) st = smx_ckpt_put_f64(c, (snprintf(key, sizeof key, "%sacc", pre), key), &acc, 1);
        if (!st) st = smx_ckpt_put_f64(c, (snprintf(key, sizeof key, "%slog", pre), key), p->log, k->nlogw);
        if (!st) st = smx_run_put_optim_prefixed(c, pre, &p->o);
        if (!st) st = smx_run_put_rng(c, (snprintf(key, sizeof key, "%srng", pre), key), p->r);
    }
    if (!st) st = smx_ckpt_write(c, k->path);
    smx_ckpt_free(c);
    return st;
}

/* Snapshot a model and write the checkpoint, under one lock (from any thread). */
static int mh_ckpt_save(mh_ckpt_t *k, size_t hi, const size_t *Hs, size_t nH, long step, double acc,
                        const mh_model_t *m, const smx_optim_t *o, const gsl_rng *r, const double *log)
{
    int st;
#pragma omp critical(mh_ckpt)
    {
        st = mh_snap_take(&k->s[hi], step, acc, m, o, r, log, k->nlogw);
        if (!st) st = mh_ckpt_write(k, Hs, nH);
    }
    return st;
}

/* --resume: model H's state from k->in into m, o, r, log, *step, *acc; NULL (also when the checkpoint has no entries
 * for H: the model starts afresh) or a static reason. */
static const char *mh_ckpt_restore(const mh_ckpt_t *k, size_t H, long steps, mh_model_t *m, smx_optim_t *o,
                                   gsl_rng *r, double *log, long *step, double *acc)
{
    char pre[32], key[64];
    snprintf(pre, sizeof pre, "H%zu.", H);
    if (smx_ckpt_get_long(step, k->in, (snprintf(key, sizeof key, "%sstep", pre), key))) return NULL;
    if (*step < 0 || *step > steps) return "bad step";
    if (smx_ckpt_get_f64(m->w, k->in, (snprintf(key, sizeof key, "%sw", pre), key), m->np)) return "bad weights";
    if (smx_ckpt_get_f64(acc, k->in, (snprintf(key, sizeof key, "%sacc", pre), key), 1)) return "bad log sum";
    if (smx_ckpt_get_f64(log, k->in, (snprintf(key, sizeof key, "%slog", pre), key), k->nlogw)) return "bad log";
    if (smx_run_get_optim_prefixed(o, k->in, pre)) return "bad Adam state";
    if (smx_run_get_rng(r, k->in, (snprintf(key, sizeof key, "%srng", pre), key))) return "bad RNG state";
    return NULL;
}

/* ---------------- program ---------------- */

static const char usage[] =
    "Usage: smx-icl multihead [OPTIONS]\n"
    "H-head softmax attention on in-context linear regression (He et al., ICML 2025; code XintianPan/ICL_linear):\n"
    "per head Q, K, V in R^{(d+1)x(d+1)} without bias, O: R^{H(d+1)} -> R, scores scaled by 1/sqrt(d+1), the query\n"
    "(x_q, 0) attends to the L context tokens only, torch.nn.Linear's default initialisation; x, x_q ~ N(0, I_d),\n"
    "beta ~ N(0, I/d), noise sd sqrt(s2) on every y including y_q; mean squared error; Adam (no weight decay),\n"
    "fresh data every step. One model per H. Records omega_h (mean of the first d diagonal entries of K_h^T Q_h:\n"
    "raw, / sqrt(d+1) = the forward pass's units, / sqrt(d+2) = the authors' plots' units) and mu_h (last entry of\n"
    "V_h^T O_h^T) every --log-every steps; at the end the KQ / OV patterns and the test MSE at every --eval-L\n"
    "(y_q's noise counted once). The quick profile trains far fewer steps than the paper (500,001): its omega, mu\n"
    "are early-training values.\n"
    "  --H LIST        heads (default 1,2,4,8)\n"
    "  --L N           training prompt length (default 40)\n"
    "  --d N --sigma2 X   (default 5, 0.1)\n"
    "  --batch N       (default 256)\n"
    "  --steps N       (quick 4000, paper 500001)\n"
    "  --lr X          Adam learning rate (default 1e-3)\n"
    "  --weight-decay X  AdamW's decoupled weight decay (default 0: Adam, as the authors)\n"
    "  --log-every N   (quick 200, paper 5000)\n"
    "  --eval-L LIST   test prompt lengths (default 10,20,40,60,80,100)\n"
    "  --eval-tasks N  test tasks per L (quick 2048, paper 20480)\n"
    "  --dump FILE     no training: write the first H's initial weights, its first batch, the loss and the\n"
    "                  gradient of one forward / backward to FILE (text, %.17g; read by experiments/icl_peers.py\n"
    "                  --check, the PyTorch cross-check) and exit\n"
    "  --seed N --out FILE (default data/quick/icl-multihead.tsv; also OUT-heads.tsv, OUT-patterns.tsv,\n"
    "  OUT-length.tsv) --profile quick|paper --threads N (models trained in parallel, one thread each; a single\n"
    "  H uses all threads inside its forward / backward: same bytes)\n"
    "  --quiet (no progress or steps/s on stderr) --help --version\n"
    "Checkpoints (solvers/run.h; for the paper's 500,001-step runs): each model's weights, Adam moments, RNG state\n"
    "and log so far, and every option above but --out, --threads, --quiet; a stopped and resumed run writes the\n"
    "same bytes as an uninterrupted one, for any --threads. Off unless one of these is given:\n"
    "  --checkpoint FILE        where to write it (default OUT.ckpt), atomically\n"
    "  --checkpoint-every SEC   every SEC seconds of each model's training (default 180; 0: only at the end)\n"
    "  --resume                 continue from the checkpoint; if there is none, start afresh (a note on stderr);\n"
    "                           one written with other options or unreadable: exit 2 naming it\n"
    "  --stop-after N           each model stops after N steps in all: checkpoint, exit status 5, no data\n";

enum { O_H = SMX_OPT_FIRST_PRIVATE, O_L, O_D, O_S2, O_BATCH, O_STEPS, O_LR, O_LOG, O_EVL, O_EVT, O_DUMP, O_WD, O_CKPT,
       O_CKPT_EVERY, O_RESUME, O_STOP_AFTER };

int icl_cmd_multihead(int argc, char **argv)
{
    static const char prog[] = "smx-icl multihead";
    static const struct option lopts[] = {
        SMX_CLI_ARG("H", O_H), SMX_CLI_ARG("L", O_L), SMX_CLI_ARG("d", O_D),
        SMX_CLI_ARG("sigma2", O_S2), SMX_CLI_ARG("batch", O_BATCH),
        SMX_CLI_ARG("steps", O_STEPS), SMX_CLI_ARG("lr", O_LR),
        SMX_CLI_ARG("log-every", O_LOG), SMX_CLI_ARG("eval-L", O_EVL),
        SMX_CLI_ARG("eval-tasks", O_EVT), SMX_CLI_ARG("dump", O_DUMP),
        SMX_CLI_ARG("weight-decay", O_WD), SMX_CLI_ARG("checkpoint", O_CKPT),
        SMX_CLI_ARG("checkpoint-every", O_CKPT_EVERY), SMX_CLI_FLAG("resume", O_RESUME),
        SMX_CLI_ARG("stop-after", O_STOP_AFTER), ICL_COMMON_OPTIONS, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    mh_ckpt_t ck = {.every = SMX_RUN_CKPT_EVERY};
    int ckpt_on = 0, resume = 0;
    char *ckpath = NULL;
    /* the command line for the metadata, without the checkpoint options (solvers/run.h) */
    char **kept = malloc(((size_t)argc + 1) * sizeof *kept);
    if (!kept) smx_cli_fail(prog, "out of memory");
    int kargc = smx_run_argv_filter(kept, argc, argv);
    size_t Hs[8] = {1, 2, 4, 8}, nH = 4, L = 40, d = 5, B = 256, evL[32] = {10, 20, 40, 60, 80, 100}, nev = 6;
    double s2 = 0.1, lr = 1e-3, wd = 0;
    const char *dump = NULL;
    long steps = -1, logev = -1, evt = -1;
    int opt, quiet = 0;
    icl_opt_begin();
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_H: nH = icl_sizes_or_fail(Hs, 8, optarg, 1, 64, prog, "--H"); break;
        case O_L: L = (size_t)smx_cli_long_or_fail(optarg, 1, 10000, prog, "--L"); break;
        case O_D: d = (size_t)smx_cli_long_or_fail(optarg, 1, 63, prog, "--d"); break;
        case O_S2: s2 = smx_cli_double_or_fail(optarg, prog, "--sigma2");
            if (!(s2 >= 0 && s2 < 1e6)) smx_cli_fail(prog, "--sigma2: must be in [0, 1e6)");
            break;
        case O_BATCH: B = (size_t)smx_cli_long_or_fail(optarg, 1, 1 << 20, prog, "--batch"); break;
        case O_STEPS: steps = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--steps"); break;
        case O_LR: lr = smx_cli_double_or_fail(optarg, prog, "--lr");
            if (!(lr > 0 && lr < 10)) smx_cli_fail(prog, "--lr: must be in (0, 10)");
            break;
        case O_LOG: logev = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--log-every"); break;
        case O_EVL: nev = icl_sizes_or_fail(evL, 32, optarg, 1, 10000, prog, "--eval-L"); break;
        case O_EVT: evt = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--eval-tasks"); break;
        case O_DUMP: dump = optarg; break;
        case O_WD: wd = smx_cli_double_range_or_fail(optarg, 0, 10, prog, "--weight-decay"); break;
        case O_CKPT:
            if (!*optarg) smx_cli_fail(prog, "--checkpoint: empty file name");
            ck.path = optarg, ckpt_on = 1;
            break;
        case O_CKPT_EVERY: ck.every = smx_cli_double_range_or_fail(optarg, 0, 1e9, prog, "--checkpoint-every");
            ckpt_on = 1;
            break;
        case O_RESUME: resume = ckpt_on = 1; break;
        case O_STOP_AFTER: ck.stop_after = smx_cli_long_or_fail(optarg, 1, 200000000, prog, "--stop-after");
            ckpt_on = 1;
            break;
        default:
            smx_cli_common_or_quiet(&c, &quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    for (size_t i = 0; i < nH; i++)
        if (Hs[i] * (d + 1) > 512) smx_cli_fail(prog, "--H: H (d + 1) must be <= 512");
    if (dump) smx_cli_out_check_or_fail(dump, prog, "--dump"); /* before any work */
    smx_nn_init_threads(c.threads);
    if (dump) {
        int rc = mh_dump(dump, Hs[0], d, L, B, s2, c.seed);
        if (rc == SMX_ENOMEM) smx_cli_fail(prog, "out of memory");
        if (rc) {
            smx_cli_io_fail(prog, "--dump: cannot write", dump);
        }
        free(kept);
        return 0;
    }
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (steps < 0) steps = paper ? 500001 : 4000;
    if (logev < 0) logev = paper ? 5000 : 200;
    if (evt < 0) evt = paper ? 20480 : 2048;
    char outbuf[64];
    const char *out = icl_out_or_fail(&c, "icl-multihead", outbuf, sizeof outbuf, prog); /* before any work */
    char *ph = icl_sibling(out, "heads"), *pp = icl_sibling(out, "patterns"), *pl = icl_sibling(out, "length");
    if (!ph || !pp || !pl) smx_cli_fail(prog, "out of memory");
    const char *paths[4] = {out, ph, pp, pl};
    for (int f = 1; f < 4; f++) smx_cli_out_check_or_fail(paths[f], prog, "--out");
    size_t nlog = (size_t)(steps / logev), Hmax = 0, evmax = 0;
    for (size_t i = 0; i < nH; i++) Hmax = Hs[i] > Hmax ? Hs[i] : Hmax;
    for (size_t i = 0; i < nev; i++) evmax = evL[i] > evmax ? evL[i] : evmax;
    smx_ckpt_t *ckin = NULL;
    if (ckpt_on) { /* solvers/run.h: fingerprint of every option that changes results */
        if (!ck.path) {
            if (!(ckpath = malloc(strlen(out) + 6))) smx_cli_fail(prog, "out of memory");
            ck.path = strcat(strcpy(ckpath, out), ".ckpt");
        }
        smx_cli_distinct_or_fail(out, "--out", ck.path, "--checkpoint", prog);
        smx_cli_out_check_or_fail(ck.path, prog, "--checkpoint");
        ck.nlogw = nlog * (1 + 2 * Hmax); /* a model's log: losses, then omega, mu per head */
        int o = snprintf(ck.fp, sizeof ck.fp, "seed=%lu H=", c.seed);
        for (size_t i = 0; i < nH; i++) o += snprintf(ck.fp + o, sizeof ck.fp - (size_t)o, "%s%zu", i ? "," : "", Hs[i]);
        o += snprintf(ck.fp + o, sizeof ck.fp - (size_t)o, " L=%zu d=%zu sigma2=%.17g batch=%zu steps=%ld lr=%.17g "
                      "wd=%.17g log-every=%ld eval-L=", L, d, s2, B, steps, lr, wd, logev);
        for (size_t i = 0; i < nev; i++) o += snprintf(ck.fp + o, sizeof ck.fp - (size_t)o, "%s%zu", i ? "," : "", evL[i]);
        snprintf(ck.fp + o, sizeof ck.fp - (size_t)o, " eval-tasks=%ld", evt);
        if (resume && smx_run_ckpt_missing(ck.path)) {
            fprintf(stderr, "%s: --resume: no checkpoint %s, starting afresh\n", prog, ck.path);
            resume = 0;
        }
        if (resume) {
            const char *why = NULL;
            long least;
            int rs = smx_run_ckpt_open(&ckin, &least, &why, ck.path, ck.fp);
            if (rs == SMX_EDOM) {
                char diff[1200];
                smx_run_fingerprint_diff(diff, sizeof diff, ck.path, ck.fp);
                smx_cli_fail(prog, "--resume: %s was %s", ck.path, diff);
            }
            if (rs) smx_cli_fail(prog, "--resume: %s: %s", ck.path, why ? why : smx_strerror(rs));
            ck.in = ckin;
        }
    } else
        ck.path = NULL;
    size_t D = d + 1;
    /* results: per H: log (nlog: loss), heads log (nlog x Hmax x 2: omega raw, mu), patterns (Hmax x (D*D + D)),
     * length (nev x 2) */
    size_t per = nlog + nlog * Hmax * 2 + Hmax * (D * D + D) + nev * 2;
    double *res = calloc(nH * per, sizeof *res);
    if (!res) smx_cli_fail(prog, "out of memory");
    int st = SMX_OK, fail = SMX_OK;
    char ckmsg[512] = "";
    /* one model per thread: OpenMP over the H values (each run single-threaded inside; its own RNG stream
     * (seed, H)), so the bytes do not depend on --threads. A single H: the outer region is inactive and the
     * chunk loop of mh_step / mh_forward gets the threads (fixed chunks of MH_CHUNK tasks, their gradients summed
     * in chunk order: same bytes) */
    omp_set_max_active_levels(1);
#pragma omp parallel for schedule(dynamic, 1) if (nH > 1)
    for (size_t hi = 0; hi < nH; hi++) {
        size_t H = Hs[hi];
        double *lg = res + hi * per, *hl = lg + nlog, *pat = hl + nlog * Hmax * 2, *len = pat + Hmax * (D * D + D);
        gsl_rng *r = smx_rng_alloc_stream(c.seed, H);
        mh_model_t m = {0};
        mh_ws_t w = {0}, we;
        smx_optim_t *opt_ = NULL;
        smx_optim_cfg_t cfg;
        smx_optim_cfg_default(&cfg, SMX_OPTIM_ADAMW);
        cfg.lr = lr, cfg.weight_decay = wd; /* 0: torch.optim.Adam */
        size_t lens[4];
        int st = mh_model_alloc(&m, H, d, r);
        for (int i = 0; i < 4; i++) lens[i] = m.t[i].n;
        if (!st) st = mh_ws_alloc(&w, B, L, &m);
        if (!st) st = smx_optim_alloc(&opt_, &cfg, SMX_DTYPE_F64, lens, 4);
        char label[64];
        snprintf(label, sizeof label, "multihead H = %zu", H);
        smx_progress_t pr;
        smx_progress_start(&pr, label, (double)steps, quiet);
        double acc = 0, t0 = smx_time_now();
        long s0 = 0;
        const char *why = !st && ck.in ? mh_ckpt_restore(&ck, H, steps, &m, opt_, r, lg, &s0, &acc) : NULL;
        if (why) {
#pragma omp critical
            snprintf(ckmsg, sizeof ckmsg, "--resume: %s: H = %zu: %s", ck.path, H, why);
            st = MH_BADCKPT;
        }
        smx_run_clock_t clk;
        /* --stop-after N: this model stops at step N unless it is already there or N >= steps */
        smx_run_clock_start(&clk, ck.every, ck.stop_after > s0 && ck.stop_after < steps ? ck.stop_after : 0,
                            smx_time_now());
        if (!st && ck.path && s0 < steps) st = mh_ckpt_save(&ck, hi, Hs, nH, s0, acc, &m, opt_, r, lg);
        long s = s0;
        for (; s < steps && !st; s++) {
            if (ck.path && s > s0) {
                int due = smx_run_clock_due(&clk, s, smx_time_now());
                if (due != SMX_RUN_CONTINUE) st = mh_ckpt_save(&ck, hi, Hs, nH, s, acc, &m, opt_, r, lg);
                if (!st && due == SMX_RUN_STOP) {
                    st = MH_STOPPED;
                    break;
                }
            }
            mh_sample(&w, B, L, d, s2, r);
            acc += mh_step(&w, &m, B, L);
            st = smx_optim_step(opt_, m.t, 4);
            if ((s + 1) % logev == 0) {
                size_t k = (size_t)((s + 1) / logev) - 1;
                lg[k] = acc / (double)logev, acc = 0;
                double KQ[64 * 64], OV[64];
                for (size_t h = 0; h < H; h++) {
                    mh_patterns(KQ, OV, &m, h);
                    double om = 0;
                    for (size_t i = 0; i < d; i++) om += KQ[i * D + i] / (double)d;
                    hl[(k * Hmax + h) * 2] = om, hl[(k * Hmax + h) * 2 + 1] = OV[d];
                }
            }
            smx_progress_update(&pr, (double)(s + 1));
        }
        if (!st && ck.path) st = mh_ckpt_save(&ck, hi, Hs, nH, s, acc, &m, opt_, r, lg); /* the end of training */
        smx_progress_finish(&pr);
        if (!quiet && !st && s > s0)
            fprintf(stderr, "%s: H = %zu: %.1f steps/s (%s)\n", prog, H, (double)(s - s0) / (smx_time_now() - t0),
                    nH > 1 ? "one thread per model" : "all threads on one model");
        for (size_t h = 0; !st && h < H; h++) mh_patterns(pat + h * (D * D + D), pat + h * (D * D + D) + D * D, &m, h);
        /* test MSE at each eval L: fixed test streams (seed, L), the same for every H */
        for (size_t e = 0; e < nev && !st; e++) {
            size_t Le = evL[e], done = 0;
            double sum = 0, sq = 0;
            st = mh_ws_alloc(&we, B, Le, &m);
            gsl_rng *re = smx_rng_alloc_stream(c.seed, 1000000UL + Le);
            while (!st && done < (size_t)evt) {
                size_t nb = (size_t)evt - done < B ? (size_t)evt - done : B;
                mh_sample(&we, nb, Le, d, s2, re);
                mh_forward(&we, &m, nb, Le);
                for (size_t b = 0; b < nb; b++) {
                    double e2 = (we.yh[b] - we.yq[b]) * (we.yh[b] - we.yq[b]);
                    sum += e2, sq += e2 * e2;
                }
                done += nb;
            }
            double mean = sum / (double)evt;
            len[2 * e] = mean;
            len[2 * e + 1] = evt > 1 ? sqrt(fmax(sq / (double)evt - mean * mean, 0) * evt / (evt - 1.0) / evt) : 0;
            gsl_rng_free(re);
            mh_ws_free(&we);
        }
        smx_optim_free(opt_);
        mh_ws_free(&w);
        mh_model_free(&m);
        gsl_rng_free(r);
        if (st) {
#pragma omp critical
            if (fail != MH_BADCKPT && fail != SMX_EIO) fail = st; /* the worst status wins */
        }
    }
    for (size_t i = 0; i < nH; i++) mh_snap_free(&ck.s[i]);
    if (ckin) smx_ckpt_free(ckin);
    if (fail == MH_BADCKPT) smx_cli_fail(prog, "%s", ckmsg);
    if (fail == SMX_EIO) smx_cli_io_fail(prog, "--checkpoint: cannot write", ck.path);
    if (fail == MH_STOPPED) {
        fprintf(stderr, "%s: --stop-after %ld: checkpoint written to %s\n", prog, ck.stop_after, ck.path);
        free(res), free(ph), free(pp), free(pl), free(kept), free(ckpath);
        return SMX_RUN_EXIT_STOPPED;
    }
    if (fail) smx_cli_fail(prog, "out of memory");
    /* write the four files: they appear all together or not at all (smx_tsv_close_all) */
    smx_tsv_t *ts[4] = {0};
    for (int f = 0; f < 4; f++) {
        smx_tsv_t *t = ts[f] = smx_tsv_open(paths[f]);
        if (!t) {
            for (int g = 0; g < f; g++) smx_tsv_abort(ts[g]);
            smx_cli_io_fail(prog, "--out: cannot write", paths[f]);
        }
        smx_tsv_meta_std(t, prog, kargc, kept); /* without the checkpoint options: a resumed run's bytes */
        smx_cli_meta(t, &c);
        double hv[8];
        for (size_t i = 0; i < nH; i++) hv[i] = (double)Hs[i];
        icl_meta_list(t, "H", hv, nH);
        smx_tsv_meta(t, "L", "%zu", L);
        smx_tsv_meta(t, "d", "%zu", d);
        smx_tsv_meta(t, "sigma2", "%g", s2);
        smx_tsv_meta(t, "batch", "%zu", B);
        smx_tsv_meta(t, "steps", "%ld", steps);
        smx_tsv_meta(t, "lr", "%g", lr);
        if (wd != 0) smx_tsv_meta(t, "weight_decay", "%g", wd); /* only when set: default outputs keep their bytes */
        smx_tsv_meta(t, "log_every", "%ld", logev);
        smx_tsv_meta(t, "eval_tasks", "%ld", evt);
        smx_tsv_meta(t, "paper", "He et al. ICML 2025: trained two-head omega = 0.13, mu = 3.45 (authors' units); "
                                 "test MSE at L = 40 of the two-head estimator 0.2430 (their curve adds 0.1: 0.341)");
        if (f == 0) {
            smx_tsv_header(t, "H\tstep\ttrain_loss");
            for (size_t hi = 0; hi < nH; hi++)
                for (size_t k = 0; k < nlog; k++) {
                    smx_tsv_int(t, (long long)Hs[hi]);
                    smx_tsv_int(t, (long long)((k + 1) * (size_t)logev));
                    smx_tsv_num(t, res[hi * per + k]);
                    smx_tsv_endrow(t);
                }
        } else if (f == 1) {
            smx_tsv_header(t, "H\tstep\thead\tomega_raw\tomega_fwd\tomega_authors\tmu");
            for (size_t hi = 0; hi < nH; hi++)
                for (size_t k = 0; k < nlog; k++)
                    for (size_t h = 0; h < Hs[hi]; h++) {
                        const double *v = res + hi * per + nlog + (k * Hmax + h) * 2;
                        smx_tsv_int(t, (long long)Hs[hi]);
                        smx_tsv_int(t, (long long)((k + 1) * (size_t)logev));
                        smx_tsv_int(t, (long long)h + 1);
                        smx_tsv_num(t, v[0]);
                        smx_tsv_num(t, v[0] / sqrt((double)d + 1));
                        smx_tsv_num(t, v[0] / sqrt((double)d + 2));
                        smx_tsv_num(t, v[1]);
                        smx_tsv_endrow(t);
                    }
        } else if (f == 2) {
            smx_tsv_meta(t, "layout", "matrix KQ = K_h^T Q_h (row i, column j), OV = V_h^T O_h^T (row i, column 1)");
            smx_tsv_header(t, "H\thead\tmatrix\ti\tj\tvalue");
            for (size_t hi = 0; hi < nH; hi++)
                for (size_t h = 0; h < Hs[hi]; h++) {
                    const double *KQ = res + hi * per + nlog + nlog * Hmax * 2 + h * (D * D + D), *OV = KQ + D * D;
                    for (size_t i = 0; i < D; i++)
                        for (size_t j = 0; j <= D; j++) {
                            if (j == D && i > 0) continue;
                            int ov = j == D;
                            for (size_t ii = ov ? 0 : i; ii < (ov ? D : i + 1); ii++) {
                                smx_tsv_int(t, (long long)Hs[hi]);
                                smx_tsv_int(t, (long long)h + 1);
                                smx_tsv_str(t, ov ? "OV" : "KQ");
                                smx_tsv_int(t, (long long)ii + 1);
                                smx_tsv_int(t, ov ? 1 : (long long)j + 1);
                                smx_tsv_num(t, ov ? OV[ii] : KQ[ii * D + j]);
                                smx_tsv_endrow(t);
                            }
                        }
                }
        } else {
            smx_tsv_meta(t, "noise", "y_q's noise counted once (the authors' curves add 0.1 on top)");
            smx_tsv_header(t, "H\tL\tmse\tmse_se");
            for (size_t hi = 0; hi < nH; hi++)
                for (size_t e = 0; e < nev; e++) {
                    const double *v = res + hi * per + nlog + nlog * Hmax * 2 + Hmax * (D * D + D) + 2 * e;
                    smx_tsv_int(t, (long long)Hs[hi]);
                    smx_tsv_int(t, (long long)evL[e]);
                    smx_tsv_num(t, v[0]);
                    smx_tsv_num(t, v[1]);
                    smx_tsv_endrow(t);
                }
        }
    }
    st = smx_tsv_close_all(ts, 4);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out); /* errno: the first failure */
    free(res), free(ph), free(pp), free(pl), free(kept), free(ckpath);
    return st ? SMX_EXIT_FAILURE : 0;
}
