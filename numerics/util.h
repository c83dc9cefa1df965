/* util.h - umbrella for the programs' run helpers, one module each: seeded random streams
 * (rng.h), wall-clock time and available memory (machine.h), the progress line (progress.h). */
#ifndef SMX_UTIL_H
#define SMX_UTIL_H

#include "machine.h"
#include "progress.h"
#include "rng.h"

#endif
