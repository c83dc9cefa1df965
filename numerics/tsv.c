/* tsv.c - atomic TSV writer and safe output files (see tsv.h). */
#include "tsv.h"
#include "smx.h"

#include <errno.h>
#include <fcntl.h>
#include <gmp.h>
#include <gsl/gsl_version.h>
#include <limits.h>
#include <math.h>
#include <mpfr.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SMX_GIT_COMMIT
#define SMX_GIT_COMMIT "unknown"
#endif

/* ---------------------------------------------------------------- temporaries
 * Every temporary output file is registered here until it is renamed or removed, so that an
 * exit() (atexit) or SIGINT / SIGTERM / SIGHUP / SIGPIPE (handlers installed only where the
 * signal still has its default action) removes it: no FILE.XXXXXX.tmp is left behind. */

#define TMP_SLOTS 64
static char tmp_path[TMP_SLOTS][PATH_MAX];
static volatile sig_atomic_t tmp_used[TMP_SLOTS];
static pid_t tmp_owner[TMP_SLOTS]; /* a forked child never removes its parent's temporaries */
static pthread_mutex_t tmp_lock = PTHREAD_MUTEX_INITIALIZER;
static int tmp_hooks;

void smx_tmp_cleanup(void)
{
    for (int i = 0; i < TMP_SLOTS; i++)
        if (tmp_used[i] && tmp_owner[i] == getpid()) {
            unlink(tmp_path[i]); /* async-signal-safe, like getpid */
            tmp_used[i] = 0;
        }
}

static void tmp_signal(int sig)
{
    smx_tmp_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void tmp_install_hooks(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    if (tmp_hooks) return;
    tmp_hooks = 1;
    atexit(smx_tmp_cleanup);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = tmp_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

int smx_tmp_register(const char *path)
{
    if (strlen(path) >= PATH_MAX) return -1;
    pthread_mutex_lock(&tmp_lock);
    tmp_install_hooks();
    int slot = -1;
    for (int i = 0; i < TMP_SLOTS && slot < 0; i++)
        if (!tmp_used[i]) slot = i;
    if (slot >= 0) {
        strcpy(tmp_path[slot], path);
        tmp_owner[slot] = getpid();
        tmp_used[slot] = 1;
    }
    pthread_mutex_unlock(&tmp_lock);
    return slot;
}

void smx_tmp_unregister(int slot)
{
    if (slot < 0 || slot >= TMP_SLOTS) return;
    pthread_mutex_lock(&tmp_lock);
    tmp_used[slot] = 0;
    pthread_mutex_unlock(&tmp_lock);
}

/* ---------------------------------------------------------------- output files */

int smx_mkdir_parent(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return SMX_EIO;
    }
    memcpy(buf, path, n + 1);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/' || s[-1] == '/') continue;
        *s = '\0';
        struct stat st;
        if (mkdir(buf, 0777) != 0 && !(errno == EEXIST && stat(buf, &st) == 0 && S_ISDIR(st.st_mode))) {
            if (errno == EEXIST) errno = ENOTDIR;
            return SMX_EIO;
        }
        *s = '/';
    }
    return SMX_OK;
}

/* The process's umask without changing it (Linux: /proc/self/status; else umask twice). */
static mode_t current_umask(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (fp) {
        char line[256];
        unsigned m;
        while (fgets(line, sizeof line, fp))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                fclose(fp);
                return (mode_t)m;
            }
        fclose(fp);
    }
    mode_t m = umask(022);
    umask(m);
    return m;
}

/* An output being written: fd on a registered temporary beside the real target (tmp != NULL),
 * or on the target itself when it is not a regular file (device, FIFO: written in place). */
typedef struct {
    int fd, slot;
    char *target, *tmp;
} out_t;

static void out_free(out_t *o)
{
    int e = errno;
    free(o->target);
    free(o->tmp);
    o->target = o->tmp = NULL;
    errno = e;
}

/* Open the output for path (see tsv.h): -1 with errno on failure. check_only: only find out
 * whether it could be written (nothing is left behind, nothing blocks). */
