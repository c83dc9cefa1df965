#!/usr/bin/env python3
"""icl_peers.py - smx-icl's models in PyTorch (issue 14): speed beside smx-icl, and a float64 cross-check.

Models (the same as experiments/icl_multihead.c and experiments/icl_closeness.c):
  multihead (He et al. ICML 2025): per head Q_h, K_h, V_h in R^{D x D} (D = d + 1) without bias, O: R^{H D} -> R,
    scores K_h z_l . Q_h z_q / sqrt(D) over the L context tokens, yhat = O (o_1, ..., o_H), o_h = sum_l alpha_hl V_h z_l;
    mean squared error; torch.nn.Linear's default init; Adam lr 1e-3; x, x_q ~ N(0, I_d), beta ~ N(0, I/d),
    y = beta.x + N(0, s2) on every y; fresh data every step. H = 2, batch 256, L = 40, d = 5.
  closeness (Li et al. Fig 1 analogue, our task distribution): tokens z_i = (a_i, n b_i), one softmax self-attention
    layer (every token attends to every token, scores / sqrt(D)), bhat = softmax(O w_O), loss 0.5 ||bhat - b||^2
    averaged over the batch; rows of A ~ N(0, I/d), x* ~ N(0, (R^2/d) I), b = softmax(A x*). n = 200, d = 20,
    batch 16, R = 4, Adam lr 1e-3.

--bench: training steps/s (data sampling + forward + backward + Adam, as smx-icl times its training loop) of
  PyTorch (float32, its CPU default, and float64, smx-icl's precision) with torch.set_num_threads(1) and (2), and of
  smx-icl with --threads 1 and 2 (run as a subprocess, its stderr steps/s line), median and best of --repeats
  runs; written to a TSV with the machine in the metadata. Without torch: smx-icl's rows and a '#' note.
--check DUMP: reads `smx-icl multihead --dump DUMP` (initial weights, one batch, smx-icl's loss and gradient),
  runs one forward / backward in PyTorch float64 from the same weights on the same batch, prints the relative
  differences; exit 0 iff both are below --tol (default 1e-12), 1 if not, 77 if torch is not importable.
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time


def import_torch():
    try:
        import torch  # noqa: F401
        return torch
    except Exception:  # ImportError, or a broken install
        return None


# ---------------------------------------------------------------- models

def make_multihead(torch, H, d, dtype):
    nn = torch.nn
    D = d + 1

    class MH(nn.Module):
        def __init__(self):
            super().__init__()
            self.Wq = nn.Linear(D, H * D, bias=False)
            self.Wk = nn.Linear(D, H * D, bias=False)
            self.Wv = nn.Linear(D, H * D, bias=False)
            self.O = nn.Linear(H * D, 1, bias=False)

        def forward(self, Z, zq):  # Z (B, L, D), zq (B, D) -> yhat (B)
            B, L, _ = Z.shape
            q = self.Wq(zq).view(B, H, D)
            K = self.Wk(Z).view(B, L, H, D)
            V = self.Wv(Z).view(B, L, H, D)
            e = torch.einsum('bhd,blhd->bhl', q, K) / D ** 0.5
            a = torch.softmax(e, dim=-1)
            o = torch.einsum('bhl,blhd->bhd', a, V).reshape(B, H * D)
            return self.O(o).squeeze(-1)

    return MH().to(dtype)


def sample_multihead(torch, B, L, d, s2, dtype):
    x = torch.randn(B, L + 1, d, dtype=dtype)
    beta = torch.randn(B, d, dtype=dtype) / d ** 0.5
    y = (x * beta[:, None, :]).sum(-1) + s2 ** 0.5 * torch.randn(B, L + 1, dtype=dtype)
    Z = torch.cat([x[:, :L], y[:, :L, None]], dim=-1)
    zq = torch.cat([x[:, L], torch.zeros(B, 1, dtype=dtype)], dim=-1)
    return Z, zq, y[:, L]


def make_closeness(torch, d, dtype):
    nn = torch.nn
    D = d + 1

    class CL(nn.Module):
        def __init__(self):
            super().__init__()
            self.WQ = nn.Linear(D, D, bias=False)
            self.WK = nn.Linear(D, D, bias=False)
            self.WV = nn.Linear(D, D, bias=False)
            self.wO = nn.Linear(D, 1, bias=False)

        def forward(self, A, b):  # A (B, n, d), b (B, n) -> bhat (B, n)
            n = A.shape[1]
            Z = torch.cat([A, n * b[..., None]], dim=-1)
            Q, K, V = self.WQ(Z), self.WK(Z), self.WV(Z)
            a = torch.softmax(Q @ K.transpose(1, 2) / D ** 0.5, dim=-1)
            return torch.softmax(self.wO(a @ V).squeeze(-1), dim=-1)

    return CL().to(dtype)


def sample_closeness(torch, B, n, d, R, dtype):
    A = torch.randn(B, n, d, dtype=dtype) / d ** 0.5
    xs = torch.randn(B, d, 1, dtype=dtype) * (R / d ** 0.5)
    return A, torch.softmax((A @ xs).squeeze(-1), dim=-1)


def torch_steps_per_s(torch, model, threads, dtype, steps, warmup, a):
    torch.set_num_threads(threads)
    torch.manual_seed(a.seed)
    if model == 'multihead':
        m = make_multihead(torch, 2, 5, dtype)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)

        def step():
            Z, zq, yq = sample_multihead(torch, 256, 40, 5, 0.1, dtype)
            loss = torch.mean((m(Z, zq) - yq) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        m = make_closeness(torch, 20, dtype)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)

        def step():
            A, b = sample_closeness(torch, 16, 200, 20, 4.0, dtype)
            loss = 0.5 * ((m(A, b) - b) ** 2).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - t0)


# ---------------------------------------------------------------- smx-icl

def smx_steps_per_s(model, threads, steps, a, dtype='float64'):
    env = dict(os.environ)
    out = os.path.join(a.tmpdir, 'icl-peers-%d.tsv' % os.getpid())
    if model == 'multihead':
        cmd = [a.smx, 'multihead', '--H', '2', '--batch', '256', '--L', '40', '--steps', str(steps),
               '--log-every', str(steps), '--eval-L', '40', '--eval-tasks', '256']
        pat = r'H = 2: ([0-9.]+) steps/s'
    else:
        cmd = [a.smx, 'closeness', '--n', '200', '--d', '20', '--batch', '16', '--reps', '1', '--steps', str(steps),
               '--log-every', str(steps), '--eval-tasks', '1', '--scan-tasks', '1', '--vs-d', 'none',
               '--dtype', 'f32' if dtype == 'float32' else 'f64']
        # one model only: with a second (--vs-d) run, --threads 2 ran the two models on one thread each and the
        # timed model never got the second thread
        pat = r'n = 200, d = 20, batch 16: ([0-9.]+) train steps/s'
    cmd += ['--threads', str(threads), '--seed', str(a.seed), '--out', out]
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for f in os.listdir(a.tmpdir):
        if f.startswith('icl-peers-%d' % os.getpid()):
            os.remove(os.path.join(a.tmpdir, f))
    m = re.search(pat, r.stderr)
    if r.returncode != 0 or not m:
        sys.exit('icl_peers.py: %s failed (exit %d): %s' % (' '.join(cmd), r.returncode, r.stderr.strip()[-300:]))
    return float(m.group(1))


def machine():
    cpu = platform.processor() or '?'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return '%s; %s; %d logical CPUs' % (' '.join(platform.uname()[:3]), cpu, os.cpu_count() or 0)


def loadavg():
    try:
        return ' '.join('%.2f' % x for x in os.getloadavg())
    except OSError:
        return '?'


def bench(a):
    torch = import_torch()
    threads = [int(t) for t in a.threads.split(',')]
    rows = []  # (model, impl, dtype, threads, steps, median, best)
    load0 = loadavg()
    models = a.models.split(',')
    for model, ours_steps, torch_steps in (('multihead', a.steps_mh, a.torch_steps_mh),
                                           ('closeness', a.steps_cl, a.torch_steps_cl)):
        if model not in models:
            continue
        for t in threads:
            # the configurations interleaved, one run each per round (the machine's load drifts: a round sees
            # about the same load for all of them); smx-icl closeness in float64 and float32 (--dtype f32)
            confs = [('smx-icl', 'float64')] + ([('smx-icl', 'float32')] if model == 'closeness' else [])
            if torch is not None:
                confs += [('pytorch', 'float32'), ('pytorch', 'float64')]
            v = {c: [] for c in confs}
            for _ in range(a.repeats):
                for impl, name in confs:
                    if impl == 'smx-icl':
                        v[(impl, name)].append(smx_steps_per_s(model, t, ours_steps, a, name))
                    else:
                        dt = torch.float32 if name == 'float32' else torch.float64
                        v[(impl, name)].append(torch_steps_per_s(torch, model, t, dt, torch_steps, a.warmup, a))
            for impl, name in confs:
                x = v[(impl, name)]
                rows.append((model, impl, name, t, ours_steps if impl == 'smx-icl' else torch_steps,
                             statistics.median(x), max(x)))
                print('%-9s %-8s %s %d thread(s): %9.1f steps/s (median of %d; best %.1f)'
                      % (model, impl, name, t, statistics.median(x), a.repeats, max(x)), file=sys.stderr)
    # smx_speedup of a PyTorch row: smx-icl at the same dtype where it has one (closeness), else its float64
    ours = {(r[0], r[2], r[3]): r[5] for r in rows if r[1] == 'smx-icl'}

    def ours_for(r):
        return ours.get((r[0], r[2], r[3]), ours[(r[0], 'float64', r[3])]), \
            r[2] if (r[0], r[2], r[3]) in ours else 'float64'

    tmp = a.out + '.tmp'
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(tmp, 'w') as f:
        f.write('# program: experiments/icl_peers.py --bench (issue 14)\n')
        f.write('# command: %s\n' % ' '.join(sys.argv))
        f.write('# date_utc: %s\n' % time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        f.write('# machine: %s\n' % machine())
        f.write('# loadavg_before: %s\n# loadavg_after: %s\n' % (load0, loadavg()))
        f.write('# OMP_WAIT_POLICY: %s\n' % os.environ.get('OMP_WAIT_POLICY', '(unset)'))
        f.write('# python: %s\n' % sys.version.split()[0])
        if torch is None:
            f.write('# note: torch is not importable by %s: no PyTorch rows\n' % sys.executable)
        else:
            f.write('# torch: %s (torch.set_num_threads = threads; float32 = its CPU default, float64 = '
                    'smx-icl\'s precision)\n' % torch.__version__)
        f.write('# models: multihead H = 2, batch 256, L = 40, d = 5; closeness n = 200, d = 20, batch 16, R = 4; '
                'Adam lr 1e-3; one training step = sampling + forward + backward + Adam\n')
        f.write('# threads: smx-icl multihead and closeness --threads 2 run the one model\'s batch (and closeness '
                'the next batch\'s sampling) on 2 threads; PyTorch: torch.set_num_threads\n')
        f.write('# dtype: smx-icl multihead runs in float64 only; closeness in float64 and with --dtype f32 (float '
                'weights, forward, backward and Adam); smx_speedup = smx-icl at the PyTorch row\'s dtype where it '
                'has one, else its float64; the configurations are interleaved round by round\n')
        f.write('# closeness: smx-icl runs the layer in a fused form (E = Z M Z^T, rank-one read-out gradient: two '
                'n x n x D GEMMs per task); PyTorch runs the layer as written (Q, K, V, O: six)\n')
        f.write('# noise: the machine may be shared with other jobs (see loadavg): timings are noisy; median and '
                'best of %d runs; re-run with `make bench-icl`\n' % a.repeats)
        f.write('# target: issue 14: smx-icl >= 3x PyTorch\'s CPU steps/s (smx_speedup >= 3 on the float32 rows)\n')
        f.write('# seed: %d\n# repeats: %d\n# warmup_torch: %d\n' % (a.seed, a.repeats, a.warmup))
        f.write('model\timpl\tdtype\tthreads\tsteps\tsteps_per_s\tsteps_per_s_best\tsmx_speedup\n')
        for r in rows:
            sp = ours_for(r)[0] / r[5] if r[1] == 'pytorch' else 1.0
            f.write('%s\t%s\t%s\t%d\t%d\t%.17g\t%.17g\t%.17g\n' % (r + (sp,)))
    os.replace(tmp, a.out)
    for r in rows:
        if r[1] == 'pytorch':
            o, od = ours_for(r)
            print('%-9s %d thread(s): smx-icl %s / pytorch %s = %.2fx' % (r[0], r[3], od, r[2], o / r[5]))
    if torch is None:
        print('bench-icl: torch not importable by %s: smx-icl only' % sys.executable)
    return 0


# ---------------------------------------------------------------- cross-check

def read_dump(path):
    with open(path) as f:
        tok = f.read().split()
    if len(tok) < 6 or tok[0] != 'smx-icl-multihead-dump':
        raise ValueError('%s: not an smx-icl multihead dump' % path)
    H, d, L, B, npar = (int(x) for x in tok[1:6])
    i, blocks = 6, {}
    while i < len(tok):
        name, cnt = tok[i], int(tok[i + 1])
        blocks[name] = [float(x) for x in tok[i + 2:i + 2 + cnt]]
        if len(blocks[name]) != cnt:
            raise ValueError('%s: block %s truncated' % (path, name))
        i += 2 + cnt
    return H, d, L, B, npar, blocks


def check(a):
    torch = import_torch()
    if torch is None:
        print('# SKIP torch is not importable by %s' % sys.executable)
        return 77
    torch.set_num_threads(1)
    H, d, L, B, npar, k = read_dump(a.check)
    D, f64 = d + 1, torch.float64
    m = make_multihead(torch, H, d, f64)
    with torch.no_grad():
        for name in ('Wq', 'Wk', 'Wv', 'O'):
            w = getattr(m, name).weight
            w.copy_(torch.tensor(k[name], dtype=f64).view_as(w))
    Z = torch.tensor(k['Z'], dtype=f64).view(B, L, D)
    zq = torch.tensor(k['Zq'], dtype=f64).view(B, D)
    yq = torch.tensor(k['yq'], dtype=f64)
    loss = torch.mean((m(Z, zq) - yq) ** 2)
    loss.backward()
    g = torch.cat([getattr(m, n).weight.grad.reshape(-1) for n in ('Wq', 'Wk', 'Wv', 'O')])
    gs = torch.tensor(k['grad'], dtype=f64)
    el = abs(loss.item() - k['loss'][0]) / abs(k['loss'][0])
    eg = ((g - gs).abs().max() / gs.abs().max()).item()
    ok = g.numel() == npar and el <= a.tol and eg <= a.tol
    print('multihead H = %d, d = %d, L = %d, B = %d: loss %.17g (smx-icl %.17g) rel %.3g; gradient (%d) max rel %.3g'
          % (H, d, L, B, loss.item(), k['loss'][0], el, npar, eg))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--bench', action='store_true', help='time smx-icl and PyTorch, write --out')
    p.add_argument('--check', metavar='DUMP', help='cross-check a `smx-icl multihead --dump` file in float64')
    p.add_argument('--tol', type=float, default=1e-12)
    p.add_argument('--smx', default='build/bin/smx-icl', help='the smx-icl binary')
    p.add_argument('--out', default='data/bench/icl.tsv')
    p.add_argument('--threads', default='1,2')
    p.add_argument('--models', default='multihead,closeness', help='which models to time (comma list)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--steps-mh', type=int, default=1000, help='smx-icl multihead steps per timing')
    p.add_argument('--torch-steps-mh', type=int, default=200)
    p.add_argument('--steps-cl', type=int, default=200, help='smx-icl closeness steps per timing')
    p.add_argument('--torch-steps-cl', type=int, default=100)
    p.add_argument('--seed', type=int, default=2385)
    p.add_argument('--tmpdir', default=os.environ.get('TMPDIR', '/tmp'))
    a = p.parse_args()
    # spinning OpenMP threads (GNU's default) collapse when the cores are oversubscribed (2 threads on a shared
    # 2-core machine: 5 steps/s instead of ~170); passive unless the caller chose (before torch is imported)
    os.environ.setdefault('OMP_WAIT_POLICY', 'passive')
    if a.check:
        return check(a)
    if a.bench:
        return bench(a)
    p.error('one of --bench, --check DUMP')


if __name__ == '__main__':
    sys.exit(main())
