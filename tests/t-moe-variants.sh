#!/bin/sh
# t-moe-variants.sh - smx-moe (issue 13): the gating variants as options of sweep and fit (--gate
# softmax|topk|temperature|activation, --experts gaussian|multinomial): `sweep --gate X` writes the bytes of
# the alias subcommand (gates / topk / multinomial; only the options on the command line may differ); shards of every variant merge
# into the one-run bytes (cmp); a fit row = the sweep row with the same (n, seed); options rejected with
# ONE line naming the option (issue 9); --quiet silences stderr.
B=${SMX_BIN:-build/bin}/smx-moe
. "$(dirname "$0")/lib.sh"
# badx EXP ARGS...: $B ARGS exits 2 with ONE line on stderr naming EXP (lib.sh's bad)
badx() { _e=$1; shift; bad "$_e" "$B" "$@"; }
nocmd() { grep -v '^# command:' "$1"; }
# one line for unknown options and missing values, in every subcommand
badx "missing COMMAND"
for c in sample fit loss sweep merge summary gates topk multinomial; do badx "unknown or ambiguous option '--frob'" $c --frob; done
badx "option '--n' needs a value" fit --n
badx "option '--gate' needs a value" sweep --gate
badx "\-\-gate: unknown value 'modified' (allowed: softmax|topk|temperature|activation)" sweep --gate modified
badx "\-\-gate: unknown value 'topk' (allowed: softmax|modified)" sweep --experts multinomial --gate topk
badx "\-\-experts" sweep --experts poisson
badx "\-\-topk: not an option of the softmax model" sweep --topk 2
badx "\-\-act: needs --gate activation" sweep --gate temperature --act tanh
badx "\-\-k: not an option of the temperature model" fit --gate temperature --k 3
badx "\-\-classes: not an option of the topk model" sweep --gate topk --classes 3
badx "\-\-classes" sweep --experts multinomial --classes 1
badx "\-\-truth: not an option of the temperature model" sweep --gate temperature --truth x.tsv
badx "\-\-gate: not an option of topk" topk --gate softmax
badx "\-\-experts: not an option of gates" gates --experts gaussian
badx "\-\-data: x.tsv: cannot open" fit --gate topk --data x.tsv
# sweep --gate X == the alias, but the command line
G="--nmin 200 --nmax 800 --points 2 --reps 2 --seed 5"
"$B" gates --gate activation --act tanh $G --out "$T/a1.tsv" --quiet 2>"$T/err"
"$B" sweep --gate activation --act tanh $G --out "$T/a2.tsv" --quiet 2>>"$T/err"
cmp -s "$T/a1.tsv" "$T/a2.tsv"; ok $? "sweep --gate activation --act tanh == gates --gate activation --act tanh (same bytes)"
test ! -s "$T/err"; ok $? "--quiet: nothing on stderr"
"$B" topk --k 3 --topk 2 --nmin 1000 --nmax 2000 --points 2 --reps 2 --seed 5 --out "$T/k1.tsv" 2>/dev/null
"$B" sweep --gate topk --k 3 --topk 2 --nmin 1000 --nmax 2000 --points 2 --reps 2 --seed 5 --out "$T/k2.tsv" 2>/dev/null
nocmd "$T/k1.tsv" >"$T/k1n"; nocmd "$T/k2.tsv" >"$T/k2n"; cmp -s "$T/k1n" "$T/k2n"; ok $? "sweep --gate topk == topk (but the command line)"
"$B" multinomial --gate modified --nmin 300 --nmax 900 --points 2 --reps 2 --seed 5 --out "$T/m1.tsv" 2>/dev/null
"$B" sweep --experts multinomial --gate modified --nmin 300 --nmax 900 --points 2 --reps 2 --seed 5 --out "$T/m2.tsv" 2>/dev/null
nocmd "$T/m1.tsv" >"$T/m1n"; nocmd "$T/m2.tsv" >"$T/m2n"; cmp -s "$T/m1n" "$T/m2n"; ok $? "sweep --experts multinomial == multinomial (but the command line)"
# shards of every variant merge into the one-run bytes (3 shards, any order)
for v in "--gate temperature" "--gate activation --act sigmoid" "--gate topk --k 3 --topk 2" "--experts multinomial --gate softmax" "--experts multinomial --classes 3"; do
  S="sweep $v --nmin 300 --nmax 1200 --points 3 --reps 2 --seed 7 --max-iter 60 --quiet"
  "$B" $S --threads 2 --out "$T/one.tsv" || echo "# one run failed"
  for i in 1 2 3; do "$B" $S --threads 1 --shard $i/3 --out "$T/s$i.tsv" || echo "# shard $i failed"; done
  "$B" merge --out "$T/mg.tsv" "$T/s2.tsv" "$T/s3.tsv" "$T/s1.tsv"; cmp -s "$T/one.tsv" "$T/mg.tsv"; ok $? "sweep $v: 3 shards merged == one run (cmp)"
