/* example-smx.c - the README's example of libsmx as a library (issue 12), built by tests/t-install.sh
 * against an installed tree through pkg-config:  cc example-smx.c $(pkg-config --cflags --libs smx)
 * Rounds to bf16, computes a softmax in bf16 (shifted three-pass) against the correctly rounded MPFR
 * reference, and asks for the fp32 Softmax Collapse threshold (24 ln 2). */
#include <smx/smx.h>
#include <stdio.h>

int main(void)
{
    smx_format_t bf16, fp32;
    if (smx_format_get(&bf16, "bf16") != SMX_OK || smx_format_get(&fp32, "fp32") != SMX_OK) return 1;
    printf("round(2.385, bf16) = %.17g\n", smx_format_round(2.385, &bf16));

    const double x[4] = {2.385, -1.5, 0.25, 7.125};
    double y[4], ref[4];
    if (smx_softmax(y, x, 4, SMX_LSE_SHIFTED, SMX_SUM_NAIVE, &bf16) != SMX_OK) return 1;
    if (smx_softmax(ref, x, 4, SMX_LSE_REFERENCE, SMX_SUM_NAIVE, &bf16) != SMX_OK) return 1;
    for (int i = 0; i < 4; i++) printf("softmax_bf16[%d] = %.17g  reference %.17g\n", i, y[i], ref[i]);

    double D;
    if (smx_threshold_collapse(&D, 113, SMX_SUM_NAIVE, SMX_THRESHOLD_EXACT_EXP, &fp32) != SMX_OK) return 1;
    printf("collapse threshold fp32 = %.17g\n", D);
    return 0;
}
