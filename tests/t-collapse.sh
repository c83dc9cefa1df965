#!/bin/sh
# t-collapse.sh - smx-collapse as a program: bad options exit 2 with a message naming the option;
# a resumed run's TSV equals an uninterrupted one (bytes); --threads 1 and 2 give the same bytes;
# the onset mode writes one row per format. Env SMX_BIN = directory of the programs.
B=${SMX_BIN:-build/bin}/smx-collapse
T=${TMPDIR:-/tmp}/t-collapse.$$
mkdir -p "$T"
n=0; fails=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

# bad options: exit 2, one line naming the option
bad() {
    opt=$1; shift
    "$B" "$@" --out "$T/bad.tsv" --quiet >/dev/null 2>"$T/err"; rc=$?
    grep -q -- "$opt" "$T/err"; named=$?
    [ $rc = 2 ] && [ $named = 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ]
    check $? "rejects $* (exit $rc, message names $opt)"
}
bad --modulus --modulus 1
bad --modulus --modulus abc
bad --op --op div
bad --train-frac --train-frac 1.5
bad --train-frac --train-frac 0.001 --modulus 5
bad --width --width 0
bad --depth --depth 9
bad --epochs --epochs -3
bad --optimizer --optimizer lion
bad --lr --lr -1
bad --beta2 --beta2 1
bad --eps --eps -1e-8
bad --loss --loss sparsemax
bad --softmax-format --softmax-format fp17
bad --model-format --model-format fp16
bad --sum --sum kahan
bad --log-every --log-every 0
bad --formats onset --formats p8,fp99
bad --profile --profile huge
bad --seed --seed x
bad command frobnicate
bad --resume --resume --checkpoint "$T/none.ckpt"
"$B" --bogus >/dev/null 2>&1; check $([ $? = 2 ] && echo 0 || echo 1) "unknown option exits 2"
"$B" --help | grep -q -- "--softmax-format"; check $? "--help lists --softmax-format"

# resume: interrupted at 25 + resumed == uninterrupted (same bytes)
SMALL="--modulus 11 --width 24 --epochs 60 --log-every 10 --softmax-format bf16 --lr 3e-3 --quiet --threads 1"
"$B" $SMALL --out "$T/full.tsv"; check $? "uninterrupted run"
"$B" $SMALL --out "$T/res.tsv" --stop-at 25; check $? "run stopped at epoch 25"
[ ! -e "$T/res.tsv" ] && [ -e "$T/res.tsv.ckpt" ]; check $? "stopped run leaves a checkpoint and no TSV"
"$B" $SMALL --out "$T/res.tsv" --resume; check $? "resumed run"
cmp -s "$T/full.tsv" "$T/res.tsv"; check $? "resumed TSV equals the uninterrupted one (bytes)"
"$B" $SMALL --lr 1e-3 --out "$T/res.tsv" --resume 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--resume" "$T/err"; check $? "resume with other options rejected (exit $rc)"
# a truncated or corrupted checkpoint is refused with exit 2, never a crash
"$B" $SMALL --out "$T/cor.tsv" --stop-at 25 >/dev/null 2>&1
head -c 1000 "$T/cor.tsv.ckpt" > "$T/trunc.ckpt"
"$B" $SMALL --out "$T/cor.tsv" --resume --checkpoint "$T/trunc.ckpt" 2>/dev/null; rc=$?
[ $rc = 2 ]; check $? "truncated checkpoint rejected (exit $rc)"
printf '\377' | dd of="$T/cor.tsv.ckpt" bs=1 seek=200 conv=notrunc 2>/dev/null
"$B" $SMALL --out "$T/cor.tsv" --resume 2>/dev/null; rc=$?
[ $rc = 2 ]; check $? "corrupted checkpoint rejected by its checksum (exit $rc)"
# stablemax + perp-adamw + fp64 model, resumed
SM="--modulus 7 --width 16 --epochs 30 --log-every 5 --loss stablemax --optimizer perp-adamw --model-format fp64 --softmax-format p60 --quiet"
"$B" $SM --out "$T/sm1.tsv" && "$B" $SM --out "$T/sm2.tsv" --stop-at 12 && "$B" $SM --out "$T/sm2.tsv" --resume
cmp -s "$T/sm1.tsv" "$T/sm2.tsv"; check $? "resume equality: stablemax, perp-adamw, fp64 model, MPFR p60 loss"

# threads: two row tiles (672 training rows) and three dW tiles (width 120); same bytes with 1 and 2 threads
TH="--modulus 31 --width 120 --train-frac 0.7 --epochs 12 --log-every 4 --softmax-format fp16 --quiet"
"$B" $TH --threads 1 --out "$T/t1.tsv" && "$B" $TH --threads 2 --out "$T/t2.tsv"
cmp -s "$T/t1.tsv" "$T/t2.tsv"; check $? "--threads 1 and --threads 2 give the same bytes"
grep -q "^# sc_onset_epoch:" "$T/t1.tsv"; check $? "metadata has sc_onset_epoch"
[ "$(grep -v '^#' "$T/t1.tsv" | head -1 | tr '\t' '\n' | wc -l)" -eq 15 ]; check $? "15 columns for depth 2"

# per-optimizer defaults (the reference's effective perp-* hyperparameters), recorded in the metadata
opts() { "$B" --modulus 5 --width 4 --epochs 1 --quiet --out "$T/o.tsv" "$@" && grep '^# options:' "$T/o.tsv"; }
opts --optimizer perp-sgd | grep -Eq ' momentum=0\.8[0-9]* '; check $? "perp-sgd: default momentum 0.8"
opts --optimizer sgd | grep -Eq ' momentum=0\.2[0-9]* '; check $? "sgd: default momentum 0.2"
opts --optimizer perp-sgd --momentum 0.35 | grep -Eq ' momentum=0\.3[45][0-9]* '; check $? "perp-sgd: --momentum 0.35 kept"
opts --optimizer perp-adamw | grep -Eq ' beta2=0\.999[0-9]* eps=1e-08 '; check $? "perp-adamw: default beta2 0.999, eps 1e-8"
opts --optimizer adamw | grep -Eq ' beta2=0\.9[89][0-9]* eps=1e-25 '; check $? "adamw: default beta2 0.99, eps 1e-25"
opts --optimizer perp-adamw --beta2 0.95 --eps 2.385e-9 | grep -Eq ' beta2=0\.9[45][0-9]* eps=2\.38[0-9]*e-09 '
check $? "perp-adamw: --beta2 / --eps kept"

# onset mode
"$B" onset --formats p8,bf16 --modulus 7 --width 16 --epochs 40 --log-every 5 --lr 1e-2 --quiet --out "$T/on.tsv"
[ "$(grep -vc '^#' "$T/on.tsv")" -eq 3 ]; check $? "onset: header + one row per format"

rm -rf "$T"
echo "1..$n"
[ $fails = 0 ]
