/* kernels_f32.c - the float kernels of kernels.h (kernels_inst.h with T = float). */
#define KT_DOUBLE 0
#include "kernels_inst.h"
