#!/bin/sh
# t-collapse-onset.sh - smx-collapse gaps / --predict, onset --reference and --log-convention (issue 11).
# gaps: its quantiles are ordered, its gap_max is the train TSV's nonsc_gap_max (another code path) while
# no row is in SC, its thresholds are `smx collapse-threshold`'s, and onset_first is recomputed here from
# the median column; the predicted onset of p8 is close to the measured one. onset --reference: a run
# compared with itself never departs, a p5 run does; the reference run stops at the latest onset and
# gives the rows of a full-length one; a run without onset does not lengthen it (named in
# reference_cut). --log-convention reference: row e is smx's row e + 1.
# Env SMX_BIN = directory of the programs. TAP helpers: tests/lib.sh.
. "$(dirname "$0")/lib.sh"
BIN=${SMX_BIN:-build/bin}
B=$BIN/smx-collapse
M="--modulus 23 --width 32 --train-frac 0.5 --lr 1e-2 --quiet --threads 1"

"$B" gaps $M --epochs 400 --log-every 10 --softmax-format fp64 --out "$T/g.tsv" --predict "$T/gp.tsv"; ok $? "gaps --predict runs"
"$B" train $M --epochs 400 --log-every 10 --softmax-format fp64 --out "$T/tr.tsv"; ok $? "the same run as train"
# quantiles ordered: min <= q10 <= q25 <= q50 <= q75 <= q90 <= max in every row
awk -F'\t' '/^#/ || /^epoch/ {next} {for (i = 5; i < 11; i++) if (!($i <= $(i + 1))) bad++; n++} END {exit !(n == 41 && !bad)}' "$T/g.tsv"
ok $? "gaps: 41 rows, quantiles in order"
# gap_max (column 11) = nonsc_gap_max (column 8) of the train run: no row in SC in fp64 here
awk -F'\t' 'FNR == 1 {f++} /^#/ || /^epoch/ {next} f == 1 {g[$1] = $11; s[$1] = $4} f == 2 {if (s[$1] != 0 || $5 != 0 || g[$1] != $8) bad++; n++}
    END {exit !(n == 41 && !bad)}' "$T/g.tsv" "$T/tr.tsv"
ok $? "gaps: gap_max equals the train TSV's nonsc_gap_max and sc_fraction 0 at every epoch"
# thresholds = smx collapse-threshold (rounded exp), both sums
for s in sequential pairwise; do
    for p in 4 11 24 53 64; do
        want=$("$BIN"/smx collapse-threshold --format p$p --classes 23 --sum $s --exp rounded 2>/dev/null | awk '{print $1}')
        got=$(awk -F'\t' -v p=$p -v s=$s '$1 == p && $2 == s {print $3}' "$T/gp.tsv")
        awk -v a="$want" -v b="$got" 'BEGIN {d = a - b; exit !(a != "" && (d < 0 ? -d : d) <= 1e-12 * a)}'
        ok $? "predict: threshold p$p $s = smx collapse-threshold ($got vs $want)"
    done
done
# onset_first = the first epoch with gap_q50 >= threshold, recomputed from the gaps TSV
awk -F'\t' 'FNR == 1 {f++} /^#/ || /^epoch/ || /^p\t/ {next}
    f == 1 {e[n] = $1; q[n++] = $8; next}
    {want = -1; for (i = 0; i < n; i++) if (q[i] >= $3) {want = e[i]; break}; if (want != $4) bad++; rows++}
    END {exit !(rows == 122 && !bad)}' "$T/g.tsv" "$T/gp.tsv"
ok $? "predict: 122 rows (p 4..64, two sums), onset_first recomputed from the median column"
# the prediction holds for a real p8 run: measured onset within 20 % of the predicted one
"$B" onset $M --epochs 400 --log-every 10 --formats p8 --out "$T/on8.tsv"
meas=$(awk -F'\t' '$1 == "p8" {print $3}' "$T/on8.tsv")
pred=$(awk -F'\t' '$1 == 8 && $2 == "sequential" {print $4}' "$T/gp.tsv")
awk -v m="$meas" -v p="$pred" 'BEGIN {exit !(m > 0 && p > 0 && m <= 1.2 * p && m >= 0.8 * p)}'
ok $? "p8: measured onset $meas within 20 % of the predicted $pred"

