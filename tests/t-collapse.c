/* t-collapse.c - smx-collapse model: gradients vs central finite differences (softmax and
 * StableMax CE, every layer, double); SC detection of a hand-built logit row at the format
 * (the row loss itself: t-xent.c); a tiny run
 * (modulus 7) whose loss decreases; same gradients with 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "collapse_model.h"
#include "collapse_run.h"
#include "nn.h"
#include "smx.h"
#include "stablemax.h"
#include "tap.h"
#include "threshold.h"

static collapse_cfg_t base_cfg(int V, int W, smx_xent_loss_t loss)
{
    collapse_cfg_t c;
    memset(&c, 0, sizeof c);
    c.modulus = V; c.width = W; c.depth = 2; c.train_frac = 0.55; c.op = COLLAPSE_OP_ADD;
    c.dtype = SMX_DTYPE_F64; c.loss = loss; c.sum = SMX_SUM_MAXFIRST; c.seed = 11;
    smx_format_get(&c.fmt, "fp64");
    smx_optim_cfg_default(&c.opt, SMX_OPTIM_ADAMW);
    c.opt.lr = 1e-2; c.opt.beta2 = 0.99; c.opt.eps = 1e-25; c.opt.weight_decay = 0;
    return c;
}

static double loss_at(collapse_model_t *m)
{
    collapse_metrics_t mt;
    collapse_model_forward(m, &mt, COLLAPSE_TRAIN);
    return mt.loss;
}

static void test_fd(smx_xent_loss_t loss)
{
    const char *name = loss == SMX_XENT_SOFTMAX ? "softmax" : "stablemax";
    collapse_cfg_t c = base_cfg(7, 9, loss);
    collapse_model_t *m;
    ok(collapse_model_alloc(&m, &c) == SMX_OK, "%s: model alloc", name);
    /* a few steps so that the logits are away from the initial symmetric state */
    collapse_metrics_t mt;
    for (int s = 0; s < 5; s++) { collapse_model_forward_backward(m, &mt); collapse_model_step(m); }
    collapse_model_forward_backward(m, &mt);
    double *g = malloc(m->nparam * sizeof *g);
    for (size_t i = 0; i < m->nparam; i++) g[i] = collapse_grad_get(m, i);
    for (size_t l = 0; l <= m->D; l++) {
        double worst = 0, gmax = 0;
        size_t len = m->off[l + 1] - m->off[l], stride = len / 23 + 1;
        for (size_t i = m->off[l]; i < m->off[l + 1]; i += stride) {
            const double h = 1e-6, w0 = collapse_param_get(m, i);
            collapse_param_set(m, i, w0 + h);
            double lp = loss_at(m);
            collapse_param_set(m, i, w0 - h);
            double lm = loss_at(m);
            collapse_param_set(m, i, w0);
            double fd = (lp - lm) / (2 * h);
            worst = fmax(worst, fabs(fd - g[i]));
            gmax = fmax(gmax, fabs(g[i]));
        }
        ok(worst <= 1e-7 * fmax(gmax, 1e-3) + 1e-10, "%s: layer %zu gradient vs central differences (err %.2g, max |g| %.2g)",
           name, l + 1, worst, gmax);
    }
    free(g);
    collapse_model_free(m);
}

