#!/bin/sh
# t-collapse-io.sh - smx-collapse --dump-split / --dump-weights / --split-file / --init-weights
# (experiments/collapse_io.h, issue 11): a run of seed 2 fed seed 1's split and weights is seed 1's run
# (the data rows' bytes); the dumps are what was trained with; bad files are refused in one line (exit 2);
# an unwritable dump exits 3. The float64 run repeated in PyTorch (experiments/collapse_peers.py) agrees per
# epoch when /usr/bin/python3 can import torch (else a skip line). Env SMX_BIN. TAP helpers: tests/lib.sh.
. "$(dirname "$0")/lib.sh"
B=${SMX_BIN:-build/bin}/smx-collapse
PY=${SMX_PYTHON:-/usr/bin/python3}
PEERS=${SMX_SRC:-.}/experiments/collapse_peers.py
M="--modulus 13 --width 16 --train-frac 0.5 --epochs 30 --log-every 5 --lr 1e-2 --softmax-format bf16 --quiet --threads 1"
rows() { grep -v '^#' "$1"; }

"$B" $M --seed 1 --out "$T/s1.tsv" --dump-split "$T/split.tsv" --dump-weights "$T/w.tsv"; ok $? "seed 1 run with dumps"
head -1 "$T/split.tsv" | grep -qx '# format: smx-collapse-split 1' && head -1 "$T/w.tsv" | grep -qx '# format: smx-collapse-weights 1'
ok $? "dump files start with their format line"
[ "$(grep -c '	train$' "$T/split.tsv")" = 84 ] && [ "$(grep -c '	test$' "$T/split.tsv")" = 85 ]; ok $? "split: 84 train + 85 test pairs"
awk -F'\t' '/^#/ || /^a\t/ {next} {if (($1 + $2) % 13 != $3) bad++; if (seen[$1 " " $2]++) bad++} END {exit bad}' "$T/split.tsv"
ok $? "split: label = a + b mod 13, no pair twice"
[ "$(grep -vc '^#' "$T/w.tsv")" = $((1 + 26 * 16 + 16 * 16 + 13 * 16)) ]; ok $? "weights: header + every parameter"
"$B" $M --seed 2 --out "$T/s2.tsv"
"$B" $M --seed 2 --out "$T/s2f.tsv" --split-file "$T/split.tsv" --init-weights "$T/w.tsv" --dump-split "$T/split2.tsv" --dump-weights "$T/w2.tsv"
ok $? "seed 2 run fed seed 1's split and weights"
rows "$T/s1.tsv" >"$T/r1"; rows "$T/s2f.tsv" >"$T/r2f"; rows "$T/s2.tsv" >"$T/r2"
same "$T/r1" "$T/r2f" "seed 2 + seed 1's files = seed 1's run (data rows)"
cmp -s "$T/r1" "$T/r2"; [ $? != 0 ]; ok $? "seed 2 alone differs (the files made the difference)"
same "$T/split.tsv" "$T/split2.tsv" "the dumped split is the one read"
same "$T/w.tsv" "$T/w2.tsv" "the dumped weights are the ones read"
"$B" $M --seed 2 --out "$T/s2s.tsv" --split-file "$T/split.tsv"
rows "$T/s2s.tsv" >"$T/r2s"; cmp -s "$T/r2s" "$T/r1" || cmp -s "$T/r2s" "$T/r2"; [ $? != 0 ]; ok $? "split alone: neither run"
grep -q '^# options: .* split_file=' "$T/s2s.tsv"; ok $? "--split-file named in the options metadata"

# bad files: one line naming the option, exit 2
sed '1s/split 1/split 2/' "$T/split.tsv" >"$T/b1.tsv"; bad --split-file "$B" $M --out "$T/x.tsv" --split-file "$T/b1.tsv"
awk 'NR == 8 {$3 = $3 + 1} 1' OFS='\t' "$T/split.tsv" >"$T/b2.tsv"; bad "--split-file: .*line 8: label" "$B" $M --out "$T/x.tsv" --split-file "$T/b2.tsv"
awk 'NR == 9 {print prev; next} {prev = $0} 1' "$T/split.tsv" >"$T/b3.tsv"; bad "twice" "$B" $M --out "$T/x.tsv" --split-file "$T/b3.tsv"
head -100 "$T/split.tsv" >"$T/b4.tsv"; bad --split-file "$B" $M --out "$T/x.tsv" --split-file "$T/b4.tsv"
bad --split-file "$B" $M --train-frac 0.4 --out "$T/x.tsv" --split-file "$T/split.tsv"
bad --split-file "$B" $M --out "$T/x.tsv" --split-file "$T/w.tsv"
head -300 "$T/w.tsv" >"$T/b5.tsv"; bad "--init-weights: .*ends after" "$B" $M --out "$T/x.tsv" --init-weights "$T/b5.tsv"
awk 'NR == 20 {$4 = "nan"} 1' OFS='\t' "$T/w.tsv" >"$T/b6.tsv"; bad "--init-weights: .*finite" "$B" $M --out "$T/x.tsv" --init-weights "$T/b6.tsv"
bad --init-weights "$B" $M --width 17 --out "$T/x.tsv" --init-weights "$T/w.tsv"
bad --init-weights "$B" $M --out "$T/x.tsv" --init-weights "$T/none.tsv"
bad --dump-split "$B" bench --dump-split "$T/x.tsv"
"$B" $M --out "$T/x.tsv" --dump-weights "$T/s1.tsv/w.tsv" 2>"$T/err"; rc=$?
[ $rc = 3 ] && [ "$(wc -l <"$T/err")" = 1 ] && [ ! -e "$T/x.tsv" ]; ok $? "unwritable --dump-weights: exit 3, one line, no output (exit $rc)"

# PyTorch float64 peer: same split and weights, AdamW, per-epoch train loss and accuracy
if "$PY" -c 'import torch' >/dev/null 2>&1; then
    P="--modulus 23 --width 32 --train-frac 0.4 --epochs 100 --log-every 1 --lr 1e-3 --model-format fp64 --softmax-format fp64 --quiet --threads 1"
    "$B" $P --out "$T/p.tsv" --dump-split "$T/ps.tsv" --dump-weights "$T/pw.tsv"
    "$PY" "$PEERS" --tsv "$T/p.tsv" --split "$T/ps.tsv" --weights "$T/pw.tsv" --tol 1e-13 >"$T/peer.out" 2>&1
    ok $? "PyTorch float64 repeats the run: $(cat "$T/peer.out")"
    "$B" $P --log-convention reference --out "$T/pr.tsv" --dump-split "$T/ps.tsv" --dump-weights "$T/pw.tsv"
    "$PY" "$PEERS" --tsv "$T/pr.tsv" --split "$T/ps.tsv" --weights "$T/pw.tsv" --tol 1e-13 >"$T/peer.out" 2>&1
    ok $? "PyTorch, reference log convention: $(cat "$T/peer.out")"
    # a different learning rate in the TSV than in the run: the peer must disagree
    sed 's/ lr=0.001[0-9]* / lr=0.0011 /' "$T/p.tsv" >"$T/pl.tsv"
    "$PY" "$PEERS" --tsv "$T/pl.tsv" --split "$T/ps.tsv" --weights "$T/pw.tsv" --tol 1e-13 >/dev/null 2>&1; rc=$?
    [ $rc = 1 ]; ok $? "PyTorch with another lr disagrees (exit $rc)"
else
    skip "PyTorch check: $PY cannot import torch (Debian: apt-get install python3-torch)"
fi

tap_done
