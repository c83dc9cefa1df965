/* smx.h - common definitions of libsmx: version and status codes.
 *
 * Library functions return an int status (SMX_OK on success) and never exit;
 * programs turn statuses into one-line messages and exit codes. */
#ifndef SMX_H
#define SMX_H

#define SMX_VERSION "0.1.0"

enum {
    SMX_OK = 0,     /* success */
    SMX_EDOM = 1,   /* bad input: unknown name, empty vector, out-of-range parameter */
    SMX_ENOMEM = 2, /* allocation failed */
    SMX_EIO = 3,    /* file could not be written / read */
    SMX_ERANGE = 4, /* result not representable (e.g. overflow where none is allowed) */
    SMX_EUNSUP = 5  /* combination not supported (e.g. fast path for p > 53) */
};

/* Short English text for a status code (static string). SMX_EIO: strerror(errno) when errno is
 * set (call it right after the failure, before errno changes), so messages name the real cause. */
const char *smx_strerror(int status);

/* The umbrella: #include <smx/smx.h> gives the whole library interface (tests/t-install.sh checks
 * that every installed header is listed here). No header includes smx.h, so there is no cycle. */
#include "attnnorm.h"
#include "ckpt.h"
#include "format.h"
#include "kernels.h"
#include "lse.h"
#include "softpick.h"
#include "sparsemax.h"
#include "stablemax.h"
#include "sum.h"
#include "temperature.h"
#include "threshold.h"
#include "tsv.h"
#include "machine.h"
#include "progress.h"
#include "rng.h"
#include "util.h" /* umbrella of the three above, for older programs */
#include "xent.h"
#include "attn.h"
#include "lp.h"
#include "moe.h"
#include "moe_gate.h"
#include "moe_mult.h"
#include "moe_topk.h"
#include "svd.h"
#include "nn.h"
#include "optim.h"
#include "run.h"

#endif
