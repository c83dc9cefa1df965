/* bottleneck_argmax.c - smx-bottleneck argmax: unargmaxable classes of a low-rank softmax head
 * (Grivas, Bogoychev, Lopez, ACL 2022; science/bottleneck.md (d)). A class i of z = W x + b is
 * unargmaxable if no x in [-box, box]^d makes z_i the strict maximum. Fast approximate pass first (their
 * code: start at x = w_i, reflect across the violated hyperplane of the current argmax, up to a patience),
 * then the Chebyshev-centre LP (solvers/lp.h, constraint generation) only where it fails; r* near 0 and every
 * no-bias candidate decided in GMP rationals; unargmaxable classes certified in GMP rationals. Patience 5 by
 * default (their code: 50): with the LP by constraint generation a reflection (O(V d)) costs about a tenth of
 * an LP, and patience 5 gives the fastest V = 10000 sweep (smx-bottleneck bench). */
#include "bottleneck_cmds.h"
#include "lp.h"
#include "smx.h"
#include "tsv.h"
#include "rng.h"
#include "machine.h"

#include <gmp.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bottleneck_argmax_approx(double *x, const double *W, const double *b, size_t v, size_t d, size_t i, int patience)
{
    const double *wi = W + i * d;
    for (size_t k = 0; k < d; k++) x[k] = wi[k];
    for (int it = 0; it <= patience; it++) {
        /* current argmax j of z = W x + b (i wins ties against nobody: strict maximum required) */
        size_t j = i;
        double zi = b ? b[i] : 0, zmax = -INFINITY;
        for (size_t k = 0; k < d; k++) zi += wi[k] * x[k];
        for (size_t c = 0; c < v; c++) {
            if (c == i) continue;
            double z = b ? b[c] : 0;
            for (size_t k = 0; k < d; k++) z += W[c * d + k] * x[k];
            if (z > zmax) zmax = z, j = c;
        }
        if (zi > zmax) return 1;
        if (it == patience) break;
        /* reflect x across the hyperplane (w_j - w_i).x = b_i - b_j:
         * x <- x - 2 ((w_j - w_i).x - (b_i - b_j)) / ||w_j - w_i||^2 (w_j - w_i) */
        double num = (zmax - (b ? b[j] : 0)) - (zi - (b ? b[i] : 0)) - ((b ? b[i] - b[j] : 0)), den = 0;
        for (size_t k = 0; k < d; k++) den += (W[j * d + k] - wi[k]) * (W[j * d + k] - wi[k]);
        if (!(den > 0)) return 0; /* duplicate rows: never strictly above */
        double s = 2 * num / den;
        if (s == 0) s = 1e-12; /* on the hyperplane: step off it */
        for (size_t k = 0; k < d; k++) x[k] -= s * (W[j * d + k] - wi[k]);
    }
    return 0;
}