/* the loss kernel's inline rounding equals smx_format_round, bit for bit */
static void test_round(void)
{
    const char *fmts[] = {"fp16", "bf16", "p8", "p11", "p20", "tf32", "fp8-e5m2", "fp8-e4m3", "fp32", "fp64", "p40"};
    for (int fi = 0; fi < 11; fi++) {
        smx_format_t f;
        smx_format_get(&f, fmts[fi]);
        long bad = 0, n = 0;
        unsigned long long s = 88172645463325252ull;
        for (int i = 0; i < 200000; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            /* magnitudes 2^-60 .. 2^20 (subnormals, ties, overflow of the small formats) */
            double m = 1.0 + (double)(s >> 12) / 4503599627370496.0;
            double x = ldexp(m, (int)(s % 81) - 60) * ((s >> 7) & 1 ? -1 : 1);
            if (i % 5 == 0) x = ldexp(1.0 + ldexp(1.0, -f.p), (int)(s % 81) - 60); /* exact ties */
            double a = smx_format_round_ref(x, &f), b = smx_format_round(x, &f);
            n++;
            if (!(memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)))) bad++;
        }
        double sp[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 4.9e-324, -1e-310, 1e300};
        for (int i = 0; i < 8; i++) {
            double a = smx_format_round_ref(sp[i], &f), b = smx_format_round(sp[i], &f);
            n++;
            if (!(memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)))) bad++;
        }
        ok(bad == 0, "%s: inline smx_format_round == MPFR reference on %ld values (%ld differ)", fmts[fi], n, bad);
    }
}

static void test_tiny_run(void)
{
    collapse_cfg_t c = base_cfg(7, 24, SMX_XENT_SOFTMAX);
    c.dtype = SMX_DTYPE_F32;
    smx_format_get(&c.fmt, "fp16");
    c.train_frac = 0.6;
    collapse_run_opts_t o = {.cfg = c, .epochs = 150, .log_every = 50, .quiet = 1, .cfgstr = "t"};
    collapse_log_t log;
    int fin;
    ok(collapse_run(&log, NULL, &fin, &o) == SMX_OK && fin && log.nrows == 4, "tiny run (modulus 7, fp16 loss): 4 rows");
    double l0 = log.v[COLLAPSE_COL_LOSS], l1 = log.v[3 * log.ncols + COLLAPSE_COL_LOSS];
    ok(l1 < 0.1 * l0, "tiny run: loss decreases %.4g -> %.4g", l0, l1);
    ok(log.v[3 * log.ncols + COLLAPSE_COL_TRAIN_ACC] == 1, "tiny run: train accuracy 1");
    collapse_log_free(&log);
}

/* Independent forward of the fp64 model from its parameters (collapse_param_get), plain loops,
 * no BLAS: z = W_out relu(... relu(W_2 relu(E[a] + E[V + b])) ...). Returns the logits row. */
static void ref_logits(double *z, const collapse_model_t *m, size_t pair)
{
    const size_t V = m->V, W = m->W, D = m->D, a = pair / V, b = pair % V;
    double h[256], t[256];
    for (size_t j = 0; j < W; j++)
        h[j] = fmax(0, collapse_param_get(m, m->off[0] + a * W + j) + collapse_param_get(m, m->off[0] + (V + b) * W + j));
    for (size_t l = 1; l < D; l++) {
        for (size_t o = 0; o < W; o++) {
            double s = 0;
            for (size_t j = 0; j < W; j++) s += collapse_param_get(m, m->off[l] + o * W + j) * h[j];
            t[o] = fmax(0, s);
        }
        memcpy(h, t, W * sizeof *h);
    }
    for (size_t k = 0; k < V; k++) {
        double s = 0;
        for (size_t j = 0; j < W; j++) s += collapse_param_get(m, m->off[D] + k * W + j) * h[j];
        z[k] = s;
    }
}

/* Accuracy (first argmax == label), mean CE (exact, in long double) and SC fraction (criterion
 * in format f: zr = fl(z), 1 + sum_{k != max} fl(exp(fl(zr_k - max))) == 1, summed sequentially
 * in f, the max term first) of a pair set, independently. */
