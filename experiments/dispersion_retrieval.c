/* dispersion_retrieval.c - smx-dispersion retrieval: the max-retrieval task of Velickovic et al.
 * 2024 ("softmax is not enough", Sec. 2-4): one attention head between two MLPs, trained on sets
 * of <= 16 items, tested on up to 2^14; softmax vs adaptive temperature (inference only) vs
 * SSMax (Nakanishi 2025, s trained). Dense layers: solvers/nn.h (BLAS); AdamW: solvers/optim.h;
 * attention forward / backward: solvers/attn.h (one head, no exclusion). Long runs checkpoint the
 * whole training state (numerics/ckpt.h) and --resume from it with the same bytes of output.
 *
 * Model (choices where the paper is silent, stated in --help and the metadata):
 *   item x_i = [priority ~ U(0,1), one-hot class of 10]                        (11)
 *   h_i = W2 relu(W1 x_i + b1) + b2                                            (d)
 *   k_i = Wk h_i, v_i = Wv h_i; learned query q (d)
 *   e_i = q.k_i / sqrt(d); alpha = softmax(c e): c = 1, beta(H) (adaptive), s ln n (SSMax)
 *   o = sum_i alpha_i v_i; logits = Wp2 relu(Wp1 o + bp1) + bp2 (10); target = class of the
 *   max-priority item; mean cross-entropy; AdamW. */
#include "dispersion_cmds.h"
#include "attn.h"
#include "ckpt.h"
#include "lse.h"
#include "nn.h"
#include "optim.h"
#include "run.h"
#include "smx.h"
#include "temperature.h"
#include "tsv.h"
#include "util.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

/* ---------------- model ---------------- */

#define RET_DIN 11
#define RET_NC 10
#define RET_NT 12
typedef enum { RET_SOFTMAX = 0, RET_ADAPTIVE = 1, RET_SSMAX = 2 } ret_method_t;
static const char *const ret_method_names[] = {"softmax", "adaptive", "ssmax"};

typedef struct {
    size_t d, np;
    double *w, *g; /* all parameters / gradients, one allocation each */
    double *W1, *b1, *W2, *b2, *Wk, *Wv, *q, *Wp1, *bp1, *Wp2, *bp2, *s;
    smx_tensor_t t[RET_NT];
} ret_model_t;

#define GRAD(m, p) ((m)->g + ((p) - (m)->w))

static int ret_model_alloc(ret_model_t *m, size_t d, double s0, gsl_rng *r)
{
    size_t len[RET_NT] = {d * RET_DIN, d, d * d, d, d * d, d * d, d, d * d, d, RET_NC * d, RET_NC, 1};
    double **ptr[RET_NT] = {&m->W1, &m->b1, &m->W2, &m->b2, &m->Wk, &m->Wv, &m->q, &m->Wp1, &m->bp1, &m->Wp2,
                            &m->bp2, &m->s};
    size_t fan[RET_NT] = {RET_DIN, RET_DIN, d, d, d, d, d, d, d, d, d, 1};
    m->d = d;
    m->np = 0;
    for (int i = 0; i < RET_NT; i++) m->np += len[i];
    m->w = calloc(m->np, sizeof *m->w);
    m->g = calloc(m->np, sizeof *m->g);
    if (!m->w || !m->g) return SMX_ENOMEM;
    size_t off = 0;
    for (int i = 0; i < RET_NT; i++) {
        *ptr[i] = m->w + off;
        m->t[i] = (smx_tensor_t){m->w + off, m->g + off, len[i]};
        smx_nn_init_uniform_f64(m->w + off, len[i], fan[i], r); /* torch.nn.Linear default */
        off += len[i];
    }
    *m->s = s0;
    return SMX_OK;
}

static void ret_model_free(ret_model_t *m)
{
    free(m->w);
    free(m->g);
}

typedef struct {
    size_t rows, sets;
    double *X, *R1, *H, *K, *V, *E, *A, *O, *U, *L, *P, *work, *beta;
    double *dH, *dH2, *dK, *dV, *dR1, *dO, *dU, *dL;
    int *y;
} ret_ws_t;

static int ret_ws_alloc(ret_ws_t *w, size_t rows, size_t sets, size_t d, int train)
{
    memset(w, 0, sizeof *w);
    w->rows = rows, w->sets = sets;
    size_t nd = rows * d;
    w->X = malloc(rows * RET_DIN * sizeof(double));
    w->R1 = malloc(nd * sizeof(double)), w->H = malloc(nd * sizeof(double));
    w->K = malloc(nd * sizeof(double)), w->V = malloc(nd * sizeof(double));
    w->E = malloc(rows * sizeof(double)), w->A = malloc(rows * sizeof(double)), w->work = malloc(smx_attn_work_size(rows) * sizeof(double));
    w->O = malloc(sets * d * sizeof(double)), w->U = malloc(sets * d * sizeof(double));
    w->L = malloc(sets * RET_NC * sizeof(double)), w->P = malloc(sets * RET_NC * sizeof(double));
    w->beta = malloc(sets * sizeof(double));
    w->y = malloc(sets * sizeof(int));
    int bad = !w->X || !w->R1 || !w->H || !w->K || !w->V || !w->E || !w->A || !w->work || !w->O || !w->U || !w->L ||
              !w->P || !w->beta || !w->y;
    if (train) {
        w->dH = malloc(nd * sizeof(double)), w->dH2 = malloc(nd * sizeof(double));
        w->dK = malloc(nd * sizeof(double)), w->dV = malloc(nd * sizeof(double)), w->dR1 = malloc(nd * sizeof(double));
        w->dO = malloc(sets * d * sizeof(double)), w->dU = malloc(sets * d * sizeof(double));
        w->dL = malloc(sets * RET_NC * sizeof(double));
        bad |= !w->dH || !w->dH2 || !w->dK || !w->dV || !w->dR1 || !w->dO || !w->dU || !w->dL;
    }
    return bad ? SMX_ENOMEM : SMX_OK;
}