static const char prog[] = "smx-bottleneck argmax";
static const char usage[] =
    "Usage: smx-bottleneck argmax [OPTIONS]\n"
    "       smx-bottleneck argmax --file F [--bias-file G]\n"
    "Fraction of unargmaxable classes of a random head z = W x + b (Grivas et al. 2022): class i is\n"
    "unargmaxable iff r* = max r s.t. (w_j - w_i).x + ||w_j - w_i|| r <= b_i - b_j (j != i), x in [-box, box]^d\n"
    "is <= 0 (their code: r >= 1e-8 infeasible). Approximate pass first (x = w_i, reflect across the violated\n"
    "hyperplane of the current argmax, up to --patience steps), then the LP where it fails, solved by GLPK's\n"
    "dual simplex with constraint generation (working set of the 4 (d + 1) nearest constraints, the most\n"
    "violated added and re-solved warm until none is violated: the optimum of the LP over all constraints);\n"
    "r* <= --tol-exact (every no-bias candidate: r* = 0 exactly there) decided in GMP rationals;\n"
    "unargmaxable classes get a certificate lambda (sum lambda_j w_j = w_i, sum lambda = 1, lambda >= 0,\n"
    "sum lambda_j b_j >= b_i) checked in GMP rationals when the box is not active.\n"
    "  --vocab V            classes (quick 1000, paper 10000)\n"
    "  --dims LIST          hidden sizes (default 2,4,6,8,10,15,20,30,40,50)\n"
    "  --dists LIST         normal (N(0,1)), uniform (U(-1,1)) for W and b (default both)\n"
    "  --bias-modes LIST    none, random (b from the dist), unitnorm (rows of W scaled to norm 1, no bias),\n"
    "                       normbias (b_i = -||w_i||^2/2); default all four (the last two: prevention)\n"
    "  --seeds S            heads per setting (default 1)\n"
    "  --patience P         reflections of the approximate pass (default 5; 0: x = w_i only); --no-approx\n"
    "                       skips it\n"
    "  --box B              x in [-B, B]^d (default 100)   --tol-exact T   (default 1e-6)\n"
    "  --file F             a user's W (TSV, V rows of d values, no header); --bias-file G: one b per line.\n"
    "                       Prints one line per unargmaxable class: its 0-based index, then its certificate\n"
    "                       ('hull' and lambda_j as exact rationals j:p/q, or 'lp' and r* when only the box\n"
    "                       makes it unargmaxable), then 'unargmaxable K of V' last; exit 0 whatever K.\n"
    "                       Argmaxable classes are confirmed by an exact rational check of the witness x.\n"
    "  --seed N --out FILE (default data/PROFILE/bottleneck-argmax.tsv) --profile quick|paper --threads N\n"
    "  --quiet (no progress or timings on stderr) --help --version\n";

enum { O_V = SMX_OPT_FIRST_PRIVATE, O_DIMS, O_DISTS, O_BMODES, O_SEEDS, O_PAT, O_NOAPPROX, O_BOX, O_TOL, O_FILE,
       O_BFILE };
enum { BM_NONE, BM_RANDOM, BM_UNIT, BM_NORMBIAS, BM_COUNT };
static const char *const bm_names[] = {"none", "random", "unitnorm", "normbias", NULL};
static const char *const dist_names[] = {"normal", "uniform", NULL};

typedef struct {
    long v, seeds;
    double dims[16];
    size_t ndims;
    int dists[2], ndists, bmodes[BM_COUNT], nbmodes;
    int patience, approx;
    double box, tol;
    const char *file, *bfile;
    smx_cli_common_t c;
    int quiet;
} opts_t;

typedef struct {
    int by_approx, unarg, exact, certified, inexact, failed;
} cls_t;

static int in_box(const double *x, size_t d, double box)
{
    for (size_t k = 0; k < d; k++)
        if (!(fabs(x[k]) <= box)) return 0;
    return 1;
}

/* Classify every class of one head; res[i] per class. Returns SMX_OK or an error status. */
static int classify(cls_t *res, const double *W, const double *b, size_t v, size_t d, const opts_t *o,
                    int witness_exact)
{
    int fail = SMX_OK;
#pragma omp parallel
    {
        smx_lp_cheb_t *lp = smx_lp_cheb_alloc(v, d);
        double *x = malloc(d * sizeof *x);
        size_t *supp = malloc(v * sizeof *supp);
        if (!lp || !x || !supp) {
#pragma omp atomic write
            fail = SMX_ENOMEM;
        }
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < v; i++) {
            cls_t *r = &res[i];
            memset(r, 0, sizeof *r);
            if (!lp || !x || !supp) continue;
            if (o->approx && bottleneck_argmax_approx(x, W, b, v, d, i, o->patience) && in_box(x, d, o->box) &&
                (!witness_exact || smx_lp_witness_verify(x, W, b, v, d, i))) {
                r->by_approx = 1;
                continue;
            }
            smx_lp_cheb_result_t q;
            int st = smx_lp_cheb_solve(&q, supp, lp, W, b, v, d, i, o->box, o->tol);
            if (st) {
                r->failed = 1;
#pragma omp atomic write
                fail = st;
                continue;
            }
            if (witness_exact && q.argmaxable && !q.exact) q.exact = smx_lp_cheb_witness(lp, W, b, v, d, i, o->box);
            r->unarg = !q.argmaxable, r->exact = q.exact && !q.certified, r->certified = q.certified;
            r->inexact = !q.exact;
        }
        smx_lp_cheb_free(lp);
        free(x), free(supp);
        smx_lp_thread_done();
    }
    return fail;
}

