/* ckpt.c - checkpoint files: named binary entries, header and FNV-1a checksum (see ckpt.h). */
#include "ckpt.h"
#include "smx.h"
#include "tsv.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = {'S', 'M', 'X', 'C', 'K', 'P', 'T', '\n'};
enum { HEAD = 16, TAIL = 8, NAME_MAX_LEN = 255 };

typedef struct {
    size_t name, namelen, data, size; /* offsets into buf */
} entry_t;

struct smx_ckpt {
    unsigned char *buf; /* the file: header, entries (and checksum once read) */
    size_t len, cap;
    entry_t *e;
    size_t n, ncap;
};

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* FNV-1a 64: h = (h xor byte) * 0x100000001b3, from 0xcbf29ce484222325. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static int reserve(smx_ckpt_t *c, size_t more)
{
    if (more > SIZE_MAX / 2 - c->len) return SMX_ENOMEM;
    if (c->len + more <= c->cap) return SMX_OK;
    size_t cap = 2 * (c->len + more);
    unsigned char *b = realloc(c->buf, cap);
    if (!b) return SMX_ENOMEM;
    c->buf = b, c->cap = cap;
    return SMX_OK;
}

static int add_entry(smx_ckpt_t *c, entry_t e)
{
    if (c->n == c->ncap) {
        size_t ncap = c->ncap ? 2 * c->ncap : 16;
        entry_t *p = realloc(c->e, ncap * sizeof *p);
        if (!p) return SMX_ENOMEM;
        c->e = p, c->ncap = ncap;
    }
    c->e[c->n++] = e;
    return SMX_OK;
}

smx_ckpt_t *smx_ckpt_new(void)
{
    smx_ckpt_t *c = calloc(1, sizeof *c);
    if (!c || reserve(c, HEAD + TAIL)) {
        free(c);
        return NULL;
    }
    memcpy(c->buf, magic, 8);
    put_le(c->buf + 8, SMX_CKPT_VERSION, 4);
    c->len = HEAD;
    return c;
}

void smx_ckpt_free(smx_ckpt_t *c)
{
    if (!c) return;
    free(c->buf);
    free(c->e);
    free(c);
}

int smx_ckpt_put(smx_ckpt_t *c, const char *name, const void *data, size_t size)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl > NAME_MAX_LEN) return SMX_EDOM;
    if (size > SIZE_MAX / 4 || reserve(c, 4 + nl + 8 + size + TAIL)) return SMX_ENOMEM;
    entry_t e = {c->len + 4, nl, c->len + 4 + nl + 8, size};
    if (add_entry(c, e)) return SMX_ENOMEM;
    put_le(c->buf + c->len, nl, 4);
    memcpy(c->buf + e.name, name, nl);
    put_le(c->buf + e.name + nl, size, 8);
    if (size) memcpy(c->buf + e.data, data, size);
    c->len = e.data + size;
    return SMX_OK;
}

int smx_ckpt_put_f64(smx_ckpt_t *c, const char *name, const double *x, size_t n)
{
    if (n > SIZE_MAX / sizeof *x) return SMX_ENOMEM;
    return smx_ckpt_put(c, name, x, n * sizeof *x);
}

int smx_ckpt_put_long(smx_ckpt_t *c, const char *name, long v)
{
    unsigned char b[8];
    put_le(b, (uint64_t)(int64_t)v, 8);
    return smx_ckpt_put(c, name, b, 8);
}

int smx_ckpt_put_str(smx_ckpt_t *c, const char *name, const char *s)
{
    return smx_ckpt_put(c, name, s, strlen(s) + 1);
}

int smx_ckpt_write(smx_ckpt_t *c, const char *path)
{
    /* put reserved room for the checksum after the last entry */
    put_le(c->buf + 12, c->n, 4);
    put_le(c->buf + c->len, fnv1a(c->buf, c->len), 8);
    return smx_file_write_atomic(path, c->buf, c->len + TAIL);
}

