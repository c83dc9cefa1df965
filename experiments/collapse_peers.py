#!/usr/bin/env python3
"""collapse_peers.py - repeat an smx-collapse float64 run in PyTorch and compare it epoch by epoch (issue 11).

Reads the run's TSV (its '# options:' and '# log_convention:' metadata) and the split and initial weights that the
run dumped (smx-collapse --dump-split S --dump-weights W, formats in experiments/collapse_io.h), trains the same
model in PyTorch float64 from the same weights on the same split and compares, at every logged epoch of the TSV, the
train loss (relative difference) and the train accuracy (absolute).

Model: h1 = relu(E[a] + E[V + b]) (E: 2V x W), h_l = relu(h_{l-1} W_l^T) for l = 2..D, z = h_D W_out^T, no
biases; loss = mean cross-entropy (torch.nn.functional.cross_entropy) over the training rows, full batch, one
torch.optim.AdamW step per epoch with the run's lr, betas, eps and weight decay (the reference code's optimizer).
Only runs with --optimizer adamw --loss softmax --model-format fp64 --softmax-format fp64 are comparable.
Accuracy: first argmax of the logits equals the label.

Exit 0 iff the largest relative loss difference is <= --tol (1e-12) and the accuracies are equal; 1 if not; 2 for
bad input; 77 if torch cannot be imported (a TAP skip). Prints one summary line.
"""
import argparse
import re
import sys


def fail(msg):
    print(f"collapse_peers.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_tsv_meta(path):
    meta, rows, header = {}, [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# "):
                k, _, v = line[2:].partition(": ")
                meta.setdefault(k, v)
            elif header is None:
                header = line.split("\t")
            elif line:
                rows.append(dict(zip(header, line.split("\t"))))
    return meta, header, rows


def read_split(path):
    meta, header, rows = read_tsv_meta(path)
    if meta.get("format") != "smx-collapse-split 1" or header != ["a", "b", "label", "set"]:
        fail(f"{path}: not an smx-collapse split file")
    tr = [(int(r["a"]), int(r["b"]), int(r["label"])) for r in rows if r["set"] == "train"]
    return int(meta["modulus"]), tr


def read_weights(path, torch):
    meta, header, rows = read_tsv_meta(path)
    if meta.get("format") != "smx-collapse-weights 1" or header != ["tensor", "row", "col", "value"]:
        fail(f"{path}: not an smx-collapse weights file")
    V, W, D = int(meta["modulus"]), int(meta["width"]), int(meta["depth"])
    shapes = [(2 * V, W)] + [(W, W)] * (D - 1) + [(V, W)]
    vals = [[] for _ in shapes]
    for r in rows:
        vals[int(r["tensor"])].append(float(r["value"]))
    ts = []
    for (n, m), v in zip(shapes, vals):
        if len(v) != n * m:
            fail(f"{path}: a tensor has {len(v)} values, {n * m} expected")
        ts.append(torch.tensor(v, dtype=torch.float64).reshape(n, m).requires_grad_(True))
    return V, W, D, ts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tsv", required=True, help="smx-collapse train output (float64 run)")
    ap.add_argument("--split", required=True, help="its --dump-split file")
    ap.add_argument("--weights", required=True, help="its --dump-weights file")
    ap.add_argument("--tol", type=float, default=1e-12, help="largest relative train-loss difference (1e-12)")
    a = ap.parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"collapse_peers.py: torch not importable ({e})")
        sys.exit(77)
    torch.set_num_threads(1)
    meta, header, rows = read_tsv_meta(a.tsv)
    if "options" not in meta or "epoch" not in (header or []):
        fail(f"{a.tsv}: not an smx-collapse train TSV")
    opt = dict(kv.split("=", 1) for kv in meta["options"].split())
    need = {"optimizer": "adamw", "loss": "softmax", "model_format": "fp64", "softmax_format": "fp64"}
    for k, v in need.items():
        if opt.get(k) != v:
            fail(f"{a.tsv}: {k}={opt.get(k)}, only {k}={v} runs are comparable")
    shift = 1 if meta.get("log_convention", "smx") == "reference" else 0
    V, tr = read_split(a.split)
    V2, W, D, ts = read_weights(a.weights, torch)
    if V != V2 or V != int(opt["modulus"]):
        fail("the split, the weights and the run have different moduli")
    ia = torch.tensor([t[0] for t in tr])
    ib = torch.tensor([t[1] + V for t in tr])
    y = torch.tensor([t[2] for t in tr])
    optim = torch.optim.AdamW(ts, lr=float(opt["lr"]), betas=(float(opt["beta1"]), float(opt["beta2"])),
                              eps=float(opt["eps"]), weight_decay=float(opt["weight_decay"]))
    want = {int(r["epoch"]): r for r in rows}
    last = max(want)
    worst_loss, acc_diff, n = 0.0, 0.0, 0
    for step in range(last + shift + 1):
        optim.zero_grad()
        h = torch.relu(ts[0][ia] + ts[0][ib])
        for l in range(1, D):
            h = torch.relu(h @ ts[l].T)
        z = h @ ts[D].T
        loss = torch.nn.functional.cross_entropy(z, y)
        e = step - shift  # the epoch this state is logged as
        if e in want:
            acc = (z.argmax(dim=1) == y).double().mean().item()
            ls = float(want[e]["train_loss"])
            worst_loss = max(worst_loss, abs(loss.item() - ls) / abs(ls))
            acc_diff = max(acc_diff, abs(acc - float(want[e]["train_acc"])))
            n += 1
        if step == last + shift:
            break
        loss.backward()
        optim.step()
    good = worst_loss <= a.tol and acc_diff == 0
    print(f"collapse_peers.py: {n} epochs compared: max relative train-loss difference {worst_loss:.3g} "
          f"(tol {a.tol:g}), max train-accuracy difference {acc_diff:g}: {'agree' if good else 'DISAGREE'}")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
