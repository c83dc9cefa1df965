/* bottleneck_rank.c - smx-bottleneck rank: softmax-bottleneck fits of a synthetic target (Yang et al. 2018;
 * science/bottleneck.md "Core math"). Target A = log softmax(U) with clr(A) = U of a prescribed spectrum:
 * known rank r* (sigma_k = c for k <= r*, 0 after) or sigma_k = c k^-alpha. For each d: minimise
 * mean_i KL(p*_i || softmax(h_i W^T + b)) over H (N x d), W (V x d), b (V) with GSL's L-BFGS (vector_bfgs2),
 * started from the truncated SVD of clr(A) (H = U_d S_d, W = V_d, b = 0); report the KL at the start and
 * the optimum beside the envelope (m/2N) sum_{i>d} sigma_i^2 <= min KL <= (1/4N) sum_{i>d} sigma_i^2,
 * m = min over entries of min(p*, q), the normalised tail sqrt(sum_{i>d} sigma_i^2 / sum sigma_i^2), and the
 * numerical rank (sigma_i > tol sigma_1) of the fitted log-probabilities, raw and as Yang's code returns
 * them, log(q + 1e-8). Mixture of Softmaxes fits in bottleneck_mos.c (per-context free h_ik and mixture logits,
 * the default) and bottleneck_mix.c (Yang et al.'s parameterisation, --mos-param yang; also the Mixture of
 * Contexts, --moc-k). */
#include "bottleneck_cmds.h"
#include "lse.h"
#include "smx.h"
#include "svd.h"
#include "tsv.h"
#include "rng.h"
#include "machine.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bottleneck_target(double *A, double *sig, gsl_rng *r, size_t n, size_t v, int kind, double param)
{
    /* G Gaussian, clr'd (rows sum to 0), thin SVD, singular values replaced, U = Q1 diag(s) Q2^T */
    size_t k = n < v ? n : v;
    double *G = malloc(n * v * sizeof *G), *u = malloc(n * k * sizeof *u), *vt = malloc(k * v * sizeof *vt);
    if (!G || !u || !vt) {
        free(G), free(u), free(vt);
        return SMX_ENOMEM;
    }
    for (size_t i = 0; i < n * v; i++) G[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    bottleneck_clr(G, G, n, v);
    int st = smx_svd_thin(u, sig, vt, G, n, v);
    if (st) {
        free(G), free(u), free(vt);
        return st;
    }
    /* the clr's zero direction (all-ones) is the last right singular vector: keep at most v - 1 values */
    double ss = 0;
    for (size_t i = 0; i < k; i++) {
        double s = kind == 0 ? (i < (size_t)param ? 1.0 : 0.0) : pow((double)(i + 1), -param);
        sig[i] = i + 1 < v ? s : 0;
        ss += sig[i] * sig[i];
    }
    /* scale: sum sigma^2 = 4 N V, i.e. clr logits of standard deviation 2 per entry */
    for (size_t i = 0; i < k; i++) sig[i] *= sqrt(4.0 * (double)n * (double)v / ss);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < v; j++) {
            double a = 0;
            for (size_t l = 0; l < k; l++) a += u[i * k + l] * sig[l] * vt[l * v + j];
            A[i * v + j] = a;
        }
    for (size_t i = 0; i < n; i++) { /* A = log softmax(U) */
        double m = smx_lse_f64(A + i * v, v);
        for (size_t j = 0; j < v; j++) A[i * v + j] -= m;
    }
    free(G), free(u), free(vt);
    return SMX_OK;
}

/* ---- the softmax fit ---- */
typedef struct {
    size_t n, v, d;
    const double *P, *logP; /* target probabilities and log-probabilities (n x v) */
    double *Z, *G;          /* logits / gradient w.r.t. the logits (n x v) */
} fit_t;

