/* icl_theory.c - smx-icl check, lipschitz, shift, gd: softmax regression (Li et al., arXiv 2304.13276;
 * formulas in icl_softreg.h) verified numerically.
 *
 * Problems (Li et al. give no distribution; ours, stated in --help and the metadata): rows of A ~ N(0, I/d);
 * check: x, x* ~ N(0, I) each scaled so that max_i |(Ax)_i| = R, b = softmax(A x*);
 * lipschitz / shift / gd: A scaled to spectral norm ||A||_2 = R (the theorems' ||A|| <= R), ||x|| <= R. */
#include "icl_cmds.h"
#include "icl_softreg.h"
#include "attn.h"
#include "lse.h"
#include "nn.h"
#include "smx.h"
#include "rng.h"

#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

/* ---------------- shared helpers (icl_cmds.h) ---------------- */

void icl_random_normal(double *v, size_t d, double sd, gsl_rng *r)
{
    for (size_t i = 0; i < d; i++) v[i] = gsl_ran_gaussian_ziggurat(r, sd);
}

void icl_random_A(double *A, size_t n, size_t d, gsl_rng *r) { icl_random_normal(A, n * d, 1.0 / sqrt((double)d), r); }

double icl_norm(const double *v, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++) s += v[i] * v[i];
    return sqrt(s);
}

void icl_meta_list(smx_tsv_t *t, const char *key, const double *v, size_t n)
{
    char buf[1024];
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && k < sizeof buf - 32; i++) k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%g", i ? "," : "", v[i]);
    smx_tsv_meta(t, key, "%s", buf);
}

size_t icl_sizes_or_fail(size_t *v, size_t max, const char *s, size_t lo, size_t hi, const char *prog, const char *opt)
{
    double x[64];
    size_t k = smx_cli_doubles_or_fail(x, max < 64 ? max : 64, s, (double)lo, (double)hi, prog, opt);
    for (size_t i = 0; i < k; i++) {
        if (x[i] != floor(x[i])) smx_cli_fail(prog, "%s: %g is not an integer", opt, x[i]);
        v[i] = (size_t)x[i];
    }
    return k;
}

void icl_opt_begin(void) { optind = 1, opterr = 0; }

const char *icl_out_or_fail(const smx_cli_common_t *c, const char *name, char *buf, size_t len, const char *prog)
{
    const char *out = c->out;
    if (!out) {
        snprintf(buf, len, "data/%s/%s.tsv", c->profile == SMX_PROFILE_PAPER ? "paper" : "quick", name);
        out = buf;
    }
    smx_cli_out_check_or_fail(out, prog, "--out");
    return out;
}

const char *icl_opt_end(const smx_cli_common_t *c, const char *name, char *buf, size_t len, const char *prog,
                        int argc, char **argv)
{
    smx_cli_no_positional(argc, argv, optind, prog);
    const char *out = name ? icl_out_or_fail(c, name, buf, len, prog) : NULL; /* before any work */
    smx_nn_init_threads(c->threads); /* BLAS single-threaded; our OpenMP loops over tasks */
    return out;
}

smx_tsv_t *icl_tsv_open_or_fail(const char *out, const char *prog, const smx_cli_common_t *c, int argc, char **argv)
{
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(prog, "--out: cannot write", out);
    smx_tsv_meta_std(t, prog, argc, argv);
    smx_cli_meta(t, c);
    return t;
}

int icl_tsv_close_or_fail(smx_tsv_t *t, const char *out, const char *prog)
{
    int st = smx_tsv_close(t);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out);
    if (st) fprintf(stderr, "%s: writing %s: %s\n", prog, out, smx_strerror(st));
    return st == SMX_ENOMEM ? SMX_EXIT_NOMEM : st ? SMX_EXIT_FAILURE : 0;
}

char *icl_sibling(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    const char *ext = n > 4 && !strcmp(out + n - 4, ".tsv") ? ".tsv" : "";
    size_t base = n - strlen(ext);
    char *p = malloc(base + strlen(suffix) + 6);
    if (!p) return NULL;
    memcpy(p, out, base);
    sprintf(p + base, "-%s.tsv", suffix);
    return p;
}

/* ---------------- options ---------------- */

enum { O_N = SMX_OPT_FIRST_PRIVATE, O_D, O_R, O_REPS, O_PREC, O_PRINT, O_ITERS, O_ETA };
enum { M_N = 1 << 0, M_D = 1 << 1, M_R = 1 << 2, M_REPS = 1 << 3, M_PREC = 1 << 4, M_PRINT = 1 << 5,
       M_ITERS = 1 << 6, M_ETA = 1 << 7 };

typedef struct {
    smx_cli_common_t c;
    const char *prog, *print, *out; /* out: --out or the profile's default, checked writable by th_parse */
    char outbuf[64];
    size_t n[8], nn, d;
    double R[32];
    size_t nR;
    long reps, iters, prec;
    double eta; /* <= 0: default */
    int argc;
    char **argv;
} th_opts_t;

