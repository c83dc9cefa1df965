/* fuzz-ckpt.c - fuzz target: the checkpoint reader (smx_ckpt_read) on arbitrary bytes. A file
 * is either rejected with a reason or every entry it lists lies inside it (read every entry's
 * bytes; ASan catches any read past the buffer). Properties: never crash, never leak.
 * libFuzzer: make fuzz; regression over tests/fuzz/corpus-ckpt in make test (t-fuzz.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ckpt.h"
#include "smx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_ckpt(const uint8_t *data, size_t size)
{
    int fd = memfd_create("smx-fuzz-ckpt", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    smx_ckpt_t *c = NULL;
    const char *why = NULL;
    int st = smx_ckpt_read(&c, &why, path);
    if (st == SMX_OK) {
        static const char *const names[] = {"epoch", "options", "params", "rng", "x", NULL};
        volatile unsigned sum = 0;
        for (int i = 0; names[i]; i++) {
            size_t n = 0;
            const unsigned char *p = smx_ckpt_get(c, names[i], &n);
            for (size_t k = 0; p && k < n; k++) sum += p[k];
            long v;
            smx_ckpt_get_long(&v, c, names[i]);
            (void)smx_ckpt_get_str(c, names[i]);
        }
        smx_ckpt_free(c);
    } else if (st == SMX_EDOM && !why) {
        abort(); /* an invalid file must say why */
    }
    close(fd);
    return 0;
}

#ifndef SMX_FUZZ_REGRESSION
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ckpt(data, size); }
#endif
