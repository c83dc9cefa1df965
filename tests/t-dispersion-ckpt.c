/* t-dispersion-ckpt.c - checkpoint files (numerics/ckpt.h, used by smx-dispersion retrieval):
 * round trip of doubles (bit for bit, NaN / -0 / subnormal included), longs, strings, raw bytes
 * and a gsl_rng state (the restored generator continues the same sequence); every truncation
 * and every single-byte change of the file is rejected with SMX_EDOM and a reason (never a
 * crash); missing file -> SMX_EIO, ENOENT; bad names and wrong sizes -> SMX_EDOM. */
#include "ckpt.h"
#include "smx.h"
#include "tap.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>

static char path[256], bad[256];

static int write_bytes(const char *p, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(p, "wb");
    if (!fp) return 1;
    int r = fwrite(b, 1, n, fp) != n;
    return fclose(fp) | r;
}

static unsigned char *read_bytes(const char *p, size_t *n)
{
    FILE *fp = fopen(p, "rb");
    if (!fp) return NULL;
    unsigned char *b = malloc(1 << 20);
    *n = fread(b, 1, 1 << 20, fp);
    fclose(fp);
    return b;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/t-dispersion-ckpt.%ld.ckpt", tmp, (long)getpid());
    snprintf(bad, sizeof bad, "%s/t-dispersion-ckpt.%ld.bad", tmp, (long)getpid());

    double x[6] = {2.385, -0.0, NAN, 4.9406564584124654e-324, -1.7976931348623157e308, 1.0 / 3};
    gsl_rng *r = smx_rng_alloc(2385);
    for (int i = 0; i < 1000; i++) gsl_rng_get(r);
    smx_ckpt_t *c = smx_ckpt_new();
    ok(c != NULL, "new");
    int st = smx_ckpt_put_f64(c, "x", x, 6);
    st |= smx_ckpt_put_long(c, "step", -1234567890123L);
    st |= smx_ckpt_put_str(c, "opt.lr", "0.0023850000000000002");
    st |= smx_ckpt_put(c, "empty", NULL, 0);
    ok(st == SMX_OK, "put doubles, long, string, empty entry");
    ok(smx_ckpt_put(c, "", x, 8) == SMX_EDOM, "empty name rejected");
    char longname[300];
    memset(longname, 'a', 299), longname[299] = 0;
    ok(smx_ckpt_put(c, longname, x, 8) == SMX_EDOM, "name of 299 bytes rejected");
    ok(smx_ckpt_write(c, path) == SMX_OK, "write");
    smx_ckpt_free(c);

    const char *why = "unset";
    st = smx_ckpt_read(&c, &why, path);
    ok(st == SMX_OK && c && why == NULL, "read back");
    if (!c) return tap_done();
    double y[6];
    ok(smx_ckpt_get_f64(y, c, "x", 6) == SMX_OK && !memcmp(x, y, sizeof x), "doubles bit for bit (NaN, -0, subnormal)");
    ok(smx_ckpt_get_f64(y, c, "x", 5) == SMX_EDOM, "wrong count -> SMX_EDOM");
    ok(smx_ckpt_get_f64(y, c, "nope", 6) == SMX_EDOM, "missing entry -> SMX_EDOM");
    long v = 0;
    ok(smx_ckpt_get_long(&v, c, "step") == SMX_OK && v == -1234567890123L, "long");
    ok(smx_ckpt_get_long(&v, c, "x") == SMX_EDOM, "long from a 48-byte entry -> SMX_EDOM");
    const char *s = smx_ckpt_get_str(c, "opt.lr");
    ok(s && !strcmp(s, "0.0023850000000000002"), "string");
    ok(smx_ckpt_get_str(c, "x") == NULL, "doubles are not a string");
    size_t size = 99;
    ok(smx_ckpt_get(c, "empty", &size) != NULL && size == 0, "empty entry");
    smx_ckpt_free(c);

    /* truncations and corruptions of that small file */
    size_t n = 0;
    unsigned char *b = read_bytes(path, &n);
    int all = 1, named = 1;
    for (size_t k = 0; b && k < n; k++) { /* every truncation */
        write_bytes(bad, b, k);
        why = NULL;
        st = smx_ckpt_read(&c, &why, bad);
        all &= st == SMX_EDOM && c == NULL;
        named &= why != NULL;
    }
    ok(b && all && named, "all %zu truncations -> SMX_EDOM with a reason", n);
    all = named = 1;
    for (size_t k = 0; b && k < n; k++) { /* every single-byte change */
        b[k] ^= 0x5a;
        write_bytes(bad, b, n);
        b[k] ^= 0x5a;
        why = NULL;
        st = smx_ckpt_read(&c, &why, bad);
        all &= st == SMX_EDOM && c == NULL;
        named &= why != NULL;
    }
    ok(b && all && named, "all %zu one-byte corruptions -> SMX_EDOM with a reason", n);
    if (b) {
        b[9] ^= 1; /* version 1 -> 257 (checked before the checksum) */
        write_bytes(bad, b, n);
        smx_ckpt_read(&c, &why, bad);
        ok(why && strstr(why, "version"), "other format version named: %s", why ? why : "(null)");
        write_bytes(bad, (const unsigned char *)"# not a checkpoint\n", 19);
        smx_ckpt_read(&c, &why, bad);
        ok(why && strstr(why, "magic"), "text file: %s", why ? why : "(null)");
    }
    free(b);
    remove(bad);

    /* the raw MT19937 state (gsl_rng_state, gsl_rng_size) through a checkpoint */
    c = smx_ckpt_new();
    ok(c && smx_ckpt_put(c, "rng.state", gsl_rng_state(r), gsl_rng_size(r)) == SMX_OK &&
       smx_ckpt_write(c, path) == SMX_OK, "write rng state");
    smx_ckpt_free(c);
    gsl_rng *r2 = smx_rng_alloc(1);
    st = smx_ckpt_read(&c, &why, path);
    const void *rs = st ? NULL : smx_ckpt_get(c, "rng.state", &size);
    ok(rs && size == gsl_rng_size(r2), "rng state of %zu bytes read back", rs ? size : 0);
    if (rs && size == gsl_rng_size(r2)) memcpy(gsl_rng_state(r2), rs, size);
    int same = 1;
    for (int i = 0; i < 2000; i++) same &= gsl_rng_get(r) == gsl_rng_get(r2);
    ok(same, "restored MT19937 continues the same 2000 draws");
    gsl_rng_free(r), gsl_rng_free(r2);
    smx_ckpt_free(c);
    remove(path);
    errno = 0;
    ok(smx_ckpt_read(&c, &why, path) == SMX_EIO && errno == ENOENT && c == NULL, "missing file -> SMX_EIO, ENOENT");
    return tap_done();
}