static int out_open(out_t *o, const char *path, int check_only)
{
    struct stat st;
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->slot = -1;
    if (!path || !*path) {
        errno = ENOENT;
        return -1;
    }
    if (smx_mkdir_parent(path) != SMX_OK) return -1;
    /* a symlink: follow it to the real file, so the link stays and its target is replaced */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) o->target = realpath(path, NULL);
    else o->target = strdup(path);
    if (!o->target) return -1;
    if (stat(o->target, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
            /* device, FIFO, socket: never replaced; written in place */
            if (check_only) {
                if (access(o->target, W_OK) != 0) goto fail;
                return 0;
            }
            o->fd = open(o->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
            if (o->fd < 0) goto fail;
            return 0;
        }
    } else if (errno != ENOENT) {
        goto fail;
    }
    size_t n = strlen(o->target);
    o->tmp = malloc(n + 12);
    if (!o->tmp) goto fail;
    memcpy(o->tmp, o->target, n);
    memcpy(o->tmp + n, ".XXXXXX.tmp", 12);
    /* mkostemps: O_CREAT | O_EXCL, mode 0600, never follows a symlink */
    o->fd = mkostemps(o->tmp, 4, O_CLOEXEC);
    if (o->fd < 0) goto fail;
    o->slot = smx_tmp_register(o->tmp);
    if (check_only) {
        close(o->fd);
        unlink(o->tmp);
        smx_tmp_unregister(o->slot);
        o->fd = -1;
        return 0;
    }
    if (fchmod(o->fd, 0666 & ~current_umask()) != 0) {
        int e = errno;
        close(o->fd);
        unlink(o->tmp);
        smx_tmp_unregister(o->slot);
        errno = e;
        o->fd = -1;
        goto fail;
    }
    return 0;
fail:
    out_free(o);
    return -1;
}

/* After the fd is closed: rename a temporary onto its target (or drop it when bad). */
static int out_finish(out_t *o, int bad)
{
    if (o->tmp) {
        if (!bad && rename(o->tmp, o->target) != 0) bad = 1;
        if (bad) {
            int e = errno;
            unlink(o->tmp);
            errno = e;
        }
        smx_tmp_unregister(o->slot);
    }
    out_free(o);
    return bad ? SMX_EIO : SMX_OK;
}

int smx_out_check(const char *path)
{
    out_t o;
    if (out_open(&o, path, 1) != 0) return SMX_EIO;
    out_free(&o);
    return SMX_OK;
}

int smx_file_write_atomic(const char *path, const void *data, size_t size)
{
    out_t o;
    if (out_open(&o, path, 0) != 0) return errno == ENOMEM ? SMX_ENOMEM : SMX_EIO;
    const char *p = data;
    int bad = 0;
    while (size > 0 && !bad) {
        ssize_t k = write(o.fd, p, size);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO;
            bad = 1;
            break;
        }
        p += k;
        size -= (size_t)k;
    }
    if (!bad && o.tmp && fsync(o.fd) != 0) bad = 1;
    int e = errno;
    if (close(o.fd) != 0 && !bad) bad = 1, e = errno;
    errno = e;
    return out_finish(&o, bad);
}

/* ---------------------------------------------------------------- TSV */

struct smx_tsv {
    FILE *fp;
    out_t out;
    int col; /* fields written on the current row */
    int err; /* errno of the first write error seen (stdio keeps only the flag) */
};

smx_tsv_t *smx_tsv_open(const char *path)
{
    smx_tsv_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (out_open(&t->out, path, 0) != 0) {
        int e = errno;
        free(t);
        errno = e;
        return NULL;
    }
    t->fp = fdopen(t->out.fd, "w");
    if (!t->fp) {
        int e = errno;
        close(t->out.fd);
        out_finish(&t->out, 1);
        free(t);
        errno = e;
        return NULL;
    }
    return t;
}

const char *smx_tsv_path(const smx_tsv_t *t) { return t->out.target; }

void smx_tsv_meta(smx_tsv_t *t, const char *key, const char *fmt, ...)
{
    va_list ap;
    fprintf(t->fp, "# %s: ", key);
    va_start(ap, fmt);
    vfprintf(t->fp, fmt, ap);
    va_end(ap);
    fputc('\n', t->fp);
}