static void ref_metrics(double *acc, double *loss, double *sc, double *zero, double gaps[2], const collapse_model_t *m,
                        const size_t *idx, size_t n, const smx_format_t *f)
{
    size_t right = 0, nsc = 0, nzero = 0;
    gaps[0] = NAN; /* min over SC rows of max - second largest rounded logit */
    gaps[1] = NAN; /* max over the other rows */
    long double tot = 0;
    for (size_t i = 0; i < n; i++) {
        double z[128];
        ref_logits(z, m, idx[i]);
        size_t am = 0, y = collapse_label(m, idx[i]);
        for (size_t k = 1; k < m->V; k++)
            if (z[k] > z[am]) am = k;
        right += am == y;
        long double se = 0;
        double s = 1, zm = smx_format_round(z[am], f);
        for (size_t k = 0; k < m->V; k++) {
            se += expl((long double)z[k] - z[am]);
            if (k != am) s = smx_format_round(s + smx_format_round(exp(smx_format_round(smx_format_round(z[k], f) - zm, f)), f), f);
        }
        nsc += s == 1;
        double second = -INFINITY;
        for (size_t k = 0; k < m->V; k++)
            if (k != am) second = fmax(second, smx_format_round(z[k], f));
        double gap = zm - second;
        if (s == 1) gaps[0] = isnan(gaps[0]) ? gap : fmin(gaps[0], gap);
        else gaps[1] = isnan(gaps[1]) ? gap : fmax(gaps[1], gap);
        /* the loss in f, fl(fl(log S) - fl(zr_y - max)), is exactly 0 */
        nzero += smx_format_round(smx_format_round(log(s), f) - smx_format_round(smx_format_round(z[y], f) - zm, f), f) == 0;
        tot += logl(se) - ((long double)z[y] - z[am]);
    }
    *acc = (double)right / (double)n;
    *loss = (double)(tot / n);
    *sc = (double)nsc / (double)n;
    *zero = (double)nzero / (double)n;
}

/* Value check of every logged column against an independent computation from the final
 * parameters (fp64 model and loss): train / test accuracy, train loss, sc_fraction, weight
 * norms (issue 8: "training accuracy written into test_acc" must fail). Both runs stop where
 * train and test accuracy differ (checked), so a swapped column cannot pass; at epoch 0 both
 * are nonzero (chance level), at epoch 40 the training set is nearly memorised. */
