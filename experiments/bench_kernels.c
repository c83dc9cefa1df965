/* bench_kernels.c - smx-bench kernels / copy: time per element of every softmax kernel
 * (numerics/kernels.h) against the streaming copy-and-scale limit measured in the same run.
 *
 * Compulsory traffic (issue 10): one read of x and one write of y, 2 n sizeof(T) bytes (LSE:
 * n sizeof(T)); GB/s = that / time. ratio_copy = the copy-and-scale time (same n, type, ISA,
 * threads: also 2 n sizeof(T) bytes) / the kernel's time; ratio_exp = the exp-alone time (y = e^x,
 * same n) / the kernel's; elem_per_cycle uses the nominal clock of /proc/cpuinfo ("cpu MHz").
 * Time = median over --reps rounds of a loop that runs the kernel until --min-time has passed
 * (count fixed by a first calibration), so every repetition sees the same state of the caches (in
 * cache for small n, streaming for n beyond the last level); each round times every kernel of the
 * size once (copy, exp and the read-only pass included), so the ratios compare the same seconds. */
#include "bench_cmds.h"
#include "cli.h"
#include "kernels.h"
#include "smx.h"
#include "tsv.h"
#include "rng.h"
#include "machine.h"

#include <gsl/gsl_randist.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

static const char KUSAGE[] =
    "usage: smx-bench kernels|copy [options]\n"
    "  --types LIST   float,double (default both)\n"
    "  --algos LIST   three-pass,reload,online,two-pass or all (default all; kernels only)\n"
    "  --funcs LIST   softmax,logsoftmax,lse or all (default softmax; kernels only)\n"
    "  --isa I        auto (default: avx512 > avx2 > scalar), scalar, avx2, avx512\n"
    "  --nmin N       smallest n (default 100)\n"
    "  --nmax N       largest n (default 2^24 quick, 2^27 paper; always measured)\n"
    "  --per-octave S sizes per octave: n = nmin 2^(k/S) (default 1 quick, 2 paper; old name --steps)\n"
    "  --reps R       rounds, each timing every kernel once; medians reported (default 5 quick,\n"
    "                 11 paper)\n"
    "  --min-time T   seconds per repetition (default 0.01 quick, 0.05 paper)\n"
    "  --seed S       inputs: x_i = 4 N(0,1) + 2.385 from this seed (default 1)\n"
    "  --threads T    OpenMP threads of the kernels (default 1: the issue's one-thread targets)\n"
    "  --clock C      wall (default) | cpu: this thread's CPU time, for one thread on a shared\n"
    "                 machine (time other processes take from the core is not counted)\n"
    "  --stream-bytes B  kernels write outputs of >= B bytes with non-temporal stores (default:\n"
    "                 never; kernels.h: they were slower here); the copy-nt row times them alone\n"
    "  --profile P    quick | paper    --out FILE (default data/bench/bench-kernels.tsv or\n"
    "                 data/bench/bench-copy.tsv)   --quiet (no progress on stderr)\n"
    "Rows: type func algo isa n threads ns_per_elem gbps ratio_copy ratio_exp elem_per_cycle;\n"
    "func copy: algo copy (ordinary stores: the reference of ratio_copy) and copy-nt (non-temporal\n"
    "stores, as the kernels use with --stream-bytes); func exp: the exp alone; func read: the max pass\n"
    "alone (a read-only stream, traffic n sizeof(T)); func ceiling, algo two-read: the time of read +\n"
    "copy, the fastest any softmax that reads x twice (two-pass, online) can be out of cache.\n"
    "A one-line summary (largest n) goes to stdout.\n";

static const char *const TYPES[] = {"float", "double", NULL};
static const char *const FUNCS[] = {"softmax", "logsoftmax", "lse", NULL};

