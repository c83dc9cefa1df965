/* moe_sweep.c - smx-moe sweep (fits over a grid of n x replications, OpenMP, shards, checkpoints),
 * merge (shard files -> the bytes of one unsharded run) and summary (OLS slopes with bootstrap intervals). */
#include "moe_cmds.h"
#include "ckpt.h"
#include "smx.h"
#include "rng.h"
#include "machine.h"
#include "progress.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* theory and the authors' numbers (metadata of sweep and summary files) */
#define MOE_THEORY "D1 and D2 = O(sqrt(log n / n)): log-log slope -0.5 (paper (a) Theorems 1, 2); parameters in " \
                   "2-member cells: beta1, b ~ n^-1/8, a, var ~ n^-1/4; single cells n^-1/2"
#define MOE_AUTHORS "authors' stored runs (CRPE-SGaME): k=2 slope of log mean D1 -0.49 (earlier run) and -0.64 " \
                    "(later); k=3/4 losses plateau at ~0.4-1.1 (last gate fixed at (0,0), no translation): 54 %% " \
                    "of their 8000 k=3 fits have D in (0.9, 1.1); 8000 fits per setting: ~15 min (k=2), 3554 s " \
                    "(k=3), 5609 s (k=4) on 8 cores"

/* ---------------- sweep ---------------- */

double moe_worker_bytes(const moe_cfg_t *cfg, const moe_model_t *m, size_t n)
{
    double d = (double)cfg->truth.d, S = m->multinomial ? (double)m->classes : 1;
    return (double)n * sizeof(double) * (2 * d + 2 + 2 * (double)cfg->k * S);
}

static const char sweep_usage[] =
    "Usage: smx-moe sweep [OPTIONS]\n"
    "EM fits over a grid of n and R replications; one TSV row per (n, rep), in (n, rep) order: n rep seed k loglik\n"
    "iterations converged restarts iterations_all D_min (translation min) D_none (the authors' convention)\n"
    "t0 t1 (the minimising translation) hellinger loss_status, then per true expert j: size_j err_beta1_j err_a_j\n"
    "err_b_j err_var_j (max over the cell's members; translation min). Each row's seed is derived from (--seed,\n"
    "n, rep) and reproduces it with `smx-moe fit --n n --seed S` (same options): the bytes do not depend on\n"
    "--threads (OpenMP over fits) or on --shard. Timings (CPU seconds per fit) go to stderr and --timings FILE,\n"
    "never into the data.\n"
    "  --grid log|authors    log-spaced n (default) or the authors' linear grids (their experiment.py): k = k*:\n"
    "                        linspace(nmin, 9 nmin, 5) then linspace(10 nmin, nmax, points - 5); k > k*:\n"
    "                        linspace(nmin, nmax, points); n = int(value)\n"
    "  --nmin N --nmax N     grid range (default 100 for k = k*, 10000 for k > k* as the authors' final\n"
    "                        k = 3, 4 runs; nmax 100000)\n"
    "  --points P            grid points (quick 16 for k = k*, 8 for k > k*; paper 200; duplicates after\n"
    "                        rounding dropped)\n"
    "  --reps R              replications per n (quick 16 for k = k*, 8 for k > k*; paper 40)\n" MOE_CFG_HELP
    MOE_MODEL_HELP
    "  --shard I/N           run only tasks t with t mod N = I-1 (t = grid index * reps + rep); `merge` joins\n"
    "  --checkpoint FILE     checkpoint (default OUT.ckpt): the rows done so far, written atomically;\n"
    "                        removed when the run finishes\n"
    "  --checkpoint-every S  seconds between checkpoints (default 30; 0: none)\n"
    "  --resume              continue from the checkpoint if there is one (other options: exit 2)\n"
    "  --stop-after N        (testing) checkpoint after N fits of this run and exit 5\n"
    "  --timings FILE        per-fit CPU seconds (n rep seconds), not deterministic\n"
    "  --seed N --out FILE (default data/PROFILE/moe-sweep.tsv) --profile quick|paper --threads N --help --version\n";

typedef struct {
    moe_opts_t moe; /* common options, cfg, model, the ids given */
    int grid_authors;
    long nmin, nmax, points, reps, shard_i, shard_n, stop_after;
    double ckpt_every;
    int resume;
    const char *ckpt, *timings;
    int argc;
    char **argv; /* without --shard / checkpoint options (the data do not depend on them) */
} sweep_opts_t;

/* numpy.linspace(a, b, m)[i] */
static double linspace(double a, double b, long m, long i) { return m == 1 ? a : a + (b - a) * i / (double)(m - 1); }

/* The grid of n, increasing, duplicates dropped. Authors' (their experiment.py): k = k*: 5 points
 * linspace(nmin, 9 nmin) then linspace(10 nmin, nmax, points - 5); k > k*: linspace(nmin, nmax, points);
 * n = int(value) (truncation). Log: round(exp(linspace(log nmin, log nmax, points))). */
static size_t make_grid(long *ns, const sweep_opts_t *o)
{
    size_t m = 0;
    int split = o->grid_authors && o->moe.cfg.k == o->moe.cfg.truth.k && o->points > 5 && 10 * o->nmin <= o->nmax;
    for (long i = 0; i < o->points; i++) {
        double v;
        if (o->points == 1) v = (double)o->nmin;
        else if (split) v = i < 5 ? linspace((double)o->nmin, 9.0 * o->nmin, 5, i)
                                  : linspace(10.0 * o->nmin, (double)o->nmax, o->points - 5, i - 5);
        else if (o->grid_authors) v = linspace((double)o->nmin, (double)o->nmax, o->points, i);
        else v = exp(linspace(log((double)o->nmin), log((double)o->nmax), o->points, i));
        long n = o->grid_authors ? (long)v : lround(v);
        if (m == 0 || n > ns[m - 1]) ns[m++] = n;
    }
    return m;
}

