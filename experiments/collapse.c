/* smx-collapse - Softmax Collapse, StableMax and perpGrad (Prieto et al., "Grokking at the
 * Edge of Numerical Stability", ICLR 2025; science/collapse.md). See usage below. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "cli.h"
#include "collapse_cmds.h"
#include "collapse_io.h"
#include "collapse_model.h"
#include "collapse_run.h"
#include "run.h"
#include "nn.h"
#include "smx.h"
#include "threshold.h"
#include "tsv.h"
#include "machine.h"

static const char *PROG = COLLAPSE_PROG;

static const char *USAGE =
    "Usage: smx-collapse [train|onset|gaps|rowgrad|bench] [options]\n"
    "Train a bias-free ReLU MLP (2V -> W -> ... -> V, first layer a gather of two embedding rows)\n"
    "full batch (one step per epoch, mean loss) on a op b mod V, with the loss in an emulated\n"
    "format, and log Softmax Collapse (Prieto et al. 2025).\n"
    "  train   (default) log every --log-every epochs: epoch train_loss train_acc test_acc\n"
    "          sc_fraction zero_loss_fraction sc_gap_min nonsc_gap_max w_norm_l.. w_norm_total\n"
    "          cos_nlm_l.. (cos(W_l, -grad_l)); wall time goes to OUT.timing.tsv\n"
    "  onset   for each --formats entry, train until sc_fraction > 0.5 at a logged epoch (or\n"
    "          --epochs) and write one row: format p onset_epoch p_ln2 sc_gap_min nonsc_gap_max ...\n"
    "          (same model, seed and options for every format; onset runs are not checkpointed);\n"
    "          with --reference F also one run in F (after the formats' runs, up to the latest\n"
    "          onset among them: the same rows as a full run; runs without onset are compared up\n"
    "          to there only, named in '# reference_cut:'; if none reached onset, up to the longest\n"
    "          run's end), and per format the first logged epoch whose train loss departs from F's\n"
    "          by more than --reference-tol\n"
    "  gaps    one run (give --softmax-format fp64 for the prediction): per logged epoch the\n"
    "          quantiles of the training rows' logit gaps z_max - z_second (q10 q25 q50 q75 q90,\n"
    "          min, max) and the fraction of rows whose gap reaches the sequential-sum collapse\n"
    "          threshold of p = 8, 16, 24 (numerics/threshold.h); --predict FILE also writes, for\n"
    "          p = 4..64 and both sums, the threshold D and the predicted SC onset: the first\n"
    "          logged epoch with median gap >= D (SC fraction > 50 %%) and the epoch where a\n"
    "          straight line fitted to the median gap reaches D (fitted from epoch --epochs/6 to\n"
    "          the last logged epoch before this run's own SC fraction becomes nonzero)\n"
    "  rowgrad train to --epochs, then for every training row: its gap z_max - z_second, gap - p ln 2,\n"
    "          SC under each sum, and its logit gradient split into correct class / runner-up /\n"
    "          the other classes / the row's sum, under the sequential and the pairwise sum in\n"
    "          --softmax-format and exactly (MPFR, 256 bits), on the same logits; summed per band\n"
    "          of gap - p ln 2 in the metadata (issue 11: why the sequential sum slows the gaps)\n"
    "  bench   epochs/s of the paper MLP (V 113, W 200, 40%) in fp32 and fp64 beside the time of\n"
    "          the epoch's six GEMMs alone and of its loss-in-format pass alone (loss_ms: a vectorised\n"
    "          exp, libm's near rounding boundaries, a rounding per operation; fp32: float loops):\n"
    "          medians of --epochs rounds (21) that time one of each; stdout\n"
    "Options:\n"
    "  --modulus V         modulus (quick 97, paper 113)\n"
    "  --op add|mul|sub    a+b, a*b, a-b mod V (add)\n"
    "  --train-frac F      fraction of the V^2 pairs used for training, 0<F<1 (0.4)\n"
    "  --width W           hidden width (quick 128, paper 200)\n"
    "  --depth D           hidden layers, 1..8 (2)\n"
    "  --epochs N          optimizer steps (quick 3000, paper 20000)\n"
    "  --optimizer O       sgd|adamw|perp-sgd|perp-adamw (adamw)\n"
    "  --lr X              learning rate (5e-4)\n"
    "  --beta1 X --beta2 X AdamW betas (adamw 0.9, 0.99; perp-adamw 0.9, 0.999)\n"
    "  --eps X             AdamW eps (adamw 1e-25; perp-adamw 1e-8)\n"
    "  --weight-decay X    AdamW decoupled / SGD L2 (0)\n"
    "  --momentum X        SGD momentum (sgd 0.2; perp-sgd 0.8)\n"
    "                      The perp-* defaults are what the reference code's runs used: its OrthoGrad\n"
    "                      wrapper builds the base optimizer with SGD momentum 0.8 / PyTorch's AdamW\n"
    "                      defaults, and the optimizer state it loads afterwards (momentum 0.2, betas\n"
    "                      (0.9, beta2), eps 1e-25) never reaches that base optimizer (upstream issue #11)\n"
    "  --loss L            softmax|stablemax (StableMax CE on raw logits) (softmax)\n"
    "  --softmax-format F  format of the loss: fp16 bf16 fp32 fp64 pN ... (every op rounded;\n"
    "                      MPFR for p > 53); the gradient of the mean loss w.r.t. the logits is\n"
    "                      rounded to F too, fl(g/n), as the reference's fp16 gradient tensor (fp32)\n"
    "  --model-format F    fp32|fp64 model arithmetic (BLAS sgemm/dgemm) (fp32)\n"
    "  --sum S             order of the softmax denominator: sequential = the max term's 1 first,\n"
    "                      then the others in index order (PyTorch's vectorised sum differs: this\n"
    "                      matches the reference code only approximately); pairwise = balanced tree\n"
    "                      over index order (sum.h) (sequential)\n"
    "  --correct-grad G    the correct class's logit gradient g_y (a diagnostic, issue 11): format =\n"
    "                      fl(fl(1/S) - 1) (default); zero-sum = fl(-(sum of the other classes'\n"
    "                      rounded g_i)), as the exact gradient sums to 0; zero-sum-nonsc = the same\n"
    "                      in rows not in SC only (README, SC onset vs precision p)\n"
    "  --formats LIST      onset: comma-separated formats (p8,p11,p16,p24,p32,p40,p53,p64)\n"
    "  --reference F       onset: compare every format's run with a run in format F (e.g. fp64)\n"
    "  --reference-tol X   onset: relative train-loss difference that counts as departed (0.01)\n"
    "  --predict FILE      gaps: also write the predicted onset per p and sum to FILE\n"
    "  --dump-split FILE   write the train/test split as TSV (format: experiments/collapse_io.h:\n"
    "                      '# format: smx-collapse-split 1', '# modulus:', '# op:', '# train:',\n"
    "                      '# test:', header a b label set, training rows first in training order)\n"
    "  --dump-weights FILE write the initial weights as TSV ('# format: smx-collapse-weights 1',\n"
    "                      '# modulus:', '# width:', '# depth:', header tensor row col value;\n"
    "                      tensor 0 = E (2V x W), 1..D-1 = W_l (W x W), D = W_out (V x W))\n"
    "  --split-file FILE   train on this split instead of the seed's (same file format; its counts\n"
    "                      must match --modulus and --train-frac); a bad file: one line, exit 2\n"
    "  --init-weights FILE start from these weights instead of the seed's (same file format)\n"
    "                      (the dumps are written before training, after any --split-file /\n"
    "                      --init-weights: a run dumps what it trains with)\n"
    "  --log-convention C  smx: row e is the state after e optimizer steps; reference: after\n"
    "                      e + 1 steps, as the reference code logs its epoch e (smx); every TSV\n"
    "                      names it in '# log_convention:'\n"
    "  --log-every N       log every N epochs (quick 20, paper 50)\n"
    "  --checkpoint PATH   checkpoint file (OUT.ckpt); written atomically every --checkpoint-every\n"
    "                      seconds (180; 0: only at the end / at the stop) and at the end\n"
    "  --resume            continue from the checkpoint (same options), bit for bit; if there is\n"
    "                      none, start afresh (a note on stderr); one written with other options\n"
    "                      or unreadable: exit 2 naming it (solvers/run.h)\n"
    "  --stop-after N      stop after N epochs in all, after writing the checkpoint: no TSV, exit\n"
    "                      status 5 (solvers/run.h; --stop-at N is the old name)\n"
    "  --seed N            data split (stream 0) and init (stream 1) (1)\n"
    "  --out PATH          output TSV (data/quick/collapse.tsv)\n"
    "  --threads N         OpenMP threads (BLAS single-threaded on fixed tiles: same bytes for any N)\n"
    "  --profile P         quick (default; V 97, W 128, 3000 epochs) | paper (V 113, W 200, 20000)\n"
    "  --quiet             no progress on stderr\n"
    "  --help, --version\n";

enum { O_MOD = SMX_OPT_FIRST_PRIVATE, O_OP, O_FRAC, O_WIDTH, O_DEPTH, O_EPOCHS, O_OPTIM, O_LR, O_B1, O_B2,
       O_EPS, O_WD, O_MOM, O_LOSS, O_SFMT, O_MFMT, O_SUM, O_FORMATS, O_LOGEVERY, O_CKPT, O_CKEVERY,
       O_RESUME, O_STOPAT, O_STOPAT_OLD, O_QUIET, O_REF, O_REFTOL, O_PREDICT, O_LOGCONV,
       O_DUMPSPLIT, O_DUMPW, O_SPLITFILE, O_INITW, O_GY };

static const struct option LONGOPTS[] = {
    {"modulus", required_argument, 0, O_MOD}, {"op", required_argument, 0, O_OP},
    {"train-frac", required_argument, 0, O_FRAC}, {"width", required_argument, 0, O_WIDTH},
    {"depth", required_argument, 0, O_DEPTH}, {"epochs", required_argument, 0, O_EPOCHS},
    {"optimizer", required_argument, 0, O_OPTIM}, {"lr", required_argument, 0, O_LR},
    {"beta1", required_argument, 0, O_B1}, {"beta2", required_argument, 0, O_B2},
    {"eps", required_argument, 0, O_EPS}, {"weight-decay", required_argument, 0, O_WD},
    {"momentum", required_argument, 0, O_MOM}, {"loss", required_argument, 0, O_LOSS},
    {"softmax-format", required_argument, 0, O_SFMT}, {"model-format", required_argument, 0, O_MFMT},
    {"sum", required_argument, 0, O_SUM}, {"formats", required_argument, 0, O_FORMATS},
    {"log-every", required_argument, 0, O_LOGEVERY}, {"checkpoint", required_argument, 0, O_CKPT},
    {"checkpoint-every", required_argument, 0, O_CKEVERY}, {"resume", no_argument, 0, O_RESUME},
    {"stop-after", required_argument, 0, O_STOPAT}, {"stop-at", required_argument, 0, O_STOPAT_OLD},
    {"quiet", no_argument, 0, O_QUIET}, {"reference", required_argument, 0, O_REF},
    {"reference-tol", required_argument, 0, O_REFTOL}, {"predict", required_argument, 0, O_PREDICT},
    {"log-convention", required_argument, 0, O_LOGCONV}, {"dump-split", required_argument, 0, O_DUMPSPLIT},
    {"dump-weights", required_argument, 0, O_DUMPW}, {"split-file", required_argument, 0, O_SPLITFILE},
    {"init-weights", required_argument, 0, O_INITW}, {"correct-grad", required_argument, 0, O_GY},
    SMX_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};

static const char *const OPS[] = {"add", "mul", "sub", NULL};
static const char *const OPTIMS[] = {"sgd", "adamw", "perp-sgd", "perp-adamw", NULL};
static const char *const LOSSES[] = {"softmax", "stablemax", NULL};
const char *const collapse_model_formats[] = {"fp32", "fp64", NULL};
const char *const collapse_sum_names[] = {"sequential", "pairwise", NULL};
static const smx_sum_algo_t SUM_ALGOS[] = {SMX_SUM_MAXFIRST, SMX_SUM_PAIRWISE}; /* by collapse_sum_names index */
enum { MODE_TRAIN = 0, MODE_ONSET, MODE_BENCH, MODE_GAPS, MODE_ROWGRAD, MODE_N };
static const char *const MODES[] = {"train", "onset", "bench", "gaps", "rowgrad", NULL};
static const char *const LOGCONVS[] = {"smx", "reference", NULL};
static const char *const GYS[] = {"format", "zero-sum", "zero-sum-nonsc", NULL}; /* by collapse_gy_t */