void bench_names_or_fail(int *sel, const char *s, const char *const *choices, const char *prog, const char *opt)
{
    int k = 0;
    for (k = 0; choices[k]; k++) sel[k] = 0;
    if (!strcmp(s, "all")) {
        for (k = 0; choices[k]; k++) sel[k] = 1;
        return;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    int any = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int j = smx_cli_choice_or_fail(w, choices, prog, opt);
        sel[j] = 1;
        any = 1;
    }
    if (!any) smx_cli_fail(prog, "%s: empty list", opt);
}

static void read_cpuinfo(char *model, size_t mlen, double *mhz)
{
    snprintf(model, mlen, "unknown");
    *mhz = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    int got_model = 0;
    while (fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (!c) continue;
        if (!got_model && !strncmp(line, "model name", 10)) {
            snprintf(model, mlen, "%s", c + 2);
            model[strcspn(model, "\n")] = 0;
            got_model = 1;
        } else if (*mhz == 0 && !strncmp(line, "cpu MHz", 7)) {
            *mhz = atof(c + 1);
        }
    }
    fclose(f);
}

void bench_opt_begin(smx_cli_common_t *c, int *quiet)
{
    smx_cli_common_init(c);
    *quiet = 0;
    optind = 1;
    opterr = 0;
}

void bench_meta_machine(smx_tsv_t *t)
{
    char model[256];
    double mhz;
    read_cpuinfo(model, sizeof model, &mhz);
    smx_tsv_meta(t, "cpu", "%s, nominal %.0f MHz", model, mhz);
    smx_tsv_meta(t, "cores", "%ld online", sysconf(_SC_NPROCESSORS_ONLN));
    smx_tsv_meta(t, "caches", "L1d %ld B, L2 %ld B, L3 %ld B", sysconf(_SC_LEVEL1_DCACHE_SIZE),
                 sysconf(_SC_LEVEL2_CACHE_SIZE), sysconf(_SC_LEVEL3_CACHE_SIZE));
    smx_tsv_meta(t, "isa", "avx2+fma %s, avx512f %s; auto = %s",
                 smx_kernels_isa_available(SMX_KERNELS_AVX2) ? "yes" : "no",
                 smx_kernels_isa_available(SMX_KERNELS_AVX512) ? "yes" : "no",
                 smx_kernels_isa_name(smx_kernels_isa_best()));
    smx_tsv_meta(t, "compiler", "%s", __VERSION__);
}

typedef struct {
    int is_f32, func, algo; /* func: 0 softmax 1 logsoftmax 2 lse 3 copy 4 exp 5 copy, non-temporal 6 read */
    smx_kernels_isa_t isa;
    int threads;
    void *y, *x;
    size_t n;
} job_t;

static int job_run(const job_t *j)
{
    if (j->is_f32) {
        float *y = j->y, *x = j->x, l;
        switch (j->func) {
        case 0: return smx_kernels_softmax_f32(y, x, j->n, j->algo, j->isa, j->threads);
        case 1: return smx_kernels_logsoftmax_f32(y, x, j->n, j->algo, j->isa, j->threads);
        case 2: return smx_kernels_lse_f32(&l, x, j->n, j->algo, j->isa, j->threads);
        case 3: return smx_kernels_scale_f32(y, x, j->n, 0.5f, 0, j->isa, j->threads);
        case 5: return smx_kernels_scale_f32(y, x, j->n, 0.5f, 1, j->isa, j->threads);
        case 6: return smx_kernels_max_f32(&l, x, j->n, j->isa, j->threads);
        default: return smx_kernels_exp_f32(y, x, j->n, j->isa);
        }
    }
    double *y = j->y, *x = j->x, l;
    switch (j->func) {
    case 0: return smx_kernels_softmax_f64(y, x, j->n, j->algo, j->isa, j->threads);
    case 1: return smx_kernels_logsoftmax_f64(y, x, j->n, j->algo, j->isa, j->threads);
    case 2: return smx_kernels_lse_f64(&l, x, j->n, j->algo, j->isa, j->threads);
    case 3: return smx_kernels_scale_f64(y, x, j->n, 0.5, 0, j->isa, j->threads);
    case 5: return smx_kernels_scale_f64(y, x, j->n, 0.5, 1, j->isa, j->threads);
    case 6: return smx_kernels_max_f64(&l, x, j->n, j->isa, j->threads);
    default: return smx_kernels_exp_f64(y, x, j->n, j->isa);
    }
}


