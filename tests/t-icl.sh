#!/bin/sh
# t-icl.sh - smx-icl: bad options and files exit 2 naming the option / file, line, column; --help / --version;
# tiny runs of every subcommand with value checks on what they write; same bytes whatever --threads.
B=${SMX_BIN:-build/bin}/smx-icl
. "$(dirname "$0")/lib.sh"
# badx EXP ARGS...: $B ARGS exits 2 with ONE line on stderr naming EXP (lib.sh's bad)
badx() { _e=$1; shift; bad "$_e" "$B" "$@"; }
# awk over a TSV's data rows (header names usable as $c["name"]): exits 0 iff the program's condition holds
tsv() { f=$1; shift; awk -F'\t' "!/^#/ && !h { for (i = 1; i <= NF; i++) c[\$i] = i; h = 1; next } !/^#/ { $1 } END { $2 }" "$f"; }
badx "missing COMMAND"
badx "unknown command" frobnicate
badx "\-\-n" check --n 1
badx "\-\-n" check --n 2.5
badx "\-\-R" lipschitz --R -1
badx "\-\-prec" check --prec 1
badx "\-\-reps" check --reps 0
badx "\-\-trials" lipschitz --trials x
badx "\-\-print" lipschitz --print foo
badx "\-\-eta" gd --eta -2
badx "\-\-eta" check --eta 1
badx "\-\-profile" shift --profile huge
badx "\-\-seed" gd --seed -1
badx "\-\-n and \-\-R take one value" gd --n 20,30
badx "unexpected argument" check extra
badx "no-such-file" check --print "$T/no-such-file"
printf '1 2\n3 4\n0.5 0.5\n1\n' >"$T/p1.tsv"
badx "p1.tsv:4: x has 1 entries" check --print "$T/p1.tsv"
printf '1 2\n3\n0.5 0.5\n1 1\n' >"$T/p2.tsv"
badx "p2.tsv:2:2: row of A has 1 columns" check --print "$T/p2.tsv"
printf '1 2\n3 x4\n0.5 0.5\n1 1\n' >"$T/p3.tsv"
badx "p3.tsv:2:2: not a number" check --print "$T/p3.tsv"
printf '1 2\n3 nan\n0.5 0.5\n1 1\n' >"$T/p4.tsv"
badx "p4.tsv:2:2: not a finite number" check --print "$T/p4.tsv"
"$B" --help | grep -q estimators; ok $? "--help lists the commands"
for c in check lipschitz shift gd estimators; do "$B" $c --help | grep -q -- "--seed"; ok $? "$c --help"; done
"$B" --version | grep -q "smx-icl (smx)"; ok $? "--version"
# check --print: A = [[1, 2], [0.5, -1], [2.385, 0]], b, x; compare with values computed independently (python/mpmath
# at 50 digits): L = 0.5 ||softmax(Ax) - b||^2
printf '# a comment\n1 2\n0.5\t-1\n2.385 0\n0.2 0.3 0.5\n0.3 -0.2\n' >"$T/p.tsv"
"$B" check --print "$T/p.tsv" >"$T/pd.txt"; ok $? "check --print runs (double)"
"$B" check --print "$T/p.tsv" --prec 300 >"$T/pm.txt"; ok $? "check --print --prec 300 runs (MPFR)"
test "$(sed -n 1p "$T/pd.txt" | cut -d' ' -f1)" = loss && sed -n 2p "$T/pd.txt" | grep -qx grad && sed -n 4p "$T/pd.txt" | grep -qx hessian \
  && test "$(wc -l <"$T/pd.txt")" -eq 6 && test "$(sed -n 3p "$T/pd.txt" | awk -F'\t' '{print NF}')" -eq 2
