/* bottleneck_argmax.c - smx-bottleneck argmax (placeholder until the LP lands). */
#include "bottleneck_cmds.h"

int bottleneck_argmax_approx(double *x, const double *W, const double *b, size_t v, size_t d, size_t i, int patience)
{
    (void)x, (void)W, (void)b, (void)v, (void)d, (void)i, (void)patience;
    return 0;
}

int bottleneck_cmd_argmax(int argc, char **argv)
{
    (void)argc;
    smx_cli_fail("smx-bottleneck", "command '%s' is not yet implemented", argv[0]);
}
