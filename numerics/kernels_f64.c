/* kernels_f64.c - the double kernels of kernels.h (kernels_inst.h with T = double). */
#define KT_DOUBLE 1
#include "kernels_inst.h"