/* Options of check, lipschitz, shift, gd; name: the default output data/PROFILE/NAME.tsv. */
static void th_parse(th_opts_t *o, int argc, char **argv, unsigned allowed, const char *usage, const char *name)
{
    static const struct option lopts[] = {
        {"n", required_argument, 0, O_N}, {"d", required_argument, 0, O_D}, {"R", required_argument, 0, O_R},
        {"reps", required_argument, 0, O_REPS}, {"trials", required_argument, 0, O_REPS},
        {"prec", required_argument, 0, O_PREC}, {"print", required_argument, 0, O_PRINT},
        {"iters", required_argument, 0, O_ITERS}, {"eta", required_argument, 0, O_ETA}, ICL_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    static const unsigned bit[] = {M_N, M_D, M_R, M_REPS, M_PREC, M_PRINT, M_ITERS, M_ETA};
    const char *prog = o->prog;
    o->argc = argc, o->argv = argv;
    smx_cli_common_init(&o->c);
    int opt, li;
    icl_opt_begin();
    while ((opt = getopt_long(argc, argv, "", lopts, &li)) != -1) {
        if (opt >= O_N && opt <= O_ETA && !(allowed & bit[opt - O_N]))
            smx_cli_fail(prog, "--%s: not an option of this command (see --help)", lopts[li].name);
        switch (opt) {
        case O_N: o->nn = icl_sizes_or_fail(o->n, 8, optarg, 2, 100000, prog, "--n"); break;
        case O_D: o->d = (size_t)smx_cli_long_or_fail(optarg, 1, 10000, prog, "--d"); break;
        case O_R: o->nR = smx_cli_doubles_or_fail(o->R, 32, optarg, 1e-6, 1e3, prog, "--R"); break;
        case O_REPS: o->reps = smx_cli_long_or_fail(optarg, 1, 100000000, prog, lopts[li].name[0] == 't' ? "--trials" : "--reps"); break;
        case O_PREC: o->prec = smx_cli_long_or_fail(optarg, 2, 100000, prog, "--prec"); break;
        case O_PRINT:
            if (!*optarg) smx_cli_fail(prog, "--print: empty file name");
            o->print = optarg;
            break;
        case O_ITERS: o->iters = smx_cli_long_or_fail(optarg, 1, 100000000, prog, "--iters"); break;
        case O_ETA: o->eta = smx_cli_double_or_fail(optarg, prog, "--eta");
            if (!(o->eta > 0 && o->eta < 1e6)) smx_cli_fail(prog, "--eta: must be in (0, 1e6)");
            break;
        default:
            smx_cli_common_or_quiet(&o->c, NULL, opt, optarg, prog, usage, argc, argv);
        }
    }
    o->out = icl_opt_end(&o->c, o->print ? NULL : name, o->outbuf, sizeof o->outbuf, prog, argc, argv);
}

/* o->out opened with the standard and the common metadata (exit 3 if it cannot be written) */
static smx_tsv_t *th_open(const th_opts_t *o)
{
    smx_tsv_t *t = icl_tsv_open_or_fail(o->out, o->prog, &o->c, o->argc, o->argv);
    double nv[8];
    for (size_t i = 0; i < o->nn; i++) nv[i] = (double)o->n[i];
    icl_meta_list(t, "n", nv, o->nn);
    smx_tsv_meta(t, "d", "%zu", o->d);
    icl_meta_list(t, "R", o->R, o->nR);
    return t;
}

/* The problem's columns n, d, R of a row of check / lipschitz / shift (sizes o->n[ni], scale o->R[Ri]). */
static void th_row_problem(smx_tsv_t *t, const th_opts_t *o, size_t ni, size_t Ri)
{
    smx_tsv_int(t, (long long)o->n[ni]);
    smx_tsv_int(t, (long long)o->d);
    smx_tsv_num(t, o->R[Ri]);
}

/* A row's numbers v[0..n-1], in order. */
static void th_row_nums(smx_tsv_t *t, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) smx_tsv_num(t, v[i]);
}

/* One task of check / lipschitz / shift: per values into out for problem size n and scale R. */
typedef int (*th_task_fn)(double *out, const th_opts_t *o, size_t n, double R, gsl_rng *r);

/* All nn x nR x T tasks in parallel, task t = (ni, Ri, k) on its own RNG stream (seed, (ni * 64 + Ri) * stride
 * + k), results at res + t * per (the same bytes whatever --threads); exits on out of memory. */
static double *th_run(const th_opts_t *o, size_t T, size_t per, unsigned long stride, th_task_fn fn)
{
    size_t nt = o->nn * o->nR * T;
    double *res = calloc(nt * per, sizeof *res);
    if (!res) smx_cli_fail(o->prog, "out of memory");
    int st = SMX_OK;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t t = 0; t < nt; t++) {
        size_t ni = t / (o->nR * T), Ri = t / T % o->nR, k = t % T;
        gsl_rng *r = smx_rng_alloc_stream(o->c.seed, (ni * 64 + Ri) * stride + k);
        int s = r ? fn(res + t * per, o, o->n[ni], o->R[Ri], r) : SMX_ENOMEM;
        gsl_rng_free(r);
        if (s) {
#pragma omp critical
            st = s;
        }
    }
    if (st) smx_cli_fail(o->prog, "out of memory");
    return res;
}

/* ||a - ref|| / ||ref|| (absolute if ref = 0) */
static double relerr(const double *a, const double *ref, size_t m)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < m; i++) e += (a[i] - ref[i]) * (a[i] - ref[i]), r += ref[i] * ref[i];
    return r > 0 ? sqrt(e / r) : sqrt(e);
}