/* Memory of classify and the certificates for v classes in d dimensions on top of data_bytes (W and b):
 * per class its result, per thread an LP workspace in its worst case (every row: smx_lp_cheb_bytes), a
 * point and a support list. What for the one-line refusal; owned (may be NULL) is freed before it. */
static void argmax_mem_or_fail(double data_bytes, size_t v, size_t d, const char *what, double *owned)
{
    double V = (double)v, lp = smx_lp_cheb_bytes(v, d) + 8 * (V + (double)d);
    char msg[256];
    snprintf(msg, sizeof msg, "%s x --threads %d (an LP of all %zu rows per thread, worst case)", what,
             omp_get_max_threads(), v);
    double bytes = data_bytes + V * (double)sizeof(cls_t) + omp_get_max_threads() * lp;
    smx_cli_mem_or_fail_free(bytes, msg, prog, owned);
}

static int run_file(const opts_t *o)
{
    double *W = NULL, *b = NULL;
    size_t v = 0, d = 0, bv = 0, bc = 0;
    char what[128];
    /* up front from the file's size and first row, then exactly once it is read; W from the TSV reader
     * (its doubling buffer: up to 2 v d doubles) and b */
    if (bottleneck_file_shape(&v, &d, o->file, BOTTLENECK_FILE_TSV)) {
        snprintf(what, sizeof what, "--file (about %zu x %zu from its size and first row)", v, d);
        argmax_mem_or_fail(8 * (2 * (double)v * (double)d + (double)v), v, d, what, NULL);
    }
    bottleneck_read_matrix_or_fail(&W, &v, &d, o->file, BOTTLENECK_FILE_TSV, 0, prog);
    if (v < 2) {
        free(W);
        smx_cli_fail(prog, "%s: need at least 2 rows (classes)", o->file);
    }
    snprintf(what, sizeof what, "--file (%zu x %zu)", v, d);
    argmax_mem_or_fail(8 * (2 * (double)v * (double)d + (double)v), v, d, what, W);
    int st = SMX_OK;
    if (o->bfile) {
        bottleneck_read_matrix_or_fail(&b, &bv, &bc, o->bfile, BOTTLENECK_FILE_TSV, 0, prog);
        if (bc != 1 || bv != v) {
            free(W), free(b);
            smx_cli_fail(prog, "%s: wrong size: %zu x %zu, expected %zu lines of one value", o->bfile, bv, bc, v);
        }
    }
    cls_t *res = calloc(v, sizeof *res);
    if (!res) {
        free(W), free(b);
        smx_cli_die(SMX_EXIT_NOMEM, prog, "out of memory (%zu classes)", v);
    }
    st = classify(res, W, b, v, d, o, 1);
    if (st) {
        fprintf(stderr, "%s: LP failed: %s\n", prog, smx_strerror(st));
        free(W), free(b), free(res);
        return 1;
    }
    /* certificates, in class order (sequential: the output order is the class order) */
    smx_lp_cheb_t *lp = smx_lp_cheb_alloc(v, d);
    size_t *supp = malloc(v * sizeof *supp), K = 0;
    mpq_t *lam = malloc((d + 2) * sizeof *lam);
    printf("# %zu classes, d = %zu, %s; box [-%g, %g]^d\n", v, d, b ? "with bias" : "no bias", o->box, o->box);
    for (size_t i = 0; i < v; i++)
        if (res[i].inexact) printf("# class %zu: decided in floating point only (no exact certificate or witness)\n", i);
    for (size_t i = 0; i < v; i++) {
        if (!res[i].unarg) continue;
        K++;
        smx_lp_cheb_result_t q;
        smx_lp_cheb_solve(&q, supp, lp, W, b, v, d, i, o->box, o->tol);
        int cert = 0;
        if (q.nsupp > 0 && q.nsupp <= d + 1) {
            for (size_t s = 0; s < q.nsupp; s++) mpq_init(lam[s]);
            cert = smx_lp_hull_certify(lam, W, b, v, d, i, supp, q.nsupp);
            if (cert) {
                printf("%zu\thull", i);
                for (size_t s = 0; s < q.nsupp; s++) {
                    if (mpq_sgn(lam[s]) == 0) continue;
                    printf("\t%zu:", supp[s]);
                    mpq_out_str(stdout, 10, lam[s]);
                }
                putchar('\n');
            }
            for (size_t s = 0; s < q.nsupp; s++) mpq_clear(lam[s]);
        }
        if (!cert) printf("%zu\tlp\tr*=%.17g%s\n", i, q.r, q.exact ? " (exact)" : "");
    }
    printf("unargmaxable %zu of %zu\n", K, v);
    smx_lp_cheb_free(lp);
    smx_lp_thread_done();
    free(supp), free(lam), free(W), free(b), free(res);
    return 0;
}

