#!/bin/sh
# t-moe-shards.sh - `make run-moe-shards` (experiments/moe.mk, issue 13) really runs the shards of a sweep
# with GNU parallel and merges them into the bytes of one unsharded run (cmp), then the summary. Small
# setting: k = 2, 3 shards, 3 n x 2 replications. Skipped (with a note) when GNU parallel is missing.
B=${SMX_BIN:-build/bin}
. "$(dirname "$0")/lib.sh"
if ! command -v parallel >/dev/null 2>&1 || ! parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
  skip "GNU parallel missing (Debian package parallel): run-moe-shards not tested"
  tap_done; exit 0
fi
A="--nmax 1500 --points 3 --reps 2 --seed 13"
# -o: take the binary as it is (make test built it), never rebuild it here
make -s --no-print-directory -o "$B/smx-moe" run-moe-shards BIN="$B" DATA="$T/d" MOE_KS=2 MOE_SHARDS=3 \
  MOE_PARALLEL="-j 2" MOE_SWEEP="$A" >"$T/log" 2>&1
ok $? "make run-moe-shards MOE_KS=2 MOE_SHARDS=3 runs"
test "$(ls "$T"/d/moe-shards/moe-k2-*.tsv 2>/dev/null | wc -l)" -eq 3; ok $? "3 shard files written by parallel"
"$B/smx-moe" sweep --k 2 --profile quick $A --threads 2 --quiet --out "$T/one.tsv"
cmp -s "$T/one.tsv" "$T/d/moe-k2.tsv"; ok $? "the merged shards == one unsharded run (cmp)"
grep -q 'D_min' "$T/d/moe-summary.tsv"; ok $? "the summary of the merged file"
grep -q 'merged from 3 shards' "$T/log"; ok $? "the log names the merge"
tap_done