/* scale v (d) so that max_i |(A v)_i| = R */
static void scale_to_inf(double *v, const double *A, size_t n, size_t d, double R, double *z)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < d; j++) s += A[i * d + j] * v[j];
        z[i] = s;
        m = fmax(m, fabs(s));
    }
    for (size_t j = 0; j < d; j++) v[j] *= R / m;
}

/* ---------------- check ---------------- */

static const char check_usage[] =
    "Usage: smx-icl check [OPTIONS]\n"
    "Softmax regression L(x) = 0.5 ||softmax(Ax) - b||^2 (Li et al., arXiv 2304.13276): the analytic gradient\n"
    "A^T (diag(f) c - <c,f> f) and Hessian A^T [S^2 + B2] A in double (CBLAS) and in MPFR at --prec bits, against\n"
    "MPFR at 256 bits and against central finite differences (of the double loss for the gradient, of the\n"
    "double gradient for the Hessian), as the scale R = max_i |(Ax)_i| grows. Problems (ours; the paper has none):\n"
    "rows of A ~ N(0, I/d), x and x* ~ N(0, I) scaled to max |Ax| = R, b = softmax(A x*). Errors are relative\n"
    "2-norms (Frobenius for the Hessian), medians over --reps problems.\n"
    "  --n LIST     document lengths (default 25,200)\n"
    "  --d N        embedding size (default 10)\n"
    "  --R LIST     scales (default 0.25,0.5,1,2,4,8,16,32,64)\n"
    "  --reps N     problems per (n, R) (quick 3, paper 20)\n"
    "  --prec P     MPFR precision of the second implementation (default 53)\n"
    "  --print FILE evaluate at A, b, x read from FILE (n rows of A with d columns, a line with the n entries\n"
    "               of b, a line with the d entries of x; '#' lines ignored; tabs or spaces) and print\n"
    "               'loss L', 'grad' + a line of d values, 'hessian' + d lines of d values (%.17g; double,\n"
    "               or MPFR at P bits if --prec is given)\n"
    "  --seed N --out FILE (default data/quick/icl-check.tsv) --profile quick|paper --threads N\n"
    "  --quiet (accepted; nothing is printed) --help --version\n";

static int check_print(const th_opts_t *o, int use_mpfr)
{
    double *A = NULL, *b = NULL, *x = NULL;
    size_t n = 0, d = 0;
    char err[512];
    int rst = icl_problem_read(&A, &b, &x, &n, &d, o->print, err, sizeof err);
    if (rst) smx_cli_fail(o->prog, "--print: %s", err); /* a missing file is bad input: exit 2 */
    double L, *g = malloc(d * sizeof *g), *H = malloc(d * d * sizeof *H);
    icl_softreg_ws_t w;
    if (!g || !H || icl_softreg_ws_alloc(&w, n, d)) smx_cli_fail(o->prog, "out of memory");
    if (use_mpfr) icl_softreg_eval_mpfr(&L, g, H, A, b, x, n, d, (mpfr_prec_t)o->prec);
    else icl_softreg_eval(&L, g, H, A, b, x, &w);
    printf("loss %.17g\ngrad\n", L);
    for (size_t j = 0; j < d; j++) printf("%s%.17g", j ? "\t" : "", g[j]);
    printf("\nhessian\n");
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) printf("%.17g%c", H[i * d + j], j + 1 < d ? '\t' : '\n');
    icl_softreg_ws_free(&w);
    free(A), free(g), free(H);
    return fflush(stdout) ? 1 : 0;
}

enum { CK_LOSS, CK_GNORM, CK_EL, CK_EG, CK_EH, CK_EGFD, CK_EHFD, CK_ELP, CK_EGP, CK_EHP, CK_EMIN, CK_EMAX, CK_NV };
static const char *const ck_cols[CK_NV] = {"loss", "grad_norm", "err_loss_double", "err_grad_double",
                                           "err_hess_double", "err_grad_fd", "err_hess_fd", "err_loss_prec",
                                           "err_grad_prec", "err_hess_prec", "hess_eig_min", "hess_eig_max"};

