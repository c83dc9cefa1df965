/* dispersion_retrieval.c - smx-dispersion retrieval: the max-retrieval task of Velickovic et al.
 * 2024 ("softmax is not enough", Sec. 2-4): one attention head between two MLPs, trained on sets
 * of <= 16 items, tested on up to 2^14; softmax vs adaptive temperature (inference only) vs
 * SSMax (Nakanishi 2025, s trained). This file: options, testing on sets of 2^4..2^K items and
 * the output files; the model and its training: dispersion_retrieval.h. */
#include "dispersion_cmds.h"
#include "dispersion_retrieval.h"
#include "nn.h"
#include "run.h"
#include "smx.h"
#include "temperature.h"
#include "tsv.h"
#include "rng.h"
#include "progress.h"
#include "machine.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "  --steps N         training steps (AdamW updates, one batch each) per model (quick 5000,\n"
    "                    paper 20000)\n"
    "  --batch N         sets per step (default 64)\n"
    "  --lr X            AdamW learning rate (default 1e-3)\n"
    "  --weight-decay X  AdamW weight decay (default 1e-4, optax's default; old name --wd)\n"
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
    "                           SSMax's) and exit with status 5, writing no data\n"
    "  --quiet (no estimate line, throughput or progress on stderr) --help --version\n";

enum { O_D = DISPERSION_OPT_FIRST_PRIVATE, O_STEPS, O_BATCH, O_LR, O_WD, O_TRAIN, O_TEST, O_SETS, O_SINIT, O_CKPT,
       O_CKPT_EVERY, O_RESUME, O_STOP_AFTER };


#define DRET_TOPK 32
/* paper accuracies (%) at n = 16, 64, 256, 1024, 4096, 16384: baseline / adaptive temperature */
static const double paper_n[] = {16, 64, 256, 1024, 4096, 16384};
static const double paper_base[] = {98.6, 94.3, 81.3, 53.8, 22.6, 12.4};
static const double paper_adapt[] = {98.6, 94.5, 82.1, 57.7, 24.9, 14.0};

static double paper_acc(double n, dret_method_t m)
{
    for (int i = 0; i < 6; i++)
        if (paper_n[i] == n) return m == DRET_SOFTMAX ? paper_base[i] : m == DRET_ADAPTIVE ? paper_adapt[i] : NAN;
    return NAN;
}

static void meta(smx_tsv_t *t, const dret_opts_t *o)
{
    const dispersion_meta_t v[] = {
        {"d", 'l', &o->d}, {"steps", 'l', &o->steps}, {"batch", 'l', &o->batch}, {"lr", 'g', &o->lr},
        {"wd", 'g', &o->wd}, {"train_nmax", 'l', &o->train_nmax}, {"test_log2", 'l', &o->test_log2},
        {"test_sets", 'l', &o->test_sets}, {"s_init", 'g', &o->s_init}};
    dispersion_meta_std(t, prog, &o->cmd);
    dispersion_meta_table(t, v, sizeof v / sizeof v[0]);
    smx_tsv_meta(t, "model", "item [priority U(0,1), one-hot class of 10] -> MLP 11-d-d -> Wk, Wv; learned query; "
                             "one head; MLP d-d-10; our choices where the paper is silent (encoding, widths, steps)");
    smx_tsv_meta(t, "paper", "Velickovic et al. 2024 Fig/Table: accuracy %% baseline/adaptive at n=16 98.6/98.6, "
                             "64 94.3/94.5, 256 81.3/82.1, 1024 53.8/57.7, 4096 22.6/24.9, 16384 12.4/14.0");
}