# onset --reference: itself never departs; p5 departs before its onset
"$B" onset $M --epochs 60 --log-every 10 --formats fp64,p5 --reference fp64 --out "$T/ref.tsv"; ok $? "onset --reference runs"
awk -F'\t' '$1 == "fp64" {exit !($10 == -1 && $11 == 0 && $12 == 0 && $13 == -1 && $14 == 0)}' "$T/ref.tsv"; ok $? "--reference fp64: fp64 never departs (difference 0)"
awk -F'\t' '$1 == "p5" {exit !($10 >= 0 && $10 <= 60)}' "$T/ref.tsv"; ok $? "--reference fp64: p5 departs within 60 epochs"
grep -q '^# reference_tol: 0.01$' "$T/ref.tsv"; ok $? "--reference-tol default 0.01 in the metadata"
# the reference runs only to the latest onset (p8's, 110 here): the rows equal those of a full-length
# reference (--epochs 110: the reference runs to --epochs), bit for bit
"$B" onset $M --epochs 400 --log-every 10 --formats p5,p6,p8 --reference fp64 --out "$T/rs.tsv"; ok $? "onset --reference, all formats stop at onset"
"$B" onset $M --epochs 110 --log-every 10 --formats p5,p6,p8 --reference fp64 --out "$T/rf.tsv"; ok $? "onset --reference, --epochs 110: a full-length reference"
grep -q '^# reference: fp64 (same options, run to epoch 110 of --epochs 400: the latest onset' "$T/rs.tsv" &&
    grep -q '^# reference: fp64 (same options, run to epoch 110 of --epochs 110' "$T/rf.tsv"; ok $? "reference run lengths 110 and 110 (of 400, of 110) in the metadata"
grep -v '^#' "$T/rs.tsv" >"$T/rs1"
grep -v '^#' "$T/rf.tsv" >"$T/rf1"
[ "$(wc -l <"$T/rs1")" -eq 4 ]; ok $? "shortened reference: header and 3 rows"
same "$T/rs1" "$T/rf1" "shortened reference: rows (with the ref_* columns) equal a full-length reference's (bytes)"
# a run that never reaches onset (fp64) no longer forces a full-length reference: it is compared up to
# the latest onset and named in reference_cut; the other rows are unchanged
"$B" onset $M --epochs 400 --log-every 10 --formats p5,p6,p8,fp64 --reference fp64 --out "$T/rc.tsv"; ok $? "onset --reference, fp64 (no onset) in the list"
grep -q '^# reference: fp64 (same options, run to epoch 110 of --epochs 400' "$T/rc.tsv"; ok $? "a run without onset: the reference still stops at the latest onset, 110"
grep -q '^# reference_cut: fp64$' "$T/rc.tsv" && grep -q '^# reference_cut: none$' "$T/rs.tsv"; ok $? "reference_cut names fp64 (none without it)"
grep -v '^#' "$T/rc.tsv" | grep -v '^fp64' >"$T/rc1"
same "$T/rs1" "$T/rc1" "the rows of the runs with onset are unchanged by the run without onset (bytes)"
awk -F'\t' '$1 == "fp64" {exit !($3 == -1 && $10 == -1 && $12 == 0)}' "$T/rc.tsv"; ok $? "fp64 row: no onset, compared (up to 110) without departure"
# no run reaches onset: the reference runs to the longest run's end
"$B" onset $M --epochs 40 --log-every 10 --formats fp64 --reference fp64 --out "$T/rn.tsv"
grep -q '^# reference: fp64 (same options, run to epoch 40 of --epochs 40: no run below reached onset' "$T/rn.tsv"; ok $? "no onset anywhere: the reference runs to the last logged epoch (40)"

# --log-convention reference: its row e is smx's row e + 1 (every column but the epoch)
"$B" train $M --epochs 12 --log-every 1 --softmax-format bf16 --out "$T/cs.tsv"
"$B" train $M --epochs 11 --log-every 1 --softmax-format bf16 --log-convention reference --out "$T/cr.tsv"
grep -q '^# log_convention: smx$' "$T/cs.tsv" && grep -q '^# log_convention: reference$' "$T/cr.tsv"; ok $? "log_convention metadata"
grep -v '^#' "$T/cs.tsv" | awk -F'\t' 'NR > 2 {$1 = $1 - 1; print}' OFS='\t' >"$T/cs1"
grep -v '^#' "$T/cr.tsv" | awk -F'\t' 'NR > 1' >"$T/cr1"
[ "$(wc -l <"$T/cr1")" -eq 12 ]; ok $? "reference convention: rows 0..11"
same "$T/cs1" "$T/cr1" "reference convention row e = smx row e + 1 (bytes)"
"$B" onset $M --epochs 40 --log-every 10 --formats p8 --log-convention reference --out "$T/onr.tsv"
grep -q '^# log_convention: reference$' "$T/onr.tsv"; ok $? "onset: log_convention metadata"