static void ret_ws_free(ret_ws_t *w)
{
    double *p[] = {w->X, w->R1, w->H, w->K, w->V, w->E, w->A, w->work, w->O, w->U, w->L, w->P, w->beta,
                   w->dH, w->dH2, w->dK, w->dV, w->dR1, w->dO, w->dU, w->dL};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    free(w->y);
}

/* B sets of n items into w->X, targets into w->y: priority U(0,1), class uniform of 10. */
static void ret_sample(ret_ws_t *w, size_t B, size_t n, gsl_rng *r)
{
    for (size_t b = 0; b < B; b++) {
        double best = -1;
        for (size_t i = 0; i < n; i++) {
            double *x = w->X + (b * n + i) * RET_DIN;
            memset(x, 0, RET_DIN * sizeof *x);
            x[0] = gsl_rng_uniform(r);
            int cls = (int)gsl_rng_uniform_int(r, RET_NC);
            x[1 + cls] = 1.0;
            if (x[0] > best) best = x[0], w->y[b] = cls;
        }
    }
}

/* Item MLP and projections for N rows: R1 = relu(X W1^T + b1), H = R1 W2^T + b2, K, V. */
static void ret_encode(ret_ws_t *w, const ret_model_t *m, size_t N)
{
    size_t d = m->d;
    smx_nn_dense_fwd_f64(w->R1, w->X, m->W1, m->b1, N, RET_DIN, d);
    smx_nn_relu_fwd_f64(w->R1, w->R1, N * d);
    smx_nn_dense_fwd_f64(w->H, w->R1, m->W2, m->b2, N, d, d);
    smx_nn_dense_fwd_f64(w->K, w->H, m->Wk, NULL, N, d, d);
    smx_nn_dense_fwd_f64(w->V, w->H, m->Wv, NULL, N, d, d);
}

/* The scale c of set b after its attention with c = 1 (adaptive: beta(H) of Velickovic et al.). */
static double ret_scale(const ret_model_t *m, ret_method_t meth, size_t n)
{
    return meth == RET_SSMAX ? smx_ssmax_scale(*m->s, n) : 1.0;
}

/* Attention per set and predictor: O, U, L, P; w->beta[b] = c used. Returns the summed CE loss. */
static double ret_head(ret_ws_t *w, const ret_model_t *m, size_t B, size_t n, ret_method_t meth)
{
    size_t d = m->d;
    double loss = 0;
    smx_attn_t at;
    smx_attn_init(&at, 1, d, d); /* one head, scores q.k / sqrt(d), softmax */
    for (size_t b = 0; b < B; b++) {
        double *o = w->O + b * d, *a = w->A + b * n, *e = w->E + b * n;
        const double *K = w->K + b * n * d, *V = w->V + b * n * d;
        double c = ret_scale(m, meth, n);
        if (smx_attn_forward(o, a, e, m->q, K, V, n, SMX_ATTN_NONE, c, &at, w->work)) return NAN; /* n == 0 */
        if (meth == RET_ADAPTIVE) { /* inference-only sharpening, Velickovic et al. Alg. */
            c = smx_adaptive_beta(smx_softmax_entropy(a, n));
            if (c != 1.0) smx_attn_forward(o, a, e, m->q, K, V, n, SMX_ATTN_NONE, c, &at, w->work);
        }
        w->beta[b] = c;
    }
    smx_nn_dense_fwd_f64(w->U, w->O, m->Wp1, m->bp1, B, d, d);
    smx_nn_relu_fwd_f64(w->U, w->U, B * d);
    smx_nn_dense_fwd_f64(w->L, w->U, m->Wp2, m->bp2, B, d, RET_NC);
    for (size_t b = 0; b < B; b++) {
        smx_softmax_f64(w->P + b * RET_NC, w->L + b * RET_NC, RET_NC);
        loss += smx_lse_f64(w->L + b * RET_NC, RET_NC) - w->L[b * RET_NC + w->y[b]];
    }
    return loss;
}

/* Gradient of the mean CE into m->g (after ret_encode + ret_head on the same w). */
static void ret_backward(ret_ws_t *w, ret_model_t *m, size_t B, size_t n, ret_method_t meth)
{
    size_t d = m->d, N = B * n;
    for (size_t b = 0; b < B; b++)
        for (int k = 0; k < RET_NC; k++)
            w->dL[b * RET_NC + k] = (w->P[b * RET_NC + k] - (k == w->y[b])) / (double)B;
    smx_nn_dense_bwd_f64(w->dU, GRAD(m, m->Wp2), GRAD(m, m->bp2), w->dL, w->U, m->Wp2, B, d, RET_NC);
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
        if (meth == RET_SSMAX) *gs += log((double)n) * dc; /* c = s ln n */
    }
    smx_nn_dense_bwd_f64(w->dH, GRAD(m, m->Wk), NULL, w->dK, w->H, m->Wk, N, d, d);
    smx_nn_dense_bwd_f64(w->dH2, GRAD(m, m->Wv), NULL, w->dV, w->H, m->Wv, N, d, d);
    for (size_t i = 0; i < N * d; i++) w->dH[i] += w->dH2[i];
    smx_nn_dense_bwd_f64(w->dR1, GRAD(m, m->W2), GRAD(m, m->b2), w->dH, w->R1, m->W2, N, d, d);
    smx_nn_relu_bwd_f64(w->dR1, w->dR1, w->R1, N * d);
    smx_nn_dense_bwd_f64(NULL, GRAD(m, m->W1), GRAD(m, m->b1), w->dR1, w->X, m->W1, N, RET_DIN, d);
}