static int check_task(double *out, const th_opts_t *o, size_t n, double R, gsl_rng *r)
{
    size_t d = o->d;
    long prec = o->prec;
    double *A = malloc(n * d * sizeof *A), *b = malloc(n * sizeof *b), *x = malloc(d * sizeof *x),
           *xs = malloc(d * sizeof *xs), *g = malloc(4 * d * sizeof *g), *H = malloc(3 * d * d * sizeof *H),
           *ev = malloc(d * sizeof *ev);
    icl_softreg_ws_t w;
    if (!A || !b || !x || !xs || !g || !H || !ev || icl_softreg_ws_alloc(&w, n, d)) {
        free(A), free(b), free(x), free(xs), free(g), free(H), free(ev);
        return SMX_ENOMEM;
    }
    icl_random_A(A, n, d, r);
    icl_random_normal(x, d, 1.0, r);
    icl_random_normal(xs, d, 1.0, r);
    scale_to_inf(x, A, n, d, R, w.z);
    scale_to_inf(xs, A, n, d, R, w.z);
    icl_softreg_f(b, A, xs, n, d, w.z);
    double *gr = g + d, *gp = g + 2 * d, *gf = g + 3 * d, *Hr = H + d * d, *Hp = H + 2 * d * d, L, Lr, Lp;
    icl_softreg_eval(&L, g, H, A, b, x, &w);
    icl_softreg_eval_mpfr(&Lr, gr, Hr, A, b, x, n, d, 256);
    icl_softreg_eval_mpfr(&Lp, gp, Hp, A, b, x, n, d, (mpfr_prec_t)prec);
    out[CK_LOSS] = Lr, out[CK_GNORM] = icl_norm(gr, d);
    out[CK_EL] = relerr(&L, &Lr, 1), out[CK_EG] = relerr(g, gr, d), out[CK_EH] = relerr(H, Hr, d * d);
    out[CK_ELP] = relerr(&Lp, &Lr, 1), out[CK_EGP] = relerr(gp, gr, d), out[CK_EHP] = relerr(Hp, Hr, d * d);
    /* central differences: gradient from L, Hessian columns from the gradient (h = eps^(1/3) max(1, |x_j|)) */
    double *Hf = Hp, *gpl = gp, *gmi = gf;
    for (size_t j = 0; j < d; j++) {
        double x0 = x[j], h = 6.055e-6 * fmax(1.0, fabs(x0)), lp, lm;
        x[j] = x0 + h;
        icl_softreg_eval(&lp, gpl, NULL, A, b, x, &w);
        x[j] = x0 - h;
        icl_softreg_eval(&lm, gmi, NULL, A, b, x, &w);
        x[j] = x0;
        ev[j] = (lp - lm) / (2 * h); /* ev used as the FD gradient for now */
        for (size_t i = 0; i < d; i++) Hf[i * d + j] = (gpl[i] - gmi[i]) / (2 * h);
    }
    out[CK_EGFD] = relerr(ev, gr, d), out[CK_EHFD] = relerr(Hf, Hr, d * d);
    icl_eig_symm(ev, H, d);
    out[CK_EMIN] = ev[0], out[CK_EMAX] = ev[d - 1];
    icl_softreg_ws_free(&w);
    free(A), free(b), free(x), free(xs), free(g), free(H), free(ev);
    return SMX_OK;
}

int icl_cmd_check(int argc, char **argv)
{
    th_opts_t o = {.prog = "smx-icl check", .n = {25, 200}, .nn = 2, .d = 10,
                   .R = {0.25, 0.5, 1, 2, 4, 8, 16, 32, 64}, .nR = 9, .reps = -1, .prec = -1};
    th_parse(&o, argc, argv, M_N | M_D | M_R | M_REPS | M_PREC | M_PRINT, check_usage, "icl-check");
    if (o.print) return check_print(&o, o.prec > 0);
    if (o.prec < 0) o.prec = 53;
    int paper = o.c.profile == SMX_PROFILE_PAPER;
    if (o.reps < 0) o.reps = paper ? 20 : 3;
    double *res = th_run(&o, (size_t)o.reps, CK_NV, 1000000, check_task);
    smx_tsv_t *tv = th_open(&o);
    smx_tsv_meta(tv, "reps", "%ld", o.reps);
    smx_tsv_meta(tv, "prec", "%ld", o.prec);
    smx_tsv_meta(tv, "problem", "rows of A ~ N(0, I/d); x, x* ~ N(0, I) scaled to max|Ax| = R; b = softmax(A x*) (ours)");
    smx_tsv_meta(tv, "columns", "medians over reps; err_* relative 2-norm errors vs MPFR 256 bits; _double: our double "
                                "code; _fd: central differences; _prec: MPFR at prec bits; Hessian eigenvalues (double)");
    char hdr[512] = "n\td\tR";
    for (int k = 0; k < CK_NV; k++) strcat(strcat(hdr, "\t"), ck_cols[k]);
    smx_tsv_header(tv, hdr);
    double *col = malloc((size_t)o.reps * sizeof *col);
    for (size_t ni = 0; ni < o.nn; ni++)
        for (size_t Ri = 0; Ri < o.nR; Ri++) {
            th_row_problem(tv, &o, ni, Ri);
            for (int k = 0; k < CK_NV; k++) {
                for (long rep = 0; rep < o.reps; rep++)
                    col[rep] = res[((ni * o.nR + Ri) * (size_t)o.reps + (size_t)rep) * CK_NV + k];
                gsl_sort(col, 1, (size_t)o.reps);
                smx_tsv_num(tv, gsl_stats_median_from_sorted_data(col, 1, (size_t)o.reps));
            }
            smx_tsv_endrow(tv);
        }
    free(col), free(res);
    return icl_tsv_close_or_fail(tv, o.out, o.prog);
}

/* log10 of the theorems' constant M = n^1.5 exp(10 R^2) (Li et al., Theorems; overflows double for R > 8.4) */
static double log10_M(size_t n, double R) { return 1.5 * log10((double)n) + 10 * R * R / log(10.0); }

/* A (n x d) with rows ~ N(0, I/d), scaled to ||A||_2 = R. */
static int random_A_norm(double *A, size_t n, size_t d, double R, gsl_rng *r)
{
    double s;
    icl_random_A(A, n, d, r);
    int st = icl_norm2(&s, A, n, d);
    for (size_t i = 0; i < n * d; i++) A[i] *= R / s;
    return st;
}

/* v (d) uniform direction times radius rad */
static void random_dir(double *v, size_t d, double rad, gsl_rng *r)
{
    icl_random_normal(v, d, 1.0, r);
    double s = icl_norm(v, d);
    for (size_t j = 0; j < d; j++) v[j] *= rad / s;
}

