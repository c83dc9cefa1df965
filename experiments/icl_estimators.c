/* icl_estimators.c - smx-icl estimators: test MSE vs prompt length of the closed-form predictors of He, Pan,
 * Chen, Yang (ICML 2025, "In-Context Linear Regression Demystified"; code XintianPan/ICL_linear).
 *
 * Task: x_l, x_q ~ N(0, I_d), beta ~ N(0, I/d), y_l = beta.x_l + eps_l, y_q = beta.x_q + eps_q, eps ~ N(0, s2).
 *   two-head TF   yhat = mu sum_l y_l [softmax(omega X x_q) - softmax(-omega X x_q)]_l
 *   single head   yhat = mu1 sum_l y_l softmax(omega1 X x_q)_l, omega1 = 1/sqrt(d),
 *                 mu1 = sqrt(d) / (1 + (1 + s2)(d / L_train) e), L_train = 40 (trained at 40, tested at every L)
 *   GD            yhat = (2 omega mu / L) sum_l y_l x_l.x_q
 *   debiased GD   yhat = (2 omega mu / L) sum_l y_l (x_l - xbar).x_q
 *   ridge         yhat = x_q.(X^T X + d s2 I)^{-1} X^T y   (the posterior mean: Bayes optimal)
 * MSE = mean (yhat - y_q)^2 over tasks (y_q's noise counted once), standard error std(e^2)/sqrt(N).
 * Theory columns: gd_theory = c^2 L (L + d + 1) - 2 c L + 1 + c^2 s2 L d + s2, c = 2 omega mu / L
 * (E over X, beta, eps: E (X^T X)^2 = L (L + d + 1) I); ridge_theory = mean over the same tasks of
 * s2 (1 + tr (X^T X + d s2 I)^{-1}) (the Bayes risk given X; Rao-Blackwellised). */
#include "icl_cmds.h"
#include "lse.h"
#include "nn.h"
#include "smx.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

enum { E_TF2, E_SINGLE, E_GD, E_DGD, E_RIDGE, E_RIDGE_TH, E_NV };
static const char *const est_names[] = {"tf2", "single", "gd", "debiased_gd", "ridge"};
#define EST_LTRAIN 40

static const char usage[] =
    "Usage: smx-icl estimators [OPTIONS]\n"
    "Test MSE vs prompt length L of the closed-form predictors of He et al. (ICML 2025): two-head TF at (omega, mu),\n"
    "single head (omega = 1/sqrt d, mu = sqrt d / (1 + (1 + s2)(d/40) e): trained at L = 40, tested at every L, as\n"
    "the authors' code computes it), GD (2 omega mu / L) sum y_l x_l.x_q, debiased GD (x_l - xbar), ridge with\n"
    "lambda = d s2. Data: x, x_q ~ N(0, I_d), beta ~ N(0, I/d), noise sd sqrt(s2) on every y including y_q. The\n"
    "noise of y_q is in every MSE once (the authors' trained-model curves add s2 = 0.1 on top of it: their H = 2\n"
    "value 0.341 at L = 40 is 0.243 + 0.1; ours do not double count). Columns: MSE and its standard error\n"
    "std(e^2)/sqrt(N) per estimator, and gd_theory (closed-form expectation) and ridge_theory (Bayes risk\n"
    "given X, averaged over the same tasks).\n"
    "  --omega W    two-head omega, raw units (default 0.13, the authors' trained value)\n"
    "  --mu M       two-head mu (default 3.45, the authors' trained value)\n"
    "  --L LIST     prompt lengths (default 10,20,30,40,50,60,70,80,90,100)\n"
    "  --tasks N    tasks per L (quick 20000, paper 200000)\n"
    "  --d N        dimension (default 5)   --sigma2 X  noise variance (default 0.1)\n"
    "  --seed N --out FILE (default data/quick/icl-estimators.tsv) --profile quick|paper --threads N\n"
    "  --quiet (accepted; nothing is printed) --help --version\n";