/* Test hook: the whole model's gradient (ret_backward) against central differences of the mean
 * loss on a tiny model (d = 6, 3 sets of 5 items). *max_err = max_i |g_i - fd_i| / (1e-8 + max_i |g_i|). */
int dispersion_retrieval_gradcheck(double *max_err, int ssmax, unsigned long seed)
{
    ret_model_t m = {0};
    ret_ws_t w;
    size_t B = 3, n = 5, d = 6;
    ret_method_t meth = ssmax ? RET_SSMAX : RET_SOFTMAX;
    gsl_rng *r = smx_rng_alloc(seed);
    int st = ret_model_alloc(&m, d, 0.6385, r);
    if (!st) st = ret_ws_alloc(&w, B * n, B, d, 1);
    if (st) {
        gsl_rng_free(r);
        ret_model_free(&m);
        return st;
    }
    ret_sample(&w, B, n, r);
    gsl_rng_free(r);
    ret_encode(&w, &m, B * n);
    ret_head(&w, &m, B, n, meth);
    ret_backward(&w, &m, B, n, meth);
    double gmax = 0, emax = 0, h = 1e-6;
    for (size_t i = 0; i < m.np; i++) gmax = fmax(gmax, fabs(m.g[i]));
    for (size_t i = 0; i < m.np; i++) {
        double w0 = m.w[i];
        m.w[i] = w0 + h;
        ret_encode(&w, &m, B * n);
        double lp = ret_head(&w, &m, B, n, meth);
        m.w[i] = w0 - h;
        ret_encode(&w, &m, B * n);
        double lm = ret_head(&w, &m, B, n, meth);
        m.w[i] = w0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h * B) - m.g[i]));
    }
    *max_err = emax / (1e-8 + gmax);
    ret_ws_free(&w);
    ret_model_free(&m);
    return SMX_OK;
}

/* ---------------- program ---------------- */

static const char prog[] = "smx-dispersion retrieval";
static const char usage[] =
    "Usage: smx-dispersion retrieval [OPTIONS]\n"
    "Max retrieval (Velickovic et al. 2024): predict the class of the max-priority item of a set. Items are\n"
    "[priority ~ U(0,1), one-hot class of 10] (the paper's encoding is not published: our choice), item MLP\n"
    "11 -> d -> d (ReLU), keys/values Wk h, Wv h, learned query, one attention head, predictor MLP d -> d -> 10.\n"
    "Trained on sets of 2..train-nmax items (size drawn per step, AdamW, mean cross-entropy) twice: with softmax\n"
    "attention and with SSMax (s learned, init --s-init); the softmax model is tested as is and with adaptive\n"
    "temperature at inference only. Test sets of n = 2^4..2^K items (per-set RNG streams: same data for\n"
    "every model and thread count; training runs on one thread, testing on --threads).\n"
    "Writes OUT (accuracy, attention entropy per n and method),\n"
    "OUT-attention.tsv (attention on the 32 highest-priority items of one set per n), OUT-train.tsv.\n"
    "  --d N             width (default 128)\n"
    "  --steps N         training steps per model (quick 5000, paper 20000)\n"
    "  --batch N         sets per step (default 64)\n"
    "  --lr X            AdamW learning rate (default 1e-3)\n"
    "  --wd X            AdamW weight decay (default 1e-4, optax's default)\n"
    "  --train-nmax N    largest training set (default 16)\n"
    "  --test-log2 K     largest test set 2^K (default 14)\n"
    "  --test-sets N     test sets per n (quick 200, paper 1000)\n"
    "  --s-init X        SSMax initial s (default 0.5)\n"
    "  --seed N --out FILE (default data/quick/dispersion-retrieval.tsv) --profile quick|paper --threads N\n"
    "Checkpoints (solvers/run.h: parameters, AdamW moments, RNG state, training log, and every option above\n"
    "but --out and --threads; a resumed run writes the same bytes as an uninterrupted one):\n"
    "  --checkpoint FILE        where to write it (default OUT.ckpt), atomically\n"
    "  --checkpoint-every SEC   during training every SEC seconds (default 180; 0: only after training)\n"
    "  --resume                 continue from the checkpoint; if there is none, start afresh (a note on\n"
    "                           stderr); one written with other options or unreadable: exit 2 naming it\n"
    "  --stop-after N           checkpoint after N training steps in all (softmax model's steps, then\n"
    "                           SSMax's) and exit with status 3, writing no data\n"
    "  --help --version\n";

enum { O_D = SMX_OPT_FIRST_PRIVATE, O_STEPS, O_BATCH, O_LR, O_WD, O_TRAIN, O_TEST, O_SETS, O_SINIT, O_CKPT,
       O_CKPT_EVERY, O_RESUME, O_STOP_AFTER };

typedef struct {
    long d, steps, batch, train_nmax, test_log2, test_sets;
    double lr, wd, s_init;
    dispersion_cmd_t cmd; /* common options and the command line for the metadata */
    const char *ckpt;  /* checkpoint file */
    double ckpt_every; /* seconds between checkpoints during training (0: none) */
    long stop_after;   /* testing: stop after this many steps in all (0: never) */
    int resume;
} ret_opts_t;

#define RET_TOPK 32
/* paper accuracies (%) at n = 16, 64, 256, 1024, 4096, 16384: baseline / adaptive temperature */
static const double paper_n[] = {16, 64, 256, 1024, 4096, 16384};
static const double paper_base[] = {98.6, 94.3, 81.3, 53.8, 22.6, 12.4};
static const double paper_adapt[] = {98.6, 94.5, 82.1, 57.7, 24.9, 14.0};

