/* tsv.h - TSV data files: '#' metadata lines, one header line, rows of %.17g numbers.
 *
 * Output paths (every writer here: TSV, smx_file_write_atomic, checkpoints):
 * - a regular (or not yet existing) PATH is replaced atomically: the data go to a temporary
 *   PATH.XXXXXX.tmp created beside it with O_CREAT | O_EXCL (mkostemps: never follows a
 *   symlink, never reuses a file), fsync'ed and renamed onto PATH by smx_tsv_close, so an
 *   interrupted run never leaves a truncated file;
 * - a symlink PATH is followed: the link stays, the file it points to is replaced as above;
 * - a device, FIFO or socket is written in place, never replaced; a directory is refused.
 * Temporaries are removed on exit() and on SIGINT / SIGTERM / SIGHUP / SIGPIPE (handlers
 * installed only for signals that still have their default action).
 * Failures return NULL / SMX_EIO with errno set to the real cause (ENOSPC, EACCES, ENOTDIR,
 * EISDIR, ...), for messages with strerror(errno) and the path.
 * Metadata never contains wall-clock time, so the same seed and options give the same bytes. */
#ifndef SMX_TSV_H
#define SMX_TSV_H

#include <stdio.h>

typedef struct smx_tsv smx_tsv_t;

/* Open PATH for writing as described above (creating PATH's directory if needed). NULL on
 * failure (errno set). */
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

/* The file really written (PATH, or the file a symlink PATH points to). */
const char *smx_tsv_path(const smx_tsv_t *t);

/* Flush, close and rename onto PATH. SMX_OK or SMX_EIO, errno set (the temporary is removed
 * on error). */
int smx_tsv_close(smx_tsv_t *t);
/* A multi-file output that appears all together or not at all: flush and close all n files;
 * only if every one succeeded are they renamed onto their paths (else every temporary is
 * removed and no path is touched). SMX_OK or SMX_EIO (errno: the first failure). t[i] = NULL. */
int smx_tsv_close_all(smx_tsv_t **t, size_t n);
/* The same; *failed = the index of the file that failed first (n if none). */
int smx_tsv_close_all_at(smx_tsv_t **t, size_t n, size_t *failed);
/* Close and delete the temporary without touching PATH (errno preserved). */
void smx_tsv_abort(smx_tsv_t *t);

/* Write a whole buffer to PATH (atomically for a regular file, as above): SMX_OK or SMX_EIO
 * (errno set), SMX_ENOMEM. */
int smx_file_write_atomic(const char *path, const void *data, size_t size);

/* Can PATH be written (as above)? Creates PATH's directories and a temporary beside it, then
 * removes the temporary; a device / FIFO is checked with access(W_OK). Call it before long
 * work so that an unwritable --out or --checkpoint fails at once. SMX_OK or SMX_EIO (errno). */
int smx_out_check(const char *path);

/* Create the directories of PATH's dirname (mkdir -p). SMX_OK or SMX_EIO (errno set; ENOTDIR
 * if a component exists and is not a directory). */
int smx_mkdir_parent(const char *path);

/* Temporary-file registry (used by the writers above; for other code creating temporaries):
 * register a path to be unlinked on exit() or a fatal signal; returns a slot (-1 if full).
 * smx_tmp_cleanup unlinks every registered file now (async-signal-safe). */
int smx_tmp_register(const char *path);
void smx_tmp_unregister(int slot);
void smx_tmp_cleanup(void);

#endif
