#!/bin/sh
# memcheck.sh BIN TBIN - valgrind (memcheck, leaks) over small cases: the smx calculator's commands,
# its error paths (issue 9) and the output-file unit tests. Not part of make test (slow).
BIN=$1; TBIN=$2
V="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
run() { $V "$@" >/dev/null 2>"$T/err"; rc=$?; if [ $rc = 99 ]; then echo "FAIL: $*"; cat "$T/err"; fail=1; else echo "ok (exit $rc): $*"; fi; }
run "$BIN/smx" formats
run "$BIN/smx" eval softmax 2.385 -1.5 0.25
run "$BIN/smx" eval lse --format p200 --algo reference 2.385 -1.5
run "$BIN/smx" eval softmax --algo reference --temperature 1e-320 1 2
run "$BIN/smx" eval ssmax --s 0.43 3 -2
run "$BIN/smx" eval softmax '' 2
run "$BIN/smx" eval softmax 1 x
run "$BIN/smx" collapse-threshold --format fp16
run "$BIN/smx" threshold-sweep --pmax 8 --out "$T/t.tsv"
run "$BIN/smx" threshold-sweep --pmax 8 --out "$T/t.tsv/x.tsv"
run "$BIN/smx" lse-error --vectors 20 --out "$T/l.tsv"
run "$TBIN/t-tsv"
run "$TBIN/t-ckpt"
run "$TBIN/t-rng"
exit $fail