static double dist(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* ---------------- lipschitz ---------------- */

static const char lip_usage[] =
    "Usage: smx-icl lipschitz [OPTIONS]\n"
    "Lipschitz constants of f = softmax(Ax) (Li et al., arXiv 2304.13276, Lemmas behind Theorems 1.2/1.3):\n"
    "measured max ||f(x') - f(x)|| / ||x' - x|| and ||f(A'x) - f(Ax)|| / ||A' - A||_2 over random pairs under\n"
    "the theorems' assumptions (||A||_2 = R, ||x|| = R U, U ~ U(0,1); small steps ||A(x'-x)||_inf =\n"
    "||(A'-A)x||_inf = 0.009 < 0.01), against the theorems' M = n^1.5 exp(10 R^2) (the theorems need R >= 4)\n"
    "and against the elementary bound 0.5 R (||S||_2 <= 1/2: 0.5 ||A|| for x, 0.5 ||x|| <= 0.5 R for A).\n"
    "Directions: random (ours). Output: max and median over trials, log10 M and the decades by which M\n"
    "exceeds the measured maximum.\n"
    "  --n LIST     (default 25,200)  --d N (default 20)  --R LIST (default 0.5,1,2,4,6,8)\n"
    "  --trials N   random pairs per (n, R) (quick 200, paper 5000)\n"
    "  --seed N --out FILE (default data/quick/icl-lipschitz.tsv) --profile quick|paper --threads N\n"
    "  --quiet (accepted; nothing is printed) --help --version\n";

static int lip_task(double *out, const th_opts_t *o, size_t n, double R, gsl_rng *r)
{
    size_t d = o->d;
    double *A = malloc(n * d * sizeof *A), *dA = malloc(n * d * sizeof *dA), *x = malloc(2 * d * sizeof *x),
           *f = malloc(4 * n * sizeof *f);
    int st = !A || !dA || !x || !f ? SMX_ENOMEM : SMX_OK;
    if (!st) st = random_A_norm(A, n, d, R, r);
    if (!st) {
        double *dx = x + d, *f1 = f + n, *z = f + 2 * n, *z2 = f + 3 * n;
        random_dir(x, d, R * gsl_rng_uniform_pos(r), r);
        icl_softreg_f(f, A, x, n, d, z);
        /* x-direction: dx random, scaled so ||A dx||_inf = 0.009 */
        random_dir(dx, d, 1.0, r);
        scale_to_inf(dx, A, n, d, 0.009, z2);
        for (size_t j = 0; j < d; j++) dx[j] += x[j];
        icl_softreg_f(f1, A, dx, n, d, z2);
        for (size_t j = 0; j < d; j++) dx[j] -= x[j];
        out[0] = dist(f1, f, n) / icl_norm(dx, d);
        /* A-direction: dA ~ N(0,1) entries, scaled so ||dA x||_inf = 0.009 */
        icl_random_normal(dA, n * d, 1.0, r);
        double m = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < d; j++) s += dA[i * d + j] * x[j];
            m = fmax(m, fabs(s));
        }
        for (size_t i = 0; i < n * d; i++) dA[i] *= 0.009 / m;
        double nd;
        st = icl_norm2(&nd, dA, n, d);
        for (size_t i = 0; i < n * d; i++) dA[i] += A[i];
        icl_softreg_f(f1, dA, x, n, d, z2);
        out[1] = dist(f1, f, n) / nd;
    }
    free(A), free(dA), free(x), free(f);
    return st;
}

int icl_cmd_lipschitz(int argc, char **argv)
{
    th_opts_t o = {.prog = "smx-icl lipschitz", .n = {25, 200}, .nn = 2, .d = 20, .R = {0.5, 1, 2, 4, 6, 8}, .nR = 6,
                   .reps = -1};
    th_parse(&o, argc, argv, M_N | M_D | M_R | M_REPS, lip_usage, "icl-lipschitz");
    int paper = o.c.profile == SMX_PROFILE_PAPER;
    if (o.reps < 0) o.reps = paper ? 5000 : 200;
    size_t T = (size_t)o.reps;
    double *res = th_run(&o, T, 2, 100000000UL, lip_task);
    smx_tsv_t *tv = th_open(&o);
    smx_tsv_meta(tv, "trials", "%ld", o.reps);
    smx_tsv_meta(tv, "problem", "||A||_2 = R (rows N(0, I/d) rescaled), ||x|| = R U, random step directions with "
                                "||A dx||_inf = ||dA x||_inf = 0.009 (ours)");
    smx_tsv_meta(tv, "paper_M", "n^1.5 exp(10 R^2) (Li et al. Theorems 1.2, 1.3; assumes R >= 4)");
    smx_tsv_header(tv, "n\td\tR\twrt\tmeasured_max\tmeasured_median\thalf_bound\tlog10_M\tdecades_M\ttheorem_applies");
    double *col = malloc(T * sizeof *col);
    for (size_t ni = 0; ni < o.nn; ni++)
        for (size_t Ri = 0; Ri < o.nR; Ri++)
            for (int w = 0; w < 2; w++) {
                for (size_t k = 0; k < T; k++) col[k] = res[2 * ((ni * o.nR + Ri) * T + k) + (size_t)w];
                gsl_sort(col, 1, T);
                double mx = col[T - 1], lm = log10_M(o.n[ni], o.R[Ri]);
                th_row_problem(tv, &o, ni, Ri);
                smx_tsv_str(tv, w ? "A" : "x");
                const double v[] = {mx, gsl_stats_median_from_sorted_data(col, 1, T), 0.5 * o.R[Ri], lm, lm - log10(mx)};
                th_row_nums(tv, v, sizeof v / sizeof *v);
                smx_tsv_int(tv, o.R[Ri] >= 4);
                smx_tsv_endrow(tv);
            }
    free(col), free(res);
    return icl_tsv_close_or_fail(tv, o.out, o.prog);
}

