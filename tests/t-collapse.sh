#!/bin/sh
# t-collapse.sh - smx-collapse as a program: bad options exit 2 with a message naming the option;
# a resumed run's TSV equals an uninterrupted one (bytes); --threads 1 and 2 give the same bytes;
# the onset mode writes one row per format; values of the accuracy columns. Env SMX_BIN =
# directory of the programs. TAP helpers: tests/lib.sh.
. "$(dirname "$0")/lib.sh"
B=${SMX_BIN:-build/bin}/smx-collapse

# bad options: exit 2, one line naming the option
bad_opt() { opt=$1; shift; bad "$opt" "$B" "$@" --out "$T/bad.tsv" --quiet; }
bad_opt --modulus --modulus 1
bad_opt --modulus --modulus abc
bad_opt --op --op div
bad_opt --train-frac --train-frac 1.5
bad_opt --train-frac --train-frac 0.001 --modulus 5
bad_opt --width --width 0
bad_opt --depth --depth 9
bad_opt --epochs --epochs -3
bad_opt --optimizer --optimizer lion
bad_opt --lr --lr -1
bad_opt --lr --lr 0
bad_opt --lr --lr inf
bad_opt --eps --eps inf
bad_opt --weight-decay --weight-decay -0.1
bad_opt --weight-decay --weight-decay nan
bad_opt --momentum --momentum 1
bad_opt --beta1 --beta1 -0.5
bad_opt --beta2 --beta2 1
bad_opt --eps --eps -1e-8
bad_opt --loss --loss sparsemax
bad_opt --softmax-format --softmax-format fp17
bad_opt --model-format --model-format fp16
bad_opt --sum --sum kahan
bad_opt --log-every --log-every 0
bad_opt --formats onset --formats p8,fp99
bad_opt --profile --profile huge
bad_opt --seed --seed x
bad_opt --stop-after --stop-after 0
bad_opt command frobnicate
bad_opt --checkpoint-every --checkpoint-every -1
"$B" --bogus >/dev/null 2>&1; ok $([ $? = 2 ] && echo 0 || echo 1) "unknown option exits 2"
"$B" --help | grep -q -- "--softmax-format"; ok $? "--help lists --softmax-format"

# resume: interrupted at 25 + resumed == uninterrupted (same bytes)
SMALL="--modulus 11 --width 24 --epochs 60 --log-every 10 --softmax-format bf16 --lr 3e-3 --quiet --threads 1"
"$B" $SMALL --out "$T/full.tsv"; ok $? "uninterrupted run"
"$B" $SMALL --out "$T/res.tsv" --stop-after 25; rc=$?; [ $rc = 5 ]; ok $? "run stopped after epoch 25: exit 5 (SMX_RUN_EXIT_STOPPED; got $rc)"
[ ! -e "$T/res.tsv" ] && [ -e "$T/res.tsv.ckpt" ]; ok $? "stopped run leaves a checkpoint and no TSV"
"$B" $SMALL --out "$T/res.tsv" --resume; ok $? "resumed run"
cmp -s "$T/full.tsv" "$T/res.tsv"; ok $? "resumed TSV equals the uninterrupted one (bytes)"
"$B" $SMALL --lr 1e-3 --out "$T/res.tsv" --resume 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--resume: .* was written with lr=0.0030000000000000001, this run has lr=0.001$" "$T/err" && [ "$(wc -l <"$T/err")" = 1 ]
ok $? "resume with other options rejected in one line naming the option (exit $rc)"
# --resume without a checkpoint starts afresh with a note (the same rule as smx-dispersion retrieval)
"$B" $SMALL --out "$T/fresh.tsv" --resume --checkpoint "$T/none.ckpt" 2>"$T/err"; rc=$?
[ $rc = 0 ] && grep -q "no checkpoint .*none.ckpt, starting afresh" "$T/err" && cmp -s "$T/full.tsv" "$T/fresh.tsv"
ok $? "--resume without a checkpoint: starts afresh (note on stderr), same bytes (exit $rc)"
# --checkpoint-every 0: no checkpoint in between, the one at the stop; the resumed run is the same
"$B" $SMALL --out "$T/z.tsv" --checkpoint-every 0 --stop-after 30; rc=$?
"$B" $SMALL --out "$T/z.tsv" --checkpoint-every 1e-9 --resume; rc2=$?
[ $rc = 5 ] && [ $rc2 = 0 ] && cmp -s "$T/full.tsv" "$T/z.tsv"; ok $? "--checkpoint-every 0 / 1e-9: stop, resume, same bytes ($rc, $rc2)"
# a truncated or corrupted checkpoint is refused with exit 2, never a crash
"$B" $SMALL --out "$T/cor.tsv" --stop-at 25 >/dev/null 2>&1; rc=$?
[ $rc = 5 ] && [ -e "$T/cor.tsv.ckpt" ] && [ ! -e "$T/cor.tsv" ]; ok $? "--stop-at (old name of --stop-after) still works (exit $rc)"
head -c 1000 "$T/cor.tsv.ckpt" > "$T/trunc.ckpt"
"$B" $SMALL --out "$T/cor.tsv" --resume --checkpoint "$T/trunc.ckpt" 2>/dev/null; rc=$?
[ $rc = 2 ]; ok $? "truncated checkpoint rejected (exit $rc)"
printf '\377' | dd of="$T/cor.tsv.ckpt" bs=1 seek=200 conv=notrunc 2>/dev/null
"$B" $SMALL --out "$T/cor.tsv" --resume 2>/dev/null; rc=$?
[ $rc = 2 ]; ok $? "corrupted checkpoint rejected by its checksum (exit $rc)"
# stablemax + perp-adamw + fp64 model, resumed
SM="--modulus 7 --width 16 --epochs 30 --log-every 5 --loss stablemax --optimizer perp-adamw --model-format fp64 --softmax-format p60 --quiet"
"$B" $SM --out "$T/sm1.tsv"; "$B" $SM --out "$T/sm2.tsv" --stop-after 12; "$B" $SM --out "$T/sm2.tsv" --resume
cmp -s "$T/sm1.tsv" "$T/sm2.tsv"; ok $? "resume equality: stablemax, perp-adamw, fp64 model, MPFR p60 loss"

