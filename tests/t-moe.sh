#!/bin/sh
# t-moe.sh - smx-moe: bad options and bad parameter / data files exit 2 naming the option (file, line,
# column); --help / --version; sample -> fit -> loss round trip; loss at the truth is 0; the authors'
# convention vs translation min; sweep determinism across --threads, shards merged == one run (cmp),
# checkpoint / resume; summary.
B=${SMX_BIN:-build/bin}/smx-moe
. "$(dirname "$0")/lib.sh"
# badx EXP ARGS...: $B ARGS exits 2 with ONE line on stderr naming EXP (lib.sh's bad)
badx() { _e=$1; shift; bad "$_e" "$B" "$@"; }
printf 'beta0\tbeta1_1\tb\ta_1\tvar\n-8\t25\t15\t-20\t0.09\n0\t0\t-5\t20\t0.16\n' >"$T/truth.tsv"
printf '# comment\nbeta0\tbeta1_1\tb\ta_1\tvar\n-7.9\t24.7\t15.2\t-20.3\t0.11\n-0.69\t0.4\t-4.9\t19.8\t0.15\n0\t0\t-5.3\t20.25\t0.2\n' >"$T/fit3.tsv"
printf 'beta0\tbeta1_1\tb\ta_1\n-8\t25\t15\t-20\n' >"$T/nocol.tsv"
printf 'beta0\tbeta1_1\tb\ta_1\tvar\n-8\t25\tx15\t-20\t0.09\n' >"$T/nonnum.tsv"
printf 'beta0\tbeta1_1\tb\ta_1\tvar\n-8\t25\t15\t-20\t-0.09\n' >"$T/negvar.tsv"
printf 'beta0\tbeta1_1\tb\ta_1\tvar\n' >"$T/k0.tsv"
printf 'beta0\tbeta1_1\tbeta1_2\tb\ta_1\ta_2\tvar\n0\t0\t0\t1\t1\t1\t1\n' >"$T/d2.tsv"
printf 'beta0\tbeta1_1\tb\ta_1\tvar\n-8\t25\t15\n' >"$T/ragged.tsv"
badx "missing COMMAND"
badx "unknown command" frobnicate
badx "\-\-truth.*nocol.tsv:1" loss --truth "$T/nocol.tsv" --fit "$T/fit3.tsv"
badx "\-\-truth.*nonnum.tsv:2:3" loss --truth "$T/nonnum.tsv" --fit "$T/fit3.tsv"
badx "\-\-fit.*negvar.tsv:2:5.*variance" loss --truth "$T/truth.tsv" --fit "$T/negvar.tsv"
badx "\-\-fit.*k = 0" loss --truth "$T/truth.tsv" --fit "$T/k0.tsv"
badx "\-\-fit.*d = 2, want d = 1" loss --truth "$T/truth.tsv" --fit "$T/d2.tsv"
badx "\-\-fit.*ragged.tsv:2:4" loss --truth "$T/truth.tsv" --fit "$T/ragged.tsv"
badx "\-\-truth.*cannot open" fit --truth "$T/none.tsv"
badx "\-\-truth: missing" loss --fit "$T/fit3.tsv"
badx "\-\-fit: missing" loss --truth "$T/truth.tsv"
badx "\-\-translation" loss --truth "$T/truth.tsv" --fit "$T/fit3.tsv" --translation max
badx "\-\-rbar" loss --truth "$T/truth.tsv" --fit "$T/fit3.tsv" --rbar -3
badx "\-\-k" fit --k 0
badx "\-\-k.*below" fit --k 1
badx "\-\-n" fit --n 1
badx "\-\-init" fit --init exact
badx "\-\-design" sample --design sobol
badx "\-\-tol" fit --tol 2
badx "\-\-seed" fit --seed -4
badx "\-\-profile" sample --profile huge
badx "\-\-data.*no column 'y'" fit --data "$T/truth.tsv"
badx "unknown or ambiguous option '--no-such-option'" fit --no-such-option
badx "\-\-k: not an option of sample" sample --k 3
badx "unexpected\|positional" fit extra
"$B" --help | grep -q summary; ok $? "--help lists the commands"
"$B" fit --help | grep -q "init intended|authors"; ok $? "fit --help explains --init"
"$B" --version | grep -q "smx-moe (smx)"; ok $? "--version"
# loss: 0 at the truth, hand value of the 3-expert example (t-moe.c), the authors' convention is larger
test "$("$B" loss --truth "$T/truth.tsv" --fit "$T/truth.tsv" | tail -1)" = 0; ok $? "loss at the truth is 0"
D=$("$B" loss --truth "$T/truth.tsv" --fit "$T/fit3.tsv" --translation none | tail -1)
awk -v d="$D" 'BEGIN { h = exp(-7.9) - exp(-8) + exp(-0.69) + exp(-7.9) * 0.82 + exp(-0.69) * (0.4^4 + 0.1^4 + 0.04 + 0.0001) + 0.3^4 + 0.0625 + 0.0016;
  exit !(d - h < 1e-12 * h && h - d < 1e-12 * h) }'; ok $? "loss --translation none: hand-computed D2 ($D)"