/* ---------------- shift ---------------- */

static const char shift_usage[] =
    "Usage: smx-icl shift [OPTIONS]\n"
    "Induced target shift (Li et al., arXiv 2304.13276, Theorems 1.2 and 1.3): b~ = b + f(new) - f(old) keeps the\n"
    "residual, so ||b~ - b|| = ||f(new) - f(old)||, for\n"
    "  gd:   one GD step on L from x0 (weight shifting), x1 = x0 - eta grad L(x0), eta on a log grid 1e-3..1e3;\n"
    "  attn: one softmax self-attention update of the data (in-context learning), A' = A + gamma SA(A),\n"
    "        SA(A)_i = sum_j softmax_j(q_i.k_j / sqrt(d)) v_j, q = W_Q a_i, k = W_K a_j, v = W_V a_j,\n"
    "        W_Q, W_K, W_V ~ N(0, I/d) (ours), gamma on a log grid 1e-4..1e2;\n"
    "against ||dx|| (resp. ||dA||_2), the elementary bound 0.5 ||A|| ||dx|| (0.5 ||x|| ||dA||) and M ||d||.\n"
    "Problems: ||A||_2 = R, ||x0|| = ||x*|| = R/2, b = softmax(A x*). Means over --reps problems; small_frac:\n"
    "fraction of problems where the theorems' small-step condition (||A dx||_inf or ||dA x||_inf < 0.01) holds.\n"
    "  --n LIST (default 200)  --d N (default 20)  --R LIST (default 1,4)  --reps N (quick 20, paper 200)\n"
    "  --seed N --out FILE (default data/quick/icl-shift.tsv) --profile quick|paper --threads N\n"
    "  --quiet (accepted; nothing is printed) --help --version\n";

#define SHIFT_NS 13
enum { SH_NORM, SH_SHIFT, SH_RATIO, SH_HALF, SH_SMALL, SH_NV };

/* one problem, both kinds, all steps: out[(kind * SHIFT_NS + k) * SH_NV + v] */
static int shift_task(double *out, const th_opts_t *o, size_t n, double R, gsl_rng *r)
{
    size_t d = o->d;
    size_t nd = n * d;
    double *A = malloc(3 * nd * sizeof *A), *x = malloc(4 * d * sizeof *x), *f = malloc(6 * n * sizeof *f),
           *W = malloc(3 * d * d * sizeof *W), *QKV = malloc(3 * nd * sizeof *QKV), *al = malloc(n * sizeof *al),
           *e = malloc(n * sizeof *e), *wk = malloc(smx_attn_work_size(n) * sizeof *wk);
    icl_softreg_ws_t w;
    int st = !A || !x || !f || !W || !QKV || !al || !e || !wk ? SMX_ENOMEM : icl_softreg_ws_alloc(&w, n, d);
    if (!st) st = random_A_norm(A, n, d, R, r);
    if (!st) {
        double *SA = A + nd, *A1 = A + 2 * nd, *xs = x + d, *g = x + 2 * d, *x1 = x + 3 * d;
        double *b = f + n, *f0 = f + 2 * n, *f1 = f + 3 * n, *z = f + 4 * n;
        random_dir(x, d, R / 2, r);
        random_dir(xs, d, R / 2, r);
        icl_softreg_f(b, A, xs, n, d, z);
        icl_softreg_eval(NULL, g, NULL, A, b, x, &w);
        icl_softreg_f(f0, A, x, n, d, z);
        /* gd: x1 = x - eta g */
        for (int k = 0; k < SHIFT_NS; k++) {
            double eta = pow(10.0, -3 + 0.5 * k), *o = out + k * SH_NV, m = 0;
            for (size_t j = 0; j < d; j++) x1[j] = x[j] - eta * g[j];
            icl_softreg_f(f1, A, x1, n, d, z);
            for (size_t j = 0; j < d; j++) x1[j] -= x[j];
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t j = 0; j < d; j++) s += A[i * d + j] * x1[j];
                m = fmax(m, fabs(s));
            }
            o[SH_NORM] = icl_norm(x1, d), o[SH_SHIFT] = dist(f1, f0, n);
            o[SH_RATIO] = o[SH_SHIFT] / o[SH_NORM], o[SH_HALF] = 0.5 * R * o[SH_NORM], o[SH_SMALL] = m < 0.01;
        }
        /* attn: SA(A) by solvers/attn (one head, each token's query over all tokens) */
        icl_random_normal(W, 3 * d * d, 1.0 / sqrt((double)d), r);
        double *Q = QKV, *K = QKV + nd, *V = QKV + 2 * nd;
        smx_nn_dense_fwd_f64(Q, A, W, NULL, n, d, d);
        smx_nn_dense_fwd_f64(K, A, W + d * d, NULL, n, d, d);
        smx_nn_dense_fwd_f64(V, A, W + 2 * d * d, NULL, n, d, d);
        smx_attn_t at;
        smx_attn_init(&at, 1, d, d);
        for (size_t i = 0; i < n && !st; i++) st = smx_attn_forward(SA + i * d, al, e, Q + i * d, K, V, n, SMX_ATTN_NONE, 1.0, &at, wk);
        double nx = icl_norm(x, d);
        for (int k = 0; k < SHIFT_NS && !st; k++) {
            double gam = pow(10.0, -4 + 0.5 * k), *o = out + (SHIFT_NS + k) * SH_NV, m = 0, nA;
            for (size_t i = 0; i < nd; i++) A1[i] = gam * SA[i];
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t j = 0; j < d; j++) s += A1[i * d + j] * x[j];
                m = fmax(m, fabs(s));
            }
            st = icl_norm2(&nA, A1, n, d);
            for (size_t i = 0; i < nd; i++) A1[i] += A[i];
            icl_softreg_f(f1, A1, x, n, d, z);
            o[SH_NORM] = nA, o[SH_SHIFT] = dist(f1, f0, n);
            o[SH_RATIO] = o[SH_SHIFT] / nA, o[SH_HALF] = 0.5 * nx * nA, o[SH_SMALL] = m < 0.01;
        }
    }
    if (!st) icl_softreg_ws_free(&w);
    free(A), free(x), free(f), free(W), free(QKV), free(al), free(e), free(wk);
    return st;
}