/* theta = [H (n x d) | W (v x d) | b (v)]; f = (1/n) sum_ij p_ij (log p_ij - log q_ij) */
static double fit_fdf(const gsl_vector *th, void *par, gsl_vector *grad)
{
    fit_t *F = par;
    const size_t n = F->n, v = F->v, d = F->d;
    const double *H = th->data, *W = H + n * d, *b = W + v * d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)v, (int)d, 1.0, H, (int)d, W, (int)d, 0.0, F->Z,
                (int)v);
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double *z = F->Z + i * v, *g = F->G + i * v;
        for (size_t j = 0; j < v; j++) z[j] += b[j];
        double m = smx_lse_f64(z, v);
        for (size_t j = 0; j < v; j++) {
            double lq = z[j] - m, p = F->P[i * v + j];
            if (p > 0) f += p * (F->logP[i * v + j] - lq);
            g[j] = (exp(lq) - p) / (double)n; /* d f / d z_ij = (q_ij - p_ij) / n */
        }
    }
    if (grad) {
        double *gH = grad->data, *gW = gH + n * d, *gb = gW + v * d;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)v, 1.0, F->G, (int)v, W, (int)d,
                    0.0, gH, (int)d);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)v, (int)d, (int)n, 1.0, F->G, (int)v, H, (int)d, 0.0,
                    gW, (int)d);
        for (size_t j = 0; j < v; j++) gb[j] = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < v; j++) gb[j] += F->G[i * v + j];
    }
    return f / (double)n;
}
static double fit_f(const gsl_vector *th, void *par) { return fit_fdf(th, par, NULL); }
static void fit_df(const gsl_vector *th, void *par, gsl_vector *g) { fit_fdf(th, par, g); }
static void fit_both(const gsl_vector *th, void *par, double *f, gsl_vector *g) { *f = fit_fdf(th, par, g); }

int bottleneck_fit_softmax(double *Lfit, double *kl_init, double *kl_opt, const double *A, const double *U_u,
                           const double *U_s, const double *U_vt, size_t n, size_t v, size_t d, int iters)
{
    size_t k = n < v ? n : v, np = n * d + v * d + v;
    double *P = malloc(n * v * sizeof *P), *Z = malloc(n * v * sizeof *Z), *G = malloc(n * v * sizeof *G);
    gsl_vector *th = gsl_vector_alloc(np);
    gsl_multimin_fdfminimizer *M = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, np);
    if (!P || !Z || !G || !th || !M) {
        free(P), free(Z), free(G);
        if (th) gsl_vector_free(th);
        if (M) gsl_multimin_fdfminimizer_free(M);
        return SMX_ENOMEM;
    }
    for (size_t i = 0; i < n * v; i++) P[i] = exp(A[i]);
    /* start: truncated SVD of clr(A): H = U_d S_d, W = V_d, b = 0 */
    double *H = th->data, *W = H + n * d, *b = W + v * d;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < d; l++) H[i * d + l] = l < k ? U_u[i * k + l] * U_s[l] : 0;
    for (size_t j = 0; j < v; j++)
        for (size_t l = 0; l < d; l++) W[j * d + l] = l < k ? U_vt[l * v + j] : 0;
    for (size_t j = 0; j < v; j++) b[j] = 0;
    fit_t F = {n, v, d, P, A, Z, G};
    gsl_multimin_function_fdf fn = {fit_f, fit_df, fit_both, np, &F};
    *kl_init = fit_f(th, &F);
    gsl_multimin_fdfminimizer_set(M, &fn, th, 0.1, 0.1);
    for (int it = 0; it < iters; it++) {
        if (gsl_multimin_fdfminimizer_iterate(M)) break;
        if (gsl_multimin_test_gradient(M->gradient, 1e-10) == GSL_SUCCESS) break;
    }
    *kl_opt = fmin(M->f, *kl_init);
    const gsl_vector *best = M->f <= *kl_init ? M->x : th;
    fit_f(best, &F); /* Z = the fitted logits */
    for (size_t i = 0; i < n; i++) {
        double m = smx_lse_f64(Z + i * v, v);
        for (size_t j = 0; j < v; j++) Lfit[i * v + j] = Z[i * v + j] - m;
    }
    gsl_multimin_fdfminimizer_free(M);
    gsl_vector_free(th);
    free(P), free(Z), free(G);
    return SMX_OK;
}