Dm=$("$B" loss --truth "$T/truth.tsv" --fit "$T/fit3.tsv" | tail -1)
awk -v a="$Dm" -v b="$D" 'BEGIN { exit !(a < 0.5 * b) }'; ok $? "loss --translation min ($Dm) < none ($D)"
printf 'beta0\tbeta1_1\tb\ta_1\tvar\n-8\t25\t15\t-20\t0.09\n-0.1\t0.01\t-5\t20\t0.16\n-0.2\t0.02\t-5\t20\t0.16\n-0.3\t0.03\t-5\t20\t0.16\n0\t0\t-5.01\t20\t0.16\n' >"$T/fit5.tsv"
badx "\-\-rbar: a Voronoi cell has >= 4" loss --truth "$T/truth.tsv" --fit "$T/fit5.tsv"
"$B" loss --truth "$T/truth.tsv" --fit "$T/fit5.tsv" --rbar 8 --out "$T/l5.tsv" >/dev/null; ok $? "loss with --rbar 8 accepts a 4-member cell"
awk -F'\t' '!/^#/ && $1 == 2 { print $2 }' "$T/l5.tsv" | grep -qx 4; ok $? "loss --out: the reference cell has 4 members"
# sample -> fit --data -> loss: the same D as fit's own (translation min), and fit = fit --n with the same seed
"$B" sample --n 600 --seed 11 --out "$T/s.tsv" 2>/dev/null; ok $? "sample runs"
test "$(grep -vc '^#' "$T/s.tsv")" -eq 601; ok $? "sample writes a header and 600 rows"
"$B" fit --data "$T/s.tsv" --seed 11 --out "$T/f.tsv" >"$T/f.out" 2>/dev/null; ok $? "fit --data runs"
"$B" fit --n 600 --seed 11 --out "$T/g.tsv" >"$T/g.out" 2>/dev/null; ok $? "fit --n runs"
cmp -s "$T/f.out" "$T/g.out"; ok $? "fit --data (sampled with seed S) = fit --n --seed S"
Df=$(awk '{ print $8 }' "$T/f.out"); Dl=$("$B" loss --truth "$T/truth.tsv" --fit "$T/f.tsv" | tail -1)
test "$Df" = "$Dl"; ok $? "loss of fit's parameter file = fit's D_min ($Df, $Dl)"
"$B" fit --n 2000 --k 3 --seed 5 --out "$T/f3.tsv" >"$T/f3.out" 2>/dev/null; ok $? "fit --k 3 runs (5 restarts)"
grep -q "^# restarts: 5" "$T/f3.tsv"; ok $? "k > k*: 5 restarts by default"
test "$(grep -vc '^#' "$T/f3.tsv")" -eq 4; ok $? "fit --k 3 writes 3 experts"
"$B" fit --n 2000 --k 3 --seed 5 --init authors --out "$T/f3a.tsv" >/dev/null 2>&1 && grep -q "^# init: authors" "$T/f3a.tsv"
ok $? "fit --init authors recorded in the metadata"
# sweep: same bytes for --threads 1 and 2; 3 shards merged (any order) == one run; stop + resume == one run
S="sweep --nmax 2000 --points 4 --reps 3 --seed 9"
"$B" $S --threads 2 --out "$T/w1.tsv" 2>/dev/null; ok $? "sweep runs (--threads 2)"
"$B" $S --threads 1 --out "$T/w2.tsv" 2>/dev/null; cmp -s "$T/w1.tsv" "$T/w2.tsv"; ok $? "sweep: same bytes with 1 and 2 threads"
test "$(grep -vc '^#' "$T/w1.tsv")" -eq 13; ok $? "sweep: header + 4 n x 3 reps"
for i in 1 2 3; do "$B" $S --shard $i/3 --threads 1 --out "$T/sh$i.tsv" 2>/dev/null || echo "# shard $i failed"; done
"$B" merge --out "$T/m.tsv" "$T/sh3.tsv" "$T/sh1.tsv" "$T/sh2.tsv"; cmp -s "$T/w1.tsv" "$T/m.tsv"; ok $? "3 shards merged == one run (cmp)"
badx "a shard missing" merge --out "$T/m2.tsv" "$T/sh1.tsv" "$T/sh2.tsv"
badx "appears twice" merge --out "$T/m2.tsv" "$T/sh1.tsv" "$T/sh1.tsv" "$T/sh2.tsv" "$T/sh3.tsv"
"$B" sweep --nmax 2000 --points 4 --reps 2 --seed 9 --out "$T/o.tsv" 2>/dev/null
badx "metadata or header differ" merge --out "$T/m2.tsv" "$T/sh1.tsv" "$T/o.tsv"
badx "\-\-shard" sweep --shard 4/3
badx "\-\-shard" sweep --shard 2
badx "\-\-grid" sweep --grid cubic
badx "\-\-nmax.*below" sweep --nmin 500 --nmax 200
"$B" $S --threads 2 --out "$T/r.tsv" --stop-after 5 2>/dev/null; rc=$?
test $rc -eq 5 && test -s "$T/r.tsv.ckpt" && ! test -e "$T/r.tsv"; ok $? "sweep --stop-after 5: exit 5, checkpoint, no data file"
badx "other options" sweep --nmax 2000 --points 4 --reps 4 --seed 9 --out "$T/r.tsv" --resume
"$B" $S --threads 1 --out "$T/r.tsv" --resume 2>/dev/null; cmp -s "$T/w1.tsv" "$T/r.tsv"; ok $? "sweep --resume == one run"
! test -e "$T/r.tsv.ckpt"; ok $? "checkpoint removed when the sweep finishes"
printf 'garbage' >"$T/g.tsv.ckpt"
badx "\-\-resume" $S --out "$T/g.tsv" --resume
# a row reproduced by fit --n n --seed S
row=$(awk -F'\t' '!/^#/ && $1 == 2000 && $2 == 1' "$T/w1.tsv")
sd=$(echo "$row" | cut -f3); dm=$(echo "$row" | cut -f10)
"$B" fit --n 2000 --seed "$sd" --out "$T/rf.tsv" 2>/dev/null | grep -q "D_min $dm "; ok $? "sweep row (n 2000, rep 1) = fit --n 2000 --seed $sd"
# summary: slopes and the per-n table
"$B" summary --boot 100 --out "$T/su.tsv" "$T/w1.tsv" 2>/dev/null; ok $? "summary runs"
awk -F'\t' '!/^#/ && $3 == "D_min" && $4 == "mean" { exit !($7 <= $5 && $5 <= $8 && $5 < 0) } ' "$T/su.tsv"; ok $? "summary: D_min mean slope negative, inside its bootstrap interval"
test "$(grep -vc '^#' "$T/su-byn.tsv")" -eq 5; ok $? "summary: per-n table with 4 rows"
"$B" sweep --grid authors --points 10 --reps 1 --nmax 2000 --max-iter 1 --out "$T/ga.tsv" 2>/dev/null
grep -qx "# n_grid: 100,300,500,700,900,1000,1250,1500,1750,2000" "$T/ga.tsv"; ok $? "--grid authors, k = k*: numpy linspace(100, 900, 5) + linspace(1000, 2000, 5)"
badx "no column" summary --out "$T/su2.tsv" "$T/truth.tsv"
# gates (paper (c)): temperature vs activation gate
badx "\-\-gate" gates --gate hard
badx "\-\-act" gates --gate activation --act relu
badx "\-\-act.*activation" gates --act tanh
badx "\-\-k: not an option of gates" gates --k 3
badx "\-\-nmax.*below" gates --nmin 500 --nmax 200
G="gates --gate activation --act sigmoid --nmin 200 --nmax 800 --points 2 --reps 2 --seed 5"
"$B" $G --threads 1 --out "$T/ga1.tsv" 2>/dev/null && "$B" $G --threads 2 --out "$T/ga2.tsv" 2>/dev/null
cmp -s "$T/ga1.tsv" "$T/ga2.tsv"; ok $? "gates: same bytes for --threads 1 and 2"
test "$(grep -vc '^#' "$T/ga1.tsv")" -eq 5 && grep -q '^# act: sigmoid' "$T/ga1.tsv" && grep -q '^# tau_init:' "$T/ga1.tsv"
ok $? "gates: 4 rows, act and tau_init in the metadata"
awk -F'\t' '!/^#/ && $1 != "n" { if (!($9 > 0 && $9 < 1 && $10 > 0 && $15 == ($9 > 0.1 ? $9 - 0.1 : 0.1 - $9) + 0)) bad = 1 } END { exit bad }' "$T/ga1.tsv"
ok $? "gates: tau in (0, 1), D > 0, err_tau = |tau - 0.1|"
# multinomial (paper (d)): logistic experts, softmax vs modified gate
badx "\-\-gate" multinomial --gate topk
badx "\-\-truth: not an option of topk" topk --truth x.tsv
badx "\-\-truth: x.tsv: cannot open" multinomial --truth x.tsv
M="multinomial --gate modified --nmin 300 --nmax 900 --points 2 --reps 2 --seed 5"
"$B" $M --threads 1 --out "$T/mu1.tsv" 2>/dev/null && "$B" $M --threads 2 --out "$T/mu2.tsv" 2>/dev/null
cmp -s "$T/mu1.tsv" "$T/mu2.tsv"; ok $? "multinomial: same bytes for --threads 1 and 2"
test "$(grep -vc '^#' "$T/mu1.tsv")" -eq 5 && grep -q '^# gate: modified' "$T/mu1.tsv"; ok $? "multinomial: 4 rows, gate in the metadata"
# topk (paper (b))
badx "\-\-topk" topk --topk 0
badx "\-\-topk: 3 exceeds" topk --k 2 --topk 3
badx "\-\-k: 1 is below" topk --k 1
K="topk --k 2 --topk 1 --nmin 500 --nmax 2000 --points 2 --reps 2 --seed 5"
"$B" $K --threads 1 --out "$T/tk1.tsv" 2>/dev/null && "$B" $K --threads 2 --out "$T/tk2.tsv" 2>/dev/null
cmp -s "$T/tk1.tsv" "$T/tk2.tsv"; ok $? "topk: same bytes for --threads 1 and 2"
awk -F'\t' '!/^#/ && $1 != "n" { r++; if (!($9 > 0 && $9 < 2 && $8 == 1)) bad = 1 } END { exit bad || r != 4 }' "$T/tk1.tsv"
ok $? "topk k = 2, K = 1: 4 converged fits with 0 < D1 < 2"
touch "$T/afile"
# an output that cannot be written: exit 3 (output error, cli.h) with the path and the cause, one line
"$B" sample --n 50 --out "$T/afile/s.tsv" 2>"$T/err" >/dev/null; r=$?
[ $r -eq 3 ] && grep -q "cannot create '$T/afile/s.tsv': Not a directory" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]
ok $? "sample --out below a regular file: exit 3 naming the path and the cause"
"$B" sweep --k 2 --nmin 100 --nmax 200 --reps 1 --out "$T/afile/w.tsv" 2>"$T/err" >/dev/null; r=$?
[ $r -eq 3 ] && grep -q "$T/afile/w.tsv: Not a directory\|afile/w.tsv.*Not a directory" "$T/err"; ok $? "sweep --out below a regular file: exit 3"
# a size whose memory estimate exceeds the machine (211 GB for 2 workers): refused up front, one line with the
# estimate, exit 4 (no ulimit: the sanitized build reserves terabytes of address space)
"$B" sweep --k 64 --nmin 50000000 --nmax 100000000 --points 2 --reps 1 --threads 2 --out "$T/big.tsv" 2>"$T/err" >/dev/null; r=$?
[ $r -eq 4 ] && grep -q "\-\-nmax x --k x --threads needs about 211200 MB of memory; only .* MB available" "$T/err" && \
  [ "$(wc -l <"$T/err")" -eq 1 ] && ! test -e "$T/big.tsv"
ok $? "sweep --nmax 1e8 --k 64 --threads 2: refused up front with the estimate, exit 4 (rc $r: $(head -c 120 "$T/err"))"
tap_done