static void test_log_values(long epochs, const char *fmt, double lr, double loss_tol)
{
    collapse_cfg_t c = base_cfg(11, 24, SMX_XENT_SOFTMAX);
    c.train_frac = 0.5;
    c.opt.lr = lr;
    smx_format_get(&c.fmt, fmt);
    collapse_run_opts_t o = {.cfg = c, .epochs = epochs, .log_every = 20, .quiet = 1, .cfgstr = "t"};
    const size_t nrows = (size_t)epochs / 20 + 1;
    collapse_log_t log;
    collapse_model_t *m = NULL;
    int fin;
    int st = collapse_run(&log, &m, &fin, &o);
    ok(st == SMX_OK && fin && m && log.nrows == nrows, "value-check run (modulus 11, fp64 model, %s loss, %ld epochs): %zu rows", fmt, epochs, nrows);
    if (!m || log.nrows != nrows) return;
    const double *row = log.v + (nrows - 1) * log.ncols;
    double tra, trl, trs, trz, tea, tel, tes, tez, trg[2], teg[2];
    ref_metrics(&tra, &trl, &trs, &trz, trg, m, m->train, m->ntrain, &c.fmt);
    ref_metrics(&tea, &tel, &tes, &tez, teg, m, m->test, m->ntest, &c.fmt);
    ok(row[COLLAPSE_COL_EPOCH] == (double)epochs, "last row is epoch %ld (%g)", epochs, row[COLLAPSE_COL_EPOCH]);
    ok(tra != tea, "train and test accuracy differ at this epoch (%.4f, %.4f): the check below can tell them apart", tra, tea);
    ok(row[COLLAPSE_COL_TRAIN_ACC] == tra, "train_acc = independent forward's (%.6f, want %.6f)", row[COLLAPSE_COL_TRAIN_ACC], tra);
    ok(row[COLLAPSE_COL_TEST_ACC] == tea, "test_acc = independent forward's on the test pairs (%.6f, want %.6f)",
       row[COLLAPSE_COL_TEST_ACC], tea);
    ok_abs(row[COLLAPSE_COL_LOSS], trl, loss_tol * fmax(trl, 1e-2), "train_loss = independent exact mean CE (%.6g; tol %g max(CE, 0.01))", trl, loss_tol);
    ok(row[COLLAPSE_COL_SC] == trs, "sc_fraction = independent %s SC criterion (%.6f, want %.6f)", fmt, row[COLLAPSE_COL_SC], trs);
    if (trs != tes) ok(row[COLLAPSE_COL_SC] != tes, "sc_fraction is the training set's (test set's %.6f differs)", tes);
    ok(row[COLLAPSE_COL_ZERO] == trz, "zero_loss_fraction = independent count of loss == 0 in %s (%.6f, want %.6f)", fmt,
       row[COLLAPSE_COL_ZERO], trz);
    for (int g = 0; g < 2; g++) {
        double got = row[COLLAPSE_COL_GAPMIN + g];
        /* 1e-9: the reference forward sums in another order than BLAS (last bits of the logits) */
        ok((isnan(got) && isnan(trg[g])) || fabs(got - trg[g]) <= 1e-9 * fabs(trg[g]),
           "%s = independent (%.9g, want %.9g; test set's %.9g)",
           g ? "nonsc_gap_max" : "sc_gap_min", got, trg[g], teg[g]);
    }
    if (trz != tez) ok(row[COLLAPSE_COL_ZERO] != tez, "zero_loss_fraction is the training set's (test set's %.6f differs)", tez);
    double tot = 0;
    long badn = 0;
    for (size_t l = 0; l <= m->D; l++) {
        double ww = 0;
        for (size_t i = m->off[l]; i < m->off[l + 1]; i++) ww += collapse_param_get(m, i) * collapse_param_get(m, i);
        tot += ww;
        badn += fabs(row[COLLAPSE_COL_NORM1 + l] - sqrt(ww)) > 1e-12 * sqrt(ww);
    }
    ok(badn == 0 && fabs(row[COLLAPSE_COL_NORM1 + m->D + 1] - sqrt(tot)) <= 1e-12 * sqrt(tot),
       "w_norm_l and w_norm_total = Frobenius norms of the final parameters");
    /* cos_nlm_l = cos(W_l, -grad_l) with the gradient of the logged epoch (m->grad: no step after it) */
    badn = 0;
    for (size_t l = 0; l <= m->D; l++) {
        double wg = 0, gg = 0, ww = 0;
        for (size_t i = m->off[l]; i < m->off[l + 1]; i++) {
            double w = collapse_param_get(m, i), g = collapse_grad_get(m, i);
            wg += w * g; gg += g * g; ww += w * w;
        }
        double want = -wg / sqrt(ww * gg);
        badn += !(fabs(row[COLLAPSE_COL_NORM1 + m->D + 2 + l] - want) <= 1e-12);
    }
    ok(badn == 0, "cos_nlm_l = cos(W_l, -grad_l) of the final parameters and gradient");
    /* the TSV's test_acc column is a fraction of the test pairs */
    long offgrid = 0;
    for (size_t r = 0; r < log.nrows; r++) {
        double k = log.v[r * log.ncols + COLLAPSE_COL_TEST_ACC] * (double)m->ntest;
        offgrid += fabs(k - nearbyint(k)) > 1e-9;
    }
    ok(offgrid == 0, "every test_acc is k / ntest (ntest %zu)", m->ntest);
    collapse_model_free(m);
    collapse_log_free(&log);
}

/* A model of c with its output layer scaled by k (larger logit gaps), after one forward and
 * backward, and a row workspace of its loss: the setting of the dz checks below. */
