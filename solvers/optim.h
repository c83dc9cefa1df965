/* optim.h - first-order optimisers for parameter tensors in float or double:
 * SGD with momentum, AdamW, and the perpGrad projection (Prieto et al. 2025, Def. 7).
 *
 * A model is a list of tensors (weight pointer, gradient pointer, length); they may be
 * carved from one allocation. The optimiser state (first / second moments) is one
 * allocation of `total` elements per moment, tensors concatenated in list order, in the
 * parameters' dtype, allocated once by smx_optim_alloc. Arithmetic of the update is done
 * in the parameters' dtype (float updates in float, as PyTorch does); the few scalars
 * (bias corrections, step size) in double.
 *
 * Update rules (PyTorch 2.x, single-tensor implementations, no foreach/fused differences):
 *  SGD   (torch.optim.SGD, dampening 0, no Nesterov):
 *        g <- g + wd w                                    (coupled L2, only if wd != 0)
 *        b <- g (first step), b <- mu b + g (later)       (only if mu != 0, else b = g)
 *        w <- w - lr b
 *  AdamW (torch.optim.AdamW; Loshchilov & Hutter 2019, decoupled weight decay):
 *        w <- w (1 - lr wd)
 *        m <- m + (1 - b1)(g - m)          v <- b2 v + (1 - b2) g^2
 *        w <- w - lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)
 *  perpGrad (Def. 7, applied per tensor before the base step, as in the reference code
 *        LucasPrietoAl/grokking-at-the-edge-of-numerical-stability orthograd.py):
 *        g_perp = g - (w.g / (w.w + 1e-30)) w,   g <- g_perp * ||g|| / (||g_perp|| + 1e-30)
 *        (dot products and norms accumulated in double, sequentially: deterministic).
 *
 * Threads: the elementwise updates may run under OpenMP; results do not depend on the
 * thread count (no reductions are split). */
#ifndef SMX_OPTIM_H
#define SMX_OPTIM_H

#include <stddef.h>

typedef enum { SMX_DTYPE_F32 = 0, SMX_DTYPE_F64 = 1 } smx_dtype_t;
typedef enum { SMX_OPTIM_SGD = 0, SMX_OPTIM_ADAMW = 1 } smx_optim_kind_t;

typedef struct {
    smx_optim_kind_t kind;
    int perp;            /* 1: perpGrad projection of every tensor's gradient first */
    double lr;           /* learning rate */
    double beta1, beta2; /* AdamW moment decay rates */
    double eps;          /* AdamW denominator epsilon */
    double weight_decay; /* AdamW: decoupled; SGD: coupled L2 */
    double momentum;     /* SGD momentum mu (0: plain SGD) */
} smx_optim_cfg_t;

/* One parameter tensor: w and g point to n elements of the optimiser's dtype. */
typedef struct {
    void *w;
    void *g;
    size_t n;
} smx_tensor_t;

typedef struct {
    smx_optim_cfg_t cfg;
    smx_dtype_t dtype;
    size_t ntensors;
    size_t *len;   /* tensor lengths given at allocation (checked at every step) */
    size_t total;  /* sum of len */
    void *m;       /* SGD momentum buffer / AdamW first moment (total elements; NULL if unused) */
    void *v;       /* AdamW second moment (total elements; NULL for SGD) */
    long step;     /* number of steps taken (t in the bias corrections) */
} smx_optim_t;

/* PyTorch defaults for the kind: SGD lr 1e-3, momentum 0; AdamW lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, weight decay 1e-2. perp = 0. */
void smx_optim_cfg_default(smx_optim_cfg_t *cfg, smx_optim_kind_t kind);

/* Allocate an optimiser for ntensors tensors of lengths len[] (state zeroed, step 0).
 * SMX_EDOM for bad cfg (lr < 0, betas outside [0,1), eps < 0, momentum < 0, ntensors 0),
 * SMX_ENOMEM. *o is NULL on failure. */
int smx_optim_alloc(smx_optim_t **o, const smx_optim_cfg_t *cfg, smx_dtype_t dtype,
                    const size_t *len, size_t ntensors);
void smx_optim_free(smx_optim_t *o);

/* One step on the tensors t[0..ntensors) (same count and lengths as at allocation, else
 * SMX_EDOM). With cfg.perp the gradients are overwritten by their projections. */
int smx_optim_step(smx_optim_t *o, const smx_tensor_t *t, size_t ntensors);

/* Bytes of state (m and v) for checkpoints: smx_optim_state_size; the step counter is o->step. */
size_t smx_optim_state_size(const smx_optim_t *o);

/* perpGrad of one tensor in place (formula above). Returns SMX_OK. */
int smx_optim_perp_f32(float *g, const float *w, size_t n);
int smx_optim_perp_f64(double *g, const double *w, size_t n);

#endif
