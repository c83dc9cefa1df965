/* tsv.h - TSV data files: '#' metadata lines, one header line, rows of %.17g numbers.
 *
 * Written to PATH.tmp and renamed onto PATH by smx_tsv_close, so an interrupted run never
 * leaves a truncated file. Metadata never contains wall-clock time, so the same seed and
 * options give the same bytes. */
#ifndef SMX_TSV_H
#define SMX_TSV_H

#include <stdio.h>

typedef struct smx_tsv smx_tsv_t;

/* Open PATH.tmp for writing (creating PATH's directory if needed). NULL on failure
 * (errno set). */
smx_tsv_t *smx_tsv_open(const char *path);

/* "# key: value" metadata line (printf-style value). */
void smx_tsv_meta(smx_tsv_t *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Standard metadata: program, smx version, git commit, library versions (GSL, MPFR, GMP),
 * and the command line with --out/--threads (which do not change the data) left out. */
void smx_tsv_meta_std(smx_tsv_t *t, const char *program, int argc, char *const argv[]);

/* Header line: column names separated by tabs, given as one string "a\tb\tc". */
void smx_tsv_header(smx_tsv_t *t, const char *columns);

/* Row building: each call appends one field (tab-separated); endrow ends the line. */
void smx_tsv_num(smx_tsv_t *t, double x);     /* %.17g; nan / inf / -inf spelled so */
void smx_tsv_int(smx_tsv_t *t, long long x);
void smx_tsv_str(smx_tsv_t *t, const char *s);
void smx_tsv_endrow(smx_tsv_t *t);

/* The underlying stream, for bulk writing. */
FILE *smx_tsv_stream(smx_tsv_t *t);

/* Flush, close and rename onto PATH. SMX_OK or SMX_EIO (the .tmp is removed on error). */
int smx_tsv_close(smx_tsv_t *t);
/* Close and delete the .tmp without touching PATH. */
void smx_tsv_abort(smx_tsv_t *t);

/* Write a whole buffer atomically to PATH (via PATH.tmp + rename): SMX_OK or SMX_EIO. */
int smx_file_write_atomic(const char *path, const void *data, size_t size);

/* Create the directories of PATH's dirname (mkdir -p). SMX_OK or SMX_EIO. */
int smx_mkdir_parent(const char *path);

#endif