static collapse_model_t *scaled_model(smx_xent_t **w, const collapse_cfg_t *c, double k)
{
    collapse_model_t *m;
    collapse_model_alloc(&m, c);
    for (size_t i = m->off[m->D]; i < m->off[m->D + 1]; i++) collapse_param_set(m, i, k * collapse_param_get(m, i));
    collapse_metrics_t mt;
    collapse_model_forward_backward(m, &mt);
    smx_xent_alloc(w, (size_t)c->modulus, c->loss, c->sum, &c->fmt, 0);
    return m;
}

/* The gradient of the mean loss w.r.t. the logits is rounded to the loss format:
 * dz_k = fl(g_k (1/n)), so in fp16 gradients below half the smallest subnormal (2^-25) flush to
 * zero, as the reference's float16 gradient tensor does. */
static void test_dz_in_format(void)
{
    enum { V = 31 };
    collapse_cfg_t c = base_cfg(V, 64, SMX_XENT_SOFTMAX);
    c.dtype = SMX_DTYPE_F32;
    smx_format_get(&c.fmt, "fp16");
    smx_xent_t *w;
    /* a larger output layer: logit gaps of several units, p_k / n below fp16's subnormals */
    collapse_model_t *m = scaled_model(&w, &c, 123.85);
    const float *z = m->z, *dz = m->dz;
    const double invn = 1.0 / (double)m->ntrain;
    size_t bad = 0, flushed = 0, nonzero = 0;
    for (size_t i = 0; i < m->ntrain; i++) {
        double zr[V], g[V];
        smx_xent_row_t r;
        for (size_t k = 0; k < V; k++) zr[k] = z[i * V + k];
        smx_xent_eval(w, &r, g, zr, V, collapse_label(m, m->train[i]));
        for (size_t k = 0; k < V; k++) {
            double want = smx_format_round(g[k] * invn, &c.fmt), got = dz[i * V + k];
            bad += got != want;
            flushed += g[k] != 0 && got == 0;
            nonzero += got != 0;
        }
    }
    ok(bad == 0 && flushed > 0 && nonzero > 0,
       "fp16 loss: dz = fl16(g / n) for every logit (%zu mismatches; %zu nonzero gradients flushed, %zu kept)",
       bad, flushed, nonzero);
    smx_xent_free(w);
    collapse_model_free(m);
}

static void test_threads(void)
{
#ifdef _OPENMP
    collapse_cfg_t c = base_cfg(31, 64, SMX_XENT_SOFTMAX);
    c.dtype = SMX_DTYPE_F32;
    smx_format_get(&c.fmt, "bf16");
    c.train_frac = 0.7; /* 672 rows: two row tiles */
    smx_nn_init_threads(0);
    size_t n = 0;
    void *g[3] = {NULL, NULL, NULL};
    for (int t = 1; t <= 3; t++) { /* 3: uneven blocks of rows / columns */
        omp_set_num_threads(t);
        collapse_model_t *m;
        collapse_model_alloc(&m, &c);
        collapse_metrics_t mt;
        for (int s = 0; s < 3; s++) { collapse_model_forward_backward(m, &mt); collapse_model_step(m); }
        collapse_model_forward_backward(m, &mt);
        n = m->nparam * sizeof(float);
        g[t - 1] = malloc(n);
        memcpy(g[t - 1], m->grad, n);
        collapse_model_free(m);
    }
    ok(memcmp(g[0], g[1], n) == 0 && memcmp(g[0], g[2], n) == 0,
       "gradients after 3 steps: same bytes with 1, 2 and 3 threads");
    free(g[0]);
    free(g[1]);
    free(g[2]);
#else
    ok(1, "# SKIP no OpenMP");
#endif
}


/* Issue 11, why the sequential sum slows the gaps: a synthetic row (label 0 at the max, the
 * runner-up 1 at gap g, the other V - 2 classes at g + 3) in p16 swept across the threshold
 * p ln 2. Where the runner-up's term t_1 = fl(e^-g) exceeds 2^-p and the others' do not, the
 * sequential sum rounds every other term away: its correct-class gradient is exactly that of
 * the two-class row (0, -g), whatever V is, while the pairwise sum keeps the others (within an
 * ulp of 1 of the exact, MPFR 256-bit gradient). Above the threshold the sequential g_y is 0.
 * The exact row gradient sums to 0; the sequential one's sum is the others' dropped mass. */