/* Canonical text of every option that changes the data (checked on --resume). */
void collapse_cfg_string(char *buf, size_t n, const collapse_opts_t *o)
{
    const collapse_cfg_t *c = &o->cfg;
    snprintf(buf, n,
             "modulus=%d op=%s train_frac=%.17g width=%d depth=%d epochs=%ld optimizer=%s lr=%.17g "
             "beta1=%.17g beta2=%.17g eps=%.17g weight_decay=%.17g momentum=%.17g loss=%s softmax_format=%s "
             "model_format=%s sum=%s log_every=%ld seed=%lu",
             c->modulus, OPS[c->op], c->train_frac, c->width, c->depth, o->epochs, OPTIMS[o->optim],
             c->opt.lr, c->opt.beta1, c->opt.beta2, c->opt.eps, c->opt.weight_decay, c->opt.momentum,
             LOSSES[c->loss], c->fmt.name, collapse_model_formats[c->dtype], collapse_sum_names[c->sum == SMX_SUM_PAIRWISE], o->log_every, c->seed);
    size_t k = strlen(buf); /* options whose default leaves the text as it was before they existed */
    if (o->log_conv && k < n) k += (size_t)snprintf(buf + k, n - k, " log_convention=%s", LOGCONVS[o->log_conv]);
    if (o->split_file && k < n) k += (size_t)snprintf(buf + k, n - k, " split_file=%s", o->split_file);
    if (o->init_weights && k < n) k += (size_t)snprintf(buf + k, n - k, " init_weights=%s", o->init_weights);
    if (c->gy && k < n) snprintf(buf + k, n - k, " correct_grad=%s", GYS[c->gy]);
}