int icl_cmd_shift(int argc, char **argv)
{
    th_opts_t o = {.prog = "smx-icl shift", .n = {200}, .nn = 1, .d = 20, .R = {1, 4}, .nR = 2, .reps = -1};
    th_parse(&o, argc, argv, M_N | M_D | M_R | M_REPS, shift_usage, "icl-shift");
    int paper = o.c.profile == SMX_PROFILE_PAPER;
    if (o.reps < 0) o.reps = paper ? 200 : 20;
    size_t T = (size_t)o.reps, per = 2 * SHIFT_NS * SH_NV;
    double *res = th_run(&o, T, per, 100000000UL, shift_task);
    smx_tsv_t *tv = th_open(&o);
    smx_tsv_meta(tv, "reps", "%ld", o.reps);
    smx_tsv_meta(tv, "paper_bound", "||b~ - b|| <= M ||x_{t+1} - x_t|| and <= M ||A_{t+1} - A_t||, M = n^1.5 exp(10 R^2)");
    smx_tsv_header(tv, "kind\tn\td\tR\tstep\tnorm_delta\tshift\tratio_max\thalf_bound\tlog10_M_bound\tsmall_frac");
    for (size_t ni = 0; ni < o.nn; ni++)
        for (size_t Ri = 0; Ri < o.nR; Ri++)
            for (int kind = 0; kind < 2; kind++)
                for (int k = 0; k < SHIFT_NS; k++) {
                    double m[SH_NV] = {0}, rmax = 0;
                    for (size_t rep = 0; rep < T; rep++) {
                        const double *v = res + per * ((ni * o.nR + Ri) * T + rep) + (size_t)(kind * SHIFT_NS + k) * SH_NV;
                        for (int c = 0; c < SH_NV; c++) m[c] += v[c] / (double)T;
                        rmax = fmax(rmax, v[SH_RATIO]);
                    }
                    smx_tsv_str(tv, kind ? "attn" : "gd");
                    th_row_problem(tv, &o, ni, Ri);
                    const double v[] = {pow(10.0, (kind ? -4 : -3) + 0.5 * k), m[SH_NORM], m[SH_SHIFT], rmax, m[SH_HALF],
                                        log10_M(o.n[ni], o.R[Ri]) + log10(m[SH_NORM]), m[SH_SMALL]};
                    th_row_nums(tv, v, sizeof v / sizeof *v);
                    smx_tsv_endrow(tv);
                }
    free(res);
    return icl_tsv_close_or_fail(tv, o.out, o.prog);
}

/* ---------------- gd ---------------- */

static const char gd_usage[] =
    "Usage: smx-icl gd [OPTIONS]\n"
    "GD and Newton on L(x) = 0.5 ||softmax(Ax) - b||^2 from x0 = 0 (Li et al., arXiv 2304.13276): loss, gradient\n"
    "norm and the smallest and largest Hessian eigenvalue (GSL symmetric eigensolver) at every iterate, for two\n"
    "targets: realisable b = softmax(A x*) (||x*|| = R) and a random b (uniform on the simplex, not realisable).\n"
    "Newton: step -H^{-1} g (LAPACK Cholesky) with backtracking (halving until L decreases) where H is positive\n"
    "definite; where H is indefinite (min eigenvalue <= 1e-12 max |eigenvalue|) a GD step instead (column\n"
    "indefinite = 1). ||A||_2 = R (rows N(0, I/d) rescaled; ours).\n"
    "  --n N (default 200)  --d N (default 20)  --R X (default 4)  --iters N (quick 200, paper 2000)\n"
    "  --eta X      GD step (default 0.5 / max |eigenvalue| of H(0), per target: the local curvature at the start)\n"
    "  --seed N --out FILE (default data/quick/icl-gd.tsv) --profile quick|paper --threads N\n"
    "  --quiet (accepted; nothing is printed) --help --version\n";

