/* t-util.c - TSV writer (metadata, %.17g round trip, atomic rename, failure paths), strict
 * CLI number parsing, format lookup by every alias, RNG stream reproducibility. */
#include "cli.h"
#include "format.h"
#include "smx.h"
#include "tap.h"
#include "tsv.h"
#include "rng.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void check_tsv(void)
{
    char dir[] = "/tmp/smx-t-util-XXXXXX";
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

static void check_cli(void)
{
    double d;
    long l;
    ok(smx_cli_double(&d, "2.385") == SMX_OK && d == 2.385, "double parsed");
    ok(smx_cli_double(&d, "-1e-310") == SMX_OK && d == -1e-310, "subnormal accepted");
    ok(smx_cli_double(&d, "inf") == SMX_OK && isinf(d) && smx_cli_double(&d, "nan") == SMX_OK && isnan(d), "inf and nan accepted");
    ok(smx_cli_double(&d, "1e999") == SMX_EDOM, "overflowing literal rejected");
    ok(smx_cli_double(&d, "2.385x") == SMX_EDOM && smx_cli_double(&d, "") == SMX_EDOM &&
           smx_cli_double(&d, " 1") == SMX_EDOM && smx_cli_double(&d, NULL) == SMX_EDOM,
       "trailing junk, empty, leading blank, NULL rejected");
    ok(smx_cli_long(&l, "113", 2, 4096) == SMX_OK && l == 113, "integer parsed");
    ok(smx_cli_long(&l, "1", 2, 4096) == SMX_EDOM && smx_cli_long(&l, "5000", 2, 4096) == SMX_EDOM &&
           smx_cli_long(&l, "7.5", 2, 4096) == SMX_EDOM && smx_cli_long(&l, "99999999999999999999", 0, 10) == SMX_EDOM,
       "out of range, fractional and overflowing integers rejected");
    const char *aliases[][2] = {{"binary16", "fp16"}, {"half", "fp16"}, {"bfloat16", "bf16"}, {"binary32", "fp32"},
                                {"single", "fp32"}, {"float", "fp32"}, {"binary64", "fp64"}, {"double", "fp64"},
                                {"x87", "fp80"}, {"binary128", "fp128"}, {"quad", "fp128"}, {"e4m3", "fp8-e4m3"},
                                {"e5m2", "fp8-e5m2"}, {"P37", "p37"}};
    int good = 1;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        smx_format_t f;
        good &= smx_format_get(&f, aliases[i][0]) == SMX_OK && !strcmp(f.name, aliases[i][1]);
    }
    ok(good, "every format alias resolves to its canonical name");
    double v[4];
    smx_format_t fl[4];
    ok(smx_cli_doubles_or_fail(v, 4, "2.385,-1.5,1e-3", -10, 10, "t", "--x") == 3 && v[0] == 2.385 && v[1] == -1.5 &&
           v[2] == 1e-3,
       "comma-separated doubles parsed");
    ok(smx_cli_formats_or_fail(fl, 4, "bf16,p37,binary64", 1, "t", "--f") == 3 && fl[0].p == 8 && fl[1].p == 37 &&
           fl[2].p == 53,
       "comma-separated formats parsed (the failing cases exit 2: tests/t-dispersion.sh, t-collapse.sh)");
    ok(!strcmp(smx_strerror(SMX_EDOM), "invalid argument") && !strcmp(smx_strerror(99), "unknown error"), "status texts");
}

static void check_rng(void)
{
    gsl_rng *a = smx_rng_alloc_stream(2385, 3), *b = smx_rng_alloc_stream(2385, 3), *c = smx_rng_alloc_stream(2385, 4);
    unsigned long x = gsl_rng_get(a), y = gsl_rng_get(b), z = gsl_rng_get(c);
    ok(x == y && x != z, "RNG streams: same (seed, stream) same numbers, other stream differs");
    gsl_rng_free(a);
    gsl_rng_free(b);
    gsl_rng_free(c);
}

int main(void)
{
    check_tsv();
    check_cli();
    check_rng();
    return tap_done();
}
