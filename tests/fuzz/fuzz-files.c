/* fuzz-files.c - fuzz target: the data and parameter file readers the experiment programs add
 * (issue 9, standing protection). The first byte picks the reader, the rest is the file:
 *   0 smx_moe_read (smx-moe Gaussian parameter files: --truth, loss --fit)
 *   1 moe_tab_read (smx-moe fit --data tables)
 *   2 moe_mparams_read (smx-moe multinomial-expert parameter files)
 *   3 bottleneck_read_matrix TSV (smx-bottleneck recover --file / argmax --file), -inf refused
 *   4 the same with -inf accepted (log-probs of underflowed probabilities)
 *   5 bottleneck_read_matrix raw float32, 6 raw float64 (rows, cols from the next two bytes)
 *   7 icl_problem_read (smx-icl check --print: A, b, x)
 * Properties: never crash (ASan/UBSan), never leak; a refused file gets a one-line message; an
 * accepted one has consistent sizes and only the values its reader allows (every value is read, so
 * ASan sees any buffer shorter than the sizes claim).
 * libFuzzer: make fuzz; regression over tests/fuzz/corpus-files in make test (t-fuzz.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bottleneck_cmds.h"
#include "icl_softreg.h"
#include "moe.h"
#include "moe_cmds.h"
#include "smx.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* a refused file: SMX_EDOM / EIO / ENOMEM with a non-empty message on one line */
static void check_refusal(int st, const char *err)
{
    if (st != SMX_EDOM && st != SMX_EIO && st != SMX_ENOMEM) abort();
    if (!err[0] || strchr(err, '\n')) abort();
}

/* every value finite, or -inf where allowed; the sum touches every element */
static void check_values(const double *v, size_t n, int allow_neginf)
{
    volatile double s = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]) || v[i] == INFINITY || (v[i] == -INFINITY && !allow_neginf)) abort();
        s += v[i] == -INFINITY ? 0 : v[i];
    }
    (void)s;
}

static void check_moe(const smx_moe_t *m)
{
    if (m->k == 0 || m->d == 0) abort();
    check_values(m->beta0, m->k, 0);
    check_values(m->beta1, m->k * m->d, 0);
    check_values(m->a, m->k * m->d, 0);
    check_values(m->b, m->k, 0);
    check_values(m->var, m->k, 0);
}

static int fuzz_files(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int which = data[0] % 8;
    size_t rows = 0, cols = 0, skip = 1;
    if (which == 5 || which == 6) {
        if (size < 3) return 0;
        rows = data[1] % 64, cols = data[2] % 64, skip = 3;
    }
    int fd = memfd_create("smx-fuzz-files", 0);
    if (fd < 0) return 0;
    if (size > skip && write(fd, data + skip, size - skip) != (ssize_t)(size - skip)) {
        close(fd);
        return 0;
    }
    char path[64], err[1024] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int st;
    if (which == 0) {
        smx_moe_t m;
        st = smx_moe_read(&m, err, sizeof err, path, 0);
        if (st == SMX_OK) check_moe(&m), smx_moe_free(&m);
        else check_refusal(st, err);
    } else if (which == 1) {
        moe_tab_t t;
        st = moe_tab_read(&t, err, sizeof err, path, 64);
        if (st == SMX_OK) {
            if (t.ncol == 0 || t.ncol > 64) abort();
            for (size_t c = 0; c < t.ncol; c++)
                if (!t.names[c] || moe_tab_col(&t, t.names[c]) < 0) abort();
            check_values(t.v, t.nrow * t.ncol, 0);
            moe_tab_free(&t);
        } else check_refusal(st, err);
    } else if (which == 2) {
        moe_mparams_t p;
        st = moe_mparams_read(&p, err, sizeof err, path, 0);
        if (st == SMX_OK) {
            if (p.S < 2 || p.m.d > MOE_MPARAMS_DMAX) abort();
            check_values(p.m.beta0, p.m.k, 0);
            check_values(p.m.beta1, p.m.k * p.m.d, 0);
            check_values(p.th, p.m.k * (p.S - 1) * (p.m.d + 1), 0);
            moe_mparams_free(&p);
        } else check_refusal(st, err);
    } else if (which == 7) {
        double *A, *b, *x;
        size_t n, d;
        st = icl_problem_read(&A, &b, &x, &n, &d, path, err, sizeof err);
        if (st == SMX_OK) {
            if (n == 0 || d == 0 || b != A + n * d || x != b + n) abort();
            check_values(A, n * d + n + d, 0);
            free(A);
        } else check_refusal(st, err);
    } else {
        bottleneck_file_fmt_t fmt = which <= 4 ? BOTTLENECK_FILE_TSV : which == 5 ? BOTTLENECK_FILE_F32 : BOTTLENECK_FILE_F64;
        int allow = which == 4;
        double *a = NULL;
        size_t r = rows, c = cols;
        st = bottleneck_read_matrix(&a, &r, &c, path, fmt, allow, err, sizeof err);
        if (st == SMX_OK) {
            if (r == 0 || c == 0 || (fmt != BOTTLENECK_FILE_TSV && (r != rows || c != cols))) abort();
            check_values(a, r * c, allow);
            free(a);
        } else check_refusal(st, err);
    }
    close(fd);
    return 0;
}

#ifndef SMX_FUZZ_REGRESSION
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_files(data, size); }
#endif
