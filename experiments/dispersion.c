/* dispersion.c - smx-dispersion: softmax must disperse at scale; adaptive temperature and
 * Scalable-Softmax (issue 3, science/dispersion.md). Subcommands in dispersion_*.c. */
#include "dispersion_cmds.h"
#include "cli.h"
#include "smx.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: smx-dispersion COMMAND [OPTIONS]   (smx-dispersion COMMAND --help for its options)\n"
    "Softmax dispersion at scale (Velickovic et al. 2024), adaptive temperature and SSMax (Nakanishi 2025).\n"
    "Commands:\n"
    "  curves     p_max(n), entropy H(n), Lemma 2.1 bound, beta*(n), adaptive beta(H): closed forms in MPFR\n"
    "             and materialised vectors in fp16/bf16/fp32/fp64 with naive/pairwise/compensated sums\n"
    "  ssmax      Scalable-Softmax Fig 1 and Fig 3 replicas, p_max heat map over s*Delta x n\n"
    "  precision  leakage 1-p and the normaliser vs n in fp16, bf16, fp32, fp64 and MPFR\n"
    "  retrieval  max-retrieval model (one attention head between two MLPs): accuracy and attention\n"
    "             for softmax, adaptive temperature (inference only) and SSMax (trained)\n"
    "Options: --help, --version; every command accepts '--' (end of options).\n"
    SMX_CLI_EXIT_HELP;

/* --out / --checkpoint given on the command line (before '--'): writable and distinct, checked
 * before the command does any work (retrieval trains for minutes before writing; issue 9).
 * Default paths are the commands' own business. */
static void check_outputs(const char *prog, int argc, char **argv)
{
    const char *out = NULL, *ckpt = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) break;
        if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "--version")) return;
        if (!strcmp(a, "--out") && i + 1 < argc) out = argv[++i];
        else if (!strncmp(a, "--out=", 6)) out = a + 6;
        else if (!strcmp(a, "--checkpoint") && i + 1 < argc) ckpt = argv[++i];
        else if (!strncmp(a, "--checkpoint=", 13)) ckpt = a + 13;
    }
    if ((out && !*out) || (ckpt && !*ckpt)) return; /* the command names the empty value */
    smx_cli_outputs_or_fail(prog, out, ckpt);
}

int main(int argc, char **argv)
{
    static const smx_cli_cmd_t cmds[] = {{"curves", dispersion_cmd_curves},
                                         {"ssmax", dispersion_cmd_ssmax},
                                         {"precision", dispersion_cmd_precision},
                                         {"retrieval", dispersion_cmd_retrieval}};
    smx_cli_init("smx-dispersion");
    return smx_cli_dispatch("smx-dispersion", usage, cmds, sizeof cmds / sizeof cmds[0], check_outputs, argc, argv);
}
