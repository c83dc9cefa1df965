/* bench.c - smx-bench: performance of the softmax kernels against the memory-bandwidth limit
 * (issue 10). Subcommands:
 *   kernels     time per element, GB/s of compulsory traffic and ratio to copy-and-scale, for
 *               every kernel (algorithm x function x float / double) over n = 10^2 .. 2^27
 *   copy        the streaming copy-and-scale limit alone
 *   exp-error   the kernels' exp (and SLEEF's) against MPFR: float exhaustive, double random
 *   mpfr        MPFR softmax cost against the precision p, with the fitted growth
 * Timings are medians of repetitions; the data files carry the machine's description. */
#include "bench_cmds.h"
#include "cli.h"
#include "smx.h"

#include <stdio.h>
#include <string.h>

static const char USAGE[] =
    "usage: smx-bench COMMAND [options]\n"
    "  smx-bench kernels    [--out FILE] ...  each softmax kernel: ns/element, GB/s, ratio to copy\n"
    "  smx-bench copy       [--out FILE] ...  the streaming copy-and-scale limit\n"
    "  smx-bench exp-error  [--out FILE] ...  the kernels' exp / SLEEF's exp vs MPFR (ulps)\n"
    "  smx-bench mpfr       [--out FILE] ...  MPFR softmax time per element vs precision p\n"
    "  smx-bench --help | --version\n"
    "Run 'smx-bench COMMAND --help' for a command's options. Timings depend on the machine and\n"
    "its load: run on a quiet machine (the data's metadata names CPU, cores, caches).\n" SMX_CLI_EXIT_HELP;

int main(int argc, char **argv)
{
    if (argc < 2) smx_cli_fail(BENCH_PROG, "missing COMMAND (kernels, copy, exp-error, mpfr); see smx-bench --help");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) { fputs(USAGE, stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("%s (smx) %s\n", BENCH_PROG, SMX_VERSION); return 0; }
    if (!strcmp(cmd, "kernels")) return bench_cmd_kernels(argc - 1, argv + 1, 0);
    if (!strcmp(cmd, "copy")) return bench_cmd_kernels(argc - 1, argv + 1, 1);
    if (!strcmp(cmd, "exp-error")) return bench_cmd_exp_error(argc - 1, argv + 1);
    if (!strcmp(cmd, "mpfr")) return bench_cmd_mpfr(argc - 1, argv + 1);
    smx_cli_fail(BENCH_PROG, "unknown command '%s' (allowed: kernels, copy, exp-error, mpfr)", cmd);
}
