/* t-ckpt.c - checkpoint files (numerics/ckpt.h): every value round-trips bit for bit; the bytes on
 * disk follow the documented layout (magic, version, count, entries, FNV-1a 64 checked by an
 * independent implementation here); every corrupted, truncated or forged file is refused with a
 * reason (never accepted, never a crash); the put/get errors of the interface. */
#include "ckpt.h"
#include "smx.h"
#include "tap.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/smx-t-ckpt-XXXXXX";

static const char *path(const char *name)
{
    static char buf[2][256];
    static int i;
    i ^= 1;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

/* FNV-1a 64 written again from its definition (offset basis 14695981039346656037, prime 2^40 + 435). */
static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static uint64_t le(const unsigned char *p, int k)
{
    uint64_t v = 0;
    while (k--) v = v << 8 | p[k];
    return v;
}

static size_t slurp(unsigned char *b, size_t cap, const char *p)
{
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(b, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

static void spit(const unsigned char *b, size_t n, const char *p)
{
    FILE *f = fopen(p, "wb");
    if (f) fwrite(b, 1, n, f), fclose(f);
}

/* a file of n bytes whose last 8 are the correct checksum of the rest (a forged but "valid" file) */
static void spit_signed(unsigned char *b, size_t n, const char *p)
{
    uint64_t h = fnv(b, n - 8);
    for (int i = 0; i < 8; i++) b[n - 8 + i] = (unsigned char)(h >> (8 * i));
    spit(b, n, p);
}

static const double special[] = {2.385, -0.0, 4.9406564584124654e-324, 2.2250738585072009e-308, DBL_MAX, -1.0 / 0.0,
                                 1.0 / 0.0, -7.125e-300};

static void test_roundtrip(void)
{
    double x[9];
    memcpy(x, special, sizeof special);
    uint64_t nanbits = 0x7ff8000000002385u; /* a quiet NaN with a payload */
    memcpy(&x[8], &nanbits, 8);
    char name255[256];
    memset(name255, 'q', 255), name255[255] = 0;
    unsigned char blob[5] = {0, 255, 0, 7, 0};
    smx_ckpt_t *c = smx_ckpt_new();
    int st = smx_ckpt_put_f64(c, "x", x, 9) | smx_ckpt_put_long(c, "min", LONG_MIN) |
             smx_ckpt_put_long(c, "max", LONG_MAX) | smx_ckpt_put_long(c, "neg", -2385) |
             smx_ckpt_put_str(c, "s", "lr=0.002385 seed=7") | smx_ckpt_put_str(c, "empty", "") |
             smx_ckpt_put(c, name255, blob, 5) | smx_ckpt_put(c, "zero", NULL, 0) | smx_ckpt_put_long(c, "neg", 1);
    ok(st == SMX_OK, "put: 9 doubles, 4 longs, 2 strings, a 5-byte blob under a 255-byte name, an empty entry");
    ok(smx_ckpt_write(c, path("a.ckpt")) == SMX_OK, "write");
    ok(smx_ckpt_write(c, path("b.ckpt")) == SMX_OK, "write again (the checksum slot is reused, not appended)");
    smx_ckpt_free(c);

    smx_ckpt_t *r;
    const char *why = "unset";
    ok(smx_ckpt_read(&r, &why, path("a.ckpt")) == SMX_OK && r && why == NULL, "read back, no reason");
    double y[9];
    memset(y, 0, sizeof y);
    ok(smx_ckpt_get_f64(y, r, "x", 9) == SMX_OK && !memcmp(x, y, sizeof x),
       "doubles bit for bit: -0, subnormal, DBL_MAX, +-inf, a NaN payload");
    long a = 0, b = 0, n = 0;
    ok(!smx_ckpt_get_long(&a, r, "min") && !smx_ckpt_get_long(&b, r, "max") && a == LONG_MIN && b == LONG_MAX,
       "longs LONG_MIN, LONG_MAX");
    ok(!smx_ckpt_get_long(&n, r, "neg") && n == -2385, "a repeated name gives the first entry (-2385, not 1)");
    const char *s = smx_ckpt_get_str(r, "s"), *e = smx_ckpt_get_str(r, "empty");
    ok(s && !strcmp(s, "lr=0.002385 seed=7") && e && *e == 0, "strings, also the empty one");
    size_t sz = 99;
    const unsigned char *p = smx_ckpt_get(r, name255, &sz);
    ok(p && sz == 5 && !memcmp(p, blob, 5), "a blob with zero bytes under a 255-byte name");
    ok(smx_ckpt_get(r, "zero", &sz) != NULL && sz == 0, "an empty entry exists with size 0");
    ok(smx_ckpt_get(r, "absent", &sz) == NULL, "a missing entry: NULL");
    ok(smx_ckpt_get_f64(y, r, "x", 8) == SMX_EDOM && smx_ckpt_get_f64(y, r, "x", 10) == SMX_EDOM,
       "get_f64 with the wrong count: EDOM");
    ok(smx_ckpt_get_long(&n, r, "x") == SMX_EDOM && smx_ckpt_get_long(&n, r, "absent") == SMX_EDOM,
       "get_long of 72 bytes or of a missing entry: EDOM");
    ok(smx_ckpt_get_str(r, name255) == NULL && smx_ckpt_get_str(r, "min") == NULL,
       "get_str of a blob with an inner NUL, of a long without NUL: NULL");
    smx_ckpt_free(r);

    unsigned char f1[4096], f2[4096];
    size_t n1 = slurp(f1, sizeof f1, path("a.ckpt")), n2 = slurp(f2, sizeof f2, path("b.ckpt"));
    ok(n1 == n2 && !memcmp(f1, f2, n1), "writing twice gives the same bytes");
    /* layout: 8 + 4 + 4 | 9 entries | 8 */
    size_t want = 16 + (4 + 1 + 8 + 72) + 3 * (4 + 3 + 8 + 8) + (4 + 1 + 8 + 19) + (4 + 5 + 8 + 1) + (4 + 255 + 8 + 5) +
                  (4 + 4 + 8 + 0) + (4 + 3 + 8 + 8) + 8;
    ok(n1 == want, "file size %zu = the documented layout's %zu", n1, want);
    ok(!memcmp(f1, "SMXCKPT\n", 8) && le(f1 + 8, 4) == SMX_CKPT_VERSION && le(f1 + 12, 4) == 9,
       "magic, version 1, entry count 9 (little-endian)");
    ok(le(f1 + 16, 4) == 1 && f1[20] == 'x' && le(f1 + 21, 8) == 72 && !memcmp(f1 + 29, x, 72),
       "first entry: name length 1, name, byte count 72, the doubles' bytes");
    size_t o = 16 + 4 + 1 + 8 + 72; /* "min": LONG_MIN as little-endian int64 */
    ok(le(f1 + o, 4) == 3 && !memcmp(f1 + o + 4, "min", 3) && le(f1 + o + 7, 8) == 8 &&
           le(f1 + o + 15, 8) == (uint64_t)INT64_MIN,
       "a long is stored as little-endian int64");
    ok(le(f1 + n1 - 8, 8) == fnv(f1, n1 - 8), "the trailer is FNV-1a 64 of everything before it");
}

/* Each single-byte change and each truncation of a valid file is refused with a reason. */
static void test_corruption(void)
{
    smx_ckpt_t *c = smx_ckpt_new();
    double v[3] = {2.385, -1.5, 1e-300};
    smx_ckpt_put_f64(c, "w", v, 3);
    smx_ckpt_put_long(c, "epoch", 2385);
    smx_ckpt_write(c, path("good.ckpt"));
    smx_ckpt_free(c);
    unsigned char f[512], g[520];
    size_t n = slurp(f, sizeof f, path("good.ckpt"));
    int accepted = 0, noreason = 0;
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(g, f, n);
            g[i] ^= (unsigned char)(1u << bit);
            spit(g, n, path("bad.ckpt"));
            smx_ckpt_t *r;
            const char *why = NULL;
            int st = smx_ckpt_read(&r, &why, path("bad.ckpt"));
            accepted += st == SMX_OK, noreason += st == SMX_EDOM && !why;
            if (st == SMX_OK) smx_ckpt_free(r);
            else accepted += r != NULL;
        }
    ok(accepted == 0 && noreason == 0, "%zu bytes x 3 single-bit flips: all refused (EDOM with a reason)", n);
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        spit(f, k, path("short.ckpt"));
        smx_ckpt_t *r;
        const char *why = NULL;
        int st = smx_ckpt_read(&r, &why, path("short.ckpt"));
        bad += st != SMX_EDOM || !why || r;
        if (st == SMX_OK) smx_ckpt_free(r);
    }
    ok(bad == 0, "every truncation to 0..%zu bytes: EDOM with a reason", n - 1);
    memcpy(g, f, n), g[n] = 0;
    spit(g, n + 1, path("long.ckpt"));
    smx_ckpt_t *r;
    const char *why = NULL;
    ok(smx_ckpt_read(&r, &why, path("long.ckpt")) == SMX_EDOM && why, "one byte appended: refused");

    /* forged files with a correct checksum: the structure is checked on its own */
    struct {
        size_t off;
        uint64_t val;
        int bytes;
        const char *what, *reason;
    } forge[] = {
        {8, 2, 4, "version 2", "version"},
        {12, 3, 4, "entry count 3 for 2 entries", "past the end"},
        {12, 1, 4, "entry count 1 for 2 entries", "trailing"},
        {16, 0, 4, "a name of length 0", "name"},
        {16, 256, 4, "a name of length 256", "name"},
        {21, 1u << 20, 8, "a byte count past the end", "data past the end"},
        {21, UINT64_MAX, 8, "a byte count of 2^64 - 1", "data past the end"},
        {21, 60, 8, "a byte count reaching 11 bytes past the entries' end", "data past the end"},
    };
    for (size_t k = 0; k < sizeof forge / sizeof *forge; k++) {
        memcpy(g, f, n);
        for (int i = 0; i < forge[k].bytes; i++) g[forge[k].off + i] = (unsigned char)(forge[k].val >> (8 * i));
        spit_signed(g, n, path("forged.ckpt"));
        why = NULL;
        int st = smx_ckpt_read(&r, &why, path("forged.ckpt"));
        ok(st == SMX_EDOM && r == NULL && why && strstr(why, forge[k].reason), "forged, %s: refused (%s)",
           forge[k].what, why ? why : "no reason");
    }
    memcpy(g, f, n);
    spit_signed(g, n, path("resigned.ckpt"));
    ok(smx_ckpt_read(&r, &why, path("resigned.ckpt")) == SMX_OK, "control: the unchanged file re-signed is accepted");
    smx_ckpt_free(r);
    errno = 0;
    ok(smx_ckpt_read(&r, &why, path("absent.ckpt")) == SMX_EIO && errno == ENOENT && r == NULL,
       "a missing file: EIO with errno ENOENT");
}

static void test_put_errors(void)
{
    smx_ckpt_t *c = smx_ckpt_new();
    char n256[257];
    memset(n256, 'q', 256), n256[256] = 0;
    ok(smx_ckpt_put_long(c, "", 1) == SMX_EDOM && smx_ckpt_put_long(c, n256, 1) == SMX_EDOM,
       "an empty name or a 256-byte name: EDOM");
    ok(smx_ckpt_write(c, path("empty.ckpt")) == SMX_OK, "the refused puts left no entry: the file is written");
    smx_ckpt_free(c);
    smx_ckpt_t *r;
    unsigned char f[64];
    ok(slurp(f, sizeof f, path("empty.ckpt")) == 24 && smx_ckpt_read(&r, NULL, path("empty.ckpt")) == SMX_OK,
       "an empty checkpoint is 24 bytes and reads back");
    size_t sz;
    ok(r && smx_ckpt_get(r, "q", &sz) == NULL, "with no entries");
    smx_ckpt_free(r);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    test_roundtrip();
    test_corruption();
    test_put_errors();
    const char *names[] = {"a.ckpt", "b.ckpt", "good.ckpt", "bad.ckpt", "short.ckpt", "long.ckpt", "forged.ckpt",
                           "resigned.ckpt", "empty.ckpt"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unlink(path(names[i]));
    rmdir(dir);
    return tap_done();
}
