/* bottleneck_bat.c - smx-bottleneck bat: the image of a V = 3, d = 1 softmax head in the probability simplex
 * (a curve: softmax(x w), x in R, science/bottleneck.md "Figures") and the basis-aware threshold (BAT) support
 * test of Finlayson et al. (ICLR 2024) along it, beside plain threshold sampling (accept iff phat_i >= tau).
 * BAT (solvers/lp.h smx_lp_bat_accept): accept i iff {p >= 0, W^T p = W^T phat, sum p = 1, p_i = 0,
 * p <= phat/(1 - tau)} is infeasible. No bias: the constraint W^T p = W^T phat is the brief's. */
#include "bottleneck_cmds.h"
#include "lp.h"
#include "lse.h"
#include "smx.h"
#include "tsv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char prog[] = "smx-bottleneck bat";
static const char usage[] =
    "Usage: smx-bottleneck bat [OPTIONS]\n"
    "V = 3, d = 1 head w = (W1, W2, W3): the curve softmax(x w), x in [-X, X], in the simplex (barycentric\n"
    "coordinates sx = p2 + p3/2, sy = p3 sqrt(3)/2), and for each token whether BAT (LP feasibility, GLPK, its\n"
    "default tolerance 1e-7) and threshold sampling (phat_i >= tau) accept it.\n"
    "  --w LIST      the head (default 2.385,-0.5,-1.7)\n"
    "  --tau T       threshold (default 0.05)\n"
    "  --xmax X      range of x (default 4)   --points K   grid points (default 401)\n"
    "  --seed N --out FILE (default data/PROFILE/bottleneck-bat.tsv) --profile quick|paper --threads N\n"
    "  --quiet (accepted; bat prints no progress) --help --version\n";

enum { O_W = SMX_OPT_FIRST_PRIVATE, O_TAU, O_XMAX, O_PTS };

int bottleneck_cmd_bat(int argc, char **argv)
{
    static const struct option lopts[] = {{"w", required_argument, 0, O_W},
                                          {"tau", required_argument, 0, O_TAU},
                                          {"xmax", required_argument, 0, O_XMAX},
                                          {"points", required_argument, 0, O_PTS},
                                          BOTTLENECK_COMMON_OPTIONS,
                                          {0, 0, 0, 0}};
    smx_cli_common_t c;
    smx_cli_common_init(&c);
    double w[3], tau = 0.05, xmax = 4;
    long pts = 401;
    int quiet = 0;
    smx_cli_doubles_or_fail(w, 3, "2.385,-0.5,-1.7", -100, 100, prog, "--w");
    int opt;
    optind = 1, opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case O_W:
            if (smx_cli_doubles_or_fail(w, 3, optarg, -100, 100, prog, "--w") != 3)
                smx_cli_fail(prog, "--w: need 3 values");
            break;
        case O_TAU:
            tau = smx_cli_double_or_fail(optarg, prog, "--tau");
            if (!(tau > 0 && tau < 1)) smx_cli_fail(prog, "--tau: '%s' is not in (0, 1)", optarg);
            break;
        case O_XMAX:
            xmax = smx_cli_double_or_fail(optarg, prog, "--xmax");
            if (!(xmax > 0 && xmax <= 100)) smx_cli_fail(prog, "--xmax: '%s' is not in (0, 100]", optarg);
            break;
        case O_PTS: pts = smx_cli_long_or_fail(optarg, 2, 100000, prog, "--points"); break;
        default:
            smx_cli_common_or_quiet(&c, &quiet, opt, optarg, prog, usage, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, prog);
    const char *out = c.out ? c.out : c.profile == SMX_PROFILE_PAPER ? "data/paper/bottleneck-bat.tsv"
                                                                       : "data/quick/bottleneck-bat.tsv";
    smx_tsv_t *t = bottleneck_tsv_open_or_fail(out, prog, &c, argc, argv);
    smx_tsv_meta(t, "w", "%.17g,%.17g,%.17g", w[0], w[1], w[2]);
    smx_tsv_meta(t, "tau", "%.17g", tau);
    smx_tsv_meta(t, "xmax", "%.17g", xmax);
    smx_tsv_meta(t, "points", "%ld", pts);
    smx_tsv_meta(t, "paper_reference", "Finlayson et al. ICLR 2024 (BAT): tokens below the threshold can be accepted when "
                                        "the low-rank constraint W^T p = W^T phat forces them to have mass");
    smx_tsv_header(t, "x\tp1\tp2\tp3\tsx\tsy\tbat1\tbat2\tbat3\tthr1\tthr2\tthr3");
    int st = SMX_OK;
    for (long k = 0; k < pts && !st; k++) {
        double x = -xmax + 2 * xmax * (double)k / (double)(pts - 1), z[3], p[3];
        for (int j = 0; j < 3; j++) z[j] = x * w[j];
        double m = smx_lse_f64(z, 3);
        for (int j = 0; j < 3; j++) p[j] = exp(z[j] - m);
        smx_tsv_num(t, x);
        for (int j = 0; j < 3; j++) smx_tsv_num(t, p[j]);
        smx_tsv_num(t, p[1] + 0.5 * p[2]), smx_tsv_num(t, p[2] * sqrt(3.0) / 2);
        int acc[3];
        for (int j = 0; j < 3 && !st; j++) st = smx_lp_bat_accept(&acc[j], w, p, 3, 1, (size_t)j, tau);
        for (int j = 0; j < 3; j++) smx_tsv_int(t, st ? -1 : acc[j]);
        for (int j = 0; j < 3; j++) smx_tsv_int(t, p[j] >= tau);
        smx_tsv_endrow(t);
    }
    smx_lp_thread_done();
    if (st) {
        smx_tsv_abort(t);
        fprintf(stderr, "%s: LP failed: %s\n", prog, smx_strerror(st));
        return 1;
    }
    st = smx_tsv_close(t);
    if (st == SMX_EIO) smx_cli_io_fail(prog, "--out: cannot write", out);
    if (st) fprintf(stderr, "%s: writing %s: %s\n", prog, out, smx_strerror(st));
    return st ? SMX_EXIT_FAILURE : 0;
}