/* ---- subcommand ---- */
static size_t numrank(const double *s, size_t k, double tol)
{
    size_t r = 0;
    for (size_t i = 0; i < k; i++) r += s[i] > tol * s[0];
    return r;
}

static const char *prog = "smx-bottleneck rank";
static const char usage[] =
    "Usage: smx-bottleneck rank [OPTIONS]\n"
    "Softmax fits (H W^T + b, hidden size d) of a synthetic target A = log softmax(U), clr(A) = U with a\n"
    "prescribed spectrum: known rank r* ('rank:R', equal singular values) or sigma_k ~ k^-alpha ('power:A'),\n"
    "scaled to clr logits of standard deviation 2. Mean KL(p* || q) minimised by GSL L-BFGS (vector_bfgs2)\n"
    "from the truncated SVD of clr(A); KL at start and optimum beside the envelope (m/2N) tail^2 <= KL <=\n"
    "(1/4N) tail^2; numerical ranks of the fitted log-probs (sigma_i > tol sigma_1, tol 1e-4, 1e-8, 1e-12)\n"
    "raw and floored as log(q + 1e-8) (Yang et al.'s code). Mixture of Softmaxes (MoS, K components, one\n"
    "shared decoder W with bias b) and Mixture of Contexts (MoC, Yang's baseline: softmax((sum_k pi_k h_k) W^T\n"
    "+ b), log-probs of rank <= d + 2) fitted the same way.\n"
    "  --mos-param LIST  free (default): per-context free h_ik and mixture logits, a superset of Yang's\n"
    "                form for a fixed set of contexts (the most a K-component MoS of hidden size d can reach; the\n"
    "                model column 'mosK'); yang: pi = softmax(W_pi g) without bias, h_k = tanh(W_k g + c_k)\n"
    "                (Yang's code: Linear with bias + Tanh) from free context vectors g_i in R^d (Yang's\n"
    "                g is the RNN output, width nhidlast; we take d), model 'mosK-yang'. free,yang: both\n"
    "  --moc-k LIST  MoC component counts (default 3; 0: none), Yang's parameterisation (with free h_ik\n"
    "                a MoC is just a softmax), model 'mocK'\n"
    "  --outputs N   contexts (quick 120, paper 400)     --vocab V   tokens (quick 100, paper 300)\n"
    "  --targets LIST  default rank:40,power:1\n"
    "  --dims LIST   hidden sizes (default 1,2,4,8,12,16,24,32,40,48,64,80)\n"
    "  --iters K     L-BFGS iterations per fit (quick 200, paper 2000)\n"
    "  --mos-k LIST  MoS component counts (default 3; 0: none)\n"
    "  --seed N --out FILE (default data/PROFILE/bottleneck-rank.tsv) --profile quick|paper --threads N\n"
    "  --quiet (no progress or timings on stderr) --help --version\n";

enum { O_N = SMX_OPT_FIRST_PRIVATE, O_V, O_T, O_DIMS, O_IT, O_MOS, O_MOSP, O_MOC };

static const char usage_kl[] =
    "Usage: smx-bottleneck kl [OPTIONS]\n"
    "Optimised mean KL(p* || softmax) vs hidden size d beside the Eckart-Young envelope\n"
    "(m/2N) sum_{i>d} sigma_i^2 <= min KL <= (1/4N) sum_{i>d} sigma_i^2 of clr(A), and KL vs the normalised\n"
    "spectral tail sqrt(sum_{i>d} sigma_i^2 / sum sigma_i^2) (figures bottleneck-kl, bottleneck-kl-vs-tail).\n"
    "The same fits, options and columns as 'smx-bottleneck rank' (its help follows), written to\n"
    "data/PROFILE/bottleneck-kl.tsv by default.\n";

