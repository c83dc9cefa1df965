/* t-tsv.c - safe output files (issue 9): a device / FIFO / symlink target is never replaced;
 * the temporary is created with O_EXCL beside the real target and never follows a symlink;
 * errno names the real cause; temporaries are removed on SIGINT / SIGTERM and on exit();
 * a multi-file output (smx_tsv_close_all) appears all together or not at all; smx_out_check; the
 * writer itself (metadata, %.17g round trip, atomic rename, mode, abort, failure paths). */
#include "ckpt.h"
#include "smx.h"
#include "tap.h"
#include "tsv.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* an open writer still reachable at exit() (not a leak for LSan) */
smx_tsv_t *volatile keep_at_exit;

static char dir[] = "/tmp/smx-t-tsv-XXXXXX";

static int ntmp(void)
{
    DIR *d = opendir(dir);
    int k = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t m = strlen(e->d_name);
        k += m > 4 && !strcmp(e->d_name + m - 4, ".tmp");
    }
    if (d) closedir(d);
    return k;
}

static const char *path(const char *name)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static int read_is(const char *p, const char *want)
{
    char buf[256] = "";
    FILE *fp = fopen(p, "r");
    if (!fp) return 0;
    size_t k = fread(buf, 1, sizeof buf - 1, fp);
    buf[k] = '\0';
    fclose(fp);
    return !strcmp(buf, want);
}

static int write_tsv(const char *p, const char *line)
{
    smx_tsv_t *t = smx_tsv_open(p);
    if (!t) return -1;
    smx_tsv_header(t, line);
    return smx_tsv_close(t);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return NULL;
    static char buf[8192];
    size_t k = fread(buf, 1, sizeof buf - 1, fp);
    buf[k] = '\0';
    fclose(fp);
    return buf;
}

/* Number of files NAME.*.tmp (temporaries of NAME) in dir. */
static int count_tmp(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    int k = 0;
    size_t n = strlen(name);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t m = strlen(e->d_name);
        k += m > n + 4 && !strncmp(e->d_name, name, n) && e->d_name[n] == '.' && !strcmp(e->d_name + m - 4, ".tmp");
    }
    if (d) closedir(d);
    return k;
}

