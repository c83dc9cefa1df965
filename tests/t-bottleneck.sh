#!/bin/sh
# t-bottleneck.sh - smx-bottleneck: bad options exit 2 naming the option, --help / --version, tiny recover
# runs (same bytes for 1 and 2 threads), recover --file on a TSV / raw float64 matrix of log-probs built here
# with awk (hidden size 5, 6 with a bias) and rejection of bad files; argmax --file on hand-built heads.
# TAP helpers: tests/lib.sh.
. "$(dirname "$0")/lib.sh"
B=${SMX_BIN:-build/bin}/smx-bottleneck
# bad_b OPT ARGS...: smx-bottleneck ARGS exits 2 with one line on stderr naming OPT (lib.sh's bad)
bad_b() { _o=$1; shift; bad "$_o" "$B" "$@"; }
bad_b "missing COMMAND"
bad_b "unknown command" frobnicate
bad_b "\-\-vocab" recover --vocab 2
bad_b "\-\-hidden" recover --hidden x
bad_b "\-\-hidden" recover --hidden 600 --vocab 500
bad_b "\-\-precisions" recover --precisions fp32,fp128
bad_b "\-\-precisions" recover --precisions dec0
bad_b "\-\-heads" recover --heads round
bad_b "\-\-bias" recover --bias 2
bad_b "\-\-tol" recover --tol -1
bad_b "\-\-svd" recover --svd jacobi
bad_b "\-\-api-topk" recover --api-topk -1
bad_b "\-\-logit-bias" recover --api-topk 3 --logit-bias 0
bad_b "\-\-profile" recover --profile huge
bad_b "\-\-file-format" recover --file x --file-format f16
bad_b "needs \-\-rows" recover --file x --file-format f32
bad_b "unexpected argument" recover extra
bad_b "unknown or ambiguous option .--no-such-option." recover --no-such-option
bad_b "\-\-iters" kl --iters -3
bad_b "\-\-targets" kl --targets rank:0
bad_b "\-\-tau" bat --tau 1
bad_b "\-\-w" bat --w 1,2
bad_b "\-\-targets" rank --targets rank:2.5
bad_b "\-\-targets" rank --targets power:0
bad_b "\-\-iters" rank --iters -3
bad_b "\-\-mos-param" rank --mos-param tanh
bad_b "\-\-moc-k" rank --moc-k 2.5
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
  bad_b "wrong size" recover --file "$T/l1.f64" --file-format f64 --rows 30 --cols 24
  perl -ne 'chomp; print pack("f<*", split /\t/)' "$T/l1.tsv" >"$T/l1.f32"
  test "$("$B" recover --file "$T/l1.f32" --file-format f32 --rows 30 --cols 25 | tail -n 1)" = "hidden_size 6"
  ok $? "recover --file raw float32 (fp32 outputs): hidden_size 6"
fi
# -inf columns dropped
awk -F'\t' 'BEGIN { OFS = "\t" } { $3 = (NR == 4 ? "-inf" : $3); print }' "$T/l0.tsv" >"$T/linf.tsv"
"$B" recover --file "$T/linf.tsv" >"$T/oi"; test "$(tail -n 1 "$T/oi")" = "hidden_size 5" && grep -q "1 columns with -inf dropped" "$T/oi"
ok $? "recover --file: a -inf column is dropped"
awk -F'\t' 'BEGIN { OFS = "\t" } { if (NR == 3) $2 = "nan"; print }' "$T/l0.tsv" >"$T/lnan.tsv"
bad_b "lnan.tsv:3: column 2" recover --file "$T/lnan.tsv"
awk -F'\t' 'BEGIN { OFS = "\t" } { if (NR == 5) NF = 24; print }' "$T/l0.tsv" >"$T/lrag.tsv"
bad_b "lrag.tsv:5: ragged row" recover --file "$T/lrag.tsv"
bad_b "no_such_file" recover --file "$T/no_such_file"