ok $? "check --print layout: loss L, grad + 1 line, hessian + d lines"
paste "$T/pd.txt" "$T/pm.txt" | awk -F'[\t ]' 'NR == 1 { if ($2 - $4 > 1e-13 * $4 || $4 - $2 > 1e-13 * $4) exit 1 } NR == 3 || NR >= 5 { k = NF / 2; for (i = 1; i <= k; i++) { d = $i - $(i + k); if (d < 0) d = -d; if (d > 1e-13 * (($i < 0 ? -$i : $i) + 1e-300)) exit 1 } }'
ok $? "check --print: double = MPFR 300 bits (rel 1e-13)"
# independent value: z = Ax = (-0.1, 0.35, 0.7155); f = softmax(z); L = 0.5 sum (f - b)^2
awk 'NR == 1 { z1 = -0.1; z2 = 0.35; z3 = 0.7155; s = exp(z1) + exp(z2) + exp(z3); f1 = exp(z1)/s; f2 = exp(z2)/s; f3 = exp(z3)/s
  L = 0.5 * ((f1 - 0.2)^2 + (f2 - 0.3)^2 + (f3 - 0.5)^2); d = $2 - L; if (d < 0) d = -d; exit !(d < 1e-14) }' "$T/pd.txt"
ok $? "check --print: loss = softmax formula by awk"
"$B" check --n 6,30 --R 0.5,4,16 --reps 2 --threads 1 --out "$T/c1.tsv" 2>/dev/null; ok $? "check runs"
"$B" check --n 6,30 --R 0.5,4,16 --reps 2 --threads 2 --out "$T/c2.tsv" 2>/dev/null
cmp -s "$T/c1.tsv" "$T/c2.tsv"; ok $? "check: same bytes with 1 and 2 threads"
tsv "$T/c1.tsv" 'm++; if (!($c["err_grad_double"] < 1e-11 && $c["err_hess_double"] < 1e-11 && $c["err_grad_fd"] < 1e-6 && $c["err_grad_fd"] > 1e-14)) bad++' 'exit !(m == 6 && !bad)'
ok $? "check: double gradient / Hessian within 1e-11 of MPFR, finite differences within 1e-6 (and not exact)"
tsv "$T/c1.tsv" 'if ($c["hess_eig_min"] > $c["hess_eig_max"]) bad++' 'exit bad'
ok $? "check: eigenvalue columns ordered"
"$B" lipschitz --n 25 --R 1,4 --trials 30 --out "$T/l1.tsv" --threads 1 2>/dev/null; ok $? "lipschitz runs"
"$B" lipschitz --n 25 --R 1,4 --trials 30 --out "$T/l2.tsv" --threads 2 2>/dev/null
cmp -s "$T/l1.tsv" "$T/l2.tsv"; ok $? "lipschitz: same bytes with 1 and 2 threads"
tsv "$T/l1.tsv" 'm++; if (!($c["measured_max"] <= $c["half_bound"] && $c["measured_max"] > 0.01 * $c["half_bound"])) bad++
  if ($c["R"] == 4 && !($c["decades_M"] > 60 && $c["log10_M"] > 71.58 && $c["log10_M"] < 71.59)) bad++' 'exit !(m == 4 && !bad)'
ok $? "lipschitz: measured <= 0.5 R (within 100x), M = 10^71.58 at n = 25, R = 4, > 60 decades loose"
"$B" shift --n 30 --R 1,4 --reps 4 --out "$T/s.tsv" 2>/dev/null; ok $? "shift runs"
tsv "$T/s.tsv" 'm++; if (!($c["shift"] <= $c["half_bound"] * (1 + 1e-12) && $c["shift"] > 0)) bad++' 'exit !(m == 52 && !bad)'
ok $? "shift: ||b~ - b|| <= 0.5 ||A|| ||dx|| (gd) and 0.5 ||x|| ||dA|| (attn), every row"
"$B" gd --n 40 --d 8 --iters 60 --out "$T/g.tsv" 2>/dev/null; ok $? "gd runs"
tsv "$T/g.tsv" 'if ($c["target"] == "realisable" && $c["method"] == "newton" && $c["iter"] == 60) L = $c["loss"]
  if ($c["target"] == "random" && $c["method"] == "gd" && $c["iter"] == 0) L0 = $c["loss"]
  if ($c["target"] == "random" && $c["method"] == "gd" && $c["iter"] == 60) L1 = $c["loss"]' 'exit !(L < 1e-20 && L1 < L0)'