/* the writer: metadata, header and rows (%.17g, nan/-inf), temporary then rename, mode, abort, failures */
static void check_writer(void)
{
    char dir[] = "/tmp/smx-t-tsv-w-XXXXXX";
    ok(mkdtemp(dir) != NULL, "temporary directory");
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/sub/dir/out.tsv", dir);
    snprintf(tmp, sizeof tmp, "%s/sub/dir", dir);
    smx_tsv_t *t = smx_tsv_open(path);
    ok(t != NULL, "open creates missing parent directories");
    char *argv[] = {"prog", "--seed", "7", "--out", "x.tsv", "--threads=2", "--alpha", "2.385"};
    smx_tsv_meta_std(t, "smx-test", 8, argv);
    smx_tsv_meta(t, "paper_value", "%.3f", 0.816);
    smx_tsv_header(t, "name\tx\tk");
    double v = 0.1 + 0.2;
    smx_tsv_str(t, "a");
    smx_tsv_num(t, v);
    smx_tsv_int(t, -42);
    smx_tsv_endrow(t);
    smx_tsv_str(t, "b");
    smx_tsv_num(t, NAN);
    smx_tsv_num(t, -INFINITY);
    smx_tsv_endrow(t);
    struct stat st;
    ok(stat(path, &st) != 0 && count_tmp(tmp, "out.tsv") == 1, "while open only a temporary FILE.XXXXXX.tmp exists");
    ok(smx_tsv_close(t) == SMX_OK && stat(path, &st) == 0 && count_tmp(tmp, "out.tsv") == 0,
       "close renames the temporary onto FILE");
    ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == (0666 & ~umask(022)), "FILE gets mode 0666 & ~umask, like fopen");
    umask(022);
    char *s = slurp(path);
    ok(s && strstr(s, "# command: smx-test --seed 7 --alpha 2.385\n") != NULL,
       "command line recorded without --out and --threads");
    ok(s && strstr(s, "# paper_value: 0.816\n") && strstr(s, "# git_commit: ") && strstr(s, "MPFR "),
       "metadata: paper value, commit, library versions");
    double back = 0;
    const char *row = s ? strstr(s, "\na\t") : NULL;
    ok(row && sscanf(row + 3, "%lf", &back) == 1 && back == v, "%%.17g round-trips 0.1 + 0.2 exactly");
    ok(s && strstr(s, "name\tx\tk\na\t0.30000000000000004\t-42\nb\tnan\t-inf\n") != NULL, "header and rows, nan/-inf spelled");
    /* abort leaves the old file alone */
    t = smx_tsv_open(path);
    smx_tsv_header(t, "junk");
    smx_tsv_abort(t);
    ok(strstr(slurp(path), "0.30000000000000004") != NULL && count_tmp(tmp, "out.tsv") == 0,
       "abort keeps the previous FILE, removes the temporary");
    /* failure: a parent that is a regular file */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/out.tsv/x.tsv", path);
    ok(smx_tsv_open(bad) == NULL, "open fails when a parent is a file");
    ok(smx_file_write_atomic(bad, "x", 1) != SMX_OK, "atomic write fails there too");
    char ck[300];
    snprintf(ck, sizeof ck, "%s/ck.bin", dir);
    ok(smx_file_write_atomic(ck, "2.385", 5) == SMX_OK && !strcmp(slurp(ck), "2.385"), "atomic write of a buffer");
    remove(ck);
    remove(path);
    snprintf(tmp, sizeof tmp, "%s/sub/dir", dir); rmdir(tmp);
    snprintf(tmp, sizeof tmp, "%s/sub", dir); rmdir(tmp);
    rmdir(dir);
}

