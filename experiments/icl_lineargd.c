/* icl_lineargd.c - smx-icl linear-gd: a linear self-attention (LSA) layer trained on in-context linear regression
 * against one step of gradient descent (von Oswald et al., ICML 2023, "Transformers learn in-context by gradient
 * descent"), with their three metrics.
 *
 * Tokens e_j = (x_j, y_j) in R^{D}, D = d + 1, j = 1..N; query e_q = (x_q, y0) (y0 = 0 for the trained model).
 * LSA (one head, the query excluded from keys / values; von Oswald et al. eq. 5):
 *   k_j = W_K e_j, q = W_Q e_q, v_j = W_V e_j,  e_q' = e_q + P sum_j v_j (k_j . q),  yhat = -e_q'[d]
 * (the sign of their construction, whose y-entry ends at -yhat). W_K, W_Q, W_V, P in R^{D x D}.
 * Construction (their Prop. 1): W_K = W_Q = [[I, 0], [0, 0]], W_V = [[0, 0], [W0, -1]], P = (eta/N) I and
 * y0 = -W0 x_q give yhat = W1 x_q with W1 = W0 - (eta/N) sum_j (W0 x_j - y_j) x_j^T: one GD step on
 * (1/2N) sum_j ||W x_j - y_j||^2 from W0.
 * Data (their code): d = N = 10, x ~ U(-0.5, 0.5), w ~ N(0, I), y = w.x (no noise); loss 0.5 sum (t - p)^2 / B;
 * Adam lr 1e-3, beta2 = 0.98, global-norm gradient clipping at 0.001 (optax clip_by_global_norm: our reading
 * of "clipping at 0.001"); batch 2048; 5000 steps; eta of GD by least squares on --scan-tasks tasks (the exact
 * minimiser of the scanned MSE); metrics every --log-every steps on --eval-tasks tasks:
 *   Preds Diff = mean |yhat_TF - yhat_GD|, Model Diff = mean ||d yhat_TF/d x_q - d yhat_GD/d x_q||_2,
 *   Model Cos = mean cos of the same two gradients (1e-8 added to each norm). */
#include "icl_cmds.h"
#include "optim.h"
#include "nn.h"
#include "smx.h"
#include "rng.h"
#include "machine.h"
#include "progress.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>

/* LSA prediction (formula above); X (N, d), y (N), xq (d). If grad_xq != NULL: d yhat / d x_q (d). */
double icl_lsa_predict(double *grad_xq, const double *WK, const double *WQ, const double *WV, const double *P,
                       const double *X, const double *y, const double *xq, double y0, size_t N, size_t d)
{
    size_t D = d + 1;
    double eq[64], q[64], e[64], A[64 * 64];
    memcpy(eq, xq, d * sizeof *eq);
    eq[d] = y0;
    for (size_t a = 0; a < D; a++) {
        double s = 0;
        for (size_t b = 0; b < D; b++) s += WQ[a * D + b] * eq[b];
        q[a] = s;
    }
    if (grad_xq) /* A = W_K^T W_Q: k_j . q = e_j^T A e_q */
        for (size_t a = 0; a < D; a++)
            for (size_t b = 0; b < D; b++) {
                double s = 0;
                for (size_t c = 0; c < D; c++) s += WK[c * D + a] * WQ[c * D + b];
                A[a * D + b] = s;
            }
    double pd[64]; /* row d of P W_V: yhat = -(e_q[d] + sum_j (pd . e_j)(k_j . q)) */
    for (size_t b = 0; b < D; b++) {
        double s = 0;
        for (size_t c = 0; c < D; c++) s += P[d * D + c] * WV[c * D + b];
        pd[b] = s;
    }
    if (grad_xq) memset(grad_xq, 0, d * sizeof *grad_xq);
    double out = 0;
    for (size_t j = 0; j < N; j++) {
        memcpy(e, X + j * d, d * sizeof *e);
        e[d] = y[j];
        double s = 0, pv = 0;
        for (size_t a = 0; a < D; a++) {
            double t = 0;
            for (size_t b = 0; b < D; b++) t += WK[a * D + b] * e[b];
            s += t * q[a];
            pv += pd[a] * e[a];
        }
        out += pv * s;
        if (grad_xq) /* d/dx_q of pv (e_j^T A e_q) = pv (A^T e_j)[0..d) */
            for (size_t b = 0; b < d; b++) {
                double t = 0;
                for (size_t a = 0; a < D; a++) t += A[a * D + b] * e[a];
                grad_xq[b] -= pv * t;
            }
    }
    return -(eq[d] + out);
}

