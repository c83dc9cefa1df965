/* fuzz-cli.c - fuzz target: strict number / integer parsing (smx_cli_double, smx_cli_long) and
 * format names (smx_format_get), the parsers behind every option and `smx eval`'s values.
 * Properties: never crash; an accepted double is what strtod reads from the whole string; an
 * accepted integer is in range; an accepted format has p in [PMIN, PMAX].
 * libFuzzer: make fuzz; regression over tests/fuzz/corpus-cli in make test (t-fuzz.c). */
#include "cli.h"
#include "format.h"
#include "smx.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fuzz_cli(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    double v;
    if (smx_cli_double(&v, s) == SMX_OK) {
        char *end;
        double w = strtod(s, &end);
        if (*end != '\0' || !(v == w || (isnan(v) && isnan(w))) || s[0] == ' ') abort();
    }
    long l;
    if (smx_cli_long(&l, s, -1000, 4096) == SMX_OK && (l < -1000 || l > 4096)) abort();
    smx_format_t f;
    if (smx_format_get(&f, s) == SMX_OK && (f.p < SMX_FORMAT_PMIN || f.p > SMX_FORMAT_PMAX)) abort();
    free(s);
    return 0;
}

#ifndef SMX_FUZZ_REGRESSION
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_cli(data, size); }
#endif