/* OUT-train.tsv after its metadata: the training log. */
static void dret_write_train(smx_tsv_t *t, const dret_state_t *S)
{
    smx_tsv_header(t, "model\tstep\tloss\ttrain_acc\ts");
    for (size_t i = 0; i < S->nlog; i++) {
        const double *row = S->log + i * DRET_LOGW;
        smx_tsv_str(t, dret_method_names[(int)row[0]]);
        smx_tsv_int(t, (long long)row[1]);
        for (int k = 2; k < DRET_LOGW; k++) smx_tsv_num(t, row[k]);
        smx_tsv_endrow(t);
    }
}

typedef struct { /* per test set and method */
    unsigned char correct;
    double H, alpha_top, beta;
} dret_res_t;

static int cmp_desc(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] < y[0]) - (x[0] > y[0]);
}

/* Evaluate model m with the given methods on test sets of n = 2^4..2^K; res[(mi * nn + ni) * S + j],
 * attn[((mi * nn + ni) * DRET_TOPK + k) * 2 + {0: priority, 1: alpha}] for set j = 0. */
static int dret_eval(const dret_model_t *m, const dret_opts_t *o, const dret_method_t *meths, int nm, dret_res_t *res,
                    double *attn)
{
    size_t nn = (size_t)o->test_log2 - 3, S = (size_t)o->test_sets, nmax = (size_t)1 << o->test_log2;
    int nt = omp_get_max_threads(), st = SMX_OK;
    dret_ws_t *ws = calloc((size_t)nt, sizeof *ws);
    double *pairs = malloc((size_t)nt * nmax * 2 * sizeof *pairs);
    if (!ws || !pairs) st = SMX_ENOMEM;
    for (int i = 0; i < nt && !st; i++) st = dret_ws_alloc(&ws[i], nmax, 1, m->d, 0);
    double total = 0;
    for (size_t ni = 0; ni < nn; ni++) total += (double)((size_t)16 << ni) * S;
    smx_progress_t pr;
    smx_progress_start(&pr, "test", total, o->cmd.quiet);
    double done = 0;
    for (size_t ni = 0; ni < nn && !st; ni++) {
        size_t n = (size_t)16 << ni;
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t j = 0; j < S; j++) {
            int tid = omp_get_thread_num();
            dret_ws_t *w = &ws[tid];
            gsl_rng *r = smx_rng_alloc_stream(o->cmd.c.seed, 1000000UL * (ni + 1) + j);
            dret_sample(w, 1, n, r);
            gsl_rng_free(r);
            dret_encode(w, m, n);
            size_t top = 0;
            for (size_t i = 1; i < n; i++)
                if (w->X[i * DRET_DIN] > w->X[top * DRET_DIN]) top = i;
            for (int mi = 0; mi < nm; mi++) {
                dret_head(w, m, 1, n, meths[mi]);
                int am = 0;
                for (int k = 1; k < DRET_NC; k++)
                    if (w->L[k] > w->L[am]) am = k;
                dret_res_t *rr = &res[((size_t)mi * nn + ni) * S + j];
                rr->correct = am == w->y[0];
                rr->H = smx_softmax_entropy(w->A, n);
                rr->alpha_top = w->A[top];
                rr->beta = w->beta[0];
                if (j == 0) { /* attention on the DRET_TOPK highest priorities */
                    double *pp = pairs + (size_t)tid * nmax * 2;
                    for (size_t i = 0; i < n; i++) pp[2 * i] = w->X[i * DRET_DIN], pp[2 * i + 1] = w->A[i];
                    qsort(pp, n, 2 * sizeof *pp, cmp_desc);
                    memcpy(attn + ((size_t)mi * nn + ni) * DRET_TOPK * 2, pp,
                           (n < DRET_TOPK ? n : DRET_TOPK) * 2 * sizeof *pp);
                }
            }
        }
        done += (double)n * S;
        smx_progress_update(&pr, done);
    }
    smx_progress_finish(&pr);
    for (int i = 0; ws && i < nt; i++) dret_ws_free(&ws[i]);
    free(ws);
    free(pairs);
    return st;
}