static double paper_acc(double n, ret_method_t m)
{
    for (int i = 0; i < 6; i++)
        if (paper_n[i] == n) return m == RET_SOFTMAX ? paper_base[i] : m == RET_ADAPTIVE ? paper_adapt[i] : NAN;
    return NAN;
}

static void meta(smx_tsv_t *t, const ret_opts_t *o)
{
    dispersion_meta_std(t, prog, &o->cmd);
    smx_tsv_meta(t, "d", "%ld", o->d);
    smx_tsv_meta(t, "steps", "%ld", o->steps);
    smx_tsv_meta(t, "batch", "%ld", o->batch);
    smx_tsv_meta(t, "lr", "%g", o->lr);
    smx_tsv_meta(t, "wd", "%g", o->wd);
    smx_tsv_meta(t, "train_nmax", "%ld", o->train_nmax);
    smx_tsv_meta(t, "test_log2", "%ld", o->test_log2);
    smx_tsv_meta(t, "test_sets", "%ld", o->test_sets);
    smx_tsv_meta(t, "s_init", "%g", o->s_init);
    smx_tsv_meta(t, "model", "item [priority U(0,1), one-hot class of 10] -> MLP 11-d-d -> Wk, Wv; learned query; "
                             "one head; MLP d-d-10; our choices where the paper is silent (encoding, widths, steps)");
    smx_tsv_meta(t, "paper", "Velickovic et al. 2024 Fig/Table: accuracy %% baseline/adaptive at n=16 98.6/98.6, "
                             "64 94.3/94.5, 256 81.3/82.1, 1024 53.8/57.7, 4096 22.6/24.9, 16384 12.4/14.0");
}

/* ---------------- training state and checkpoints ---------------- */

/* Everything the training loop carries from step to step: a checkpoint holds all of it plus the
 * options that change results (ret_opt_values), so a resumed run writes the same bytes. */
#define RET_LOG_EVERY 50
#define RET_LOGW 5 /* log row: model, step, mean loss, train accuracy, s */
typedef struct {
    ret_model_t m[2];         /* [0] softmax attention, [1] SSMax; the same initial weights */
    int phase;                /* model in training: 0, 1; 2 = both trained */
    long step;                /* steps done by the model in training */
    smx_optim_t *opt;         /* its AdamW (moments, step count) */
    gsl_rng *r;               /* its sampler (set sizes, items) */
    double acc_loss, acc_hit; /* sums since the last log row */
    double *log;              /* rows of RET_LOGW */
    size_t nlog, logcap;
} ret_state_t;

static const ret_method_t ret_phase_meth[2] = {RET_SOFTMAX, RET_SSMAX};
enum { RET_STOPPED = 100, RET_BADCKPT = 101 }; /* ret_run statuses besides SMX_* */

static int ret_state_alloc(ret_state_t *S, const ret_opts_t *o)
{
    memset(S, 0, sizeof *S);
    int st = SMX_OK;
    for (int i = 0; i < 2 && !st; i++) {
        gsl_rng *r = smx_rng_alloc_stream(o->cmd.c.seed, 999); /* the same initial weights */
        st = ret_model_alloc(&S->m[i], (size_t)o->d, o->s_init, r);
        gsl_rng_free(r);
    }
    S->logcap = 2 * (size_t)(o->steps / RET_LOG_EVERY);
    S->log = malloc((S->logcap + 1) * RET_LOGW * sizeof *S->log);
    return st ? st : S->log ? SMX_OK : SMX_ENOMEM;
}

/* Optimiser and sampler of the model S->phase, fresh. */
static int ret_phase_begin(ret_state_t *S, const ret_opts_t *o)
{
    smx_optim_cfg_t cfg;
    smx_optim_cfg_default(&cfg, SMX_OPTIM_ADAMW);
    cfg.lr = o->lr;
    cfg.weight_decay = o->wd;
    size_t len[RET_NT];
    for (int i = 0; i < RET_NT; i++) len[i] = S->m[S->phase].t[i].n;
    S->r = smx_rng_alloc_stream(o->cmd.c.seed, 1000 + ret_phase_meth[S->phase]);
    return smx_optim_alloc(&S->opt, &cfg, SMX_DTYPE_F64, len, RET_NT);
}

static void ret_phase_end(ret_state_t *S)
{
    smx_optim_free(S->opt);
    gsl_rng_free(S->r);
    S->opt = NULL, S->r = NULL;
    S->step = 0, S->acc_loss = S->acc_hit = 0;
    S->phase++;
}

static void ret_state_free(ret_state_t *S)
{
    smx_optim_free(S->opt);
    if (S->r) gsl_rng_free(S->r);
    ret_model_free(&S->m[0]);
    ret_model_free(&S->m[1]);
    free(S->log);
}

/* The options fingerprint (solvers/run.h): every option that changes results, "key=value". */
static void ret_fingerprint(char *buf, size_t size, const ret_opts_t *o)
{
    snprintf(buf, size, "seed=%lu d=%ld steps=%ld batch=%ld lr=%.17g wd=%.17g train-nmax=%ld test-log2=%ld "
             "test-sets=%ld s-init=%.17g", o->cmd.c.seed, o->d, o->steps, o->batch, o->lr, o->wd, o->train_nmax,
             o->test_log2, o->test_sets, o->s_init);
}

/* Steps taken in all (the softmax model's, then the SSMax model's): the checkpoint's step count. */
static long ret_total_step(const ret_state_t *S, const ret_opts_t *o) { return S->phase * o->steps + S->step; }