/* Whole file into a malloc'ed buffer. */
static int slurp(unsigned char **buf, size_t *len, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return SMX_EIO;
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    int st = b ? SMX_OK : SMX_ENOMEM;
    while (!st) {
        n += fread(b + n, 1, cap - n, fp);
        if (n < cap) break;
        unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, 2 * cap);
        if (!nb) st = SMX_ENOMEM;
        else b = nb, cap *= 2;
    }
    if (!st && ferror(fp)) st = SMX_EIO;
    int e = errno;
    fclose(fp);
    errno = e;
    if (st) free(b), b = NULL;
    *buf = b, *len = n;
    return st;
}

/* Index the entries of a file already in c->buf; a static reason on failure. */
static const char *parse(smx_ckpt_t *c)
{
    if (c->len < HEAD + TAIL || memcmp(c->buf, magic, 8)) return "not an smx checkpoint (bad magic or too short)";
    if (get_le(c->buf + 8, 4) != SMX_CKPT_VERSION) return "unsupported checkpoint format version";
    size_t end = c->len - TAIL;
    if (get_le(c->buf + end, 8) != fnv1a(c->buf, end)) return "checksum mismatch (truncated or corrupted)";
    uint64_t count = get_le(c->buf + 12, 4);
    size_t off = HEAD;
    for (uint64_t i = 0; i < count; i++) {
        if (end - off < 4) return "entry header past the end";
        uint64_t nl = get_le(c->buf + off, 4);
        if (nl == 0 || nl > NAME_MAX_LEN || end - off - 4 < nl + 8) return "entry name past the end";
        uint64_t size = get_le(c->buf + off + 4 + nl, 8);
        size_t data = off + 4 + (size_t)nl + 8;
        if (size > end - data) return "entry data past the end";
        if (add_entry(c, (entry_t){off + 4, (size_t)nl, data, (size_t)size})) return "out of memory";
        off = data + (size_t)size;
    }
    return off == end ? NULL : "trailing bytes after the last entry";
}

int smx_ckpt_read(smx_ckpt_t **c, const char **why, const char *path)
{
    *c = NULL;
    if (why) *why = NULL;
    smx_ckpt_t *k = calloc(1, sizeof *k);
    if (!k) return SMX_ENOMEM;
    int st = slurp(&k->buf, &k->len, path);
    if (st) {
        int e = errno;
        free(k);
        errno = e;
        return st;
    }
    k->cap = k->len;
    const char *bad = parse(k);
    if (bad) {
        if (why) *why = bad;
        smx_ckpt_free(k);
        return SMX_EDOM;
    }
    *c = k;
    return SMX_OK;
}

const void *smx_ckpt_get(const smx_ckpt_t *c, const char *name, size_t *size)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].namelen == nl && !memcmp(c->buf + c->e[i].name, name, nl)) {
            *size = c->e[i].size;
            return c->buf + c->e[i].data;
        }
    return NULL;
}

int smx_ckpt_get_f64(double *x, const smx_ckpt_t *c, const char *name, size_t n)
{
    size_t size;
    const void *p = smx_ckpt_get(c, name, &size);
    if (!p || n > SIZE_MAX / sizeof *x || size != n * sizeof *x) return SMX_EDOM;
    if (size) memcpy(x, p, size);
    return SMX_OK;
}

int smx_ckpt_get_long(long *v, const smx_ckpt_t *c, const char *name)
{
    size_t size;
    const unsigned char *p = smx_ckpt_get(c, name, &size);
    if (!p || size != 8) return SMX_EDOM;
    int64_t x = (int64_t)get_le(p, 8);
    if (x < (int64_t)LONG_MIN || x > (int64_t)LONG_MAX) return SMX_EDOM;
    *v = (long)x;
    return SMX_OK;
}

const char *smx_ckpt_get_str(const smx_ckpt_t *c, const char *name)
{
    size_t size;
    const char *p = smx_ckpt_get(c, name, &size);
    if (!p || size == 0 || memchr(p, '\0', size) != p + size - 1) return NULL;
    return p;
}
