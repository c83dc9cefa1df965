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
#include "format.h"
#include "sum.h"
#include "xent.h"
#include "optim.h"

typedef enum { COLLAPSE_OP_ADD = 0, COLLAPSE_OP_MUL, COLLAPSE_OP_SUB } collapse_op_t;

#define COLLAPSE_MAX_DEPTH 8

/* The correct class's logit gradient g_y of a row (a diagnostic of issue 11, README "SC onset vs
 * precision p"): COLLAPSE_GY_FORMAT = xent.h's fl(fl(1 / S) - 1); COLLAPSE_GY_ZEROSUM =
 * fl(-sum_{i != y} g_i), the others' rounded gradients summed in double in index order (the
 * identity sum_i g_i = 0 of the exact gradient), in every row; COLLAPSE_GY_ZEROSUM_NONSC = the
 * same in rows not in SC only (S > 1), rows in SC keep g_y = 0. */
typedef enum { COLLAPSE_GY_FORMAT = 0, COLLAPSE_GY_ZEROSUM, COLLAPSE_GY_ZEROSUM_NONSC } collapse_gy_t;

typedef struct {
    int modulus, width, depth;
    collapse_op_t op;
    double train_frac;
    smx_dtype_t dtype;       /* model arithmetic: float or double */
    smx_xent_loss_t loss;    /* softmax or StableMax cross-entropy (numerics/xent.h) */
    smx_format_t fmt;        /* softmax / loss format */
    smx_sum_algo_t sum;      /* order of the denominator: SMX_SUM_MAXFIRST ("sequential": the max
                                term's 1 first, then the others in index order) or
                                SMX_SUM_PAIRWISE (1 + pairwise sum of the others) (xent.h) */
    smx_optim_cfg_t opt;
    unsigned long seed;
    collapse_gy_t gy;        /* the correct-class gradient (diagnostic, issue 11; default: xent.h's) */
} collapse_cfg_t;

/* Per-row result: the loss in the format (xent.h) and whether the model's first argmax is the label. */
typedef struct {
    smx_xent_row_t x;
    int correct;
} collapse_row_t;

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
    smx_xent_t **xent;           /* per thread */
    int nthreads;
    long epoch;                  /* steps taken */
} collapse_model_t;

/* Build data split (stream 0 of the seed) and init (stream 1), optimizer state zero.
 * SMX_EDOM for bad sizes, SMX_ENOMEM. */
int collapse_model_alloc(collapse_model_t **m, const collapse_cfg_t *cfg);
void collapse_model_free(collapse_model_t *m);

/* Label of pair index i = a V + b. */
size_t collapse_label(const collapse_model_t *m, size_t i);

typedef enum { COLLAPSE_TRAIN = 0, COLLAPSE_TEST } collapse_split_t;

/* Forward and the loss in the format on the training or the test set: fills loss, acc,
 * sc_frac, zero_frac and the gaps of mt. */
void collapse_model_forward(collapse_model_t *m, collapse_metrics_t *mt, collapse_split_t split);
/* Forward, loss and backward on the training set: the metrics as above and the gradient of the
 * mean loss in m->grad. The gradient of the mean loss w.r.t. the logits is a tensor in the loss
 * format, dz_k = fl(g_k (1/n)) with g the row gradient of smx_xent_eval, then converted to the
 * model type: as in the reference, where the cross-entropy of float16 logits has a float16
 * gradient (values below fp16's subnormals flush to zero). */
void collapse_model_forward_backward(collapse_model_t *m, collapse_metrics_t *mt);
/* The loss-in-format pass alone on the training set, on the logits in m->z (for timing): per-row
 * loss, SC, gap and correctness into m->rows, dz = fl(grad / n). */
void collapse_model_loss_rows_grad(collapse_model_t *m);
/* Weight norms and cos(W, -grad) per tensor (uses m->grad: call after a backward). */
void collapse_model_norms(collapse_model_t *m, collapse_metrics_t *mt);
/* One optimizer step with m->grad. */
int collapse_model_step(collapse_model_t *m);

/* The per-row logit gradient split into the parts that decide whether a row's gap grows (issue
 * 11; smx-collapse rowgrad, README "SC onset vs precision p"): the correct class y, the runner-up r
 * (the largest other logit) and the rest.
 * For the softmax cross-entropy the exact row gradient is g_i = e_i / S - [i == y], so it sums to
 * 0 over the classes: g_y = -(S - 1) / S = -(sum of the others' g). xent.h rounds
 * g_y = fl(fl(1 / S) - 1) (y the max, e_y = 1) and g_i = fl(e_i / S): the others stay accurate
 * to the format, g_y carries whatever S lost. In the sequential order S = (((1 + t_1) + t_2) + ...)
 * and every term t_i <= 2^-p (half an ulp of 1, below the gap p ln 2) is rounded away one at a
 * time, however many there are; the pairwise order sums the small terms first. */
typedef struct {
    double gy;   /* correct class */
    double gr;   /* runner-up */
    double go;   /* sum over the other classes (neither y nor r) */
    double gsum; /* sum over all classes: 0 for the exact gradient */
} collapse_gparts_t;

/* Index of the largest z_i over i != y (the first one of equal values). n >= 2. */
size_t collapse_runner_up(const double *z, size_t n, size_t y);

/* The parts of g[0..n) for label y and runner-up r (sums in index order, in double). */
void collapse_grad_parts(collapse_gparts_t *p, const double *g, size_t n, size_t y, size_t r);

/* Parameter access as double (for tests): element i of the flat parameter vector. */
double collapse_param_get(const collapse_model_t *m, size_t i);
void collapse_param_set(collapse_model_t *m, size_t i, double v);
double collapse_grad_get(const collapse_model_t *m, size_t i);

#endif