/* Write the checkpoint o->ckpt (solvers/run.h): fingerprint, steps in all, phase, both models,
 * the log, and for a model in training its AdamW state, its sampler's state and the log sums. */
static int ret_ckpt_save(const ret_state_t *S, const ret_opts_t *o)
{
    char fp[512];
    ret_fingerprint(fp, sizeof fp, o);
    smx_ckpt_t *c = smx_run_ckpt_new(fp, ret_total_step(S, o));
    if (!c) return SMX_ENOMEM;
    int st = smx_ckpt_put_long(c, "phase", S->phase);
    if (!st) st = smx_ckpt_put_f64(c, "w.softmax", S->m[0].w, S->m[0].np);
    if (!st) st = smx_ckpt_put_f64(c, "w.ssmax", S->m[1].w, S->m[1].np);
    if (!st) st = smx_ckpt_put_f64(c, "log", S->log, S->nlog * RET_LOGW);
    if (!st && S->phase < 2) {
        double acc[2] = {S->acc_loss, S->acc_hit};
        st = smx_ckpt_put_f64(c, "acc", acc, 2);
        if (!st) st = smx_run_put_optim(c, S->opt);
        if (!st) st = smx_run_put_rng(c, "rng", S->r);
    }
    if (!st) st = smx_ckpt_write(c, o->ckpt);
    smx_ckpt_free(c);
    return st;
}

/* Restore S (freshly allocated) from the checkpoint c holding `total` steps; a static reason on failure. */
static const char *ret_ckpt_restore(ret_state_t *S, const smx_ckpt_t *c, long total, const ret_opts_t *o)
{
    long phase, step;
    size_t size;
    if (smx_ckpt_get_long(&phase, c, "phase") || phase < 0 || phase > 2) return "bad phase or step";
    step = total - phase * o->steps;
    if (step < 0 || step > o->steps || (phase == 2 && step)) return "bad phase or step";
    if (smx_ckpt_get_f64(S->m[0].w, c, "w.softmax", S->m[0].np) ||
        smx_ckpt_get_f64(S->m[1].w, c, "w.ssmax", S->m[1].np))
        return "bad parameters";
    if (!smx_ckpt_get(c, "log", &size) || size % (RET_LOGW * sizeof(double)) ||
        size / (RET_LOGW * sizeof(double)) > S->logcap)
        return "bad training log";
    S->nlog = size / (RET_LOGW * sizeof(double));
    smx_ckpt_get_f64(S->log, c, "log", S->nlog * RET_LOGW);
    for (size_t i = 0; i < S->nlog; i++)
        if (S->log[i * RET_LOGW] != RET_SOFTMAX && S->log[i * RET_LOGW] != RET_SSMAX) return "bad training log";
    S->phase = (int)phase, S->step = step;
    if (phase == 2) return NULL;
    double acc[2];
    if (smx_ckpt_get_f64(acc, c, "acc", 2)) return "bad log sums";
    S->acc_loss = acc[0], S->acc_hit = acc[1];
    if (ret_phase_begin(S, o)) return "out of memory";
    if (smx_run_get_optim(S->opt, c)) return "bad AdamW state";
    if (smx_run_get_rng(S->r, c, "rng")) return "bad RNG state";
    return NULL;
}

/* --resume: load o->ckpt (which exists) into S. SMX_OK; RET_BADCKPT with a one-line message in
 * msg if it is unreadable, corrupted or was written with other options. */
static int ret_ckpt_load(ret_state_t *S, const ret_opts_t *o, char *msg, size_t msglen)
{
    char fp[512], diff[600];
    ret_fingerprint(fp, sizeof fp, o);
    smx_ckpt_t *c;
    const char *why = NULL;
    long total;
    int st = smx_run_ckpt_open(&c, &total, &why, o->ckpt, fp);
    if (st == SMX_EDOM) {
        smx_run_fingerprint_diff(diff, sizeof diff, o->ckpt, fp);
        snprintf(msg, msglen, "--resume: %s was %s", o->ckpt, diff);
        return RET_BADCKPT;
    }
    if (st) {
        snprintf(msg, msglen, "--resume: %s: %s", o->ckpt, why ? why : smx_strerror(st));
        return RET_BADCKPT;
    }
    why = ret_ckpt_restore(S, c, total, o);
    if (why) {
        snprintf(msg, msglen, "--resume: %s: %s", o->ckpt, why);
        st = RET_BADCKPT;
    }
    smx_ckpt_free(c);
    return st;
}

/* One AdamW step of the model in training; a log row every RET_LOG_EVERY steps. */
static int ret_train_step(ret_state_t *S, ret_ws_t *w, const ret_opts_t *o)
{
    ret_model_t *m = &S->m[S->phase];
    ret_method_t meth = ret_phase_meth[S->phase];
    size_t B = (size_t)o->batch, n = 2 + gsl_rng_uniform_int(S->r, (unsigned long)o->train_nmax - 1);
    ret_sample(w, B, n, S->r);
    ret_encode(w, m, B * n);
    S->acc_loss += ret_head(w, m, B, n, meth) / (double)B;
    for (size_t b = 0; b < B; b++) {
        int am = 0;
        for (int k = 1; k < RET_NC; k++)
            if (w->L[b * RET_NC + k] > w->L[b * RET_NC + am]) am = k;
        S->acc_hit += (am == w->y[b]) / (double)B;
    }
    ret_backward(w, m, B, n, meth);
    int st = smx_optim_step(S->opt, m->t, RET_NT);
    if (++S->step % RET_LOG_EVERY == 0) {
        double *row = S->log + S->nlog++ * RET_LOGW;
        row[0] = meth, row[1] = (double)S->step, row[2] = S->acc_loss / RET_LOG_EVERY;
        row[3] = S->acc_hit / RET_LOG_EVERY, row[4] = *m->s;
        S->acc_loss = S->acc_hit = 0;
    }
    return st;
}

