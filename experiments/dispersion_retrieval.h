/* dispersion_retrieval.h - smx-dispersion retrieval: the max-retrieval task of Velickovic et al.
 * 2024 (one attention head between two MLPs; softmax, adaptive temperature, SSMax).
 *   model (layers, workspace, forward / backward):          dispersion_retrieval_model.c
 *   training state, checkpoints and the training loop:      dispersion_retrieval_train.c
 *   the subcommand (options, testing, output files):        dispersion_retrieval.c
 * Model (choices where the paper is silent, stated in --help and the metadata):
 *   item x_i = [priority ~ U(0,1), one-hot class of 10]                        (11)
 *   h_i = W2 relu(W1 x_i + b1) + b2                                            (d)
 *   k_i = Wk h_i, v_i = Wv h_i; learned query q (d)
 *   e_i = q.k_i / sqrt(d); alpha = softmax(c e): c = 1, beta(H) (adaptive), s ln n (SSMax)
 *   o = sum_i alpha_i v_i; logits = Wp2 relu(Wp1 o + bp1) + bp2 (10); target = class of the
 *   max-priority item; mean cross-entropy; AdamW. */
#ifndef DISPERSION_RETRIEVAL_H
#define DISPERSION_RETRIEVAL_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "dispersion_io.h"
#include "optim.h"

/* ---- model (dispersion_retrieval_model.c) ---- */
#define DRET_DIN 11
#define DRET_NC 10
#define DRET_NT 12
typedef enum { DRET_SOFTMAX = 0, DRET_ADAPTIVE = 1, DRET_SSMAX = 2 } dret_method_t;
/* "softmax", "adaptive", "ssmax" */
extern const char *const dret_method_names[3];

typedef struct {
    size_t d, np;
    double *w, *g; /* all parameters / gradients, one allocation each */
    double *W1, *b1, *W2, *b2, *Wk, *Wv, *q, *Wp1, *bp1, *Wp2, *bp2, *s;
    smx_tensor_t t[DRET_NT];
} dret_model_t;

typedef struct {
    size_t rows, sets;
    double *X, *R1, *H, *K, *V, *E, *A, *O, *U, *L, *P, *work, *beta;
    double *dH, *dH2, *dK, *dV, *dR1, *dO, *dU, *dL;
    int *y;
} dret_ws_t;

/* Parameters (torch.nn.Linear's uniform init from r; s = s0), gradients zero. SMX_OK, SMX_ENOMEM. */
int dret_model_alloc(dret_model_t *m, size_t d, double s0, gsl_rng *r);
void dret_model_free(dret_model_t *m);
/* Activations for `rows` items in `sets` sets of width d; train: also the gradients'. */
int dret_ws_alloc(dret_ws_t *w, size_t rows, size_t sets, size_t d, int train);
void dret_ws_free(dret_ws_t *w);
/* B sets of n items into w->X, targets into w->y: priority U(0,1), class uniform of 10. */
void dret_sample(dret_ws_t *w, size_t B, size_t n, gsl_rng *r);
/* Item MLP and projections for N rows: R1 = relu(X W1^T + b1), H = R1 W2^T + b2, K, V. */
void dret_encode(dret_ws_t *w, const dret_model_t *m, size_t N);
/* Attention per set and predictor: O, U, L, P; w->beta[b] = c used. Returns the summed CE loss. */
double dret_head(dret_ws_t *w, const dret_model_t *m, size_t B, size_t n, dret_method_t meth);
/* Gradient of the mean CE into m->g (after dret_encode + dret_head on the same w). */
void dret_backward(dret_ws_t *w, dret_model_t *m, size_t B, size_t n, dret_method_t meth);

/* ---- options of the subcommand (dispersion_retrieval.c) ---- */
typedef struct {
    long d, steps, batch, train_nmax, test_log2, test_sets;
    double lr, wd, s_init;
    dispersion_cmd_t cmd; /* common options and the command line for the metadata */
    const char *ckpt;  /* checkpoint file */
    double ckpt_every; /* seconds between checkpoints during training (0: none) */
    long stop_after;   /* testing: stop after this many steps in all (0: never) */
    int resume;
} dret_opts_t;

/* ---- training state and checkpoints (dispersion_retrieval_train.c) ---- */
/* Everything the training loop carries from step to step: a checkpoint holds all of it plus the
 * options that change results (dret_fingerprint), so a resumed run writes the same bytes. */
#define DRET_LOG_EVERY 50
#define DRET_LOGW 5 /* log row: model, step, mean loss, train accuracy, s */
typedef struct {
    dret_model_t m[2];        /* [0] softmax attention, [1] SSMax; the same initial weights */
    int phase;                /* model in training: 0, 1; 2 = both trained */
    long step;                /* steps done by the model in training */
    smx_optim_t *opt;         /* its AdamW (moments, step count) */
    gsl_rng *r;               /* its sampler (set sizes, items) */
    double acc_loss, acc_hit; /* sums since the last log row */
    double *log;              /* rows of DRET_LOGW */
    size_t nlog, logcap;
} dret_state_t;

enum { DRET_STOPPED = 100, DRET_BADCKPT = 101 }; /* dret_run statuses besides SMX_* */

/* Both models with the same initial weights (seed stream 999), an empty log. */
int dret_state_alloc(dret_state_t *S, const dret_opts_t *o);
void dret_state_free(dret_state_t *S);
/* --resume: load o->ckpt (which exists) into S. SMX_OK; DRET_BADCKPT with a one-line message in
 * msg if it is unreadable, corrupted or was written with other options. */
int dret_ckpt_load(dret_state_t *S, const dret_opts_t *o, char *msg, size_t msglen);
/* Train the softmax model, then the SSMax model, from wherever S stands, on the checkpoint
 * clock of solvers/run.h: a checkpoint every o->ckpt_every seconds (0: none in between) and
 * after training; with o->stop_after, a checkpoint once that many steps in all are done and
 * DRET_STOPPED. */
int dret_train(dret_state_t *S, const dret_opts_t *o);

#endif
