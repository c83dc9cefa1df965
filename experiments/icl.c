/* icl.c - smx-icl: in-context learning, softmax regression and multi-head softmax attention (issue 14,
 * science/icl_softmax_regression.md). Subcommands in icl_*.c. */
#include "icl_cmds.h"
#include "smx.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: smx-icl COMMAND [OPTIONS]   (smx-icl COMMAND --help for its options)\n"
    "In-context learning and softmax regression: Li et al. (arXiv 2304.13276), He et al. (ICML 2025),\n"
    "von Oswald et al. (ICML 2023).\n"
    "Commands:\n"
    "  check       softmax regression L(x) = 0.5 ||softmax(Ax) - b||^2: gradient and Hessian vs finite\n"
    "              differences and MPFR as the scale R of Ax grows; --print FILE evaluates one problem\n"
    "  lipschitz   measured Lipschitz constants of softmax(Ax) in x and in A vs M = n^1.5 exp(10 R^2) and 0.5 R\n"
    "  shift       induced target shift ||b~ - b|| of one GD step and of one softmax self-attention update\n"
    "  gd          GD and Newton on L: loss, gradient norm, Hessian eigenvalue range along the path\n"
    "  estimators  test MSE vs prompt length of the closed-form predictors of He et al. (two-head TF,\n"
    "              single head, GD, debiased GD, ridge)\n"
    "  multihead   H-head softmax attention trained on in-context linear regression (He et al.): omega, mu,\n"
    "              KQ / OV patterns, test MSE vs prompt length\n"
    "  linear-gd   linear self-attention trained on in-context regression vs one GD step (von Oswald et al.):\n"
    "              Preds Diff, Model Diff, Model Cos vs training step\n"
    "  closeness   a softmax self-attention layer vs softmax regression with one GD step (Li et al. Fig 1-2)\n"
    "Options: --help, --version\n" SMX_CLI_EXIT_HELP;

int main(int argc, char **argv)
{
    static const smx_cli_cmd_t cmds[] = {
        {"check", icl_cmd_check},           {"lipschitz", icl_cmd_lipschitz}, {"shift", icl_cmd_shift},
        {"gd", icl_cmd_gd},                 {"estimators", icl_cmd_estimators},
        {"multihead", icl_cmd_multihead},   {"linear-gd", icl_cmd_linear_gd}, {"closeness", icl_cmd_closeness}};
    return smx_cli_dispatch("smx-icl", usage, cmds, sizeof cmds / sizeof cmds[0], NULL, argc, argv);
}
