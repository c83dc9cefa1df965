/* dispersion_cmds.h - smx-dispersion's subcommands (dispersion_curves.c, dispersion_ssmax.c,
 * dispersion_precision.c, dispersion_retrieval.c), dispatched by dispersion.c. Closed forms:
 * dispersion_theory.h; what every subcommand does around its computation: dispersion_io.h;
 * the retrieval model and its training: dispersion_retrieval.h.
 * Science: science/dispersion.md; papers (a) Velickovic et al. 2024 arXiv 2410.01104,
 * (b) Nakanishi 2025 arXiv 2501.19399. */
#ifndef DISPERSION_CMDS_H
#define DISPERSION_CMDS_H

/* Each: argv[0] is the subcommand's name; returns the exit status. */
int dispersion_cmd_curves(int argc, char **argv);
int dispersion_cmd_ssmax(int argc, char **argv);
int dispersion_cmd_precision(int argc, char **argv);
int dispersion_cmd_retrieval(int argc, char **argv);

/* Test hook: the whole retrieval model's gradient vs central differences (tiny model); see
 * dispersion_retrieval_model.c. */
int dispersion_retrieval_gradcheck(double *max_err, int ssmax, unsigned long seed);

#endif