int main(void)
{
    struct stat st;
    ok(mkdtemp(dir) != NULL, "temporary directory");
    /* signals: temporaries removed (first, before this process installs its handlers; the child
     * sets the default action, as an interactive shell gives it) */
    int sigs[] = {SIGINT, SIGTERM};
    for (int k = 0; k < 2; k++) {
        int before = ntmp();
        pid_t pid = fork();
        if (pid == 0) {
            signal(sigs[k], SIG_DFL); /* as in an interactive shell */
            smx_tsv_t *t = smx_tsv_open(path("sig.tsv"));
            if (!t) _exit(1);
            smx_tsv_header(t, "partial");
            fflush(smx_tsv_stream(t));
            raise(sigs[k]);
            _exit(2);
        }
        int ws;
        ok(waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws) && WTERMSIG(ws) == sigs[k] && ntmp() == before &&
               stat(path("sig.tsv"), &st) != 0,
           "%s while writing: killed by it, temporary removed, no output", strsignal(sigs[k]));
    }

    /* a character device is written in place. Never the machine's own /dev/null or /dev/full:
     * a regression would replace them; copies made with mknod (root only) instead. */
    char dnull[256], dfull[256];
    snprintf(dnull, sizeof dnull, "%s", path("null"));
    snprintf(dfull, sizeof dfull, "%s", path("full"));
    int dev = mknod(dnull, S_IFCHR | 0666, makedev(1, 3)) == 0 && mknod(dfull, S_IFCHR | 0666, makedev(1, 7)) == 0;
    if (dev) {
        ok(write_tsv(dnull, "a\tb") == SMX_OK && stat(dnull, &st) == 0 && S_ISCHR(st.st_mode),
           "--out DEVICE (1,3 = null): written in place, still a character device");
        errno = 0;
        ok(write_tsv(dfull, "a\tb") == SMX_EIO && errno == ENOSPC && stat(dfull, &st) == 0 && S_ISCHR(st.st_mode),
           "DEVICE (1,7 = full): SMX_EIO with errno ENOSPC (%s), still a device", strerror(errno));
        ok(smx_file_write_atomic(dnull, "2.385", 5) == SMX_OK && stat(dnull, &st) == 0 && S_ISCHR(st.st_mode),
           "atomic buffer write to a device: in place");
    } else {
        for (int i = 0; i < 3; i++) ok(1, "# SKIP mknod needs root");
    }

    /* a symlink target: the link stays, the file it points to is replaced */
    FILE *fp = fopen(path("real.tsv"), "w");
    fputs("old\n", fp);
    fclose(fp);
    ok(symlink("real.tsv", path("link.tsv")) == 0, "symlink link.tsv -> real.tsv");
    ok(write_tsv(path("link.tsv"), "new") == SMX_OK && lstat(path("link.tsv"), &st) == 0 && S_ISLNK(st.st_mode) &&
           read_is(path("real.tsv"), "new\n"),
       "writing through a symlink replaces its target, keeps the link");

    /* a symlink at the old fixed temporary name is never followed */
    fp = fopen(path("victim"), "w");
    fputs("DATA\n", fp);
    fclose(fp);
    ok(symlink("victim", path("t.tsv.tmp")) == 0, "symlink t.tsv.tmp -> victim");
    ok(write_tsv(path("t.tsv"), "x") == SMX_OK && read_is(path("victim"), "DATA\n") && read_is(path("t.tsv"), "x\n"),
       "t.tsv written, the symlink's target untouched");
    ok(ntmp() == 1, "only the planted t.tsv.tmp is a .tmp file");
    unlink(path("t.tsv.tmp"));

    /* FIFO: written in place by a reader child */
    ok(mkfifo(path("fifo"), 0600) == 0, "mkfifo");
    pid_t pid = fork();
    if (pid == 0) {
        FILE *in = fopen(path("fifo"), "r");
        char line[64] = "";
        if (!in || !fgets(line, sizeof line, in)) _exit(1);
        _exit(strcmp(line, "through\tfifo\n") != 0);
    }
    int ws, wst = write_tsv(path("fifo"), "through\tfifo");
    int still = lstat(path("fifo"), &st) == 0 && S_ISFIFO(st.st_mode);
    if (!still) kill(pid, SIGKILL); /* replaced: the reader would wait forever */
    ok(wst == SMX_OK && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && still,
       "FIFO: the reader gets the data, the FIFO stays");

    /* errors name the real cause */
    errno = 0;
    ok(smx_tsv_open(path("real.tsv/x")) == NULL && errno == ENOTDIR, "parent is a file: ENOTDIR (%s)", strerror(errno));
    errno = 0;
    ok(smx_tsv_open(dir) == NULL && errno == EISDIR, "target is a directory: EISDIR (%s)", strerror(errno));
    errno = 0;
    ok(smx_file_write_atomic(path("real.tsv/y"), "x", 1) == SMX_EIO && errno == ENOTDIR, "atomic write: ENOTDIR too");
    ok(smx_out_check(path("new/sub/ok.tsv")) == SMX_OK && ntmp() == 0 && stat(path("new/sub/ok.tsv"), &st) != 0,
       "smx_out_check: creates the directories, leaves no file behind");
    errno = 0;
    ok(smx_out_check(path("real.tsv/x")) == SMX_EIO && errno == ENOTDIR, "smx_out_check: ENOTDIR");
    ok(!dev || smx_out_check(dnull) == SMX_OK, "smx_out_check: a writable device");

    /* multi-file output: all together or not at all */
    if (dev) {
        smx_tsv_t *g[2] = {smx_tsv_open(path("g1.tsv")), smx_tsv_open(dfull)};
        smx_tsv_header(g[0], "one");
        smx_tsv_header(g[1], "two");
        size_t at = 9;
        ok(g[0] && g[1] && smx_tsv_close_all_at(g, 2, &at) == SMX_EIO && errno == ENOSPC && at == 1 &&
               stat(path("g1.tsv"), &st) != 0 && ntmp() == 0,
           "close_all: one member fails (ENOSPC): the other does not appear, no temporary left, the failed one named");
        /* a file larger than stdio's buffer: the write error happens while rows are written (stdio
         * keeps only the flag); its errno must still be the one reported, not EIO */
        smx_tsv_t *h = smx_tsv_open(dfull);
        for (int i = 0; h && i < 100000; i++) {
            smx_tsv_num(h, 2.385 * i);
            smx_tsv_endrow(h);
        }
        errno = 0;
        ok(h && smx_tsv_close(h) == SMX_EIO && errno == ENOSPC, "a write error among the rows: errno ENOSPC (%s)",
           strerror(errno));
    } else {
        ok(1, "# SKIP mknod needs root");
        ok(1, "# SKIP mknod needs root");
    }
    smx_tsv_t *g[2];
    g[0] = smx_tsv_open(path("g1.tsv"));
    g[1] = smx_tsv_open(path("g2.tsv"));
    smx_tsv_header(g[0], "one");
    smx_tsv_header(g[1], "two");
    ok(smx_tsv_close_all(g, 2) == SMX_OK && read_is(path("g1.tsv"), "one\n") && read_is(path("g2.tsv"), "two\n") &&
           !g[0] && !g[1],
       "close_all: both appear");

    /* checkpoints go through the same writer */
    smx_ckpt_t *c = smx_ckpt_new();
    smx_ckpt_put_long(c, "epoch", 2385);
    ok(symlink("victim", path("ck.bin.tmp")) == 0 && smx_ckpt_write(c, path("ck.bin")) == SMX_OK &&
           read_is(path("victim"), "DATA\n"),
       "checkpoint: a symlink at ck.bin.tmp is not followed");
    errno = 0;
    ok(smx_ckpt_write(c, path("real.tsv/ck")) == SMX_EIO && errno == ENOTDIR, "checkpoint: ENOTDIR named");
    smx_ckpt_free(c);
    smx_ckpt_t *r = NULL;
    long ep = 0;
    ok(smx_ckpt_read(&r, NULL, path("ck.bin")) == SMX_OK && smx_ckpt_get_long(&ep, r, "epoch") == SMX_OK && ep == 2385,
       "checkpoint reads back");
    smx_ckpt_free(r);
    unlink(path("ck.bin.tmp"));

    pid = fork();
    if (pid == 0) {
        keep_at_exit = smx_tsv_open(path("exit.tsv"));
        if (!keep_at_exit) _exit(1);
        smx_tsv_header(keep_at_exit, "partial");
        exit(5); /* e.g. smx_cli_fail in the middle of writing */
    }
    ok(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 5 && ntmp() == 0 &&
           stat(path("exit.tsv"), &st) != 0,
       "exit() while writing: temporary removed, no output");
    pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_IGN); /* a program's own choice is respected */
        smx_tsv_t *t = smx_tsv_open(path("ign.tsv"));
        raise(SIGTERM);
        _exit(t && smx_tsv_close(t) == SMX_OK ? 0 : 1);
    }
    ok(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && stat(path("ign.tsv"), &st) == 0,
       "an ignored SIGTERM stays ignored");

    /* a forked child's exit() leaves the parent's temporary alone */
    {
        smx_tsv_t *t = smx_tsv_open(path("parent.tsv"));
        smx_tsv_header(t, "parent");
        fflush(smx_tsv_stream(t));
        pid = fork();
        if (pid == 0) exit(0);
        waitpid(pid, &ws, 0);
        ok(ntmp() == 1 && smx_tsv_close(t) == SMX_OK && read_is(path("parent.tsv"), "parent\n"),
           "a child's exit() does not remove the parent's temporary");
    }

    /* mode of a new file: 0666 & ~umask, like fopen */
    umask(027);
    ok(write_tsv(path("mode.tsv"), "m") == SMX_OK && stat(path("mode.tsv"), &st) == 0 && (st.st_mode & 0777) == 0640,
       "new file mode 0640 under umask 027 (%o)", (unsigned)(st.st_mode & 0777));
    umask(022);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "cleanup");
    check_writer();
    return tap_done();
}
