#!/bin/sh
# t-bottleneck.sh - smx-bottleneck: bad options exit 2 naming the option, --help / --version, tiny recover
# runs (same bytes for 1 and 2 threads), recover --file on a TSV / raw float64 matrix of log-probs built here
# with awk (hidden size 5, 6 with a bias) and rejection of bad files; argmax --file on hand-built heads.
B=${SMX_BIN:-build/bin}/smx-bottleneck
T=${TMPDIR:-/tmp}/t-bottleneck.$$
mkdir -p "$T"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
bad() {
  exp=$1; shift
  "$B" "$@" >"$T/out" 2>"$T/err"; rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$exp" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then r=0; else r=1; cat "$T/err"; fi
  ok $r "exit 2 with one line naming '$exp': $*"
}
bad "missing COMMAND"
bad "unknown command" frobnicate
bad "\-\-vocab" recover --vocab 2
bad "\-\-hidden" recover --hidden x
bad "\-\-hidden" recover --hidden 600 --vocab 500
bad "\-\-precisions" recover --precisions fp32,fp128
bad "\-\-precisions" recover --precisions dec0
bad "\-\-heads" recover --heads round
bad "\-\-bias" recover --bias 2
bad "\-\-tol" recover --tol -1
bad "\-\-svd" recover --svd jacobi
bad "\-\-profile" recover --profile huge
bad "\-\-file-format" recover --file x --file-format f16
bad "needs \-\-rows" recover --file x --file-format f32
bad "unexpected argument" recover extra
bad "bad option" recover --no-such-option
bad "not yet implemented" rank
"$B" --help | grep -q recover; ok $? "--help lists the commands"
"$B" recover --help | grep -q "hidden_size"; ok $? "recover --help documents --file's output"
"$B" --version | grep -q "smx-bottleneck (smx)"; ok $? "--version"

R="recover --vocab 60 --outputs 80 --hidden 8 --seeds 3 --precisions fp64,fp32,bf16,dec2"
"$B" $R --threads 1 --out "$T/r1.tsv" 2>/dev/null; ok $? "recover runs (--threads 1)"
"$B" $R --threads 2 --out "$T/r2.tsv" 2>/dev/null; ok $? "recover runs (--threads 2)"
cmp -s "$T/r1.tsv" "$T/r2.tsv" && cmp -s "$T/r1-summary.tsv" "$T/r2-summary.tsv" && cmp -s "$T/r1-spectra.tsv" "$T/r2-spectra.tsv"
ok $? "recover: same bytes with 1 and 2 threads"
"$B" $R --seed 5 --out "$T/r3.tsv" 2>/dev/null; ! cmp -s "$T/r1.tsv" "$T/r3.tsv"; ok $? "recover: another seed, other data"
awk -F'\t' '!/^#/ && $3 ~ /fp64|fp32/ && $5 == 80 && $11 != 1 { bad = 1 } END { exit bad }' "$T/r1.tsv"
ok $? "recover: fp64 and fp32 outputs give the true hidden size at N = 80"
grep -q "^# paper_reference: .*fp32 7.0" "$T/r1.tsv"; ok $? "recover metadata has the reference numbers"

# A d = 5 head: z_ij = h_i . w_j (+ b_j), log-softmax rows, N = 30 outputs, V = 25 tokens.
mk() { # $1 = bias 0/1, $2 = seed
  awk -v bias="$1" -v seed="$2" 'BEGIN { srand(seed); N = 30; V = 25; d = 5
    for (j = 0; j < V; j++) { b[j] = bias ? 2 * rand() - 1 : 0; for (k = 0; k < d; k++) w[j, k] = 4 * rand() - 2 }
    for (i = 0; i < N; i++) {
      m = -1e300
      for (k = 0; k < d; k++) h[k] = 4 * rand() - 2
      for (j = 0; j < V; j++) { z[j] = b[j]; for (k = 0; k < d; k++) z[j] += h[k] * w[j, k]; if (z[j] > m) m = z[j] }
      s = 0; for (j = 0; j < V; j++) s += exp(z[j] - m)
      for (j = 0; j < V; j++) printf "%s%.17g", (j ? "\t" : ""), z[j] - m - log(s)
      printf "\n" } }'
}
mk 0 7 >"$T/l0.tsv"; mk 1 8 >"$T/l1.tsv"
"$B" recover --file "$T/l0.tsv" >"$T/o0" 2>"$T/e0"; rc=$?
test $rc -eq 0 && test "$(tail -n 1 "$T/o0")" = "hidden_size 5"; ok $? "recover --file: hidden_size 5 without bias"
test "$(grep -vc '^#' "$T/o0")" -eq 1; ok $? "recover --file: other stdout lines begin with '#'"
test "$("$B" recover --file "$T/l1.tsv" | tail -n 1)" = "hidden_size 6"; ok $? "recover --file: hidden_size 6 with a bias"
test "$("$B" recover --file "$T/l1.tsv" --svd gsl | tail -n 1)" = "hidden_size 6"; ok $? "recover --file --svd gsl"
# raw float64 / float32 of the same matrix (written with perl, when present)
if command -v perl >/dev/null 2>&1; then
  perl -ne 'chomp; print pack("d<*", split /\t/)' "$T/l1.tsv" >"$T/l1.f64"
  test "$("$B" recover --file "$T/l1.f64" --file-format f64 --rows 30 --cols 25 | tail -n 1)" = "hidden_size 6"
  ok $? "recover --file raw float64: hidden_size 6"
  bad "wrong size" recover --file "$T/l1.f64" --file-format f64 --rows 30 --cols 24
  perl -ne 'chomp; print pack("f<*", split /\t/)' "$T/l1.tsv" >"$T/l1.f32"
  test "$("$B" recover --file "$T/l1.f32" --file-format f32 --rows 30 --cols 25 | tail -n 1)" = "hidden_size 6"
  ok $? "recover --file raw float32 (fp32 outputs): hidden_size 6"
fi
# -inf columns dropped
awk -F'\t' 'BEGIN { OFS = "\t" } { $3 = (NR == 4 ? "-inf" : $3); print }' "$T/l0.tsv" >"$T/linf.tsv"
"$B" recover --file "$T/linf.tsv" >"$T/oi"; test "$(tail -n 1 "$T/oi")" = "hidden_size 5" && grep -q "1 columns with -inf dropped" "$T/oi"
ok $? "recover --file: a -inf column is dropped"
awk -F'\t' 'BEGIN { OFS = "\t" } { if (NR == 3) $2 = "nan"; print }' "$T/l0.tsv" >"$T/lnan.tsv"
bad "lnan.tsv:3: column 2" recover --file "$T/lnan.tsv"
awk -F'\t' 'BEGIN { OFS = "\t" } { if (NR == 5) NF = 24; print }' "$T/l0.tsv" >"$T/lrag.tsv"
bad "lrag.tsv:5: ragged row" recover --file "$T/lrag.tsv"
bad "no_such_file" recover --file "$T/no_such_file"
rm -rf "$T"
echo "1..$n"
