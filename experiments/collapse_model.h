/* collapse_model.h - the smx-collapse model: a bias-free ReLU MLP on modular arithmetic,
 * trained full batch (Prieto et al. 2025, science/collapse.md), with the loss computed in an
 * emulated softmax format and the Softmax Collapse (SC) metrics.
 *
 * Model (depth D hidden layers, width W, modulus V):
 *   h1 = relu(E[a] + E[V + b])                  E (2V, W): layer 1 = W1^T, a gather, not a GEMM
 *   h_l = relu(h_{l-1} W_l^T), l = 2..D         W_l (W, W)
 *   z = h_D W_out^T                              W_out (V, W)
 * Parameters carved from one allocation in that order (tensors 0..D). */
#ifndef SMX_COLLAPSE_MODEL_H
#define SMX_COLLAPSE_MODEL_H

#include <stddef.h>
#include <mpfr.h>
#include "format.h"
#include "sum.h"
#include "optim.h"

enum { COLLAPSE_OP_ADD = 0, COLLAPSE_OP_MUL, COLLAPSE_OP_SUB };
enum { COLLAPSE_LOSS_SOFTMAX = 0, COLLAPSE_LOSS_STABLEMAX };
/* Summation order of the softmax denominator (and StableMax's):
 *  SEQ: the (first) max term's 1 first, then the others one at a time in index order;
 *  PAIRWISE: 1 + pairwise_sum(others in index order) (sum.h's tree: the small terms summed
 *            first, as SIMD / tree reductions do) - the orders of numerics/threshold.h. */
enum { COLLAPSE_SUM_SEQ = 0, COLLAPSE_SUM_PAIRWISE };

#define COLLAPSE_MAX_DEPTH 8

typedef struct {
    int modulus, op, width, depth;
    double train_frac;
    smx_dtype_t dtype;       /* model arithmetic: float or double */
    int loss;                /* COLLAPSE_LOSS_* */
    smx_format_t fmt;        /* softmax / loss format */
    int sum;                 /* COLLAPSE_SUM_* */
    smx_optim_cfg_t opt;
    unsigned long seed;
} collapse_cfg_t;

/* Per-row result of the loss in the format. */
typedef struct {
    double loss;   /* -log p_y in the format (rounded to double for p > 53) */
    int sc;        /* softmax denominator sum_k fl(exp(z_k - max)) == 1 exactly */
    int zero;      /* loss == 0 exactly */
    double gap;    /* max - second largest of the rounded logits (the row's min gap) */
} collapse_row_t;

/* Workspace for collapse_row_loss (the MPFR path needs n mpfr_t). */
typedef struct {
    size_t n;
    double *e, *zr, *o; /* n terms, n rounded logits, n - 1 other terms */
    mpfr_t *mz, *me;  /* MPFR path (p > 53), NULL otherwise */
    __mpfr_struct *mo;  /* shallow copies of the other terms for the pairwise sum */
    mpfr_t ms, mt, mu;
    int mpfr_p;
} collapse_rowws_t;


int collapse_rowws_alloc(collapse_rowws_t *w, size_t n, const smx_format_t *f);
void collapse_rowws_free(collapse_rowws_t *w);

/* Loss of one logit row z[0..n) with label y in format f (every op rounded; MPFR for p > 53),
 * and grad[k] = dloss/dz_k (rounded to f, then to double):
 *  softmax:   zr = fl(z), m = max zr, e_k = fl(exp(fl(zr_k - m))), S = sum e (order `sum`),
 *             loss = fl(fl(log S) - fl(zr_y - m)), grad_k = fl(fl(e_k / S) - [k == y]);
 *  stablemax: s_k = fl(s(zr_k)) (stablemax.h), S = sum s (order `sum`, the first max first
 *             for SEQ), loss = fl(fl(log S) - fl(log s_y)),
 *             grad_k = fl(fl(s'(zr_k)) / S) - [k == y] fl(fl(s'(zr_y)) / s_y), rounded.
 * SC is the softmax criterion for both losses (a property of the logits). grad may be NULL. */
int collapse_row_loss(collapse_row_t *r, double *grad, const double *z, size_t n, size_t y, int loss,
                      const smx_format_t *f, int sum, collapse_rowws_t *w);

/* Metrics of one evaluation. */
typedef struct {
    double loss, acc, sc_frac, zero_frac;
    double sc_gap_min;     /* min row gap over rows in SC (NaN if none) */
    double nonsc_gap_max;  /* max row gap over rows not in SC (NaN if none) */
    double norm[COLLAPSE_MAX_DEPTH + 1], norm_total;
    double cos_nlm[COLLAPSE_MAX_DEPTH + 1]; /* cos(W_l, -grad_l) */
} collapse_metrics_t;

typedef struct {
    collapse_cfg_t cfg;
    size_t V, W, D, ntrain, ntest, nparam;
    size_t *train, *test;        /* pair indices a*V + b */
    void *param, *grad;          /* nparam elements of the dtype */
    smx_tensor_t tens[COLLAPSE_MAX_DEPTH + 1];
    size_t off[COLLAPSE_MAX_DEPTH + 2];
    smx_optim_t *opt;
    /* activations / buffers for max(ntrain, ntest) rows */
    void *h[COLLAPSE_MAX_DEPTH], *z, *dz, *dh[2];
    double *zrow_d, *grow_d;     /* per-thread double rows (nthreads * V) */
    collapse_row_t *rows;
    collapse_rowws_t *ws;        /* per thread */
    int nthreads;
    long epoch;                  /* steps taken */
} collapse_model_t;

/* Build data split (stream 0 of the seed) and init (stream 1), optimizer state zero.
 * SMX_EDOM for bad sizes, SMX_ENOMEM. */
int collapse_model_alloc(collapse_model_t **m, const collapse_cfg_t *cfg);
void collapse_model_free(collapse_model_t *m);

/* Label of pair index i = a V + b. */
size_t collapse_label(const collapse_model_t *m, size_t i);

/* Forward (and, if backward, gradient of the mean loss into m->grad) on the training set
 * (test = 0) or the test set (test = 1). The gradient of the mean loss w.r.t. the logits is a
 * tensor in the loss format, dz_k = fl(g_k (1/n)) with g the row gradient of collapse_row_loss,
 * then converted to the model type: as in the reference, where the cross-entropy of float16
 * logits has a float16 gradient (values below fp16's subnormals flush to zero).
 * Fills loss, acc, sc_frac, zero_frac, gaps. */
void collapse_model_eval(collapse_model_t *m, collapse_metrics_t *mt, int test, int backward);
/* The loss-in-format pass of collapse_model_eval alone, on the logits in m->z (for timing):
 * per-row loss, SC, gap and correctness into m->rows; dz = grad / n if backward. */
void collapse_model_loss_rows(collapse_model_t *m, int test, int backward);
/* Weight norms and cos(W, -grad) per tensor (uses m->grad: call after a backward). */
void collapse_model_norms(collapse_model_t *m, collapse_metrics_t *mt);
/* One optimizer step with m->grad. */
int collapse_model_step(collapse_model_t *m);

/* Parameter access as double (for tests): element i of the flat parameter vector. */
double collapse_param_get(const collapse_model_t *m, size_t i);
void collapse_param_set(collapse_model_t *m, size_t i, double v);
double collapse_grad_get(const collapse_model_t *m, size_t i);

#endif