/* Train the softmax model, then the SSMax model, from wherever S stands, on the checkpoint
 * clock of solvers/run.h: a checkpoint every o->ckpt_every seconds (0: none in between) and
 * after training; with o->stop_after, a checkpoint once that many steps in all are done and
 * RET_STOPPED. */
static int ret_train(ret_state_t *S, const ret_opts_t *o)
{
    ret_ws_t w;
    int st = ret_ws_alloc(&w, (size_t)(o->batch * o->train_nmax), (size_t)o->batch, (size_t)o->d, 1);
    /* the training GEMMs are small (64 x 16 rows): threads cost more than they give, so train on
     * one thread (results do not depend on it: nn.h's fixed tiles) */
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    smx_run_clock_t clk;
    smx_run_clock_start(&clk, o->ckpt_every, o->stop_after, smx_time_now());
    while (!st && S->phase < 2) {
        if (!S->opt) st = ret_phase_begin(S, o);
        smx_progress_t pr;
        smx_progress_start(&pr, S->phase ? "train ssmax" : "train softmax", (double)o->steps, 0);
        while (!st && S->step < o->steps) {
            st = ret_train_step(S, &w, o);
            smx_progress_update(&pr, (double)S->step);
            int due = st ? SMX_RUN_CONTINUE : smx_run_clock_due(&clk, ret_total_step(S, o), smx_time_now());
            if (due != SMX_RUN_CONTINUE) st = ret_ckpt_save(S, o);
            if (!st && due == SMX_RUN_STOP) st = RET_STOPPED;
        }
        smx_progress_finish(&pr);
        if (!st) ret_phase_end(S);
    }
    if (!st) st = ret_ckpt_save(S, o);
    omp_set_num_threads(threads);
    ret_ws_free(&w);
    return st;
}

static int ret_write_train(const ret_state_t *S, const ret_opts_t *o, const char *path)
{
    smx_tsv_t *t = smx_tsv_open(path);
    if (!t) return SMX_EIO;
    meta(t, o);
    smx_tsv_header(t, "model\tstep\tloss\ttrain_acc\ts");
    for (size_t i = 0; i < S->nlog; i++) {
        const double *row = S->log + i * RET_LOGW;
        smx_tsv_str(t, ret_method_names[(int)row[0]]);
        smx_tsv_int(t, (long long)row[1]);
        for (int k = 2; k < RET_LOGW; k++) smx_tsv_num(t, row[k]);
        smx_tsv_endrow(t);
    }
    return smx_tsv_close(t);
}
typedef struct { /* per test set and method */
    unsigned char correct;
    double H, alpha_top, beta;
} ret_res_t;

static int cmp_desc(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] < y[0]) - (x[0] > y[0]);
}

/* Evaluate model m with the given methods on test sets of n = 2^4..2^K; res[(mi * nn + ni) * S + j],
 * attn[((mi * nn + ni) * RET_TOPK + k) * 2 + {0: priority, 1: alpha}] for set j = 0. */
static int ret_eval(const ret_model_t *m, const ret_opts_t *o, const ret_method_t *meths, int nm, ret_res_t *res,
                    double *attn)
{
    size_t nn = (size_t)o->test_log2 - 3, S = (size_t)o->test_sets, nmax = (size_t)1 << o->test_log2;
    int nt = omp_get_max_threads(), st = SMX_OK;
    ret_ws_t *ws = calloc((size_t)nt, sizeof *ws);
    double *pairs = malloc((size_t)nt * nmax * 2 * sizeof *pairs);
    if (!ws || !pairs) st = SMX_ENOMEM;
    for (int i = 0; i < nt && !st; i++) st = ret_ws_alloc(&ws[i], nmax, 1, m->d, 0);
    double total = 0;
    for (size_t ni = 0; ni < nn; ni++) total += (double)((size_t)16 << ni) * S;
    smx_progress_t pr;
    smx_progress_start(&pr, "test", total, 0);
    double done = 0;
    for (size_t ni = 0; ni < nn && !st; ni++) {
        size_t n = (size_t)16 << ni;
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t j = 0; j < S; j++) {
            int tid = omp_get_thread_num();
            ret_ws_t *w = &ws[tid];
            gsl_rng *r = smx_rng_alloc_stream(o->cmd.c.seed, 1000000UL * (ni + 1) + j);
            ret_sample(w, 1, n, r);
            gsl_rng_free(r);
            ret_encode(w, m, n);
            size_t top = 0;
            for (size_t i = 1; i < n; i++)
                if (w->X[i * RET_DIN] > w->X[top * RET_DIN]) top = i;
            for (int mi = 0; mi < nm; mi++) {
                ret_head(w, m, 1, n, meths[mi]);
                int am = 0;
                for (int k = 1; k < RET_NC; k++)
                    if (w->L[k] > w->L[am]) am = k;
                ret_res_t *rr = &res[((size_t)mi * nn + ni) * S + j];
                rr->correct = am == w->y[0];
                rr->H = smx_softmax_entropy(w->A, n);
                rr->alpha_top = w->A[top];
                rr->beta = w->beta[0];
                if (j == 0) { /* attention on the RET_TOPK highest priorities */
                    double *pp = pairs + (size_t)tid * nmax * 2;
                    for (size_t i = 0; i < n; i++) pp[2 * i] = w->X[i * RET_DIN], pp[2 * i + 1] = w->A[i];
                    qsort(pp, n, 2 * sizeof *pp, cmp_desc);
                    memcpy(attn + ((size_t)mi * nn + ni) * RET_TOPK * 2, pp,
                           (n < RET_TOPK ? n : RET_TOPK) * 2 * sizeof *pp);
                }
            }
        }
        done += (double)n * S;
        smx_progress_update(&pr, done);
    }
    smx_progress_finish(&pr);
    for (int i = 0; ws && i < nt; i++) ret_ws_free(&ws[i]);
    free(ws);
    free(pairs);
    return st;
}

