/* collapse_io.h - smx-collapse's train/test split and initial weights as TSV files, so that a run
 * can be repeated exactly in another framework (experiments/collapse_peers.py) or fed a split and
 * weights made elsewhere (issue 11).
 *
 * Split file:   "# format: smx-collapse-split 1", "# modulus: V", "# op: add|mul|sub",
 *               "# train: NTRAIN", "# test: NTEST", then the header "a\tb\tlabel\tset" and one row
 *               per pair, the training rows first in training order (set "train"), then the test
 *               rows ("test"); label = a op b mod V.
 * Weights file: "# format: smx-collapse-weights 1", "# modulus: V", "# width: W", "# depth: D",
 *               then "tensor\trow\tcol\tvalue" and every parameter in the model's order: tensor 0 =
 *               E (2V x W; h1 = relu(E[a] + E[V + b])), tensors 1..D-1 = W_l (W x W), tensor D =
 *               W_out (V x W); z = h W_out^T (PyTorch's Linear weight layout); value as %.17g.
 * Other metadata lines (# key: value) are allowed and ignored when reading. */
#ifndef SMX_COLLAPSE_IO_H
#define SMX_COLLAPSE_IO_H

#include <stddef.h>
#include "collapse_model.h"

/* Write atomically (numerics/tsv.h). SMX_OK or SMX_EIO (errno set). */
int collapse_io_write_split(const char *path, const collapse_model_t *m);
int collapse_io_write_weights(const char *path, const collapse_model_t *m);

/* Replace m's split / parameters by the file's. SMX_OK; SMX_EIO if the file cannot be read (errno
 * set); SMX_EDOM if it is not such a file or does not fit the model: err (size errn) then says
 * why, with the line number. m is unchanged unless SMX_OK. */
int collapse_io_read_split(collapse_model_t *m, const char *path, char *err, size_t errn);
int collapse_io_read_weights(collapse_model_t *m, const char *path, char *err, size_t errn);

#endif