void smx_tsv_meta_std(smx_tsv_t *t, const char *program, int argc, char *const argv[])
{
    smx_tsv_meta(t, "program", "%s", program);
    smx_tsv_meta(t, "smx_version", "%s", SMX_VERSION);
    smx_tsv_meta(t, "git_commit", "%s", SMX_GIT_COMMIT);
    smx_tsv_meta(t, "libraries", "GSL %s, MPFR %s, GMP %s", GSL_VERSION, mpfr_get_version(), gmp_version);
    fprintf(t->fp, "# command:");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int skip_next = 0;
        if (!strcmp(a, "--out") || !strcmp(a, "--threads") || !strcmp(a, "-o")) skip_next = 1;
        if (!strncmp(a, "--out=", 6) || !strncmp(a, "--threads=", 10)) continue;
        if (skip_next) { i++; continue; }
        fprintf(t->fp, " %s", i == 0 ? program : a);
    }
    fputc('\n', t->fp);
}

void smx_tsv_header(smx_tsv_t *t, const char *columns)
{
    fprintf(t->fp, "%s\n", columns);
    t->col = 0;
}

static void sep(smx_tsv_t *t)
{
    if (t->col++) fputc('\t', t->fp);
}

void smx_tsv_num(smx_tsv_t *t, double x)
{
    sep(t);
    if (isnan(x)) fputs("nan", t->fp);
    else if (isinf(x)) fputs(x > 0 ? "inf" : "-inf", t->fp);
    else fprintf(t->fp, "%.17g", x);
}

void smx_tsv_int(smx_tsv_t *t, long long x)
{
    sep(t);
    fprintf(t->fp, "%lld", x);
}

void smx_tsv_str(smx_tsv_t *t, const char *s)
{
    sep(t);
    fputs(s, t->fp);
}

void smx_tsv_endrow(smx_tsv_t *t)
{
    if (!t->err && ferror(t->fp)) t->err = errno ? errno : EIO; /* a field's write failed */
    if (fputc('\n', t->fp) == EOF && !t->err) t->err = errno ? errno : EIO;
    t->col = 0;
}

FILE *smx_tsv_stream(smx_tsv_t *t) { return t->fp; }

/* Flush and close the stream (fsync a temporary): 0, or 1 with errno the first failure's. */
static int tsv_flush_close(smx_tsv_t *t)
{
    int bad = 0, e = 0;
    if (ferror(t->fp)) bad = 1, e = t->err ? t->err : EIO;
    if (fflush(t->fp) != 0 && !bad) bad = 1, e = errno;
    if (!bad && t->out.tmp && fsync(fileno(t->fp)) != 0) bad = 1, e = errno;
    if (fclose(t->fp) != 0 && !bad) bad = 1, e = errno;
    t->fp = NULL;
    errno = e;
    return bad;
}

int smx_tsv_close(smx_tsv_t *t)
{
    int st = out_finish(&t->out, tsv_flush_close(t));
    int e = errno;
    free(t);
    errno = e;
    return st;
}

int smx_tsv_close_all_at(smx_tsv_t **t, size_t n, size_t *failed)
{
    int bad = 0, e = 0;
    size_t at = n;
    for (size_t i = 0; i < n; i++)
        if (tsv_flush_close(t[i]) && !bad) bad = 1, e = errno, at = i;
    /* all closed and synced: now rename every one (or drop every temporary) */
    for (size_t i = 0; i < n; i++) {
        errno = e;
        if (out_finish(&t[i]->out, bad) != SMX_OK && !bad) bad = 1, e = errno, at = i;
        free(t[i]);
        t[i] = NULL;
    }
    if (failed) *failed = at;
    errno = e;
    return bad ? SMX_EIO : SMX_OK;
}

int smx_tsv_close_all(smx_tsv_t **t, size_t n) { return smx_tsv_close_all_at(t, n, NULL); }

void smx_tsv_abort(smx_tsv_t *t)
{
    int e = errno;
    fclose(t->fp);
    out_finish(&t->out, 1);
    free(t);
    errno = e;
}