static void ret_write_acc(smx_tsv_t *t, const ret_opts_t *o, const ret_method_t *meths, int nm, const ret_res_t *res)
{
    size_t nn = (size_t)o->test_log2 - 3, S = (size_t)o->test_sets;
    for (int mi = 0; mi < nm; mi++)
        for (size_t ni = 0; ni < nn; ni++) {
            const ret_res_t *r = res + ((size_t)mi * nn + ni) * S;
            double c = 0, h = 0, at = 0, be = 0; /* fixed-order reductions */
            for (size_t j = 0; j < S; j++) c += r[j].correct, h += r[j].H, at += r[j].alpha_top, be += r[j].beta;
            double n = (double)((size_t)16 << ni), acc = 100 * c / S;
            smx_tsv_str(t, ret_method_names[meths[mi]]);
            smx_tsv_num(t, n);
            smx_tsv_num(t, acc);
            smx_tsv_num(t, 100 * sqrt(acc / 100 * (1 - acc / 100) / S));
            smx_tsv_num(t, paper_acc(n, meths[mi]));
            smx_tsv_num(t, h / S);
            smx_tsv_num(t, log(n));
            smx_tsv_num(t, at / S);
            smx_tsv_num(t, be / S);
            smx_tsv_int(t, (long long)S);
            smx_tsv_endrow(t);
        }
}

static void ret_write_attn(smx_tsv_t *t, const ret_opts_t *o, const ret_method_t *meths, int nm, const double *attn)
{
    size_t nn = (size_t)o->test_log2 - 3;
    for (int mi = 0; mi < nm; mi++)
        for (size_t ni = 0; ni < nn; ni++) {
            size_t n = (size_t)16 << ni;
            for (size_t k = 0; k < RET_TOPK && k < n; k++) {
                const double *p = attn + (((size_t)mi * nn + ni) * RET_TOPK + k) * 2;
                smx_tsv_str(t, ret_method_names[meths[mi]]);
                smx_tsv_int(t, (long long)n);
                smx_tsv_num(t, log2((double)n));
                smx_tsv_int(t, (long long)k + 1);
                smx_tsv_num(t, p[0]);
                smx_tsv_num(t, p[1]);
                smx_tsv_endrow(t);
            }
            fputc('\n', smx_tsv_stream(t));
        }
}

/* Train (or resume), test, write OUT, OUT-attention.tsv, OUT-train.tsv. A status: SMX_*,
 * RET_STOPPED (--stop-after) or RET_BADCKPT (message in msg). */
static int ret_run(const ret_opts_t *o, const char *out, char *msg, size_t msglen)
{
    char *pa = dispersion_sibling(out, "attention"), *pt = dispersion_sibling(out, "train");
    size_t nn = (size_t)o->test_log2 - 3, S = (size_t)o->test_sets;
    ret_res_t *res = calloc(3 * nn * S, sizeof *res);
    double *attn = calloc(3 * nn * RET_TOPK * 2, sizeof *attn);
    ret_state_t state;
    int st = ret_state_alloc(&state, o);
    if (!st && (!pa || !pt || !res || !attn)) st = SMX_ENOMEM;
    if (!st && o->resume) {
        st = ret_ckpt_load(&state, o, msg, msglen);
        if (!st)
            fprintf(stderr, "%s: resuming from %s (model %d, step %ld)\n", prog, o->ckpt, state.phase, state.step);
    }
    if (!st) st = ret_train(&state, o);
    if (!st) st = ret_write_train(&state, o, pt);
    const ret_model_t *ms = &state.m[0], *mss = &state.m[1];
    static const ret_method_t m1[] = {RET_SOFTMAX, RET_ADAPTIVE}, m2[] = {RET_SSMAX};
    if (!st) st = ret_eval(ms, o, m1, 2, res, attn);
    if (!st) st = ret_eval(mss, o, m2, 1, res + 2 * nn * S, attn + 2 * nn * RET_TOPK * 2);
    if (!st) {
        smx_tsv_t *t = smx_tsv_open(out);
        if (!t) st = SMX_EIO;
        else {
            meta(t, o);
            smx_tsv_meta(t, "ssmax_s_learned", "%.6f", *mss->s);
            smx_tsv_meta(t, "columns", "accuracy %% (+- binomial stderr), attention entropy H (nats, "
                                       "-sum a ln(a + 1e-9)) vs ln n, mean attention on the top item, mean scale c");
            smx_tsv_header(t, "method\tn\taccuracy\tstderr\tpaper_accuracy\tentropy\tln_n\talpha_top\tscale\tsets");
            const ret_method_t all[] = {RET_SOFTMAX, RET_ADAPTIVE, RET_SSMAX};
            ret_write_acc(t, o, all, 3, res);
            st = smx_tsv_close(t);
        }
        t = st ? NULL : smx_tsv_open(pa);
        if (!st && !t) st = SMX_EIO;
        if (t) {
            meta(t, o);
            smx_tsv_meta(t, "set", "test set 0 of each n; items sorted by priority, highest first");
            smx_tsv_header(t, "method\tn\tlog2n\trank\tpriority\talpha");
            const ret_method_t all[] = {RET_SOFTMAX, RET_ADAPTIVE, RET_SSMAX};
            ret_write_attn(t, o, all, 3, attn);
            st = smx_tsv_close(t);
        }
    }
    ret_state_free(&state);
    free(res), free(attn), free(pa), free(pt);
    return st;
}