static void test_rowgrad_synthetic(void)
{
    enum { V = 97 };
    smx_format_t f, fx;
    smx_format_get(&f, "p16");
    smx_format_get(&fx, "p256");
    smx_xent_t *ws, *wp, *wx, *w2;
    smx_xent_alloc(&ws, V, SMX_XENT_SOFTMAX, SMX_SUM_MAXFIRST, &f, 0);
    smx_xent_alloc(&wp, V, SMX_XENT_SOFTMAX, SMX_SUM_PAIRWISE, &f, 0);
    smx_xent_alloc(&wx, V, SMX_XENT_SOFTMAX, SMX_SUM_PAIRWISE, &fx, 1);
    smx_xent_alloc(&w2, 2, SMX_XENT_SOFTMAX, SMX_SUM_MAXFIRST, &f, 0);
    const double thr = 16 * M_LN2, u = ldexp(1, -15);
    size_t below = 0, bad_two = 0, bad_pair = 0, bad_sum = 0, above = 0, bad_zero = 0, bad_parts = 0;
    double lo_ratio = 1, hi_ratio = 0;
    for (int k = 0; k <= 300; k++) {
        const double g = thr - 2 + k * 0.01;
        double z[V], gs[V], gp[V], gx[V], z2[2] = {0, -g}, g2[2];
        z[0] = 0;
        z[1] = -g;
        for (size_t i = 2; i < V; i++) z[i] = -(g + 3);
        smx_xent_row_t rs, rp, rx, r2;
        smx_xent_eval(ws, &rs, gs, z, V, 0);
        smx_xent_eval(wp, &rp, gp, z, V, 0);
        smx_xent_eval(wx, &rx, gx, z, V, 0);
        smx_xent_eval(w2, &r2, g2, z2, 2, 0);
        collapse_gparts_t ps, pp, px;
        size_t r = collapse_runner_up(z, V, 0);
        collapse_grad_parts(&ps, gs, V, 0, r);
        collapse_grad_parts(&pp, gp, V, 0, r);
        collapse_grad_parts(&px, gx, V, 0, r);
        /* the parts against a plain sum: g_y + g_r + g_other == g_sum (to double rounding) */
        bad_parts += r != 1 || fabs(ps.gy + ps.gr + ps.go - ps.gsum) > 1e-15 || px.gy != gx[0] || px.gr != gx[1];
        const double t1 = smx_format_round(exp(smx_format_round(-g, &f)), &f);
        const double t2 = smx_format_round(exp(smx_format_round(-(g + 3), &f)), &f);
        if (t1 > ldexp(1, -16) && t2 <= ldexp(1, -16)) {
            below++;
            bad_two += ps.gy != g2[0];                       /* the 95 others rounded away */
            bad_pair += !(fabs(pp.gy - px.gy) <= 0.75 * u);   /* pairwise keeps them */
            /* the sequential row sum = the dropped mass: the others' g, V - 2 times t2 / S */
            bad_sum += !(ps.gsum > 0 && fabs(ps.gsum - ps.go) <= u) || fabs(px.gsum) > 1e-15;
            lo_ratio = fmin(lo_ratio, ps.gy / px.gy);
            hi_ratio = fmax(hi_ratio, ps.gy / px.gy);
        }
        if (g >= thr + 0.01) {
            above++;
            bad_zero += !(rs.sc && ps.gy == 0 && px.gy < 0 && ps.gr > 0);
        }
    }
    ok(below > 100 && bad_two == 0, "p16 synthetic row, %zu gaps below p ln 2: sequential g_y = the two-class row's "
       "(the V - 2 terms <= 2^-p rounded away) (%zu differ)", below, bad_two);
    ok(bad_pair == 0, "p16 synthetic row: pairwise g_y within 0.75 ulp(1) of the exact (MPFR 256) one (%zu not)", bad_pair);
    ok(bad_sum == 0, "p16 synthetic row: sequential row sum > 0 = the others' gradient (the dropped mass), exact sum 0 "
       "(%zu not)", bad_sum);
    ok(hi_ratio < 0.5, "p16 synthetic row: sequential g_y / exact g_y in [%.3f, %.3f] (others' mass 4.7 x t_1)", lo_ratio,
       hi_ratio);
    ok(above > 50 && bad_zero == 0, "p16 synthetic row, %zu gaps above p ln 2: SC, sequential g_y = 0, the runner-up's "
       "push kept, the exact g_y < 0 (%zu not)", above, bad_zero);
    ok(bad_parts == 0, "gradient parts: runner-up index, g_y + g_r + g_other = g_sum (%zu bad)", bad_parts);
    smx_xent_free(ws);
    smx_xent_free(wp);
    smx_xent_free(wx);
    smx_xent_free(w2);
}

