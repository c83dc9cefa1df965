#!/bin/sh
# t-hardening.sh - issue 9, one check (or more) per defect, so that none comes back: output paths
# that are devices, FIFOs, symlinks; write errors on stdout; strict `smx eval` input; '--';
# out of memory; errors naming the real cause with one exit code per kind; unwritable outputs
# found before the work; temporaries removed on signals; T -> 0; inapplicable options;
# --checkpoint == --out; one-line errors. Env SMX_BIN = directory of the programs.
# Exit codes (cli.h): 2 usage / bad input, 3 file or output error, 4 out of memory.
. "$(dirname "$0")/lib.sh"
BIN=${SMX_BIN:-build/bin}
S=$BIN/smx; C=$BIN/smx-collapse; D=$BIN/smx-dispersion; BE=$BIN/smx-bench
# exits CODE PATTERN CMD...: exit status CODE, exactly one line on stderr, matching PATTERN (grep -E)
exits() {
  code=$1; pat=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq "$code" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -Eq -- "$pat" "$T/err"
}
msg() { tr '\n' ' ' <"$T/err" | cut -c1-150; }
ntmp() { find "$1" -name '*.tmp' | wc -l; }
COLL="--modulus 7 --width 8 --epochs 4 --log-every 2 --quiet --threads 1"
LSE="--vectors 20"

# ---- 1. a device, FIFO or symlink target is never replaced
if [ "$(id -u)" = 0 ] && mknod -m 666 "$T/n" c 1 3 2>/dev/null; then
  "$S" threshold-sweep --pmax 8 --out "$T/n"; rc=$?
  [ $rc = 0 ] && [ -c "$T/n" ]; ok $? "threshold-sweep --out DEVICE: still a character device, exit $rc"
  "$S" lse-error $LSE --out "$T/n" 2>/dev/null; rc=$?
  [ $rc = 0 ] && [ -c "$T/n" ]; ok $? "lse-error --out DEVICE: still a character device, exit $rc"
  "$C" $COLL --out "$T/n" 2>/dev/null; rc=$?
  [ $rc = 0 ] && [ -c "$T/n" ]; ok $? "smx-collapse --out DEVICE: still a character device, exit $rc"
  "$D" ssmax --fig1-nmax 20 --fig3-n 10 --out "$T/n" 2>/dev/null; rc=$?
  [ $rc = 0 ] && [ -c "$T/n" ]; ok $? "smx-dispersion ssmax --out DEVICE: still a character device, exit $rc"
else
  for i in 1 2 3 4; do skip "not root: mknod"; done
fi
# never the machine's own /dev/full as --out: a regression would replace it (a copy instead)
if [ "$(id -u)" = 0 ] && mknod -m 666 "$T/full" c 1 7 2>/dev/null; then
  "$S" threshold-sweep --pmax 8 --out "$T/full" 2>"$T/err"; rc=$?
  [ $rc = 3 ] && [ -c "$T/full" ] && grep -q "No space left on device" "$T/err"; ok $? "--out DEVICE (full): written in place, ENOSPC named, exit 3 ($(msg))"
else
  skip "not root: mknod"
fi
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fifo.read" & reader=$!
"$S" threshold-sweep --pmax 8 --out "$T/fifo"; rc=$?
[ -p "$T/fifo" ] || kill $reader 2>/dev/null # replaced: the reader would wait forever
wait $reader
[ $rc = 0 ] && [ -p "$T/fifo" ] && [ "$(grep -vc '^#' "$T/fifo.read")" -eq 17 ]; ok $? "--out FIFO: written through the FIFO (header + 16 rows), still a FIFO"
echo old >"$T/real.tsv"; ln -s real.tsv "$T/link.tsv"
"$S" threshold-sweep --pmax 8 --out "$T/link.tsv"; rc=$?
[ $rc = 0 ] && [ -L "$T/link.tsv" ] && grep -q "^p8	8	" "$T/real.tsv"; ok $? "--out SYMLINK: the link stays, the file it points to is replaced"
[ "$(ntmp "$T")" = 0 ]; ok $? "no temporary left after writing device, FIFO, link"

# ---- 2. a symlink where the old fixed temporary name was is never followed
echo DATA >"$T/v"; ln -s v "$T/t.tsv.tmp"
"$S" threshold-sweep --pmax 8 --out "$T/t.tsv"; rc=$?
[ $rc = 0 ] && [ "$(cat "$T/v")" = DATA ] && [ -L "$T/t.tsv.tmp" ] && grep -q "^p8	" "$T/t.tsv"; ok $? "symlink at OUT.tmp: its target untouched, OUT written"
rm -f "$T/t.tsv.tmp" "$T/v"

# ---- 3. write errors on stdout: one line, exit 3
for cmd in "eval softmax 1 2 3" "formats" "collapse-threshold --format fp16" "--help" "eval --help" \
           "threshold-sweep --help" "lse-error --help" "--version"; do
  # shellcheck disable=SC2086
  exits 3 "write error on standard output: No space left on device" sh -c "\"\$0\" $cmd >/dev/full" "$S"
  ok $? "smx $cmd >/dev/full: exit 3, one line ($(msg))"