int dispersion_cmd_retrieval(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"d", required_argument, 0, O_D}, {"steps", required_argument, 0, O_STEPS},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"wd", required_argument, 0, O_WD}, {"train-nmax", required_argument, 0, O_TRAIN},
        {"test-log2", required_argument, 0, O_TEST}, {"test-sets", required_argument, 0, O_SETS},
        {"s-init", required_argument, 0, O_SINIT}, {"checkpoint", required_argument, 0, O_CKPT},
        {"checkpoint-every", required_argument, 0, O_CKPT_EVERY}, {"resume", no_argument, 0, O_RESUME},
        {"stop-after", required_argument, 0, O_STOP_AFTER}, SMX_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    ret_opts_t o = {.d = 128, .steps = -1, .batch = 64, .train_nmax = 16, .test_log2 = 14, .test_sets = -1,
                    .lr = 1e-3, .wd = 1e-4, .s_init = 0.5, .ckpt_every = SMX_RUN_CKPT_EVERY};
    dispersion_cmd_init(&o.cmd, argc, argv);
    /* the command line for the metadata, without the checkpoint options (solvers/run.h) */
    char **kept = malloc(((size_t)argc + 1) * sizeof *kept);
    if (!kept) smx_cli_fail(prog, "out of memory");
    o.cmd.argc = smx_run_argv_filter(kept, argc, argv), o.cmd.argv = kept;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_D: o.d = smx_cli_long_or_fail(optarg, 1, 4096, prog, "--d"); break;
        case O_STEPS: o.steps = smx_cli_long_or_fail(optarg, 0, 100000000, prog, "--steps"); break;
        case O_BATCH: o.batch = smx_cli_long_or_fail(optarg, 1, 65536, prog, "--batch"); break;
        case O_LR: o.lr = smx_cli_double_or_fail(optarg, prog, "--lr");
            if (!(o.lr > 0 && o.lr < 10)) smx_cli_fail(prog, "--lr: must be in (0, 10)");
            break;
        case O_WD: o.wd = smx_cli_double_or_fail(optarg, prog, "--wd");
            if (!(o.wd >= 0 && o.wd < 10)) smx_cli_fail(prog, "--wd: must be in [0, 10)");
            break;
        case O_TRAIN: o.train_nmax = smx_cli_long_or_fail(optarg, 2, 4096, prog, "--train-nmax"); break;
        case O_TEST: o.test_log2 = smx_cli_long_or_fail(optarg, 4, 20, prog, "--test-log2"); break;
        case O_SETS: o.test_sets = smx_cli_long_or_fail(optarg, 1, 10000000, prog, "--test-sets"); break;
        case O_SINIT: o.s_init = smx_cli_double_or_fail(optarg, prog, "--s-init");
            if (!(o.s_init > 0 && o.s_init < 100)) smx_cli_fail(prog, "--s-init: must be in (0, 100)");
            break;
        case O_CKPT:
            if (!*optarg) smx_cli_fail(prog, "--checkpoint: empty file name");
            o.ckpt = optarg;
            break;
        case O_CKPT_EVERY: o.ckpt_every = smx_cli_double_or_fail(optarg, prog, "--checkpoint-every");
            if (!(o.ckpt_every >= 0 && o.ckpt_every <= 1e9))
                smx_cli_fail(prog, "--checkpoint-every: must be seconds in [0, 1e9]");
            break;
        case O_RESUME: o.resume = 1; break;
        case O_STOP_AFTER: o.stop_after = smx_cli_long_or_fail(optarg, 1, 200000000, prog, "--stop-after"); break;
        default: dispersion_common_or_fail(&o.cmd.c, opt, optarg, prog, usage);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    int paper = o.cmd.c.profile == SMX_PROFILE_PAPER;
    if (o.steps < 0) o.steps = paper ? 20000 : 5000;
    if (o.test_sets < 0) o.test_sets = paper ? 1000 : 200;
    smx_nn_init_threads(o.cmd.c.threads);
    omp_set_max_active_levels(1); /* our loop over test sets is the parallel level */
    char buf[64];
    const char *out = dispersion_out(buf, sizeof buf, &o.cmd.c, "retrieval");
    char *ckpt = NULL;
    if (!o.ckpt) {
        ckpt = malloc(strlen(out) + 6);
        if (!ckpt) smx_cli_fail(prog, "out of memory");
        o.ckpt = strcat(strcpy(ckpt, out), ".ckpt");
    }
    if (o.resume && smx_run_ckpt_missing(o.ckpt)) {
        fprintf(stderr, "%s: --resume: no checkpoint %s, starting afresh\n", prog, o.ckpt);
        o.resume = 0;
    }
    char msg[1024] = "";
    int st = ret_run(&o, out, msg, sizeof msg);
    if (st == RET_STOPPED)
        fprintf(stderr, "%s: --stop-after %ld: checkpoint written to %s\n", prog, o.stop_after, o.ckpt);
    else if (st == RET_BADCKPT) {
        free(kept), free(ckpt);
        smx_cli_fail(prog, "%s", msg);
    } else if (st)
        fprintf(stderr, "%s: writing %s or %s: %s\n", prog, out, o.ckpt, smx_strerror(st));
    free(kept), free(ckpt);
    return st == RET_STOPPED ? SMX_RUN_EXIT_STOPPED : st ? 1 : 0;
}
