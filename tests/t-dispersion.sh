#!/bin/sh
# t-dispersion.sh - smx-dispersion: bad options exit 2 with a message naming the option, --help / --version,
# tiny runs of every subcommand, and the same bytes whatever --threads (retrieval), and after a checkpoint and
# --resume; mismatching options and truncated / corrupted checkpoints exit 2.
. "$(dirname "$0")/lib.sh"
B=${SMX_BIN:-build/bin}/smx-dispersion
# bad_d OPT ARGS...: smx-dispersion ARGS exits 2 with one line on stderr naming OPT (lib.sh's bad)
bad_d() { _e=$1; shift; bad "$_e" "$B" "$@"; }
bad_d "missing COMMAND"
bad_d "unknown command" frobnicate
bad_d "--s" curves --s -1
bad_d "--s" ssmax --s abc
bad_d "--deltas" curves --deltas 1,x
bad_d "--deltas" curves --deltas ""
bad_d "--eps" curves --eps 0.7
bad_d "--formats" curves --formats fp16,fp99
bad_d "--formats" precision --formats fp128
bad_d "--nmax-log2" precision --nmax-log2 99
bad_d "--profile" curves --profile huge
bad_d "--fig3-n" ssmax --fig3-n 10.5
bad_d "--d" retrieval --d 0
bad_d "--lr" retrieval --lr -1
bad_d "--test-log2" retrieval --test-log2 3
bad_d "--seed" retrieval --seed -4
bad_d "unexpected argument" precision extra
for c in curves ssmax precision retrieval; do
  bad_d "unknown or ambiguous option '--no-such-option'" $c --no-such-option
  bad_d "option '--out' needs a value" $c --out
done
"$B" --help | grep -q retrieval; ok $? "--help lists the commands"
"$B" retrieval --help | grep -q "test-sets"; ok $? "retrieval --help lists its options"
"$B" --version | grep -q "smx-dispersion (smx)"; ok $? "--version"
"$B" curves --nmax-log2 8 --random-log2 6 --materialise-log2 6 --out "$T/c.tsv" 2>/dev/null; ok $? "curves runs"
for s in materialised beta-star adaptive-beta; do test -s "$T/c-$s.tsv"; ok $? "curves writes c-$s.tsv"; done
grep -q "^# paper_delta_gemma2b" "$T/c.tsv"; ok $? "curves metadata has the paper's spreads"
"$B" ssmax --fig1-nmax 50 --fig3-n 10,100 --out "$T/s.tsv" 2>/dev/null; ok $? "ssmax runs"
grep -q "SSMax p_max at n = 2	0.816	0.8161" "$T/s.tsv"; ok $? "ssmax summary: 0.816 at n = 2 beside the paper"
"$B" precision --nmax-log2 12 --gaps 0,5 --out "$T/p.tsv" 2>/dev/null; ok $? "precision runs"
awk -F'\t' '!/^#/ && $1 == 0 && $2 == "bf16" && $3 == "naive" && $4 == 4096 { print $5 }' "$T/p.tsv" | grep -qx 256
ok $? "precision: bf16 naive sum of 4096 ones is 256"
R="retrieval --d 8 --steps 30 --batch 4 --test-log2 6 --test-sets 6"
"$B" $R --threads 1 --out "$T/r1.tsv" 2>/dev/null; ok $? "retrieval runs (--threads 1)"
"$B" $R --threads 2 --out "$T/r2.tsv" 2>/dev/null; ok $? "retrieval runs (--threads 2)"
cmp -s "$T/r1.tsv" "$T/r2.tsv" && cmp -s "$T/r1-attention.tsv" "$T/r2-attention.tsv" && cmp -s "$T/r1-train.tsv" "$T/r2-train.tsv"
ok $? "retrieval: same bytes with 1 and 2 threads"
"$B" $R --seed 7 --out "$T/r3.tsv" 2>/dev/null; ! cmp -s "$T/r1.tsv" "$T/r3.tsv"; ok $? "retrieval: another seed, other data"
test "$(grep -vc '^#' "$T/r1.tsv")" -eq 10; ok $? "retrieval: header + 3 methods x 3 sizes"
# uniform options (issue 8): --quiet changes nothing in the data (and is not recorded); --weight-decay is --wd
"$B" $R --threads 1 --quiet --out "$T/rq.tsv" 2>"$T/rq.err"
cmp -s "$T/r1.tsv" "$T/rq.tsv" && cmp -s "$T/r1-train.tsv" "$T/rq-train.tsv" && ! [ -s "$T/rq.err" ]
ok $? "retrieval --quiet: same bytes, nothing on stderr"
"$B" $R --threads 1 --weight-decay 0.0385 --out "$T/rw1.tsv" 2>/dev/null && "$B" $R --threads 1 --wd 0.0385 --out "$T/rw2.tsv" 2>/dev/null
grep -v '^# command' "$T/rw1.tsv" >"$T/rw1" && grep -v '^# command' "$T/rw2.tsv" >"$T/rw2" && cmp -s "$T/rw1" "$T/rw2" &&
  grep -q '^# wd: 0.0385' "$T/rw1" && ! cmp -s "$T/rw1.tsv" "$T/r1.tsv"