/* --clock cpu: the calling thread's CPU time instead of wall time (one thread only). */
static int clock_cpu = 0;

static double bench_now(void)
{
    if (!clock_cpu) return smx_time_now();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The number of calls that lasts at least min_time (after a warm-up call). */
static long job_calls(const job_t *j, double min_time)
{
    job_run(j); /* warm-up */
    long calls = 1;
    for (;;) {
        double t0 = bench_now();
        for (long c = 0; c < calls; c++) job_run(j);
        double dt = bench_now() - t0;
        if (dt >= min_time || calls > (1L << 30)) return calls;
        calls = dt > 0 ? (long)(calls * fmin(1.2 * min_time / dt, 100)) + 1 : calls * 100;
    }
}

/* Seconds per call over `calls` calls. */
static double job_once(const job_t *j, long calls)
{
    double t0 = bench_now();
    for (long c = 0; c < calls; c++) job_run(j);
    return (bench_now() - t0) / (double)calls;
}

/* Median seconds per call of each of the nj jobs over reps rounds; every round times every job
 * once, so slow phases of a shared machine fall on all of them alike and the ratios to copy
 * compare times taken in the same seconds. */
static void jobs_time(double *med, const job_t *jobs, int nj, int reps, double min_time)
{
    long *calls = malloc((size_t)nj * sizeof(long));
    double *ts = malloc((size_t)nj * (size_t)reps * sizeof(double));
    if (!calls || !ts) smx_cli_die(SMX_EXIT_NOMEM, "smx-bench", "out of memory for the timings");
    for (int i = 0; i < nj; i++) calls[i] = job_calls(&jobs[i], min_time);
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nj; i++) ts[(size_t)i * (size_t)reps + (size_t)r] = job_once(&jobs[i], calls[i]);
    for (int i = 0; i < nj; i++) med[i] = smx_time_median(ts + (size_t)i * (size_t)reps, (size_t)reps);
    free(calls);
    free(ts);
}