/* argv[0] is the command's name (smx_cli_dispatch), the options follow */
static void parse(collapse_opts_t *o, int mode, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    smx_cli_common_init(&o->com);
    collapse_cfg_t *c = &o->cfg;
    int argi = 1;
    o->mode = mode;
    /* first pass: the profile (its defaults are overridden by explicit options) */
    for (int i = argi; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--profile") && i + 1 < argc) v = argv[i + 1];
        else if (!strncmp(argv[i], "--profile=", 10)) v = argv[i] + 10;
        if (v) smx_cli_common(&o->com, SMX_OPT_PROFILE, v, PROG, USAGE);
    }
    int paper = o->com.profile == SMX_PROFILE_PAPER;
    c->modulus = paper ? 113 : 97;
    c->width = paper ? 200 : 128;
    o->epochs = paper ? 20000 : 3000;
    o->log_every = paper ? 50 : 20;
    c->op = COLLAPSE_OP_ADD;
    c->train_frac = 0.4;
    c->depth = 2;
    c->dtype = SMX_DTYPE_F32;
    c->loss = SMX_XENT_SOFTMAX;
    c->sum = SMX_SUM_MAXFIRST;
    o->optim = 1;
    smx_optim_cfg_default(&c->opt, SMX_OPTIM_ADAMW);
    c->opt.lr = 5e-4; c->opt.beta1 = 0.9; c->opt.beta2 = 0.99; c->opt.eps = 1e-25;
    c->opt.weight_decay = 0; c->opt.momentum = 0.2;
    o->sfmt_name = "fp32";
    o->formats = "p8,p11,p16,p24,p32,p40,p53,p64";
    o->ckpt_every = SMX_RUN_CKPT_EVERY;
    o->ref_tol = 0.01;
    optind = 0; /* glibc: a full restart (main's scan for the command ran getopt before) */
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
        const char *a = optarg;
        if (smx_cli_common(&o->com, opt, a, PROG, USAGE)) continue;
        switch (opt) {
        case O_MOD: c->modulus = (int)smx_cli_long_or_fail(a, 2, 4096, PROG, "--modulus"); break;
        case O_OP: c->op = (collapse_op_t)smx_cli_choice_or_fail(a, OPS, PROG, "--op"); break;
        case O_FRAC:
            c->train_frac = smx_cli_double_or_fail(a, PROG, "--train-frac");
            if (!(c->train_frac > 0 && c->train_frac < 1)) smx_cli_fail(PROG, "--train-frac: '%s' is not in (0, 1)", a);
            break;
        case O_WIDTH: c->width = (int)smx_cli_long_or_fail(a, 1, 65536, PROG, "--width"); break;
        case O_DEPTH: c->depth = (int)smx_cli_long_or_fail(a, 1, COLLAPSE_MAX_DEPTH, PROG, "--depth"); break;
        case O_EPOCHS: o->epochs = smx_cli_long_or_fail(a, 0, 100000000, PROG, "--epochs"); break;
        case O_OPTIM: o->optim = smx_cli_choice_or_fail(a, OPTIMS, PROG, "--optimizer"); break;
        case O_LR: c->opt.lr = smx_cli_double_or_fail(a, PROG, "--lr"); break;
        case O_B1: c->opt.beta1 = smx_cli_double_or_fail(a, PROG, "--beta1"); break;
        case O_B2: c->opt.beta2 = smx_cli_double_or_fail(a, PROG, "--beta2"); o->set_beta2 = 1; break;
        case O_EPS: c->opt.eps = smx_cli_double_or_fail(a, PROG, "--eps"); o->set_eps = 1; break;
        case O_WD: c->opt.weight_decay = smx_cli_double_or_fail(a, PROG, "--weight-decay"); break;
        case O_MOM: c->opt.momentum = smx_cli_double_or_fail(a, PROG, "--momentum"); o->set_momentum = 1; break;
        case O_LOSS: c->loss = (smx_xent_loss_t)smx_cli_choice_or_fail(a, LOSSES, PROG, "--loss"); break;
        case O_SFMT: o->sfmt_name = a; break;
        case O_MFMT: c->dtype = (smx_dtype_t)smx_cli_choice_or_fail(a, collapse_model_formats, PROG, "--model-format"); break;
        case O_SUM: c->sum = SUM_ALGOS[smx_cli_choice_or_fail(a, collapse_sum_names, PROG, "--sum")]; break;
        case O_FORMATS: o->formats = a; o->only_opt[MODE_ONSET] = "--formats"; break;
        case O_LOGEVERY: o->log_every = smx_cli_long_or_fail(a, 1, 100000000, PROG, "--log-every"); break;
        case O_CKPT: o->ckpt = a; break;
        case O_CKEVERY: o->ckpt_every = smx_cli_double_or_fail(a, PROG, "--checkpoint-every"); break;
        case O_RESUME: o->resume = 1; break;
        case O_STOPAT: o->stop_at = smx_cli_long_or_fail(a, 1, 100000000, PROG, "--stop-after"); break;
        case O_STOPAT_OLD: o->stop_at = smx_cli_long_or_fail(a, 1, 100000000, PROG, "--stop-at"); break;
        case O_QUIET: o->quiet = 1; break;
        case O_REF: o->reference = a; o->only_opt[MODE_ONSET] = "--reference"; break;
        case O_REFTOL:
            o->ref_tol = smx_cli_double_range_or_fail(a, 0, 1e300, PROG, "--reference-tol");
            o->only_opt[MODE_ONSET] = "--reference-tol";
            break;
        case O_PREDICT: o->predict = a; o->only_opt[MODE_GAPS] = "--predict"; break;
        case O_DUMPSPLIT: o->dump_split = a; break;
        case O_DUMPW: o->dump_weights = a; break;
        case O_SPLITFILE: o->split_file = a; break;
        case O_INITW: o->init_weights = a; break;
        case O_GY: c->gy = (collapse_gy_t)smx_cli_choice_or_fail(a, GYS, PROG, "--correct-grad"); break;
        case O_LOGCONV: o->log_conv = smx_cli_choice_or_fail(a, LOGCONVS, PROG, "--log-convention"); break;
        default: smx_cli_bad_option_fail(PROG, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, PROG);
    for (int md = 0; md < MODE_N; md++)
        if (o->only_opt[md] && md != o->mode)
            smx_cli_fail(PROG, "%s applies to '%s' only, not to '%s'", o->only_opt[md], MODES[md], MODES[o->mode]);
    if (o->mode == MODE_BENCH && (o->dump_split || o->dump_weights || o->split_file || o->init_weights))
        smx_cli_fail(PROG, "--dump-split, --dump-weights, --split-file, --init-weights do not apply to 'bench'");
    if (o->mode == MODE_BENCH && (o->com.out || o->ckpt))
        smx_cli_fail(PROG, "%s does not apply to 'bench' (it prints its table on stdout)", o->com.out ? "--out" : "--checkpoint");
    if ((o->mode == MODE_GAPS || o->mode == MODE_ROWGRAD) && c->loss != SMX_XENT_SOFTMAX)
        smx_cli_fail(PROG, "%s: --loss must be softmax", MODES[o->mode]);
    smx_cli_format_or_fail(&c->fmt, o->sfmt_name, PROG, "--softmax-format");
    c->opt.kind = (o->optim == 0 || o->optim == 2) ? SMX_OPTIM_SGD : SMX_OPTIM_ADAMW;
    c->opt.perp = o->optim >= 2;
    /* the reference code's effective perp-* hyperparameters (see --help) */
    if (c->opt.perp && !o->set_momentum) c->opt.momentum = 0.8;
    if (c->opt.perp && !o->set_beta2) c->opt.beta2 = 0.999;
    if (c->opt.perp && !o->set_eps) c->opt.eps = 1e-8;
    /* hyperparameter ranges (issue 9): one line naming the option */
    if (!(c->opt.lr > 0 && isfinite(c->opt.lr))) smx_cli_fail(PROG, "--lr: must be a finite number > 0");
    if (!(c->opt.beta1 >= 0 && c->opt.beta1 < 1)) smx_cli_fail(PROG, "--beta1: must be in [0, 1)");
    if (!(c->opt.beta2 >= 0 && c->opt.beta2 < 1)) smx_cli_fail(PROG, "--beta2: must be in [0, 1)");
    if (!(c->opt.eps >= 0 && isfinite(c->opt.eps))) smx_cli_fail(PROG, "--eps: must be a finite number >= 0");
    if (!(c->opt.weight_decay >= 0 && isfinite(c->opt.weight_decay)))
        smx_cli_fail(PROG, "--weight-decay: must be a finite number >= 0");
    if (!(c->opt.momentum >= 0 && c->opt.momentum < 1)) smx_cli_fail(PROG, "--momentum: must be in [0, 1)");
    if (!(o->ckpt_every >= 0 && o->ckpt_every <= 1e9))
        smx_cli_fail(PROG, "--checkpoint-every: must be seconds in [0, 1e9]");
    size_t P = (size_t)c->modulus * (size_t)c->modulus, nt = (size_t)floor(c->train_frac * (double)P);
    if (nt < 1 || nt >= P) smx_cli_fail(PROG, "--train-frac: %g of %zu pairs leaves an empty set", c->train_frac, P);
    c->seed = o->com.seed;
    if (!o->com.out) o->com.out = o->com.profile == SMX_PROFILE_PAPER ? "data/paper/collapse.tsv" : "data/quick/collapse.tsv";
}

void collapse_meta_options(smx_tsv_t *t, const collapse_opts_t *o, int argc, char **argv)
{
    char **fa = malloc(((size_t)argc + 1) * sizeof *fa);
    int fn = fa ? smx_run_argv_filter(fa, argc, argv) : argc; /* without the options that do not change the data */
    smx_tsv_meta_std(t, PROG, fn, fa ? fa : argv);
    free(fa);
    const collapse_cfg_t *c = &o->cfg;
    char cs[1024];
    collapse_cfg_string(cs, sizeof cs, o);
    smx_tsv_meta(t, "options", "%s", cs);
    smx_tsv_meta(t, "log_convention", "%s", LOGCONVS[o->log_conv]);
    smx_tsv_meta(t, "profile", "%s", smx_cli_profile_name(o->com.profile));
    smx_tsv_meta(t, "softmax_p", "%d", c->fmt.p);
    smx_tsv_meta(t, "p_ln2", "%.17g", c->fmt.p * log(2.0));
    smx_tsv_meta(t, "train_pairs", "%zu", (size_t)floor(c->train_frac * (double)c->modulus * c->modulus));
    smx_tsv_meta(t, "paper_setup", "V 113, MLP 226-200-200-113 no bias, AdamW lr 5e-4 betas (0.9,0.99) eps 1e-25, full batch");
    /* Prieto et al. 2025, numbers read off the authors' plots (science/collapse.md) */
    smx_tsv_meta(t, "paper_fig2_sc_onset_epoch", "fp16 ~2000, fp32 ~3000, fp64 ~7000 (70%% train)");
    smx_tsv_meta(t, "paper_fig2_test_acc", "70%%: fp16 ~48%%, fp32 ~66%%, fp64 peak ~93%% at ~6.5k; 60%%: ~15/29/52%%; 40%%: ~0");
    smx_tsv_meta(t, "paper_stablemax_test_acc", "40%%, no weight decay: ~5%% at 20k, ~73%% at 40k, ~94%% at 50k, 98-99%% by 60k epochs");
    smx_tsv_meta(t, "paper_perpgrad", "perpAdamW test ~97-100%% by ~110-150 epochs; perpSGD ~100%% within ~400; AdamW ~0");
    smx_tsv_meta(t, "reference_perp_hyperparameters", "perp-sgd momentum 0.8, perp-adamw betas (0.9,0.999) eps 1e-8: "
                 "what the reference OrthoGrad's base optimizer ran with (upstream issue #11)");
}

void collapse_fail_status(int st, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", PROG, what, smx_strerror(st));
    exit(st == SMX_EDOM ? SMX_EXIT_USAGE : 1);
}

/* collapse_run's on_init: the split and initial weights from files, then their dumps */
int collapse_io_on_init(void *ctx, collapse_model_t *m)
{
    const collapse_opts_t *o = ctx;
    char err[512];
    const char *in[2] = {o->split_file, o->init_weights}, *opt[2] = {"--split-file", "--init-weights"};
    for (int k = 0; k < 2; k++) {
        if (!in[k]) continue;
        int st = k ? collapse_io_read_weights(m, in[k], err, sizeof err) : collapse_io_read_split(m, in[k], err, sizeof err);
        if (st == SMX_EIO) smx_cli_die(SMX_EXIT_USAGE, PROG, "%s: cannot read '%s': %s", opt[k], in[k], strerror(errno));
        if (st == SMX_EDOM) smx_cli_fail(PROG, "%s: %s", opt[k], err);
        if (st != SMX_OK) collapse_fail_status(st, opt[k]);
    }
    if (o->dump_split && collapse_io_write_split(o->dump_split, m) != SMX_OK) smx_cli_io_fail(PROG, "--dump-split: cannot write", o->dump_split);
    if (o->dump_weights && collapse_io_write_weights(o->dump_weights, m) != SMX_OK)
        smx_cli_io_fail(PROG, "--dump-weights: cannot write", o->dump_weights);
    return SMX_OK;
}

void collapse_write_rows(smx_tsv_t *t, const collapse_log_t *log)
{
    for (size_t r = 0; r < log->nrows; r++) {
        for (size_t c = 0; c < log->ncols; c++) {
            if (c == COLLAPSE_COL_EPOCH) smx_tsv_int(t, (long long)log->v[r * log->ncols]);
            else smx_tsv_num(t, log->v[r * log->ncols + c]);
        }
        smx_tsv_endrow(t);
    }
}

static int cmd_train(collapse_opts_t *o, int argc, char **argv)
{
    char cs[1024], ck[4096];
    collapse_cfg_string(cs, sizeof cs, o);
    if (!o->ckpt) { snprintf(ck, sizeof ck, "%s.ckpt", o->com.out); o->ckpt = ck; }
    if (o->resume && smx_run_ckpt_missing(o->ckpt)) {
        fprintf(stderr, "%s: --resume: no checkpoint %s, starting afresh\n", PROG, o->ckpt);
        o->resume = 0;
    }
    collapse_run_opts_t ro = {.cfg = o->cfg, .epochs = o->epochs, .log_every = o->log_every,
                              .ckpt_path = o->ckpt, .ckpt_every = o->ckpt_every, .stop_at = o->stop_at,
                              .resume = o->resume, .quiet = o->quiet, .cfgstr = cs,
                              .log_offset = o->log_conv, .on_init = collapse_io_on_init, .on_init_ctx = (void *)o};
    collapse_log_t log;
    int fin, st = collapse_run(&log, NULL, &fin, &ro);
    if (st == SMX_EDOM && o->resume) {
        char diff[1200];
        smx_run_fingerprint_diff(diff, sizeof diff, o->ckpt, cs);
        smx_cli_fail(PROG, "--resume: %s was %s", o->ckpt, diff);
    }
    if (st == SMX_EIO && o->resume) smx_cli_fail(PROG, "--resume: cannot read checkpoint %s", o->ckpt);
    if (st != SMX_OK) collapse_fail_status(st, "training");
    if (!fin) { collapse_log_free(&log); return SMX_RUN_EXIT_STOPPED; } /* --stop-after: checkpoint written */
    smx_tsv_t *t = smx_tsv_open(o->com.out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    collapse_meta_options(t, o, argc, argv);
    size_t row;
    long onset = collapse_log_onset(&log, &row);
    smx_tsv_meta(t, "sc_onset_epoch", "%ld", onset);
    if (onset >= 0) {
        smx_tsv_meta(t, "sc_onset_gap_min", "%.17g", log.v[row * log.ncols + COLLAPSE_COL_GAPMIN]);
        smx_tsv_meta(t, "sc_onset_nonsc_gap_max", "%.17g", log.v[row * log.ncols + COLLAPSE_COL_GAPMAX]);
    }
    const double *last = log.v + (log.nrows - 1) * log.ncols;
    smx_tsv_meta(t, "final_train_acc", "%.17g", last[COLLAPSE_COL_TRAIN_ACC]);
    smx_tsv_meta(t, "final_test_acc", "%.17g", last[COLLAPSE_COL_TEST_ACC]);
    double best = 0; long first95 = -1;
    for (size_t r = 0; r < log.nrows; r++) {
        double a = log.v[r * log.ncols + COLLAPSE_COL_TEST_ACC];
        if (a > best) best = a;
        if (first95 < 0 && a >= 0.95) first95 = (long)log.v[r * log.ncols];
    }
    smx_tsv_meta(t, "max_test_acc", "%.17g", best);
    smx_tsv_meta(t, "first_epoch_test_acc_95", "%ld", first95);
    char hdr[1024];
    collapse_log_columns(hdr, sizeof hdr, o->cfg.depth);
    smx_tsv_header(t, hdr);
    collapse_write_rows(t, &log);
    if (smx_tsv_close(t) != SMX_OK) smx_cli_io_fail(PROG, "--out: cannot write", o->com.out);
    /* wall-clock times apart from the data */
    char tp[4096];
    snprintf(tp, sizeof tp, "%s.timing.tsv", o->com.out);
    smx_tsv_t *tt = smx_tsv_open(tp);
    if (tt) {
        smx_tsv_header(tt, "epoch\twall_seconds");
        for (size_t r = 0; r < log.nrows; r++) { smx_tsv_int(tt, (long long)log.v[r * log.ncols]); smx_tsv_num(tt, log.wall[r]); smx_tsv_endrow(tt); }
        smx_tsv_close(tt);
    }
    collapse_log_free(&log);
    return 0;
}

/* The six GEMMs of one epoch alone (forward: two, backward: two calls of two each), the model's
 * buffers and shapes, no ReLU */
static void bench_gemm6(collapse_model_t *m, int f64)
{
    size_t n = m->ntrain, W = m->W, V = m->V;
    if (!f64) {
        smx_nn_dense_fwd_f32(m->h[1], m->h[0], m->tens[1].w, NULL, n, W, W);
        smx_nn_dense_fwd_f32(m->z, m->h[1], m->tens[2].w, NULL, n, W, V);
        smx_nn_dense_bwd_f32(m->dh[0], m->tens[2].g, NULL, m->dz, m->h[1], m->tens[2].w, n, W, V);
        smx_nn_dense_bwd_f32(m->dh[1], m->tens[1].g, NULL, m->dh[0], m->h[0], m->tens[1].w, n, W, W);
    } else {
        smx_nn_dense_fwd_f64(m->h[1], m->h[0], m->tens[1].w, NULL, n, W, W);
        smx_nn_dense_fwd_f64(m->z, m->h[1], m->tens[2].w, NULL, n, W, V);
        smx_nn_dense_bwd_f64(m->dh[0], m->tens[2].g, NULL, m->dz, m->h[1], m->tens[2].w, n, W, V);
        smx_nn_dense_bwd_f64(m->dh[1], m->tens[1].g, NULL, m->dh[0], m->h[0], m->tens[1].w, n, W, W);
    }
}

/* Epochs/s of the paper MLP beside its six GEMMs alone and its loss pass alone, same buffers: K
 * rounds of (one epoch, the six GEMMs, the loss pass), each timed, and the medians reported, so
 * the three are measured in the same seconds and a burst of another job moves one round only. */
static int cmd_bench(collapse_opts_t *o)
{
    long K = o->epochs > 0 && o->epochs < 1000 ? o->epochs : 21;
    printf("# smx-collapse bench: paper MLP V 113, W 200, depth 2, train 40%% (5107 rows), medians of %ld rounds"
           " (epoch, six GEMMs, loss pass), threads %d\n", K, o->com.threads);
    printf("model\tsoftmax\tepochs_per_s\tms_per_epoch\tgemm6_ms\tratio\tloss_ms\n");
    double *t = malloc(3 * (size_t)K * sizeof *t);
    if (!t) collapse_fail_status(SMX_ENOMEM, "bench");
    for (int d = 0; d < 2; d++) {
        collapse_cfg_t c = o->cfg;
        c.modulus = 113; c.width = 200; c.depth = 2; c.train_frac = 0.4;
        c.dtype = d ? SMX_DTYPE_F64 : SMX_DTYPE_F32;
        smx_format_get(&c.fmt, d ? "fp64" : "fp32");
        collapse_model_t *m;
        int st = collapse_model_alloc(&m, &c);
        if (st != SMX_OK) { free(t); collapse_fail_status(st, "bench"); }
        collapse_metrics_t mt;
        collapse_model_forward_backward(m, &mt); /* warm-up */
        collapse_model_step(m);
        for (long k = 0; k < K; k++) {
            double t0 = smx_time_now();
            collapse_model_forward_backward(m, &mt);
            collapse_model_step(m);
            double t1 = smx_time_now();
            bench_gemm6(m, d);
            double t2 = smx_time_now();
            collapse_model_loss_rows_grad(m);
            double t3 = smx_time_now();
            t[k] = t1 - t0; t[K + k] = t2 - t1; t[2 * K + k] = t3 - t2;
        }
        const double te = smx_time_median(t, (size_t)K), tg = smx_time_median(t + K, (size_t)K),
                     tl = smx_time_median(t + 2 * K, (size_t)K);
        printf("%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", d ? "fp64" : "fp32", c.fmt.name, 1 / te, te * 1e3, tg * 1e3,
               te / tg, tl * 1e3);
        collapse_model_free(m);
    }
    free(t);
    return 0;
}

static int g_argc; /* the command line as given: the '# command:' metadata */
static char **g_argv;

static int run_mode(int mode, int argc, char **argv)
{
    collapse_opts_t o;
    parse(&o, mode, argc, argv);
    if (o.mode != MODE_BENCH) smx_cli_outputs_or_fail(PROG, o.com.out, o.ckpt);
    if (o.mode == MODE_GAPS && o.predict) smx_cli_outputs_or_fail(PROG, o.predict, NULL);
    if (o.dump_split) smx_cli_outputs_or_fail(PROG, o.dump_split, NULL);
    if (o.dump_weights) smx_cli_outputs_or_fail(PROG, o.dump_weights, NULL); /* before any training (issue 9) */
    smx_nn_init_threads(o.com.threads);
    if (o.mode == MODE_ONSET) return collapse_cmd_onset(&o, g_argc, g_argv);
    if (o.mode == MODE_BENCH) return cmd_bench(&o);
    if (o.mode == MODE_GAPS) return collapse_cmd_gaps(&o, g_argc, g_argv);
    if (o.mode == MODE_ROWGRAD) return collapse_cmd_rowgrad(&o, g_argc, g_argv);
    return cmd_train(&o, g_argc, g_argv);
}
static int run_train(int argc, char **argv) { return run_mode(MODE_TRAIN, argc, argv); }
static int run_onset(int argc, char **argv) { return run_mode(MODE_ONSET, argc, argv); }
static int run_bench(int argc, char **argv) { return run_mode(MODE_BENCH, argc, argv); }
static int run_gaps(int argc, char **argv) { return run_mode(MODE_GAPS, argc, argv); }
static int run_rowgrad(int argc, char **argv) { return run_mode(MODE_ROWGRAD, argc, argv); }

int main(int argc, char **argv)
{
    static const smx_cli_cmd_t cmds[] = {{"train", run_train}, {"onset", run_onset}, {"gaps", run_gaps}, {"rowgrad", run_rowgrad},
                                         {"bench", run_bench}};
    smx_cli_init(PROG); /* --help on a full stdout: exit 3 */
    g_argc = argc;
    g_argv = argv;
    /* the command may stand anywhere among the options (getopt permutes them), and train is the
     * default: find it with a scan over a copy, then hand the dispatcher "PROG COMMAND OPTIONS" */
    char **scan = malloc(((size_t)argc + 1) * sizeof *scan), **av = malloc(((size_t)argc + 2) * sizeof *av);
    if (!scan || !av) smx_cli_die(SMX_EXIT_NOMEM, PROG, "out of memory");
    memcpy(scan, argv, ((size_t)argc + 1) * sizeof *scan);
    opterr = 0;
    optind = 0;
    while (getopt_long(argc, scan, "", LONGOPTS, NULL) != -1) {}
    char *cmd = optind < argc ? scan[optind] : NULL;
    /* the '# command:' line as before: getopt's permuted order when the command was not first */
    if (argc > 1 && argv[1][0] == '-') g_argv = scan;
    int n = 0;
    av[n++] = argv[0];
    av[n++] = cmd ? cmd : (char *)"train"; /* --help / --version: the command's parse prints them */
    for (int i = 1; i < argc; i++)
        if (argv[i] != cmd) av[n++] = argv[i];
    av[n] = NULL;
    int st = smx_cli_dispatch(PROG, USAGE, cmds, sizeof cmds / sizeof cmds[0], NULL, n, av);
    free(av);
    free(scan);
    return st;
}
