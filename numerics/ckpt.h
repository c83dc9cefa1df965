/* ckpt.h - checkpoint files for long runs: a list of named binary entries with a header and a
 * checksum, written atomically by smx_file_write_atomic (a temporary created with O_EXCL beside
 * PATH, never following a symlink, then renamed; see tsv.h).
 *
 * File layout (integers little-endian):
 *   "SMXCKPT\n" (8 bytes) | u32 format version (1) | u32 entry count |
 *   per entry: u32 name length | name (no NUL) | u64 byte count | bytes |
 *   u64 FNV-1a 64-bit hash of everything before it.
 * Doubles, longs and raw blobs (e.g. a gsl_rng state) are entries; doubles are stored in the
 * machine's byte order (a checkpoint resumes a run on the same kind of machine), longs as
 * little-endian int64, strings with their terminating NUL.
 *
 * Writing: smx_ckpt_new, smx_ckpt_put_* (entries are copied), smx_ckpt_write, smx_ckpt_free.
 * Reading: smx_ckpt_read (checks magic, version, checksum and every entry's bounds, so a
 * truncated or corrupted file is an error, never a crash), smx_ckpt_get_*, smx_ckpt_free. */
#ifndef SMX_CKPT_H
#define SMX_CKPT_H

#include <stddef.h>

#define SMX_CKPT_VERSION 1

typedef struct smx_ckpt smx_ckpt_t;

/* An empty checkpoint to fill (NULL if out of memory). */
smx_ckpt_t *smx_ckpt_new(void);
void smx_ckpt_free(smx_ckpt_t *c);

/* Append an entry: size bytes of data / n doubles / one long / a NUL-terminated string.
 * SMX_OK, SMX_EDOM (empty name or name longer than 255 bytes), SMX_ENOMEM. */
int smx_ckpt_put(smx_ckpt_t *c, const char *name, const void *data, size_t size);
int smx_ckpt_put_f64(smx_ckpt_t *c, const char *name, const double *x, size_t n);
int smx_ckpt_put_long(smx_ckpt_t *c, const char *name, long v);
int smx_ckpt_put_str(smx_ckpt_t *c, const char *name, const char *s);

/* Write atomically to path: SMX_OK, SMX_EIO, SMX_ENOMEM. */
int smx_ckpt_write(smx_ckpt_t *c, const char *path);

/* Read path into *c (NULL on failure). SMX_OK; SMX_EIO if it cannot be opened or read (errno
 * set: ENOENT if there is no such file); SMX_EDOM if it is not a valid checkpoint (*why, if
 * why is not NULL, then names the problem: a static string); SMX_ENOMEM. */
int smx_ckpt_read(smx_ckpt_t **c, const char **why, const char *path);

/* The first entry called name: its bytes (not aligned: copy them out) and *size, or NULL. */
const void *smx_ckpt_get(const smx_ckpt_t *c, const char *name, size_t *size);
/* Copy an entry out: SMX_OK, or SMX_EDOM if it is missing or not exactly n doubles / one long. */
int smx_ckpt_get_f64(double *x, const smx_ckpt_t *c, const char *name, size_t n);
int smx_ckpt_get_long(long *v, const smx_ckpt_t *c, const char *name);
/* A string entry, or NULL if it is missing or not one NUL-terminated string. */
const char *smx_ckpt_get_str(const smx_ckpt_t *c, const char *name);

#endif