/* kernels, or with copy_only the copy rows alone (smx-bench copy) */
static int kernels_run(int argc, char **argv, int copy_only)
{
    const char *PROG = copy_only ? "smx-bench copy" : "smx-bench kernels";
    enum { OPT_TYPES = SMX_OPT_FIRST_PRIVATE, OPT_ALGOS, OPT_FUNCS, OPT_ISA, OPT_NMIN, OPT_NMAX, OPT_STEPS, OPT_REPS,
           OPT_MINTIME, OPT_CLOCK, OPT_STREAM };
    static const struct option opts[] = {BENCH_COMMON_OPTIONS,
                                         {"types", required_argument, 0, OPT_TYPES},
                                         {"algos", required_argument, 0, OPT_ALGOS},
                                         {"funcs", required_argument, 0, OPT_FUNCS},
                                         {"isa", required_argument, 0, OPT_ISA},
                                         {"nmin", required_argument, 0, OPT_NMIN},
                                         {"nmax", required_argument, 0, OPT_NMAX},
                                         {"per-octave", required_argument, 0, OPT_STEPS},
                                         {"steps", required_argument, 0, OPT_STEPS}, /* old name */
                                         {"reps", required_argument, 0, OPT_REPS},
                                         {"min-time", required_argument, 0, OPT_MINTIME},
                                         {"clock", required_argument, 0, OPT_CLOCK},
                                         {"stream-bytes", required_argument, 0, OPT_STREAM},
                                         {0, 0, 0, 0}};
    smx_cli_common_t c;
    int quiet;
    bench_opt_begin(&c, &quiet);
    int types[2] = {1, 1}, algos[SMX_KERNELS_NALGOS] = {1, 1, 1, 1}, funcs[3] = {1, 0, 0};
    smx_kernels_isa_t isa = SMX_KERNELS_AUTO;
    long nmin = 100, nmax = -1, steps = -1, reps = -1;
    double min_time = -1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case OPT_TYPES: bench_names_or_fail(types, optarg, TYPES, PROG, "--types"); break;
        case OPT_ALGOS:
            if (copy_only) smx_cli_fail(PROG, "--algos applies to 'smx-bench kernels' only");
            bench_names_or_fail(algos, optarg, smx_kernels_algo_names, PROG, "--algos"); break;
        case OPT_FUNCS:
            if (copy_only) smx_cli_fail(PROG, "--funcs applies to 'smx-bench kernels' only");
            bench_names_or_fail(funcs, optarg, FUNCS, PROG, "--funcs"); break;
        case OPT_ISA: isa = (smx_kernels_isa_t)smx_cli_choice_or_fail(optarg, smx_kernels_isa_names, PROG, "--isa"); break;
        case OPT_NMIN: nmin = smx_cli_long_or_fail(optarg, 1, 1L << 30, PROG, "--nmin"); break;
        case OPT_NMAX: nmax = smx_cli_long_or_fail(optarg, 1, 1L << 30, PROG, "--nmax"); break;
        case OPT_STEPS: steps = smx_cli_long_or_fail(optarg, 1, 16, PROG, "--per-octave"); break;
        case OPT_REPS: reps = smx_cli_long_or_fail(optarg, 1, 1001, PROG, "--reps"); break;
        case OPT_MINTIME:
            min_time = smx_cli_double_or_fail(optarg, PROG, "--min-time");
            if (!(min_time >= 0 && min_time <= 60)) smx_cli_fail(PROG, "--min-time: '%s' is not in [0, 60] seconds", optarg);
            break;
        case OPT_CLOCK: {
            static const char *const clocks[] = {"wall", "cpu", NULL};
            clock_cpu = smx_cli_choice_or_fail(optarg, clocks, PROG, "--clock");
            break;
        }
        case OPT_STREAM:
            if (copy_only) smx_cli_fail(PROG, "--stream-bytes applies to 'smx-bench kernels' only");
            smx_kernels_set_stream_bytes((size_t)smx_cli_long_or_fail(optarg, 1, LONG_MAX, PROG, "--stream-bytes"));
            break;
        default: smx_cli_common_or_quiet(&c, &quiet, o, optarg, PROG, KUSAGE, argc, argv);
        }
    }
    smx_cli_no_positional(argc, argv, optind, PROG);
    int paper = c.profile == SMX_PROFILE_PAPER;
    if (nmax < 0) nmax = paper ? 1L << 27 : 1L << 24;
    if (steps < 0) steps = paper ? 2 : 1;
    if (reps < 0) reps = paper ? 11 : 5;
    if (min_time < 0) min_time = paper ? 0.05 : 0.01;
    if (nmin > nmax) smx_cli_fail(PROG, "--nmin: %ld is above --nmax %ld", nmin, nmax);
    if (!smx_kernels_isa_available(isa))
        smx_cli_fail(PROG, "--isa: this CPU does not run '%s'", smx_kernels_isa_name(isa));
    int threads = c.threads > 0 ? c.threads : 1;
    if (clock_cpu && threads != 1) smx_cli_fail(PROG, "--clock cpu: measures one thread, not --threads %d", threads);
    const char *out = c.out ? c.out : copy_only ? "data/bench/bench-copy.tsv" : "data/bench/bench-kernels.tsv";
    smx_cli_out_check_or_fail(out, PROG, "--out"); /* before the work (issue 9) */
    char what[64];
    snprintf(what, sizeof what, "--nmax %ld (two vectors of doubles)", nmax);
    smx_cli_mem_or_fail(2.0 * (double)nmax * sizeof(double), what, PROG);

    /* sizes: nmin 2^(k/steps), rounded, distinct, and nmax */
    size_t ns[512], nn = 0;
    for (int k = 0; nn < 511; k++) {
        double v = nearbyint((double)nmin * pow(2, (double)k / (double)steps));
        if (v >= (double)nmax) break;
        if (nn == 0 || (size_t)v != ns[nn - 1]) ns[nn++] = (size_t)v;
    }
    ns[nn++] = (size_t)nmax;

    size_t bytes = (size_t)nmax * sizeof(double);
    void *xb = NULL, *yb = NULL;
    if (posix_memalign(&xb, 64, bytes) || posix_memalign(&yb, 64, bytes))
        smx_cli_die(SMX_EXIT_NOMEM, PROG, "out of memory for n = %ld", nmax);
    smx_tsv_t *t = smx_tsv_open(out);
    if (!t) smx_cli_io_fail(PROG, "--out: cannot write", out);
    smx_tsv_meta_std(t, PROG, argc, argv);
    smx_cli_meta(t, &c);
    bench_meta_machine(t);
    char model[256];
    double mhz;
    read_cpuinfo(model, sizeof model, &mhz);
    smx_tsv_meta(t, "options", "isa %s, threads %d, nmin %ld, nmax %ld, steps %ld, reps %ld, min-time %g s, clock %s",
                 smx_kernels_isa_name(isa), threads, nmin, nmax, steps, reps, min_time, clock_cpu ? "cpu" : "wall");
    if (smx_kernels_stream_bytes() == SMX_KERNELS_STREAM_NEVER)
        smx_tsv_meta(t, "streaming", "kernels write every output with ordinary stores (non-temporal: --stream-bytes)");
    else
        smx_tsv_meta(t, "streaming", "kernels write outputs of >= %zu bytes with non-temporal stores",
                     smx_kernels_stream_bytes());
    smx_tsv_meta(t, "traffic", "compulsory bytes = 2 n sizeof(T) (read x once, write y once; lse: n sizeof(T))");
    smx_tsv_meta(t, "paper", "Dukhan & Ablavatski 2020: two-pass faster than three-pass out of cache by 18%% (AVX2) "
                             "and 28%% (AVX-512), Skylake-X; issue 10 targets: best float kernel >= 80%% of copy at "
                             "n = 2^27 on one thread, >= 3x torch.softmax (2.2 GB/s measured here)");
    smx_tsv_header(t, "type\tfunc\talgo\tisa\tn\tthreads\tns_per_elem\tgbps\tratio_copy\tratio_exp\telem_per_cycle");

    gsl_rng *r = smx_rng_alloc(c.seed);
    double *xd = xb;
    float *xf = xb;
    double sum_best = 0, sum_three = 0, sum_copy = 0;
    const char *best_name = "";
    static const char *const fnames[] = {"softmax", "logsoftmax", "lse", "copy", "exp", "copy", "read", "ceiling"};
    double sum_ceil = 0;
    for (int ty = 0; ty < 2; ty++) {
        if (!types[ty]) continue;
        int is_f32 = ty == 0;
        size_t esz = is_f32 ? sizeof(float) : sizeof(double);
        gsl_rng_set(r, c.seed);
        for (long i = 0; i < nmax; i++) {
            double v = 4 * gsl_ran_ugaussian(r) + 2.385;
            if (is_f32) xf[i] = (float)v;
            else xd[i] = v;
        }
        for (size_t k = 0; k < nn; k++) {
            size_t n = ns[k];
            /* the rows in order: softmax, logsoftmax, lse (x algorithms), copy, exp, copy-nt, read,
             * ceiling (= read + copy, derived); all timed in the same rounds */
            job_t jobs[3 * SMX_KERNELS_NALGOS + 5];
            int row_job[8][SMX_KERNELS_NALGOS], nj = 0;
            for (int f = copy_only ? 3 : 0; f < 7; f++) {
                for (int a = 0; a < SMX_KERNELS_NALGOS; a++) row_job[f][a] = -1;
                if (f < 3 && !funcs[f]) continue;
                if ((f == 4 || f == 6) && copy_only) continue;
                if (f == 5 && (isa == SMX_KERNELS_AUTO ? smx_kernels_isa_best() : isa) == SMX_KERNELS_SCALAR)
                    continue; /* scalar: no non-temporal stores */
                for (int a = 0; a < (f < 3 ? SMX_KERNELS_NALGOS : 1); a++) {
                    if (f < 3 && !algos[a]) continue;
                    row_job[f][a] = nj;
                    jobs[nj++] = (job_t){is_f32, f, a, isa, threads, yb, xb, n};
                }
            }
            double med[3 * SMX_KERNELS_NALGOS + 5];
            jobs_time(med, jobs, nj, (int)reps, min_time);
            double tcopy = med[row_job[3][0]], texp = copy_only ? NAN : med[row_job[4][0]],
                   tread = copy_only ? NAN : med[row_job[6][0]];
            for (int f = copy_only ? 3 : 0; f < 8; f++) {
                if (f == 7 && copy_only) continue;
                for (int a = 0; a < (f < 3 ? SMX_KERNELS_NALGOS : 1); a++) {
                    if (f < 7 && row_job[f][a] < 0) continue;
                    double tk = f == 7 ? tread + tcopy : med[row_job[f][a]];
                    double traffic = (f == 2 || f == 6 ? 1.0 : 2.0) * (double)n * (double)esz;
                    smx_tsv_str(t, TYPES[ty]);
                    smx_tsv_str(t, fnames[f]);
                    smx_tsv_str(t, f == 3 ? "copy" : f == 4 ? "exp" : f == 5 ? "copy-nt" : f == 6 ? "max"
                                   : f == 7 ? "two-read" : smx_kernels_algo_name(a));
                    smx_tsv_str(t, smx_kernels_isa_name(isa == SMX_KERNELS_AUTO ? smx_kernels_isa_best() : isa));
                    smx_tsv_int(t, (long long)n);
                    smx_tsv_int(t, threads);
                    smx_tsv_num(t, tk / (double)n * 1e9);
                    smx_tsv_num(t, traffic / tk * 1e-9);
                    smx_tsv_num(t, tcopy / tk);
                    smx_tsv_num(t, texp / tk);
                    smx_tsv_num(t, mhz > 0 ? (double)n / tk / (mhz * 1e6) : NAN);
                    smx_tsv_endrow(t);
                    if (is_f32 && n == (size_t)nmax && f == 0) {
                        double g = traffic / tk * 1e-9;
                        if (a == SMX_KERNELS_THREEPASS) sum_three = g;
                        if (g > sum_best) { sum_best = g; best_name = smx_kernels_algo_name(a); }
                    }
                    if (is_f32 && n == (size_t)nmax && f == 3) sum_copy = traffic / tk * 1e-9;
                    if (is_f32 && n == (size_t)nmax && f == 7) sum_ceil = traffic / tk * 1e-9;
                }
            }
            if (!quiet)
                fprintf(stderr, "%s: %s n = %zu done (copy %.3g GB/s)\n", PROG, TYPES[ty], n,
                    2.0 * (double)n * (double)esz / tcopy * 1e-9);
        }
    }
    gsl_rng_free(r);
    free(xb);
    free(yb);
    if (smx_tsv_close(t)) smx_cli_io_fail(PROG, "--out: cannot write", out);
    if (copy_only)
        printf("bench-copy: float n = %ld, %d thread(s): copy-and-scale %.3g GB/s\n", nmax, threads, sum_copy);
    else if (sum_best > 0)
        printf("bench-kernels: float softmax n = %ld, %d thread(s): best %s %.3g GB/s = %.0f%% of copy (%.3g GB/s), "
               "three-pass %.3g GB/s (best / three-pass = %.2f); two-read ceiling %.0f%% of copy\n",
               nmax, threads, best_name, sum_best, 100 * sum_best / sum_copy, sum_copy, sum_three,
               sum_three > 0 ? sum_best / sum_three : NAN, 100 * sum_ceil / sum_copy);
    return 0;
}

int bench_cmd_kernels(int argc, char **argv) { return kernels_run(argc, argv, 0); }
int bench_cmd_copy(int argc, char **argv) { return kernels_run(argc, argv, 1); }