/* errors e (E_NV - 1 estimators) and the ridge Bayes risk of one task of length L; w: work of 2 L + 3 d + d*d */
static void est_task(double *out, size_t L, size_t d, double s2, double omega, double mu, gsl_rng *r, double *w)
{
    double *X = w, *y = X + L * d, *s = y + L, *p = s + L, *beta = p + L, *xq = beta + d, *xb = xq + d,
           *G = xb + d, *rhs = G + d * d;
    icl_random_normal(beta, d, 1.0 / sqrt((double)d), r);
    double sd = sqrt(s2);
    for (size_t l = 0; l < L; l++) {
        double t = 0;
        for (size_t j = 0; j < d; j++) t += beta[j] * (X[l * d + j] = gsl_ran_gaussian_ziggurat(r, 1.0));
        y[l] = t + gsl_ran_gaussian_ziggurat(r, sd);
    }
    double yq = 0;
    for (size_t j = 0; j < d; j++) yq += beta[j] * (xq[j] = gsl_ran_gaussian_ziggurat(r, 1.0));
    yq += gsl_ran_gaussian_ziggurat(r, sd);
    /* s_l = x_l.x_q; xbar */
    memset(xb, 0, d * sizeof *xb);
    for (size_t l = 0; l < L; l++) {
        double t = 0;
        for (size_t j = 0; j < d; j++) t += X[l * d + j] * xq[j], xb[j] += X[l * d + j] / (double)L;
        s[l] = t;
    }
    double xbq = 0;
    for (size_t j = 0; j < d; j++) xbq += xb[j] * xq[j];
    /* two-head TF */
    double tf = 0, t2 = 0;
    for (size_t l = 0; l < L; l++) p[l] = omega * s[l];
    smx_softmax_f64(p, p, L);
    for (size_t l = 0; l < L; l++) tf += y[l] * p[l];
    for (size_t l = 0; l < L; l++) p[l] = -omega * s[l];
    smx_softmax_f64(p, p, L);
    for (size_t l = 0; l < L; l++) t2 += y[l] * p[l];
    out[E_TF2] = mu * (tf - t2) - yq;
    /* single head */
    double o1 = 1 / sqrt((double)d), m1 = sqrt((double)d) / (1 + (1 + s2) * ((double)d / EST_LTRAIN) * exp(1.0)), sh = 0;
    for (size_t l = 0; l < L; l++) p[l] = o1 * s[l];
    smx_softmax_f64(p, p, L);
    for (size_t l = 0; l < L; l++) sh += y[l] * p[l];
    out[E_SINGLE] = m1 * sh - yq;
    /* GD and debiased GD */
    double c = 2 * omega * mu / (double)L, g = 0, gb = 0;
    for (size_t l = 0; l < L; l++) g += y[l] * s[l], gb += y[l] * (s[l] - xbq);
    out[E_GD] = c * g - yq, out[E_DGD] = c * gb - yq;
    /* ridge: (X^T X + d s2 I) b = X^T y by Cholesky; Bayes risk s2 (1 + tr (.)^{-1}) */
    for (size_t a = 0; a < d; a++) {
        double t = 0;
        for (size_t l = 0; l < L; l++) t += X[l * d + a] * y[l];
        rhs[a] = t;
        for (size_t b = 0; b < d; b++) {
            double u = 0;
            for (size_t l = 0; l < L; l++) u += X[l * d + a] * X[l * d + b];
            G[a * d + b] = u + (a == b ? (double)d * s2 : 0);
        }
    }
    gsl_matrix_view Gm = gsl_matrix_view_array(G, d, d);
    gsl_vector_view bv = gsl_vector_view_array(rhs, d);
    gsl_linalg_cholesky_decomp1(&Gm.matrix); /* positive definite: d s2 > 0 */
    gsl_linalg_cholesky_svx(&Gm.matrix, &bv.vector);
    double rq = 0;
    for (size_t j = 0; j < d; j++) rq += rhs[j] * xq[j];
    out[E_RIDGE] = rq - yq;
    gsl_linalg_cholesky_invert(&Gm.matrix);
    double tr = 0;
    for (size_t j = 0; j < d; j++) tr += G[j * d + j];
    out[E_RIDGE_TH] = s2 * (1 + tr);
}

enum { O_OMEGA = SMX_OPT_FIRST_PRIVATE, O_MU, O_L, O_TASKS, O_D, O_SIGMA2 };