int icl_cmd_gd(int argc, char **argv)
{
    th_opts_t o = {.prog = "smx-icl gd", .n = {200}, .nn = 1, .d = 20, .R = {4}, .nR = 1, .iters = -1};
    th_parse(&o, argc, argv, M_N | M_D | M_R | M_ITERS | M_ETA, gd_usage, "icl-gd");
    if (o.nn != 1 || o.nR != 1) smx_cli_fail(o.prog, "--n and --R take one value here");
    int paper = o.c.profile == SMX_PROFILE_PAPER;
    if (o.iters < 0) o.iters = paper ? 2000 : 200;
    size_t n = o.n[0], d = o.d;
    double R = o.R[0], etas[2] = {o.eta, o.eta};
    size_t it = (size_t)o.iters + 1;
    double *rows = calloc(4 * it * 5, sizeof *rows);
    if (!rows) smx_cli_fail(o.prog, "out of memory");
    int st = SMX_OK;
#pragma omp parallel for schedule(static, 1)
    for (int task = 0; task < 4; task++) { /* (target, method) */
        int target = task / 2, newton = task % 2;
        gsl_rng *r = smx_rng_alloc_stream(o.c.seed, (unsigned long)target); /* same problem for both methods */
        double *A = malloc(n * d * sizeof *A), *b = malloc(n * sizeof *b), *x = malloc(3 * d * sizeof *x),
               *H = malloc(2 * d * d * sizeof *H), *ev = malloc(d * sizeof *ev);
        icl_softreg_ws_t w;
        int s = !A || !b || !x || !H || !ev ? SMX_ENOMEM : icl_softreg_ws_alloc(&w, n, d);
        if (!s) s = random_A_norm(A, n, d, R, r);
        if (!s) {
            double *g = x + d, *p = x + 2 * d, *C = H + d * d;
            if (target == 0) {
                random_dir(x, d, R, r);
                icl_softreg_f(b, A, x, n, d, w.z);
            } else {
                double sum = 0;
                for (size_t i = 0; i < n; i++) sum += (b[i] = gsl_ran_exponential(r, 1.0));
                for (size_t i = 0; i < n; i++) b[i] /= sum;
            }
            memset(x, 0, d * sizeof *x);
            double eta = o.eta;
            if (!(eta > 0)) { /* 0.5 / max |eig H(0)| */
                icl_softreg_eval(NULL, NULL, H, A, b, x, &w);
                icl_eig_symm(ev, H, d);
                eta = 0.5 / fmax(fabs(ev[0]), fabs(ev[d - 1]));
            }
            etas[target] = eta;
            for (size_t k = 0; k < it; k++) {
                double L, *row = rows + ((size_t)task * it + k) * 5;
                icl_softreg_eval(&L, g, H, A, b, x, &w);
                icl_eig_symm(ev, H, d);
                int indef = !(ev[0] > 1e-12 * fmax(fabs(ev[0]), fabs(ev[d - 1])));
                row[0] = L, row[1] = icl_norm(g, d), row[2] = ev[0], row[3] = ev[d - 1], row[4] = indef;
                if (k + 1 == it) break;
                if (newton && !indef) { /* p = H^{-1} g by Cholesky, then backtracking */
                    memcpy(C, H, d * d * sizeof *C);
                    memcpy(p, g, d * sizeof *p);
                    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, 1, C, (lapack_int)d, p, 1) == 0) {
                        double t = 1, L1 = L;
                        for (int h = 0; h < 60; h++, t *= 0.5) {
                            for (size_t j = 0; j < d; j++) C[j] = x[j] - t * p[j];
                            icl_softreg_eval(&L1, NULL, NULL, A, b, C, &w);
                            if (L1 < L) break;
                        }
                        if (L1 < L) memcpy(x, C, d * sizeof *x);
                        continue;
                    }
                    row[4] = 1; /* Cholesky failed: treated as indefinite */
                }
                for (size_t j = 0; j < d; j++) x[j] -= eta * g[j];
            }
            icl_softreg_ws_free(&w);
        }
        gsl_rng_free(r);
        free(A), free(b), free(x), free(H), free(ev);
        if (s) {
#pragma omp critical
            st = s;
        }
    }
    if (st) smx_cli_fail(o.prog, "out of memory");
    smx_tsv_t *tv = th_open(&o);
    smx_tsv_meta(tv, "iters", "%ld", o.iters);
    smx_tsv_meta(tv, "eta_realisable", "%.17g", etas[0]);
    smx_tsv_meta(tv, "eta_random", "%.17g", etas[1]);
    smx_tsv_header(tv, "target\tmethod\titer\tloss\tgrad_norm\teig_min\teig_max\tindefinite");
    static const char *const tn[] = {"realisable", "random"}, *const mn[] = {"gd", "newton"};
    for (int task = 0; task < 4; task++)
        for (size_t k = 0; k < it; k++) {
            const double *row = rows + ((size_t)task * it + k) * 5;
            smx_tsv_str(tv, tn[task / 2]);
            smx_tsv_str(tv, mn[task % 2]);
            smx_tsv_int(tv, (long long)k);
            for (int c = 0; c < 4; c++) smx_tsv_num(tv, row[c]);
            smx_tsv_int(tv, (long long)row[4]);
            smx_tsv_endrow(tv);
        }
    free(rows);
    return icl_tsv_close_or_fail(tv, o.out, o.prog);
}