ok $? "gd: Newton drives a realisable target's loss below 1e-20; GD decreases the random target's loss"
"$B" estimators --L 10,40 --tasks 20000 --threads 1 --out "$T/e1.tsv" 2>/dev/null; ok $? "estimators runs"
"$B" estimators --L 10,40 --tasks 20000 --threads 2 --out "$T/e2.tsv" 2>/dev/null
cmp -s "$T/e1.tsv" "$T/e2.tsv"; ok $? "estimators: same bytes with 1 and 2 threads"
head -n 40 "$T/e1.tsv" | grep -v '^#' | head -1 | grep -q "^L	tf2	single	gd	debiased_gd	ridge	tf2_se	single_se	gd_se	debiased_gd_se	ridge_se"
ok $? "estimators: the issue's columns"
tsv "$T/e1.tsv" 'm++; d = $c["gd"] - $c["gd_theory"]; if (d < 0) d = -d; if (!(d < 4 * $c["gd_se"])) bad++
  d = $c["ridge"] - $c["ridge_theory"]; if (d < 0) d = -d; if (!(d < 4 * $c["ridge_se"])) bad++' 'exit !(m == 2 && !bad)'
ok $? "estimators: GD MSE = closed-form expectation, ridge MSE = Bayes risk, within 4 standard errors"
tsv "$T/e1.tsv" 'if ($c["L"] == 40) { d = $c["tf2"] - 0.2430; if (d < 0) d = -d; r = d < 4 * $c["tf2_se"] && $c["ridge"] < $c["debiased_gd"] && $c["debiased_gd"] < $c["single"] }' 'exit !r'
ok $? "estimators: two-head TF at L = 40 = the authors' 0.2430 within 4 s.e.; ridge < debiased GD < single head"
badx "\-\-L" estimators --L 0
badx "\-\-sigma2" estimators --sigma2 0
badx "\-\-tasks" estimators --tasks 1
badx "\-\-omega" estimators --omega abc
M="multihead --H 1,2 --steps 40 --batch 16 --log-every 20 --eval-L 10,40 --eval-tasks 64"
"$B" $M --threads 1 --out "$T/m1.tsv" 2>/dev/null; ok $? "multihead runs"
"$B" $M --threads 2 --out "$T/m2.tsv" 2>/dev/null
same=0; for f in "" -heads -patterns -length; do cmp -s "$T/m1$f.tsv" "$T/m2$f.tsv" || same=1; done
ok $same "multihead: same bytes (4 files) with 1 and 2 threads"
tsv "$T/m1-heads.tsv" 'm++; r = $c["omega_raw"]; if (!($c["omega_fwd"] == r / sqrt(6) || ($c["omega_fwd"] - r / sqrt(6)) ^ 2 < 1e-30) || ($c["omega_authors"] - r / sqrt(7)) ^ 2 > 1e-30) bad++' 'exit !(m == 6 && !bad)'
ok $? "multihead: heads log, 2 log points x (1 + 2) heads, omega in both units"
tsv "$T/m1-patterns.tsv" 'if ($c["matrix"] == "KQ") k++; else o++' 'exit !(k == 3 * 36 && o == 3 * 6)'
ok $? "multihead: patterns: a 6 x 6 KQ and a 6-vector OV per head"
tsv "$T/m1-length.tsv" 'm++; if (!($c["mse"] > 0.1 && $c["mse_se"] > 0)) bad++' 'exit !(m == 4 && !bad)'
ok $? "multihead: test MSE per (H, L), above the noise floor 0.1"
badx "\-\-H" multihead --H 0
badx "\-\-lr" multihead --lr 0
badx "\-\-eval-L" multihead --eval-L 5,x
M1="multihead --H 2 --steps 20 --batch 16 --log-every 10 --eval-L 10 --eval-tasks 32"
"$B" $M1 --threads 1 --out "$T/s1.tsv" 2>/dev/null && "$B" $M1 --threads 2 --out "$T/s2.tsv" 2>/dev/null
same=0; for s in "" -heads -patterns -length; do cmp -s "$T/s1$s.tsv" "$T/s2$s.tsv" || same=1; done
ok $same "multihead, a single H (all threads inside one model): same bytes with 1 and 2 threads"
M2="multihead --H 2 --steps 20 --batch 40 --log-every 10 --eval-L 10 --eval-tasks 40"
"$B" $M2 --threads 1 --out "$T/u1.tsv" 2>/dev/null && "$B" $M2 --threads 2 --out "$T/u2.tsv" 2>/dev/null &&
  "$B" $M2 --threads 3 --out "$T/u3.tsv" 2>/dev/null
