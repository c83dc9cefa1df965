/* kernels.c - native softmax / log-softmax / LSE kernels (kernels.h): the block kernels of
 * kernels_tmpl.h instantiated for {double, float} x {scalar, AVX2 + FMA, AVX-512F}, runtime
 * dispatch by __builtin_cpu_supports, and the drivers (blocks, OpenMP, fixed combination order). */
#include "kernels.h"
#include "smx.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>



#include <string.h>

#include "lse.h"
#include "sum.h"

const char *const smx_kernels_algo_names[] = {"three-pass", "reload", "online", "two-pass", NULL};
const char *const smx_kernels_isa_names[] = {"auto", "scalar", "avx2", "avx512", NULL};

int smx_kernels_algo_parse(smx_kernels_algo_t *a, const char *name)
{
    if (!name) return SMX_EDOM;
    for (int i = 0; smx_kernels_algo_names[i]; i++)
        if (!strcmp(name, smx_kernels_algo_names[i])) { *a = (smx_kernels_algo_t)i; return SMX_OK; }
    if (!strcmp(name, "threepass")) { *a = SMX_KERNELS_THREEPASS; return SMX_OK; }
    if (!strcmp(name, "twopass")) { *a = SMX_KERNELS_TWOPASS; return SMX_OK; }
    return SMX_EDOM;
}

const char *smx_kernels_algo_name(smx_kernels_algo_t a)
{
    return (unsigned)a < SMX_KERNELS_NALGOS ? smx_kernels_algo_names[a] : "?";
}

int smx_kernels_isa_parse(smx_kernels_isa_t *isa, const char *name)
{
    if (!name) return SMX_EDOM;
    for (int i = 0; smx_kernels_isa_names[i]; i++)
        if (!strcmp(name, smx_kernels_isa_names[i])) { *isa = (smx_kernels_isa_t)i; return SMX_OK; }
    return SMX_EDOM;
}

const char *smx_kernels_isa_name(smx_kernels_isa_t isa)
{
    return (unsigned)isa < SMX_KERNELS_NISAS ? smx_kernels_isa_names[isa] : "?";
}

int smx_kernels_isa_available(smx_kernels_isa_t isa)
{
    __builtin_cpu_init();
    switch (isa) {
    case SMX_KERNELS_AUTO:
    case SMX_KERNELS_SCALAR: return 1;
    case SMX_KERNELS_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SMX_KERNELS_AVX512: return __builtin_cpu_supports("avx512f");
    default: return 0;
    }
}

smx_kernels_isa_t smx_kernels_isa_best(void)
{
    if (smx_kernels_isa_available(SMX_KERNELS_AVX512)) return SMX_KERNELS_AVX512;
    if (smx_kernels_isa_available(SMX_KERNELS_AVX2)) return SMX_KERNELS_AVX2;
    return SMX_KERNELS_SCALAR;
}


/* ---- streaming-store threshold (kernels.h) ---- */
static size_t stream_bytes = SMX_KERNELS_STREAM_NEVER;

size_t smx_kernels_stream_bytes(void) { return stream_bytes; }

size_t smx_kernels_set_stream_bytes(size_t bytes)
{
    size_t old = stream_bytes;
    stream_bytes = bytes ? bytes : SMX_KERNELS_STREAM_NEVER;
    return old;
}

/* ---- error bounds (kernels.h) ---- */
/* The exp's relative error in units of u: e ulps <= 2e u. */
static double exp_u(int is_float) { return 2 * (is_float ? SMX_KERNELS_EXP_ULP_F32 : SMX_KERNELS_EXP_ULP_F64); }

static smx_lse_algo_t lse_algo(smx_kernels_algo_t a)
{
    switch (a) {
    case SMX_KERNELS_ONLINE: return SMX_LSE_ONLINE;
    case SMX_KERNELS_TWOPASS: return SMX_LSE_TWOPASS;
    default: return SMX_LSE_SHIFTED;
    }
}

double smx_kernels_softmax_error_bound(smx_kernels_algo_t algo, const double *x, size_t n, double lse,
                                       int is_float)
{
    /* lse.h's bound counts each exp once (error u) in the numerator and in the sum: 2 (e - 1)
     * more for an exp of error e u; + 1 for y = e (1/s) instead of e / s. */
    return smx_softmax_error_bound(lse_algo(algo), SMX_SUM_NAIVE, x, n, lse) + 2 * (exp_u(is_float) - 1) + 1;
}

double smx_kernels_lse_error_bound(smx_kernels_algo_t algo, const double *x, size_t n, double lse,
                                   int is_float)
{
    /* the sum's exps: (e - 1) more relative error of s, which log turns into an absolute one */
    return smx_lse_error_bound(lse_algo(algo), SMX_SUM_NAIVE, x, n, lse) + (exp_u(is_float) - 1) / fabs(lse);
}
