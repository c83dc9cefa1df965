#!/bin/sh
# t-smx.sh - the smx calculator from the command line: results against closed forms, and
# every error path (one-line message naming the problem, exit status 2).
. "$(dirname "$0")/lib.sh"
SMX="${SMX_BIN:-build/bin}/smx"
# close A B TOL: |A - B| <= TOL
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# fails CMD...: exit status 2 and exactly one line on stderr
fails() {
  err=$("$@" 2>&1 >/dev/null); rc=$?
  [ $rc -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [ -n "$err" ]
}

# formats table
out=$("$SMX" formats)
echo "$out" | head -1 | grep -q "^name	p	emin	emax	u	max	min_normal	min_subnormal$"; ok $? "formats: header"
echo "$out" | grep -q "^fp16	11	-14	15	0.00048828125	65504	6.103515625e-05	5.9604644775390625e-08$"; ok $? "formats: fp16 row"
echo "$out" | grep -q "^fp8-e4m3	4	-6	8	0.0625	448	0.015625	0.001953125$"; ok $? "formats: e4m3 row (max 448, no inf)"

# collapse threshold = p ln 2
d=$("$SMX" collapse-threshold --format fp32); close "$d" 16.635532333438687 1e-12; ok $? "collapse-threshold fp32 = 24 ln 2 ($d)"
d=$("$SMX" collapse-threshold --format bf16 --classes 113); close "$d" 5.545177444479562 1e-12; ok $? "collapse-threshold bf16 V=113 = 8 ln 2 ($d)"
d=$("$SMX" collapse-threshold --format p100); close "$d" 69.31471805599453 1e-11; ok $? "collapse-threshold p100 = 100 ln 2 ($d)"
d=$("$SMX" collapse-threshold --format fp64 --classes 113 --sum pairwise); close "$d" 41.46 0.01; ok $? "pairwise V=113 fp64 = 53 ln2 + ln 112 = 41.46 ($d)"
d=$("$SMX" collapse-threshold --format fp16 --exp rounded); close "$d" 7.6241 0.0001; ok $? "rounded exp fp16 = 11 ln2 - ln(1+2^-11) ($d)"

# eval: softmax against exp by awk, reference vs shifted, sum to one
s=$("$SMX" eval softmax 2.385 -1.5 0.25 | awk '{ s += $1 } END { printf "%.15f", s }'); close "$s" 1 1e-15; ok $? "softmax sums to 1"
y=$("$SMX" eval softmax --algo reference 2.385 -1.5 0.25 | head -1)
w=$(awk 'BEGIN { printf "%.17g", exp(2.385) / (exp(2.385) + exp(-1.5) + exp(0.25)) }'); close "$y" "$w" 1e-15; ok $? "softmax reference first entry ($y vs $w)"
y=$(echo "2.385 -1.5
0.25" | "$SMX" eval lse); w=$(awk 'BEGIN { printf "%.17g", log(exp(2.385) + exp(-1.5) + exp(0.25)) }'); close "$y" "$w" 1e-14; ok $? "lse from stdin ($y)"
y=$("$SMX" eval lse --format fp16 --algo naive 12.0 -3.0); [ "$y" = inf ]; ok $? "fp16 naive lse overflows at x = 12 > 11.09 ($y)"
y=$("$SMX" eval lse --format fp16 --algo shifted 12.0 -3.0); close "$y" 12 0.01; ok $? "fp16 shifted lse does not overflow ($y)"
y=$("$SMX" eval softmax --format fp16 --hex 2.385 0.5 | head -1); echo "$y" | grep -q '^0x1\.[0-9a-f]*p-1$'; ok $? "--hex prints %a ($y)"
y=$("$SMX" eval lse --format fp128 --algo reference 2.385 0.5); [ ${#y} -ge 30 ]; ok $? "fp128 prints every digit ($y)"
y=$("$SMX" eval softmax nan 1.5 | head -1); [ "$y" = nan ]; ok $? "NaN input gives NaN"
y=$("$SMX" eval softmax --temperature 2 2.385 0.5 | head -1); w=$("$SMX" eval softmax 1.1925 0.25 | head -1); [ "$y" = "$w" ]; ok $? "--temperature 2 == softmax(x/2)"
y=$("$SMX" eval stablemax 2.385 -1.5 | head -1); w=$(awk 'BEGIN { a = 3.385; b = 1 / 2.5; printf "%.17g", a / (a + b) }'); close "$y" "$w" 1e-15; ok $? "stablemax closed form ($y)"
y=$("$SMX" eval sparsemax 2.385 0.5 -1 | tr '\n' ' '); [ "$y" = "1 0 0 " ]; ok $? "sparsemax of a dominant entry is one-hot ($y)"
y=$("$SMX" eval ssmax --s 0.43 3 -2 | head -1); close "$y" 0.816 0.0005; ok $? "ssmax Nakanishi Fig 1 n=2: 0.816 ($y)"

y=$("$SMX" eval stablemax --format fp128 2.385 -1.5 | head -1); w=$("$SMX" eval stablemax --algo reference 2.385 -1.5 | head -1); [ "$y" = "$w" ]; ok $? "p > 53 normalisers default to the reference ($y)"

# error paths
fails "$SMX"; ok $? "no command -> exit 2"
fails "$SMX" frobnicate; ok $? "unknown command -> exit 2"
bad "missing COMMAND (allowed: formats|eval|collapse-threshold|threshold-sweep|lse-error" "$SMX"
bad "unknown command 'frobnicate' (allowed: formats|eval|" "$SMX" frobnicate
v=$("$SMX" --version); want="smx (smx) $(sed -n 's/.*SMX_VERSION "\(.*\)"/\1/p' numerics/smx.h)"
[ "$v" = "$want" ]; ok $? "smx --version: '$want' like every program ($v)"
# --quiet everywhere (issue 8): lse-error without progress or summary, the same data
"$SMX" lse-error --vectors 300 --seed 7 --quiet --out "$T/lq.tsv" 2>"$T/lq.err"; rc=$?
"$SMX" lse-error --vectors 300 --seed 7 --out "$T/ll.tsv" 2>"$T/ll.err"
[ $rc = 0 ] && [ ! -s "$T/lq.err" ] && [ -s "$T/ll.err" ] && cmp -s "$T/lq.err" /dev/null && \
  [ "$(grep -v '^#' "$T/lq.tsv" | md5sum)" = "$(grep -v '^#' "$T/ll.tsv" | md5sum)" ]
ok $? "lse-error --quiet: nothing on stderr ($(wc -l <"$T/ll.err") lines without it), same rows"
"$SMX" threshold-sweep --quiet --pmax 6 --out "$T/tq.tsv" 2>"$T/tq.err" && [ ! -s "$T/tq.err" ] && [ -s "$T/tq.tsv" ]
ok $? "threshold-sweep accepts --quiet"
fails "$SMX" eval softmax --format fp17 1 2; ok $? "unknown format -> exit 2"
fails "$SMX" eval softmax --format p1 1 2; ok $? "p out of range -> exit 2"
fails "$SMX" eval softmax --format p4097 1 2; ok $? "p4097 -> exit 2"
fails "$SMX" eval softmax 1.5 abc; ok $? "non-numeric value -> exit 2"
fails "$SMX" eval softmax </dev/null; ok $? "empty vector -> exit 2"
fails "$SMX" eval; ok $? "missing FUNC -> exit 2"
fails "$SMX" eval softermax 1; ok $? "unknown FUNC -> exit 2"
fails "$SMX" eval softmax --algo fastest 1 2; ok $? "unknown algo -> exit 2"
fails "$SMX" eval stablemax --algo online 1 2; ok $? "algo that does not apply -> exit 2"
fails "$SMX" eval softmax --sum random 1 2; ok $? "unknown sum -> exit 2"
fails "$SMX" eval stablemax --format fp128 --algo direct 1 2; ok $? "direct in a format with p > 53 -> exit 2"
fails "$SMX" eval softmax --temperature 0 1 2; ok $? "temperature 0 -> exit 2"
fails "$SMX" eval softmax --temperature; ok $? "missing option value -> exit 2"
fails "$SMX" eval softmax --bogus 1; ok $? "unknown option -> exit 2"
fails "$SMX" collapse-threshold; ok $? "collapse-threshold without --format -> exit 2"
fails "$SMX" collapse-threshold --format fp16 --classes 1; ok $? "--classes 1 -> exit 2"
fails "$SMX" collapse-threshold --format fp16 --sum kahan; ok $? "--sum kahan -> exit 2"
fails "$SMX" threshold-sweep; ok $? "threshold-sweep without --out -> exit 2"
tap_done