int icl_cmd_estimators(int argc, char **argv)
{
    static const char prog[] = "smx-icl estimators";
    static const struct option lopts[] = {
        {"omega", required_argument, 0, O_OMEGA}, {"mu", required_argument, 0, O_MU}, {"L", required_argument, 0, O_L},
        {"tasks", required_argument, 0, O_TASKS}, {"d", required_argument, 0, O_D},
        {"sigma2", required_argument, 0, O_SIGMA2}, ICL_COMMON_OPTIONS, {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    double omega = 0.13, mu = 3.45, s2 = 0.1;
    size_t Ls[64] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, nL = 10, d = 5;
    long tasks = -1;
    int opt;
    icl_opt_begin();
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_OMEGA: omega = smx_cli_double_or_fail(optarg, prog, "--omega");
            if (!(fabs(omega) < 1e3)) smx_cli_fail(prog, "--omega: must be finite, |omega| < 1000");
            break;
        case O_MU: mu = smx_cli_double_or_fail(optarg, prog, "--mu");
            if (!(fabs(mu) < 1e6)) smx_cli_fail(prog, "--mu: must be finite, |mu| < 1e6");
            break;
        case O_L: nL = icl_sizes_or_fail(Ls, 64, optarg, 1, 100000, prog, "--L"); break;
        case O_TASKS: tasks = smx_cli_long_or_fail(optarg, 2, 100000000, prog, "--tasks"); break;
        case O_D: d = (size_t)smx_cli_long_or_fail(optarg, 1, 1000, prog, "--d"); break;
        case O_SIGMA2: s2 = smx_cli_double_or_fail(optarg, prog, "--sigma2");
            if (!(s2 > 0 && s2 < 1e6)) smx_cli_fail(prog, "--sigma2: must be in (0, 1e6)");
            break;
        default:
            smx_cli_common_or_quiet(&c, NULL, opt, optarg, prog, usage, argc, argv);
        }
    }
    char outbuf[64];
    const char *out = icl_opt_end(&c, "icl-estimators", outbuf, sizeof outbuf, prog, argc, argv);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (tasks < 0) tasks = paper ? 200000 : 20000;
    size_t N = (size_t)tasks, Lmax = 0;
    for (size_t i = 0; i < nL; i++) Lmax = Ls[i] > Lmax ? Ls[i] : Lmax;
    double *res = malloc(nL * N * E_NV * sizeof *res);
    if (!res) smx_cli_fail(prog, "out of memory");
    size_t wlen = Lmax * d + 3 * Lmax + 4 * d + d * d;
#pragma omp parallel
    {
        double *w = malloc(wlen * sizeof *w);
        if (!w) abort(); /* a few kB */
#pragma omp for schedule(dynamic, 256)
        for (size_t t = 0; t < nL * N; t++) {
            size_t li = t / N, k = t % N;
            gsl_rng *r = smx_rng_alloc_stream(c.seed, li * 1000000000UL + k);
            est_task(res + t * E_NV, Ls[li], d, s2, omega, mu, r, w);
            gsl_rng_free(r);
        }
        free(w);
    }
    smx_tsv_t *tv = icl_tsv_open_or_fail(out, prog, &c, argc, argv);
    smx_tsv_meta(tv, "omega", "%.17g", omega);
    smx_tsv_meta(tv, "mu", "%.17g", mu);
    smx_tsv_meta(tv, "d", "%zu", d);
    smx_tsv_meta(tv, "sigma2", "%.17g", s2);
    smx_tsv_meta(tv, "tasks", "%zu", N);
    smx_tsv_meta(tv, "single_head", "omega = 1/sqrt(d), mu = sqrt(d) / (1 + (1 + sigma2)(d/%d) e), trained at L = %d",
                 EST_LTRAIN, EST_LTRAIN);
    smx_tsv_meta(tv, "paper_tf2_mse_L40", "0.2430 (He et al.; their trained H = 2 curve 0.341 adds 0.1 on top)");
    smx_tsv_meta(tv, "noise", "y_q's noise counted once in every MSE");
    smx_tsv_header(tv, "L\ttf2\tsingle\tgd\tdebiased_gd\tridge\ttf2_se\tsingle_se\tgd_se\tdebiased_gd_se\tridge_se\t"
                       "gd_theory\tridge_theory");
    (void)est_names;
    for (size_t li = 0; li < nL; li++) {
        double m[E_NV] = {0}, q[E_NV] = {0};
        for (size_t k = 0; k < N; k++) { /* fixed order: the same sums whatever --threads */
            const double *e = res + (li * N + k) * E_NV;
            for (int j = 0; j < E_RIDGE_TH; j++) m[j] += e[j] * e[j], q[j] += e[j] * e[j] * e[j] * e[j];
            m[E_RIDGE_TH] += e[E_RIDGE_TH];
        }
        smx_tsv_int(tv, (long long)Ls[li]);
        for (int j = 0; j < E_RIDGE_TH; j++) smx_tsv_num(tv, m[j] / (double)N);
        for (int j = 0; j < E_RIDGE_TH; j++) { /* std(e^2) / sqrt(N), std with N - 1 */
            double mean = m[j] / (double)N, var = (q[j] - (double)N * mean * mean) / (double)(N - 1);
            smx_tsv_num(tv, sqrt(fmax(var, 0) / (double)N));
        }
        double L = (double)Ls[li], cc = 2 * omega * mu / L;
        smx_tsv_num(tv, cc * cc * L * (L + (double)d + 1) - 2 * cc * L + 1 + cc * cc * s2 * L * (double)d + s2);
        smx_tsv_num(tv, m[E_RIDGE_TH] / (double)N);
        smx_tsv_endrow(tv);
    }
    free(res);
    return icl_tsv_close_or_fail(tv, out, prog);
}