static int rank_or_kl(int argc, char **argv, int kl);

int bottleneck_cmd_rank(int argc, char **argv) { return rank_or_kl(argc, argv, 0); }
int bottleneck_cmd_kl(int argc, char **argv) { return rank_or_kl(argc, argv, 1); }

static int rank_or_kl(int argc, char **argv, int kl)
{
    if (kl) prog = "smx-bottleneck kl";
    static const struct option lopts[] = {{"outputs", required_argument, 0, O_N},
                                          {"vocab", required_argument, 0, O_V},
                                          {"targets", required_argument, 0, O_T},
                                          {"dims", required_argument, 0, O_DIMS},
                                          {"iters", required_argument, 0, O_IT},
                                          {"mos-k", required_argument, 0, O_MOS},
                                          {"mos-param", required_argument, 0, O_MOSP},
                                          {"moc-k", required_argument, 0, O_MOC},
                                          BOTTLENECK_COMMON_OPTIONS,
                                          {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    long N = -1, V = -1, iters = -1;
    int quiet = 0;
    double dims[32];
    size_t nd = smx_cli_doubles_or_fail(dims, 32, "1,2,4,8,12,16,24,32,40,48,64,80", 1, 100000, prog, "--dims");
    int kind[8];
    double param[8], mosk[4];
    size_t nmos = smx_cli_doubles_or_fail(mosk, 4, "3", 0, 64, prog, "--mos-k");
    double mock[4];
    size_t nmoc = smx_cli_doubles_or_fail(mock, 4, "3", 0, 64, prog, "--moc-k");
    int mos_free = 1, mos_yang = 0;
    const char *mosp = "free";
    size_t nt = 0;
    const char *tspec = "rank:40,power:1";
    int opt;
    optind = 1, opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_N: N = smx_cli_long_or_fail(optarg, 2, 20000, prog, "--outputs"); break;
        case O_V: V = smx_cli_long_or_fail(optarg, 3, 20000, prog, "--vocab"); break;
        case O_T: tspec = optarg; break;
        case O_DIMS:
            nd = smx_cli_doubles_or_fail(dims, 32, optarg, 1, 100000, prog, "--dims");
            for (size_t k = 0; k < nd; k++)
                if (dims[k] != floor(dims[k])) smx_cli_fail(prog, "--dims: %g is not an integer", dims[k]);
            break;
        case O_IT: iters = smx_cli_long_or_fail(optarg, 0, 1000000, prog, "--iters"); break;
        case O_MOS:
            nmos = smx_cli_doubles_or_fail(mosk, 4, optarg, 0, 64, prog, "--mos-k");
            for (size_t q = 0; q < nmos; q++)
                if (mosk[q] != floor(mosk[q])) smx_cli_fail(prog, "--mos-k: %g is not an integer", mosk[q]);
            if (nmos == 1 && mosk[0] == 0) nmos = 0;
            break;
        case O_MOC:
            nmoc = smx_cli_doubles_or_fail(mock, 4, optarg, 0, 64, prog, "--moc-k");
            for (size_t q = 0; q < nmoc; q++)
                if (mock[q] != floor(mock[q]) || (mock[q] == 0 && nmoc > 1))
                    smx_cli_fail(prog, "--moc-k: %g is not a positive integer", mock[q]);
            if (nmoc == 1 && mock[0] == 0) nmoc = 0;
            break;
        case O_MOSP:
            mosp = optarg;
            if (!strcmp(optarg, "free")) mos_free = 1, mos_yang = 0;
            else if (!strcmp(optarg, "yang")) mos_free = 0, mos_yang = 1;
            else if (!strcmp(optarg, "free,yang") || !strcmp(optarg, "yang,free")) mos_free = mos_yang = 1;
            else smx_cli_fail(prog, "--mos-param: '%s' is not free, yang or free,yang", optarg);
            break;
        default:
            if (kl && opt == SMX_OPT_HELP) fputs(usage_kl, stdout);
            smx_cli_common_or_quiet(&c, &quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", tspec);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            double x;
            if (nt == 8) smx_cli_fail(prog, "--targets: at most 8");
            if (!strncmp(tok, "rank:", 5) && !smx_cli_double(&x, tok + 5) && x >= 1 && x == floor(x)) kind[nt] = 0;
            else if (!strncmp(tok, "power:", 6) && !smx_cli_double(&x, tok + 6) && x > 0 && x < 20) kind[nt] = 1;
            else smx_cli_fail(prog, "--targets: '%s' is not rank:R (integer R >= 1) or power:A (0 < A < 20)", tok);
            param[nt++] = x;
        }
        if (!nt) smx_cli_fail(prog, "--targets: empty list");
    }
    bottleneck_threads(c.threads);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (N < 0) N = paper ? 400 : 120;
    if (V < 0) V = paper ? 300 : 100;
    if (iters < 0) iters = paper ? 2000 : 200;
    /* models per (target, d): softmax, the free MoS, Yang's MoS, MoC (in this order) */
    const size_t nfree = mos_free ? nmos : 0, nyang = mos_yang ? nmos : 0;
    const size_t n = (size_t)N, v = (size_t)V, k = n < v ? n : v, nm = 1 + nfree + nyang + nmoc, ntask = nt * nd * nm;
    const char *out = c.out             ? c.out
                      : kl && paper     ? "data/paper/bottleneck-kl.tsv"
                      : kl              ? "data/quick/bottleneck-kl.tsv"
                      : paper           ? "data/paper/bottleneck-rank.tsv"
                                        : "data/quick/bottleneck-rank.tsv";
    {
        /* memory estimate, dominant arrays only: per target A (n x v), its SVD U (n x k) and V^T (k x v); while
         * building, one clr copy (n x v) and LAPACK's SVD workspace (about one more n x v); per thread L
         * (n x v) and the largest fit's workspace: softmax P, Z, G (3 n x v) or a K-component MoS/MoC
         * P, M, G, Z and K component matrices ((4 + K) n x v, bottleneck_mos.c / bottleneck_mix.c) */
        double kmax = 0, nv = (double)n * (double)v;
        for (size_t q = 0; q < nmos; q++) kmax = fmax(kmax, mosk[q]);
        for (size_t q = 0; q < nmoc; q++) kmax = fmax(kmax, mock[q]);
        double bytes = 8.0 * ((double)nt * (nv + (double)k * (double)(n + v)) + 2.0 * nv +
                              (double)omp_get_max_threads() * (1.0 + fmax(3.0, 4.0 + kmax)) * nv);
        smx_cli_mem_or_fail(bytes, "--outputs x --vocab x --targets x --threads", prog);
    }
    smx_cli_out_check_or_fail(out, prog, "--out");
    /* targets (sequential: one RNG stream per target) and their clr SVDs */
    double *A = malloc(nt * n * v * sizeof *A), *sig = malloc(nt * k * sizeof *sig), *uu = malloc(nt * n * k * sizeof *uu),
           *ss = malloc(nt * k * sizeof *ss), *vt = malloc(nt * k * v * sizeof *vt), *tr = malloc(nt * k * sizeof *tr);
    double *res = calloc(ntask * 16, sizeof *res);
    if (!A || !sig || !uu || !ss || !vt || !tr || !res) smx_cli_fail(prog, "out of memory");
    for (size_t t = 0; t < nt; t++) {
        gsl_rng *r = smx_rng_alloc_stream(c.seed, t);
        double *U = malloc(n * v * sizeof *U);
        if (!U || bottleneck_target(A + t * n * v, sig + t * k, r, n, v, kind[t], param[t]))
            smx_cli_fail(prog, "building target %zu failed", t);
        bottleneck_clr(U, A + t * n * v, n, v);
        smx_svd_thin(uu + t * n * k, ss + t * k, vt + t * k * v, U, n, v);
        smx_svd_values(tr + t * k, A + t * n * v, n, v, SMX_SVD_LAPACK);
        free(U);
        gsl_rng_free(r);
    }
    double t0 = smx_time_now();
    int fail = 0;
#pragma omp parallel
    {
        double *L = malloc(n * v * sizeof *L), *s = malloc(k * sizeof *s);
#pragma omp for schedule(dynamic)
        for (size_t task = 0; task < ntask; task++) {
            size_t t = task / (nd * nm), d = (size_t)dims[(task / nm) % nd], mi = task % nm;
            double *q = res + task * 16, ki = NAN, ko;
            int st = 1;
            if (L && s && mi == 0)
                st = bottleneck_fit_softmax(L, &ki, &ko, A + t * n * v, uu + t * n * k, ss + t * k, vt + t * k * v, n, v,
                                            d, (int)iters);
            else if (L && s && mi <= nfree) {
                /* MoS start perturbation: stream 1000 + the task index among (softmax, free MoS) models, as before
                 * Yang's MoS and MoC existed (same bytes for these rows) */
                gsl_rng *rr = smx_rng_alloc_stream(c.seed, 1000 + (task / nm) * (1 + nfree) + mi);
                st = bottleneck_fit_mos(L, &ko, A + t * n * v, uu + t * n * k, ss + t * k, vt + t * k * v, n, v, d,
                                        (size_t)mosk[mi - 1], (int)iters, rr);
                gsl_rng_free(rr);
            } else if (L && s) {
                int moc = mi > nfree + nyang;
                size_t K = (size_t)(moc ? mock[mi - 1 - nfree - nyang] : mosk[mi - 1 - nfree]);
                gsl_rng *rr = smx_rng_alloc_stream(c.seed, 2000000 + task); /* Yang MoS / MoC start */
                st = bottleneck_fit_mix(L, &ko, A + t * n * v, uu + t * n * k, ss + t * k, vt + t * k * v, n, v, d, K,
                                        moc, (int)iters, rr);
                gsl_rng_free(rr);
            }
            if (st) {
#pragma omp atomic write
                fail = 1;
                continue;
            }
            double tail = 0, tot = 0, m = 1;
            for (size_t i = 0; i < k; i++) tot += ss[t * k + i] * ss[t * k + i], tail += i >= d ? ss[t * k + i] * ss[t * k + i] : 0;
            for (size_t i = 0; i < n * v; i++) m = fmin(m, fmin(exp(A[t * n * v + i]), exp(L[i])));
            q[0] = ki, q[1] = ko, q[2] = m / (2.0 * (double)n) * tail, q[3] = tail / (4.0 * (double)n);
            if (mi > 0) q[2] = q[3] = NAN; /* the envelope is the softmax's */
            q[4] = sqrt(tail / tot);
            smx_svd_values(s, L, n, v, SMX_SVD_LAPACK);
            q[5] = (double)numrank(s, k, 1e-4), q[6] = (double)numrank(s, k, 1e-8), q[7] = (double)numrank(s, k, 1e-12);
            for (size_t i = 0; i < n * v; i++) L[i] = log(exp(L[i]) + 1e-8); /* Yang et al.'s log(p + 1e-8) */
            smx_svd_values(s, L, n, v, SMX_SVD_LAPACK);
            q[8] = (double)numrank(s, k, 1e-4), q[9] = (double)numrank(s, k, 1e-8), q[10] = (double)numrank(s, k, 1e-12);
            q[11] = m;
        }
        free(L), free(s);
    }
    if (!quiet) fprintf(stderr, "%s: %zu fits in %.2f s\n", prog, ntask, smx_time_now() - t0);
    if (fail) smx_cli_fail(prog, "a fit failed (out of memory)");
    smx_tsv_t *ts = bottleneck_tsv_open_or_fail(out, prog, &c, argc, argv);
    smx_tsv_meta(ts, "outputs", "%zu", n);
    smx_tsv_meta(ts, "vocab", "%zu", v);
    smx_tsv_meta(ts, "targets", "%s", tspec);
    smx_tsv_meta(ts, "iters", "%ld", iters);
    {
        FILE *f = smx_tsv_stream(ts);
        fputs("# mos_k:", f);
        for (size_t q = 0; q < nmos; q++) fprintf(f, " %g", mosk[q]);
        fputc('\n', f);
        if (nyang || nmoc) { /* new lines only when the new models run: the free-MoS-only file keeps its bytes */
            fprintf(f, "# mos_param: %s (free: per-context h_ik and mixture logits; yang: pi = softmax(W_pi g), h_k = "
                       "tanh(W_k g + c_k), context vectors g_i in R^d free)\n# moc_k:", mosp);
            for (size_t q = 0; q < nmoc; q++) fprintf(f, " %g", mock[q]);
            fputs(" (Yang's parameterisation: P = softmax((sum_k pi_k h_k) W^T + b))\n", f);
        }
    }
    smx_tsv_meta(ts, "paper_reference", "Yang et al. 2018 Table 6 (PTB, V = 10k): numerical rank Softmax 400, MoC 280, "
                                        "MoS 9981 (d for the first two); science/bottleneck.md: actual KL optimum ~100x "
                                        "below the upper envelope in a test");
    for (size_t t = 0; t < nt; t++) {
        FILE *f = smx_tsv_stream(ts);
        fprintf(f, "# target %zu (%s:%g): numerical rank of A (tol 1e-4, 1e-8, 1e-12): %zu %zu %zu\n", t,
                kind[t] ? "power" : "rank", param[t], numrank(tr + t * k, k, 1e-4), numrank(tr + t * k, k, 1e-8),
                numrank(tr + t * k, k, 1e-12));
    }
    smx_tsv_header(ts, "target\tmodel\td\tkl_init\tkl_opt\tenv_lower\tenv_upper\ttail\trank_1e-4\trank_1e-8\trank_1e-12\t"
                       "rank_floor_1e-4\trank_floor_1e-8\trank_floor_1e-12\tm");
    for (size_t task = 0; task < ntask; task++) {
        size_t t = task / (nd * nm), mi = task % nm;
        char name[32], model[40];
        snprintf(name, sizeof name, "%s:%g", kind[t] ? "power" : "rank", param[t]);
        if (mi == 0) snprintf(model, sizeof model, "softmax");
        else if (mi <= nfree) snprintf(model, sizeof model, "mos%g", mosk[mi - 1]);
        else if (mi <= nfree + nyang) snprintf(model, sizeof model, "mos%g-yang", mosk[mi - 1 - nfree]);
        else snprintf(model, sizeof model, "moc%g", mock[mi - 1 - nfree - nyang]);
        smx_tsv_str(ts, name), smx_tsv_str(ts, model), smx_tsv_int(ts, (long long)dims[(task / nm) % nd]);
        const double *q = res + task * 16;
        for (int i = 0; i < 5; i++) smx_tsv_num(ts, q[i]);
        for (int i = 5; i < 11; i++) smx_tsv_int(ts, (long long)q[i]);
        smx_tsv_num(ts, q[11]);
        smx_tsv_endrow(ts);
    }
    free(A), free(sig), free(uu), free(ss), free(vt), free(tr), free(res);
    int st = smx_tsv_close(ts);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out);
    if (st) fprintf(stderr, "%s: writing %s: %s\n", prog, out, smx_strerror(st));
    return st ? SMX_EXIT_FAILURE : 0;
}