typedef struct {
    size_t D, np;
    double *w, *g, *WK, *WQ, *WV, *P;
    smx_tensor_t t[4];
} lsa_t;

static int lsa_alloc(lsa_t *m, size_t d, gsl_rng *r)
{
    size_t D = d + 1, DD = D * D;
    m->D = D, m->np = 4 * DD;
    m->w = calloc(m->np, sizeof *m->w), m->g = calloc(m->np, sizeof *m->g);
    if (!m->w || !m->g) return SMX_ENOMEM;
    double **p[4] = {&m->WK, &m->WQ, &m->WV, &m->P};
    for (int i = 0; i < 4; i++) {
        *p[i] = m->w + i * DD;
        m->t[i] = (smx_tensor_t){m->w + i * DD, m->g + i * DD, DD};
    }
    /* init: N(0, 0.002^2) entries (small, as von Oswald et al.'s code; our reading) */
    icl_random_normal(m->w, m->np, 0.002, r);
    return SMX_OK;
}

/* one task: X (N, d) ~ U(-0.5, 0.5), w ~ N(0, I), y = X w; xq, t = w.xq */
static void lgd_sample(double *X, double *y, double *xq, double *t, size_t N, size_t d, gsl_rng *r)
{
    double w[64];
    for (size_t j = 0; j < d; j++) w[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
    for (size_t i = 0; i <= N; i++) {
        double *x = i < N ? X + i * d : xq, s = 0;
        for (size_t j = 0; j < d; j++) s += w[j] * (x[j] = gsl_rng_uniform(r) - 0.5);
        if (i < N) y[i] = s;
        else *t = s;
    }
}

/* gradient of 0.5 (yhat - t)^2 * scale w.r.t. W_K, W_Q, W_V, P (accumulated into g); returns yhat */
static double lsa_grad(double *g, const lsa_t *m, const double *X, const double *y, const double *xq, double t,
                       size_t N, size_t d, double scale)
{
    size_t D = d + 1, DD = D * D;
    double *gK = g, *gQ = g + DD, *gV = g + 2 * DD, *gP = g + 3 * DD;
    double eq[64], q[64], mm[64], dm[64], dq[64], u[64 * 64], s[256], k[64 * 64], e[64 * 64];
    memcpy(eq, xq, d * sizeof *eq);
    eq[d] = 0;
    for (size_t a = 0; a < D; a++) {
        double z = 0;
        for (size_t b = 0; b < D; b++) z += m->WQ[a * D + b] * eq[b];
        q[a] = z, mm[a] = 0, dq[a] = 0;
    }
    for (size_t j = 0; j < N; j++) {
        double *ej = e + j * D, *kj = k + j * D, *uj = u + j * D;
        memcpy(ej, X + j * d, d * sizeof *ej);
        ej[d] = y[j];
        double z = 0;
        for (size_t a = 0; a < D; a++) {
            double tk = 0, tv = 0;
            for (size_t b = 0; b < D; b++) tk += m->WK[a * D + b] * ej[b], tv += m->WV[a * D + b] * ej[b];
            kj[a] = tk, uj[a] = tv, z += tk * q[a];
        }
        s[j] = z;
        for (size_t a = 0; a < D; a++) mm[a] += uj[a] * z;
    }
    double yh = 0;
    for (size_t a = 0; a < D; a++) yh += m->P[d * D + a] * mm[a];
    yh = -yh;
    double gy = (yh - t) * scale;
    for (size_t a = 0; a < D; a++) gP[d * D + a] -= gy * mm[a], dm[a] = -gy * m->P[d * D + a];
    for (size_t j = 0; j < N; j++) {
        const double *ej = e + j * D, *kj = k + j * D, *uj = u + j * D;
        double ds = 0;
        for (size_t a = 0; a < D; a++) ds += uj[a] * dm[a];
        for (size_t a = 0; a < D; a++) {
            double du = s[j] * dm[a], dk = ds * q[a];
            dq[a] += ds * kj[a];
            for (size_t b = 0; b < D; b++) gV[a * D + b] += du * ej[b], gK[a * D + b] += dk * ej[b];
        }
    }
    for (size_t a = 0; a < D; a++)
        for (size_t b = 0; b < D; b++) gQ[a * D + b] += dq[a] * eq[b];
    return yh;
}

/* Test hook: the LSA gradient vs central differences (d = 3, N = 4, 2 tasks). */
int icl_lsa_gradcheck(double *max_err, unsigned long seed)
{
    size_t d = 3, N = 4, B = 2;
    lsa_t m;
    gsl_rng *r = smx_rng_alloc(seed);
    if (lsa_alloc(&m, d, r)) return SMX_ENOMEM;
    for (size_t i = 0; i < m.np; i++) m.w[i] = gsl_ran_gaussian_ziggurat(r, 0.7);
    double X[2][12], y[2][4], xq[2][3], t[2];
    for (size_t b = 0; b < B; b++) lgd_sample(X[b], y[b], xq[b], &t[b], N, d, r);
    gsl_rng_free(r);
    memset(m.g, 0, m.np * sizeof *m.g);
    for (size_t b = 0; b < B; b++) lsa_grad(m.g, &m, X[b], y[b], xq[b], t[b], N, d, 1.0);
    double gmax = 0, emax = 0, h = 1e-6;
    for (size_t i = 0; i < m.np; i++) gmax = fmax(gmax, fabs(m.g[i]));
    for (size_t i = 0; i < m.np; i++) {
        double w0 = m.w[i], lp = 0, lm = 0;
        for (int sgn = 0; sgn < 2; sgn++) {
            m.w[i] = w0 + (sgn ? -h : h);
            for (size_t b = 0; b < B; b++) {
                double p = icl_lsa_predict(NULL, m.WK, m.WQ, m.WV, m.P, X[b], y[b], xq[b], 0, N, d);
                *(sgn ? &lm : &lp) += 0.5 * (p - t[b]) * (p - t[b]);
            }
        }
        m.w[i] = w0;
        emax = fmax(emax, fabs((lp - lm) / (2 * h) - m.g[i]));
    }
    *max_err = emax / gmax;
    free(m.w), free(m.g);
    return SMX_OK;
}

/* ---------------- program ---------------- */

static const char usage[] =
    "Usage: smx-icl linear-gd [OPTIONS]\n"
    "A linear self-attention layer trained on in-context linear regression vs one step of GD (von Oswald et al.,\n"
    "ICML 2023; their code's setup: x ~ U(-0.5, 0.5), w ~ N(0, I), y = w.x, no noise, the query excluded from\n"
    "keys / values, loss 0.5 sum (t - p)^2 / B, Adam lr 1e-3, beta2 0.98, global-norm clipping at 0.001, fresh\n"
    "tasks every step; parameters initialised N(0, 0.002^2): our reading). GD's eta: least squares on\n"
    "--scan-tasks tasks. Metrics on --eval-tasks fixed tasks every --log-every steps: test losses of both, Preds\n"
    "Diff, Model Diff, Model Cos (gradients w.r.t. x_q, 1e-8 added to each norm). Their claim: Model Cos ends\n"
    "near 1, the differences near 0. The quick profile trains fewer steps on smaller batches (stated below).\n"
    "  --d N --N N     (default 10, 10)\n"
    "  --batch N       (default 2048, the authors'; both profiles)\n"
    "  --steps N       (quick 1500, paper 5000)\n"
    "  --lr X --clip X (default 1e-3, 0.001)\n"
    "  --weight-decay X  AdamW's decoupled weight decay (default 0: Adam, as the authors)\n"
    "  --log-every N   (default 100)\n"
    "  --eval-tasks N --scan-tasks N   (quick 2000, paper 10000 each)\n"
    "  --seed N --out FILE (default data/quick/icl-linear-gd.tsv) --profile quick|paper --threads N\n"
    "  --quiet (no progress or steps/s on stderr) --help --version\n";

enum { O_D = SMX_OPT_FIRST_PRIVATE, O_NN, O_BATCH, O_STEPS, O_LR, O_CLIP, O_LOG, O_EVT, O_SCT, O_WD };
#define LGD_CHUNK 64

typedef struct {
    size_t n, N, d;
    double *X, *y, *xq, *t;
} lgd_tasks_t;

static int tasks_alloc(lgd_tasks_t *T, size_t n, size_t N, size_t d)
{
    T->n = n, T->N = N, T->d = d;
    T->X = malloc(n * N * d * sizeof(double)), T->y = malloc(n * N * sizeof(double));
    T->xq = malloc(n * d * sizeof(double)), T->t = malloc(n * sizeof(double));
    return T->X && T->y && T->xq && T->t ? SMX_OK : SMX_ENOMEM;
}
static void tasks_free(lgd_tasks_t *T) { free(T->X), free(T->y), free(T->xq), free(T->t); }
static void tasks_sample(lgd_tasks_t *T, size_t n, gsl_rng *r)
{
    for (size_t i = 0; i < n; i++)
        lgd_sample(T->X + i * T->N * T->d, T->y + i * T->N, T->xq + i * T->d, T->t + i, T->N, T->d, r);
}
/* a = (1/N) sum_j y_j x_j . x_q: yhat_GD = eta a; grad (d): (eta/N) sum_j y_j x_j */
static double gd_a(double *grad, const lgd_tasks_t *T, size_t i, double eta)
{
    size_t N = T->N, d = T->d;
    const double *X = T->X + i * N * d, *y = T->y + i * N, *xq = T->xq + i * d;
    double a = 0;
    if (grad) memset(grad, 0, d * sizeof *grad);
    for (size_t j = 0; j < N; j++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) s += X[j * d + k] * xq[k];
        a += y[j] * s / (double)N;
        if (grad)
            for (size_t k = 0; k < d; k++) grad[k] += eta * y[j] * X[j * d + k] / (double)N;
    }
    return a;
}