same=$?; for s in "" -heads -patterns -length; do
  cmp -s "$T/u1$s.tsv" "$T/u2$s.tsv" && cmp -s "$T/u1$s.tsv" "$T/u3$s.tsv" || same=1; done
ok $same "multihead, batch 40 = chunks of 16 + 16 + 8: same bytes with 1, 2 and 3 threads"
# checkpoint / resume (solvers/run.h): stopped after 25 of 40 steps (mid log window) with 2 threads, resumed with 1:
# the same bytes as the uninterrupted run m1 (4 files); then a single H (threads inside the model), stopped twice
"$B" $M --threads 2 --stop-after 25 --checkpoint "$T/mh.ckpt" --out "$T/r1.tsv" 2>"$T/err"; r=$?
[ $r = 5 ] && [ -s "$T/mh.ckpt" ] && [ ! -e "$T/r1.tsv" ] && grep -q "stop-after 25" "$T/err"
ok $? "multihead --stop-after 25: checkpoint written, exit 5, no data (rc $r)"
cp "$T/mh.ckpt" "$T/mh0.ckpt"
"$B" $M --threads 1 --resume --checkpoint "$T/mh.ckpt" --out "$T/r1.tsv" 2>/dev/null; r=$?
same=$r; for f in "" -heads -patterns -length; do cmp -s "$T/m1$f.tsv" "$T/r1$f.tsv" || same=1; done
ok $same "multihead: stopped at 25 (2 threads) and resumed (1 thread) = the uninterrupted run, 4 files (rc $r)"
"$B" $M1 --threads 2 --stop-after 7 --checkpoint-every 0 --out "$T/r2.tsv" 2>/dev/null
"$B" $M1 --threads 1 --resume --stop-after 13 --out "$T/r2.tsv" 2>/dev/null; r=$?
"$B" $M1 --threads 2 --resume --out "$T/r2.tsv" 2>/dev/null; r2=$?
same=$r2; for s in "" -heads -patterns -length; do cmp -s "$T/s1$s.tsv" "$T/r2$s.tsv" || same=1; done
[ $r = 5 ] && [ -s "$T/r2.tsv.ckpt" ]; ok $? "multihead: default checkpoint OUT.ckpt, second stop at 13 (rc $r)"
ok $same "multihead, a single H: stopped at 7 and 13, resumed with 2, 1, 2 threads = the uninterrupted run"
cp "$T/mh0.ckpt" "$T/mh.ckpt"
badx "lr=0.002" multihead $(echo $M | sed 's/^multihead //') --lr 2e-3 --resume --checkpoint "$T/mh.ckpt" --out "$T/r3.tsv"
head -c 200 "$T/mh0.ckpt" >"$T/mh.ckpt"
badx "mh.ckpt" multihead $(echo $M | sed 's/^multihead //') --resume --checkpoint "$T/mh.ckpt" --out "$T/r3.tsv"
cp "$T/mh0.ckpt" "$T/mh.ckpt"; printf 'X' | dd of="$T/mh.ckpt" bs=1 seek=300 conv=notrunc 2>/dev/null
badx "mh.ckpt" multihead $(echo $M | sed 's/^multihead //') --resume --checkpoint "$T/mh.ckpt" --out "$T/r3.tsv"
"$B" $M1 --threads 1 --resume --checkpoint "$T/none.ckpt" --out "$T/r4.tsv" 2>"$T/err"; r=$?
[ $r = 0 ] && grep -q "no checkpoint" "$T/err" && cmp -s "$T/s1.tsv" "$T/r4.tsv"
ok $? "multihead --resume without a checkpoint: a note, starts afresh, same bytes (rc $r)"
badx "same file" multihead $(echo $M1 | sed 's/^multihead //') --checkpoint "$T/r5.tsv" --out "$T/r5.tsv"
badx "\-\-stop-after" multihead --stop-after 0
# PyTorch cross-check (float64): same initial weights and batch -> the same loss and gradient to ~1e-12
"$B" multihead --H 2 --batch 7 --L 9 --seed 2385 --dump "$T/dump.txt" 2>/dev/null
ok $? "multihead --dump writes the initial weights, a batch, the loss and the gradient"
grep -q "^smx-icl-multihead-dump 2 5 9 7 228$" "$T/dump.txt" && [ "$(wc -l <"$T/dump.txt")" -eq 894 ]
ok $? "multihead --dump: header and 9 blocks (228 parameters, 7 x 9 x 6 tokens)"
PY=${SMX_PYTHON:-/usr/bin/python3}
PEERS=${SMX_SRC:-.}/experiments/icl_peers.py
if [ -x "$PY" ] && "$PY" -c 'import torch' 2>/dev/null && [ -f "$PEERS" ]; then
  for H in 1 2; do
    "$B" multihead --H $H --batch 7 --L 9 --seed $((2385 + H)) --dump "$T/dump$H.txt" 2>/dev/null
    "$PY" "$PEERS" --check "$T/dump$H.txt" --tol 1e-12 >"$T/chk" 2>&1; r=$?
    [ $r -ne 0 ] && cat "$T/chk"
    ok $r "multihead H = $H forward / backward = PyTorch float64 to 1e-12 ($(sed 's/.*: loss.*rel \([^;]*\);.*max rel \(.*\)/loss \1, gradient \2/' "$T/chk"))"
  done
