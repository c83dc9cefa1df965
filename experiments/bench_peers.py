#!/usr/bin/env python3
"""bench_peers.py - what users run instead of smx's kernels: torch.softmax and
scipy.special.softmax timed on the same n as smx-bench kernels (issue 10), one thread by default.

Rows (TSV, like smx-bench): peer type n threads ns_per_elem gbps, with
gbps = 2 n sizeof(T) / time (compulsory traffic: read x once, write y once) and time = the
median of --reps repetitions of a loop lasting at least --min-time seconds. A peer that cannot
be imported gets a '# note:' line instead of rows. Inputs x_i = 4 N(0,1) + 2.385 (numpy's
default_rng(seed)). Usage:
  bench_peers.py [--kernels data/bench/bench-kernels.tsv] [--n 100,1000,...] [--threads 1]
                 [--reps R] [--min-time T] [--seed S] [--profile quick|paper] --out FILE
"""
import argparse
import os
import platform
import statistics
import sys
import time


def fail(msg):
    sys.stderr.write("bench_peers.py: %s\n" % msg)
    sys.exit(2)


def sizes_from_kernels(path):
    ns = []
    try:
        with open(path) as f:
            header = None
            for line in f:
                if line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if header is None:
                    header = cols
                    continue
                n = int(cols[header.index("n")])
                if n not in ns:
                    ns.append(n)
    except (OSError, ValueError) as e:
        fail("--kernels: cannot read sizes from '%s': %s" % (path, e))
    return ns


def median_time(fn, reps, min_time):
    fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or calls > 1 << 20:
            break
        calls = int(calls * min(1.2 * min_time / dt, 100)) + 1 if dt > 0 else calls * 100
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        ts.append((time.perf_counter() - t0) / calls)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernels")
    ap.add_argument("--n")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int)
    ap.add_argument("--min-time", type=float)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=["quick", "paper"], default="quick")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    paper = a.profile == "paper"
    reps = a.reps if a.reps else (11 if paper else 5)
    min_time = a.min_time if a.min_time is not None else (0.05 if paper else 0.01)
    if a.threads < 1:
        fail("--threads: must be >= 1")
    if a.n:
        try:
            ns = [int(v) for v in a.n.split(",")]
        except ValueError:
            fail("--n: '%s' is not a comma-separated list of integers" % a.n)
    elif a.kernels:
        ns = sizes_from_kernels(a.kernels)
    else:
        ns = [100 * 2 ** k for k in range(18)]
    if not ns or min(ns) < 1:
        fail("--n: sizes must be >= 1")

    notes, rows, meta = [], [], []
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    try:
        import numpy as np
    except ImportError as e:
        np = None
        notes.append("numpy not importable (%s): no peers measured" % e)
    peers = []
    if np is not None:
        meta.append("numpy %s" % np.__version__)
        try:
            import torch
            torch.set_num_threads(a.threads)
            meta.append("torch %s (%d thread(s))" % (torch.__version__, torch.get_num_threads()))
            for tname, tt in (("float", torch.float32), ("double", torch.float64)):
                peers.append(("torch.softmax", tname, lambda x, tt=tt: torch.from_numpy(x),
                              lambda t: torch.softmax(t, dim=0)))
        except ImportError as e:
            notes.append("torch not importable (%s): install python3-torch for the PyTorch row" % e)
        try:
            import scipy
            import scipy.special
            meta.append("scipy %s" % scipy.__version__)
            for tname in ("float", "double"):
                peers.append(("scipy.special.softmax", tname, lambda x: x, lambda x: scipy.special.softmax(x)))
        except ImportError as e:
            notes.append("scipy not importable (%s): install python3-scipy for the SciPy row" % e)
        rng = np.random.default_rng(a.seed)
        xbase = 4 * rng.standard_normal(max(ns)) + 2.385
        for peer, tname, prep, fn in peers:
            dt = np.float32 if tname == "float" else np.float64
            xall = xbase.astype(dt)
            for n in ns:
                x = prep(np.ascontiguousarray(xall[:n]))
                t = median_time(lambda: fn(x), reps, min_time)
                esz = 4 if tname == "float" else 8
                rows.append((peer, tname, n, a.threads, t / n * 1e9, 2 * n * esz / t * 1e-9))
            sys.stderr.write("bench_peers.py: %s %s done\n" % (peer, tname))

    tmp = a.out + ".tmp"
    d = os.path.dirname(a.out)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(tmp, "w") as f:
        f.write("# program: bench_peers.py\n")
        f.write("# command: %s\n" % " ".join(["bench_peers.py"] + [v for v in sys.argv[1:]]))
        f.write("# profile: %s\n# seed: %d\n# threads: %d\n" % (a.profile, a.seed, a.threads))
        f.write("# python: %s; machine: %s\n" % (platform.python_version(), platform.processor() or platform.machine()))
        f.write("# options: reps %d, min-time %g s\n" % (reps, min_time))
        for m in meta:
            f.write("# library: %s\n" % m)
        for nt in notes:
            f.write("# note: %s\n" % nt)
        f.write("peer\ttype\tn\tthreads\tns_per_elem\tgbps\n")
        for r in rows:
            f.write("%s\t%s\t%d\t%d\t%.17g\t%.17g\n" % r)
    os.replace(tmp, a.out)
    big = max(ns)
    summ = ["%s %s %.3g GB/s" % (r[0], r[1], r[5]) for r in rows if r[2] == big and r[1] == "float"]
    print("bench-peers: n = %d, %d thread(s): %s" % (big, a.threads, "; ".join(summ) if summ else
                                                    "no peer importable (" + "; ".join(notes) + ")"))


if __name__ == "__main__":
    main()
