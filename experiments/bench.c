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
    static const smx_cli_cmd_t cmds[] = {{"kernels", bench_cmd_kernels},
                                         {"copy", bench_cmd_copy},
                                         {"exp-error", bench_cmd_exp_error},
                                         {"mpfr", bench_cmd_mpfr}};
    smx_cli_init(BENCH_PROG); /* --help on a full stdout: exit 3 */
    return smx_cli_dispatch(BENCH_PROG, USAGE, cmds, sizeof cmds / sizeof cmds[0], NULL, argc, argv);
}