# argmax: hand-built head, p = a/2 + b/4 + c/4 is class 3 (dyadic values: p exact)
printf '2.375\t-1.25\n-1.5\t2.125\n-0.75\t-2.5\n0.625\t-0.71875\n3.5\t3.25\n-3.125\t0.5\n' >"$T/W.tsv"
printf '0.5\n0.25\n-0.75\n0.125\n-10\n-10\n' >"$T/b.tsv"
printf '0.5\n0.25\n-0.75\n0.1250000000000001\n-10\n-10\n' >"$T/b2.tsv"
"$B" argmax --file "$T/W.tsv" >"$T/a0"; rc=$?
test $rc -eq 0 && test "$(tail -n 1 "$T/a0")" = "unargmaxable 1 of 6" && grep -q "^3	hull	" "$T/a0"
ok $? "argmax --file: class 3 unargmaxable with a hull certificate, 'unargmaxable 1 of 6' last"
test "$(grep -v '^#' "$T/a0" | grep -vc '^3	')" -eq 1; ok $? "argmax --file: other lines begin with '#'"
"$B" argmax --file "$T/W.tsv" --bias-file "$T/b.tsv" >"$T/a1"
grep -q "^3	hull	0:1/2	1:1/4	2:1/4$" "$T/a1" && test "$(tail -n 1 "$T/a1")" = "unargmaxable 1 of 6"
ok $? "argmax --bias-file: the bias tie is unargmaxable, certificate lambda = 1/2, 1/4, 1/4"
"$B" argmax --file "$T/W.tsv" --bias-file "$T/b2.tsv" >"$T/a2"
test "$(tail -n 1 "$T/a2")" = "unargmaxable 0 of 6" && ! grep -q "floating point only" "$T/a2"
ok $? "argmax --bias-file: b_3 one ulp above the tie: argmaxable, decided exactly"
printf '1\t2\n3\n' >"$T/Wr.tsv"; bad_b "Wr.tsv:2: ragged row" argmax --file "$T/Wr.tsv"
printf '1\t2\n3\tnan\n' >"$T/Wn.tsv"; bad_b "Wn.tsv:2: column 2" argmax --file "$T/Wn.tsv"
printf '1\n2\n' >"$T/bs.tsv"; bad_b "bs.tsv: wrong size" argmax --file "$T/W.tsv" --bias-file "$T/bs.tsv"
bad_b "\-\-bias-file: only with \-\-file" argmax --bias-file "$T/b.tsv"
bad_b "\-\-dims" argmax --dims 2,4.5
bad_b "\-\-dists" argmax --dists cauchy
bad_b "\-\-bias-modes" argmax --bias-modes none,none
bad_b "\-\-box" argmax --box 0
A="argmax --vocab 120 --dims 2,5 --seeds 2"
"$B" $A --threads 1 --out "$T/g1.tsv" 2>/dev/null; ok $? "argmax sweep runs (--threads 1)"
"$B" $A --threads 2 --out "$T/g2.tsv" 2>/dev/null; cmp -s "$T/g1.tsv" "$T/g2.tsv"; ok $? "argmax: same bytes with 1 and 2 threads"
awk -F'\t' '!/^#/ && ($2 == "unitnorm" || $2 == "normbias") && $6 != 0 { bad = 1 } END { exit bad }' "$T/g1.tsv"
ok $? "argmax: prevention modes give 0 unargmaxable"
awk -F'\t' '!/^#/ && $2 == "none" && $6 != $11 { bad = 1 } END { exit bad }' "$T/g1.tsv"
ok $? "argmax: every no-bias unargmaxable class has an exact certificate"
awk -F'\t' '!/^#/ && $1 == "normal" && $2 == "random" && $4 == 2 && $7 < 0.8 { bad = 1 } END { exit bad }' "$T/g1.tsv"
ok $? "argmax: d = 2 with bias, most classes unargmaxable"
"$B" $A --no-approx --threads 2 --out "$T/g3.tsv" 2>/dev/null
[ "$(grep -v '^#' "$T/g1.tsv" | cut -f1-7)" = "$(grep -v '^#' "$T/g3.tsv" | cut -f1-7)" ]
ok $? "argmax: the same fractions with and without the approximate pass"
K="rank --outputs 30 --vocab 24 --dims 2,5,8 --targets rank:5,power:1 --iters 60"
"$B" $K --threads 1 --out "$T/k1.tsv" 2>/dev/null; ok $? "rank runs (--threads 1)"
"$B" $K --threads 2 --out "$T/k2.tsv" 2>/dev/null; cmp -s "$T/k1.tsv" "$T/k2.tsv"; ok $? "rank: same bytes with 1 and 2 threads"
awk -F'\t' '!/^#/ && $2 == "softmax" && !($6 <= $5 + 1e-15 && $5 <= $4 + 1e-15 && $4 <= $7 + 1e-15) { bad = 1 } END { exit bad }' "$T/k1.tsv"
ok $? "rank: env_lower <= kl_opt <= kl_init <= env_upper on every row"
KL="kl --outputs 30 --vocab 24 --dims 2,5,8 --targets rank:5,power:1 --iters 60"
"$B" $KL --threads 2 --out "$T/kl.tsv" 2>/dev/null; ok $? "kl runs"
[ "$(grep -v '^#' "$T/kl.tsv")" = "$(grep -v '^#' "$T/k1.tsv")" ] && grep -q "smx-bottleneck kl" "$T/kl.tsv"
ok $? "kl: the same rows as rank (same fits), its own metadata"
awk -F'\t' '!/^#/ && $2 == "softmax" && !($6 <= $5 + 1e-15 && $5 <= $7 + 1e-15 && $8 > 0 && $8 <= 1) { bad = 1 } END { exit bad }' "$T/kl.tsv"
ok $? "kl: optimum inside the envelope, tail in (0, 1]"
"$B" kl --help | grep -q "Eckart-Young"; ok $? "kl --help"
awk -F'\t' '!/^#/ && $2 == "softmax" && $10 != $3 + 2 && !($1 == "rank:5" && $3 >= 5) { bad = 1 } END { exit bad }' "$T/k1.tsv"
ok $? "rank: fitted log-probs have numerical rank d + 2 (bias) below the target's rank"
awk -F'\t' '!/^#/ && $2 == "mos3" && $1 == "power:1" && $3 == 2 && $10 > 4 { good = 1 } END { exit !good }' "$T/k1.tsv"
ok $? "rank: MoS (K = 3, d = 2) log-probs exceed rank d + 2"
"$B" $K --mos-param free,yang --moc-k 2,3 --threads 2 --out "$T/k3.tsv" 2>/dev/null; ok $? "rank --mos-param free,yang --moc-k 2,3 runs"
"$B" $K --moc-k 0 --threads 2 --out "$T/k0.tsv" 2>/dev/null
[ "$(grep -v '^#' "$T/k0.tsv")" = "$(grep -v '^#' "$T/k3.tsv" | awk -F'\t' '$2 == "model" || $2 == "softmax" || $2 == "mos3"')" ] &&
  [ "$(grep -v '^#' "$T/k1.tsv" | awk -F'\t' '$2 != "moc3"')" = "$(grep -v '^#' "$T/k0.tsv")" ]