ok $? "retrieval --weight-decay X = --wd X (the old name), and it changes the data"
for c in "curves --nmax-log2 6 --random-log2 6 --materialise-log2 6" "ssmax --fig1-nmax 20 --fig3-n 10" "precision --nmax-log2 8"; do
  "$B" $c --out "$T/q1.tsv" 2>/dev/null && "$B" $c --quiet --out "$T/q2.tsv" 2>"$T/q.err" && cmp -s "$T/q1.tsv" "$T/q2.tsv" && ! [ -s "$T/q.err" ]
  ok $? "${c%% *} --quiet: same bytes, nothing on stderr"
done
# adaptive temperature must act (issue 8's mutation: scale forced to 1): per n, the adaptive rows' mean scale
# equals beta(H) of Velickovic et al. at the softmax rows' entropy H (within 1 %: the untrained model's entropy
# hardly varies between sets), lies in (1, 2.421], and the sharpened attention has a lower entropy.
awk -F'\t' '!/^#/ && $1 == "softmax" { H[$2] = $6; s1 = s1 || $9 != 1 }
  !/^#/ && $1 == "adaptive" { h = H[$2]; b = (((-0.037 * h + 0.481) * h - 2.3) * h + 4.917) * h - 1.791; if (b < 1) b = 1
    n++; if (!($9 > 1.05 && $9 <= 2.4211 && $9 > 0.99 * b && $9 < 1.01 * b && $6 < H[$2])) bad++ }
  END { exit !(n == 3 && !bad && !s1) }' "$T/r1.tsv"
