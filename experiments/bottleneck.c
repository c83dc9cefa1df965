/* bottleneck.c - smx-bottleneck: the softmax bottleneck (issue 15, science/bottleneck.md).
 * Subcommands in bottleneck_*.c. */
#include "bottleneck_cmds.h"
#include "smx.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: smx-bottleneck COMMAND [OPTIONS]   (smx-bottleneck COMMAND --help for its options)\n"
    "The softmax bottleneck: log-probabilities of a softmax head with hidden size d have clr rank <= d\n"
    "(d + 1 with a bias); hidden-size recovery from outputs (Finlayson et al. 2024) and unargmaxable\n"
    "classes of low-rank heads (Grivas et al. 2022).\n"
    "Commands:\n"
    "  recover   hidden size from stacked full outputs: spectra, estimate vs #outputs and output precision;\n"
    "            recover --file F estimates it for a user's matrix of log-probs\n"
    "  argmax    fraction of unargmaxable classes vs d (Chebyshev-centre LP, exact certificates);\n"
    "            argmax --file F [--bias-file G] checks a user's W\n"
    "  bench     SVD (LAPACK vs GSL) and LP timings\n"
    "  rank      softmax and MoS fits of a synthetic target: numerical ranks (and KL) of the fitted log-probs\n"
    "  bat       the V = 3, d = 1 image curve in the simplex and the BAT support test along it\n"
    "  kl        optimised KL vs d beside the Eckart-Young envelope, KL vs the normalised spectral tail\n"
    "Options: --help, --version\n" SMX_CLI_EXIT_HELP;

int main(int argc, char **argv)
{
    static const smx_cli_cmd_t cmds[] = {
        {"recover", bottleneck_cmd_recover}, {"argmax", bottleneck_cmd_argmax}, {"bench", bottleneck_cmd_bench},
        {"rank", bottleneck_cmd_rank},       {"kl", bottleneck_cmd_kl},         {"bat", bottleneck_cmd_bat}};
    return smx_cli_dispatch("smx-bottleneck", usage, cmds, sizeof cmds / sizeof cmds[0], NULL, argc, argv);
}