done
badx "a shard missing" merge --out "$T/mg2.tsv" "$T/s1.tsv" "$T/s2.tsv"
# resume of a variant: stop after 2 fits, resume == one run
"$B" $S --threads 1 --out "$T/r.tsv" --stop-after 2 2>/dev/null; rc=$?
"$B" $S --threads 2 --out "$T/r.tsv" --resume 2>/dev/null; test $rc -eq 5 && cmp -s "$T/one.tsv" "$T/r.tsv"; ok $? "variant: --stop-after 2 then --resume == one run"
# summary of a variant's sweep file: the slope of its D column, k from the metadata
"$B" summary --boot 50 --quiet --out "$T/vs.tsv" "$T/one.tsv" "$T/k1.tsv" 2>"$T/err"
awk -F'\t' '!/^#/ && $3 == "D" { c++; if (!($5 == $5 + 0 && $2 >= 2)) bad = 1 } END { exit bad || c != 4 }' "$T/vs.tsv" && test ! -s "$T/err"
ok $? "summary of variant files (multinomial S = 3, topk k = 3): D mean / median slopes, k from '# k:'"
# fit of a variant = the sweep row with the same (n, seed)
"$B" sweep --gate topk --topk 1 --nmin 500 --nmax 1000 --points 2 --reps 2 --seed 3 --out "$T/t.tsv" --quiet
row=$(awk -F'\t' '!/^#/ && $1 == 1000 && $2 == 1' "$T/t.tsv"); sd=$(echo "$row" | cut -f3); D=$(echo "$row" | cut -f9)
"$B" fit --gate topk --topk 1 --n 1000 --seed "$sd" --out "$T/tf.tsv" --quiet >"$T/tf.out" 2>"$T/err"
grep -q " D $D " "$T/tf.out" && test ! -s "$T/err"; ok $? "fit --gate topk --n 1000 --seed $sd prints the sweep row's D ($D)"
test "$(grep -vc '^#' "$T/tf.tsv")" -eq 3; ok $? "fit --gate topk writes a parameter file of 2 experts"
"$B" fit --gate activation --act sigmoid --n 800 --seed 4 --out "$T/ga.tsv" --quiet >"$T/ga.out" && grep -q '^# tau: ' "$T/ga.tsv"
ok $? "fit --gate activation: tau in the parameter file's metadata"
"$B" loss --truth "$T/tf.tsv" --fit "$T/tf.tsv" | tail -1 | grep -qx 0; ok $? "fit's parameter file is read back by loss"
"$B" fit --gate topk --k 3 --topk 2 --n 2000 --seed 1 --quiet --out "$T/k3.tsv" >"$T/k3.out"
awk '{ for (i = 1; i < NF; i++) if ($i ~ /^selected_/) { s += $(i + 1); c++ } } END { exit !(c == 3 && s > 1.9995 && s < 2.0005) }' "$T/k3.out"
ok $? "fit --gate topk --k 3 --topk 2: selected_1..3, summing to K = 2 ($(cat "$T/k3.out"))"
# --quiet in every subcommand: nothing on stderr
"$B" sample --n 50 --quiet --out "$T/q1.tsv" 2>"$T/qe"
"$B" fit --n 300 --quiet --out "$T/q2.tsv" >/dev/null 2>>"$T/qe"
"$B" loss --truth "$T/q2.tsv" --fit "$T/q2.tsv" --quiet >/dev/null 2>>"$T/qe"
"$B" sweep --nmax 400 --points 2 --reps 1 --quiet --out "$T/q3.tsv" 2>>"$T/qe"
"$B" merge --quiet --out "$T/q4.tsv" "$T/q3.tsv" 2>>"$T/qe"
"$B" summary --quiet --boot 10 --out "$T/q5.tsv" "$T/q3.tsv" 2>>"$T/qe"
for c in gates topk multinomial; do "$B" $c --nmin 200 --nmax 300 --points 1 --reps 1 --max-iter 5 --quiet --out "$T/q6.tsv" 2>>"$T/qe"; done
test ! -s "$T/qe" && cmp -s "$T/q3.tsv" "$T/q4.tsv"; ok $? "--quiet accepted by sample, fit, loss, sweep, merge, summary, gates, topk, multinomial: stderr empty"
# Hellinger distance for d = 2 (Sobol quasi-Monte Carlo over x; was NaN)
printf 'beta0\tbeta1_1\tbeta1_2\tb\ta_1\ta_2\tvar\n-2.1\t4.3\t-1.7\t1.5\t-2.2\t0.8\t0.09\n0\t0\t0\t-1\t2.5\t-1.3\t0.16\n' >"$T/d2.tsv"
"$B" sweep --truth "$T/d2.tsv" --design uniform --nmin 500 --nmax 1000 --points 2 --reps 2 --quiet --out "$T/d2s.tsv"
awk -F'\t' '!/^#/ && $1 != "n" { r++; if (!($15 > 0 && $15 < 0.5)) bad = 1 } END { exit bad || r != 4 }' "$T/d2s.tsv"
ok $? "sweep with a d = 2 truth: Hellinger distance finite, in (0, 0.5)"
# multinomial experts with S = 3 classes
badx "\-\-classes" sweep --experts multinomial --classes 9
"$B" fit --experts multinomial --gate modified --classes 3 --n 3000 --seed 6 --out "$T/c3.tsv" --quiet >"$T/c3.out"
grep -q '^# classes: 3' "$T/c3.tsv" && test "$(grep -v '^#' "$T/c3.tsv" | awk -F'\t' '{ print NF }' | sort -u)" = 6 && grep -q ' D [0-9]' "$T/c3.out"
ok $? "fit --experts multinomial --classes 3: classes, the S-class parameter file (6 columns: 4 class logits per expert), D"
awk -F'\t' '!/^#/ && $1 != "n" { r++; if (!($6 >= 1 && $8 > 0 && $8 < 20)) bad = 1 } END { exit bad || r != 6 }' "$T/one.tsv"
ok $? "sweep --experts multinomial --classes 3: 6 rows with a finite D > 0"
tap_done
