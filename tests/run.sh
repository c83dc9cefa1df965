#!/bin/sh
# Run every test program (TBIN/t-*) and shell test (tests/t-*.sh, given BIN), count TAP
# lines, print "N passed, N failed". A test program that crashes or exits non-zero without
# a "not ok" line counts as one failure.
TBIN=$1; BIN=$2
export SMX_BIN="$BIN"
passed=0; failed=0; logdir=${TMPDIR:-/tmp}/smx-test.$$
mkdir -p "$logdir"
for t in "$TBIN"/t-* tests/t-*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t")
  log="$logdir/$name.log"
  start=$(date +%s)
  case "$t" in
    *.sh) sh "$t" >"$log" 2>&1 ;;
    *) "$t" >"$log" 2>&1 ;;
  esac
  rc=$?
  p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with status $rc" >>"$log"; fi
  passed=$((passed + p)); failed=$((failed + f))
  printf '%-32s %5d passed %3d failed  %3ds\n' "$name" "$p" "$f" $(( $(date +%s) - start ))
  if [ "$f" -ne 0 ]; then grep -A3 '^not ok' "$log" | head -40 | sed 's/^/    /'; tail -5 "$log" | sed 's/^/    | /'; fi
done
rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
