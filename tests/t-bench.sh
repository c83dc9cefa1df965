#!/bin/sh
# t-bench.sh - smx-bench as a program (no timing is asserted: the machine is shared): bad
# options exit 2 with one line naming the option; tiny runs of every subcommand write a TSV with
# the documented header, one row per (type, func, algo, n) and positive finite timings; exp-error
# on a float / double sample reports maxima within the kernels' bound (1 ulp) in its metadata;
# the peers script writes its header and either rows or a '# note:' line. Env SMX_BIN.
. "$(dirname "$0")/lib.sh"
B=${SMX_BIN:-build/bin}/smx-bench
# bad_b OPT ARGS...: smx-bench ARGS --out FILE exits 2 with one line naming OPT (lib.sh's bad)
bad_b() { _o=$1; shift; bad "$_o" "$B" "$@" --out "$T/bad.tsv"; }
"$B" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q COMMAND "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; ok $? "no COMMAND: exit 2, one line"
bad_b frobnicate frobnicate
bad_b --types kernels --types half
bad_b --algos kernels --algos three-pass,fastest
bad_b --funcs kernels --funcs softmin
bad_b --isa kernels --isa sse9
bad_b --nmin kernels --nmin 0
bad_b --nmin kernels --nmin 5000 --nmax 100
bad_b --reps kernels --reps -1
bad_b --min-time kernels --min-time abc
bad_b --profile copy --profile huge
bad_b --stride exp-error --stride 0
bad_b --count exp-error --count x
bad_b --ps mpfr --ps 1
bad_b --ps mpfr --ps 24.5
bad_b --n mpfr --n 0
bad_b --threads kernels --threads -2
bad_b --clock kernels --clock gpu
bad_b "--clock cpu" kernels --clock cpu --threads 2
bad_b --stream-bytes kernels --stream-bytes 0
bad_b "--stream-bytes applies to 'smx-bench kernels' only" copy --stream-bytes 4096
bad "option '--out' needs a value" "$B" kernels --nmax 100 --out
bad_b "unknown or ambiguous option '--bogus'" exp-error --bogus
bad_b "--algos applies to 'smx-bench kernels' only" copy --algos two-pass
bad_b "--per-octave" kernels --per-octave 0
bad_b "--per-octave" kernels --steps 99
"$B" --help | grep -q 'smx-bench kernels'; ok $? "--help lists the subcommands"
"$B" kernels --nmin 100 --nmax 200 --steps 1 --reps 1 --min-time 0 --types float --algos two-pass --quiet --out "$T/kq.tsv" >/dev/null 2>"$T/kq.err"
[ $? = 0 ] && ! [ -s "$T/kq.err" ] && grep -q "steps 1," "$T/kq.tsv"; ok $? "kernels: --steps (old name of --per-octave) and --quiet (nothing on stderr)"
"$B" kernels --help | grep -q -- '--min-time'; ok $? "kernels --help lists its options"
"$B" kernels --nmin 1000 --nmax 1000 --reps 3 --min-time 0.001 --types float --algos two-pass --clock cpu --quiet --out "$T/kc.tsv" >/dev/null 2>&1
[ $? = 0 ] && grep -q "clock cpu" "$T/kc.tsv" && awk -F'\t' '!/^#/ && $2 == "softmax" && $7 > 0 { f = 1 } END { exit !f }' "$T/kc.tsv"
ok $? "kernels --clock cpu: a positive time per element, the clock in the metadata"
"$B" kernels --nmin 1000 --nmax 1000 --reps 1 --min-time 0 --types float --algos two-pass --quiet --out "$T/ks.tsv" >/dev/null 2>&1
grep -q "^# streaming: kernels write every output with ordinary stores" "$T/ks.tsv"
ok $? "kernels: ordinary stores by default, said in the metadata"
"$B" kernels --nmin 1000 --nmax 1000 --reps 1 --min-time 0 --types float --algos two-pass --stream-bytes 4096 --quiet --out "$T/ks.tsv" >/dev/null 2>&1
[ $? = 0 ] && grep -q "^# streaming: kernels write outputs of >= 4096 bytes with non-temporal stores" "$T/ks.tsv"
ok $? "kernels --stream-bytes 4096: non-temporal stores from 4 KiB, said in the metadata"
"$B" --version | grep -q '^smx-bench (smx) '; ok $? "--version"

# kernels: 2 types x 3 sizes x (4 algos x 2 funcs + copy + copy-nt + exp + read + ceiling)
"$B" kernels --nmin 100 --nmax 400 --per-octave 1 --reps 1 --min-time 0 --funcs softmax,lse --out "$T/k.tsv" >"$T/k.out" 2>/dev/null
ok $? "kernels: tiny run exits 0"
h=$(grep -v '^#' "$T/k.tsv" | head -1)
[ "$h" = "$(printf 'type\tfunc\talgo\tisa\tn\tthreads\tns_per_elem\tgbps\tratio_copy\tratio_exp\telem_per_cycle')" ]
ok $? "kernels: header"
rows=$(grep -v '^#' "$T/k.tsv" | tail -n +2 | wc -l)
[ "$rows" -eq 78 ]; ok $? "kernels: 78 rows = 2 types x 3 n x 13 series (8 kernels, copy, copy-nt, exp, read, ceiling) ($rows)"
# the two-read ceiling is the read-only pass plus the copy, in time per element
awk -F'\t' '/^#/ || $1 == "type" { next } { t[$1 " " $5 " " $3] = $7 }
     END { for (k in t) if (k ~ / two-read$/) { b = k; sub(/ two-read$/, "", b); c++
           if (!(t[b " max"] > 0) || (t[k] - t[b " max"] - t[b " copy"]) ^ 2 > 1e-18 * t[k] ^ 2) bad = 1 }
           exit bad || c != 6 }' "$T/k.tsv"