int icl_cmd_linear_gd(int argc, char **argv)
{
    static const char prog[] = "smx-icl linear-gd";
    static const struct option lopts[] = {
        {"d", required_argument, 0, O_D}, {"N", required_argument, 0, O_NN}, {"batch", required_argument, 0, O_BATCH},
        {"steps", required_argument, 0, O_STEPS}, {"lr", required_argument, 0, O_LR},
        {"clip", required_argument, 0, O_CLIP}, {"log-every", required_argument, 0, O_LOG},
        {"eval-tasks", required_argument, 0, O_EVT}, {"scan-tasks", required_argument, 0, O_SCT},
        {"weight-decay", required_argument, 0, O_WD}, ICL_COMMON_OPTIONS, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    long d = 10, N = 10, B = -1, steps = -1, logev = 100, evt = -1, sct = -1;
    double lr = 1e-3, clip = 1e-3, wd = 0;
    int opt, quiet = 0;
    icl_opt_begin();
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_D: d = smx_cli_long_or_fail(optarg, 1, 62, prog, "--d"); break;
        case O_NN: N = smx_cli_long_or_fail(optarg, 1, 250, prog, "--N"); break;
        case O_BATCH: B = smx_cli_long_or_fail(optarg, 1, 1 << 20, prog, "--batch"); break;
        case O_STEPS: steps = smx_cli_long_or_fail(optarg, 0, 100000000, prog, "--steps"); break;
        case O_LR: lr = smx_cli_double_or_fail(optarg, prog, "--lr");
            if (!(lr > 0 && lr < 10)) smx_cli_fail(prog, "--lr: must be in (0, 10)");
            break;
        case O_CLIP: clip = smx_cli_double_or_fail(optarg, prog, "--clip");
            if (!(clip > 0)) smx_cli_fail(prog, "--clip: must be > 0 (inf: no clipping)");
            break;
        case O_LOG: logev = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--log-every"); break;
        case O_EVT: evt = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--eval-tasks"); break;
        case O_SCT: sct = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--scan-tasks"); break;
        case O_WD: wd = smx_cli_double_range_or_fail(optarg, 0, 10, prog, "--weight-decay"); break;
        default:
            smx_cli_common_or_quiet(&c, &quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    char outbuf[64];
    const char *out = icl_opt_end(&c, "icl-linear-gd", outbuf, sizeof outbuf, prog, argc, argv);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (B < 0) B = 2048; /* the authors' batch in both profiles (quick: fewer steps and tasks) */
    if (steps < 0) steps = paper ? 5000 : 1500;
    if (evt < 0) evt = paper ? 10000 : 2000;
    if (sct < 0) sct = paper ? 10000 : 2000;
    size_t ud = (size_t)d, uN = (size_t)N, uB = (size_t)B, D = ud + 1;
    lgd_tasks_t tr, ev, sc;
    lsa_t m;
    gsl_rng *r = smx_rng_alloc_stream(c.seed, 0), *rs = smx_rng_alloc_stream(c.seed, 1),
            *re = smx_rng_alloc_stream(c.seed, 2);
    size_t nchunk = (uB + LGD_CHUNK - 1) / LGD_CHUNK, nlog = (size_t)(steps / logev) + 1;
    double *cg = NULL, *bl = NULL, *rows = NULL, *er = NULL;
    int st = tasks_alloc(&tr, uB, uN, ud);
    if (!st) st = tasks_alloc(&ev, (size_t)evt, uN, ud);
    if (!st) st = tasks_alloc(&sc, (size_t)sct, uN, ud);
    if (!st) st = lsa_alloc(&m, ud, r);
    if (!st) {
        cg = calloc(nchunk * m.np, sizeof *cg), bl = calloc(uB, sizeof *bl), rows = calloc(nlog * 7, sizeof *rows);
        er = calloc((size_t)evt * 6, sizeof *er);
        if (!cg || !bl || !rows || !er) st = SMX_ENOMEM;
    }
    smx_optim_t *o = NULL;
    smx_optim_cfg_t cfg;
    smx_optim_cfg_default(&cfg, SMX_OPTIM_ADAMW);
    cfg.lr = lr, cfg.beta2 = 0.98, cfg.weight_decay = wd;
    size_t lens[4] = {D * D, D * D, D * D, D * D};
    if (!st) st = smx_optim_alloc(&o, &cfg, SMX_DTYPE_F64, lens, 4);
    if (st) smx_cli_fail(prog, "out of memory");
    /* GD's eta: least squares of t on a over the scan tasks */
    tasks_sample(&sc, (size_t)sct, rs);
    tasks_sample(&ev, (size_t)evt, re);
    double sat = 0, saa = 0;
    for (size_t i = 0; i < (size_t)sct; i++) {
        double a = gd_a(NULL, &sc, i, 0);
        sat += a * sc.t[i], saa += a * a;
    }
    double eta = sat / saa, acc = 0;
    size_t nl = 0;
    smx_progress_t pr;
    smx_progress_start(&pr, "linear-gd", (double)steps, quiet);
    double t0 = smx_time_now();
    for (long s = 0; s <= steps; s++) {
        if (s % logev == 0) { /* metrics on the evaluation tasks */
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < (size_t)evt; i++) {
                double gt[64], gg[64], *e = er + i * 6;
                double ytf = icl_lsa_predict(gt, m.WK, m.WQ, m.WV, m.P, ev.X + i * uN * ud, ev.y + i * uN,
                                             ev.xq + i * ud, 0, uN, ud);
                double ygd = eta * gd_a(gg, &ev, i, eta), nt = 0, ng = 0, dd = 0, dot = 0;
                for (size_t k = 0; k < ud; k++)
                    nt += gt[k] * gt[k], ng += gg[k] * gg[k], dd += (gt[k] - gg[k]) * (gt[k] - gg[k]), dot += gt[k] * gg[k];
                e[0] = 0.5 * (ytf - ev.t[i]) * (ytf - ev.t[i]), e[1] = 0.5 * (ygd - ev.t[i]) * (ygd - ev.t[i]);
                e[2] = fabs(ytf - ygd), e[3] = sqrt(dd), e[4] = dot / ((sqrt(nt) + 1e-8) * (sqrt(ng) + 1e-8));
            }
            double *row = rows + nl++ * 7;
            row[0] = (double)s, row[1] = s ? acc / (double)logev : NAN;
            for (size_t i = 0; i < (size_t)evt; i++)
                for (int k = 0; k < 5; k++) row[2 + k] += er[i * 6 + k] / (double)evt;
            acc = 0;
        }
        if (s == steps) break;
        tasks_sample(&tr, uB, r);
        /* gradient of 0.5 sum (t - p)^2 / B: fixed chunks of LGD_CHUNK tasks, summed in chunk order */
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t ch = 0; ch < nchunk; ch++) {
            double *g = cg + ch * m.np;
            memset(g, 0, m.np * sizeof *g);
            for (size_t i = ch * LGD_CHUNK; i < uB && i < (ch + 1) * LGD_CHUNK; i++) {
                double yh = lsa_grad(g, &m, tr.X + i * uN * ud, tr.y + i * uN, tr.xq + i * ud, tr.t[i], uN, ud,
                                     1.0 / (double)uB);
                bl[i] = 0.5 * (yh - tr.t[i]) * (yh - tr.t[i]);
            }
        }
        memset(m.g, 0, m.np * sizeof *m.g);
        for (size_t ch = 0; ch < nchunk; ch++)
            for (size_t k = 0; k < m.np; k++) m.g[k] += cg[ch * m.np + k];
        double loss = 0, gn = 0;
        for (size_t i = 0; i < uB; i++) loss += bl[i] / (double)uB;
        acc += loss;
        for (size_t k = 0; k < m.np; k++) gn += m.g[k] * m.g[k];
        gn = sqrt(gn);
        if (gn > clip) /* optax.clip_by_global_norm */
            for (size_t k = 0; k < m.np; k++) m.g[k] *= clip / gn;
        smx_optim_step(o, m.t, 4);
        smx_progress_update(&pr, (double)(s + 1));
    }
    smx_progress_finish(&pr);
    if (!quiet)
        fprintf(stderr, "%s: %.1f steps/s (batch %ld, %d threads)\n", prog, (double)steps / (smx_time_now() - t0), B,
                omp_get_max_threads());
    smx_tsv_t *tv = icl_tsv_open_or_fail(out, prog, &c, argc, argv);
    smx_tsv_meta(tv, "d", "%ld", d);
    smx_tsv_meta(tv, "N", "%ld", N);
    smx_tsv_meta(tv, "batch", "%ld", B);
    smx_tsv_meta(tv, "steps", "%ld", steps);
    smx_tsv_meta(tv, "lr", "%g", lr);
    smx_tsv_meta(tv, "clip", "%g", clip);
    if (wd != 0) smx_tsv_meta(tv, "weight_decay", "%g", wd); /* only when set: default outputs keep their bytes */
    smx_tsv_meta(tv, "eval_tasks", "%ld", evt);
    smx_tsv_meta(tv, "scan_tasks", "%ld", sct);
    smx_tsv_meta(tv, "eta_gd", "%.17g", eta);
    smx_tsv_meta(tv, "paper", "von Oswald et al. 2023 Fig. 2: Model Cos near 1, Preds Diff and Model Diff near 0 "
                              "after 5000 steps of batch 2048");
    smx_tsv_header(tv, "step\ttrain_loss\ttest_loss_tf\ttest_loss_gd\tpreds_diff\tmodel_diff\tmodel_cos");
    for (size_t i = 0; i < nl; i++) {
        smx_tsv_int(tv, (long long)rows[i * 7]);
        for (int k = 1; k < 7; k++) smx_tsv_num(tv, rows[i * 7 + k]);
        smx_tsv_endrow(tv);
    }
    smx_optim_free(o);
    tasks_free(&tr), tasks_free(&ev), tasks_free(&sc);
    free(m.w), free(m.g), free(cg), free(bl), free(rows), free(er);
    gsl_rng_free(r), gsl_rng_free(rs), gsl_rng_free(re);
    return icl_tsv_close_or_fail(tv, out, prog);
}