static void dret_write_acc(smx_tsv_t *t, const dret_opts_t *o, const dret_method_t *meths, int nm, const dret_res_t *res)
{
    size_t nn = (size_t)o->test_log2 - 3, S = (size_t)o->test_sets;
    for (int mi = 0; mi < nm; mi++)
        for (size_t ni = 0; ni < nn; ni++) {
            const dret_res_t *r = res + ((size_t)mi * nn + ni) * S;
            double c = 0, h = 0, at = 0, be = 0; /* fixed-order reductions */
            for (size_t j = 0; j < S; j++) c += r[j].correct, h += r[j].H, at += r[j].alpha_top, be += r[j].beta;
            double n = (double)((size_t)16 << ni), acc = 100 * c / S;
            smx_tsv_str(t, dret_method_names[meths[mi]]);
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

static void dret_write_attn(smx_tsv_t *t, const dret_opts_t *o, const dret_method_t *meths, int nm, const double *attn)
{
    size_t nn = (size_t)o->test_log2 - 3;
    for (int mi = 0; mi < nm; mi++)
        for (size_t ni = 0; ni < nn; ni++) {
            size_t n = (size_t)16 << ni;
            for (size_t k = 0; k < DRET_TOPK && k < n; k++) {
                const double *p = attn + (((size_t)mi * nn + ni) * DRET_TOPK + k) * 2;
                smx_tsv_str(t, dret_method_names[meths[mi]]);
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

/* Memory and work of a run (issue 9). Memory: both models' parameters and gradients and one AdamW
 * (6 np doubles), the training workspace (batch * train-nmax rows of about 9 d + 14 doubles), one test
 * workspace per thread (2^K rows of about 4 d + 16 doubles), the per-set results. Work: 2 flops per
 * multiply-add of the item MLP and projections (11 d + 3 d^2 per row), forward + backward = 3 x forward
 * in training. */
static void dret_estimate(const dret_opts_t *o, double *bytes, double *flops)
{
    double d = (double)o->d, np = 4 * d * d + 25 * d + 11, rows = (double)o->batch * (double)o->train_nmax;
    double nmax = exp2((double)o->test_log2), nn = (double)o->test_log2 - 3, sets = (double)o->test_sets;
    *bytes = 8 * (6 * np + rows * (9 * d + 14) + omp_get_max_threads() * nmax * (4 * d + 16)) + 96 * nn * sets;
    double per_row = 2 * (11 * d + 3 * d * d), avg_rows = (double)o->batch * ((double)o->train_nmax + 2) / 2;
    *flops = 2.0 * (double)o->steps * 3 * avg_rows * per_row + sets * 16 * (exp2(nn) - 1) * per_row;
}

/* Refuse up front a run whose memory estimate exceeds the machine (exit 4) or whose work would take over
 * 30 days at 1e10 flop/s (exit 2), naming the estimate. */
static void dret_estimates_or_fail(const dret_opts_t *o)
{
    double bytes, flops;
    dret_estimate(o, &bytes, &flops);
    smx_cli_mem_or_fail(bytes, "--d / --batch / --train-nmax / --test-log2 / --test-sets", prog);
    char basis[96];
    snprintf(basis, sizeof basis, "%.2g flops at 1e10 flop/s", flops);
    smx_cli_time_or_fail(flops / 1e10, 30 * 86400.0, basis, "--d / --steps / --batch / --train-nmax / --test-log2 / "
                         "--test-sets", prog);
}

/* One line on stderr before training (not with --quiet): the estimates, the time at 2.5e10 flop/s per
 * thread (measured: --steps 300 --test-sets 10, 1.4e11 flops in 5.6 s of one thread's CPU). */
static void dret_estimates_print(const dret_opts_t *o)
{
    double bytes, flops;
    if (o->cmd.quiet) return;
    dret_estimate(o, &bytes, &flops);
    fprintf(stderr, "%s: estimate: about %.3g MB of memory, %.2g flops: %.3g CPU-minutes at 2.5e10 flop/s\n", prog,
            bytes / 1e6, flops, flops / 2.5e10 / 60);
}

/* Train (or resume), test, write OUT, OUT-attention.tsv, OUT-train.tsv: opened before training
 * (an unwritable one fails at once) and renamed together at the end, or none of them (issue 9).
 * A status: SMX_*, DRET_STOPPED (--stop-after) or DRET_BADCKPT (message in msg); f->failed
 * names the file a failure concerns. */
static int dret_run(const dret_opts_t *o, const char *out, char *msg, size_t msglen, dispersion_files_t *f)
{
    static const char *const siblings[] = {"attention", "train", NULL};
    size_t nn = (size_t)o->test_log2 - 3, S = (size_t)o->test_sets;
    dret_res_t *res = calloc(3 * nn * S, sizeof *res);
    double *attn = calloc(3 * nn * DRET_TOPK * 2, sizeof *attn);
    dret_state_t state;
    int st = dret_state_alloc(&state, o);
    if (!st && (!res || !attn)) st = SMX_ENOMEM;
    if (!st) st = dispersion_files_open(f, out, siblings);
    for (size_t i = 0; i < f->n && !st; i++) meta(f->t[i], o);
    if (!st && o->resume) {
        st = dret_ckpt_load(&state, o, msg, msglen);
        if (!st)
            fprintf(stderr, "%s: resuming from %s (model %d, step %ld)\n", prog, o->ckpt, state.phase, state.step);
    }
    if (!st) {
        dret_estimates_print(o);
        long done0 = state.phase * o->steps + state.step; /* steps already taken (resumed) */
        double t0 = smx_time_now();
        st = dret_train(&state, o);
        if (st == SMX_EIO) snprintf(f->failed, sizeof f->failed, "%s", o->ckpt);
        /* throughput (make bench-dispersion's summary row; stderr, not the data: same bytes) */
        double dt = smx_time_now() - t0;
        long steps = 2 * o->steps - done0;
        if (!st && !o->cmd.quiet && steps > 0 && dt > 0)
            fprintf(stderr, "%s: training: %ld steps in %.3g s = %.4g steps/s (batch %ld, d %ld, n <= %ld, 1 thread)\n",
                    prog, steps, dt, (double)steps / dt, o->batch, o->d, o->train_nmax);
    }
    const dret_model_t *ms = &state.m[0], *mss = &state.m[1];
    static const dret_method_t m1[] = {DRET_SOFTMAX, DRET_ADAPTIVE}, m2[] = {DRET_SSMAX};
    if (!st) st = dret_eval(ms, o, m1, 2, res, attn);
    if (!st) st = dret_eval(mss, o, m2, 1, res + 2 * nn * S, attn + 2 * nn * DRET_TOPK * 2);
    if (!st) {
        const dret_method_t all[] = {DRET_SOFTMAX, DRET_ADAPTIVE, DRET_SSMAX};
        smx_tsv_t *t = f->t[0];
        smx_tsv_meta(t, "ssmax_s_learned", "%.6f", *mss->s);
        smx_tsv_meta(t, "columns", "accuracy %% (+- binomial stderr), attention entropy H (nats, "
                                   "-sum a ln(a + 1e-9)) vs ln n, mean attention on the top item, mean scale c");
        smx_tsv_header(t, "method\tn\taccuracy\tstderr\tpaper_accuracy\tentropy\tln_n\talpha_top\tscale\tsets");
        dret_write_acc(t, o, all, 3, res);
        t = f->t[1];
        smx_tsv_meta(t, "set", "test set 0 of each n; items sorted by priority, highest first");
        smx_tsv_header(t, "method\tn\tlog2n\trank\tpriority\talpha");
        dret_write_attn(t, o, all, 3, attn);
        dret_write_train(f->t[2], &state);
    }
    if (f->n) st = dispersion_files_close(f, st);
    dret_state_free(&state);
    free(res), free(attn);
    return st;
}

int dispersion_cmd_retrieval(int argc, char **argv)
{
    static const struct option lopts[] = {
        SMX_CLI_ARG("d", O_D), SMX_CLI_ARG("steps", O_STEPS),
        SMX_CLI_ARG("batch", O_BATCH), SMX_CLI_ARG("lr", O_LR),
        SMX_CLI_ARG("weight-decay", O_WD), SMX_CLI_ARG("wd", O_WD), SMX_CLI_ARG("train-nmax", O_TRAIN),
        SMX_CLI_ARG("test-log2", O_TEST), SMX_CLI_ARG("test-sets", O_SETS),
        SMX_CLI_ARG("s-init", O_SINIT), SMX_CLI_ARG("checkpoint", O_CKPT),
        SMX_CLI_ARG("checkpoint-every", O_CKPT_EVERY), SMX_CLI_FLAG("resume", O_RESUME),
        SMX_CLI_ARG("stop-after", O_STOP_AFTER), DISPERSION_COMMON_OPTIONS, {0, 0, 0, 0}};
    dret_opts_t o = {.d = 128, .steps = -1, .batch = 64, .train_nmax = 16, .test_log2 = 14, .test_sets = -1,
                    .lr = 1e-3, .wd = 1e-4, .s_init = 0.5, .ckpt_every = SMX_RUN_CKPT_EVERY};
    dispersion_cmd_init(&o.cmd, argc, argv);
    /* the command line for the metadata, without the checkpoint options (solvers/run.h) */
    char **kept = malloc(((size_t)argc + 1) * sizeof *kept);
    if (!kept) smx_cli_fail(prog, "out of memory");
    o.cmd.meta_argc = smx_run_argv_filter(kept, argc, argv), o.cmd.meta_argv = kept;
    int opt;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_D: o.d = smx_cli_long_or_fail(optarg, 1, 4096, prog, "--d"); break;
        case O_STEPS: o.steps = smx_cli_long_or_fail(optarg, 0, 100000000, prog, "--steps"); break;
        case O_BATCH: o.batch = smx_cli_long_or_fail(optarg, 1, 65536, prog, "--batch"); break;
        case O_LR: o.lr = smx_cli_double_or_fail(optarg, prog, "--lr");
            if (!(o.lr > 0 && o.lr < 10)) smx_cli_fail(prog, "--lr: must be in (0, 10)");
            break;
        case O_WD: o.wd = smx_cli_double_or_fail(optarg, prog, "--weight-decay");
            if (!(o.wd >= 0 && o.wd < 10)) smx_cli_fail(prog, "--weight-decay: must be in [0, 10)");
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
        default: dispersion_common_or_fail(&o.cmd, opt, optarg, prog, usage);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    int paper = o.cmd.c.profile == SMX_PROFILE_PAPER;
    if (o.steps < 0) o.steps = paper ? 20000 : 5000;
    if (o.test_sets < 0) o.test_sets = paper ? 1000 : 200;
    smx_nn_init_threads(o.cmd.c.threads);
    omp_set_max_active_levels(1); /* our loop over test sets is the parallel level */
    dret_estimates_or_fail(&o);
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
    dispersion_files_t f = {.n = 0};
    snprintf(f.failed, sizeof f.failed, "%s", out);
    int st = dret_run(&o, out, msg, sizeof msg, &f), rc;
    if (st == DRET_STOPPED) {
        fprintf(stderr, "%s: --stop-after %ld: checkpoint written to %s\n", prog, o.stop_after, o.ckpt);
        rc = SMX_RUN_EXIT_STOPPED;
    } else if (st == DRET_BADCKPT) {
        free(kept), free(ckpt);
        smx_cli_fail(prog, "%s", msg);
    } else
        rc = dispersion_exit(prog, f.failed, st);
    free(kept), free(ckpt);
    return rc;
}