ok $? "rank: the softmax and free-MoS rows are unchanged by adding Yang's MoS and MoC"
awk -F'\t' '!/^#/ && $2 ~ /^moc/ { n++; if ($10 > $3 + 2 || $11 > $3 + 2) bad = 1 } END { exit bad || n != 12 }' "$T/k3.tsv"
ok $? "rank: MoC (K = 2, 3) log-probs have numerical rank <= d + 2 (12 rows)"
awk -F'\t' '!/^#/ && $2 == "mos3-yang" && $3 == 2 && $10 > 4 { good++ } END { exit good != 2 }' "$T/k3.tsv"
ok $? "rank: Yang's MoS (K = 3, d = 2) log-probs exceed rank d + 2 on both targets"
"$B" bat --points 41 --out "$T/bat.tsv"; ok $? "bat runs"
awk -F'\t' '!/^#/ && $1 != "x" { for (i = 1; i <= 3; i++) if ($(9 + i) == 1 && $(6 + i) != 1) bad = 1; n++ } END { exit bad || n != 41 }' "$T/bat.tsv"
ok $? "bat: every token threshold sampling keeps, BAT keeps too (41 points)"
# option hygiene (issue 9): every subcommand: an unknown option or a missing value is one line, --quiet accepted
for sub in recover argmax rank kl bat bench; do
  bad_b "unknown or ambiguous option '--frob'" $sub --frob
  bad_b "option '--seed' needs a value" $sub --seed
  "$B" $sub --quiet --help | grep -q -- "--quiet"; ok $? "$sub --quiet --help documents --quiet"
done
bad_b "\-\-out: does not apply to bench" bench --out "$T/bench.tsv"
bad_b "\-\-out: does not apply with \-\-file" recover --file "$T/l0.tsv" --out "$T/x.tsv"
bad_b "\-\-out: does not apply with \-\-file" argmax --file "$T/w.tsv" --out "$T/x.tsv"
"$B" recover --quiet --vocab 20 --outputs 30 --hidden 3 --seeds 1 --precisions fp64 --out "$T/q.tsv" 2>"$T/qerr" &&
  [ ! -s "$T/qerr" ] && [ -s "$T/q-summary.tsv" ]; ok $? "recover --quiet: nothing on stderr"
"$B" argmax --quiet --vocab 30 --dims 2 --out "$T/qa.tsv" 2>"$T/qerr" && [ ! -s "$T/qerr" ]; ok $? "argmax --quiet: nothing on stderr"
"$B" rank --quiet --outputs 12 --vocab 9 --dims 2 --targets rank:3 --iters 5 --out "$T/qr.tsv" 2>"$T/qerr" && [ ! -s "$T/qerr" ]
ok $? "rank --quiet: nothing on stderr"
"$B" bat --quiet --points 5 --out "$T/qb.tsv" 2>"$T/qerr" && [ ! -s "$T/qerr" ]; ok $? "bat --quiet runs"
mkdir "$T/d-spectra.tsv"
"$B" recover --vocab 20 --outputs 30 --hidden 3 --seeds 1 --out "$T/d.tsv" >/dev/null 2>"$T/err"; r=$?
[ $r -eq 3 ] && grep -q "cannot write '$T/d-spectra.tsv'" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/d.tsv" ] &&
  [ ! -e "$T/d-summary.tsv" ]
ok $? "recover: an unwritable sibling (-spectra.tsv) is found before any work, exit 3, nothing written"
# an output that cannot be written: checked before any work, exit 3 (output error) naming path and cause
touch "$T/afile"
for sub in recover argmax rank kl bat; do
  "$B" $sub --out "$T/afile/x.tsv" >/dev/null 2>"$T/err"; r=$?
  [ $r -eq 3 ] && grep -q "cannot write '$T/afile/x.tsv': Not a directory" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]
  ok $? "$sub --out below a regular file: exit 3 before any work, one line"
done
tap_done