# threads: two row tiles (672 training rows) and three dW tiles (width 120); same bytes with 1 and 2 threads
TH="--modulus 31 --width 120 --train-frac 0.7 --epochs 12 --log-every 4 --softmax-format fp16 --quiet"
"$B" $TH --threads 1 --out "$T/t1.tsv" && "$B" $TH --threads 2 --out "$T/t2.tsv"
cmp -s "$T/t1.tsv" "$T/t2.tsv"; ok $? "--threads 1 and --threads 2 give the same bytes"
grep -q "^# sc_onset_epoch:" "$T/t1.tsv"; ok $? "metadata has sc_onset_epoch"
[ "$(grep -v '^#' "$T/t1.tsv" | head -1 | tr '\t' '\n' | wc -l)" -eq 15 ]; ok $? "15 columns for depth 2"

# per-optimizer defaults (the reference's effective perp-* hyperparameters), recorded in the metadata
opts() { "$B" --modulus 5 --width 4 --epochs 1 --quiet --out "$T/o.tsv" "$@" && grep '^# options:' "$T/o.tsv"; }
opts --optimizer perp-sgd | grep -Eq ' momentum=0\.8[0-9]* '; ok $? "perp-sgd: default momentum 0.8"
opts --optimizer sgd | grep -Eq ' momentum=0\.2[0-9]* '; ok $? "sgd: default momentum 0.2"
opts --optimizer perp-sgd --momentum 0.35 | grep -Eq ' momentum=0\.3[45][0-9]* '; ok $? "perp-sgd: --momentum 0.35 kept"
opts --optimizer perp-adamw | grep -Eq ' beta2=0\.999[0-9]* eps=1e-08 '; ok $? "perp-adamw: default beta2 0.999, eps 1e-8"
opts --optimizer adamw | grep -Eq ' beta2=0\.9[89][0-9]* eps=1e-25 '; ok $? "adamw: default beta2 0.99, eps 1e-25"
opts --optimizer perp-adamw --beta2 0.95 --eps 2.385e-9 | grep -Eq ' beta2=0\.9[45][0-9]* eps=2\.38[0-9]*e-09 '
ok $? "perp-adamw: --beta2 / --eps kept"

# onset mode
"$B" onset --formats p8,bf16 --modulus 7 --width 16 --epochs 40 --log-every 5 --lr 1e-2 --quiet --out "$T/on.tsv"
[ "$(grep -vc '^#' "$T/on.tsv")" -eq 3 ]; ok $? "onset: header + one row per format"

# values of the accuracy columns (issue 8): modulus 11 at train fraction 0.5 has 60 training and
# 61 test pairs (coprime), so train_acc is k/60 and test_acc k/61, and one written into the
# other's column is off the grid unless it is 0 or 1; the run is logged from epoch 0 (chance
# level) on. The exact values are checked against an independent forward in t-collapse.c.
"$B" --modulus 11 --train-frac 0.5 --width 24 --epochs 40 --log-every 10 --lr 1e-2 --model-format fp64 \
    --softmax-format fp64 --quiet --threads 1 --out "$T/acc.tsv"
grep -q '^# train_pairs: 60$' "$T/acc.tsv"; ok $? "modulus 11, train fraction 0.5: 60 training pairs"
grid() { # column name, denominator: every value is k / denominator, and at least one is not 0 or 1
    awk -F'\t' -v name="$1" -v d="$2" '/^#/ {next} !c {for (i = 1; i <= NF; i++) if ($i == name) c = i; next}
        {k = $c * d; if (k - int(k + 0.5) > 1e-9 || int(k + 0.5) - k > 1e-9) off++; if ($c > 0 && $c < 1) mid++; n++}
        END {exit !(c && n >= 5 && !off && mid)}' "$T/acc.tsv"
}
grid test_acc 61; ok $? "test_acc column: every value k / 61 (the test pairs), some strictly between 0 and 1"
grid train_acc 60; ok $? "train_acc column: every value k / 60 (the training pairs), some strictly between 0 and 1"
last_test=$(awk -F'\t' '/^#/ {next} !c {for (i = 1; i <= NF; i++) if ($i == "test_acc") c = i; next} {v = $c} END {print v}' "$T/acc.tsv")
grep -q "^# final_test_acc: $last_test\$" "$T/acc.tsv"; ok $? "metadata final_test_acc = last row's test_acc ($last_test)"
onset_grid() { # onset rows: train_acc (column 8) k / 60, test_acc (column 9) k / 61
    awk -F'\t' '/^#/ || /^format/ {next} {a = $8 * 60; b = $9 * 61; if (a - int(a + 0.5) > 1e-9 || int(a + 0.5) - a > 1e-9 ||
        b - int(b + 0.5) > 1e-9 || int(b + 0.5) - b > 1e-9) off++; n++} END {exit !(n == 2 && !off)}' "$T/on2.tsv"
}
"$B" onset --formats p8,bf16 --modulus 11 --train-frac 0.5 --width 24 --epochs 30 --log-every 10 --lr 1e-2 --quiet --out "$T/on2.tsv"
onset_grid; ok $? "onset: train_acc k / 60 and test_acc k / 61 in each row"

tap_done
