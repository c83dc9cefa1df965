/* t-fuzz.c - the fuzz targets' corpora (tests/fuzz/corpus-*, including every crash `make fuzz`
 * found, saved there) run as regression tests: each file through its target, without libFuzzer.
 * A crash or abort fails the test program (tests/run.sh counts it). */
#define SMX_FUZZ_REGRESSION 1
#include "fuzz/fuzz-cli.c"
#include "fuzz/fuzz-ckpt.c"
#include "fuzz/fuzz-files.c"
#include "tap.h"

#include <dirent.h>

static int run_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    int k = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(p, "rb");
        if (!fp) continue;
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        fn(buf, n);
        k++;
    }
    if (d) closedir(d);
    return k;
}

int main(void)
{
    int k = run_dir("tests/fuzz/corpus-cli", fuzz_cli);
    ok(k > 0, "fuzz corpus cli: %d inputs, no crash", k);
    k = run_dir("tests/fuzz/corpus-ckpt", fuzz_ckpt);
    ok(k > 0, "fuzz corpus ckpt: %d inputs, no crash", k);
    k = run_dir("tests/fuzz/corpus-files", fuzz_files);
    ok(k > 0, "fuzz corpus files (smx-moe / smx-bottleneck / smx-icl readers): %d inputs, no crash", k);
    return tap_done();
}