static int run(const opts_t *o, const char *out, int argc, char **argv)
{
    const size_t V = (size_t)o->v;
    smx_tsv_t *ts = bottleneck_tsv_open_or_fail(out, prog, &o->c, argc, argv);
    smx_tsv_meta(ts, "vocab", "%ld", o->v);
    smx_tsv_meta(ts, "seeds", "%ld", o->seeds);
    smx_tsv_meta(ts, "patience", "%d", o->patience);
    smx_tsv_meta(ts, "approx", "%d", o->approx);
    smx_tsv_meta(ts, "box", "%.17g", o->box);
    smx_tsv_meta(ts, "tol_exact", "%.17g", o->tol);
    smx_tsv_meta(ts, "paper_reference", "Grivas et al. 2022 via science/bottleneck.md: random W, b ~ N(0,1), V = 1000: "
                                        "unargmaxable 98%% (d=2), 88%% (4), 67%% (6), 42%% (8), 23%% (10), 1.8%% (15), "
                                        "0.2%% (20); prevention (unit-norm rows without bias, b_i = -|w_i|^2/2) -> 0");
    smx_tsv_meta(ts, "columns", "by_approx: decided argmaxable by the approximate pass; lp: classes sent to the LP; "
                                "exact: argmaxable proven by a rational witness after the LP; certified: unargmaxable with an exact hull certificate");
    smx_tsv_header(ts, "dist\tbias_mode\tvocab\td\tseed\tunargmaxable\tfraction\tby_approx\tlp\texact\tcertified");
    double *W = NULL, *Wm = NULL, *b = malloc(V * sizeof *b);
    cls_t *res = calloc(V, sizeof *res);
    int st = SMX_OK;
    size_t dmax = 0;
    for (size_t k = 0; k < o->ndims; k++)
        if ((size_t)o->dims[k] > dmax) dmax = (size_t)o->dims[k];
    W = malloc(V * dmax * sizeof *W), Wm = malloc(V * dmax * sizeof *Wm);
    if (!W || !Wm || !b || !res) st = SMX_ENOMEM;
    for (int di = 0; di < o->ndists && !st; di++)
        for (size_t k = 0; k < o->ndims && !st; k++)
            for (long sd = 0; sd < o->seeds && !st; sd++) {
                size_t d = (size_t)o->dims[k];
                int dist = o->dists[di];
                /* stream from (seed index, d, dist): the same W for every bias mode */
                gsl_rng *r = smx_rng_alloc_stream(o->c.seed, ((unsigned long)sd * 4096 + d) * 2 + (unsigned long)dist);
                double *bw = malloc(V * sizeof *bw);
                for (size_t j = 0; j < V * d; j++)
                    W[j] = dist ? gsl_ran_flat(r, -1, 1) : gsl_ran_gaussian_ziggurat(r, 1.0);
                for (size_t j = 0; j < V; j++) bw[j] = dist ? gsl_ran_flat(r, -1, 1) : gsl_ran_gaussian_ziggurat(r, 1.0);
                gsl_rng_free(r);
                for (int m = 0; m < o->nbmodes && !st; m++) {
                    int bm = o->bmodes[m];
                    const double *Wu = W, *bu = NULL;
                    if (bm == BM_RANDOM) bu = bw;
                    if (bm == BM_UNIT) { /* rows scaled to unit norm, no bias */
                        for (size_t j = 0; j < V; j++) {
                            double n2 = 0;
                            for (size_t c = 0; c < d; c++) n2 += W[j * d + c] * W[j * d + c];
                            for (size_t c = 0; c < d; c++) Wm[j * d + c] = W[j * d + c] / sqrt(n2);
                        }
                        Wu = Wm;
                    }
                    if (bm == BM_NORMBIAS) { /* b_i = -||w_i||^2 / 2: argmax = nearest row to x */
                        for (size_t j = 0; j < V; j++) {
                            double n2 = 0;
                            for (size_t c = 0; c < d; c++) n2 += W[j * d + c] * W[j * d + c];
                            b[j] = -0.5 * n2;
                        }
                        bu = b;
                    }
                    double t0 = smx_time_now();
                    st = classify(res, Wu, bu, V, d, o, 0);
                    size_t un = 0, ap = 0, lpn = 0, ex = 0, ce = 0;
                    for (size_t i = 0; i < V; i++)
                        un += res[i].unarg, ap += res[i].by_approx, lpn += !res[i].by_approx, ex += res[i].exact,
                            ce += res[i].certified;
                    if (!o->quiet)
                        fprintf(stderr, "%s: %s %s d=%zu seed %ld: %zu of %zu unargmaxable, %zu LPs (%zu exact) in %.2f s\n",
                            prog, dist_names[dist], bm_names[bm], d, sd, un, V, lpn, ex, smx_time_now() - t0);
                    smx_tsv_str(ts, dist_names[dist]), smx_tsv_str(ts, bm_names[bm]), smx_tsv_int(ts, (long long)V);
                    smx_tsv_int(ts, (long long)d), smx_tsv_int(ts, sd), smx_tsv_int(ts, (long long)un);
                    smx_tsv_num(ts, (double)un / (double)V), smx_tsv_int(ts, (long long)ap);
                    smx_tsv_int(ts, (long long)lpn), smx_tsv_int(ts, (long long)ex), smx_tsv_int(ts, (long long)ce);
                    smx_tsv_endrow(ts);
                }
                free(bw);
            }
    free(W), free(Wm), free(b), free(res);
    if (st) {
        smx_tsv_abort(ts);
        return st;
    }
    return smx_tsv_close(ts);
}