static void sweep_meta(smx_tsv_t *t, const sweep_opts_t *o, size_t ngrid, const long *ns)
{
    smx_tsv_meta_std(t, MOE_PROG, o->argc, o->argv);
    smx_cli_meta(t, &o->moe.c);
    moe_cfg_meta(t, &o->moe.cfg);
    smx_tsv_meta(t, "grid", "%s", o->grid_authors ? "authors (linear)" : "log");
    smx_tsv_meta(t, "nmin", "%ld", o->nmin);
    smx_tsv_meta(t, "nmax", "%ld", o->nmax);
    smx_tsv_meta(t, "points", "%zu", ngrid);
    smx_tsv_meta(t, "reps", "%ld", o->reps);
    smx_tsv_meta(t, "tasks", "%zu", ngrid * (size_t)o->reps);
    char buf[4096] = "";
    for (size_t i = 0; i < ngrid && strlen(buf) < sizeof buf - 32; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%ld", i ? "," : "", ns[i]);
    smx_tsv_meta(t, "n_grid", "%s", buf);
    smx_tsv_meta(t, "theory", MOE_THEORY);
    smx_tsv_meta(t, "authors", MOE_AUTHORS);
    smx_tsv_meta(t, "profile_note", "%s: %ld %s n in [%ld, %ld], %ld replications (the authors: 200 n x 40 "
                                    "replications; n in [1e2, 1e5] for k = 2, [1e4, 1e5] for k = 3, 4)",
                 smx_cli_profile_name(o->moe.c.profile), o->points, o->grid_authors ? "linearly spaced" : "log-spaced",
                 o->nmin, o->nmax, o->reps);
}

static void sweep_header(smx_tsv_t *t, const moe_cfg_t *cfg)
{
    moe_sb_t b = {0};
    moe_sb_add(&b, "n\trep\tseed\tk\tloglik\titerations\tconverged\trestarts\titerations_all\tD_min\tD_none\tt0");
    for (size_t u = 0; u < cfg->truth.d; u++) moe_sb_add(&b, "\tt1_%zu", u + 1);
    moe_sb_add(&b, "\thellinger\tloss_status");
    for (size_t j = 0; j < cfg->truth.k; j++)
        moe_sb_add(&b, "\tsize_%zu\terr_beta1_%zu\terr_a_%zu\terr_b_%zu\terr_var_%zu", j + 1, j + 1, j + 1, j + 1, j + 1);
    smx_tsv_header(t, b.s);
    free(b.s);
}

/* the checkpoint's identity: the filtered command line and the shard */
static char *sweep_signature(const sweep_opts_t *o)
{
    moe_sb_t b = {0};
    for (int i = 1; i < o->argc; i++) { /* --out and --threads do not change the rows */
        const char *a = o->argv[i];
        if (!strcmp(a, "--out") || !strcmp(a, "--threads")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--out=", 6) || !strncmp(a, "--threads=", 10)) continue;
        moe_sb_add(&b, "%s ", a);
    }
    const moe_model_t *m = &o->moe.model;
    moe_sb_add(&b, "| shard %ld/%ld | profile %d seed %lu", o->shard_i, o->shard_n, (int)o->moe.c.profile,
               o->moe.c.seed);
    if (!moe_model_is_a(m)) /* aliases and sweep --gate ... of the same model share checkpoints */
        moe_sb_add(&b, " | model %d %d %ld %d %.17g %ld", m->multinomial, (int)m->gate, m->topk, m->act, m->tau_sd,
                   m->classes);
    return b.s;
}

/* Checkpoint: the options, which tasks of this shard are done (one byte each) and their rows in task order. */
static int sweep_ckpt_write(const sweep_opts_t *o, const char *sig, char **rows, const char *done, size_t ntask)
{
    moe_sb_t b = {0};
    moe_sb_add(&b, "%s", "");
    for (size_t t = 0; t < ntask; t++)
        if (done[t]) moe_sb_add(&b, "%s", rows[t]);
    smx_ckpt_t *c = smx_ckpt_new();
    int st = !c || smx_ckpt_put_str(c, "options", sig) || smx_ckpt_put(c, "done", done, ntask) ||
             smx_ckpt_put_str(c, "rows", b.s);
    st = st ? SMX_ENOMEM : smx_ckpt_write(c, o->ckpt);
    smx_ckpt_free(c);
    free(b.s);
    return st;
}

/* the sweep's buffers, reachable from here while it runs, so that an early exit (smx_cli_fail) is no leak */
void *moe_sweep_live[8];

int moe_cmd_sweep(int argc, char **argv) { return moe_sweep_main(argc, argv, MOE_CMD_SWEEP, sweep_usage); }

int moe_sweep_main(int argc, char **argv, moe_cmd_t cmd, const char *usage)
{
    static const char *const CMDS[] = {"sweep", "fit", "gates", "topk", "multinomial"};
    char what[64];
    snprintf(what, sizeof what, "%s %s", MOE_PROG, CMDS[cmd]);
    enum { O_GRID = MOE_O_FIRST_CMD, O_NMIN, O_NMAX, O_POINTS, O_REPS, O_SHARD, O_CKPT, O_CKPT_EVERY, O_RESUME,
           O_STOP, O_TIMINGS };
    static const struct option lopts[] = {
        SMX_CLI_COMMON_OPTIONS, MOE_CFG_OPTIONS, MOE_MODEL_OPTIONS, {"grid", required_argument, 0, O_GRID},
        {"nmin", required_argument, 0, O_NMIN}, {"nmax", required_argument, 0, O_NMAX},
        {"points", required_argument, 0, O_POINTS}, {"reps", required_argument, 0, O_REPS},
        {"shard", required_argument, 0, O_SHARD}, {"checkpoint", required_argument, 0, O_CKPT},
        {"checkpoint-every", required_argument, 0, O_CKPT_EVERY}, {"resume", no_argument, 0, O_RESUME},
        {"stop-after", required_argument, 0, O_STOP}, {"timings", required_argument, 0, O_TIMINGS}, {0, 0, 0, 0}};
    static const char *const GRIDS[] = {"log", "authors", NULL};
    sweep_opts_t o;
    memset(&o, 0, sizeof o);
    moe_opts_init(&o.moe, cmd);
    o.nmin = -1, o.nmax = -1, o.points = -1, o.reps = -1, o.shard_i = 1, o.shard_n = 1, o.ckpt_every = 30;
    char **kept = malloc(((size_t)argc + 1) * sizeof *kept);
    if (!kept) smx_cli_fail(what, "out of memory");
    kept[o.argc++] = argv[0];
    int opt, prev;
    optind = 1;
    opterr = 0;
    while ((prev = optind, opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        int keep = 1;
        if (moe_opt_common(&o.moe.c, o.moe.given, opt, optarg, what, usage, argc, argv)) {
        } else if (moe_cfg_option(&o.moe.cfg, opt, optarg, CMDS[cmd])) {
        } else if (moe_model_option(&o.moe.model, opt, optarg, what)) {
            if (opt == MOE_O_QUIET) keep = 0; /* does not change the rows */
        } else
            switch (opt) {
            case O_GRID: o.grid_authors = smx_cli_choice_or_fail(optarg, GRIDS, what, "--grid"); break;
            case O_NMIN: o.nmin = smx_cli_long_or_fail(optarg, 2, 100000000, what, "--nmin"); break;
            case O_NMAX: o.nmax = smx_cli_long_or_fail(optarg, 2, 100000000, what, "--nmax"); break;
            case O_POINTS: o.points = smx_cli_long_or_fail(optarg, 1, 100000, what, "--points"); break;
            case O_REPS: o.reps = smx_cli_long_or_fail(optarg, 1, 100000, what, "--reps"); break;
            case O_SHARD: {
                char *sl = strchr(optarg, '/');
                if (!sl) smx_cli_fail(what, "--shard: '%s' is not I/N", optarg);
                *sl = 0;
                o.shard_i = smx_cli_long_or_fail(optarg, 1, 1000000, what, "--shard");
                o.shard_n = smx_cli_long_or_fail(sl + 1, 1, 1000000, what, "--shard");
                *sl = '/';
                if (o.shard_i > o.shard_n) smx_cli_fail(what, "--shard: I = %ld exceeds N = %ld", o.shard_i, o.shard_n);
                keep = 0;
                break;
            }
            case O_CKPT: o.ckpt = optarg, keep = 0; break;
            case O_CKPT_EVERY:
                o.ckpt_every = smx_cli_double_or_fail(optarg, what, "--checkpoint-every");
                if (!(o.ckpt_every >= 0)) smx_cli_fail(what, "--checkpoint-every: '%s' is negative", optarg);
                keep = 0;
                break;
            case O_RESUME: o.resume = 1, keep = 0; break;
            case O_STOP: o.stop_after = smx_cli_long_or_fail(optarg, 1, 1000000000, what, "--stop-after"), keep = 0; break;
            case O_TIMINGS: o.timings = optarg, keep = 0; break;
            }
        if (keep)
            for (int i = prev; i < optind; i++) kept[o.argc++] = argv[i];
    }
    kept[o.argc] = NULL;
    o.argv = kept;
    smx_cli_no_positional(argc, argv, optind, what);
    moe_model_finish(&o.moe.model, &o.moe.cfg, o.moe.given, what, CMDS[cmd]);
    int paper = o.moe.c.profile == SMX_PROFILE_PAPER, over = o.moe.cfg.k > o.moe.cfg.truth.k;
    int a = moe_model_is_a(&o.moe.model);
    if (a) { /* paper (a) */
        if (o.nmin < 0) o.nmin = over ? 10000 : 100; /* the authors' final k = 3, 4 runs: n in [1e4, 1e5] */
        if (o.nmax < 0) o.nmax = 100000;
        if (o.points < 0) o.points = paper ? 200 : over ? 8 : 16;
        if (o.reps < 0) o.reps = paper ? 40 : over ? 8 : 16;
    } else { /* the variants (b), (c), (d): quick 8 n in [1e2, 5e4] x 8 reps; paper 20 n in [1e2, 1e5] x 40 */
        if (o.nmin < 0) o.nmin = 100;
        if (o.nmax < 0) o.nmax = paper ? 100000 : 50000;
        if (o.points < 0) o.points = paper ? 20 : 8;
        if (o.reps < 0) o.reps = paper ? 40 : 8;
    }
    if (o.nmax < o.nmin) smx_cli_fail(what, "--nmax: %ld is below --nmin %ld", o.nmax, o.nmin);
    char defout[256], defck[300];
    static const char *const DEFOUT[] = {"sweep", "fit", "gates", "topk", "mult"};
    snprintf(defout, sizeof defout, "data/%s/moe-%s.tsv", smx_cli_profile_name(o.moe.c.profile), DEFOUT[cmd]);
    const char *out = o.moe.c.out ? o.moe.c.out : defout;
    if (!o.ckpt) snprintf(defck, sizeof defck, "%s.ckpt", out), o.ckpt = defck;
    smx_cli_outputs_or_fail(what, out, o.ckpt); /* before any fit (issue 9 item 8) */
    if (o.timings) smx_cli_out_check_or_fail(o.timings, what, "--timings");
    long *ns = malloc((size_t)o.points * sizeof *ns);
    size_t ngrid = make_grid(ns, &o), ntask_all = ngrid * (size_t)o.reps, ntask = 0;
    size_t *task = malloc(ntask_all * sizeof *task);
    for (size_t t = 0; t < ntask_all; t++)
        if ((long)(t % (size_t)o.shard_n) == o.shard_i - 1) task[ntask++] = t;
    char **rows = calloc(ntask + 1, sizeof *rows), *done = calloc(ntask + 1, 1);
    double *secs = calloc(ntask + 1, sizeof *secs);
    if (!ns || !task || !rows || !done || !secs) smx_cli_fail(what, "out of memory");
    char *sig = sweep_signature(&o);
    /* kept reachable for the early exits below (smx_cli_fail exits 2 with them allocated): no leak report */
    moe_sweep_live[0] = ns, moe_sweep_live[1] = task, moe_sweep_live[2] = rows, moe_sweep_live[3] = done;
    moe_sweep_live[4] = secs, moe_sweep_live[5] = sig, moe_sweep_live[6] = kept;
    size_t resumed = 0;
    if (o.resume) {
        smx_ckpt_t *ck;
        const char *why = NULL;
        int st = smx_ckpt_read(&ck, &why, o.ckpt);
        if (st == SMX_EIO && errno == ENOENT) {
        } else if (st) smx_cli_fail(what, "--resume: %s: %s", o.ckpt, why ? why : "cannot read");
        else {
            const char *osig = smx_ckpt_get_str(ck, "options"), *rs = smx_ckpt_get_str(ck, "rows");
            size_t dsz;
            const char *dn = smx_ckpt_get(ck, "done", &dsz);
            if (!osig || strcmp(osig, sig))
                smx_cli_fail(what, "--resume: %s was written with other options (%s)", o.ckpt, osig ? osig : "?");
            if (!dn || dsz != ntask || !rs) smx_cli_fail(what, "--resume: %s: bad entries", o.ckpt);
            for (size_t t = 0; t < ntask; t++) { /* one row per line, in task order */
                if (!dn[t]) continue;
                const char *nl = strchr(rs, '\n');
                if (!nl) smx_cli_fail(what, "--resume: %s: fewer rows than done tasks", o.ckpt);
                rows[t] = strndup(rs, (size_t)(nl - rs + 1));
                done[t] = 1;
                rs = nl + 1;
                resumed++;
            }
            smx_ckpt_free(ck);
        }
    }
    /* pending tasks, largest n first (better load balance); rows are stored by index, so the order of
     * completion never reaches the output */
    size_t npend = 0, *pend = malloc((ntask + 1) * sizeof *pend);
    if (!pend) smx_cli_fail(what, "out of memory");
    for (size_t q = ntask; q-- > 0;)
        if (!done[q]) pend[npend++] = q;
    size_t nmax = 0;
    for (size_t i = 0; i < ngrid; i++) nmax = (size_t)ns[i] > nmax ? (size_t)ns[i] : nmax;
    if (o.moe.c.threads > 0) omp_set_num_threads(o.moe.c.threads);
    int nthr = 1;
#ifdef _OPENMP
    nthr = omp_get_max_threads();
#endif
    double worker = moe_worker_bytes(&o.moe.cfg, &o.moe.model, nmax);
    smx_cli_mem_or_fail(worker * nthr, "--nmax x --k x --threads", what);
    smx_progress_t pr;
    smx_progress_start(&pr, "moe sweep", (double)(ntask - resumed), o.moe.model.quiet);
    double t0 = smx_time_now(), last_ck = t0;
    long fits_done = 0;
    int stop = 0, fail = 0, nomem = 0;
#pragma omp parallel
    {
        moe_worker_t wk;
        int bad = moe_worker_alloc(&wk, &o.moe.cfg, &o.moe.model, nmax) != SMX_OK;
        if (bad) {
#pragma omp atomic write
            nomem = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t p = 0; p < npend; p++) {
            int halt;
#pragma omp atomic read
            halt = stop;
            if (bad || halt) continue;
            size_t qi = pend[p], t = task[qi];
            long n = ns[t / (size_t)o.reps], rep = (long)(t % (size_t)o.reps);
            unsigned long seed = moe_task_seed(o.moe.c.seed, n, rep);
            char *row = moe_worker_row(&wk, &o.moe.cfg, &o.moe.model, n, rep, seed, NULL, NULL);
            if (!row) {
#pragma omp atomic write
                fail = 1;
                continue;
            }
#pragma omp critical(moe_sweep_done)
            {
                rows[qi] = row;
                done[qi] = 1;
                secs[qi] = wk.seconds;
                fits_done++;
                smx_progress_update(&pr, (double)fits_done);
                double now = smx_time_now();
                if (o.ckpt_every > 0 && now - last_ck >= o.ckpt_every) {
                    if (sweep_ckpt_write(&o, sig, rows, done, ntask))
                        fprintf(stderr, "%s: warning: cannot write checkpoint %s\n", what, o.ckpt);
                    last_ck = now;
                }
                if (o.stop_after && fits_done >= o.stop_after) {
#pragma omp atomic write
                    stop = 1;
                }
            }
        }
        moe_worker_free(&wk, &o.moe.model);
    }
    smx_progress_finish(&pr);
    if (nomem) smx_cli_die(SMX_EXIT_NOMEM, what, "out of memory: a worker's buffers for n = %zu (about %.0f MB each)",
                           nmax, worker / 1e6);
    if (fail) smx_cli_die(SMX_EXIT_FAILURE, what, "a fit failed (out of memory or bad sizes)");
    double el = smx_time_now() - t0;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double fsum = 0;
    for (size_t q = 0; q < ntask; q++) fsum += secs[q];
    if (!o.moe.model.quiet)
        fprintf(stderr, "%s: %ld fits in %.2f s on %d threads (%.3f CPU-seconds in fits; %.2f fits per CPU-second)\n",
            what, fits_done, el, threads, fsum, fsum > 0 ? fits_done / fsum : 0.0);
    int rc = 0;
    if (stop) {
        if (sweep_ckpt_write(&o, sig, rows, done, ntask)) smx_cli_io_fail(what, "--checkpoint: cannot write", o.ckpt);
        fprintf(stderr, "%s: --stop-after %ld: checkpoint %s written\n", what, o.stop_after, o.ckpt);
        rc = SMX_EXIT_STOPPED;
        goto cleanup;
    }
    smx_tsv_t *tv = smx_tsv_open(out);
    if (!tv) smx_cli_io_fail(what, "--out: cannot create", out);
    if (a) {
        sweep_meta(tv, &o, ngrid, ns);
        sweep_header(tv, &o.moe.cfg);
    } else {
        smx_tsv_meta_std(tv, MOE_PROG, o.argc, o.argv);
        smx_cli_meta(tv, &o.moe.c);
        moe_model_meta(tv, &o.moe.cfg, &o.moe.model, o.nmin, o.nmax, (long)ngrid, o.reps);
        moe_model_header(tv, &o.moe.cfg, &o.moe.model);
    }
    FILE *fp = smx_tsv_stream(tv);
    for (size_t q = 0; q < ntask; q++) fputs(rows[q], fp);
    if (smx_tsv_close(tv)) smx_cli_io_fail(what, "--out: cannot write", out);
    remove(o.ckpt); /* finished: the data file holds every row */
    if (o.timings) {
        smx_tsv_t *tt = smx_tsv_open(o.timings);
        if (!tt) smx_cli_io_fail(what, "--timings: cannot create", o.timings);
        smx_tsv_header(tt, "n\trep\tseconds");
        for (size_t q = 0; q < ntask; q++) {
            size_t t = task[q];
            smx_tsv_int(tt, ns[t / (size_t)o.reps]);
            smx_tsv_int(tt, (long long)(t % (size_t)o.reps));
            smx_tsv_num(tt, secs[q] > 0 ? secs[q] : NAN); /* NaN: resumed from the checkpoint */
            smx_tsv_endrow(tt);
        }
        if (smx_tsv_close(tt)) smx_cli_io_fail(what, "--timings: cannot write", o.timings);
    }
cleanup:
    for (size_t q = 0; q < ntask; q++) free(rows[q]);
    free(rows), free(done), free(secs), free(task), free(pend), free(ns), free(sig), free(kept);
    moe_cfg_free(&o.moe.cfg);
    return rc;
}

/* ---------------- merge ---------------- */

typedef struct {
    long n, rep;
    char *line;
} mrow_t;

static int mrow_cmp(const void *a, const void *b)
{
    const mrow_t *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    return (x->rep > y->rep) - (x->rep < y->rep);
}

static const char merge_usage[] =
    "Usage: smx-moe merge --out FILE SHARD.tsv...\n"
    "Join the files of `sweep --shard I/N` (I = 1..N, any order) into the bytes one unsharded sweep writes:\n"
    "the metadata and header must be identical, every (n, rep) present exactly once (# tasks rows).\n"
    "  --out FILE (required) --seed --profile --threads --quiet (accepted; no effect) --help --version\n";

int moe_cmd_merge(int argc, char **argv)
{
    const char *what = MOE_PROG " merge";
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS, {"quiet", no_argument, 0, MOE_O_QUIET}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    int opt;
    optind = 1;
    opterr = 0; /* one line of ours, not getopt's */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        moe_opt_common(&c, NULL, opt, optarg, what, merge_usage, argc, argv); /* --quiet: nothing to silence */
    }
    if (!c.out) smx_cli_fail(what, "--out: missing");
    if (optind >= argc) smx_cli_fail(what, "no shard files given");
    char *head = NULL;
    size_t nrow = 0, cap = 0;
    mrow_t *rows = NULL;
    long tasks = -1, points = -1, reps = -1;
    for (int f = optind; f < argc; f++) {
        FILE *fp = fopen(argv[f], "r");
        if (!fp) smx_cli_fail(what, "%s: cannot open: %s", argv[f], strerror(errno));
        moe_sb_t h = {0};
        char *line = NULL;
        size_t lc = 0;
        ssize_t len;
        long lineno = 0;
        int in_head = 1;
        while ((len = getline(&line, &lc, fp)) >= 0) {
            lineno++;
            if (len == 0 || line[len - 1] != '\n') smx_cli_fail(what, "%s:%ld: truncated line", argv[f], lineno);
            if (in_head) {
                moe_sb_add(&h, "%s", line);
                if (!strncmp(line, "# tasks: ", 9)) tasks = atol(line + 9);
                if (!strncmp(line, "# points: ", 10)) points = atol(line + 10);
                if (!strncmp(line, "# reps: ", 8)) reps = atol(line + 8);
                if (line[0] != '#') in_head = 0; /* the header line ends the head */
                continue;
            }
            char *end;
            long n = strtol(line, &end, 10), rep = *end == '\t' ? strtol(end + 1, &end, 10) : -1;
            if (*end != '\t' || rep < 0) smx_cli_fail(what, "%s:%ld:1: not a sweep row", argv[f], lineno);
            if (nrow == cap) {
                cap = cap ? 2 * cap : 1024;
                rows = realloc(rows, cap * sizeof *rows);
                if (!rows) smx_cli_fail(what, "out of memory");
            }
            rows[nrow].n = n, rows[nrow].rep = rep, rows[nrow].line = strdup(line);
            nrow++;
        }
        free(line);
        fclose(fp);
        if (in_head || !h.s) smx_cli_fail(what, "%s: no header line", argv[f]);
        if (!head) head = h.s;
        else {
            if (strcmp(head, h.s)) smx_cli_fail(what, "%s: metadata or header differ from %s's", argv[f], argv[optind]);
            free(h.s);
        }
    }
    qsort(rows, nrow, sizeof *rows, mrow_cmp);
    for (size_t i = 1; i < nrow; i++)
        if (!mrow_cmp(rows + i - 1, rows + i))
            smx_cli_fail(what, "row n = %ld rep = %ld appears twice", rows[i].n, rows[i].rep);
    if (tasks < 0 && points > 0 && reps > 0) tasks = points * reps; /* the variants' files: no tasks line */
    if (tasks >= 0 && (long)nrow != tasks)
        smx_cli_fail(what, "%zu rows, the sweep has %ld tasks (a shard missing?)", nrow, tasks);
    moe_sb_t all = {0};
    moe_sb_add(&all, "%s", head);
    for (size_t i = 0; i < nrow; i++) moe_sb_add(&all, "%s", rows[i].line), free(rows[i].line);
    if (smx_file_write_atomic(c.out, all.s, all.len)) smx_cli_io_fail(what, "--out: cannot write", c.out);
    free(all.s), free(head), free(rows);
    return 0;
}

/* ---------------- summary ---------------- */

static const char summary_usage[] =
    "Usage: smx-moe summary [OPTIONS] SWEEP.tsv...\n"
    "For each sweep file: OLS slope of log(mean D) and log(median D) on log n (D_min, D_none, hellinger), with a\n"
    "bootstrap 95 %% interval (replications resampled within each n, --boot times, percentile interval); the\n"
    "slope of the median of each parameter group's error within 2-member cells (rows where a cell has exactly 2\n"
    "members; max over such cells). Rows with loss_status != 0 or a NaN value are left out of that quantity.\n"
    "Files of the variants (--gate topk|temperature|activation, --experts multinomial, and their aliases): the\n"
    "slopes of their column D (quantity 'D'; in OUT-byn.tsv under D_min_*), k from the file's '# k:' line.\n"
    "Writes OUT (file k quantity statistic slope intercept lo hi points theory authors; log D = intercept + slope\n"
    "log n) and OUT-byn.tsv (per file and n:\n"
    "count, mean and median of every quantity) for the figures.\n"
    "  --boot B   bootstrap resamples (default 1000)\n"
    "  --seed N --out FILE (default data/PROFILE/moe-summary.tsv) --profile quick|paper --threads N --quiet --help\n"
    "  --version\n";

enum { SQ_DMIN, SQ_DNONE, SQ_HELL, SQ_EB1, SQ_EA, SQ_EB, SQ_EV, SQ_N };
static const char *const SQ_NAME[SQ_N] = {"D_min", "D_none", "hellinger", "pair_err_beta1", "pair_err_a",
                                          "pair_err_b", "pair_err_var"};
/* theory slope per quantity (paper (a)): D, Hellinger -0.5 (up to log); 2-member cells beta1, b -1/8; a, var -1/4 */
static const double SQ_THEORY[SQ_N] = {-0.5, -0.5, -0.5, -0.125, -0.25, -0.125, -0.25};

typedef struct {
    long n;
    size_t cnt[SQ_N];
    double *v[SQ_N]; /* values per quantity (count cnt) */
} ngroup_t;

/* OLS of ly on lx over the finite ly: slope (returned) and intercept (*icpt, if not NULL) */
static double ols_fit(double *icpt, const double *lx, const double *ly, size_t m)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    size_t c = 0;
    for (size_t i = 0; i < m; i++)
        if (isfinite(ly[i])) mx += lx[i], my += ly[i], c++;
    if (c < 2) return NAN;
    mx /= c, my /= c;
    for (size_t i = 0; i < m; i++)
        if (isfinite(ly[i])) sxx += (lx[i] - mx) * (lx[i] - mx), sxy += (lx[i] - mx) * (ly[i] - my);
    double b = sxx > 0 ? sxy / sxx : NAN;
    if (icpt) *icpt = my - b * mx;
    return b;
}
static double ols_slope(const double *lx, const double *ly, size_t m) { return ols_fit(NULL, lx, ly, m); }

static double stat_of(double *v, size_t c, int median)
{
    if (!c) return NAN;
    if (!median) return gsl_stats_mean(v, 1, c);
    gsl_sort(v, 1, c);
    return gsl_stats_median_from_sorted_data(v, 1, c);
}

int moe_cmd_summary(int argc, char **argv)
{
    const char *what = MOE_PROG " summary";
    enum { O_BOOT = MOE_O_FIRST_CMD };
    static const struct option lopts[] = {SMX_CLI_COMMON_OPTIONS, {"boot", required_argument, 0, O_BOOT},
                                          {"quiet", no_argument, 0, MOE_O_QUIET}, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    long boot = 1000;
    int opt;
    optind = 1;
    opterr = 0; /* one line of ours, not getopt's */
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (moe_opt_common(&c, NULL, opt, optarg, what, summary_usage, argc, argv) || opt == MOE_O_QUIET)
            continue; /* --quiet: nothing to silence */
        if (opt == O_BOOT) boot = smx_cli_long_or_fail(optarg, 10, 1000000, what, "--boot");
    }
    if (optind >= argc) smx_cli_fail(what, "no sweep files given");
    char defout[256], byn[600];
    snprintf(defout, sizeof defout, "data/%s/moe-summary.tsv", smx_cli_profile_name(c.profile));
    const char *out = c.out ? c.out : defout;
    size_t ol = strlen(out);
    snprintf(byn, sizeof byn, "%.*s-byn.tsv", (int)(ol > 4 && !strcmp(out + ol - 4, ".tsv") ? ol - 4 : ol), out);
    smx_tsv_t *to = smx_tsv_open(out), *tb = smx_tsv_open(byn);
    if (!to || !tb) smx_cli_io_fail(what, "--out: cannot create", out);
    smx_tsv_meta_std(to, MOE_PROG, argc, argv);
    smx_cli_meta(to, &c);
    smx_tsv_meta(to, "boot", "%ld", boot);
    smx_tsv_meta(to, "theory", MOE_THEORY);
    smx_tsv_meta(to, "authors", MOE_AUTHORS);
    smx_tsv_header(to, "file\tk\tquantity\tstatistic\tslope\tintercept\tlo\thi\tpoints\ttheory\tauthors");
    smx_tsv_meta_std(tb, MOE_PROG, argc, argv);
    moe_sb_t hb = {0};
    moe_sb_add(&hb, "file\tk\tn\tcount");
    for (int q = 0; q < SQ_N; q++) moe_sb_add(&hb, "\t%s_mean\t%s_median", SQ_NAME[q], SQ_NAME[q]);
    smx_tsv_header(tb, hb.s);
    free(hb.s);
    gsl_rng *rng = smx_rng_alloc(c.seed);
    for (int f = optind; f < argc; f++) {
        FILE *fp = fopen(argv[f], "r");
        if (!fp) smx_cli_fail(what, "%s: cannot open: %s", argv[f], strerror(errno));
        char *line = NULL, *fld[256];
        size_t lc = 0, nf = 0, ng = 0, gcap = 0;
        ssize_t len;
        long lineno = 0, k = -1, col[16], colk = -1, kmeta = -1;
        int ncell = 0, variant = 0, header = 1;
        ngroup_t *gs = NULL;
        while ((len = getline(&line, &lc, fp)) >= 0) {
            lineno++;
            while (len > 0 && line[len - 1] == '\n') line[--len] = 0;
            if (line[0] == '#') {
                if (!strncmp(line, "# k: ", 5)) kmeta = atol(line + 5); /* the variants' files: no k column */
                continue;
            }
            nf = 0;
            for (char *s = line;;) {
                char *tb2 = strchr(s, '\t');
                if (nf < 256) fld[nf++] = s;
                if (!tb2) break;
                *tb2 = 0, s = tb2 + 1;
            }
            if (header) { /* paper (a)'s columns, or a variant's (n ... D, no D_none / hellinger / loss_status) */
                const char *want[5] = {"n", "D_min", "D_none", "hellinger", "loss_status"};
                header = 0;
                for (size_t u = 0; u < nf; u++) variant |= !strcmp(fld[u], "D");
                if (variant) want[1] = "D";
                for (int w = 0; w < 5; w++) {
                    col[w] = -1;
                    for (size_t u = 0; u < nf; u++)
                        if (!strcmp(fld[u], want[w])) col[w] = (long)u;
                    if (col[w] < 0 && (!variant || w < 2))
                        smx_cli_fail(what, "%s:%ld: no column '%s' (not a sweep file)", argv[f], lineno, want[w]);
                }
                for (size_t u = 0; u < nf; u++) {
                    if (!strcmp(fld[u], "k")) colk = (long)u;
                    if (!strncmp(fld[u], "size_", 5)) ncell++;
                }
                if (colk < 0 && !(variant && kmeta > 0)) smx_cli_fail(what, "%s:%ld: no column 'k'", argv[f], lineno);
                continue;
            }
            double v[5];
            for (int w = 0; w < 5; w++) {
                char *e;
                if (col[w] < 0) { /* a variant's file: no such column */
                    v[w] = w == 4 ? 0 : NAN;
                    continue;
                }
                v[w] = strtod(fld[col[w]], &e);
                if (*e) smx_cli_fail(what, "%s:%ld:%ld: '%s' is not a number", argv[f], lineno, col[w] + 1, fld[col[w]]);
            }
            k = colk >= 0 ? atol(fld[colk]) : kmeta;
            long n = (long)v[0];
            if (!ng || gs[ng - 1].n != n) {
                if (ng == gcap) gs = realloc(gs, (gcap = gcap ? 2 * gcap : 64) * sizeof *gs);
                memset(&gs[ng], 0, sizeof gs[ng]);
                gs[ng].n = n;
                for (int q = 0; q < SQ_N; q++) gs[ng].v[q] = malloc(4096 * sizeof(double));
                ng++;
            }
            ngroup_t *g = &gs[ng - 1];
            double qv[SQ_N];
            for (int q = 0; q < SQ_N; q++) qv[q] = NAN;
            if (v[4] == 0) qv[SQ_DMIN] = v[1], qv[SQ_DNONE] = v[2];
            qv[SQ_HELL] = v[3];
            /* per-cell columns follow loss_status: size err_beta1 err_a err_b err_var */
            for (int j = 0; j < ncell; j++) {
                size_t base = (size_t)col[4] + 1 + 5 * (size_t)j;
                if (base + 4 >= nf || atol(fld[base]) != 2) continue;
                for (int gq = 0; gq < 4; gq++) {
                    double e = strtod(fld[base + 1 + gq], NULL);
                    int q = SQ_EB1 + gq;
                    if (isnan(qv[q]) || e > qv[q]) qv[q] = e;
                }
            }
            for (int q = 0; q < SQ_N; q++)
                if (isfinite(qv[q]) && qv[q] > 0 && g->cnt[q] < 4096) g->v[q][g->cnt[q]++] = qv[q];
        }
        free(line);
        fclose(fp);
        if (!ng) smx_cli_fail(what, "%s: no rows", argv[f]);
        double *lx = malloc(ng * sizeof *lx), *ly = malloc(ng * sizeof *ly), *bs = malloc((size_t)boot * sizeof *bs),
               *tmp = malloc(4096 * sizeof *tmp);
        for (size_t i = 0; i < ng; i++) lx[i] = log((double)gs[i].n);
        /* per-n table */
        for (size_t i = 0; i < ng; i++) {
            smx_tsv_str(tb, argv[f]);
            smx_tsv_int(tb, k);
            smx_tsv_int(tb, gs[i].n);
            smx_tsv_int(tb, (long long)gs[i].cnt[SQ_HELL]);
            for (int q = 0; q < SQ_N; q++)
                for (int med = 0; med < 2; med++) {
                    memcpy(tmp, gs[i].v[q], gs[i].cnt[q] * sizeof *tmp);
                    smx_tsv_num(tb, stat_of(tmp, gs[i].cnt[q], med));
                }
            smx_tsv_endrow(tb);
        }
        for (int q = 0; q < SQ_N; q++)
            for (int med = 0; med < 2; med++) {
                size_t pts = 0;
                for (size_t i = 0; i < ng; i++) {
                    memcpy(tmp, gs[i].v[q], gs[i].cnt[q] * sizeof *tmp);
                    ly[i] = log(stat_of(tmp, gs[i].cnt[q], med));
                    pts += isfinite(ly[i]);
                }
                if (pts < 2) continue;
                double icpt, slope = ols_fit(&icpt, lx, ly, ng);
                size_t nb = 0;
                for (long b = 0; b < boot; b++) { /* resample replications within each n */
                    for (size_t i = 0; i < ng; i++) {
                        size_t cnt = gs[i].cnt[q];
                        for (size_t u = 0; u < cnt; u++) tmp[u] = gs[i].v[q][gsl_rng_uniform_int(rng, cnt)];
                        ly[i] = cnt ? log(stat_of(tmp, cnt, med)) : NAN;
                    }
                    double sb = ols_slope(lx, ly, ng);
                    if (isfinite(sb)) bs[nb++] = sb;
                }
                gsl_sort(bs, 1, nb);
                smx_tsv_str(to, argv[f]);
                smx_tsv_int(to, k);
                smx_tsv_str(to, variant && q == SQ_DMIN ? "D" : SQ_NAME[q]);
                smx_tsv_str(to, med ? "median" : "mean");
                smx_tsv_num(to, slope);
                smx_tsv_num(to, icpt);
                smx_tsv_num(to, nb ? gsl_stats_quantile_from_sorted_data(bs, 1, nb, 0.025) : NAN);
                smx_tsv_num(to, nb ? gsl_stats_quantile_from_sorted_data(bs, 1, nb, 0.975) : NAN);
                smx_tsv_int(to, (long long)pts);
                smx_tsv_num(to, SQ_THEORY[q]);
                smx_tsv_str(to, q == SQ_DNONE && k == 2 && !med ? "-0.49 (earlier), -0.64 (later)"
                                : q == SQ_DNONE && k > 2       ? "plateau ~0.4-1.1 (no decay)"
                                                               : "-");
                smx_tsv_endrow(to);
            }
        for (size_t i = 0; i < ng; i++)
            for (int q = 0; q < SQ_N; q++) free(gs[i].v[q]);
        free(gs), free(lx), free(ly), free(bs), free(tmp);
    }
    gsl_rng_free(rng);
    if (smx_tsv_close(to) || smx_tsv_close(tb)) smx_cli_io_fail(what, "--out: cannot write", out);
    return 0;
}