/* --correct-grad zero-sum[-nonsc] (collapse_gy_t): dz_y = fl(fl(-sum_{k != y} g_k) / n) from an
 * independent row evaluation, in every row / in the rows not in SC (rows in SC keep xent.h's). */
static void test_correct_grad(void)
{
    enum { V = 31 };
    for (int mode = COLLAPSE_GY_ZEROSUM; mode <= COLLAPSE_GY_ZEROSUM_NONSC; mode++) {
        collapse_cfg_t c = base_cfg(V, 64, SMX_XENT_SOFTMAX);
        c.dtype = SMX_DTYPE_F64;
        smx_format_get(&c.fmt, "p11");
        c.gy = (collapse_gy_t)mode;
        smx_xent_t *w;
        /* a larger output layer: some rows in SC at p11 (gaps above 11 ln 2 = 7.6) */
        collapse_model_t *m = scaled_model(&w, &c, 400);
        const double *z = m->z, *dz = m->dz, invn = 1.0 / (double)m->ntrain;
        size_t bad = 0, sc = 0, changed = 0;
        for (size_t i = 0; i < m->ntrain; i++) {
            double g[V], s = 0;
            smx_xent_row_t r;
            size_t y = collapse_label(m, m->train[i]);
            smx_xent_eval(w, &r, g, z + i * V, V, y);
            for (size_t k = 0; k < V; k++)
                if (k != y) s += g[k];
            const double gy = mode == COLLAPSE_GY_ZEROSUM || !r.sc ? smx_format_round(-s, &c.fmt) : g[y];
            sc += (size_t)r.sc;
            changed += gy != g[y];
            for (size_t k = 0; k < V; k++) bad += dz[i * V + k] != smx_format_round((k == y ? gy : g[k]) * invn, &c.fmt);
        }
        ok(bad == 0 && sc > 0 && sc < m->ntrain && changed > 0, "--correct-grad %s: dz_y = fl(-sum of the others) / n "
           "(%zu mismatches; %zu rows in SC of %zu, %zu g_y changed)", mode == COLLAPSE_GY_ZEROSUM ? "zero-sum" : "zero-sum-nonsc",
           bad, sc, m->ntrain, changed);
        smx_xent_free(w);
        collapse_model_free(m);
    }
}

int main(void)
{
    test_fd(SMX_XENT_SOFTMAX);
    test_fd(SMX_XENT_STABLEMAX);
    test_round();
    test_tiny_run();
    test_log_values(0, "fp64", 1e-2, 1e-12);
    test_log_values(40, "fp64", 1e-2, 1e-12);
    test_log_values(200, "fp16", 3e-2, 0.1);
    test_threads();
    test_dz_in_format();
    test_rowgrad_synthetic();
    test_correct_grad();
    return tap_done();
}