ok $? "kernels: ceiling two-read = read + copy per element (6 rows)"
grep -q '; two-read ceiling [0-9]*% of copy$' "$T/k.out"; ok $? "kernels: the summary line names the two-read ceiling"
grep -v '^#' "$T/k.tsv" | tail -n +2 | awk -F'\t' '!($7 > 0 && $8 > 0 && $9 > 0 && $7 < 1e9) { bad = 1 } END { exit bad }'
ok $? "kernels: positive finite timings, GB/s and ratios"
grep -q '^# cpu: ' "$T/k.tsv" && grep -q '^# caches: L1d' "$T/k.tsv" && grep -q '^# isa: ' "$T/k.tsv"
ok $? "kernels: machine in the metadata"
grep -q '^bench-kernels: float softmax n = 400, 1 thread(s): best ' "$T/k.out"; ok $? "kernels: one summary line"
cut -f5 "$T/k.tsv" | grep -v '^#' | sort -un | tr '\n' ' ' | grep -q '^n 100 200 400 $'; ok $? "kernels: n = 100, 200, 400"
"$B" kernels --types double --algos two-pass --isa scalar --nmin 1000 --nmax 1000 --reps 1 --min-time 0 --out "$T/k2.tsv" >/dev/null 2>&1
[ "$(grep -v '^#' "$T/k2.tsv" | tail -n +2 | cut -f1-4 | sort | tr '\t\n' ',;')" = "double,ceiling,two-read,scalar;double,copy,copy,scalar;double,exp,exp,scalar;double,read,max,scalar;double,softmax,two-pass,scalar;" ]
ok $? "kernels: --types/--algos/--isa select the rows"
"$B" copy --nmin 64 --nmax 64 --reps 1 --min-time 0 --out "$T/c.tsv" >"$T/c.out" 2>/dev/null
[ "$(grep -v "^#" "$T/c.tsv" | tail -n +2 | cut -f2,3 | sort -u | tr "\t\n" ",;")" = "copy,copy;copy,copy-nt;" ]; ok $? "copy: only the copy and copy-nt rows"

# exp-error on a sample
"$B" exp-error --stride 65537 --count 20000 --threads 2 --out "$T/e.tsv" >"$T/e.out" 2>/dev/null
ok $? "exp-error: sample run exits 0"
awk '/^# max_error: (float|double) smx:/ { v = $5 + 0; if (!(v > 0.3 && v <= 1.0)) bad = 1; k++ } END { exit bad || k != 2 }' "$T/e.tsv"
ok $? "exp-error: kernels' exp max error in (0.3, 1] ulp for float and double ($(grep -c 'smx max' "$T/e.out") summaries)"
tot=$(awk -F'\t' '!/^#/ && $1 == "float" && $2 == "smx" { s += $5 } END { print s }' "$T/e.tsv")
cnt=$(sed -n 's/^# max_error: float smx: .* \([0-9]*\) inputs$/\1/p' "$T/e.tsv")
[ -n "$tot" ] && [ "$tot" = "$cnt" ]; ok $? "exp-error: histogram counts add up to the inputs ($tot = $cnt)"
"$B" exp-error --types double --count 20000 --threads 1 --out "$T/e1.tsv" >/dev/null 2>&1
"$B" exp-error --types double --count 20000 --threads 2 --out "$T/e2.tsv" >/dev/null 2>&1
cmp -s "$T/e1.tsv" "$T/e2.tsv"; ok $? "exp-error: same bytes for 1 and 2 threads"

# mpfr
"$B" mpfr --ps 24,53,256,512 --n 20 --reps 1 --out "$T/m.tsv" >"$T/m.out" 2>/dev/null
ok $? "mpfr: tiny run exits 0"
[ "$(grep -v '^#' "$T/m.tsv" | tail -n +2 | wc -l)" -eq 8 ]; ok $? "mpfr: 2 algorithms x 4 precisions"
grep -q '^# fit: time per element ~ p^b for p >= 256: b = ' "$T/m.tsv"; ok $? "mpfr: fitted growth in the metadata"

# peers script
PY=$(command -v /usr/bin/python3 || command -v python3)
"$PY" experiments/bench_peers.py --n 100,1000 --reps 1 --min-time 0 --out "$T/p.tsv" >"$T/p.out" 2>/dev/null
ok $? "peers: exits 0"
grep -q "^peer	type	n	threads	ns_per_elem	gbps$" "$T/p.tsv"; ok $? "peers: header"
r=$(grep -v '^#' "$T/p.tsv" | tail -n +2 | wc -l)
[ "$r" -gt 0 ] || grep -q '^# note: ' "$T/p.tsv"; ok $? "peers: rows ($r) or a note"
"$PY" experiments/bench_peers.py --n 10,abc --out "$T/p.tsv" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q -- '--n' "$T/err"; ok $? "peers: bad --n exits 2 naming it"
tap_done