int bottleneck_cmd_argmax(int argc, char **argv)
{
    static const struct option lopts[] = {
        SMX_CLI_ARG("vocab", O_V), SMX_CLI_ARG("dims", O_DIMS), SMX_CLI_ARG("dists", O_DISTS),
        SMX_CLI_ARG("bias-modes", O_BMODES), SMX_CLI_ARG("seeds", O_SEEDS), SMX_CLI_ARG("patience", O_PAT),
        SMX_CLI_FLAG("no-approx", O_NOAPPROX), SMX_CLI_ARG("box", O_BOX), SMX_CLI_ARG("tol-exact", O_TOL),
        SMX_CLI_ARG("file", O_FILE), SMX_CLI_ARG("bias-file", O_BFILE), BOTTLENECK_COMMON_OPTIONS, {0, 0, 0, 0}};
    opts_t o = {.v = -1, .seeds = 1, .dists = {0, 1}, .ndists = 2, .bmodes = {0, 1, 2, 3}, .nbmodes = 4,
                .patience = 5, .approx = 1, .box = 100, .tol = 1e-6};
    smx_cli_common_init(&o.c);
    o.ndims = smx_cli_doubles_or_fail(o.dims, 16, "2,4,6,8,10,15,20,30,40,50", 1, 4096, prog, "--dims");
    int opt;
    optind = 1, opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_V: o.v = smx_cli_long_or_fail(optarg, 2, 1000000, prog, "--vocab"); break;
        case O_DIMS:
            o.ndims = smx_cli_doubles_or_fail(o.dims, 16, optarg, 1, 4096, prog, "--dims");
            for (size_t k = 0; k < o.ndims; k++)
                if (o.dims[k] != floor(o.dims[k])) smx_cli_fail(prog, "--dims: %g is not an integer", o.dims[k]);
            break;
        case O_DISTS: o.ndists = bottleneck_parse_choices(o.dists, 2, optarg, dist_names, prog, "--dists"); break;
        case O_BMODES: o.nbmodes = bottleneck_parse_choices(o.bmodes, BM_COUNT, optarg, bm_names, prog, "--bias-modes"); break;
        case O_SEEDS: o.seeds = smx_cli_long_or_fail(optarg, 1, 100000, prog, "--seeds"); break;
        case O_PAT: o.patience = (int)smx_cli_long_or_fail(optarg, 0, 1000000, prog, "--patience"); break;
        case O_NOAPPROX: o.approx = 0; break;
        case O_BOX:
            o.box = smx_cli_double_or_fail(optarg, prog, "--box");
            if (!(o.box > 0 && o.box < 1e12)) smx_cli_fail(prog, "--box: '%s' is not in (0, 1e12)", optarg);
            break;
        case O_TOL:
            o.tol = smx_cli_double_or_fail(optarg, prog, "--tol-exact");
            if (!(o.tol >= 0 && o.tol < 1)) smx_cli_fail(prog, "--tol-exact: '%s' is not in [0, 1)", optarg);
            break;
        case O_FILE: o.file = optarg; break;
        case O_BFILE: o.bfile = optarg; break;
        default:
            smx_cli_common_or_quiet(&o.c, &o.quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    bottleneck_threads(o.c.threads);
    if (o.bfile && !o.file) smx_cli_fail(prog, "--bias-file: only with --file");
    if (o.file && o.c.out) smx_cli_fail(prog, "--out: does not apply with --file (the classes go to stdout)");
    if (o.file) return run_file(&o);
    int paper = o.c.profile == SMX_PROFILE_PAPER;
    if (o.v < 0) o.v = paper ? 10000 : 1000;
    {
        /* memory estimate, dominant arrays only: W and its modified copy Wm (2 V x max d doubles, run), b, and
         * classify's (argmax_mem_or_fail) */
        double dmax = 0, V = (double)o.v;
        for (size_t k = 0; k < o.ndims; k++) dmax = fmax(dmax, o.dims[k]);
        argmax_mem_or_fail(8.0 * (2.0 * V * dmax + V), (size_t)o.v, (size_t)dmax, "--vocab x --dims", NULL);
    }
    const char *out = o.c.out ? o.c.out : paper ? "data/paper/bottleneck-argmax.tsv" : "data/quick/bottleneck-argmax.tsv";
    smx_cli_out_check_or_fail(out, prog, "--out");
    int st = run(&o, out, argc, argv);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out);
    if (st) fprintf(stderr, "%s: writing %s: %s\n", prog, out, smx_strerror(st));
    return st == SMX_ENOMEM ? SMX_EXIT_NOMEM : st ? SMX_EXIT_FAILURE : 0;
}