else
  skip "torch not importable by $PY (multihead H = 1 vs PyTorch)"
  skip "torch not importable by $PY (multihead H = 2 vs PyTorch)"
fi
# issue 9: every subcommand checks its outputs before any work (the paper profile would run for minutes to hours:
# a fast exit 3 within the timeout shows nothing was computed first), one line naming the path and the cause
touch "$T/afile"
for sub in check lipschitz shift gd estimators multihead linear-gd closeness; do
  timeout 20 "$B" $sub --profile paper --threads 1 --out "$T/afile/x.tsv" 2>"$T/err" >/dev/null; r=$?
  [ $r -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "--out: cannot write '$T/afile/x.tsv': Not a directory" "$T/err"
  ok $? "$sub --out below a regular file: exit 3 before any work, one line naming the path (rc $r)"
done
timeout 20 "$B" multihead --H 8 --L 1000 --batch 4096 --dump "$T/afile/d.txt" 2>"$T/err"; r=$?
[ $r -eq 3 ] && grep -q -- "--dump: cannot write '$T/afile/d.txt': Not a directory" "$T/err"
ok $? "multihead --dump below a regular file: exit 3 before any work (rc $r)"
# a sibling output (OUT-heads.tsv, OUT-vs-d.tsv) that cannot be written: exit 3 naming it before any work, and
# nothing written (the files appear together or not at all)
mkdir -p "$T/sib/m-heads.tsv" "$T/sib/c-vs-d.tsv"
timeout 20 "$B" multihead --profile paper --threads 1 --out "$T/sib/m.tsv" 2>"$T/err"; r=$?
[ $r -eq 3 ] && grep -q "cannot write '$T/sib/m-heads.tsv': Is a directory" "$T/err" && [ ! -e "$T/sib/m.tsv" ]
ok $? "multihead: OUT-heads.tsv a directory: exit 3 naming it before any work, OUT not written (rc $r)"
timeout 20 "$B" closeness --profile paper --threads 1 --out "$T/sib/c.tsv" 2>"$T/err"; r=$?
[ $r -eq 3 ] && grep -q "cannot write '$T/sib/c-vs-d.tsv': Is a directory" "$T/err" && [ ! -e "$T/sib/c.tsv" ]
ok $? "closeness: OUT-vs-d.tsv a directory: exit 3 naming it before any work, OUT not written (rc $r)"
# unknown options and missing values: ONE line naming the option (not getopt's message + a second line)
for sub in check lipschitz shift gd estimators multihead linear-gd closeness; do
  "$B" $sub --no-such-option 2>"$T/err" >/dev/null; r=$?
  [ $r -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "unknown or ambiguous option '--no-such-option'" "$T/err"
  ok $? "$sub --no-such-option: exit 2, one line naming it"
done
"$B" closeness --steps 2>"$T/err"; r=$?
[ $r -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "option '--steps' needs a value" "$T/err"
ok $? "closeness --steps without a value: exit 2, one line"
# --quiet everywhere (issue 8): tiny runs print nothing on stderr
Q1="check --n 6 --R 1 --reps 1"; Q2="lipschitz --n 6 --R 1 --trials 2"; Q3="shift --n 6 --R 1 --reps 1"
Q4="gd --n 6 --d 3 --iters 2"; Q5="estimators --L 10 --tasks 10"
Q6="multihead --H 1 --steps 4 --batch 4 --log-every 2 --eval-L 10 --eval-tasks 4"
Q7="linear-gd --steps 4 --batch 8 --log-every 2 --eval-tasks 8 --scan-tasks 8"
Q8="closeness --n 6 --d 3 --reps 1 --steps 4 --batch 2 --log-every 2 --eval-tasks 2 --scan-tasks 2 --vs-d 3 --vs-d-n 6"
for q in "$Q1" "$Q2" "$Q3" "$Q4" "$Q5" "$Q6" "$Q7" "$Q8"; do
  "$B" $q --quiet --out "$T/q.tsv" 2>"$T/err"; r=$?
  [ $r -eq 0 ] && [ ! -s "$T/err" ]; ok $? "--quiet: ${q%% *} runs with nothing on stderr (rc $r)"
done
"$B" $Q7 --out "$T/q.tsv" 2>"$T/err"; grep -q "steps/s" "$T/err"; ok $? "linear-gd without --quiet prints its steps/s"
# --weight-decay (AdamW's decoupled decay; default 0 = the papers' Adam) where there is an optimiser
for q in "$Q6" "$Q7" "$Q8"; do
  sub=${q%% *}
  "$B" $q --quiet --out "$T/w0.tsv" 2>/dev/null && "$B" $q --weight-decay 0 --quiet --out "$T/w00.tsv" 2>/dev/null \
    && "$B" $q --quiet --weight-decay 5 --out "$T/w5.tsv" 2>/dev/null
  r=$?
  [ $r -eq 0 ] && [ "$(grep -v '^# command' "$T/w0.tsv" | md5sum)" = "$(grep -v '^# command' "$T/w00.tsv" | md5sum)" ] && grep -q "^# weight_decay: 5$" "$T/w5.tsv" && ! grep -q weight_decay "$T/w0.tsv" \
    && [ "$(grep -v '^#' "$T/w5.tsv" | md5sum)" != "$(grep -v '^#' "$T/w0.tsv" | md5sum)" ]
  ok $? "$sub --weight-decay: 0 = the default (same bytes), 5 changes the results and is in the metadata"
  badx "\-\-weight-decay" $sub --weight-decay -0.1
done
badx "\-\-weight-decay" check --weight-decay 0.1
G="linear-gd --steps 60 --batch 64 --log-every 30 --eval-tasks 100 --scan-tasks 100"
"$B" $G --threads 1 --out "$T/lg1.tsv" 2>/dev/null; ok $? "linear-gd runs"
"$B" $G --threads 2 --out "$T/lg2.tsv" 2>/dev/null
cmp -s "$T/lg1.tsv" "$T/lg2.tsv"; ok $? "linear-gd: same bytes with 1 and 2 threads"
tsv "$T/lg1.tsv" 'm++; if (!($c["model_cos"] >= -1 && $c["model_cos"] <= 1 && $c["preds_diff"] >= 0 && $c["test_loss_gd"] > 0)) bad++' 'exit !(m == 3 && !bad)'
ok $? "linear-gd: 3 metric rows (steps 0, 30, 60), cosines in [-1, 1]"
grep -q "^# eta_gd: " "$T/lg1.tsv"; ok $? "linear-gd: GD's eta in the metadata"
badx "\-\-clip" linear-gd --clip 0
badx "\-\-N" linear-gd --N 0
C="closeness --n 12,6 --d 4 --reps 2 --steps 20 --batch 4 --log-every 10 --eval-tasks 8 --scan-tasks 8 --vs-d 3,6 --vs-d-n 6"
"$B" $C --threads 1 --out "$T/cl1.tsv" 2>/dev/null; ok $? "closeness runs"
"$B" $C --threads 2 --out "$T/cl2.tsv" 2>/dev/null
cmp -s "$T/cl1.tsv" "$T/cl2.tsv" && cmp -s "$T/cl1-vs-d.tsv" "$T/cl2-vs-d.tsv"; ok $? "closeness: same bytes (2 files) with 1 and 2 threads"
tsv "$T/cl1.tsv" 'm++; if (!($c["model_cos"] >= -1 && $c["model_cos"] <= 1 && $c["test_loss_gd"] > 0 && $c["test_loss_tf"] > 0 && $c["test_loss_tf_std"] >= 0)) bad++' 'exit !(m == 6 && !bad)'
ok $? "closeness: 2 n x 3 log points, losses > 0, cosines in [-1, 1]"
tsv "$T/cl1-vs-d.tsv" 'm++' 'exit !(m == 2)'; ok $? "closeness: vs-d file, one row per d"
C1="closeness --n 14 --d 4 --reps 1 --steps 20 --batch 5 --log-every 10 --eval-tasks 7 --scan-tasks 8 --vs-d none"
"$B" $C1 --threads 1 --out "$T/cs1.tsv" 2>/dev/null && "$B" $C1 --threads 2 --out "$T/cs2.tsv" 2>/dev/null
ok $? "closeness: a single run (--reps 1 --vs-d none) runs"
cmp -s "$T/cs1.tsv" "$T/cs2.tsv" && cmp -s "$T/cs1-vs-d.tsv" "$T/cs2-vs-d.tsv"
ok $? "closeness, a single run (threads inside the run): same bytes with 1 and 2 threads"
tsv "$T/cs1.tsv" 'm++' 'exit !(m == 3)' && tsv "$T/cs1-vs-d.tsv" 'm++' 'exit !(m == 0)'
ok $? "closeness --vs-d none: 3 log points, a vs-d file without rows"
# --dtype f32: same bytes for 1 and 2 threads; the float layer's metrics within float rounding of the double run's
# at step 0 (same initial weights rounded to float), and the dtype in the metadata (the default's metadata has none)
"$B" $C1 --dtype f32 --threads 1 --out "$T/cf1.tsv" 2>/dev/null && "$B" $C1 --dtype f32 --threads 2 --out "$T/cf2.tsv" 2>/dev/null
ok $? "closeness --dtype f32 runs"
cmp -s "$T/cf1.tsv" "$T/cf2.tsv"; ok $? "closeness --dtype f32: same bytes with 1 and 2 threads"
grep -q '^# dtype: f32' "$T/cf1.tsv" && ! grep -q '^# dtype' "$T/cs1.tsv"; ok $? "closeness --dtype f32 in the metadata only when set"
grep -v '^#' "$T/cs1.tsv" >"$T/cs1.d"; grep -v '^#' "$T/cf1.tsv" >"$T/cf1.d"
paste "$T/cs1.d" "$T/cf1.d" | awk -F'\t' '$3 == "0" { n++; d = $4 - $17; if (d < 0) d = -d; if (!(d <= 1e-5 * $4)) bad++ }
    $3 == "20" { m++; if ($4 == $17) same++ } END { exit !(n == 1 && !bad && m == 1 && !same) }'
ok $? "closeness --dtype f32: step-0 TF test loss = the double run's to 1e-5 relative; after training not bit-equal"
badx "\-\-dtype" closeness --dtype f16
badx "\-\-vs-d" closeness --vs-d 0
badx "\-\-R" closeness --R 0
tap_done