ok $? "retrieval: adaptive temperature acts (scale = beta(H) > 1, entropy below softmax's; softmax scale 1)"
# checkpoint / resume: a run stopped in the softmax model's training, resumed, stopped in the SSMax
# model's, resumed to the end writes the same bytes as an uninterrupted run (log rows every 50 steps)
R="retrieval --d 8 --steps 120 --batch 4 --test-log2 5 --test-sets 4 --threads 1 --seed 23"
same3() { cmp -s "$T/u.tsv" "$T/$1.tsv" && cmp -s "$T/u-train.tsv" "$T/$1-train.tsv" && cmp -s "$T/u-attention.tsv" "$T/$1-attention.tsv"; }
"$B" $R --out "$T/u.tsv" 2>"$T/u.err"; ok $? "retrieval uninterrupted"
grep -Eq '^smx-dispersion retrieval: training: 240 steps in [0-9.e+-]+ s = [0-9.e+]+ steps/s \(batch 4, d 8, n <= 16, 1 thread\)$' "$T/u.err"
ok $? "retrieval: the training throughput line (2 models x 120 steps; make bench-dispersion's row)"
test -s "$T/u.tsv.ckpt"; ok $? "retrieval writes the checkpoint OUT.ckpt after training"
"$B" $R --out "$T/k.tsv" --stop-after 77 2>"$T/err"; rc=$?
test $rc -eq 5 && test -s "$T/k.tsv.ckpt" && ! test -e "$T/k.tsv" && grep -q "stop-after 77" "$T/err"
ok $? "--stop-after 77: checkpoint written, exit 5, no data"
"$B" $R --out "$T/k.tsv" --resume --stop-after 170 2>"$T/err"; rc=$?
test $rc -eq 5 && grep -q "resuming from .*step 77" "$T/err"; ok $? "--resume, --stop-after 170 (in the SSMax model): exit 5"
"$B" $R --out "$T/k.tsv" --resume 2>"$T/err"; ok $? "--resume to the end"
grep -q "training: 70 steps in" "$T/err"; ok $? "resumed at step 170: the throughput counts the 70 steps taken"
same3 k; ok $? "resumed run: same bytes as the uninterrupted one (3 files)"
"$B" $R --out "$T/g.tsv" --resume --checkpoint "$T/u.tsv.ckpt" 2>"$T/err"
grep -q "resuming from .*model 2" "$T/err" && same3 g; ok $? "--resume from a run's final checkpoint: no training, same bytes"
"$B" $R --out "$T/e.tsv" --checkpoint-every 1e-9 --checkpoint "$T/sub/e.ckpt" 2>/dev/null
same3 e && test -s "$T/sub/e.ckpt"; ok $? "--checkpoint-every 1e-9 --checkpoint FILE: a checkpoint every step, same bytes"
"$B" $R --out "$T/f.tsv" --resume 2>"$T/err"; rc=$?
test $rc -eq 0 && grep -q "no checkpoint.*afresh" "$T/err" && same3 f; ok $? "--resume without a checkpoint starts afresh, same bytes"
"$B" $R --out "$T/k.tsv" --stop-after 60 2>/dev/null
cp "$T/k.tsv.ckpt" "$T/keep.ckpt"
bad_d "written with lr=0.001, this run has lr=0.002" $R --out "$T/k.tsv" --resume --lr 0.002
bad_d "written with seed=23, this run has seed=24" $R --seed 24 --out "$T/k.tsv" --resume
bad_d "written with test-sets=4, this run has test-sets=5" $R --test-sets 5 --out "$T/k.tsv" --resume
head -c 3000 "$T/keep.ckpt" >"$T/t.ckpt"
bad_d "checksum mismatch" $R --out "$T/k.tsv" --resume --checkpoint "$T/t.ckpt"
cp "$T/keep.ckpt" "$T/c.ckpt"; printf 'X' | dd of="$T/c.ckpt" bs=1 seek=2385 conv=notrunc 2>/dev/null
bad_d "checksum mismatch" $R --out "$T/k.tsv" --resume --checkpoint "$T/c.ckpt"
: >"$T/z.ckpt"
bad_d "bad magic" $R --out "$T/k.tsv" --resume --checkpoint "$T/z.ckpt"
bad_d "--checkpoint-every" retrieval --checkpoint-every -1
bad_d "--stop-after" retrieval --stop-after 0
"$B" $R --out "$T/k.tsv" --resume --checkpoint "$T/keep.ckpt" 2>/dev/null && same3 k; ok $? "the good checkpoint still resumes to the same bytes"
"$B" retrieval --help | grep -q -- "--resume"; ok $? "retrieval --help documents --resume"
# one rule for both training programs (solvers/run.h): --resume without a checkpoint starts afresh, default
# interval 180 s, --stop-after exit 5; both --help say so
C=${SMX_BIN:-build/bin}/smx-collapse
for p in "$B retrieval" "$C"; do
  $p --help >"$T/h" 2>&1; grep -q "none, start afresh" "$T/h" && grep -q "180" "$T/h" && grep -q "status 5" "$T/h"
  ok $? "$p --help: --resume without a checkpoint starts afresh, interval 180 s, --stop-after exits 5"
done
tap_done