done
exits 3 "write error on standard output" sh -c '"$0" --help >/dev/full' "$C"; ok $? "smx-collapse --help >/dev/full: exit 3"
exits 3 "write error on standard output" sh -c '"$0" curves --help >/dev/full' "$D"; ok $? "smx-dispersion curves --help >/dev/full: exit 3"
exits 3 "write error on standard output" sh -c '"$0" --help >/dev/full' "$D"; ok $? "smx-dispersion --help >/dev/full: exit 3"
exits 3 "write error on standard output" sh -c '"$0" --help >/dev/full' "$BE"; ok $? "smx-bench --help >/dev/full: exit 3"
"$S" threshold-sweep --pmax 8 --out "$T/closed.tsv" >&-; ok $? "stdout closed but unused: not an error"

# ---- 4. strict eval input
exits 2 "argument 3 is empty" "$S" eval softmax '' 2; ok $? "eval softmax '' 2: exit 2 naming the empty argument ($(msg))"
exits 2 "argument 4 is empty" "$S" eval softmax 2 ' '; ok $? "eval softmax 2 ' ': blank argument refused"
printf '1 2\n\0junk\n5 6\n' >"$T/nul"
exits 2 "line 2, byte 5: NUL byte" sh -c '"$0" eval softmax <"$1"' "$S" "$T/nul"; ok $? "NUL byte on stdin: exit 2 naming line and byte ($(msg))"
printf '1 2\n3 4x\n' >"$T/junk"
exits 2 "stdin line 2: '4x' is not a number" sh -c '"$0" eval softmax <"$1"' "$S" "$T/junk"; ok $? "junk on stdin: line and token named ($(msg))"
printf '1 \001\n' >"$T/ctl"
exits 2 "'\\\\x01' is not a number" sh -c '"$0" eval softmax <"$1"' "$S" "$T/ctl"; ok $? "control byte shown escaped ($(msg))"
long=$(awk 'BEGIN { for (i = 0; i < 600; i++) printf "1"; printf "x" }')
exits 2 "is not a number" "$S" eval softmax "$long"; ok $? "a 601-byte token is not truncated into a number"
y=$(printf '2.385\n-1.5\n' | "$S" eval lse); w=$("$S" eval lse 2.385 -1.5); [ "$y" = "$w" ]; ok $? "stdin and arguments agree"

# ---- 5. '--' accepted by every program and subcommand
y=$("$S" eval softmax --format fp32 -- -1.5 2 | wc -l); [ "$y" = 2 ]; ok $? "eval softmax --format fp32 -- -1.5 2: two values"
y=$("$S" eval -- softmax --1 2 2>&1); [ $? = 2 ] && echo "$y" | grep -q "'--1' is not a number"; ok $? "after '--' even --1 is a value"
"$S" formats -- >/dev/null; ok $? "formats --"
"$S" collapse-threshold --format fp16 -- >/dev/null; ok $? "collapse-threshold --format fp16 --"
"$S" threshold-sweep --pmax 4 --out "$T/dd.tsv" --; ok $? "threshold-sweep ... --"
"$S" lse-error $LSE --out "$T/dd2.tsv" -- 2>/dev/null; ok $? "lse-error ... --"
"$C" $COLL --out "$T/dd3.tsv" -- 2>/dev/null; ok $? "smx-collapse ... --"
"$D" ssmax --fig1-nmax 20 --fig3-n 10 --out "$T/dd4.tsv" -- 2>/dev/null; ok $? "smx-dispersion ssmax ... --"

# ---- 6. out of memory: refused up front with the estimate, exit 4, one line
case "$BIN" in
*-san)  # ASan reserves terabytes of address space: no ulimit -v (GMP's OOM path: t-cli.c)
  for i in 1 2 3 4 5; do skip "sanitized build: ulimit -v"; done ;;
*)
  seq 1000000 >"$T/seq"
  exits 4 "needs about [0-9]+ MB of memory; only [0-9]+ MB available" \
    sh -c 'ulimit -v 500000; "$0" eval softmax --format p1000 <"$1"' "$S" "$T/seq"
  ok $? "1e6 values at p1000 (about 1.1 GB) under ulimit -v 500000: refused with the estimate, whatever OMP_NUM_THREADS (thread stacks take address space) ($(msg))"
  sh -c 'ulimit -v 400000; "$0" eval lse --format p4096 --algo reference 2.385 -1.5' "$S" >"$T/out" 2>"$T/err"; rc=$?
  { [ $rc = 0 ] && [ -s "$T/out" ]; } || { [ $rc = 4 ] && one=$(wc -l <"$T/err") && [ "$one" = 1 ]; }
  ok $? "a small MPFR eval under ulimit -v 400000 works or fails in one line (exit $rc)"
  exits 4 "precision: --nmax-log2 30 \(a vector of 2\^30 doubles\) needs about 8590 MB of memory; only [0-9]+ MB" \
    sh -c 'ulimit -v 500000; "$0" precision --nmax-log2 30 --out "$1"' "$D" "$T/big.tsv"
  ok $? "smx-dispersion precision --nmax-log2 30 under ulimit -v: refused up front with the estimate ($(msg))"
  exits 4 "curves: --random-log2 28 .* needs about 4295 MB" \
    sh -c 'ulimit -v 500000; "$0" curves --random-log2 28 --out "$1"' "$D" "$T/big.tsv"
  ok $? "smx-dispersion curves --random-log2 28 under ulimit -v: refused up front ($(msg))"
  exits 4 "ssmax: --fig1-nmax / --fig3-n \(two vectors of 100000000 doubles\) needs about 1600 MB" \
    sh -c 'ulimit -v 500000; "$0" ssmax --fig1-nmax 100000000 --out "$1"' "$D" "$T/big.tsv"
  ok $? "smx-dispersion ssmax --fig1-nmax 1e8 under ulimit -v: refused up front ($(msg))" ;;