# rowgrad (issue 11): per training row the gradient parts under each order on the same logits. The
# exact row sums vanish, the parts add up to the row sum, the bands' row counts add up to the rows,
# SC under the sequential sum iff gap >= its threshold; a run trained with --correct-grad zero-sum logs
# another trajectory than the default one
"$B" rowgrad $M --epochs 120 --log-every 10 --softmax-format p8 --out "$T/rg.tsv"; ok $? "rowgrad runs"
awk -F'\t' '/^#/ || /^row/ {next} {n++; if ($19 > 1e-15 || $19 < -1e-15) bad++; for (o = 0; o < 3; o++) {d = $(8 + 4*o) + $(9 + 4*o) + $(10 + 4*o) - $(11 + 4*o); if (d > 1e-15 || d < -1e-15) bad++}}
    END {exit !(n == 264 && !bad)}' "$T/rg.tsv"; ok $? "rowgrad: 264 rows, exact row sums 0, g_y + g_r + g_other = g_sum in every order"
thr=$("$BIN"/smx collapse-threshold --format p8 --classes 23 --sum sequential --exp rounded 2>/dev/null | awk '{print $1}')
# (the difference zr_r - m is rounded to p8 first: rows less than an ulp of p8 (2^-5 at 4..8) above the
# threshold may round below it)
awk -F'\t' -v t="$thr" '/^#/ || /^row/ {next} $3 == 1 {n++; if (($4 >= t + 0.03125 && $6 != 1) || ($4 < t && $6 == 1)) bad++; if ($6 == 1) sc++}
    END {exit !(n > 200 && sc > 0 && !bad)}' "$T/rg.tsv"
ok $? "rowgrad: sc_seq for gap >= the sequential threshold $thr + 2^-5, never below it (correctly classified rows)"
awk '/^# band_/ {n += $6} END {exit !(n == 264)}' "$T/rg.tsv"; ok $? "rowgrad: the bands hold every row"
awk -F'\t' '/^#/ || /^row/ {next} {s += $8; x += $16} END {exit !(s < 0 && x < 0 && s / x < 0.999)}' "$T/rg.tsv"; ok $? "rowgrad: the sequential g_y falls short of the exact one"
"$B" train $M --epochs 120 --log-every 60 --softmax-format p8 --correct-grad zero-sum --out "$T/zs.tsv"
"$B" train $M --epochs 120 --log-every 60 --softmax-format p8 --out "$T/zf.tsv"
grep -q 'correct_grad=zero-sum' "$T/zs.tsv" && ! grep -q 'correct_grad' "$T/zf.tsv"; ok $? "--correct-grad in the options metadata (only when given)"
[ "$(grep -v '^#' "$T/zs.tsv" | tail -1)" != "$(grep -v '^#' "$T/zf.tsv" | tail -1)" ]; ok $? "--correct-grad zero-sum changes the run"
bad --loss "$B" rowgrad --loss stablemax --out "$T/x2.tsv" --quiet
bad --correct-grad "$B" train --correct-grad exact --out "$T/x2.tsv" --quiet

# options of one command refused elsewhere; bad values
bad --predict "$B" train --predict "$T/x.tsv" --out "$T/x2.tsv" --quiet
bad --reference "$B" gaps --reference fp64 --out "$T/x2.tsv" --quiet
bad --reference-tol "$B" onset --reference-tol -1 --out "$T/x2.tsv" --quiet
bad --formats "$B" train --formats p8 --out "$T/x2.tsv" --quiet
bad --log-convention "$B" --log-convention pytorch --out "$T/x2.tsv" --quiet
bad --reference "$B" onset --reference fp99 --out "$T/x2.tsv" --quiet
bad --loss "$B" gaps --loss stablemax --out "$T/x2.tsv" --quiet
"$B" gaps $M --epochs 10 --out "$T/g2.tsv" --predict "$T/g.tsv/p.tsv" 2>"$T/err"; rc=$?
[ $rc = 3 ] && [ "$(wc -l <"$T/err")" = 1 ] && [ ! -e "$T/g2.tsv" ]; ok $? "--predict unwritable: exit 3 up front, one line, no output (exit $rc)"

tap_done
