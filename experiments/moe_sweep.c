/* moe_sweep.c - smx-moe sweep / merge / summary. */
#include "moe_cmds.h"

int moe_cmd_sweep(int argc, char **argv) { (void)argc, (void)argv; smx_cli_fail(MOE_PROG " sweep", "not yet implemented"); }
int moe_cmd_merge(int argc, char **argv) { (void)argc, (void)argv; smx_cli_fail(MOE_PROG " merge", "not yet implemented"); }
int moe_cmd_summary(int argc, char **argv) { (void)argc, (void)argv; smx_cli_fail(MOE_PROG " summary", "not yet implemented"); }