esac
start=$(date +%s)
exits 2 "would take about [0-9.e+]+ days \(estimate: [0-9.e+]+ flops at 1e10 flop/s\); more than 30 days refused" \
  "$D" retrieval --d 4096 --steps 100000000 --out "$T/big.tsv"; r=$?
[ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; ok $? "smx-dispersion retrieval of absurd size: refused at once, the time estimate named ($(msg))"
exits 4 "retrieval: .*needs about [0-9]+ MB of memory" "$D" retrieval --d 4096 --test-log2 20 --steps 1 --out "$T/big.tsv"
ok $? "smx-dispersion retrieval --d 4096 --test-log2 20: the memory estimate named ($(msg))"
[ ! -e "$T/big.tsv" ] && [ "$(ntmp "$T")" = 0 ]; ok $? "refused runs leave no file"
# retrieval prints its estimates before training (one line, not with --quiet): the documented formula
# recomputed here (memory 8 (6 np + B n (9 d + 14) + threads 2^K (4 d + 16)) + 96 (K - 3) sets, np = 4 d^2 + 25 d + 11;
# flops 2 steps 3 B (n + 2) / 2 r + sets 16 (2^(K-3) - 1) r, r = 2 (11 d + 3 d^2))
RET="retrieval --d 4 --steps 2 --test-log2 5 --test-sets 2 --threads 1 --out $T/ret.tsv"
w=$(awk 'BEGIN { d = 4; np = 4 * d * d + 25 * d + 11; b = 8 * (6 * np + 64 * 16 * (9 * d + 14) + 32 * (4 * d + 16)) + 96 * 2 * 2
  r = 2 * (11 * d + 3 * d * d); f = 2 * 2 * 3 * 64 * 18 / 2 * r + 2 * 16 * 3 * r; printf "about %.3g MB of memory, %.2g flops", b / 1e6, f }')
"$D" $RET 2>"$T/err" >/dev/null; r=$?
first=$(tr '\r' '\n' <"$T/err" | grep -v '^$' | head -1)
[ $r = 0 ] && echo "$first" | grep -q "^smx-dispersion retrieval: estimate: $w: [0-9.e+-]* CPU-minutes at 2.5e10 flop/s$"
ok $? "smx-dispersion retrieval: the estimate line first on stderr, before training ($first; expected $w)"
"$D" $RET --quiet 2>"$T/err" >/dev/null; r=$?
[ $r = 0 ] && [ ! -s "$T/err" ]; ok $? "... not with --quiet"

# refused up front (issue 9 item 6): smx-bottleneck rank / kl / recover / argmax, smx-moe fit / sample,
# smx lse-error. Absurd sizes (beyond any machine: the per-thread arrays times --threads 64, a 10 TB
# --data file) are refused without a limit; under ulimit -v a moderate size is refused while a small one
# still runs (both sides of the estimate).
B=$BIN/smx-bottleneck; M=$BIN/smx-moe
NOMEM="needs about [0-9]+ MB of memory; only [0-9]+ MB available"
for c in rank kl; do
  exits 4 "^smx-bottleneck $c: --outputs x --vocab x --targets x --threads $NOMEM" \
    "$B" $c --outputs 20000 --vocab 20000 --threads 64 --out "$T/big.tsv"
  ok $? "smx-bottleneck $c 20000 x 20000, 64 threads: refused up front, one line ($(msg))"
done
exits 4 "^smx-bottleneck recover: --outputs x --vocab x --threads $NOMEM" \
  "$B" recover --outputs 20000 --vocab 20000 --threads 64 --out "$T/big.tsv"
ok $? "smx-bottleneck recover 20000 x 20000, 64 threads: refused up front ($(msg))"
# W, its copy, b: 8 (2 V d + V); per class 24; per thread an LP of all V rows (lp.h: V (1000 + 110 (d + 2)) +
# 49 V + 64 (d + 3)) and 8 (V + d)
w=$(awk 'BEGIN { V = 1e6; d = 4096; printf "%.0f", (8 * (2 * V * d + V) + 24 * V + V * (1000 + 110 * (d + 2)) + 49 * V + 64 * (d + 3) + 8 * (V + d)) / 1e6 }')
exits 4 "^smx-bottleneck argmax: --vocab x --dims x --threads 1 \(an LP of all 1000000 rows per thread, worst case\) needs about $w MB" \
  "$B" argmax --vocab 1000000 --dims 4096 --threads 1 --out "$T/big.tsv"
ok $? "smx-bottleneck argmax --vocab 1e6 --dims 4096: refused with the estimate W + the LP's worst case, $w MB ($(msg))"
# --file inputs (issue 9): estimated from the file's size and first row before it is read; a sparse file of 1 GB
# after one row of 2 values holds about 2^30 / 4 rows: refused at once, no limit needed
printf '1\t2\n' >"$T/sparse.tsv"; truncate -s 1G "$T/sparse.tsv"
for c in recover argmax; do
  start=$(date +%s)
  exits 4 "^smx-bottleneck $c: --file \(about 268435456 x 2 from its size and first row\).* $NOMEM" "$B" $c --file "$T/sparse.tsv"; r=$?
  [ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; ok $? "smx-bottleneck $c --file (1 GB, 2 values a row): refused before reading it ($(msg))"
done
rm -f "$T/sparse.tsv"
truncate -s 10T "$T/huge.tsv" 2>/dev/null || dd if=/dev/null of="$T/huge.tsv" bs=1 seek=10T 2>/dev/null
exits 4 "^smx-moe fit: --data \(bounded by its size\) x --k $NOMEM" "$M" fit --data "$T/huge.tsv" --out "$T/big.tsv"
ok $? "smx-moe fit --data (a sparse 10 TB file): refused before reading it ($(msg))"
rm -f "$T/huge.tsv"
if [ "${SMX_SANITIZE:-0}" = 1 ]; then
  # ASan reserves terabytes of address space at start, so a lowered ulimit -v kills any sanitized run
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do skip "sanitized build (SMX_SANITIZE=1): ASan needs more address space than ulimit -v allows"; done
else
  # small -> runs (exit 0, data rows); moderate -> exit 4 with the estimate; both under ulimit -v 500000
  lim() { sh -c 'ulimit -v 500000; "$@"' sh "$@"; }
  for c in rank kl; do
    exits 4 "$NOMEM" lim "$B" $c --outputs 2000 --vocab 2000 --threads 1 --out "$T/big.tsv"
    ok $? "smx-bottleneck $c 2000 x 2000 under ulimit -v 500000: refused ($(msg))"
    lim "$B" $c --outputs 12 --vocab 10 --dims 2 --iters 5 --targets rank:3 --threads 1 --quiet --out "$T/b-$c.tsv" 2>"$T/err"
    [ $? = 0 ] && grep -vq '^#' "$T/b-$c.tsv"; ok $? "... 12 x 10 under the same limit runs ($(msg))"
  done
  exits 4 "$NOMEM" lim "$B" recover --outputs 4000 --vocab 4000 --threads 1 --out "$T/big.tsv"
  ok $? "smx-bottleneck recover 4000 x 4000 under ulimit -v 500000: refused ($(msg))"
  lim "$B" recover --outputs 30 --vocab 20 --hidden 4 --seeds 1 --threads 1 --quiet --out "$T/b-rec.tsv" 2>"$T/err"
  [ $? = 0 ] && grep -vq '^#' "$T/b-rec.tsv"; ok $? "... 30 x 20 runs ($(msg))"
  exits 4 "$NOMEM" lim "$B" argmax --vocab 100000 --dims 400 --out "$T/big.tsv"
  ok $? "smx-bottleneck argmax --vocab 1e5 --dims 400 under ulimit -v 500000: refused ($(msg))"
  lim "$B" argmax --vocab 30 --dims 2 --seeds 1 --threads 1 --quiet --out "$T/b-arg.tsv" 2>"$T/err"
  [ $? = 0 ] && grep -vq '^#' "$T/b-arg.tsv"; ok $? "... --vocab 30 --dims 2 runs ($(msg))"
  # --file whose first row is long (8 values of 203 bytes): the up-front estimate is small, the exact one
  # after reading (1.8e6 rows of 8 values) is refused before the SVD / the LPs
  x=$(awk 'BEGIN { x = "0.1"; for (i = 0; i < 200; i++) x = x "0"; s = x; for (k = 1; k < 8; k++) s = s "\t" x; print s }')
  { echo "$x"; yes "0	1	0	1	0	1	0	1" | head -n 1800000; } >"$T/long.tsv"
  exits 4 "^smx-bottleneck recover: --file \(1800001 x 8\) $NOMEM" lim "$B" recover --file "$T/long.tsv"
  ok $? "smx-bottleneck recover --file, 1.8e6 x 8 under ulimit -v 500000: refused after reading, exact size ($(msg))"
  head -n 250000 "$T/long.tsv" >"$T/long2.tsv"
  exits 4 "^smx-bottleneck argmax: --file \(250000 x 8\) x --threads 1 \(an LP of all 250000 rows per thread, worst case\) $NOMEM" \
    lim "$B" argmax --file "$T/long2.tsv" --threads 1
  ok $? "smx-bottleneck argmax --file, 2.5e5 x 8 under ulimit -v 500000: the LP's worst case refused ($(msg))"
  rm -f "$T/long.tsv" "$T/long2.tsv"
  awk 'BEGIN { for (i = 0; i < 40; i++) { for (j = 0; j < 30; j++) printf "%s%.17g", j ? "\t" : "", -log(30) + sin(i * 7 + j * (j % 5)) / 10; printf "\n" } }' >"$T/small.tsv"
  lim "$B" recover --file "$T/small.tsv" >"$T/out" 2>"$T/err"
  [ $? = 0 ] && grep -q "^hidden_size" "$T/out"; ok $? "... a 40 x 30 recover --file under the same limit runs ($(msg))"
  lim "$B" argmax --file "$T/small.tsv" --threads 1 >"$T/out" 2>"$T/err"
  [ $? = 0 ] && grep -q "^unargmaxable [0-9]* of 40" "$T/out"; ok $? "... a 40 x 30 argmax --file runs ($(msg))"
  exits 4 "^smx-moe fit: --n x --k $NOMEM" lim "$M" fit --n 10000000 --out "$T/big.tsv"
  ok $? "smx-moe fit --n 1e7 under ulimit -v 500000: refused ($(msg))"
  lim "$M" fit --n 200 --out "$T/m-fit.tsv" >/dev/null 2>"$T/err"; ok $? "... --n 200 runs ($(msg))"
  exits 4 "^smx-moe sample: --n $NOMEM" lim "$M" sample --n 100000000 --out "$T/big.tsv"
  ok $? "smx-moe sample --n 1e8 under ulimit -v 500000: refused ($(msg))"
  lim "$M" sample --n 100 --out "$T/m-s.tsv" 2>"$T/err"
  [ $? = 0 ] && [ "$(grep -vc '^#' "$T/m-s.tsv")" = 101 ]; ok $? "... --n 100 runs: header + 100 rows ($(msg))"
  exits 4 "^smx lse-error: --vectors x --n $NOMEM" lim "$S" lse-error --vectors 10000000 --out "$T/big.tsv"
  ok $? "smx lse-error --vectors 1e7 under ulimit -v 500000: refused ($(msg))"
  lim "$S" lse-error --vectors 20 --out "$T/l.tsv" 2>"$T/err"; ok $? "... --vectors 20 runs ($(msg))"
fi
[ ! -e "$T/big.tsv" ] && [ "$(ntmp "$T")" = 0 ]; ok $? "refused runs leave no file"

# ---- 7. errors name the real cause and the path; one exit code per kind
touch "$T/file"
exits 3 "'$T/file/x.tsv': Not a directory" "$S" threshold-sweep --pmax 4 --out "$T/file/x.tsv"; ok $? "ENOTDIR named ($(msg))"
exits 3 "Is a directory" "$S" threshold-sweep --pmax 4 --out "$T"; ok $? "EISDIR named"
exits 3 "No such file or directory" "$S" threshold-sweep --pmax 4 --out /proc/nonexistent-dir/x.tsv; ok $? "ENOENT named"
exits 3 "cannot write '$T/file/x.tsv': Not a directory" "$S" lse-error $LSE --out "$T/file/x.tsv"; ok $? "lse-error: exit 3 too ($(msg))"
exits 3 "Not a directory" "$C" $COLL --out "$T/file/x.tsv"; ok $? "smx-collapse: exit 3 too ($(msg))"
if [ "$(id -u)" != 0 ]; then
  mkdir "$T/ro"; chmod 555 "$T/ro"
  exits 3 "Permission denied" "$S" threshold-sweep --pmax 4 --out "$T/ro/x.tsv"; ok $? "EACCES named"
else
  ok 0 "# SKIP root: EACCES cannot be provoked with permissions"
fi
for p in "$S" "$C" "$D"; do "$p" --help | grep -q "^Exit status: 0 success, 1 .*, 2 .*, 3 .*"; ok $? "$(basename "$p") --help documents the exit codes"; done
for c in eval collapse-threshold threshold-sweep lse-error formats; do "$S" $c --help | grep -q "^Exit status:"; ok $? "smx $c --help documents the exit codes"; done
for c in curves ssmax precision retrieval; do "$D" $c --help | grep -q "^Exit status:"; ok $? "smx-dispersion $c --help documents the exit codes"; done

# ---- 8. an unwritable output is found before the work
start=$(date +%s)
exits 3 "Not a directory" "$S" lse-error --vectors 10000000 --out "$T/file/x.tsv"; r=$?
[ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; ok $? "lse-error with 1e7 vectors fails at once on an unwritable --out"
start=$(date +%s)
exits 3 "Not a directory" "$C" --epochs 100000 --quiet --out "$T/file/x.tsv"; r=$?
[ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; ok $? "smx-collapse fails at once on an unwritable --out"
exits 3 "checkpoint: cannot write .*Not a directory" "$C" --epochs 100000 --quiet --out "$T/ok.tsv" --checkpoint "$T/file/c"
ok $? "smx-collapse fails at once on an unwritable --checkpoint ($(msg))"

start=$(date +%s)
exits 3 "Not a directory" "$D" retrieval --out "$T/file/x.tsv"; r=$?
[ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; ok $? "smx-dispersion retrieval fails at once on an unwritable --out ($(msg))"
exits 2 "same file" "$D" retrieval --out "$T/r.tsv" --checkpoint "$T/r.tsv"; ok $? "smx-dispersion retrieval --checkpoint == --out refused"
exits 3 "Not a directory" "$D" curves --out="$T/file/x.tsv"; ok $? "smx-dispersion curves --out=... checked too"

# ---- 9. temporaries removed on SIGTERM / SIGHUP (SIGINT: tests/t-tsv.c, since a background job
# of a non-interactive shell ignores it); nothing partial appears
for sig in TERM HUP; do
  mkdir "$T/sig$sig"
  "$S" threshold-sweep --pmax 4096 --classes 1000000 --out "$T/sig$sig/x.tsv" & p=$!
  i=0; while [ $i -lt 100 ] && [ "$(ntmp "$T/sig$sig")" = 0 ]; do sleep 0.1; i=$((i + 1)); done
  had=$(ntmp "$T/sig$sig")
  kill -$sig $p
  # a signal ignored by whoever started the tests (nohup ignores SIGHUP) stays ignored in the program, as
  # POSIX asks of a program that catches signals; then the check cannot run: say so, never hang
  i=0; while [ $i -lt 100 ] && kill -0 $p 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
  if kill -0 $p 2>/dev/null; then
    kill -KILL $p; wait $p
    skip "SIG$sig is ignored in this environment (nohup?): the program kept it ignored; run make test without nohup"
    continue
  fi
  wait $p; rc=$?
  [ "$had" = 1 ] && [ "$(ntmp "$T/sig$sig")" = 0 ] && [ ! -e "$T/sig$sig/x.tsv" ] && [ $rc -gt 128 ]
  ok $? "SIG$sig during a write: killed by it (status $rc), its temporary removed, no output"
done

# a multi-file output (OUT and its siblings) appears all together or not at all: a failure
# injected on one sibling leaves none of the others (and no temporary)
DC="curves --nmax-log2 6 --random-log2 6 --materialise-log2 6 --per-octave 1"
mkdir -p "$T/mf1/c-beta-star.tsv"
exits 3 "writing $T/mf1/c-beta-star.tsv: Is a directory" "$D" $DC --out "$T/mf1/c.tsv"
ok $? "curves: the third file cannot be created: exit 3 naming it ($(msg))"
[ "$(ls -A "$T/mf1")" = "c-beta-star.tsv" ]; ok $? "... no other file of the output appears, no temporary ($(ls -A "$T/mf1" | tr '\n' ' '))"
mkdir "$T/mf2"; ln -s ../file/x.tsv "$T/mf2/s-fig1.tsv"
exits 3 "s-fig1.tsv: Not a directory" "$D" ssmax --fig1-nmax 20 --fig3-n 10 --out "$T/mf2/s.tsv"
ok $? "ssmax: the second file a symlink to an ENOTDIR path: exit 3 naming it ($(msg))"
[ "$(ls -A "$T/mf2")" = "s-fig1.tsv" ]; ok $? "... no other file appears ($(ls -A "$T/mf2" | tr '\n' ' '))"
mkdir -p "$T/mf3/r-train.tsv"; start=$(date +%s)
exits 3 "r-train.tsv: Is a directory" "$D" retrieval --out "$T/mf3/r.tsv"; r=$?
[ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ] && [ "$(ls -A "$T/mf3")" = "r-train.tsv" ]
ok $? "retrieval: a sibling that cannot be written fails before training, nothing appears ($(msg))"
if [ "$(id -u)" = 0 ] && mknod -m 666 "$T/full2" c 1 7 2>/dev/null; then
  # a write failure (ENOSPC) in the second file, found only when the files are closed
  mkdir "$T/mf4"; ln -s ../full2 "$T/mf4/c-materialised.tsv"
  exits 3 "writing $T/mf4/c-materialised.tsv: No space left on device" "$D" $DC --out "$T/mf4/c.tsv"
  ok $? "curves: ENOSPC on the second file: exit 3 naming it ($(msg))"
  [ "$(ls -A "$T/mf4")" = "c-materialised.tsv" ] && [ -c "$T/full2" ]
  ok $? "... the first, third and fourth files do not appear, no temporary ($(ls -A "$T/mf4" | tr '\n' ' '))"
else
  skip "not root: mknod"; skip "not root: mknod"
fi
"$D" $DC --out "$T/mf5/c.tsv" 2>/dev/null && [ "$(ls "$T/mf5" | tr '\n' ' ')" = "c-adaptive-beta.tsv c-beta-star.tsv c-materialised.tsv c.tsv " ]
ok $? "curves: all four files appear when nothing fails"

# ---- 10. T -> 0: the reference is the argmax limit
y=$("$S" eval softmax --algo reference --temperature 1e-320 1 2 | tr '\n' ' '); [ "$y" = "0 1 " ]; ok $? "softmax reference T = 1e-320 of (1, 2) = (0, 1) ($y)"
y=$("$S" eval softmax --algo reference --temperature 1e-320 2 2 -1 | tr '\n' ' '); [ "$y" = "0.5 0.5 0 " ]; ok $? "tie at T = 1e-320 splits evenly ($y)"
y=$("$S" eval lse --algo reference --temperature 1e-300 1 2); w=$(awk 'BEGIN { printf "%.17g", 2 / 1e-300 }')
[ "$y" = "$w" ]; ok $? "lse reference T = 1e-300 = max / T ($y)"
y=$("$S" eval softmax --algo reference --temperature 2 2.385 -1.5 | head -1); w=$("$S" eval softmax --algo reference 1.1925 -0.75 | head -1)
[ "$y" = "$w" ]; ok $? "reference with T = 2 equals the halved inputs ($y)"
y=$("$S" eval softmax --algo reference --temperature 3 2.385 -1.5 0.25 | head -1)
w=$(awk 'BEGIN { printf "%.17g", exp(2.385/3) / (exp(2.385/3) + exp(-0.5) + exp(0.25/3)) }')
awk -v a="$y" -v b="$w" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 2e-16) }'; ok $? "reference with T = 3 against awk ($y vs $w)"

# ---- 11. inapplicable or invalid options are errors
exits 2 "--s applies to ssmax only" "$S" eval softmax --s 1 1 2; ok $? "eval softmax --s: inapplicable ($(msg))"
exits 2 "--sum applies to softmax, logsoftmax and lse only" "$S" eval stablemax --sum pairwise 1 2; ok $? "eval stablemax --sum: inapplicable"
exits 2 "--temperature applies" "$S" eval sparsemax --temperature 2 1 2; ok $? "eval sparsemax --temperature: inapplicable"
exits 2 "--s: must be a finite number > 0" "$S" eval ssmax --s -1 1 2; ok $? "eval ssmax --s -1 names --s ($(msg))"
exits 2 "--s: must be a finite number > 0" "$S" eval ssmax --s inf 1 2; ok $? "eval ssmax --s inf refused"

for c in curves ssmax precision; do
  exits 2 "unknown or ambiguous option '--steps'" "$D" $c --steps 5; ok $? "smx-dispersion $c --steps (retrieval's option): one line ($(msg))"
done
exits 2 "unknown or ambiguous option '--deltas'" "$D" retrieval --deltas 1; ok $? "smx-dispersion retrieval --deltas (curves' option) refused"
exits 2 "--algos applies to 'smx-bench kernels' only" "$BE" copy --algos all; ok $? "smx-bench copy --algos: inapplicable ($(msg))"
exits 2 "--funcs applies to 'smx-bench kernels' only" "$BE" copy --funcs lse; ok $? "smx-bench copy --funcs: inapplicable"

# ---- 12. --checkpoint equal to --out
exits 2 "--out and --checkpoint are the same file" "$C" $COLL --out "$T/same.tsv" --checkpoint "$T/same.tsv"; ok $? "smx-collapse --checkpoint == --out refused ($(msg))"
ln -s same2.tsv "$T/alias.tsv"; echo x >"$T/same2.tsv"
exits 2 "same file" "$C" $COLL --out "$T/same2.tsv" --checkpoint "$T/alias.tsv"; ok $? "... also through a symlink"

# ---- 13. one-line errors
exits 2 "unknown or ambiguous option '--bogus'" "$S" threshold-sweep --bogus; ok $? "threshold-sweep --bogus: one line naming it ($(msg))"
exits 2 "option '--out' needs a value" "$S" threshold-sweep --out; ok $? "threshold-sweep --out (no value): one line"
exits 2 "option '--format' needs a value" "$S" collapse-threshold --format; ok $? "collapse-threshold --format (no value): one line"
exits 2 "'--bogus'" "$S" lse-error --bogus; ok $? "lse-error --bogus: one line naming it"
exits 2 "missing COMMAND" "$D"; ok $? "bare smx-dispersion: one line ($(msg))"
for c in curves ssmax precision retrieval; do
  exits 2 "^smx-dispersion $c: unknown or ambiguous option '--bogus'" "$D" $c --bogus; ok $? "smx-dispersion $c --bogus: one line ($(msg))"
  exits 2 "^smx-dispersion $c: option '--out' needs a value" "$D" $c --out; ok $? "smx-dispersion $c --out (no value): one line"
done
for c in kernels copy exp-error mpfr; do
  exits 2 "^smx-bench $c: unknown or ambiguous option '--bogus'" "$BE" $c --bogus; ok $? "smx-bench $c --bogus: one line ($(msg))"
  exits 2 "^smx-bench $c: option '--out' needs a value" "$BE" $c --out; ok $? "smx-bench $c --out (no value): one line"
done
exits 2 "unknown option '--bogus'" "$S" eval softmax --bogus 1; ok $? "smx eval --bogus: one line ($(msg))"
exits 2 "" "$S"; ok $? "bare smx: one line"

# ---- audit: every subcommand of the six programs (issue 9), at least: an unknown option is one line, exit 2;
# an option of a sibling subcommand is refused (one line, exit 2, naming it); --help on a full stdout exits 3;
# an unwritable --out fails at once (exit 3, one line, within 2 s) with '--' ending the options (the run
# would otherwise take its default size), or, for a subcommand without --out, --out is refused and '--'
# ends the options ('--help' after it is an argument).
# Table: PROG SUB KIND(w: writes --out, s: stdout only) SIBLING-OPTION [ARGS: @P parameter file, @S sweep file]
"$M" fit --n 200 --out "$T/a-f.tsv" --out-params "$T/a-p.tsv" >/dev/null 2>&1
"$M" sweep --nmin 100 --nmax 200 --points 2 --reps 1 --quiet --out "$T/a-sw.tsv" 2>/dev/null
[ -s "$T/a-p.tsv" ] && [ -s "$T/a-sw.tsv" ]; ok $? "audit inputs: a smx-moe parameter file and a small sweep"
while read -r p sub kind sib args <&3; do
  [ -z "$p" ] && continue
  P=$BIN/$p; a=$(echo "$args" | sed "s|@P|$T/a-p.tsv|g; s|@S|$T/a-sw.tsv|g")
  # shellcheck disable=SC2086
  exits 2 "'--bogus'" "$P" $sub $a --bogus; ok $? "$p $sub --bogus: one line, exit 2 ($(msg))"
  # shellcheck disable=SC2086
  exits 2 "$sib" "$P" $sub $a $sib 1; ok $? "$p $sub $sib (another subcommand's): refused ($(msg))"
  exits 3 "write error on standard output" sh -c '"$0" "$1" --help >/dev/full' "$P" $sub; ok $? "$p $sub --help >/dev/full: exit 3"
  if [ "$kind" = w ]; then
    start=$(date +%s)
    # shellcheck disable=SC2086
    exits 3 "--out: cannot (write|create) '$T/file/x.tsv': Not a directory" timeout 3 "$P" $sub $a --out "$T/file/x.tsv" --; r=$?
    [ $r = 0 ] && [ $(( $(date +%s) - start )) -le 2 ]
    ok $? "$p $sub --out UNWRITABLE --: exit 3 at once, one line ($(msg))"
  else
    # shellcheck disable=SC2086
    exits 2 "--out" timeout 3 "$P" $sub $a --out "$T/x.tsv"; ok $? "$p $sub --out: refused, it writes to stdout ($(msg))"
    # shellcheck disable=SC2086
    exits 2 "'--help'" "$P" $sub $a -- --help; ok $? "$p $sub -- --help: '--' ends the options ($(msg))"
  fi
done 3<<EOF
smx eval s --pmax softmax
smx formats s --vectors
smx collapse-threshold s --pmax --format fp16
smx threshold-sweep w --vectors
smx lse-error w --pmax
smx-collapse train w --formats
smx-collapse onset w --predict
smx-collapse gaps w --reference
smx-collapse bench s --dump-split
smx-dispersion curves w --steps
smx-dispersion ssmax w --steps
smx-dispersion precision w --steps
smx-dispersion retrieval w --deltas
smx-moe sample w --max-iter
smx-moe fit w --grid
smx-moe loss w --grid --truth @P --fit @P
smx-moe sweep w --fit
smx-moe merge w --grid @S
smx-moe summary w --grid @S
smx-moe gates w --truth
smx-moe multinomial w --act
smx-moe topk w --act
smx-icl check w --steps
smx-icl lipschitz w --steps
smx-icl shift w --steps
smx-icl estimators w --steps
smx-icl multihead w --trials
smx-icl linear-gd w --sigma2
smx-icl closeness w --sigma2
smx-bottleneck recover w --dims
smx-bottleneck argmax w --outputs
smx-bottleneck bench s --vocab
smx-bottleneck rank w --hidden
smx-bottleneck bat w --vocab
smx-bottleneck kl w --hidden
EOF
# standard output of the --file modes on /dev/full
printf '1\t0\n0\t1\n-1\t-1\n' >"$T/a-w.tsv"
exits 3 "write error on standard output" sh -c '"$0" argmax --file "$1" >/dev/full' "$B" "$T/a-w.tsv"; ok $? "smx-bottleneck argmax --file >/dev/full: exit 3 ($(msg))"
exits 3 "write error on standard output" sh -c '"$0" recover --file "$1" >/dev/full' "$B" "$T/a-w.tsv"; ok $? "smx-bottleneck recover --file >/dev/full: exit 3 ($(msg))"

# every program documents the exit codes in --help (issue 9, item 7)
for p in smx smx-collapse smx-dispersion smx-moe smx-icl smx-bottleneck smx-bench; do
  "$BIN/$p" --help 2>/dev/null | grep -q "3 file or output error"; ok $? "$p --help documents the exit codes"
done

tap_done
