/* smx_cmds.h - subcommands of the smx calculator implemented in experiments/smx_*.c. */
#ifndef SMX_CMDS_H
#define SMX_CMDS_H

/* smx lse-error: BHH error-vs-bound data for the numerics-lse-error figure (smx_lse.c). */
int smx_cmd_lse_error(int argc, char **argv);

#endif
